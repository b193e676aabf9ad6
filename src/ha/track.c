/* SPDX-License-Identifier: MIT */
/*
 * Which Home Assistant entities a meter gets, and when: one per label its frames carry, declared
 * once the serial (ADCO/ADSC) is known, removed after HA_ABSENT_FRAMES counted frames without
 * the label. Overload alarms (ADPS, or ADIR1-3 on a triphasé meter) come and go within minutes:
 * they are declared from the meter's type and never removed, and the short frames that carry
 * ADIRx do not count as absences for the other labels.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/ha.h"

#define ENTRIES (TIC_FRAME_GROUPS + 8)

struct entry {
	char label[TIC_LABEL_MAX + 1];
	const struct tic_label *def;
	bool horodated;
	bool declared;
	bool seen; /* in the current frame */
	unsigned absent;
};

struct ha_discovery {
	char *prefix, *topic;
	int expire_after;
	ha_publish_fn fn;
	void *ctx;
	char serial[HA_SERIAL_SIZE];
	enum tic_mode mode;
	unsigned phases; /* 0 unknown, 1 or 3 (historique: from IINST or IINSTn) */
	bool diagnostics;
	bool derived;         /* the derived values' sensors are declared ... */
	unsigned derived_gen; /* ... as of this derive_info generation */
	struct entry entries[ENTRIES];
	size_t n;
	/* A table label's entry, by identity: index + 1, 0 for none. This runs for every group of
	 * every frame, where a search through the entries cost more than the rest of discovery. */
	uint8_t by_id[TIC_L_COUNT];
};

_Static_assert(ENTRIES < UINT8_MAX, "by_id holds an entry's index + 1 in a byte");

static struct ha_device
device(const struct ha_discovery *d)
{
	return (struct ha_device){.prefix = d->prefix,
	                          .topic = d->topic,
	                          .serial = d->serial,
	                          .mode = d->mode,
	                          .expire_after = d->expire_after};
}

static int
publish(struct ha_discovery *d, struct entry *e, bool remove)
{
	struct ha_device dev = device(d);
	struct ha_label l = {.label = e->label, .def = e->def, .horodated = e->horodated};

	return ha_publish_label(&dev, &l, remove, d->fn, d->ctx);
}

/* The entry of label: a table label's by its identity, any other by name. */
static struct entry *
find(struct ha_discovery *d, const char *label, const struct tic_label *def)
{
	if (def) {
		unsigned i = d->by_id[tic_label_id(def)];

		return i ? &d->entries[i - 1] : NULL;
	}
	for (size_t i = 0; i < d->n; i++)
		if (!d->entries[i].def && strcmp(d->entries[i].label, label) == 0)
			return &d->entries[i];
	return NULL;
}

/* by_id for the entries as they now are. */
static void
index_entries(struct ha_discovery *d)
{
	memset(d->by_id, 0, sizeof(d->by_id));
	for (size_t i = 0; i < d->n; i++)
		if (d->entries[i].def)
			d->by_id[tic_label_id(d->entries[i].def)] = (uint8_t) (i + 1);
}

static struct entry *
add(struct ha_discovery *d, const char *label, const struct tic_label *def)
{
	struct entry *e = find(d, label, def);

	if (e || d->n == ENTRIES || strlen(label) > TIC_LABEL_MAX)
		return e;
	e = &d->entries[d->n++];
	*e = (struct entry){.def = def};
	strcpy(e->label, label);
	if (def)
		d->by_id[tic_label_id(def)] = (uint8_t) d->n;
	return e;
}

static bool
alarm(const struct entry *e)
{
	return e->def && (e->def->flags & TIC_LF_ALARM);
}

/* The alarms a meter of this type may raise, declared before the first overload. */
static void
add_alarms(struct ha_discovery *d)
{
	static const enum tic_label_id mono[] = {TIC_L_ADPS},
	                               tri[] = {TIC_L_ADIR1, TIC_L_ADIR2, TIC_L_ADIR3};
	const enum tic_label_id *ids = d->phases == 3 ? tri : mono;
	size_t n = d->phases == 3 ? 3 : 1;

	if (d->mode != TIC_MODE_HISTORIQUE || d->phases == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct tic_label *def = tic_label_of(ids[i]);

		(void) add(d, def->name, def);
	}
}

/* Forget everything declared for the old serial: another meter is on this line. */
static void
remove_all(struct ha_discovery *d)
{
	struct ha_device dev = device(d);

	for (size_t i = 0; i < d->n; i++)
		if (d->entries[i].declared)
			(void) publish(d, &d->entries[i], true);
	if (d->diagnostics)
		(void) ha_publish_diagnostics(&dev, true, d->fn, d->ctx);
	d->n = 0;
	index_entries(d);
	d->phases = 0;
	d->diagnostics = false;
	d->derived = false;
}

