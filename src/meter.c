/* SPDX-License-Identifier: MIT */
/*
 * A meter: serial line -> TIC parser -> JSON -> MQTT, driven by the event loop.
 *
 * Speed: in auto mode the line is opened at 9600 Bd (standard) and switched to 1200 Bd
 * (historique) and back until a frame with valid checksums arrives; once locked, a long run
 * without a valid frame (the supplier switched the meter's mode, or the cable is noisy) starts
 * the search again. The parser itself takes either mode at any time.
 *
 * Wake-ups: a USB adapter hands over a frame in dozens of small packets, and the tty wakes an
 * epoll waiter for every one of them (its VMIN only decides what poll() then reports: measured,
 * 56 context switches a frame either way). Frames are nearly the same length every time, so
 * after each read the line leaves epoll and a timer comes back when the rest of the frame, minus
 * a margin, should be there, at the pace the last frame came at; the margin's bytes, with the
 * ETX, are read through epoll as they arrive, so publishing is not delayed. A frame shorter than
 * the last (a historique short frame, a group the meter dropped) or a silent meter is caught by
 * the same timer: it reads what is there, and with nothing there the line goes back to epoll.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "linkyd/log.h"
#include "linkyd/meter.h"
#include "linkyd/publisher.h"
#include "linkyd/serial.h"

#define PROBE_MS_9600  4000  /* a standard frame lasts ~1.3 s at most */
#define PROBE_MS_1200  8000  /* a historique frame up to ~3 s */
#define SILENCE_MS     15000 /* locked, no valid frame: re-detect (auto) or warn (fixed) */
#define REOPEN_MIN_MS  1000
#define REOPEN_MAX_MS  30000
#define BATCH_MARGIN   24 /* bytes left to read through epoll at the end of a frame */
#define READ_SIZE      4096
#define CLIENT_ID_SIZE 24 /* MQTT 3.1.1 servers must accept 23 characters */
#define DIAG_MS        60000
#define DIAG_SIZE      384

struct meter {
	struct loop *loop;
	const struct meter_config *cfg;
	const struct linkyd_config *global;
	const struct meter_callbacks *cb;
	void *userdata;
	bool closing;

	struct serial *serial;
	struct loop_io io;
	struct loop_timer reopen, watch, flush;
	unsigned reopen_ms;
	int open_error; /* last open failure, logged on change */
	unsigned baud;
	bool locked; /* a valid frame arrived at this speed */
	bool silent; /* the watch timer fired while locked (logged once) */
	enum tic_mode mode;
	uint64_t fed, last_etx; /* byte positions on this line */
	uint32_t frame_len;     /* ETX to ETX, 0 = not known yet */
	uint64_t last_etx_ms;   /* when the last ETX was read */
	uint64_t frame_ms;      /* ETX to ETX, 0 = not known yet */
	bool batching;          /* out of epoll: the flush timer reads the line */
	bool frame_ended;

	struct tic_parser parser;
	struct mqtt *mqtt;
	char client_id[CLIENT_ID_SIZE];
	char *status_topic, *mode_topic, *diag_topic;

	struct loop_timer diag;
	bool diag_sent;       /* at least once: the first frame sends one at once */
	time_t last_frame;    /* wall clock, 0 = none yet */
	uint64_t diag_frames; /* parser frames at the last diagnostics */
	uint64_t diag_ms;     /* when they were sent (or the meter started) */
	struct publisher *publisher;
	bool anonymise;
	struct anon_key anon_key;
	struct anon_stream anon_stream; /* the raw log's identifiers, across reads */
};

static void open_line(struct meter *m);

static void
changed(struct meter *m)
{
	if (m->cb && m->cb->on_change)
		m->cb->on_change(m, m->userdata);
}

static unsigned
probe_ms(unsigned baud)
{
	return baud == 9600 ? PROBE_MS_9600 : PROBE_MS_1200;
}

static void
watch_arm(struct meter *m)
{
	(void) loop_timer_arm(&m->watch, m->locked ? SILENCE_MS : probe_ms(m->baud), 0);
}

