/* SPDX-License-Identifier: MIT */
/*
 * What discovery.c and derived.c share: the form of every value template, which names what it
 * renders when its key is missing from a payload (a group dropped by validation, an index the
 * guard holds back, the short frames of an overloaded triphasé meter, a derived value not known
 * yet), so that Home Assistant keeps the entity's state and logs nothing.
 */
#ifndef LINKYD_HA_INTERNAL_H
#define LINKYD_HA_INTERNAL_H

#include <stddef.h>

/* Enough for the longest: three keys, a 16-character label, HA_ABSENT_KEEP and a filter. */
#define HA_TEMPLATE_SIZE 512

/* What to render without the value. Home Assistant's rules (tests/unit/test_ha_templates.py
 * cites its code): a sensor that expects a number, a binary sensor and last_reset ignore an
 * empty rendering, at debug level; a text, enum or timestamp sensor takes any rendering for its
 * new state, so it is given its own state back, or "None" (unknown) when it has none (unknown,
 * or unavailable once expired): an enum's options and a timestamp's parser would reject
 * "unknown" with a warning. */
#define HA_ABSENT_IGNORED "''"
#define HA_ABSENT_KEEP    "this.state if this.state not in ['unknown', 'unavailable'] else 'None'"

/* HA_ABSENT_IGNORED for a sensor Home Assistant holds to be numeric (a state class, a unit, or
 * a device class other than timestamp, date and enum), HA_ABSENT_KEEP for any other. */
const char *ha_absent(const char *device_class, const char *state_class, const char *unit);

/* Write the Jinja expression "<pre>REF<post> if DEFINED else <absent>", where REF reads
 * value_json.keys[0].keys[1]... and DEFINED checks each step of it, so that nothing touches a
 * missing key (an undefined value is a warning in HA's log, an attribute of one an error), in
 * the form Domoticz's reading of HA templates (README) cuts to REF. Returns the length, or
 * -ENOBUFS when buf is too small. */
int ha_guarded(char *buf, size_t size, const char *const *keys, size_t n, const char *pre,
               const char *post, const char *absent);

/* The same expression as a whole template, "{{ ... }}". */
int ha_template(char *buf, size_t size, const char *const *keys, size_t n, const char *pre,
                const char *post, const char *absent);

#endif
