/* SPDX-License-Identifier: MIT */
/*
 * From a delivered frame to MQTT messages. Home Assistant discovery sees every frame whole, so
 * that a label the policy holds back is never taken for a label the meter stopped sending; the
 * frame topic carries the whole frame whenever at least one label is due, so that consumers
 * (and Home Assistant's templates) always find every label in it; <topic>/<LABEL> carries only
 * the due labels. While the broker is away only frames are queued: they hold every value, and
 * an hour of per-label messages would crowd them out of the queue.
 *
 * The index guard comes first: an energy index it holds back is in nothing published, not even
 * the derived values, which are computed from what it let through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "linkyd/derive.h"
#include "linkyd/json.h"
#include "linkyd/log.h"
#include "linkyd/policy.h"
#include "linkyd/publisher.h"

#define DERIVED_MIN_MS       10000
#define DERIVED_HEARTBEAT_MS 60000
#define ENERGY_MIN_MS        60000

struct publisher {
	const struct meter_config *cfg;
	const struct linkyd_config *global;
	struct mqtt *mqtt;
	struct ha_discovery *ha; /* NULL: no discovery */
	char *ha_status_topic;   /* where Home Assistant says it (re)started */
	struct policy_engine *policy;
	struct anon_key anon_key;
	struct anon_frame *anon; /* the frame with pseudonyms; NULL: not anonymising */
	char *label_topic;       /* "<topic>/" and room for a label */
	size_t label_at;         /* where the label goes in it */
	struct derive *derive;   /* the index guard and the derived values, or NULL */
	char *derived_topic;     /* <topic>/derived */
	char *energy_topic;      /* <topic>/energy */
	uint64_t derived_ms;     /* when <topic>/derived was last published, 0 never */
	uint64_t energy_ms;      /* the same for <topic>/energy */
	bool energy_pending;     /* changed since, not published yet */
	size_t derived_len;
	char derived[DERIVE_JSON_MAX]; /* what <topic>/derived last carried */
	uint64_t guard_log_ms;         /* when a rejected index was last logged */
	int save_error;                /* of the state file, logged on change */
	struct tic_frame kept;         /* the frame without what the guard held back */
	struct tic_group kept_groups[TIC_FRAME_GROUPS];
	bool keep[TIC_FRAME_GROUPS];
	bool due[TIC_FRAME_GROUPS];
	char json[JSON_FRAME_MAX];
};

/* The derived values, and the guard that needs their state, when the meter wants either. */
static int
derive_start(struct publisher *p)
{
	const struct meter_config *cfg = p->cfg;
	struct derive_config dc = {
	    .tariff_names = (const char *const *) cfg->tariff_names,
	    .n_tariff_names = cfg->n_tariff_names,
	    .distributor_names = (const char *const *) cfg->distributor_names,
	    .n_distributor_names = cfg->n_distributor_names,
	};
	char *state_file = NULL;
	int loaded = 0, r;

	if (!cfg->publish.derived && !cfg->publish.index_guard)
		return 0;
	if (asprintf(&p->derived_topic, "%s/derived", cfg->topic) < 0) {
		p->derived_topic = NULL;
		return -ENOMEM;
	}
	if (asprintf(&p->energy_topic, "%s/energy", cfg->topic) < 0) {
		p->energy_topic = NULL;
		return -ENOMEM;
	}
	/* The energy per period is the state worth keeping; the guard alone needs none. */
	if (cfg->publish.derived && p->global->state_dir) {
		if (asprintf(&state_file, "%s/%s.state", p->global->state_dir, cfg->name) < 0)
			return -ENOMEM;
		/* systemd makes it (StateDirectory=); by hand, as root, it may not exist yet. Any
		 * failure shows when the file is first written. */
		(void) mkdir(p->global->state_dir, 0755);
	}
	dc.state_file = state_file;
	r = derive_new(&dc, &p->derive, &loaded);
	if (r == 0 && loaded < 0)
		log_errno(LOG_WARNING, loaded, "meter '%s': %s unreadable, starting afresh",
		          cfg->name, state_file);
	else if (r == 0 && loaded > 0)
		log_info("meter '%s': derived values resumed from %s", cfg->name, state_file);
	free(state_file);
	return r;
}