static void
publish_mode(struct meter *m)
{
	const char *name = m->mode == TIC_MODE_STANDARD ? "standard" : "historique";

	log_notice("meter '%s': %s mode at %u Bd", m->cfg->name, name, m->baud);
	(void) mqtt_publish_state(m->mqtt, m->mode_topic, name, strlen(name), true);
	changed(m);
}

/* {"mode":..,"speed":..,"frames_per_minute":..,"checksum_errors":..,"format_errors":..,
 * "last_frame":"ISO 8601 UTC"|null,"last_frame_age":seconds|null} */
static void
publish_diagnostics(struct meter *m)
{
	const struct tic_stats *st = tic_parser_stats(&m->parser);
	uint64_t now = loop_now_ms(), window = now - m->diag_ms;
	uint64_t fpm = window ? (st->frames - m->diag_frames) * 60000 / window : 0;
	char buf[DIAG_SIZE], when[40] = "null", age[24] = "null";
	const char *mode = !m->serial                     ? "absent"
	                   : !m->locked                   ? "detecting"
	                   : m->mode == TIC_MODE_STANDARD ? "standard"
	                                                  : "historique";
	struct tm tm;
	int n;

	if (m->last_frame && gmtime_r(&m->last_frame, &tm)) {
		strftime(when, sizeof(when), "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
		snprintf(age, sizeof(age), "%lld", (long long) (time(NULL) - m->last_frame));
	}
	n = snprintf(buf, sizeof(buf),
	             "{\"mode\":\"%s\",\"speed\":%u,\"frames_per_minute\":%llu,"
	             "\"checksum_errors\":%llu,\"format_errors\":%llu,\"last_frame\":%s,"
	             "\"last_frame_age\":%s}",
	             mode, m->baud, (unsigned long long) fpm,
	             (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)],
	             (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)], when, age);
	m->diag_frames = st->frames;
	m->diag_ms = now;
	m->diag_sent = true;
	(void) mqtt_publish_state(m->mqtt, m->diag_topic, buf, (size_t) n, false);
}

static void
diag_due(struct loop_timer *t)
{
	publish_diagnostics(container_of(t, struct meter, diag));
}

static void
on_mqtt_message(const char *topic, const void *payload, size_t len, bool retained, void *userdata)
{
	struct meter *m = userdata;

	publisher_message(m->publisher, topic, payload, len, retained);
}

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct meter *m = userdata;

	m->last_frame = time(NULL);
	publisher_frame(m->publisher, frame, loop_now_ms());
	if (!m->locked || m->silent) {
		m->locked = true;
		m->silent = false;
		changed(m);
	}
	if (frame->mode != m->mode) {
		m->mode = frame->mode;
		publish_mode(m);
	}
	if (!m->diag_sent)
		publish_diagnostics(m);
	watch_arm(m);
	/* Stop feeding here so that the reader knows where this ETX was (frame length). */
	m->frame_ended = true;
	return 1;
}

static const struct tic_parser_callbacks parser_cbs = {.on_frame = on_frame};

static void
log_raw(struct meter *m, const unsigned char *buf, size_t n)
{
	char line[READ_SIZE * 4 + 1];
	unsigned char anon[READ_SIZE];
	size_t o = 0;

	/* The bytes as read, but for the identifiers' digits (and their groups' check characters,
	 * so that the log still decodes). */
	if (m->anonymise) {
		anon_stream(&m->anon_key, &m->anon_stream, buf, n, anon);
		buf = anon;
	}
	for (size_t i = 0; i < n; i++) {
		if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '\\')
			line[o++] = (char) buf[i];
		else
			o += (size_t) sprintf(line + o, "\\x%02x", buf[i]);
	}
	line[o] = '\0';
	log_debug("meter '%s': read %zu bytes: %s", m->cfg->name, n, line);
}

static void
feed(struct meter *m, const unsigned char *buf, size_t n)
{
	size_t off = 0;

	if (log_verbosity() >= 2)
		log_raw(m, buf, n);
	while (off < n) {
		m->frame_ended = false;
		off += tic_parser_feed(&m->parser, buf + off, n - off);
		if (m->frame_ended) {
			uint64_t etx = m->fed + off;

			uint64_t now = loop_now_ms();

			m->frame_len = m->last_etx ? (uint32_t) (etx - m->last_etx) : 0;
			m->frame_ms = m->last_etx ? now - m->last_etx_ms : 0;
			m->last_etx = etx;
			m->last_etx_ms = now;
		}
	}
	m->fed += n;
}

