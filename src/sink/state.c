/* SPDX-License-Identifier: MIT */
/*
 * The state sink: the latest frame, derived values and counters of every meter, kept in memory
 * for what asks later (systemd's STATUS= line, the HTTP API) rather than for what publishes now.
 * One entry per live sink; a frame is copied whole, strings included, so that it stays readable
 * after the parser moved on. Nothing is allocated per frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/sink.h"

struct state_sink {
	struct sink sink;
	struct state_store *store;
	struct state_meter meter;
	char *name;
};

struct state_store {
	struct state_sink **meters;
	size_t n, cap;
};

static struct state_sink *
state_sink_of(struct sink *s)
{
	return container_of(s, struct state_sink, sink);
}

/* A copy of f into out, its strings into out->bytes, in the order the parser stored them. */
static void
copy_frame(struct state_frame *out, const struct tic_frame *f)
{
	size_t used = 0;

	out->frame = (struct tic_frame){.mode = f->mode, .groups = out->groups};
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];
		size_t need = g->label_len + 1u + g->value_len + 1u +
		              (g->horodate ? TIC_HORODATE_LEN + 1u : 0);
		struct tic_group *c = &out->groups[out->frame.n_groups];
		char *p = out->bytes + used;

		/* The parser's frames fit (their bytes are bounded the same way); a frame built by
		 * other means keeps what fits. */
		if (used + need > sizeof(out->bytes))
			break;
		*c = *g;
		c->label = memcpy(p, g->label, g->label_len + 1u);
		p += g->label_len + 1u;
		c->value = memcpy(p, g->value, g->value_len + 1u);
		p += g->value_len + 1u;
		if (g->horodate)
			c->horodate = memcpy(p, g->horodate, TIC_HORODATE_LEN + 1u);
		used += need;
		out->frame.n_groups++;
	}
}

/* A three-phase historique meter's short frame, sent during an overload (docs/tic.md §6). */
static bool
short_frame(const struct tic_frame *f)
{
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_label *def = f->groups[i].def;

		if (def &&
		    (def->flags & (TIC_LF_ALARM | TIC_LF_TRI)) == (TIC_LF_ALARM | TIC_LF_TRI))
			return true;
	}
	return false;
}

static void
keep_frame(struct state_frame *out, const struct sink_frame *f)
{
	copy_frame(out, f->whole);
	out->mono_ms = f->mono_ms;
	out->wall = f->wall;
}

static void
on_frame(struct sink *s, const struct sink_frame *f)
{
	struct state_meter *m = &state_sink_of(s)->meter;

	keep_frame(&m->latest, f);
	m->has_frame = true;
	m->frames++;
	if (!short_frame(f->whole)) {
		keep_frame(&m->complete, f);
		m->has_complete = true;
	}
}

static void
on_derived(struct sink *s, const struct sink_derived *d)
{
	struct state_meter *m = &state_sink_of(s)->meter;
	const struct derive_guard_stats *g = derive_guard_stats(d->derive);
	int n = derive_json(d->derive, m->derived, sizeof(m->derived));

	m->derived_len = n > 0 ? (size_t) n : 0;
	derive_power(d->derive, &m->power);
	m->index_rejected = g->backwards + g->jumps;
}

static void
on_line(struct sink *s, const struct line_status *st)
{
	state_sink_of(s)->meter.line = st;
}

static void
on_free(struct sink *s)
{
	struct state_sink *ss = state_sink_of(s);
	struct state_store *st = ss->store;

	for (size_t i = 0; i < st->n; i++)
		if (st->meters[i] == ss) {
			memmove(&st->meters[i], &st->meters[i + 1],
			        (st->n - i - 1) * sizeof(*st->meters));
			st->n--;
			break;
		}
	free(ss->name);
	free(ss);
}

static const struct sink_ops state_sink_ops = {
    .frame = on_frame,
    .derived = on_derived,
    .line = on_line,
    .close = sink_close_at_once,
    .free = on_free,
};

int
state_sink_new(struct state_store *st, const char *name, const struct sink *mqtt, struct sink **ret)
{
	struct state_sink *ss;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 4;
		struct state_sink **all = realloc(st->meters, cap * sizeof(*all));

		if (!all)
			return -ENOMEM;
		st->meters = all;
		st->cap = cap;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss || !(ss->name = strdup(name))) {
		free(ss);
		return -ENOMEM;
	}
	ss->sink.ops = &state_sink_ops;
	ss->store = st;
	ss->meter.name = ss->name;
	ss->meter.mqtt = mqtt;
	st->meters[st->n++] = ss;
	*ret = &ss->sink;
	return 0;
}

int
state_store_new(struct state_store **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

size_t
state_store_count(const struct state_store *st)
{
	return st->n;
}

const struct state_meter *
state_store_at(const struct state_store *st, size_t i)
{
	return &st->meters[i]->meter;
}

const struct state_meter *
state_store_find(const struct state_store *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->meters[i]->name, name) == 0)
			return &st->meters[i]->meter;
	return NULL;
}

void
state_describe(const struct state_meter *m, char *buf, size_t size)
{
	const struct line_status *st = m->line;
	struct mqtt_stats ms = m->mqtt ? mqtt_sink_stats(m->mqtt) : (struct mqtt_stats){0};
	uint64_t rejected = 0;
	const char *line;

	if (!st) {
		snprintf(buf, size, "%s: starting", m->name);
		return;
	}
	for (int i = 0; i < TIC_ERR_COUNT; i++)
		rejected += st->stats->errors[i];
	switch (st->state) {
	case LINE_ABSENT:
	case LINE_OPENING:
		line = "device absent";
		break;
	case LINE_DETECTING:
		line = st->garbage ? "no valid frame" : "detecting";
		break;
	case LINE_SILENT:
		line = "no valid frame";
		break;
	default:
		line = st->mode == TIC_MODE_STANDARD ? "standard" : "historique";
		break;
	}
	snprintf(buf, size, "%s: %s %u Bd, %llu frames, %llu rejected, broker %s, %zu queued",
	         m->name, line, st->baud, (unsigned long long) st->stats->frames,
	         (unsigned long long) rejected,
	         !m->mqtt                       ? "none"
	         : mqtt_sink_connected(m->mqtt) ? "connected"
	                                        : "unreachable",
	         ms.pending);
}

struct state_store *
state_store_free(struct state_store *st)
{
	if (st) {
		free(st->meters);
		free(st);
	}
	return NULL;
}
