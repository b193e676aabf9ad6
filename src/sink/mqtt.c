/* SPDX-License-Identifier: MIT */
/*
 * The MQTT sink: a meter's records as MQTT messages, on the topics of linkyd/topics.h, through
 * the meter's own client (its own last will on <topic>/status), with Home Assistant discovery.
 *
 * Discovery sees every frame whole, so that a label the policy or the index guard holds back is
 * never taken for a label the meter stopped sending; the frame topic carries the whole frame
 * (what the guard kept) whenever at least one label is due, so that consumers and Home
 * Assistant's templates find every label in it; <topic>/<LABEL> carries only the due labels.
 * While the broker is away only frames are queued: they hold every value, and an hour of
 * per-label or derived messages would crowd them out of the queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linkyd/ha.h"
#include "linkyd/json.h"
#include "linkyd/log.h"
#include "linkyd/mqtt.h"
#include "linkyd/sink.h"
#include "linkyd/topics.h"

#define DERIVED_MIN_MS       10000 /* <topic>/derived at most this often when it changes */
#define DERIVED_HEARTBEAT_MS 60000 /* ... and this often anyway, for expire_after */
#define ENERGY_MIN_MS        60000 /* <topic>/energy at most this often */
#define DIAG_MS              60000 /* <topic>/diagnostics while frames arrive */
#define DIAG_SIZE            512
#define LABEL_TOPIC_SIZE     (TIC_LABEL_MAX + 2)

struct mqtt_sink {
	struct sink sink;
	struct loop *loop;
	const struct meter_config *m;
	const struct linkyd_config *c;
	void (*on_change)(void *userdata);
	void *userdata;
	struct mqtt *mqtt;
	char *status_topic, *mode_topic, *diag_topic, *derived_topic, *energy_topic;
	char *label_topic; /* room for "<topic>/<LABEL>" */
	size_t label_topic_size;
	bool closing;

	struct ha_discovery *ha; /* NULL: no discovery */
	char *ha_status_topic;   /* where Home Assistant says it (re)started */
	struct derive *derive;   /* the last derived values seen: their entities on republish */
	bool derived_declared;   /* their sensors declared, as of ... */
	unsigned derived_gen;    /* ... this generation of the derived values */
	char derived_serial[HA_SERIAL_SIZE]; /* ... and this serial */

	const struct line_status *line; /* NULL until the first status */
	enum tic_mode mode_sent;        /* what <topic>/mode last said */
	struct loop_timer diag;
	uint64_t diag_frames; /* parser frames at the last diagnostics */
	uint64_t diag_ms;     /* when they were sent (or the sink started) */

	uint64_t derived_ms; /* when <topic>/derived was last published, 0 never */
	uint64_t energy_ms;  /* the same for <topic>/energy */
	bool energy_pending; /* changed since, not published yet */
	size_t derived_len;
	char derived[DERIVE_JSON_MAX]; /* what <topic>/derived last carried */
	char
	    json[JSON_FRAME_MAX > DERIVE_ENERGY_JSON_MAX ? JSON_FRAME_MAX : DERIVE_ENERGY_JSON_MAX];
};

static struct mqtt_sink *
mqtt_sink_of(struct sink *s)
{
	return container_of(s, struct mqtt_sink, sink);
}

static bool
discovering(const struct mqtt_sink *ms)
{
	return ms->ha && ms->c->format == JSON_FORMAT_TYPED;
}

static bool
derived_on(const struct mqtt_sink *ms)
{
	return ms->m->publish.derived;
}

/* ---- frames -----------------------------------------------------------------------------------
 */

static void
publish_labels(struct mqtt_sink *ms, const struct tic_frame *frame, const bool *due)
{
	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];
		int n;

		if (!due[i])
			continue;
		n = json_encode_value(g, ms->c->format, ms->json, sizeof(ms->json));
		if (n < 0 ||
		    topic_label(ms->m->topic, g->label, ms->label_topic, ms->label_topic_size) < 0)
			continue;
		if (mqtt_publish_live(ms->mqtt, ms->label_topic, ms->json, (size_t) n,
		                      ms->m->publish.label_retain, -1) == -ENOMEM)
			log_err("meter '%s': out of memory queueing %s", ms->m->name, g->label);
	}
}

/* The line's health: {"mode":..,"line":..,"speed":..,"reconnects":..,"frames_per_minute":..,
 * "checksum_errors":..,"format_errors":..,"last_frame":"ISO 8601 UTC"|null,
 * "last_frame_age":seconds|null} */
