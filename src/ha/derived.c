/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant sensors for the derived values (include/linkyd/derive.h), beside the meter's
 * own: their names say "(estimated)" or "(derived)" and their unique ids "derived_", so that
 * nobody takes them for what the meter said.
 *
 * Energy per hour, day and month restarts from zero at each period: not total_increasing
 * (which HA reads as a meter that only grows, a drop meaning a new meter), but state_class
 * "total" with last_reset_value_template pointing at the period's start, the form HA documents
 * for a total with known meter cycles.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "linkyd/ha.h"
#include "linkyd/topics.h"

#define TEXT_SIZE     160
#define ENERGY_PERIOD 3

struct publisher {
	const struct ha_device *dev;
	bool remove;
	ha_publish_fn fn;
	void *ctx;
	int first; /* the first error */
};

static void
publish(struct publisher *p, const struct ha_entity *e)
{
	int r = ha_publish_entity(p->dev, e, p->remove, p->fn, p->ctx);

	if (r < 0 && p->first == 0)
		p->first = r;
}

/* e with the template of the value at keys, or the error. */
static void
publish_value(struct publisher *p, struct ha_entity *e, const char *const *keys, size_t n)
{
	char tpl[HA_TEMPLATE_SIZE];
	int r = ha_template(tpl, sizeof(tpl), keys, n, "", "",
	                    ha_absent(e->device_class, e->state_class, e->unit));

	if (r < 0) {
		if (p->first == 0)
			p->first = r;
		return;
	}
	e->value_template = tpl;
	publish(p, e);
}

/* A sensor of <topic>/derived, which is published with every frame; key2 is NULL or a key in
 * key's object. Keys come and go with what the frames told so far (load_pct's phases). */
static void
live(struct publisher *p, const char *topic, const char *slug, const char *name, const char *key,
     const char *key2, const char *device_class, const char *unit)
{
	const char *keys[] = {key, key2};
	struct ha_entity e = {.component = "sensor",
	                      .slug = slug,
	                      .name = name,
	                      .state_topic = topic,
	                      .device_class = device_class,
	                      .state_class = unit ? "measurement" : NULL,
	                      .unit = unit,
	                      .expire = true};

	publish_value(p, &e, keys, key2 ? 2 : 1);
}

static void
publish_live(struct publisher *p, const struct derive_info *info)
{
	static const char *const colours[] = {"none", "bleu", "blanc", "rouge", NULL};
	static const char *const rejected[] = {"index_rejected"};
	char topic[TOPIC_SIZE], slug[32], name[TEXT_SIZE], phase[4];

	(void) topic_of(p->dev->topic, TOPIC_DERIVED, topic, sizeof(topic));
	if (info->power)
		live(p, topic, "derived_power", "Active power (estimated)", "power_w", NULL,
		     "power", "W");
	if (info->injection)
		live(p, topic, "derived_injected_power", "Injected power (estimated)",
		     "injected_power_w", NULL, "power", "W");
	for (unsigned i = 1; i <= info->phases; i++) {
		snprintf(slug, sizeof(slug), "derived_load_%u", i);
		if (info->phases == 1)
			snprintf(name, sizeof(name), "Load (derived)");
		else
			snprintf(name, sizeof(name), "Load phase %u (derived)", i);
		snprintf(phase, sizeof(phase), "%u", i);
		live(p, topic, slug, name, "load_pct", phase, NULL, "%");
	}
	if (info->tariff)
		live(p, topic, "derived_tariff", "Tariff period (derived)", "tariff", NULL, NULL,
		     NULL);
	for (int tomorrow = 0; info->tempo && tomorrow <= 1; tomorrow++) {
		const char *key = tomorrow ? "tempo_tomorrow" : "tempo_today";
		struct ha_entity e = {.component = "sensor",
		                      .slug = tomorrow ? "derived_tempo_tomorrow"
		                                       : "derived_tempo_today",
		                      .name = tomorrow ? "Tempo colour tomorrow (derived)"
		                                       : "Tempo colour today (derived)",
		                      .state_topic = topic,
		                      .device_class = "enum",
		                      .options = colours,
		                      .expire = true};

		publish_value(p, &e, &key, 1);
	}
	{
		struct ha_entity e = {.component = "sensor",
		                      .slug = "derived_index_rejected",
		                      .name = "Index values rejected",
		                      .state_topic = topic,
		                      .state_class = "total_increasing",
		                      .diagnostic = true};

		publish_value(p, &e, rejected, 1);
	}
}

/* An energy sensor of <topic>/energy: the value at key (and key2, if not NULL) in the period's
 * object. A register appears there once its index moved. No expire_after: the topic is
 * retained and only changes when an index moves. */
static void
energy(struct publisher *p, const char *topic, const char *period, const char *slug,
       const char *name, const char *key, const char *key2)
{
	const char *keys[] = {period, key, key2}, *start[] = {period, "start"};
	char reset[HA_TEMPLATE_SIZE];
	struct ha_entity e = {.component = "sensor",
	                      .slug = slug,
	                      .name = name,
	                      .state_topic = topic,
	                      .device_class = "energy",
	                      .state_class = "total",
	                      .unit = "Wh",
	                      .last_reset_template = reset};
	/* HA ignores an empty last_reset as it does an empty number. */
	int r = ha_template(reset, sizeof(reset), start, 2, "", "", HA_ABSENT_IGNORED);

	if (r < 0) {
		if (p->first == 0)
			p->first = r;
		return;
	}
	publish_value(p, &e, keys, key2 ? 3 : 2);
}

static void
publish_energy(struct publisher *p, const struct derive_info *info)
{
	static const char *const periods[ENERGY_PERIOD] = {"hour", "day", "month"};
	static const char *const when[ENERGY_PERIOD] = {"this hour", "today", "this month"};
	char topic[TOPIC_SIZE], slug[HA_SLUG_SIZE + 48], name[TEXT_SIZE];

	(void) topic_of(p->dev->topic, TOPIC_ENERGY, topic, sizeof(topic));
	for (int k = 0; k < ENERGY_PERIOD; k++) {
		snprintf(slug, sizeof(slug), "derived_energy_%s", periods[k]);
		snprintf(name, sizeof(name), "Energy %s (derived)", when[k]);
		energy(p, topic, periods[k], slug, name, "total", NULL);
		/* Per period and tariff: today and this month, an hour's split says little. */
		for (size_t i = 0; k > 0 && i < info->n_registers; i++) {
			const struct derive_register_info *r = &info->registers[i];
			char label[HA_SLUG_SIZE];

			if (!r->tariff)
				continue;
			(void) ha_slug(r->label, label);
			snprintf(slug, sizeof(slug), "derived_energy_%s_%s", periods[k], label);
			snprintf(name, sizeof(name), "Energy %s %s (derived)", when[k], r->name);
			energy(p, topic, periods[k], slug, name, "registers", r->label);
		}
		if (info->injection && k > 0) {
			snprintf(slug, sizeof(slug), "derived_injected_energy_%s", periods[k]);
			snprintf(name, sizeof(name), "Injected energy %s (derived)", when[k]);
			energy(p, topic, periods[k], slug, name, "injected", NULL);
		}
	}
}

int
ha_publish_derived(const struct ha_device *dev, const struct derive_info *info, bool remove,
                   ha_publish_fn fn, void *ctx)
{
	struct publisher p = {.dev = dev, .remove = remove, .fn = fn, .ctx = ctx};

	publish_live(&p, info);
	publish_energy(&p, info);
	return p.first;
}