/* Say that an index was held back, at most once a minute (a broken meter would flood). */
static void
log_guard(struct publisher *p, uint64_t now_ms)
{
	const struct derive_guard_stats *st = derive_guard_stats(p->derive);
	uint64_t total = st->backwards + st->jumps;

	if (p->guard_log_ms && now_ms - p->guard_log_ms < 60000)
		return;
	log_warn("meter '%s': %s %llu not published: %s the last accepted %llu (%llu rejected in "
	         "all)",
	         p->cfg->name, st->last_label ? st->last_label : "index",
	         (unsigned long long) st->last_value,
	         st->last_reason == DERIVE_REJECT_BACKWARDS ? "below" : "implausibly far above",
	         (unsigned long long) st->last_accepted, (unsigned long long) total);
	p->guard_log_ms = now_ms;
}

/* The frame without the groups the guard held back. */
static const struct tic_frame *
kept_frame(struct publisher *p, const struct tic_frame *frame)
{
	unsigned n = 0;

	for (unsigned i = 0; i < frame->n_groups; i++)
		if (p->keep[i])
			p->kept_groups[n++] = frame->groups[i];
	if (n == frame->n_groups)
		return frame;
	p->kept = (struct tic_frame){.mode = frame->mode, .n_groups = n, .groups = p->kept_groups};
	return &p->kept;
}

/* The retained energy per period, if it changed since it was last published: an update the
 * queue refused stays pending. */
static void
publish_energy(struct publisher *p, uint64_t now_ms)
{
	int n;

	p->energy_pending |= derive_energy_changed(p->derive);
	if (mqtt_state(p->mqtt) != MQTT_CONNECTED || !p->energy_pending)
		return;
	n = derive_energy_json(p->derive, p->json, sizeof(p->json));
	if (n >= 0 &&
	    mqtt_publish_live(p->mqtt, p->energy_topic, p->json, (size_t) n, true, -1) == 0) {
		p->energy_ms = now_ms;
		p->energy_pending = false;
	}
}

/* While connected only, like the label topics: the frames queued during an outage are what
 * matters. The derived values change slowly (the power estimate spans a minute): they go out
 * when they changed, at most every DERIVED_MIN_MS, and every DERIVED_HEARTBEAT_MS anyway for
 * Home Assistant's expire_after; the energy, when it changed, at most every ENERGY_MIN_MS
 * (it stays marked changed until then). Two more messages per frame would triple the load. */
static void
publish_derived(struct publisher *p, uint64_t now_ms)
{
	uint64_t since = now_ms - p->derived_ms;
	int n;

	if (mqtt_state(p->mqtt) != MQTT_CONNECTED)
		return;
	/* derive.h promises DERIVE_JSON_MAX is always enough: p->derived has that room. */
	n = derive_json(p->derive, p->json, sizeof(p->derived));
	if (n >= 0 &&
	    (!p->derived_ms || since >= DERIVED_HEARTBEAT_MS ||
	     (since >= DERIVED_MIN_MS &&
	      ((size_t) n != p->derived_len || memcmp(p->json, p->derived, p->derived_len)))) &&
	    mqtt_publish_live(p->mqtt, p->derived_topic, p->json, (size_t) n, false, -1) == 0) {
		p->derived_ms = now_ms;
		p->derived_len = (size_t) n;
		memcpy(p->derived, p->json, (size_t) n);
	}
	if (!p->energy_ms || now_ms - p->energy_ms >= ENERGY_MIN_MS)
		publish_energy(p, now_ms);
}

