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
	int status;
	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
	struct loop_hook *hooks;
	struct loop_hook *hook_next; /* the next hook to call while they run */
	/* The batch of the last epoll_wait(), and the one being handled. */
	struct epoll_event evs[16];
	int n_evs, cur;
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
	/* The batch being handled may still hold an event for it (a serial line's hang-up behind
	 * the timer that found it gone and closed it): dropped, its owner has let go of it. */
	for (int i = loop->cur + 1; i < loop->n_evs; i++)
		if (loop->evs[i].data.ptr == io)
			loop->evs[i].data.ptr = NULL;
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

/* Returns whether there was any. */
static bool
run_deferred(struct loop *loop)
{
	size_t n = loop->n_deferred;

	/* A deferred call may defer more: take them by index, not by a saved count. */
	for (size_t i = 0; i < loop->n_deferred; i++)
		loop->deferred[i].cb(loop->deferred[i].userdata);
	loop->n_deferred = 0;
	return n > 0;
}

void
loop_hook_add(struct loop *loop, struct loop_hook *hook, void (*cb)(struct loop_hook *))
{
	hook->cb = cb;
	hook->next = loop->hooks;
	loop->hooks = hook;
}

void
loop_hook_del(struct loop *loop, struct loop_hook *hook)
{
	if (!hook->cb)
		return;
	for (struct loop_hook **p = &loop->hooks; *p; p = &(*p)->next) {
		if (*p != hook)
			continue;
		*p = hook->next;
		break;
	}
	/* Removed while the hooks run: the walk goes on from the one after it. */
	if (loop->hook_next == hook)
		loop->hook_next = hook->next;
	hook->cb = NULL;
	hook->next = NULL;
}

static void
run_hooks(struct loop *loop)
{
	for (struct loop_hook *h = loop->hooks; h; h = loop->hook_next) {
		loop->hook_next = h->next;
		h->cb(h);
	}
	loop->hook_next = NULL;
}

/* A hook may defer a call (an owner freeing what a hook's event closed), and a deferred call may
 * leave work for the hooks (a client started): around again until neither has anything left. */
static void
before_wait(struct loop *loop)
{
	do
		run_hooks(loop);
	while (run_deferred(loop) && !loop->quit);
}

int
loop_turn(struct loop *loop, int timeout_ms)
{
	int n;

	before_wait(loop);
	if (loop->quit)
		return 0;
	n = epoll_wait(loop->epfd, loop->evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->n_evs = n;
	for (loop->cur = 0; loop->cur < n && !loop->quit; loop->cur++) {
		struct loop_io *io = loop->evs[loop->cur].data.ptr;

		if (io)
			io->cb(io, loop->evs[loop->cur].events);
	}
	loop->n_evs = loop->cur = 0;
	run_deferred(loop);
	return n;
}

int
loop_run(struct loop *loop)
{
	loop->quit = false;
	while (!loop->quit) {
		int r = loop_turn(loop, -1);

		if (r < 0)
			return r;
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
