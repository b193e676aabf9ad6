/* SPDX-License-Identifier: MIT */
/*
 * What one meter publishes for each frame: the frame's JSON on <topic> and each due label on
 * <topic>/<LABEL>, as the meter's publish policy says, and what Home Assistant discovery needs
 * to know of it. The meter (meter.c) owns the line and the MQTT client; this owns the rest.
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

/* cfg and global as for meter_new(); mqtt and ha (NULL: no discovery) must outlive it; anon
 * (copied; NULL: none) is the key that replaces the meter's identifiers in everything published.
 * Returns 0 or -ENOMEM. */
int publisher_new(const struct meter_config *cfg, const struct linkyd_config *global,
                  struct mqtt *mqtt, struct ha_discovery *ha, const struct anon_key *anon,
                  struct publisher **ret);

/* An equal configuration replaced the one publisher_new() had (reload). */
void publisher_rebind(struct publisher *p, const struct meter_config *cfg,
                      const struct linkyd_config *global);

/* A frame arrived at now_ms (loop_now_ms()). */
void publisher_frame(struct publisher *p, const struct tic_frame *frame, uint64_t now_ms);

/* Home Assistant's configs again: the broker or Home Assistant may have lost them. */
void publisher_republish(struct publisher *p);

/* The meter stops: save what must survive a restart (the derived values' state file). */
void publisher_close(struct publisher *p);

/* NULL-safe; returns NULL. */
struct publisher *publisher_free(struct publisher *p);

#endif
