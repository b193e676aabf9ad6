/* SPDX-License-Identifier: MIT */
/*
 * The event loop (src/core/loop.c) on real fds: io callbacks, timerfd timers, deferred calls,
 * the before-wait hooks (and their removal from inside one), and quitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "linkyd/loop.h"

struct fixture {
	struct loop *loop;
	int pipe[2];
	struct loop_io io;
	unsigned reads;
	uint32_t events;
	struct loop_timer timer;
	unsigned fired;
	struct test_hook {
		struct loop_hook hook;
		struct fixture *f;
		int id;
		void (*action)(
		    struct test_hook *th); /* what the hook does beside noting its call */
	} hooks[3];
	unsigned hook_calls[3];
	char order[32];
	size_t n_order;
	int quit_after; /* fired timers before loop_quit(), 0: never */
};

static struct fixture *
fixture_of_timer(struct loop_timer *t)
{
	return container_of(t, struct fixture, timer);
}

static void
note(struct fixture *f, char c)
{
	if (f->n_order < sizeof(f->order) - 1)
		f->order[f->n_order++] = c;
}

static void
on_readable(struct loop_io *io, uint32_t events)
{
	struct fixture *f = container_of(io, struct fixture, io);
	char c;

	f->events = events;
	if (read(io->fd, &c, 1) == 1)
		f->reads++;
	note(f, 'r');
}

static void
on_timer(struct loop_timer *t)
{
	struct fixture *f = fixture_of_timer(t);

	f->fired++;
	note(f, 't');
	if (f->quit_after && (int) f->fired >= f->quit_after)
		loop_quit(f->loop, 42);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = loop_new();
	assert_non_null(f->loop);
	assert_int_equal(pipe(f->pipe), 0);
	f->io.fd = f->timer.io.fd = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 3; i++)
		loop_hook_del(f->loop, &f->hooks[i].hook);
	loop_del(f->loop, &f->io);
	loop_timer_done(f->loop, &f->timer);
	close(f->pipe[0]);
	close(f->pipe[1]);
	loop_free(f->loop);
	free(f);
	return 0;
}

static void
test_io(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(loop_add(f->loop, &f->io, f->pipe[0], EPOLLIN, on_readable), 0);
	assert_int_equal(loop_turn(f->loop, 0), 0); /* nothing yet */
	assert_int_equal(write(f->pipe[1], "ab", 2), 2);
	assert_int_equal(loop_turn(f->loop, 1000), 1);
	assert_int_equal(f->reads, 1);
	assert_true(f->events & EPOLLIN);
	/* Level-triggered: the second byte is still there. */
	assert_int_equal(loop_turn(f->loop, 1000), 1);
	assert_int_equal(f->reads, 2);
	/* Not watched for anything: no callback however much is written. */
	assert_int_equal(loop_set_events(f->loop, &f->io, 0), 0);
	assert_int_equal(write(f->pipe[1], "c", 1), 1);
	assert_int_equal(loop_turn(f->loop, 10), 0);
	loop_del(f->loop, &f->io);
	assert_int_equal(loop_turn(f->loop, 10), 0);
	assert_int_equal(f->reads, 2);
}

static void
test_timers(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	assert_int_equal(loop_timer_init(f->loop, &f->timer, on_timer), 0);
	assert_int_equal(loop_turn(f->loop, 50), 0); /* disarmed */
	t0 = loop_now_ms();
	assert_int_equal(loop_timer_arm(&f->timer, 30, 0), 0);
	while (f->fired == 0)
		assert_true(loop_turn(f->loop, 1000) >= 0);
	assert_true(loop_now_ms() - t0 >= 29);
	assert_int_equal(loop_turn(f->loop, 60), 0); /* once */
	/* Periodic, until loop_quit(): loop_run() returns the status given. */
	f->quit_after = 4;
	assert_int_equal(loop_timer_arm(&f->timer, 5, 5), 0);
	assert_int_equal(loop_run(f->loop), 42);
	assert_int_equal(f->fired, 4);
	/* Disarmed. */
	assert_int_equal(loop_timer_arm(&f->timer, 0, 0), 0);
	assert_int_equal(loop_turn(f->loop, 30), 0);
	assert_int_equal(f->fired, 4);
}

static void
deferred(void *userdata)
{
	struct fixture *f = userdata;

	note(f, 'd');
	if (f->n_order < 6)
		assert_int_equal(loop_defer(f->loop, deferred, f), 0); /* a deferred call defers */
}

static void
read_and_defer(struct loop_io *io, uint32_t events)
{
	struct fixture *f = container_of(io, struct fixture, io);

	on_readable(io, events);
	assert_int_equal(loop_defer(f->loop, deferred, f), 0);
}

