/* SPDX-License-Identifier: MIT */
/*
 * The daemon's single event loop: epoll over non-blocking fds, with one CLOCK_MONOTONIC timerfd
 * per timer. Sources embed a struct loop_io (or loop_timer) and find themselves back with
 * container_of(); the loop never owns or closes their fds.
 */
#ifndef LINKYD_LOOP_H
#define LINKYD_LOOP_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *) ((char *) (ptr) -offsetof(type, member)))

struct loop;
struct loop_io;

typedef void (*loop_io_cb)(struct loop_io *io, uint32_t events);

struct loop_io {
	int fd;
	loop_io_cb cb;
};

/* Returns NULL on failure (errno set). */
struct loop *loop_new(void);
/* NULL-safe; returns NULL. */
struct loop *loop_free(struct loop *loop);

/* Watch fd for events (EPOLLIN, ...); cb runs in the loop. Returns 0 or -errno. */
int loop_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events, loop_io_cb cb);
int loop_set_events(struct loop *loop, struct loop_io *io, uint32_t events);
/* Stop watching (before the owner closes the fd); an event of the current batch not handled yet
 * is dropped. No-op if io->fd < 0. */
void loop_del(struct loop *loop, struct loop_io *io);

/* Call cb(userdata) once the events of the current epoll_wait() batch are all handled: the way
 * to free an object from inside one of its own callbacks, while the batch may still hold events
 * for its fds. Returns 0 or -ENOMEM. */
int loop_defer(struct loop *loop, void (*cb)(void *userdata), void *userdata);

/* A function the loop calls at the end of every turn, once the events of its epoll_wait() batch
 * and the deferred calls are handled, just before it waits again (redis ae's beforesleep), and
 * once before its first wait: for what is cheaper done once per wake-up than once per event,
 * and for what other threads leave for the loop without waking it. */
struct loop_hook {
	void (*cb)(struct loop_hook *hook);
	struct loop_hook *next; /* private to the loop */
};

/* Call cb(hook) before every wait from now on. hook must not be added already. */
void loop_hook_add(struct loop *loop, struct loop_hook *hook, void (*cb)(struct loop_hook *));
/* Stop calling it, even from inside a hook (its own or another's). A no-op when it is not added
 * (hook->cb NULL: owners zero it before adding so that their teardown can always call this). */
void loop_hook_del(struct loop *loop, struct loop_hook *hook);

/* Run until loop_quit(); returns the status given to it, or -errno if epoll_wait() failed. */
int loop_run(struct loop *loop);

/* One turn of loop_run() (for tests that step the loop): the work due before a wait, then one
 * wait of at most timeout_ms (-1: no limit) and the callbacks of what it returned. Returns the
 * number of events handled, 0 when loop_quit() was called before the wait, or -errno. */
int loop_turn(struct loop *loop, int timeout_ms);
void loop_quit(struct loop *loop, int status);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);

struct loop_timer {
	struct loop_io io;
	void (*cb)(struct loop_timer *timer);
};

/* A disarmed timer. Returns 0 or -errno. */
int loop_timer_init(struct loop *loop, struct loop_timer *timer, void (*cb)(struct loop_timer *));
/* Fire after first_ms, then every interval_ms (0 = once); first_ms = 0 disarms. */
int loop_timer_arm(struct loop_timer *timer, uint64_t first_ms, uint64_t interval_ms);
/* Remove and close. A no-op when timer->io.fd < 0: owners set it to -1 before init so that
 * their teardown can run whatever set-up got done. */
void loop_timer_done(struct loop *loop, struct loop_timer *timer);

#endif
