/* SPDX-License-Identifier: MIT */
/*
 * Where a meter's frames go, behind a table of operations (rtl_433's outputs): the MQTT
 * publisher (sink/mqtt.c), the in-memory state that the HTTP API and systemd's STATUS= read
 * (sink/state.c). The pipeline hands every sink the same records, once each: a frame with what
 * the index guard and the publish policy made of it, the derived values after it, the line's
 * status when it changes. What a sink does with them (publish now, at its own pace, keep the
 * latest) is its own business.
 */
#ifndef LINKYD_SINK_H
#define LINKYD_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/config.h"
#include "linkyd/derive.h"
#include "linkyd/line.h"
#include "linkyd/loop.h"
#include "linkyd/mqtt.h"
#include "linkyd/tic.h"

/* One frame, as every sink sees it. Valid during the call only. */
struct sink_frame {
	const struct tic_frame *whole; /* every valid group (identifiers pseudonymised if asked) */
	const struct tic_frame *kept;  /* without the indexes the index guard holds back */
	const bool *due;               /* per group of kept: due by the publish policy */
	bool publish;                  /* the policy says the frame goes out: a group is due */
	bool alarm;                    /* an alarm made some group due */
	uint64_t mono_ms;              /* when it arrived (loop_now_ms()) */
	time_t wall;
};

/* The derived values after a frame, or at close. */
struct sink_derived {
	struct derive *derive; /* owned by the pipeline, which outlives its sinks */
	bool energy_changed;   /* the energy per period changed since the last call */
	uint64_t mono_ms;
};

struct sink;

struct sink_ops {
	void (*frame)(struct sink *s, const struct sink_frame *f);
	/* After each frame, when the meter computes derived values. NULL: not wanted. */
	void (*derived)(struct sink *s, const struct sink_derived *d);
	/* The line's status changed; st stays valid (and current) until the sink is freed. NULL:
	 * not wanted. */
	void (*line)(struct sink *s, const struct line_status *st);
	/* The meter stops: flush what must not be lost and say goodbye within timeout_ms, then
	 * call sink_closed(), maybe from inside this call. last: the derived values as they end
	 * (NULL without derived values). */
	void (*close)(struct sink *s, const struct sink_derived *last, unsigned timeout_ms);
	void (*free)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	/* Set by the owner before close(). */
	void (*on_closed)(struct sink *s, void *owner);
	void *owner;
};

/* For sinks: close() is over. */
static inline void
sink_closed(struct sink *s)
{
	if (s->on_closed)
		s->on_closed(s, s->owner);
}

/* A close() for sinks with nothing to flush: over at once. */
static inline void
sink_close_at_once(struct sink *s, const struct sink_derived *last, unsigned timeout_ms)
{
	(void) last;
	(void) timeout_ms;
	sink_closed(s);
}

/* NULL-safe; returns NULL. */
static inline struct sink *
sink_free(struct sink *s)
{
	if (s)
		s->ops->free(s);
	return NULL;
}

/* ---- sink/mqtt.c: the MQTT publisher ------------------------------------------------------- */

/* Publish meter m's records (m and c must outlive the sink) through a client of its own, with
 * Home Assistant discovery when c says so. on_change (may be NULL) runs when the connection to
 * the broker comes or goes. Returns 0 or -errno. */
int mqtt_sink_new(struct loop *loop, const struct meter_config *m, const struct linkyd_config *c,
                  void (*on_change)(void *userdata), void *userdata, struct sink **ret);
bool mqtt_sink_connected(const struct sink *s);
struct mqtt_stats mqtt_sink_stats(const struct sink *s);

/* ---- sink/state.c: the latest of every meter, in memory ----------------------------------- */

/* A frame kept whole, its strings with it. */
struct state_frame {
	struct tic_frame frame;
	uint64_t mono_ms;
	time_t wall;
	struct tic_group groups[TIC_FRAME_GROUPS];
	char bytes[TIC_FRAME_BYTES];
};

/* What is known of one meter. */
struct state_meter {
	const char *name;
	const struct line_status *line; /* NULL before the first status */
	uint64_t frames;                /* delivered to the sinks */
	bool has_frame;
	struct state_frame latest; /* whole: every valid group of the last frame */
	/* The last frame that is not a three-phase meter's short overload frame (ADIRn, ADCO,
	 * IINSTn only): where what the others carry (tariff, indexes) is up to date. */
	bool has_complete;
	struct state_frame complete;
	size_t derived_len;            /* 0: no derived values (yet) */
	char derived[DERIVE_JSON_MAX]; /* derive_json() after the last frame */
	struct derive_power power;     /* derive_power() after the last frame */
	uint64_t index_rejected;       /* by the index guard */
	const struct sink *mqtt;       /* the meter's MQTT sink, NULL: none */
};

struct state_store;

/* Returns 0 or -ENOMEM. */
int state_store_new(struct state_store **ret);

/* The meters whose sinks live, in the order they were created. */
size_t state_store_count(const struct state_store *st);
const struct state_meter *state_store_at(const struct state_store *st, size_t i);
const struct state_meter *state_store_find(const struct state_store *st, const char *name);

/* One line for STATUS= and logs: "home: standard 9600 Bd, 123 frames, 0 rejected, broker
 * connected, 0 queued". */
void state_describe(const struct state_meter *m, char *buf, size_t size);

/* NULL-safe; returns NULL. Every sink of the store must be freed first. */
struct state_store *state_store_free(struct state_store *st);

/* A sink keeping meter name's latest records in st (name is copied); mqtt (may be NULL) is the
 * meter's MQTT sink, whose connection the state tells too. Its close is immediate. Returns 0 or
 * -ENOMEM. */
int state_sink_new(struct state_store *st, const char *name, const struct sink *mqtt,
                   struct sink **ret);

#endif