static void
test_defer_after_batch(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(loop_add(f->loop, &f->io, f->pipe[0], EPOLLIN, read_and_defer), 0);
	assert_int_equal(loop_timer_init(f->loop, &f->timer, on_timer), 0);
	assert_int_equal(loop_timer_arm(&f->timer, 1, 0), 0);
	assert_int_equal(write(f->pipe[1], "a", 1), 1);
	usleep(10000);
	/* Both fds in one batch; the deferred calls after both, every one of them. */
	assert_int_equal(loop_turn(f->loop, 1000), 2);
	assert_int_equal(f->order[2], 'd');
	assert_string_equal(f->order + 2, "dddd");
}

/* Two fds ready in one batch; whichever comes first drops the other, the way a timer finds the
 * serial line gone and closes it while its hang-up is still in the batch. */
static struct fixture *pair_fixture;
static struct loop_io pair[2];
static unsigned pair_calls;

static void
drop_other(struct loop_io *io, uint32_t events)
{
	(void) events;
	pair_calls++;
	loop_del(pair_fixture->loop, &pair[io == &pair[0]]);
}

static void
test_del_drops_pending_event(void **state)
{
	struct fixture *f = *state;
	int other[2];

	pair_fixture = f;
	pair_calls = 0;
	assert_int_equal(pipe(other), 0);
	assert_int_equal(loop_add(f->loop, &pair[0], f->pipe[0], EPOLLIN, drop_other), 0);
	assert_int_equal(loop_add(f->loop, &pair[1], other[0], EPOLLIN, drop_other), 0);
	assert_int_equal(write(f->pipe[1], "a", 1), 1);
	assert_int_equal(write(other[1], "b", 1), 1);
	assert_int_equal(loop_turn(f->loop, 1000), 2);
	assert_int_equal(pair_calls, 1);
	loop_del(f->loop, &pair[0]);
	loop_del(f->loop, &pair[1]);
	close(other[0]);
	close(other[1]);
}

static void
run_hook(struct loop_hook *h)
{
	struct test_hook *th = container_of(h, struct test_hook, hook);

	th->f->hook_calls[th->id]++;
	note(th->f, (char) ('0' + th->id));
	if (th->action)
		th->action(th);
}

static void
add_hook(struct fixture *f, int id, void (*action)(struct test_hook *))
{
	f->hooks[id] = (struct test_hook){.f = f, .id = id, .action = action};
	loop_hook_add(f->loop, &f->hooks[id].hook, run_hook);
}

static void
test_hooks_before_each_wait(void **state)
{
	struct fixture *f = *state;

	add_hook(f, 0, NULL);
	assert_int_equal(loop_add(f->loop, &f->io, f->pipe[0], EPOLLIN, on_readable), 0);
	/* Before the first wait, then after each batch, before the next wait. */
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_int_equal(f->hook_calls[0], 1);
	assert_int_equal(write(f->pipe[1], "a", 1), 1);
	assert_int_equal(loop_turn(f->loop, 1000), 1);
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_string_equal(f->order, "00r0");
	loop_hook_del(f->loop, &f->hooks[0].hook);
	loop_hook_del(f->loop, &f->hooks[0].hook); /* twice: a no-op */
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_int_equal(f->hook_calls[0], 3);
}

static void
remove_next(struct test_hook *th)
{
	/* Hooks run newest first: 2, 1, 0. Hook 2 removes hook 1, which must not run. */
	loop_hook_del(th->f->loop, &th->f->hooks[1].hook);
}

static void
remove_self(struct test_hook *th)
{
	loop_hook_del(th->f->loop, &th->hook);
}

static void
test_hook_removed_while_hooks_run(void **state)
{
	struct fixture *f = *state;

	add_hook(f, 0, remove_self);
	add_hook(f, 1, NULL);
	add_hook(f, 2, remove_next);
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_string_equal(f->order, "20");
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_string_equal(f->order, "202");
}

static void
defer_from_hook(struct test_hook *th)
{
	if (th->f->hook_calls[th->id] == 1)
		assert_int_equal(loop_defer(th->f->loop, deferred, th->f), 0);
}

static void
quit_from_hook(struct test_hook *th)
{
	loop_quit(th->f->loop, 7);
}

static void
test_hook_defers_and_quits(void **state)
{
	struct fixture *f = *state;

	/* A call deferred by a hook runs before the wait, and the hooks again after it. */
	add_hook(f, 0, defer_from_hook);
	assert_int_equal(loop_turn(f->loop, 0), 0);
	assert_int_equal(f->order[0], '0');
	assert_int_equal(f->order[1], 'd');
	assert_int_equal(f->order[f->n_order - 1], '0');
	/* loop_quit() from a hook: loop_run() returns without waiting (it would block forever
	 * here, with nothing to wake it). */
	add_hook(f, 1, quit_from_hook);
	assert_int_equal(loop_run(f->loop), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_io, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defer_after_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_del_drops_pending_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hooks_before_each_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hook_removed_while_hooks_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hook_defers_and_quits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
