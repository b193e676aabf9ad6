/* SPDX-License-Identifier: MIT */
/*
 * What one meter publishes for each frame: the frame's JSON on <topic> and each due label on
 * <topic>/<LABEL>, as the meter's publish policy says, its derived values, and its Home
 * Assistant discovery. The meter (meter.c) owns the line and the MQTT client; this the rest.
 */
#ifndef LINKYD_PUBLISHER_H
#define LINKYD_PUBLISHER_H

#include <stdint.h>

#include "linkyd/anon.h"
#include "linkyd/config.h"
#include "linkyd/ha.h"
#include "linkyd/mqtt.h"
#include "linkyd/tic.h"

struct publisher;

/* cfg and global as for meter_new(); mqtt must outlive it; anon (copied; NULL: none) is the key
 * that replaces the meter's identifiers in everything published. Subscribes to Home
 * Assistant's status when discovery is on. Returns 0 or -errno. */
int publisher_new(const struct meter_config *cfg, const struct linkyd_config *global,
                  struct mqtt *mqtt, const struct anon_key *anon, struct publisher **ret);

/* A frame arrived at now_ms (loop_now_ms()). */
void publisher_frame(struct publisher *p, const struct tic_frame *frame, uint64_t now_ms);

/* A message on a subscribed topic (Home Assistant announcing itself). */
void publisher_message(struct publisher *p, const char *topic, const void *payload, size_t len,
                       bool retained);

/* Home Assistant's configs again: the broker or Home Assistant may have lost them. */
void publisher_republish(struct publisher *p);

/* The broker is (again) connected: discovery configs again, the derived values with the next
 * frame. */
void publisher_connected(struct publisher *p);

/* The meter stops: save what must survive a restart (the derived values' state file). */
void publisher_close(struct publisher *p);

/* NULL-safe; returns NULL. */
struct publisher *publisher_free(struct publisher *p);

#endif
