/* SPDX-License-Identifier: MIT */
/*
 * Reading one libconfig setting with a check and, on failure, one error line naming the file,
 * the line and the setting's path: what read.c and publish.c share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "setting.h"

const char *
cfg_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/* "mqtt.qos", "meters[0].speed": the setting's path from the root, as the user wrote it. */
static void
setting_path(const config_setting_t *s, char *buf, size_t size)
{
	const config_setting_t *parent = config_setting_parent(s);
	size_t len;

	buf[0] = '\0';
	if (!parent)
		return;
	setting_path(parent, buf, size);
	len = strlen(buf);
	if (config_setting_name(s))
		(void) snprintf(buf + len, size - len, "%s%s", len ? "." : "",
		                config_setting_name(s));
	else
		(void) snprintf(buf + len, size - len, "[%d]", config_setting_index(s));
}

/* One error line about setting s (plus suffix, for a member it lacks). Returns -EINVAL. */
int __attribute__((format(printf, 4, 5)))
cfg_fail(struct load *l, const config_setting_t *s, const char *suffix, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char key[KEY_SIZE], msg[CONFIG_ERROR_SIZE];
	va_list ap;

	setting_path(s, key, sizeof(key));
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cfg_errorf(l->err, l->err_size, file ? file : l->path, config_setting_source_line(s),
	                  "%s%s: %s", key, suffix ? suffix : "", msg);
}

int
cfg_unknown(struct load *l, const config_setting_t *s)
{
	return cfg_fail(l, s, NULL, "unknown setting");
}

int
cfg_expect_group(struct load *l, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, s, NULL, "expected a group { ... }, not %s", cfg_type_name(s));
	return 0;
}

/* A non-empty string; expect says what was wanted. The string belongs to the config_t. */
int
cfg_get_string(struct load *l, const config_setting_t *s, const char *expect,
               const char **ret_value)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(l, s, NULL, "expected %s, not %s", expect, cfg_type_name(s));
	v = config_setting_get_string(s);
	if (!*v)
		return cfg_fail(l, s, NULL, "expected %s", expect);
	*ret_value = v;
	return 0;
}

/* A string setting copied into *field. */
int
cfg_get_str_field(struct load *l, const config_setting_t *s, char **field)
{
	const char *v = NULL; /* set when r is 0; GCC cannot tell once cfg_set_str() is external */
	int r = cfg_get_string(l, s, EXPECT_STRING, &v);

	return r < 0 ? r : cfg_set_str(field, v);
}

/* An integer within min..max. Floats are refused rather than truncated: "keepalive = 1.5" is a
 * mistake worth a message. (libconfig itself wraps an over-long integer without an L suffix.) */
int
cfg_get_int(struct load *l, const config_setting_t *s, long long min, long long max,
            const char *expect, long long *ret_value)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return cfg_fail(l, s, NULL, "expected %s, not %s", expect, cfg_type_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return cfg_fail(l, s, NULL, "expected %s", expect);
	*ret_value = v;
	return 0;
}

int
cfg_get_bool(struct load *l, const config_setting_t *s, bool *ret_value)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(l, s, NULL, "expected " EXPECT_BOOL ", not %s", cfg_type_name(s));
	*ret_value = config_setting_get_bool(s);
	return 0;
}