static void
publish_diagnostics(struct mqtt_sink *ms)
{
	const struct line_status *st = ms->line;
	const struct tic_stats *ts = st->stats;
	uint64_t now = loop_now_ms(), window = now - ms->diag_ms;
	uint64_t fpm = window ? (ts->frames - ms->diag_frames) * 60000 / window : 0;
	char buf[DIAG_SIZE], when[40] = "null", age[24] = "null";
	const char *mode = st->state == LINE_ABSENT || st->state == LINE_OPENING ? "absent"
	                   : st->mode == TIC_MODE_UNKNOWN || st->state == LINE_DETECTING
	                       ? "detecting"
	                   : st->mode == TIC_MODE_STANDARD ? "standard"
	                                                   : "historique";
	const char *line = st->garbage ? "garbage" : line_state_name(st->state);
	struct tm tm;
	int n;

	if (st->last_frame && gmtime_r(&st->last_frame, &tm)) {
		strftime(when, sizeof(when), "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
		snprintf(age, sizeof(age), "%lld", (long long) (time(NULL) - st->last_frame));
	}
	n = snprintf(buf, sizeof(buf),
	             "{\"" DIAG_MODE "\":\"%s\",\"" DIAG_LINE "\":\"%s\",\"" DIAG_SPEED "\":%u,"
	             "\"" DIAG_RECONNECTS "\":%u,"
	             "\"" DIAG_FRAMES_PER_MINUTE "\":%llu,\"" DIAG_CHECKSUM_ERRORS "\":%llu,"
	             "\"" DIAG_FORMAT_ERRORS "\":%llu,\"" DIAG_LAST_FRAME "\":%s,"
	             "\"" DIAG_LAST_FRAME_AGE "\":%s}",
	             mode, line, st->baud, st->reconnects, (unsigned long long) fpm,
	             (unsigned long long) ts->errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)],
	             (unsigned long long) ts->errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)], when, age);
	ms->diag_frames = ts->frames;
	ms->diag_ms = now;
	if (n > 0 && (size_t) n < sizeof(buf))
		(void) mqtt_publish_state(ms->mqtt, ms->diag_topic, buf, (size_t) n, false);
}

static void
diag_due(struct loop_timer *t)
{
	publish_diagnostics(container_of(t, struct mqtt_sink, diag));
}

static void
on_frame(struct sink *s, const struct sink_frame *f)
{
	struct mqtt_sink *ms = mqtt_sink_of(s);
	int n;

	/* Discovery's configs go before the frame, so that HA has the entities for its values:
	 * the labels the meter sends, whole. */
	if (discovering(ms))
		ha_discovery_frame(ms->ha, f->whole);
	if (f->publish) {
		n = json_encode_frame(f->kept, ms->c->format, ms->json, sizeof(ms->json));
		if (n < 0)
			log_errno(LOG_ERR, n, "meter '%s': cannot encode a frame", ms->m->name);
		else if (mqtt_publish(ms->mqtt, ms->m->topic, ms->json, (size_t) n,
		                      ms->c->mqtt.retain) < 0)
			log_err("meter '%s': out of memory queueing a frame", ms->m->name);
		if (ms->m->publish.label_topics)
			publish_labels(ms, f->kept, f->due);
	}
}

/* ---- derived values ---------------------------------------------------------------------------
 */

/* The retained energy per period, if it changed since it was last published and is up to date
 * (derive_energy_current()): an update the queue refused, or one not current yet, stays
 * pending. */
static void
publish_energy(struct mqtt_sink *ms, struct derive *d, uint64_t now_ms)
{
	int n;

	if (mqtt_state(ms->mqtt) != MQTT_CONNECTED || !ms->energy_pending ||
	    !derive_energy_current(d))
		return;
	n = derive_energy_json(d, ms->json, sizeof(ms->json));
	if (n >= 0 &&
	    mqtt_publish_live(ms->mqtt, ms->energy_topic, ms->json, (size_t) n, true, -1) == 0) {
		ms->energy_ms = now_ms;
		ms->energy_pending = false;
	}
}

/* While connected only, like the label topics: the frames queued during an outage are what
 * matters. The derived values change slowly (the power estimate spans a minute): they go out
 * when they changed, at most every DERIVED_MIN_MS, and every DERIVED_HEARTBEAT_MS anyway for
 * Home Assistant's expire_after; the energy, when it changed, at most every ENERGY_MIN_MS
 * (it stays marked changed until then). Two more messages per frame would triple the load. */
/* Home Assistant's sensors for the derived values, when what they carry changed or the meter
 * (its serial) did: derive_info() is not free, and this runs after every frame. */
static void
declare_derived(struct mqtt_sink *ms, const struct derive *d)
{
	const char *serial = ha_discovery_serial(ms->ha);
	struct derive_info info;

	if (ms->derived_declared && derive_generation(d) == ms->derived_gen &&
	    strcmp(serial, ms->derived_serial) == 0)
		return;
	derive_info(d, &info);
	ha_discovery_derived(ms->ha, &info, false);
	ms->derived_declared = true;
	ms->derived_gen = info.generation;
	snprintf(ms->derived_serial, sizeof(ms->derived_serial), "%s", serial);
}