/* Write the state file when a period ended (or now); a failure is logged when it changes. */
static void
save(struct publisher *p, bool now)
{
	int r = now ? derive_save(p->derive) : derive_save_due(p->derive);

	if (r < 0 && r != p->save_error)
		log_errno(LOG_WARNING, r, "meter '%s': cannot save the derived values in %s",
		          p->cfg->name, p->global->state_dir);
	else if (r >= 0 && p->save_error && (r > 0 || now))
		log_notice("meter '%s': derived values saved again", p->cfg->name);
	/* derive_save_due() says 0 when nothing was due: that proves nothing either way. */
	if (r < 0 || r > 0 || now)
		p->save_error = r < 0 ? r : 0;
}

static int
ha_publish(const char *topic, const char *payload, size_t len, void *ctx)
{
	struct publisher *p = ctx;

	/* Not queued during an outage: the reconnect publishes every declared config again, and
	 * one that could not go out is declared with the next frame. */
	return mqtt_publish_live(p->mqtt, topic, payload, len, true, 1);
}

/* Discovery, and the subscription to Home Assistant's birth message that it needs. */
static int
ha_start(struct publisher *p)
{
	const struct linkyd_config *global = p->global;
	int r;

	if (!global->ha.discovery)
		return 0;
	if (asprintf(&p->ha_status_topic, "%s/status", global->ha.prefix) < 0) {
		p->ha_status_topic = NULL;
		return -ENOMEM;
	}
	r = ha_discovery_new(&global->ha, p->cfg->topic, ha_publish, p, &p->ha);
	if (r == 0)
		r = mqtt_subscribe(p->mqtt, p->ha_status_topic);
	if (r == 0 && global->format != JSON_FORMAT_TYPED)
		log_notice("meter '%s': Home Assistant discovery needs the typed format, none is "
		           "published while the format is raw",
		           p->cfg->name);
	return r;
}

int
publisher_new(const struct meter_config *cfg, const struct linkyd_config *global, struct mqtt *mqtt,
              const struct anon_key *anon, struct publisher **ret)
{
	struct publisher *p = calloc(1, sizeof(*p));
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->cfg = cfg;
	p->global = global;
	p->mqtt = mqtt;
	if (anon) {
		p->anon_key = *anon;
		p->anon = malloc(sizeof(*p->anon));
		if (!p->anon)
			goto out_free;
	}
	p->label_at = strlen(cfg->topic) + 1;
	p->label_topic = malloc(p->label_at + TIC_LABEL_MAX + 1);
	if (!p->label_topic)
		goto out_free;
	memcpy(p->label_topic, cfg->topic, p->label_at - 1);
	p->label_topic[p->label_at - 1] = '/';
	r = policy_engine_new(&cfg->publish, &p->policy);
	if (r == 0)
		r = derive_start(p);
	if (r == 0)
		r = ha_start(p);
	if (r < 0)
		goto out_free;
	*ret = p;
	return 0;

out_free:
	publisher_free(p);
	return r;
}

/* A label as a topic level: '+' and '#' are wildcards and '/' a separator, which no topic
 * published may hold as such: "PJOURF+1" is published on "<topic>/PJOURF_1". */
static void
label_topic_name(char *dst, const char *label)
{
	for (; *label; label++)
		*dst++ = strchr("+#/", *label) ? '_' : *label;
	*dst = '\0';
}

static void
publish_labels(struct publisher *p, const struct tic_frame *frame)
{
	const struct publish_config *pc = &p->cfg->publish;

	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];
		int n;

		if (!p->due[i])
			continue;
		n = json_encode_value(g, p->global->format, p->json, sizeof(p->json));
		if (n < 0)
			continue;
		label_topic_name(p->label_topic + p->label_at, g->label);
		if (mqtt_publish_live(p->mqtt, p->label_topic, p->json, (size_t) n,
		                      pc->label_retain, -1) == -ENOMEM)
			log_err("meter '%s': out of memory queueing %s", p->cfg->name, g->label);
	}
}

