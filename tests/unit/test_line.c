/* SPDX-License-Identifier: MIT */
/*
 * The line (src/line.c) on the real event loop, with a fake source: a socket pair whose far end
 * the test writes the real captures into, and whose open(), connect and speed the test decides.
 * What is checked: frames out, the status sequence, the reopen back-off, a lost source, the
 * speed search, garbage on a source without a speed, silence, a connect under way, push. Then
 * the TCP source (src/source/tcp.c) against a real listener on 127.0.0.1: frames, a connection
 * dropped mid-frame, refused, silent, a name to resolve, garbage.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "linkyd/line.h"
#include "linkyd/log.h"

#define MAX_STATUS 64

struct fake {
	struct source source;
	int fd, far;         /* the line reads fd; the test writes far */
	int open_results[8]; /* what the next open()s return (then 0) */
	unsigned n_results, opens;
	int finish_results[4]; /* what the next finish_open()s return (then 0) */
	unsigned n_finish, finishes;
	unsigned speeds[16]; /* set_speed() calls */
	unsigned n_speeds;
};

static struct fake *
fake_of(const struct source *s)
{
	return container_of(s, struct fake, source);
}

static int
fake_open(struct source *s, unsigned baud)
{
	struct fake *f = fake_of(s);
	int sv[2], r = f->opens < f->n_results ? f->open_results[f->opens] : 0;

	(void) baud;
	f->opens++;
	if (r < 0 && r != -EINPROGRESS)
		return r;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	f->fd = sv[0];
	f->far = sv[1];
	return r;
}

static int
fake_finish(struct source *s)
{
	struct fake *f = fake_of(s);

	f->finishes++;
	return f->finishes <= f->n_finish ? f->finish_results[f->finishes - 1] : 0;
}

static int
fake_fd(const struct source *s)
{
	return fake_of(s)->fd;
}

static long
fake_read(struct source *s, void *buf, size_t size)
{
	ssize_t n = read(fake_of(s)->fd, buf, size);

	if (n > 0)
		return (long) n;
	if (n == 0)
		return -ENODEV;
	return errno == EAGAIN ? 0 : -errno;
}

static int
fake_set_speed(struct source *s, unsigned baud)
{
	struct fake *f = fake_of(s);

	if (f->n_speeds < 16)
		f->speeds[f->n_speeds++] = baud;
	return 0;
}

static void
fake_close(struct source *s)
{
	struct fake *f = fake_of(s);

	if (f->fd >= 0)
		(void) close(f->fd);
	if (f->far >= 0)
		(void) close(f->far);
	f->fd = f->far = -1;
}

/* The test keeps the fake: free() only closes. */
static void
fake_free(struct source *s)
{
	fake_close(s);
}

static const struct source_ops speed_ops = {
    .open = fake_open,
    .finish_open = fake_finish,
    .fd = fake_fd,
    .read = fake_read,
    .set_speed = fake_set_speed,
    .close = fake_close,
    .free = fake_free,
};

static int
push_open(struct source *s, unsigned baud)
{
	(void) baud;
	fake_of(s)->opens++;
	return 0;
}

static void
push_close(struct source *s)
{
	(void) s;
}

/* A source without an fd: a server hands it what a client sent. */
static const struct source_ops push_ops = {
    .open = push_open,
    .close = push_close,
    .free = push_close,
};

/* A network bridge: its speed is not ours. */
static const struct source_ops bridge_ops = {
    .open = fake_open,
    .finish_open = fake_finish,
    .fd = fake_fd,
    .read = fake_read,
    .close = fake_close,
    .free = fake_free,
};

struct run {
	struct loop *loop;
	struct loop_timer deadline;
	struct fake fake;
	struct line_config cfg;
	struct line *line;
	unsigned frames, groups;
	enum tic_mode last_mode;
	struct line_status status[MAX_STATUS];
	unsigned n_status;
	bool (*until)(const struct run *r); /* quit the loop as soon as this holds */
};