static void
learn(struct ha_discovery *d, const struct tic_frame *frame, bool *ret_counted)
{
	bool counted = true;

	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];
		struct entry *e = add(d, g->label, g->def);

		if (!e)
			continue;
		e->seen = true;
		e->absent = 0;
		e->horodated = g->horodate != NULL;
		if (alarm(e))
			counted = false;
		if (g->def && (g->def->flags & TIC_LF_TRI))
			d->phases = 3;
		else if (d->phases == 0 && g->id == TIC_L_IINST)
			d->phases = 1;
	}
	*ret_counted = counted;
}

/* Count an absence for each label the frame lacked; remove those gone for too long. */
static void
expire(struct ha_discovery *d)
{
	size_t o = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct entry *e = &d->entries[i];

		if (!e->seen && !alarm(e) && ++e->absent >= HA_ABSENT_FRAMES) {
			if (e->declared && d->serial[0])
				(void) publish(d, e, true);
			continue;
		}
		d->entries[o++] = *e;
	}
	if (o != d->n) {
		d->n = o;
		index_entries(d);
	}
}

void
ha_discovery_frame(struct ha_discovery *d, const struct tic_frame *frame)
{
	const char *serial = NULL;
	bool counted;

	for (unsigned i = 0; i < frame->n_groups; i++)
		if (frame->groups[i].id == TIC_L_ADCO || frame->groups[i].id == TIC_L_ADSC)
			serial = frame->groups[i].value;
	if (serial && strcmp(serial, d->serial) != 0) {
		if (d->serial[0])
			remove_all(d);
		strncpy(d->serial, serial, sizeof(d->serial) - 1);
	}
	if (frame->mode != d->mode && d->serial[0] && serial) {
		/* The model names the mode: the device block changes, every config with it. */
		d->mode = frame->mode;
		for (size_t i = 0; i < d->n; i++)
			d->entries[i].declared = false;
		d->diagnostics = false;
		d->derived = false;
	}
	for (size_t i = 0; i < d->n; i++)
		d->entries[i].seen = false;
	learn(d, frame, &counted);
	if (counted)
		expire(d);
	if (!d->serial[0])
		return;
	add_alarms(d);
	for (size_t i = 0; i < d->n; i++) {
		struct entry *e = &d->entries[i];

		if (!e->declared && publish(d, e, false) == 0)
			e->declared = true;
	}
	if (!d->diagnostics) {
		struct ha_device dev = device(d);

		d->diagnostics = ha_publish_diagnostics(&dev, false, d->fn, d->ctx) == 0;
	}
}

void
ha_discovery_republish(struct ha_discovery *d)
{
	struct ha_device dev = device(d);

	if (!d->serial[0])
		return;
	for (size_t i = 0; i < d->n; i++)
		if (d->entries[i].declared)
			(void) publish(d, &d->entries[i], false);
	if (d->diagnostics)
		(void) ha_publish_diagnostics(&dev, false, d->fn, d->ctx);
}

void
ha_discovery_derived(struct ha_discovery *d, const struct derive_info *info, bool again)
{
	struct ha_device dev = device(d);

	if (!d->serial[0] || (!again && d->derived && info->generation == d->derived_gen))
		return;
	if (ha_publish_derived(&dev, info, false, d->fn, d->ctx) == 0) {
		d->derived = true;
		d->derived_gen = info->generation;
	}
}

const char *
ha_discovery_serial(const struct ha_discovery *d)
{
	return d->serial;
}

size_t
ha_discovery_count(const struct ha_discovery *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->entries[i].declared;
	return n;
}

int
ha_discovery_new(const struct ha_config *cfg, const char *topic, ha_publish_fn fn, void *ctx,
                 struct ha_discovery **ret)
{
	struct ha_discovery *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->prefix = strdup(cfg->prefix ? cfg->prefix : CONFIG_DEFAULT_HA_PREFIX);
	d->topic = strdup(topic);
	if (!d->prefix || !d->topic) {
		ha_discovery_free(d);
		return -ENOMEM;
	}
	d->expire_after = cfg->expire_after;
	d->fn = fn;
	d->ctx = ctx;
	*ret = d;
	return 0;
}

struct ha_discovery *
ha_discovery_free(struct ha_discovery *d)
{
	if (!d)
		return NULL;
	free(d->prefix);
	free(d->topic);
	free(d);
	return NULL;
}
