/* SPDX-License-Identifier: MIT */
/*
 * From a delivered frame to MQTT messages. Home Assistant discovery sees every frame whole, so
 * that a label the policy holds back is never taken for a label the meter stopped sending; the
 * frame topic carries the whole frame whenever at least one label is due, so that consumers
 * (and Home Assistant's templates) always find every label in it; <topic>/<LABEL> carries only
 * the due labels. While the broker is away only frames are queued: they hold every value, and
 * an hour of per-label messages would crowd them out of the queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/json.h"
#include "linkyd/log.h"
#include "linkyd/policy.h"
#include "linkyd/publisher.h"

struct publisher {
	const struct meter_config *cfg;
	const struct linkyd_config *global;
	struct mqtt *mqtt;
	struct ha_discovery *ha;
	struct policy_engine *policy;
	bool anonymise;
	struct anon_key anon_key;
	struct anon_frame *anon; /* the frame with pseudonyms, when anonymising */
	char *label_topic;       /* "<topic>/" and room for a label */
	size_t label_at;         /* where the label goes in it */
	bool due[TIC_FRAME_GROUPS];
	char json[JSON_FRAME_MAX];
};

int
publisher_new(const struct meter_config *cfg, const struct linkyd_config *global, struct mqtt *mqtt,
              struct ha_discovery *ha, const struct anon_key *anon, struct publisher **ret)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (anon) {
		p->anonymise = true;
		p->anon_key = *anon;
		p->anon = malloc(sizeof(*p->anon));
		if (!p->anon) {
			publisher_free(p);
			return -ENOMEM;
		}
	}
	p->cfg = cfg;
	p->global = global;
	p->mqtt = mqtt;
	p->ha = ha;
	p->label_at = strlen(cfg->topic) + 1;
	p->label_topic = malloc(p->label_at + TIC_LABEL_MAX + 1);
	if (!p->label_topic || policy_engine_new(&cfg->publish, &p->policy) < 0) {
		publisher_free(p);
		return -ENOMEM;
	}
	memcpy(p->label_topic, cfg->topic, p->label_at - 1);
	p->label_topic[p->label_at - 1] = '/';
	*ret = p;
	return 0;
}

void
publisher_rebind(struct publisher *p, const struct meter_config *cfg,
                 const struct linkyd_config *global)
{
	p->cfg = cfg;
	p->global = global;
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
		if (mqtt_publish(p->mqtt, p->label_topic, p->json, (size_t) n, pc->label_retain) <
		    0)
			log_err("meter '%s': out of memory queueing %s", p->cfg->name, g->label);
	}
}

void
publisher_frame(struct publisher *p, const struct tic_frame *frame, uint64_t now_ms)
{
	bool alarm = false;
	int n;

	/* Before anything reads the frame: discovery takes its serial from it. */
	if (p->anonymise) {
		if (anon_frame(&p->anon_key, frame, p->anon) < 0) {
			log_err("meter '%s': cannot anonymise a frame, not publishing it",
			        p->cfg->name);
			return;
		}
		frame = &p->anon->frame;
	}
	/* Discovery's configs go before the frame, so that HA has the entities for its values. */
	if (p->ha && p->global->format == JSON_FORMAT_TYPED)
		ha_discovery_frame(p->ha, frame);
	if (!policy_engine_frame(p->policy, frame, now_ms, p->due, &alarm))
		return;
	if (alarm)
		log_info("meter '%s': alarm in a frame, published at once", p->cfg->name);
	n = json_encode_frame(frame, p->global->format, p->json, sizeof(p->json));
	if (n < 0)
		log_errno(LOG_ERR, n, "meter '%s': cannot encode a frame", p->cfg->name);
	else if (mqtt_publish(p->mqtt, p->cfg->topic, p->json, (size_t) n, p->global->mqtt.retain) <
	         0)
		log_err("meter '%s': out of memory queueing a frame", p->cfg->name);
	if (p->cfg->publish.label_topics)
		publish_labels(p, frame);
}

struct publisher *
publisher_free(struct publisher *p)
{
	if (p) {
		policy_engine_free(p->policy);
		free(p->label_topic);
		free(p->anon);
		free(p);
	}
	return NULL;
}