static void
check_until(struct run *r)
{
	if (r->until && r->until(r))
		loop_quit(r->loop, 0);
}

static void
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct run *r = userdata;

	r->frames++;
	r->groups += frame->n_groups;
	r->last_mode = frame->mode;
	check_until(r);
}

static void
on_status(const struct line_status *st, void *userdata)
{
	struct run *r = userdata;

	assert_true(r->n_status < MAX_STATUS);
	r->status[r->n_status++] = *st;
	check_until(r);
}

static const struct line_callbacks cbs = {.on_frame = on_frame, .on_status = on_status};

static void
deadline_due(struct loop_timer *t)
{
	loop_quit(container_of(t, struct run, deadline)->loop, 1);
}

static struct run *
run_new(const struct source_ops *ops, enum tic_mode mode)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->loop = loop_new();
	assert_non_null(r->loop);
	r->deadline.io.fd = -1;
	assert_int_equal(loop_timer_init(r->loop, &r->deadline, deadline_due), 0);
	r->fake = (struct fake){.source = {.ops = ops, .name = "fake"}, .fd = -1, .far = -1};
	r->cfg = (struct line_config){.name = "test", .mode = mode};
	return r;
}

static void
run_start_source(struct run *r, struct source *src)
{
	assert_int_equal(line_new(r->loop, src, &r->cfg, &cbs, r, &r->line), 0);
	line_start(r->line);
}

static void
run_start(struct run *r)
{
	run_start_source(r, &r->fake.source);
}

/* Run the loop until r->until holds; fail after timeout_ms. */
static void
run_until(struct run *r, bool (*until)(const struct run *), unsigned timeout_ms)
{
	r->until = until;
	if (until(r))
		return;
	assert_int_equal(loop_timer_arm(&r->deadline, timeout_ms, 0), 0);
	assert_int_equal(loop_run(r->loop), 0);
	(void) loop_timer_arm(&r->deadline, 0, 0);
}

/* Run the loop for ms, whatever happens. */
static void
run_for(struct run *r, unsigned ms)
{
	r->until = NULL;
	assert_int_equal(loop_timer_arm(&r->deadline, ms, 0), 0);
	assert_int_equal(loop_run(r->loop), 1);
}

static void
run_free(struct run *r)
{
	line_free(r->line);
	loop_timer_done(r->loop, &r->deadline);
	loop_free(r->loop);
	free(r);
}

static const struct line_status *
last_status(const struct run *r)
{
	return r->n_status ? &r->status[r->n_status - 1] : NULL;
}

static bool
state_is(const struct run *r, enum line_state s)
{
	return r->n_status && last_status(r)->state == s;
}

static bool
detecting(const struct run *r)
{
	return state_is(r, LINE_DETECTING);
}

static bool
absent(const struct run *r)
{
	return state_is(r, LINE_ABSENT);
}

static bool
silent(const struct run *r)
{
	return state_is(r, LINE_SILENT);
}

static bool
garbage(const struct run *r)
{
	return r->n_status && last_status(r)->garbage;
}

static bool
one_frame(const struct run *r)
{
	return r->frames >= 1;
}

static bool
two_frames(const struct run *r)
{
	return r->frames >= 2;
}

static bool
two_speed_changes(const struct run *r)
{
	return r->fake.n_speeds >= 2;
}

static void
write_all(int fd, const void *data, size_t len)
{
	assert_int_equal(write(fd, data, len), (ssize_t) len);
}

static void
write_capture(struct run *r, const char *name)
{
	size_t len;
	char *data = read_fixture(name, &len);

	write_all(r->fake.far, data, len);
	free(data);
}

