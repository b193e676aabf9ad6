/* SPDX-License-Identifier: MIT */
/*
 * A meter's line: source -> parser, driven by the event loop (see linkyd/line.h).
 *
 * Opening. A source that fails to open is tried again after 1 s, then twice as long each time up
 * to 30 s; one that is lost (unplugged, peer gone) is tried again after 1 s. Failures are logged
 * when their reason changes, not at every try.
 *
 * Speed. In auto mode, on a source that has a speed, the line is opened at 9600 Bd (standard) or
 * the last speed that worked, and switched to the other speed when bytes arrive but no valid
 * frame for a few seconds; once locked, a long run without a valid frame (the supplier switched
 * the meter's mode, the cable is noisy) is reported, and bytes that keep coming without a frame
 * start the search again. A source whose speed is not ours (a network bridge) can only be
 * reported as sending garbage. With nothing arriving at all there is nothing to find: the line
 * then waits without a timer.
 *
 * Wake-ups. A USB adapter hands over a frame in dozens of small packets (an FTDI's latency timer
 * sends one every 16 ms), and the tty wakes an epoll waiter for every one of them (its VMIN only
 * decides what poll() then reports). Frames come back to back at a steady pace and mostly with
 * the same length, so after a read the line leaves epoll and a timer wakes it MARGIN_MS before
 * the next ETX is due: it reads the frame but its last packet, which epoll then hands over the
 * moment it arrives, so publishing is not delayed. Two wake-ups a frame instead of dozens.
 *
 * The ETX is expected a frame's length after an anchor: the last ETX, at the pace the last
 * frames came at (bytes per second, gaps between frames included), or after a silence the first
 * bytes of the new frame, at the line's speed. The length expected is the shortest of the last
 * few frames (a historique triphasé meter's short overload frames are expected as such). A frame
 * that comes early is read by the timer, late by what the prediction missed; a longer or slower
 * one through epoll once its ETX is overdue; a silent meter by the timer, which then finds
 * nothing and hands the line back to epoll until the meter speaks again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "linkyd/line.h"
#include "linkyd/log.h"

#define REOPEN_MIN_MS 1000
#define REOPEN_MAX_MS 30000
#define READ_SIZE     4096
#define RECENT_FRAMES 8 /* frame lengths kept: the shortest is the one expected */
/* How long before the ETX is due the timer reads: more than the prediction is off by (a writer's
 * jitter, the timer's slack), less than a USB adapter's packet interval (16 ms), so that only the
 * last packet is left to epoll. A frame early by more than this is published that much late. */
#define MARGIN_MS 5

struct line {
	struct loop *loop;
	struct source *src;
	const struct line_config *cfg;
	const struct line_callbacks *cb;
	void *userdata;
	struct line_status st;
	bool open; /* the source is open and its fd in the loop */

	struct loop_io io;
	struct loop_timer reopen, watch, flush, finish;
	unsigned reopen_ms;
	bool watch_armed, watch_silence;
	uint64_t watch_bytes; /* st.bytes when the watch timer was armed */
	bool quiet;           /* reconnecting after a silence: said once until a frame comes */
	int logged_error;     /* the open failure last logged, 0 once open */

	/* Batched reads, on this open of the source (see the top). */
	uint64_t fed;                 /* bytes read */
	uint64_t last_etx;            /* position just after the last ETX, 0: none yet */
	uint32_t lens[RECENT_FRAMES]; /* ETX to ETX, in bytes */
	unsigned n_lens, next_len;
	uint32_t pace_us[2]; /* microseconds per byte of the last two frames, gaps included */
	bool anchored;       /* the next ETX is expected at anchor + expected_len() bytes */
	uint64_t anchor, anchor_ms;
	uint32_t rate_us; /* ... coming at this many microseconds a byte */
	bool batching;    /* out of epoll: the flush timer reads the line */
	bool frame_ended;
	unsigned etx_seen; /* ETXs in what the current wake-up read */
	bool backlog;      /* it read more than a frame or a full buffer: bytes are waiting */

	/* line_finish(): called (deferred) once the frame under way has ended or the time is up;
	 * frame_done: it ended, in what is being read. */
	void (*finished)(void *userdata);
	bool frame_done;

	struct tic_parser parser;
	struct anon_stream anon_stream; /* the raw log's identifiers, across reads */
};

