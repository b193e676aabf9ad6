/* SPDX-License-Identifier: MIT */
/*
 * What config.c, read.c and print.c share: limits, error wording, small helpers and the
 * whole-configuration checks, so that reading the file and checking a configuration refuse the
 * same values with the same words. Private to src/config/: other modules see linkyd/config.h.
 */
#ifndef LINKYD_CONFIG_INTERNAL_H
#define LINKYD_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "linkyd/config.h"

#define DEFAULT_NAME          "meter"
#define KEEPALIVE_MIN         5
#define KEEPALIVE_MAX         3600
#define QUEUE_MAX             1000000
#define KEY_SIZE              96 /* a setting's path: "meters[0].topic" */
#define TARIFF_NAMES_MAX      10 /* EASF01..EASF10 */
#define DISTRIBUTOR_NAMES_MAX 4  /* EASD01..EASD04 */

/* What was expected, after "expected ". */
#define EXPECT_INPUT     "serial:DEVICE or a device path such as /dev/ttyUSB0"
#define EXPECT_MODE      "\"auto\", \"historique\" or \"standard\""
#define EXPECT_URL       "mqtt://host[:port] or mqtts://host[:port]"
#define EXPECT_FORMAT    "\"typed\" or \"raw\""
#define EXPECT_LEVEL     "\"notice\", \"info\" or \"debug\""
#define EXPECT_STRING    "a non-empty string"
#define EXPECT_BOOL      "true or false"
#define EXPECT_KEEPALIVE "an integer from 5 to 3600 (seconds)"
#define EXPECT_QOS       "0, 1 or 2"
#define EXPECT_QUEUE     "an integer from 1 to 1000000 (frames)"
#define EXPECT_PREFIX    "a non-empty topic without wildcards (+, #)"
#define EXPECT_EXPIRE    "an integer from 0 to 86400 (seconds, 0 = never)"
#define EXPIRE_MAX       86400
#define EXPECT_POLICY    "\"every_frame\", \"interval\" or \"on_change\""
#define EXPECT_PERIOD    "an integer from 1 to 86400 (seconds)"
#define EXPECT_DEADBAND  "an integer from 0 to 1000000000"
#define EXPECT_LABEL     "a TIC label such as \"PAPP\" (1 to 16 printable characters)"

/* log.level by verbosity: 0 notice, 1 info, 2 debug. */
extern const char *const cfg_level_names[3];

/* ---- small helpers (config.c) ------------------------------------------------------------- */

/* Write "FILE:LINE: message" into err; no ":LINE" when line is 0, no "FILE:" when file is NULL.
 * Returns -EINVAL so that callers can return it directly. */
int __attribute__((format(printf, 5, 6)))
cfg_errorf(char *err, size_t size, const char *file, unsigned line, const char *fmt, ...);

/* Replace *field with a copy of s (NULL allowed). Returns 0 or -ENOMEM, *field untouched then. */
int cfg_set_str(char **field, const char *s);

/* Wipe a password before freeing it. */
void cfg_free_secret(char *s);

/* Deep copy of a meter's publish settings. Returns 0 or -ENOMEM (dst then owns nothing). */
int cfg_publish_copy(struct publish_config *dst, const struct publish_config *src);
void cfg_publish_free(struct publish_config *p);

/* A list of n strings (NULL entries allowed): copy and free. */
int cfg_strv_copy(char ***dst, const char *const *src, size_t n);
void cfg_strv_free(char **v, size_t n);

/* Free n meters and their array. */
void cfg_meters_free(struct meter_config *meters, size_t n);

/* The device of an input spec, or NULL when it is not a serial one. */
const char *cfg_input_device(const char *spec);

/* Whether url is mqtt://host[:port] or mqtts://host[:port]; *ret_tls (if not NULL) says which. */
bool cfg_url_valid(const char *url, bool *ret_tls);

/* The default topic of a meter: the base alone, or one level per meter when there are several.
 * NULL when out of memory. */
char *cfg_default_topic(const char *name, size_t n_meters);

/* Deep copy, so that config_load() can build on a scratch copy and leave c untouched on error.
 * Returns 0 or -ENOMEM. */
int cfg_copy(struct linkyd_config *dst, const struct linkyd_config *src);

/* ---- whole-configuration checks (config.c) ------------------------------------------------ */

/* What cfg_check() found: the setting to blame and why. config_load() turns the setting into
 * a file and line, config_validate() prints its name alone. */
struct problem {
	int meter;       /* index into meters, or -1 for a setting outside them */
	const char *key; /* meter member ("name"), or a path ("mqtt.qos") */
	const char *alt; /* the setting to blame when key is not in the file, or NULL */
	char msg[CONFIG_ERROR_SIZE / 2];
};

/* The checks that need the whole configuration. Returns 0, or -EINVAL with *p filled in. */
int cfg_check(const struct linkyd_config *c, struct problem *p);

/* The full path of p's setting: "meters[1].topic", "mqtt.qos". */
void cfg_problem_key(const struct problem *p, char *buf, size_t size);

#endif