static void
test_frames_and_status(void **state)
{
	struct run *r = run_new(&speed_ops, TIC_MODE_STANDARD);

	(void) state;
	run_start(r);
	run_until(r, detecting, 1000);
	assert_int_equal(last_status(r)->baud, 9600);
	assert_int_equal(r->fake.opens, 1);
	write_capture(r, "standard-mono-base-01.tic");
	run_until(r, one_frame, 1000);
	assert_int_equal(r->groups, 38);
	assert_int_equal(r->last_mode, TIC_MODE_STANDARD);
	assert_int_equal(last_status(r)->state, LINE_OK);
	assert_int_equal(last_status(r)->mode, TIC_MODE_STANDARD);
	assert_int_equal(line_status(r->line)->stats->frames, 1);
	assert_int_equal(line_status(r->line)->bytes, 865);
	assert_true(line_status(r->line)->last_frame > 0);
	/* A fixed mode never searches. */
	assert_int_equal(r->fake.n_speeds, 0);
	run_free(r);
}

/* Two failures (1 s, then 2 s), the second with the same reason: one status, then open. */
static void
test_reopen_back_off(void **state)
{
	struct run *r = run_new(&speed_ops, TIC_MODE_HISTORIQUE);
	uint64_t start = loop_now_ms(), took;

	(void) state;
	r->fake.open_results[0] = r->fake.open_results[1] = -ENOENT;
	r->fake.n_results = 2;
	run_start(r);
	assert_int_equal(r->n_status, 1);
	assert_int_equal(r->status[0].state, LINE_ABSENT);
	assert_int_equal(r->status[0].error, -ENOENT);
	run_until(r, detecting, 5000);
	took = loop_now_ms() - start;
	assert_int_equal(r->fake.opens, 3);
	assert_int_equal(r->n_status, 2); /* the second failure said nothing new */
	assert_int_equal(last_status(r)->baud, 1200);
	assert_in_range(took, 2900, 4500);
	run_free(r);
}

/* The far end goes away: absent, then open again after a second, and frames flow again. */
static void
test_lost_and_back(void **state)
{
	struct run *r = run_new(&speed_ops, TIC_MODE_HISTORIQUE);

	(void) state;
	run_start(r);
	run_until(r, detecting, 1000);
	write_capture(r, "historique-hchp-mono-03.tic");
	run_until(r, one_frame, 1000);
	(void) close(r->fake.far);
	r->fake.far = -1;
	run_until(r, absent, 1000);
	assert_int_equal(last_status(r)->error, -ENODEV);
	run_until(r, detecting, 2000);
	assert_int_equal(r->fake.opens, 2);
	write_capture(r, "historique-hchp-mono-03.tic");
	run_until(r, two_frames, 1000);
	run_free(r);
}

/* Auto mode: bytes without a frame switch the speed, back and forth, until a frame comes. */
static void
test_speed_search(void **state)
{
	static const char noise[] = "\x02\n#@!$%^&*()_noise at the wrong speed\r\n";
	struct run *r = run_new(&speed_ops, TIC_MODE_UNKNOWN);

	(void) state;
	r->cfg.probe_ms = 150;
	run_start(r);
	run_until(r, detecting, 1000);
	assert_int_equal(last_status(r)->baud, 9600);
	write_all(r->fake.far, noise, sizeof(noise) - 1);
	run_for(r, 250);
	assert_int_equal(r->fake.n_speeds, 1);
	assert_int_equal(r->fake.speeds[0], 1200);
	assert_int_equal(last_status(r)->baud, 1200);
	write_all(r->fake.far, noise, sizeof(noise) - 1);
	run_until(r, two_speed_changes, 1000);
	assert_int_equal(r->fake.speeds[1], 9600);
	/* The meter is historique: the frame at 1200 Bd locks the speed. */
	write_all(r->fake.far, noise, sizeof(noise) - 1);
	run_for(r, 200);
	assert_int_equal(last_status(r)->baud, 1200);
	write_capture(r, "historique-hchp-mono-03.tic");
	run_until(r, one_frame, 1000);
	assert_int_equal(last_status(r)->state, LINE_OK);
	assert_int_equal(last_status(r)->mode, TIC_MODE_HISTORIQUE);
	assert_int_equal(last_status(r)->baud, 1200);
	run_free(r);
}