static void open_source(struct line *l);
static void source_ready(struct loop_io *io, uint32_t events);
static void open_failed(struct line *l, int r);
static void opened(struct line *l);

const char *
line_state_name(enum line_state state)
{
	static const char *const names[] = {
	    [LINE_ABSENT] = "absent", [LINE_OPENING] = "opening", [LINE_DETECTING] = "detecting",
	    [LINE_OK] = "ok",         [LINE_SILENT] = "silent",
	};

	return names[state];
}

static void
status_changed(struct line *l)
{
	if (l->cb->on_status)
		l->cb->on_status(&l->st, l->userdata);
}

static bool
auto_speed(const struct line *l)
{
	return l->cfg->mode == TIC_MODE_UNKNOWN && l->src->ops->set_speed;
}

static unsigned
silence_ms(const struct line *l)
{
	return l->cfg->silence_ms ? l->cfg->silence_ms : LINE_SILENCE_MS;
}

static unsigned
probe_ms(const struct line *l)
{
	if (l->cfg->probe_ms)
		return l->cfg->probe_ms;
	return l->st.baud == 9600 ? LINE_PROBE_9600 : LINE_PROBE_1200;
}

/* Watch the line for a silence after a frame, for a probe's time otherwise. */
/* Watch the line for a silence (after a frame, or a network source from its connect) or for a
 * probe's time (bytes but no frame yet). */
static void
watch_arm(struct line *l, bool silence)
{
	l->watch_armed = loop_timer_arm(&l->watch, silence ? silence_ms(l) : probe_ms(l), 0) == 0;
	l->watch_bytes = l->st.bytes;
	l->watch_silence = silence;
}

/* Forget the frames' timing: after a reopen, a change of speed. */
static void
timing_reset(struct line *l)
{
	l->last_etx = 0;
	l->n_lens = 0;
	l->pace_us[0] = l->pace_us[1] = 0;
	l->anchored = false;
}

/* Microseconds a byte at the line's speed (7E1: 10 bits), 0 without one. */
static uint32_t
nominal_us(const struct line *l)
{
	return l->st.baud ? 10000000u / l->st.baud : 0;
}

static void
on_frame(struct line *l, const struct tic_frame *frame)
{
	bool changed = l->st.state != LINE_OK || l->st.garbage || frame->mode != l->st.mode;

	if (frame->mode != l->st.mode || l->st.state != LINE_OK) {
		if (l->st.baud)
			log_notice("meter '%s': %s mode at %u Bd", l->cfg->name,
			           frame->mode == TIC_MODE_STANDARD ? "standard" : "historique",
			           l->st.baud);
		else
			log_notice("meter '%s': %s mode", l->cfg->name,
			           frame->mode == TIC_MODE_STANDARD ? "standard" : "historique");
	}
	l->st.state = LINE_OK;
	l->st.garbage = false;
	l->quiet = false;
	l->st.mode = frame->mode;
	l->st.last_frame = time(NULL);
	watch_arm(l, true);
	if (changed)
		status_changed(l);
	l->cb->on_frame(frame, l->userdata);
}

static int
parser_frame(const struct tic_frame *frame, void *userdata)
{
	struct line *l = userdata;

	on_frame(l, frame);
	/* Stop feeding here so that the reader knows where this ETX was (frame length). */
	l->frame_ended = true;
	return 1;
}

static const struct tic_parser_callbacks parser_cbs = {.on_frame = parser_frame};

static void
log_raw(struct line *l, const unsigned char *buf, size_t n)
{
	char text[READ_SIZE * 4 + 1];
	unsigned char anon[READ_SIZE];
	size_t o = 0;

	/* The bytes as read, but for the identifiers' digits (and their groups' check characters,
	 * so that the log still decodes). */
	if (l->cfg->anon && n <= sizeof(anon)) {
		anon_stream(l->cfg->anon, &l->anon_stream, buf, n, anon);
		buf = anon;
	}
	for (size_t i = 0; i < n && i < READ_SIZE; i++) {
		if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '\\')
			text[o++] = (char) buf[i];
		else
			o += (size_t) sprintf(text + o, "\\x%02x", buf[i]);
	}
	text[o] = '\0';
	log_debug("meter '%s': read %zu bytes: %s", l->cfg->name, n, text);
}

/* The frame that just ended at byte etx: its length, and the pace frames come at (only from a
 * frame that followed the last without a silence: the anchor is still that ETX). The next one
 * is expected from here. */