/* Wait for the rest of the current frame out of epoll, or read through epoll (see the top). */
static void
update_batch(struct meter *m)
{
	uint64_t since = m->fed - m->last_etx;
	uint64_t batch = 0, nominal_ms, ms = 0;
	bool was_batching = m->batching;

	/* Not for less than a margin's worth: a timer per few bytes costs more wake-ups than the
	 * epoll reads it saves. */
	if (m->frame_len > BATCH_MARGIN && m->frame_ms && m->last_etx &&
	    since + 2 * BATCH_MARGIN <= m->frame_len) {
		batch = m->frame_len - BATCH_MARGIN - since;
		/* At the pace of the last frame, but never longer than the line's speed takes
		 * (10 bits a character): a pause before the last ETX must not delay this frame.
		 * A source slower than that only costs an early, partial read. */
		ms = batch * m->frame_ms / m->frame_len;
		nominal_ms = batch * 10000 / m->baud;
		if (ms > nominal_ms)
			ms = nominal_ms;
	}
	if ((batch > 0) != m->batching &&
	    loop_set_events(m->loop, &m->io, batch > 0 ? 0 : EPOLLIN) == 0)
		m->batching = batch > 0;
	/* Disarmed only when it was armed: not a system call per epoll read. */
	if (m->batching || was_batching)
		(void) loop_timer_arm(&m->flush, m->batching ? ms + 1 : 0, 0);
}

static void
close_line(struct meter *m)
{
	if (!m->serial)
		return;
	loop_del(m->loop, &m->io);
	m->io.fd = -1;
	m->serial = serial_free(m->serial);
	tic_parser_reset(&m->parser);
	m->last_etx = m->frame_len = 0;
	m->batching = false;
	(void) loop_timer_arm(&m->watch, 0, 0);
	(void) loop_timer_arm(&m->flush, 0, 0);
}

static void
line_lost(struct meter *m, int err)
{
	log_errno(LOG_WARNING, err, "meter '%s': lost %s, waiting for it to come back",
	          m->cfg->name, m->cfg->device);
	close_line(m);
	m->locked = false;
	m->open_error = err;
	m->reopen_ms = REOPEN_MIN_MS;
	(void) loop_timer_arm(&m->reopen, m->reopen_ms, 0);
	changed(m);
}

static void
line_ready(struct loop_io *io, uint32_t events)
{
	struct meter *m = container_of(io, struct meter, io);
	unsigned char buf[READ_SIZE];
	long n;

	/* A short read took all there was: no second read() just to hear EAGAIN (epoll is
	 * level-triggered, and the flush timer reads again anyway). */
	do {
		n = serial_read(m->serial, buf, sizeof(buf));
		if (n > 0)
			feed(m, buf, (size_t) n);
	} while (n == (long) sizeof(buf));
	if (n == -ENODEV || (n == 0 && (events & (EPOLLHUP | EPOLLERR)))) {
		line_lost(m, n < 0 ? (int) n : -ENODEV);
		return;
	}
	if (n < 0)
		log_errno(LOG_WARNING, (int) n, "meter '%s': read error", m->cfg->name);
	update_batch(m);
}

static void
flush_due(struct loop_timer *t)
{
	struct meter *m = container_of(t, struct meter, flush);
	uint64_t before = m->fed;

	if (!m->serial)
		return;
	line_ready(&m->io, 0);
	/* Nothing for a whole batch: a shorter frame or a silent meter. Forget the length until
	 * the next ETX measures it again, and read through epoll meanwhile. */
	if (m->serial && m->fed == before) {
		m->frame_len = 0;
		update_batch(m);
	}
}

static void
reopen_due(struct loop_timer *t)
{
	open_line(container_of(t, struct meter, reopen));
}