/* Nothing arriving is nothing to detect: no speed change, no timer. */
static void
test_idle_line_never_probes(void **state)
{
	struct run *r = run_new(&speed_ops, TIC_MODE_UNKNOWN);

	(void) state;
	r->cfg.probe_ms = 50;
	run_start(r);
	run_for(r, 400);
	assert_int_equal(r->fake.n_speeds, 0);
	assert_int_equal(r->n_status, 1);
	run_free(r);
}

/* A source without a speed (a network bridge at the wrong speed): reported, once. */
static void
test_garbage_from_a_bridge(void **state)
{
	static const char noise[] = "\x7f\x7f garbage garbage \x7f";
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);

	(void) state;
	r->cfg.probe_ms = 100;
	run_start(r);
	run_until(r, detecting, 1000);
	assert_int_equal(last_status(r)->baud, 0);
	write_all(r->fake.far, noise, sizeof(noise) - 1);
	run_until(r, garbage, 1000);
	write_all(r->fake.far, noise, sizeof(noise) - 1);
	run_for(r, 300);
	assert_true(last_status(r)->garbage);
	assert_int_equal(r->n_status, 2);
	write_capture(r, "standard-mono-base-01.tic");
	run_until(r, one_frame, 1000);
	assert_false(last_status(r)->garbage);
	assert_int_equal(last_status(r)->state, LINE_OK);
	run_free(r);
}

static void
test_silence(void **state)
{
	struct run *r = run_new(&speed_ops, TIC_MODE_STANDARD);

	(void) state;
	r->cfg.silence_ms = 200;
	run_start(r);
	run_until(r, detecting, 1000);
	write_capture(r, "standard-mono-base-01.tic");
	run_until(r, one_frame, 1000);
	run_until(r, silent, 1000);
	run_for(r, 500);
	assert_int_equal(last_status(r)->state, LINE_SILENT);
	/* Reported once: no timer runs on a line where nothing arrives. */
	assert_int_equal(r->n_status, 3);
	write_capture(r, "standard-mono-base-01.tic");
	run_until(r, two_frames, 1000);
	assert_int_equal(last_status(r)->state, LINE_OK);
	run_free(r);
}

/* Opening in steps (a name resolved, then a connect): opening until the last step, then
 * reading; a refused connect goes back to the back-off. */
static void
test_connecting(void **state)
{
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);

	(void) state;
	r->fake.open_results[0] = r->fake.open_results[1] = -EINPROGRESS;
	r->fake.n_results = 2;
	r->fake.finish_results[0] = -EINPROGRESS;
	r->fake.finish_results[1] = -ECONNREFUSED;
	r->fake.finish_results[2] = -EINPROGRESS;
	r->fake.n_finish = 3;
	run_start(r);
	assert_int_equal(last_status(r)->state, LINE_OPENING);
	run_until(r, absent, 1000);
	assert_int_equal(last_status(r)->error, -ECONNREFUSED);
	assert_int_equal(r->fake.finishes, 2);
	run_until(r, detecting, 3000);
	assert_int_equal(r->fake.opens, 2);
	assert_int_equal(r->fake.finishes, 4);
	write_capture(r, "standard-mono-base-01.tic");
	run_until(r, one_frame, 1000);
	run_free(r);
}

/* A source without an fd: open at once, nothing in the loop; what it pushes is parsed. */
static void
test_push_source(void **state)
{
	struct run *r = run_new(&push_ops, TIC_MODE_UNKNOWN);
	size_t len;
	char *data = read_fixture("standard-mono-base-01.tic", &len);

	(void) state;
	run_start(r);
	assert_int_equal(last_status(r)->state, LINE_DETECTING);
	assert_int_equal(last_status(r)->baud, 0);
	r->fake.source.push(r->fake.source.push_ctx, data, len);
	free(data);
	assert_int_equal(r->frames, 1);
	assert_int_equal(last_status(r)->state, LINE_OK);
	run_free(r);
}