static void
frame_timing(struct line *l, uint64_t etx, uint64_t now_ms)
{
	uint32_t rate = nominal_us(l);

	if (l->last_etx && etx > l->last_etx) {
		uint64_t len = etx - l->last_etx;

		l->lens[l->next_len] = len > UINT32_MAX ? UINT32_MAX : (uint32_t) len;
		l->next_len = (l->next_len + 1) % RECENT_FRAMES;
		if (l->n_lens < RECENT_FRAMES)
			l->n_lens++;
		/* Not from frames read together: that is a backlog's pace, not the meter's. */
		if (l->anchored && l->anchor == l->last_etx && now_ms > l->anchor_ms &&
		    l->etx_seen == 0) {
			uint64_t pace = (now_ms - l->anchor_ms) * 1000 / (etx - l->anchor);

			l->pace_us[1] = l->pace_us[0];
			l->pace_us[0] = pace > UINT32_MAX ? UINT32_MAX : (uint32_t) pace;
		}
	}
	/* The slower of the last two paces would wake late after a frame that came late. */
	if (l->pace_us[0])
		rate =
		    l->pace_us[1] && l->pace_us[1] < l->pace_us[0] ? l->pace_us[1] : l->pace_us[0];
	l->last_etx = etx;
	l->anchored = rate > 0;
	l->anchor = etx;
	l->anchor_ms = now_ms;
	l->rate_us = rate;
	l->etx_seen++;
}

static void
feed(struct line *l, const unsigned char *buf, size_t n)
{
	size_t off = 0;

	if (log_verbosity() >= 2)
		log_raw(l, buf, n);
	l->st.bytes += n;
	while (off < n && !l->frame_done) {
		l->frame_ended = false;
		off += tic_parser_feed(&l->parser, buf + off, n - off);
		if (l->frame_ended)
			frame_timing(l, l->fed + off, loop_now_ms());
		/* Finishing: what follows this frame's ETX belongs to the next one: not read. */
		l->frame_done = l->finished && (l->frame_ended || l->parser.state == TIC_S_IDLE);
	}
	l->fed += n;
}

/* The frame length to expect: the shortest of the last few; 0 when unknown. */
static uint64_t
expected_len(const struct line *l)
{
	uint64_t min = 0;

	for (unsigned i = 0; i < l->n_lens; i++)
		if (!min || l->lens[i] < min)
			min = l->lens[i];
	return min;
}

/* After a read of n bytes: wait for the frame out of epoll, or read through epoll (see the top).
 */
static void
update_batch(struct line *l, size_t n)
{
	uint64_t expect = expected_len(l), now = loop_now_ms(), due_ms, ms = 0;
	bool was_batching = l->batching, batch = false;

	/* The first bytes after a silence: the frame's start, which came at the line's speed. */
	if (!l->anchored && n && expect && nominal_us(l)) {
		l->anchored = true;
		l->rate_us = nominal_us(l);
		l->anchor = l->fed - n;
		l->anchor_ms = now - n * l->rate_us / 1000;
	}
	/* Not when the ETX is overdue (a longer frame), not while a backlog drains (a burst after
	 * a pause, a bridge's buffer: the bytes are there already), nor for a wait shorter than
	 * the margin, which would wake the loop as often as epoll does; nor while finishing a
	 * frame (line_finish()), which must end as soon as its last byte is there. */
	if (l->anchored && expect && !l->backlog && !l->finished && l->fed < l->anchor + expect) {
		due_ms = l->anchor_ms + expect * l->rate_us / 1000;
		batch = due_ms > now + 2 * MARGIN_MS;
		ms = batch ? due_ms - now - MARGIN_MS : 0;
	}
	if (batch != l->batching && loop_set_events(l->loop, &l->io, batch ? 0 : EPOLLIN) == 0)
		l->batching = batch;
	/* Disarmed only when it was armed: not a system call per epoll read. */
	if (l->batching || was_batching)
		(void) loop_timer_arm(&l->flush, l->batching ? ms : 0, 0);
}

static void
close_source(struct line *l)
{
	if (!l->open)
		return;
	loop_del(l->loop, &l->io);
	l->io.fd = -1;
	l->src->ops->close(l->src);
	l->open = false;
	tic_parser_reset(&l->parser);
	timing_reset(l);
	l->batching = false;
	l->watch_armed = false;
	(void) loop_timer_arm(&l->watch, 0, 0);
	(void) loop_timer_arm(&l->flush, 0, 0);
}