/* While connected only, like the label topics: the frames queued during an outage are what
 * matters. The derived values change slowly (the power estimate spans a minute): they go out
 * when they changed, at most every DERIVED_MIN_MS (so they are not even encoded before), and
 * every DERIVED_HEARTBEAT_MS anyway for Home Assistant's expire_after; the energy, when it
 * changed, at most every ENERGY_MIN_MS (it stays marked changed until then). Two more messages
 * per frame would triple the load. */
static void
on_derived(struct sink *s, const struct sink_derived *d)
{
	struct mqtt_sink *ms = mqtt_sink_of(s);
	uint64_t now_ms = d->mono_ms, since = now_ms - ms->derived_ms;
	int n;

	ms->derive = d->derive;
	ms->energy_pending |= d->energy_changed;
	if (discovering(ms))
		declare_derived(ms, d->derive);
	if (mqtt_state(ms->mqtt) != MQTT_CONNECTED)
		return;
	if (!ms->derived_ms || since >= DERIVED_MIN_MS) {
		/* derive.h promises DERIVE_JSON_MAX is always enough: ms->derived has that room. */
		n = derive_json(d->derive, ms->json, sizeof(ms->derived));
		if (n >= 0 &&
		    (!ms->derived_ms || since >= DERIVED_HEARTBEAT_MS ||
		     (size_t) n != ms->derived_len ||
		     memcmp(ms->json, ms->derived, ms->derived_len)) &&
		    mqtt_publish_live(ms->mqtt, ms->derived_topic, ms->json, (size_t) n, false,
		                      -1) == 0) {
			ms->derived_ms = now_ms;
			ms->derived_len = (size_t) n;
			memcpy(ms->derived, ms->json, (size_t) n);
		}
	}
	if (!ms->energy_ms || now_ms - ms->energy_ms >= ENERGY_MIN_MS)
		publish_energy(ms, d->derive, now_ms);
}

/* ---- the line ---------------------------------------------------------------------------------
 */

static void
on_line(struct sink *s, const struct line_status *st)
{
	struct mqtt_sink *ms = mqtt_sink_of(s);

	ms->line = st;
	if (st->mode != TIC_MODE_UNKNOWN && st->mode != ms->mode_sent) {
		const char *name = st->mode == TIC_MODE_STANDARD ? "standard" : "historique";

		ms->mode_sent = st->mode;
		(void) mqtt_publish_state(ms->mqtt, ms->mode_topic, name, strlen(name), true);
	}
	/* On every change, and every minute while frames arrive: an idle line costs nothing. */
	publish_diagnostics(ms);
	(void) loop_timer_arm(&ms->diag, st->state == LINE_OK ? DIAG_MS : 0,
	                      st->state == LINE_OK ? DIAG_MS : 0);
}

/* ---- the broker -------------------------------------------------------------------------------
 */

/* Home Assistant's configs again: the broker or Home Assistant may have lost them. */
static void
republish(struct mqtt_sink *ms)
{
	struct derive_info info;

	if (!discovering(ms))
		return;
	ha_discovery_republish(ms->ha);
	if (ms->derive && derived_on(ms)) {
		derive_info(ms->derive, &info);
		ha_discovery_derived(ms->ha, &info, true);
	}
}

static void
on_mqtt_message(const char *topic, const void *payload, size_t len, bool retained, void *userdata)
{
	struct mqtt_sink *ms = userdata;

	/* A retained "online" arrives with each subscription, right after the connect that
	 * already republished: only a live one means Home Assistant (re)started. */
	if (ms->ha && !retained && strcmp(topic, ms->ha_status_topic) == 0 && len == 6 &&
	    memcmp(payload, "online", 6) == 0) {
		log_info("meter '%s': Home Assistant is online, publishing discovery again",
		         ms->m->name);
		republish(ms);
	}
}

static void
on_mqtt_state(enum mqtt_state state, void *userdata)
{
	struct mqtt_sink *ms = userdata;

	if (state == MQTT_CLOSED && ms->closing) {
		sink_closed(&ms->sink);
		return;
	}
	/* Clean sessions: a restarted broker may have lost the retained configs. What the queue
	 * dropped with the connection goes again with the next frame. */
	if (state == MQTT_CONNECTED) {
		ms->energy_pending = true;
		ms->energy_ms = ms->derived_ms = 0;
		republish(ms);
	}
	if (ms->on_change)
		ms->on_change(ms->userdata);
}

static const struct mqtt_callbacks mqtt_cbs = {.on_state = on_mqtt_state,
                                               .on_message = on_mqtt_message};

