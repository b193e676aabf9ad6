/* SPDX-License-Identifier: MIT */
/*
 * One meter: its serial line (opened, speed auto-detected, reopened when it comes back), its
 * decoder, and its MQTT client publishing one JSON object per frame. Meters are independent:
 * one failing never disturbs another.
 */
#ifndef LINKYD_METER_H
#define LINKYD_METER_H

#include <stdbool.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"
#include "linkyd/mqtt.h"

struct meter;

struct meter_callbacks {
	/* Something worth a new STATUS= line changed (line, mode, broker). */
	void (*on_change)(struct meter *m, void *userdata);
	/* meter_close() finished. */
	void (*on_closed)(struct meter *m, void *userdata);
};

/* Start reading cfg's input and connecting to the broker. cfg is one of global's meters; the
 * meter keeps a reference to global (config_ref()) until meter_free(). Returns 0 or -errno. */
int meter_new(struct loop *loop, const struct meter_config *cfg, const struct linkyd_config *global,
              const struct meter_callbacks *cb, void *userdata, struct meter **ret_meter);

/* Stop reading, publish offline, flush, disconnect within timeout_ms; then on_closed, maybe
 * from inside this call. */
void meter_close(struct meter *m, unsigned timeout_ms);
bool meter_is_closing(const struct meter *m);

/* One line for STATUS= and logs: "home: standard 9600 Bd, 123 frames, broker connected". */
void meter_describe(const struct meter *m, char *buf, size_t size);

const char *meter_name(const struct meter *m);
const struct meter_config *meter_config(const struct meter *m);

/* NULL-safe; returns NULL. */
struct meter *meter_free(struct meter *m);

#endif
