/* SPDX-License-Identifier: MIT */
/*
 * epoll-based event loop in the spirit of redis' ae: one record per fd, the record's address in
 * epoll_event.data.ptr, level-triggered (a 1200/9600 Bd line never floods us), timers as timerfds
 * so that everything, signals included, arrives through the one epoll_wait().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "linkyd/loop.h"

struct deferred {
	void (*cb)(void *userdata);
	void *userdata;
};

struct loop {
	int epfd;
	bool quit;
	bool dispatching; /* inside loop_run()'s handling of a batch of events */
	int status;
	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
};

struct loop *
loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

struct loop *
loop_free(struct loop *loop)
{
	if (loop) {
		(void) close(loop->epfd);
		free(loop->deferred);
		free(loop);
	}
	return NULL;
}

int
loop_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events, loop_io_cb cb)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	io->fd = fd;
	io->cb = cb;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		io->fd = -1;
		return -errno;
	}
	return 0;
}

int
loop_set_events(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void
loop_del(struct loop *loop, struct loop_io *io)
{
	/* Explicit removal before close(): a dup'ed fd (e.g. across fork) would otherwise keep
	 * the registration alive and deliver events for a record that no longer exists. */
	if (io->fd >= 0)
		(void) epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

int
loop_defer(struct loop *loop, void (*cb)(void *userdata), void *userdata)
{
	if (loop->n_deferred == loop->cap_deferred) {
		size_t cap = loop->cap_deferred ? loop->cap_deferred * 2 : 4;
		struct deferred *d = realloc(loop->deferred, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		loop->deferred = d;
		loop->cap_deferred = cap;
	}
	loop->deferred[loop->n_deferred++] = (struct deferred){cb, userdata};
	return 0;
}

bool
loop_dispatching(const struct loop *loop)
{
	return loop->dispatching;
}

static void
run_deferred(struct loop *loop)
{
	/* A deferred call may defer more: take them by index, not by a saved count. */
	for (size_t i = 0; i < loop->n_deferred; i++)
		loop->deferred[i].cb(loop->deferred[i].userdata);
	loop->n_deferred = 0;
}

int
loop_run(struct loop *loop)
{
	struct epoll_event evs[16];

	loop->quit = false;
	while (!loop->quit) {
		int n = epoll_wait(loop->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->dispatching = true;
		for (int i = 0; i < n && !loop->quit; i++) {
			struct loop_io *io = evs[i].data.ptr;

			io->cb(io, evs[i].events);
		}
		loop->dispatching = false;
		run_deferred(loop);
	}
	return loop->status;
}

void
loop_quit(struct loop *loop, int status)
{
	loop->quit = true;
	loop->status = status;
}

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void
timer_ready(struct loop_io *io, uint32_t events)
{
	struct loop_timer *timer = container_of(io, struct loop_timer, io);
	uint64_t expirations;

	(void) events;
	/* Drain the count, or the level-triggered fd would stay readable. */
	if (read(io->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	timer->cb(timer);
}

int
loop_timer_init(struct loop *loop, struct loop_timer *timer, void (*cb)(struct loop_timer *))
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	timer->cb = cb;
	r = loop_add(loop, &timer->io, fd, EPOLLIN, timer_ready);
	if (r < 0)
		(void) close(fd);
	return r;
}

static struct timespec
ms_to_timespec(uint64_t ms)
{
	return (struct timespec){.tv_sec = (time_t) (ms / 1000),
	                         .tv_nsec = (long) (ms % 1000) * 1000000};
}

int
loop_timer_arm(struct loop_timer *timer, uint64_t first_ms, uint64_t interval_ms)
{
	struct itimerspec its = {.it_value = ms_to_timespec(first_ms),
	                         .it_interval = ms_to_timespec(interval_ms)};

	return timerfd_settime(timer->io.fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void
loop_timer_done(struct loop *loop, struct loop_timer *timer)
{
	if (timer->io.fd < 0)
		return;
	loop_del(loop, &timer->io);
	(void) close(timer->io.fd);
	timer->io.fd = -1;
}