static int
ha_publish(const char *topic, const char *payload, size_t len, void *ctx)
{
	struct mqtt_sink *ms = ctx;

	/* Not queued during an outage: the reconnect publishes every declared config again, and
	 * one that could not go out is declared with the next frame. */
	return mqtt_publish_live(ms->mqtt, topic, payload, len, true, 1);
}

/* Discovery, and the subscription to Home Assistant's birth message that it needs. */
static int
ha_start(struct mqtt_sink *ms)
{
	char topic[512];
	int r;

	if (!ms->c->ha.discovery)
		return 0;
	if (topic_ha_status(ms->c->ha.prefix, topic, sizeof(topic)) < 0)
		return -ENOBUFS;
	ms->ha_status_topic = strdup(topic);
	if (!ms->ha_status_topic)
		return -ENOMEM;
	r = ha_discovery_new(&ms->c->ha, ms->m->topic, ha_publish, ms, &ms->ha);
	if (r == 0)
		r = mqtt_subscribe(ms->mqtt, ms->ha_status_topic);
	if (r == 0 && ms->c->format != JSON_FORMAT_TYPED)
		log_notice("meter '%s': Home Assistant discovery needs the typed format, none is "
		           "published while the format is raw",
		           ms->m->name);
	return r;
}

/* ---- the sink ---------------------------------------------------------------------------------
 */

static void
on_close(struct sink *s, const struct sink_derived *last, unsigned timeout_ms)
{
	struct mqtt_sink *ms = mqtt_sink_of(s);

	ms->closing = true;
	(void) loop_timer_arm(&ms->diag, 0, 0);
	/* The retained energy as it is now, whatever the pace: the next start may be far off. */
	if (last) {
		ms->energy_pending |= last->energy_changed;
		publish_energy(ms, last->derive, last->mono_ms);
	}
	mqtt_close(ms->mqtt, timeout_ms);
}

static void
on_free(struct sink *s)
{
	struct mqtt_sink *ms = mqtt_sink_of(s);

	ha_discovery_free(ms->ha);
	ms->mqtt = mqtt_free(ms->mqtt);
	loop_timer_done(ms->loop, &ms->diag);
	free(ms->ha_status_topic);
	free(ms->status_topic);
	free(ms->mode_topic);
	free(ms->diag_topic);
	free(ms->derived_topic);
	free(ms->energy_topic);
	free(ms->label_topic);
	free(ms);
}

static const struct sink_ops mqtt_sink_ops = {
    .frame = on_frame,
    .derived = on_derived,
    .line = on_line,
    .close = on_close,
    .free = on_free,
};

int
mqtt_sink_new(struct loop *loop, const struct meter_config *m, const struct linkyd_config *c,
              void (*on_change)(void *userdata), void *userdata, struct sink **ret)
{
	struct mqtt_sink *ms = calloc(1, sizeof(*ms));
	int r = -ENOMEM;

	if (!ms)
		return -ENOMEM;
	ms->sink.ops = &mqtt_sink_ops;
	ms->loop = loop;
	ms->m = m;
	ms->c = c;
	ms->on_change = on_change;
	ms->userdata = userdata;
	ms->diag.io.fd = -1;
	ms->diag_ms = loop_now_ms();
	ms->label_topic_size = strlen(m->topic) + LABEL_TOPIC_SIZE;
	if (!(ms->status_topic = topic_new(m->topic, TOPIC_STATUS)) ||
	    !(ms->mode_topic = topic_new(m->topic, TOPIC_MODE)) ||
	    !(ms->diag_topic = topic_new(m->topic, TOPIC_DIAGNOSTICS)) ||
	    !(ms->derived_topic = topic_new(m->topic, TOPIC_DERIVED)) ||
	    !(ms->energy_topic = topic_new(m->topic, TOPIC_ENERGY)) ||
	    !(ms->label_topic = malloc(ms->label_topic_size)))
		goto out_free;
	r = loop_timer_init(loop, &ms->diag, diag_due);
	if (r < 0)
		goto out_free;
	r = mqtt_new(loop, &c->mqtt, m->client_id, ms->status_topic, &mqtt_cbs, ms, &ms->mqtt);
	if (r == 0)
		r = ha_start(ms);
	if (r < 0)
		goto out_free;
	*ret = &ms->sink;
	return 0;

out_free:
	on_free(&ms->sink);
	return r;
}

bool
mqtt_sink_connected(const struct sink *s)
{
	return mqtt_state(container_of(s, struct mqtt_sink, sink)->mqtt) == MQTT_CONNECTED;
}

struct mqtt_stats
mqtt_sink_stats(const struct sink *s)
{
	return mqtt_stats(container_of(s, struct mqtt_sink, sink)->mqtt);
}