/* Bytes from elsewhere go through the same parser. */
static void
test_push(void **state)
{
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	size_t len;
	char *data = read_fixture("historique-hchp-mono-01.tic", &len);

	(void) state;
	assert_int_equal(line_new(r->loop, &r->fake.source, &r->cfg, &cbs, r, &r->line), 0);
	for (size_t i = 0; i < len; i += 7)
		line_push(r->line, data + i, len - i < 7 ? len - i : 7);
	free(data);
	assert_int_equal(r->frames, 82);
	assert_int_equal(line_status(r->line)->bytes, len);
	run_free(r);
}

/* ---- The TCP source, against a real listener on 127.0.0.1 ------------------------------------ */

/* A bridge: accepts clients on a loopback port and sends each what the test says. */
struct bridge {
	struct loop_io io;
	int listener, client;
	unsigned port, accepted;
	const char *send; /* a capture sent to each new client, or NULL */
	size_t cut;       /* send this many bytes of it, then close (0: all, and stay) */
};

static void
bridge_accept(struct loop_io *io, uint32_t events)
{
	struct bridge *b = container_of(io, struct bridge, io);
	int fd = accept4(b->listener, NULL, NULL, SOCK_CLOEXEC);
	size_t len;
	char *data;

	(void) events;
	if (fd < 0)
		return;
	if (b->client >= 0)
		(void) close(b->client);
	b->client = fd;
	b->accepted++;
	if (!b->send)
		return;
	data = read_fixture(b->send, &len);
	write_all(fd, data, b->cut ? b->cut : len);
	free(data);
	if (b->cut) {
		(void) close(fd);
		b->client = -1;
	}
}

/* Listen on 127.0.0.1:port (0: any free port). */
static void
bridge_open(struct run *r, struct bridge *b, unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t) port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int one = 1;

	b->client = -1;
	b->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(b->listener >= 0);
	(void) setsockopt(b->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(b->listener, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(b->listener, 4), 0);
	assert_int_equal(getsockname(b->listener, (struct sockaddr *) &a, &len), 0);
	b->port = ntohs(a.sin_port);
	assert_int_equal(loop_add(r->loop, &b->io, b->listener, EPOLLIN, bridge_accept), 0);
}

static void
bridge_close(struct run *r, struct bridge *b)
{
	loop_del(r->loop, &b->io);
	(void) close(b->listener);
	if (b->client >= 0)
		(void) close(b->client);
	b->listener = b->client = -1;
}

static struct source *
tcp_source(const char *host, unsigned port)
{
	struct source *src;

	assert_int_equal(source_tcp_new(host, port, &src), 0);
	return src;
}

/* Complete frames in the first n bytes of a capture. */
static size_t
frames_in(const char *name, size_t n)
{
	struct rec rec = {0};
	size_t len, frames;
	char *data = read_fixture(name, &len);

	rec_decode(&rec, data, n < len ? n : len, 0);
	frames = rec.n_frames;
	rec_free(&rec);
	free(data);
	return frames;
}

static bool
reconnected(const struct run *r)
{
	return r->n_status && last_status(r)->reconnects >= 1 &&
	       last_status(r)->state == LINE_DETECTING;
}

/* Frames from a bridge that drops the connection mid-frame: what came whole is delivered, the cut
 * frame never; the line reconnects and frames flow again. */
static void
test_tcp_frames_and_drop(void **state)
{
	static const char capture[] = "historique-hchp-mono-01.tic";
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	struct bridge b = {.send = capture, .cut = 5000};
	size_t whole = frames_in(capture, 5000);

	(void) state;
	assert_true(whole > 10 && whole < frames_in(capture, 5100));
	bridge_open(r, &b, 0);
	run_start_source(r, tcp_source("127.0.0.1", b.port));
	run_until(r, absent, 3000);
	assert_int_equal(last_status(r)->error, -ENODEV);
	assert_int_equal(r->frames, whole);
	assert_int_equal(line_status(r->line)->stats->frames_interrupted, 1);
	b.cut = 0;
	run_until(r, reconnected, 3000);
	assert_int_equal(b.accepted, 2);
	assert_int_equal(last_status(r)->baud, 0);
	run_until(r, two_frames, 1000);
	r->frames = 0;
	run_for(r, 300);
	assert_int_equal(line_status(r->line)->stats->frames, whole + 82);
	bridge_close(r, &b);
	run_free(r);
}