static void finish_now(struct line *l);

static void
lost(struct line *l, int err)
{
	if (l->finished) {
		finish_now(l);
		return;
	}
	log_errno(LOG_WARNING, err, "meter '%s': lost %s, waiting for it to come back",
	          l->cfg->name, l->src->name);
	close_source(l);
	l->st.state = LINE_ABSENT;
	l->st.error = err;
	l->st.reconnects += l->src->network;
	l->reopen_ms = REOPEN_MIN_MS;
	(void) loop_timer_arm(&l->reopen, l->reopen_ms, 0);
	status_changed(l);
}

/* A network source connected but silent: its peer is likely gone without a word. Reconnect,
 * with the back-off growing while it stays so; said once until a frame comes. */
static void
reconnect_silent(struct line *l)
{
	if (!l->quiet)
		log_warn(
		    "meter '%s': no valid frame from %s for %u s, reconnecting (said once until "
		    "frames come again)",
		    l->cfg->name, l->src->name, silence_ms(l) / 1000);
	l->quiet = true;
	close_source(l);
	l->st.state = LINE_ABSENT;
	l->st.error = -ETIMEDOUT;
	l->st.reconnects++;
	(void) loop_timer_arm(&l->reopen, l->reopen_ms, 0);
	l->reopen_ms = l->reopen_ms * 2 > REOPEN_MAX_MS ? REOPEN_MAX_MS : l->reopen_ms * 2;
	status_changed(l);
}

/* Read what is there. */
static void
read_source(struct line *l, uint32_t events)
{
	unsigned char buf[READ_SIZE];
	uint64_t before = l->fed, bytes_before = l->st.bytes;
	/* Finishing a frame, a byte at a time: what follows its ETX stays in the source for the
	 * next reader (linkyd started again), not read and dropped here. A frame's worth of reads,
	 * once, at a stop. */
	long want = l->finished ? 1 : (long) sizeof(buf), n;

	/* A short read took all there was: no second read() just to hear EAGAIN (epoll is
	 * level-triggered, and the flush timer reads again anyway). */
	l->etx_seen = 0;
	l->backlog = false;
	do {
		n = l->src->ops->read(l->src, buf, (size_t) want);
		if (n > 0)
			feed(l, buf, (size_t) n);
		l->backlog |= n == (long) sizeof(buf);
	} while (n == want && l->open && !l->frame_done);
	if (l->frame_done) {
		finish_now(l);
		return;
	}
	l->backlog |= l->etx_seen > 1;
	if (n == -ENODEV || (n == 0 && (events & (EPOLLHUP | EPOLLERR)))) {
		lost(l, n < 0 ? (int) n : -ENODEV);
		return;
	}
	if (n < 0)
		log_errno(LOG_WARNING, (int) n, "meter '%s': read error", l->cfg->name);
	/* Bytes while nothing watches, or while a network source is watched for silence before its
	 * first frame: a probe can find something now, these bytes included. */
	if (l->fed != before && (!l->watch_armed || (l->watch_silence && l->st.state != LINE_OK))) {
		watch_arm(l, false);
		l->watch_bytes = bytes_before;
	}
	update_batch(l, (size_t) (l->fed - before));
}

/* Watch the source's fd for what its state needs. Registered anew each time: a step of the
 * opening may have closed the fd and made another, maybe with the same number, which epoll would
 * not know (it forgets an fd when the fd is closed). Returns 0 or -errno. */
static int
watch_fd(struct line *l, uint32_t events)
{
	loop_del(l->loop, &l->io);
	return loop_add(l->loop, &l->io, l->src->ops->fd(l->src), events, source_ready);
}

static void
source_ready(struct loop_io *io, uint32_t events)
{
	struct line *l = container_of(io, struct line, io);
	int r;

	if (l->st.state != LINE_OPENING) {
		read_source(l, events);
		return;
	}
	r = l->src->ops->finish_open(l->src);
	if (r == 0 || r == -EINPROGRESS) {
		int w = watch_fd(l, r == 0 ? EPOLLIN : EPOLLIN | EPOLLOUT);

		r = w < 0 ? w : r;
	}
	if (r == -EINPROGRESS)
		return;
	if (r < 0) {
		close_source(l);
		open_failed(l, r);
		return;
	}
	opened(l);
}