/* The frame on <topic>, its due labels on <topic>/<LABEL>. */
static void
publish_frame(struct publisher *p, const struct tic_frame *frame, bool alarm)
{
	int n = json_encode_frame(frame, p->global->format, p->json, sizeof(p->json));

	if (alarm)
		log_info("meter '%s': alarm in a frame, published at once", p->cfg->name);
	if (n < 0)
		log_errno(LOG_ERR, n, "meter '%s': cannot encode a frame", p->cfg->name);
	else if (mqtt_publish(p->mqtt, p->cfg->topic, p->json, (size_t) n, p->global->mqtt.retain) <
	         0)
		log_err("meter '%s': out of memory queueing a frame", p->cfg->name);
	if (p->cfg->publish.label_topics)
		publish_labels(p, frame);
}

void
publisher_frame(struct publisher *p, const struct tic_frame *frame, uint64_t now_ms)
{
	bool alarm = false, derived = p->derive && p->cfg->publish.derived;
	const struct tic_frame *whole;

	/* Before anything reads the frame: discovery takes its serial from it. */
	if (p->anon) {
		if (anon_frame(&p->anon_key, frame, p->anon) < 0) {
			log_err("meter '%s': cannot anonymise a frame, not publishing it",
			        p->cfg->name);
			return;
		}
		frame = &p->anon->frame;
	}
	whole = frame;
	if (p->derive) {
		/* The derived values use what the guard kept, whether or not the frame does. */
		bool guarded = p->cfg->publish.index_guard;

		if (derive_guard(p->derive, frame, now_ms, p->keep) > 0 && guarded)
			log_guard(p, now_ms);
		derive_frame(p->derive, frame, p->keep, now_ms, time(NULL));
		if (guarded)
			frame = kept_frame(p, frame);
		if (derived)
			save(p, false);
	}
	/* Discovery's configs go before the frame, so that HA has the entities for its values. */
	if (p->ha && p->global->format == JSON_FORMAT_TYPED) {
		/* The labels the meter sends: one the guard holds back for a while keeps its entity
		 * (HA ignores a template that renders nothing for a numeric sensor). */
		ha_discovery_frame(p->ha, whole);
		if (derived) {
			struct derive_info info;

			derive_info(p->derive, &info);
			ha_discovery_derived(p->ha, &info, false);
		}
	}
	if (frame->n_groups > 0 && policy_engine_frame(p->policy, frame, now_ms, p->due, &alarm))
		publish_frame(p, frame, alarm);
	/* At their own pace, whatever the policy held back. */
	if (derived)
		publish_derived(p, now_ms);
}

void
publisher_message(struct publisher *p, const char *topic, const void *payload, size_t len,
                  bool retained)
{
	/* A retained "online" arrives with each subscription, right after the connect that
	 * already republished: only a live one means Home Assistant (re)started. */
	if (p->ha && !retained && strcmp(topic, p->ha_status_topic) == 0 && len == 6 &&
	    memcmp(payload, "online", 6) == 0) {
		log_info("meter '%s': Home Assistant is online, publishing discovery again",
		         p->cfg->name);
		publisher_republish(p);
	}
}

void
publisher_republish(struct publisher *p)
{
	struct derive_info info;

	if (!p->ha || p->global->format != JSON_FORMAT_TYPED)
		return;
	ha_discovery_republish(p->ha);
	if (p->derive && p->cfg->publish.derived) {
		derive_info(p->derive, &info);
		ha_discovery_derived(p->ha, &info, true);
	}
}

void
publisher_connected(struct publisher *p)
{
	/* What the queue dropped with the connection, and what a broker that restarted without
	 * its retained messages lost: sent again with the next frame. */
	p->energy_pending = true;
	p->energy_ms = p->derived_ms = 0;
	publisher_republish(p);
}

void
publisher_close(struct publisher *p)
{
	if (!p->derive || !p->cfg->publish.derived)
		return;
	/* The retained energy as it is now, whatever the pace: the next start may be far off. */
	publish_energy(p, p->energy_ms);
	save(p, true);
}

struct publisher *
publisher_free(struct publisher *p)
{
	if (p) {
		policy_engine_free(p->policy);
		ha_discovery_free(p->ha);
		free(p->ha_status_topic);
		derive_free(p->derive);
		free(p->derived_topic);
		free(p->energy_topic);
		free(p->label_topic);
		free(p->anon);
		free(p);
	}
	return NULL;
}