/* Nobody listening: refused, said once; the bridge comes up: connected within the back-off. */
static void
test_tcp_refused_then_up(void **state)
{
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	struct bridge b = {0};
	unsigned port;

	(void) state;
	bridge_open(r, &b, 0);
	port = b.port;
	bridge_close(r, &b);
	run_start_source(r, tcp_source("127.0.0.1", port));
	run_until(r, absent, 1000);
	assert_int_equal(last_status(r)->error, -ECONNREFUSED);
	bridge_open(r, &b, port);
	run_until(r, detecting, 4000);
	assert_int_equal(b.accepted, 1);
	bridge_close(r, &b);
	run_free(r);
}

/* Connected, but nothing comes (a bridge whose meter side is dead, or whose Wi-Fi dropped without
 * a word): reconnected after the silence, and again while it lasts. */
static void
test_tcp_silent_reconnects(void **state)
{
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	struct bridge b = {0};

	(void) state;
	r->cfg.silence_ms = 300;
	bridge_open(r, &b, 0);
	run_start_source(r, tcp_source("127.0.0.1", b.port));
	run_until(r, reconnected, 3000);
	assert_int_equal(b.accepted, 2);
	b.send = "standard-mono-base-01.tic";
	run_until(r, one_frame, 5000);
	assert_int_equal(last_status(r)->state, LINE_OK);
	bridge_close(r, &b);
	run_free(r);
}

/* A name: resolved off the loop, each address tried ("localhost" may be ::1 first, where nobody
 * listens, then 127.0.0.1). */
static void
test_tcp_name(void **state)
{
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	struct bridge b = {.send = "standard-mono-base-01.tic"};

	(void) state;
	bridge_open(r, &b, 0);
	run_start_source(r, tcp_source("localhost", b.port));
	assert_int_equal(last_status(r)->state, LINE_OPENING);
	run_until(r, one_frame, 3000);
	bridge_close(r, &b);
	run_free(r);
}

/* A bridge reading the meter at the wrong speed: garbage, reported, and no reconnect for it. */
static void
test_tcp_garbage(void **state)
{
	static const char noise[] = "\x7f\x7f garbage garbage \x7f";
	struct run *r = run_new(&bridge_ops, TIC_MODE_UNKNOWN);
	struct bridge b = {0};

	(void) state;
	r->cfg.probe_ms = 100;
	r->cfg.silence_ms = 1000;
	bridge_open(r, &b, 0);
	run_start_source(r, tcp_source("127.0.0.1", b.port));
	run_until(r, detecting, 1000);
	for (int i = 0; i < 10; i++) {
		write_all(b.client, noise, sizeof(noise) - 1);
		run_for(r, 100);
	}
	assert_true(last_status(r)->garbage);
	assert_int_equal(b.accepted, 1);
	bridge_close(r, &b);
	run_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frames_and_status),
	    cmocka_unit_test(test_reopen_back_off),
	    cmocka_unit_test(test_lost_and_back),
	    cmocka_unit_test(test_speed_search),
	    cmocka_unit_test(test_idle_line_never_probes),
	    cmocka_unit_test(test_garbage_from_a_bridge),
	    cmocka_unit_test(test_silence),
	    cmocka_unit_test(test_connecting),
	    cmocka_unit_test(test_push),
	    cmocka_unit_test(test_push_source),
	    cmocka_unit_test(test_tcp_frames_and_drop),
	    cmocka_unit_test(test_tcp_refused_then_up),
	    cmocka_unit_test(test_tcp_silent_reconnects),
	    cmocka_unit_test(test_tcp_name),
	    cmocka_unit_test(test_tcp_garbage),
	};

	log_init(getenv("LINE_DEBUG") ? 2 : -1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