static void
flush_due(struct loop_timer *t)
{
	struct line *l = container_of(t, struct line, flush);
	uint64_t before = l->fed;

	if (!l->open)
		return;
	read_source(l, 0);
	/* Nothing since the last read: a silent meter. Read through epoll until it speaks again,
	 * and expect its next frame from there. */
	if (l->open && l->fed == before) {
		l->anchored = false;
		update_batch(l, 0);
	}
}

/* Stop the line and tell its owner, from the loop rather than from inside the line's own
 * callbacks: the owner may free the line then. */
static void
finish_now(struct line *l)
{
	void (*finished)(void *userdata) = l->finished;

	l->finished = NULL;
	l->frame_done = false;
	line_stop(l);
	if (loop_defer(l->loop, finished, l->userdata) < 0)
		finished(l->userdata);
}

static void
finish_due(struct loop_timer *t)
{
	struct line *l = container_of(t, struct line, finish);

	if (l->finished)
		finish_now(l);
}

static void
reopen_due(struct loop_timer *t)
{
	open_source(container_of(t, struct line, reopen));
}

static void
watch_due(struct loop_timer *t)
{
	struct line *l = container_of(t, struct line, watch);
	bool bytes = l->st.bytes != l->watch_bytes, changed = false;
	unsigned other = l->st.baud == 9600 ? 1200 : 9600;

	l->watch_armed = false;
	/* A network source from which nothing came for a silence's time: a dead connection. */
	if (l->src->network && !bytes) {
		if (l->watch_silence)
			reconnect_silent(l);
		else
			watch_arm(l, true);
		return;
	}
	if (l->st.state == LINE_OK) {
		log_warn("meter '%s': no valid frame for %u s%s", l->cfg->name,
		         silence_ms(l) / 1000, auto_speed(l) ? ", detecting the speed again" : "");
		l->st.state = LINE_SILENT;
		changed = true;
	}
	/* Nothing arrived: nothing to detect. The next bytes arm the watch again. */
	if (!bytes) {
		if (changed)
			status_changed(l);
		return;
	}
	if (auto_speed(l)) {
		/* What was half-read at this speed is garbage. */
		if (l->src->ops->set_speed(l->src, other) == 0) {
			log_info("meter '%s': no valid frame at %u Bd, trying %u Bd", l->cfg->name,
			         l->st.baud, other);
			l->st.baud = other;
			changed = true;
		}
		tic_parser_reset(&l->parser);
		timing_reset(l);
	} else if (!l->st.garbage) {
		if (l->st.baud)
			log_warn(
			    "meter '%s': bytes but no valid frame at %u Bd: noise on the line, or "
			    "the meter sends at another speed",
			    l->cfg->name, l->st.baud);
		else
			log_warn(
			    "meter '%s': bytes but no valid frame from %s: noise, or the bridge "
			    "reads the meter at the wrong speed (1200 Bd historique, 9600 Bd "
			    "standard, 7E1)",
			    l->cfg->name, l->src->name);
		l->st.garbage = true;
		changed = true;
	}
	watch_arm(l, false);
	if (changed)
		status_changed(l);
}

static unsigned
initial_baud(const struct line *l)
{
	if (!l->src->ops->set_speed && l->cfg->mode == TIC_MODE_UNKNOWN)
		return 0;
	if (l->cfg->mode == TIC_MODE_HISTORIQUE)
		return 1200;
	if (l->cfg->mode == TIC_MODE_STANDARD)
		return 9600;
	return l->st.baud ? l->st.baud : 9600; /* auto: the last speed that worked, else standard */
}

/* The source could not be opened (or connected): try again later, logged when the reason
 * changes. */
static void
open_failed(struct line *l, int r)
{
	bool news = r != l->st.error || l->st.state != LINE_ABSENT;

	/* Said once per reason until the source opens: a connect that fails after a resolved name
	 * passes through "opening" each time. */
	if (r != l->logged_error)
		log_errno(LOG_WARNING, r, "meter '%s': cannot open %s, retrying every %d s at most",
		          l->cfg->name, l->src->name, REOPEN_MAX_MS / 1000);
	l->logged_error = r;
	(void) loop_timer_arm(&l->reopen, l->reopen_ms, 0);
	l->reopen_ms = l->reopen_ms * 2 > REOPEN_MAX_MS ? REOPEN_MAX_MS : l->reopen_ms * 2;
	l->st.state = LINE_ABSENT;
	l->st.error = r;
	if (news)
		status_changed(l);
}

