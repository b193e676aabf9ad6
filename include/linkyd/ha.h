/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant MQTT discovery for one meter: which entities its frames call for (track.c) and
 * their retained config payloads (discovery.c, the only user of cJSON). No MQTT client here: the
 * owner hands a publish function, so that the rules can be tested without a broker.
 */
#ifndef LINKYD_HA_H
#define LINKYD_HA_H

#include <stdbool.h>
#include <stddef.h>

#include "linkyd/config.h"
#include "linkyd/derive.h"
#include "linkyd/tic.h"

/* Labels absent from this many consecutive counted frames lose their entity. Frames carrying an
 * alarm label (ADPS, ADIRx: the short frames of an overloaded triphasé meter) are not counted. */
#define HA_ABSENT_FRAMES 10
#define HA_SLUG_SIZE     (TIC_LABEL_MAX * 7 + 1) /* every character "_minus_" */
#define HA_SERIAL_SIZE   (TIC_VALUE_MAX + 1)

/* Publish a retained QoS 1 message (len 0: delete a config). Returns 0 or -errno. */
typedef int (*ha_publish_fn)(const char *topic, const char *payload, size_t len, void *ctx);

/* ---- discovery.c: payloads ------------------------------------------------------------------ */

/* What every config of a meter's device shares. */
struct ha_device {
	const char *prefix; /* discovery prefix */
	const char *topic;  /* the meter's topic: frames; <topic>/status, <topic>/diagnostics */
	const char *serial; /* ADCO/ADSC */
	enum tic_mode mode; /* for the model */
	int expire_after;   /* seconds, 0 = none */
};

/* One label the meter sends. */
struct ha_label {
	const char *label;
	const struct tic_label *def; /* NULL: unknown label, a plain text sensor */
	bool horodated;              /* its groups carry a horodate: {"value":..,"date":..} */
};

/* "pjourf_plus_1" for "PJOURF+1": lower case, '+' -> "_plus_", '-' -> "_minus_", other
 * characters outside [a-z0-9_] -> '_'. buf has HA_SLUG_SIZE bytes. Returns the length. */
size_t ha_slug(const char *label, char *buf);

/* "linkyd_<serial>_<slug>": the entity's unique_id, never to change (HA keeps its statistics
 * under it). buf has size bytes. Returns the length, or -ENOBUFS. */
int ha_unique_id(const char *serial, const char *slug, char *buf, size_t size);

/* The Jinja value_template of a label in the typed JSON format. Without the label in a frame it
 * renders what makes Home Assistant keep the entity's state and log nothing (0 for an alarm).
 * Returns the length or -ENOBUFS. */
int ha_value_template(const struct ha_label *l, char *buf, size_t size);

/* Publish the config(s) of a label (STGE has several), or with remove their empty retained
 * payloads. Returns 0 or the first error. */
int ha_publish_label(const struct ha_device *dev, const struct ha_label *l, bool remove,
                     ha_publish_fn fn, void *ctx);

/* One entity of the device described by data (the diagnostics, the derived values). */
struct ha_entity {
	const char *component; /* "sensor" */
	const char *slug;      /* after "linkyd_<serial>_" in the unique_id; topic level */
	const char *name;
	const char *state_topic;
	const char *value_template;
	const char *device_class, *state_class, *unit; /* NULL: none */
	const char *last_reset_template;               /* state_class "total" only */
	const char *const *options;                    /* device_class "enum": NULL-terminated */
	bool diagnostic;                               /* entity_category */
	bool expire;                                   /* with the device's expire_after */
};

/* Publish e's config, or with remove its empty retained payload. Returns 0 or -errno. */
int ha_publish_entity(const struct ha_device *dev, const struct ha_entity *e, bool remove,
                      ha_publish_fn fn, void *ctx);

/* The line's diagnostic sensors, reading <topic>/diagnostics. */
int ha_publish_diagnostics(const struct ha_device *dev, bool remove, ha_publish_fn fn, void *ctx);

/* ---- derived.c: the derived values' sensors ---------------------------------------------------
 */

/* The sensors of what info says the derived topics carry: <topic>/derived (estimated power,
 * load per phase, tariff period, Tempo colours, rejected index values) and <topic>/energy
 * (energy this hour, today and this month, in total and per tariff period; injected energy).
 * Unique ids "linkyd_<serial>_derived_<what>"; names say "(estimated)" or "(derived)". Call
 * again when info->generation changes (names may be learned later: same unique ids, new
 * names), and with remove to delete them. Returns 0 or the first error. */
int ha_publish_derived(const struct ha_device *dev, const struct derive_info *info, bool remove,
                       ha_publish_fn fn, void *ctx);

/* ---- track.c: which entities, when ------------------------------------------------------------
 */

struct ha_discovery;

/* Copies cfg's prefix and expiry and the meter's topic. Returns 0 or -ENOMEM. */
int ha_discovery_new(const struct ha_config *cfg, const char *topic, ha_publish_fn fn, void *ctx,
                     struct ha_discovery **ret);

/* A frame arrived: learn the serial and the labels, declare new entities, remove vanished ones. */
void ha_discovery_frame(struct ha_discovery *d, const struct tic_frame *frame);

/* Publish every declared config again: the broker or Home Assistant may have lost them. */
void ha_discovery_republish(struct ha_discovery *d);

/* Declare the derived values' sensors info describes, once the serial is known, when its
 * generation changed since, or again (reconnect, HA back online). A new serial or mode declares
 * them afresh; those of an old serial are left (they go unavailable with it). */
void ha_discovery_derived(struct ha_discovery *d, const struct derive_info *info, bool again);

/* The serial, "" until a frame gave it. */
const char *ha_discovery_serial(const struct ha_discovery *d);

/* Number of label entities declared (alarms included, STGE's extras and diagnostics not). */
size_t ha_discovery_count(const struct ha_discovery *d);

/* NULL-safe; returns NULL. */
struct ha_discovery *ha_discovery_free(struct ha_discovery *d);

#endif
