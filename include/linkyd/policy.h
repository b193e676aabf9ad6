/* SPDX-License-Identifier: MIT */
/*
 * The publish policy of one meter: for each frame, which labels are due (every frame, at most
 * every N seconds, or on change with a dead-band and a heartbeat), and whether the frame goes
 * out at all. Alarms are due at once whatever the policy: ADPS/ADIRx, STGE overload or
 * over-voltage, a change of the relay, breaker or cover bits of STGE, a change of RELAIS.
 * No clock here: the caller passes the time, so that tests control it.
 */
#ifndef LINKYD_POLICY_H
#define LINKYD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "linkyd/config.h"
#include "linkyd/tic.h"

struct policy_engine;

/* The policies are copied: cfg need not outlive the engine. Returns 0 or -ENOMEM. */
int policy_engine_new(const struct publish_config *cfg, struct policy_engine **ret);

/* Decide for frame, received at now_ms (any monotonic clock in milliseconds): due[i] (one per
 * group) says whether group i is to be published; a due group counts as published. Returns
 * whether the frame is to be published: at least one group is due. *ret_alarm (if not NULL)
 * says whether an alarm made some group due. */
bool policy_engine_frame(struct policy_engine *e, const struct tic_frame *frame, uint64_t now_ms,
                         bool *due, bool *ret_alarm);

/* NULL-safe; returns NULL. */
struct policy_engine *policy_engine_free(struct policy_engine *e);

#endif
