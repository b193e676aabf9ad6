/* SPDX-License-Identifier: MIT */
/*
 * Checked reads of libconfig settings (setting.c), for read.c and publish.c. Every function
 * returns 0 or -EINVAL with l->err holding "FILE:LINE: path: what was expected" (or -ENOMEM).
 */
#ifndef LINKYD_CONFIG_SETTING_H
#define LINKYD_CONFIG_SETTING_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "config-internal.h"

struct load {
	const char *path; /* libconfig leaves the file of the main stream's settings NULL */
	char *err;
	size_t err_size;
	struct linkyd_config *c;            /* the scratch copy being filled */
	const config_setting_t **meter_src; /* each meter's group, when meters came from the file */
};

/* "a group", "an integer"...: what s is, for "expected X, not Y". */
const char *cfg_type_name(const config_setting_t *s);

/* One error line about setting s (plus suffix, for a member it lacks). Returns -EINVAL. */
int __attribute__((format(printf, 4, 5)))
cfg_fail(struct load *l, const config_setting_t *s, const char *suffix, const char *fmt, ...);

/* "unknown setting". */
int cfg_unknown(struct load *l, const config_setting_t *s);

/* s must be a group. */
int cfg_expect_group(struct load *l, const config_setting_t *s);

/* A non-empty string; expect says what was wanted. The string belongs to the config_t. */
int cfg_get_string(struct load *l, const config_setting_t *s, const char *expect,
                   const char **ret_value);

/* A string setting copied into *field. */
int cfg_get_str_field(struct load *l, const config_setting_t *s, char **field);

/* An integer within min..max (floats refused rather than truncated). */
int cfg_get_int(struct load *l, const config_setting_t *s, long long min, long long max,
                const char *expect, long long *ret_value);

int cfg_get_bool(struct load *l, const config_setting_t *s, bool *ret_value);

/* Reads a setting cfg_parse_publish() does not know; returns 0 or -EINVAL. */
typedef int (*cfg_setting_fn)(struct load *l, const config_setting_t *s);

/* Read a publish group's policy, labels, label_topics and label_retain over p (publish.c);
 * other (NULL: none) reads the rest of the group's settings. */
int cfg_parse_publish(struct load *l, const config_setting_t *g, struct publish_config *p,
                      cfg_setting_fn other);

#endif