static void
watch_due(struct loop_timer *t)
{
	struct meter *m = container_of(t, struct meter, watch);
	unsigned other = m->baud == 9600 ? 1200 : 9600;

	if (m->locked && !m->silent) {
		m->silent = true;
		log_warn("meter '%s': no valid frame for %d s%s", m->cfg->name, SILENCE_MS / 1000,
		         m->cfg->mode == TIC_MODE_UNKNOWN ? ", detecting the speed again" : "");
		changed(m);
	}
	if (m->cfg->mode != TIC_MODE_UNKNOWN) {
		watch_arm(m);
		return;
	}
	/* Auto: try the other speed. What was half-read at this speed is garbage. */
	if (serial_set_baud(m->serial, other) == 0) {
		log_info("meter '%s': no valid frame at %u Bd, trying %u Bd", m->cfg->name, m->baud,
		         other);
		m->baud = other;
	}
	m->locked = false;
	tic_parser_reset(&m->parser);
	m->last_etx = m->frame_len = 0;
	watch_arm(m);
}

static unsigned
initial_baud(const struct meter *m)
{
	if (m->cfg->mode == TIC_MODE_HISTORIQUE)
		return 1200;
	if (m->cfg->mode == TIC_MODE_STANDARD)
		return 9600;
	return m->baud ? m->baud : 9600; /* auto: the last speed that worked, else standard */
}

static void
open_line(struct meter *m)
{
	unsigned baud = initial_baud(m);
	int r = serial_open(m->cfg->device, baud, &m->serial);

	if (r == 0)
		r = loop_add(m->loop, &m->io, serial_fd(m->serial), EPOLLIN, line_ready);
	if (r < 0) {
		m->serial = serial_free(m->serial);
		if (r != m->open_error)
			log_errno(LOG_WARNING, r,
			          "meter '%s': cannot open %s, retrying every %d s at most",
			          m->cfg->name, m->cfg->device, REOPEN_MAX_MS / 1000);
		m->open_error = r;
		(void) loop_timer_arm(&m->reopen, m->reopen_ms, 0);
		m->reopen_ms = m->reopen_ms * 2 > REOPEN_MAX_MS ? REOPEN_MAX_MS : m->reopen_ms * 2;
		return;
	}
	log_notice("meter '%s': reading %s at %u Bd (%s)", m->cfg->name, m->cfg->device, baud,
	           m->cfg->mode == TIC_MODE_UNKNOWN ? "auto-detecting the mode" : "fixed mode");
	m->baud = baud;
	m->open_error = 0;
	m->reopen_ms = REOPEN_MIN_MS;
	watch_arm(m);
	changed(m);
}

static void
on_mqtt_state(enum mqtt_state state, void *userdata)
{
	struct meter *m = userdata;

	if (state == MQTT_CLOSED && m->closing) {
		if (m->cb && m->cb->on_closed)
			m->cb->on_closed(m, m->userdata);
		return;
	}
	/* Clean sessions: a restarted broker may have lost the retained configs. */
	if (state == MQTT_CONNECTED)
		publisher_connected(m->publisher);
	changed(m);
}

static const struct mqtt_callbacks mqtt_cbs = {.on_state = on_mqtt_state,
                                               .on_message = on_mqtt_message};

