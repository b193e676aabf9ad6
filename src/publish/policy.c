/* SPDX-License-Identifier: MIT */
/*
 * Publish policies. Each label keeps what was last published of it and when: "on change"
 * compares with the last published value, not the last received one, so that a value creeping
 * by less than the dead-band each frame is still published once it has moved by the dead-band.
 * Labels are told apart, and values read, from the parser's typed records (tic.h): a group is
 * of a table label by its identity, and numbers, STGE and RELAIS are never parsed again here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/policy.h"

/* Labels the table does not know, remembered by name; beyond, they are due every frame. */
#define UNKNOWN_MAX 32
/* STGE bits 0-7: dry contact, breaker, cover, over-voltage, overload: a change is an alarm. */
#define STGE_ALARM_BITS 0xffu

struct label_state {
	struct policy policy;
	bool resolved;  /* policy looked up */
	bool published; /* at least once */
	uint64_t at_ms; /* when it was last published */
	uint64_t num;   /* TIC_FMT_DIGITS: the number last published */
	uint8_t len;
	char value[TIC_VALUE_MAX + 1]; /* as last published */
};

struct unknown_label {
	char name[TIC_LABEL_MAX + 1];
	struct label_state state;
};

struct policy_engine {
	struct policy base;       /* the meter's policy */
	struct policy *overrides; /* the per-label ones, copied */
	char (*override_names)[TIC_LABEL_MAX + 1];
	size_t n_overrides;
	bool every_frame; /* every label is due every frame: no state needed */
	bool stge_seen, relais_seen;
	uint32_t stge_bits; /* STGE_ALARM_BITS of the last STGE */
	uint64_t relais;    /* the last RELAIS */
	size_t n_unknown;
	struct unknown_label unknown[UNKNOWN_MAX];
	struct label_state known[]; /* by enum tic_label_id (TIC_L_UNKNOWN's unused) */
};

int
policy_engine_new(const struct publish_config *cfg, struct policy_engine **ret)
{
	struct policy_engine *e;

	e = calloc(1, sizeof(*e) + TIC_L_COUNT * sizeof(e->known[0]));
	if (!e)
		return -ENOMEM;
	e->base = cfg->policy;
	e->n_overrides = cfg->n_labels;
	e->every_frame = cfg->policy.kind == PUBLISH_EVERY_FRAME;
	if (cfg->n_labels) {
		e->overrides = calloc(cfg->n_labels, sizeof(*e->overrides));
		e->override_names = calloc(cfg->n_labels, sizeof(*e->override_names));
		if (!e->overrides || !e->override_names) {
			policy_engine_free(e);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < cfg->n_labels; i++) {
		e->overrides[i] = cfg->labels[i].policy;
		/* The configuration refuses labels over TIC_LABEL_MAX. */
		(void) strncpy(e->override_names[i], cfg->labels[i].label, TIC_LABEL_MAX);
		e->every_frame &= cfg->labels[i].policy.kind == PUBLISH_EVERY_FRAME;
	}
	*ret = e;
	return 0;
}

static const struct policy *
policy_of(const struct policy_engine *e, const char *label)
{
	for (size_t i = e->n_overrides; i-- > 0;)
		if (strcmp(e->override_names[i], label) == 0)
			return &e->overrides[i];
	return &e->base;
}

static struct label_state *
state_of(struct policy_engine *e, const struct tic_group *g)
{
	struct label_state *st = NULL;

	if (tic_label_of((enum tic_label_id) g->id))
		st = &e->known[g->id];
	for (size_t i = 0; !st && i < e->n_unknown; i++)
		if (strcmp(e->unknown[i].name, g->label) == 0)
			st = &e->unknown[i].state;
	if (!st && e->n_unknown < UNKNOWN_MAX) {
		struct unknown_label *u = &e->unknown[e->n_unknown++];

		memcpy(u->name, g->label, g->label_len + 1u);
		st = &u->state;
	}
	if (st && !st->resolved) {
		st->policy = *policy_of(e, g->label);
		st->resolved = true;
	}
	return st;
}

/* Whether a numeric label moved by deadband or more since it was published. */
static bool
moved(const struct label_state *st, const struct tic_group *g, uint64_t deadband)
{
	const struct tic_label *def = tic_label_of((enum tic_label_id) g->id);

	if (deadband == 0 || !def || def->format != TIC_FMT_DIGITS)
		return true;
	return (g->num > st->num ? g->num - st->num : st->num - g->num) >= deadband;
}

static bool
label_due(const struct label_state *st, const struct tic_group *g, uint64_t now_ms)
{
	const struct policy *p = &st->policy;
	uint64_t since = now_ms - st->at_ms;

	if (!st->published || p->kind == PUBLISH_EVERY_FRAME)
		return true;
	if (p->kind == PUBLISH_INTERVAL)
		return since >= (uint64_t) p->interval * 1000;
	/* On change: the value only, not the horodate (DATE's changes every frame). */
	if (since >= (uint64_t) p->heartbeat * 1000)
		return true;
	return (st->len != g->value_len || memcmp(st->value, g->value, g->value_len) != 0) &&
	       moved(st, g, p->deadband);
}

/* Whether g is an alarm, remembering what a change is measured against. */
static bool
alarm(struct policy_engine *e, const struct tic_group *g)
{
	const struct tic_label *def = tic_label_of((enum tic_label_id) g->id);
	bool changed;

	if (!def)
		return false;
	if (def->flags & TIC_LF_ALARM)
		return true;
	if (def->format == TIC_FMT_STGE) {
		changed = e->stge_seen && (g->stge.raw & STGE_ALARM_BITS) != e->stge_bits;
		e->stge_seen = true;
		e->stge_bits = g->stge.raw & STGE_ALARM_BITS;
		return changed || g->stge.overload || g->stge.overvoltage;
	}
	if (def->format == TIC_FMT_RELAIS) {
		changed = e->relais_seen && g->num != e->relais;
		e->relais_seen = true;
		e->relais = g->num;
		return changed;
	}
	return false;
}

bool
policy_engine_frame(struct policy_engine *e, const struct tic_frame *frame, uint64_t now_ms,
                    bool *due, bool *ret_alarm)
{
	bool any = false, alarms = false;

	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];
		struct label_state *st;
		bool urgent;

		if (e->every_frame) {
			due[i] = any = true;
			continue;
		}
		urgent = alarm(e, g);
		st = state_of(e, g);
		due[i] = urgent || !st || label_due(st, g, now_ms);
		alarms |= urgent;
		any |= due[i];
		if (!due[i] || !st)
			continue;
		st->published = true;
		st->at_ms = now_ms;
		st->num = g->num;
		st->len = g->value_len;
		memcpy(st->value, g->value, g->value_len + 1u);
	}
	if (ret_alarm)
		*ret_alarm = alarms;
	return any;
}

struct policy_engine *
policy_engine_free(struct policy_engine *e)
{
	if (e) {
		free(e->overrides);
		free(e->override_names);
		free(e);
	}
	return NULL;
}