/* Open (or connected): reading from now on. */
static void
opened(struct line *l)
{
	if (l->quiet)
		;
	else if (l->st.baud)
		log_notice(
		    "meter '%s': reading %s at %u Bd (%s)", l->cfg->name, l->src->name, l->st.baud,
		    l->cfg->mode == TIC_MODE_UNKNOWN ? "auto-detecting the mode" : "fixed mode");
	else
		log_notice("meter '%s': reading %s", l->cfg->name, l->src->name);
	l->st.state = LINE_DETECTING;
	l->st.error = 0;
	l->logged_error = 0;
	/* A network source that stays silent is reconnected: watch it from the start. */
	if (l->src->network)
		watch_arm(l, true);
	if (!l->quiet)
		l->reopen_ms = REOPEN_MIN_MS;
	status_changed(l);
}

static void
open_source(struct line *l)
{
	unsigned baud = initial_baud(l);
	int r = l->src->ops->open(l->src, baud);
	bool connecting = r == -EINPROGRESS;

	/* A source without an fd pushes what it gets (line_push()). */
	if ((r == 0 || connecting) && l->src->ops->fd) {
		r = loop_add(l->loop, &l->io, l->src->ops->fd(l->src),
		             connecting ? EPOLLIN | EPOLLOUT : EPOLLIN, source_ready);
		if (r < 0)
			l->src->ops->close(l->src);
	}
	if (r < 0) {
		open_failed(l, r);
		return;
	}
	l->open = true;
	l->st.baud = baud;
	if (!connecting) {
		opened(l);
		return;
	}
	l->st.state = LINE_OPENING;
	status_changed(l);
}

static void
push(void *ctx, const void *bytes, size_t n)
{
	line_push(ctx, bytes, n);
}

int
line_new(struct loop *loop, struct source *src, const struct line_config *cfg,
         const struct line_callbacks *cb, void *userdata, struct line **ret)
{
	struct line *l = calloc(1, sizeof(*l));
	int r;

	if (!l) {
		source_free(src);
		return -ENOMEM;
	}
	l->loop = loop;
	l->src = src;
	l->cfg = cfg;
	l->cb = cb;
	l->userdata = userdata;
	l->io.fd = l->reopen.io.fd = l->watch.io.fd = l->flush.io.fd = l->finish.io.fd = -1;
	l->reopen_ms = REOPEN_MIN_MS;
	src->push = push;
	src->push_ctx = l;
	l->st = (struct line_status){
	    .state = LINE_ABSENT, .source = src->name, .stats = tic_parser_stats(&l->parser)};
	tic_parser_init(&l->parser, &parser_cbs, l);
	anon_stream_init(&l->anon_stream);
	if ((r = loop_timer_init(loop, &l->reopen, reopen_due)) < 0 ||
	    (r = loop_timer_init(loop, &l->watch, watch_due)) < 0 ||
	    (r = loop_timer_init(loop, &l->flush, flush_due)) < 0 ||
	    (r = loop_timer_init(loop, &l->finish, finish_due)) < 0) {
		line_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

void
line_start(struct line *l)
{
	open_source(l);
}

void
line_push(struct line *l, const void *bytes, size_t n)
{
	feed(l, bytes, n);
	if (l->frame_done)
		finish_now(l);
}

void
line_stop(struct line *l)
{
	close_source(l);
	(void) loop_timer_arm(&l->reopen, 0, 0);
	(void) loop_timer_arm(&l->finish, 0, 0);
}

void
line_finish(struct line *l, unsigned max_ms, void (*finished)(void *userdata))
{
	l->finished = finished;
	if (!l->open || l->parser.state == TIC_S_IDLE || max_ms == 0 ||
	    loop_timer_arm(&l->finish, max_ms, 0) < 0)
		finish_now(l);
	else
		update_batch(l, 0); /* read through epoll from now */
}

const struct line_status *
line_status(const struct line *l)
{
	return &l->st;
}

struct line *
line_free(struct line *l)
{
	if (!l)
		return NULL;
	close_source(l);
	loop_timer_done(l->loop, &l->reopen);
	loop_timer_done(l->loop, &l->watch);
	loop_timer_done(l->loop, &l->flush);
	loop_timer_done(l->loop, &l->finish);
	source_free(l->src);
	free(l);
	return NULL;
}
