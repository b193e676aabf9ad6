/* SPDX-License-Identifier: MIT */
/*
 * Every MQTT topic linkyd publishes, and every key of its diagnostics, named here and nowhere
 * else: the MQTT sink publishes on them, Home Assistant's discovery points its entities at them,
 * the configuration keeps meters from publishing on each other's. No I/O, no heap.
 *
 *   <topic>                 the frames
 *   <topic>/status          online / offline (retained; the last will)
 *   <topic>/mode            historique / standard (retained)
 *   <topic>/diagnostics     the line's health (DIAG_* keys)
 *   <topic>/derived         derived values
 *   <topic>/energy          energy per period (retained)
 *   <topic>/<LABEL>         one label's value (label topics)
 *   <prefix>/<component>/linkyd_<serial>/<slug>/config    Home Assistant discovery
 *   <prefix>/status         Home Assistant's own birth and will messages (subscribed)
 */
#ifndef LINKYD_TOPICS_H
#define LINKYD_TOPICS_H

#include <stddef.h>

/* The longest base topic and discovery prefix the configuration takes, and a buffer that holds
 * any topic linkyd builds from them (a Home Assistant config topic: the prefix, a component,
 * "linkyd_" and a serial of up to TIC_VALUE_MAX bytes, an entity's slug). MQTT itself allows
 * 65 535 bytes; no broker or user needs more than these. */
#define TOPIC_BASE_MAX   200
#define TOPIC_PREFIX_MAX 100
#define TOPIC_SIZE       512

/* What a meter publishes besides its frames, each on <topic>/<suffix>. */
enum topic_kind {
	TOPIC_STATUS,
	TOPIC_MODE,
	TOPIC_DIAGNOSTICS,
	TOPIC_DERIVED,
	TOPIC_ENERGY,
};

/* The longest suffix, "/diagnostics", with its NUL. */
#define TOPIC_SUFFIX_MAX 13

/* "<base>/<suffix of kind>" into buf. Returns the length, or -ENOBUFS (buf then holds "") when
 * size is too small. */
int topic_of(const char *base, enum topic_kind kind, char *buf, size_t size);

/* The same, allocated (free() it); NULL when out of memory. */
char *topic_new(const char *base, enum topic_kind kind);

/* A label as a topic level: '+' and '#' are wildcards and '/' a level separator, which no topic
 * published may hold as such: "PJOURF+1" becomes "PJOURF_1". Writes "<base>/<level>" into buf;
 * returns the length or -ENOBUFS. */
int topic_label(const char *base, const char *label, char *buf, size_t size);

/* Home Assistant: "<prefix>/<component>/linkyd_<serial>/<slug>/config", and "<prefix>/status"
 * where Home Assistant announces itself. Return the length or -ENOBUFS. */
int topic_ha_config(const char *prefix, const char *component, const char *serial, const char *slug,
                    char *buf, size_t size);
int topic_ha_status(const char *prefix, char *buf, size_t size);

/* The keys of <topic>/diagnostics. */
#define DIAG_MODE              "mode"       /* absent, detecting, historique, standard */
#define DIAG_SPEED             "speed"      /* Bd, 0 when the source has none */
#define DIAG_LINE              "line"       /* ok, absent, opening, detecting, silent, garbage */
#define DIAG_RECONNECTS        "reconnects" /* a network source's, since start */
#define DIAG_FRAMES_PER_MINUTE "frames_per_minute" /* since the last diagnostics */
#define DIAG_CHECKSUM_ERRORS   "checksum_errors"   /* groups rejected, since start */
#define DIAG_FORMAT_ERRORS     "format_errors"
#define DIAG_LAST_FRAME        "last_frame"     /* ISO 8601 UTC, null before the first */
#define DIAG_LAST_FRAME_AGE    "last_frame_age" /* seconds, null before the first */

#endif
