/* SPDX-License-Identifier: MIT */
/*
 * One meter of the configuration: its line (source -> parser), its pipeline (anonymisation,
 * index guard, derived values, publish policy) and its sinks (MQTT, the in-memory state).
 * Meters are independent: one failing never disturbs another.
 */
#ifndef LINKYD_METER_H
#define LINKYD_METER_H

#include <stdbool.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"
#include "linkyd/sink.h"

struct meter;

struct meter_callbacks {
	/* Something worth a new STATUS= line changed (line, mode, broker). */
	void (*on_change)(struct meter *m, void *userdata);
	/* meter_close() finished. */
	void (*on_closed)(struct meter *m, void *userdata);
};

/* Start reading cfg's input and connecting to the broker; keep the latest records in store,
 * which must outlive the meter. cfg is one of global's meters; the meter keeps a reference to
 * global (config_ref()) until meter_free(). Returns 0 or -errno. */
int meter_new(struct loop *loop, const struct meter_config *cfg, const struct linkyd_config *global,
              struct state_store *store, const struct meter_callbacks *cb, void *userdata,
              struct meter **ret_meter);

/* Finish the frame under way (part of timeout_ms), stop reading, publish offline, flush,
 * disconnect within timeout_ms; then on_closed, from the loop. */
void meter_close(struct meter *m, unsigned timeout_ms);
bool meter_is_closing(const struct meter *m);

const char *meter_name(const struct meter *m);
const struct meter_config *meter_config(const struct meter *m);

/* NULL-safe; returns NULL. */
struct meter *meter_free(struct meter *m);

#endif