/* Stable across restarts, unique per host and device, short enough for any broker. */
static void
make_client_id(struct meter *m)
{
	char host[256] = "";
	uint32_t h = 2166136261u;
	const char *id = m->global->mqtt.client_id;

	if (id && m->global->n_meters == 1) {
		snprintf(m->client_id, sizeof(m->client_id), "%s", id);
		return;
	}
	if (id) {
		snprintf(m->client_id, sizeof(m->client_id), "%s-%s", id, m->cfg->name);
		return;
	}
	(void) gethostname(host, sizeof(host) - 1);
	for (const char *s = host; *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	for (const char *s = m->cfg->device; *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	snprintf(m->client_id, sizeof(m->client_id), "linkyd-%08x", h);
}

int
meter_new(struct loop *loop, const struct meter_config *cfg, const struct linkyd_config *global,
          const struct meter_callbacks *cb, void *userdata, struct meter **ret_meter)
{
	struct meter *m = calloc(1, sizeof(*m));
	int r = -ENOMEM;

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->cfg = cfg;
	m->global = global;
	m->cb = cb;
	m->userdata = userdata;
	m->io.fd = m->reopen.io.fd = m->watch.io.fd = m->flush.io.fd = m->diag.io.fd = -1;
	m->diag_ms = loop_now_ms();
	m->reopen_ms = REOPEN_MIN_MS;
	tic_parser_init(&m->parser, &parser_cbs, m);
	if (asprintf(&m->status_topic, "%s/status", cfg->topic) < 0) {
		m->status_topic = NULL;
		goto out_free;
	}
	if (asprintf(&m->mode_topic, "%s/mode", cfg->topic) < 0) {
		m->mode_topic = NULL;
		goto out_free;
	}
	r = loop_timer_init(loop, &m->reopen, reopen_due);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->watch, watch_due);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->flush, flush_due);
	if (r < 0)
		goto out_free;
	r = loop_timer_init(loop, &m->diag, diag_due);
	if (r < 0)
		goto out_free;
	r = -ENOMEM;
	if (asprintf(&m->diag_topic, "%s/diagnostics", cfg->topic) < 0) {
		m->diag_topic = NULL;
		goto out_free;
	}
	make_client_id(m);
	r = mqtt_new(loop, &global->mqtt, m->client_id, m->status_topic, &mqtt_cbs, m, &m->mqtt);
	if (r < 0)
		goto out_free;
	if (global->anonymise) {
		r = anon_key_load(global->anonymise_key, &m->anon_key);
		if (r < 0) {
			log_errno(LOG_ERR, r, "meter '%s': cannot make the pseudonyms' key",
			          cfg->name);
			goto out_free;
		}
		m->anonymise = true;
		anon_stream_init(&m->anon_stream);
	}
	r = publisher_new(cfg, global, m->mqtt, m->anonymise ? &m->anon_key : NULL, &m->publisher);
	if (r < 0)
		goto out_free;
	(void) loop_timer_arm(&m->diag, DIAG_MS, DIAG_MS);
	open_line(m);
	*ret_meter = m;
	return 0;

out_free:
	meter_free(m);
	return r;
}

void
meter_rebind(struct meter *m, const struct meter_config *cfg, const struct linkyd_config *global)
{
	m->cfg = cfg;
	m->global = global;
	publisher_rebind(m->publisher, cfg, global);
}

void
meter_close(struct meter *m, unsigned timeout_ms)
{
	m->closing = true;
	close_line(m);
	publisher_close(m->publisher);
	(void) loop_timer_arm(&m->reopen, 0, 0);
	(void) loop_timer_arm(&m->diag, 0, 0);
	mqtt_close(m->mqtt, timeout_ms);
}

bool
meter_is_closing(const struct meter *m)
{
	return m->closing;
}

const char *
meter_name(const struct meter *m)
{
	return m->cfg->name;
}

const struct meter_config *
meter_config(const struct meter *m)
{
	return m->cfg;
}

void
meter_describe(const struct meter *m, char *buf, size_t size)
{
	const struct tic_stats *st = tic_parser_stats(&m->parser);
	struct mqtt_stats ms = mqtt_stats(m->mqtt);
	uint64_t rejected = 0;
	const char *line;

	for (int i = 0; i < TIC_ERR_COUNT; i++)
		rejected += st->errors[i];
	if (!m->serial)
		line = "device absent";
	else if (!m->locked)
		line = "detecting";
	else if (m->silent)
		line = "no valid frame";
	else
		line = m->mode == TIC_MODE_STANDARD ? "standard" : "historique";
	snprintf(buf, size, "%s: %s %u Bd, %llu frames, %llu rejected, broker %s, %zu queued",
	         m->cfg->name, line, m->baud, (unsigned long long) st->frames,
	         (unsigned long long) rejected,
	         mqtt_state(m->mqtt) == MQTT_CONNECTED ? "connected" : "unreachable", ms.pending);
}

struct meter *
meter_free(struct meter *m)
{
	if (!m)
		return NULL;
	close_line(m);
	m->publisher = publisher_free(m->publisher);
	m->mqtt = mqtt_free(m->mqtt);
	loop_timer_done(m->loop, &m->reopen);
	loop_timer_done(m->loop, &m->watch);
	loop_timer_done(m->loop, &m->flush);
	loop_timer_done(m->loop, &m->diag);
	free(m->status_topic);
	free(m->mode_topic);
	free(m->diag_topic);
	free(m);
	return NULL;
}
