/* SPDX-License-Identifier: MIT */
/* The topics of linkyd/topics.h, built in one place. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/topics.h"

static const char *const suffixes[] = {
    [TOPIC_STATUS] = "status",   [TOPIC_MODE] = "mode",     [TOPIC_DIAGNOSTICS] = "diagnostics",
    [TOPIC_DERIVED] = "derived", [TOPIC_ENERGY] = "energy",
};

_Static_assert(sizeof("/diagnostics") == TOPIC_SUFFIX_MAX, "TOPIC_SUFFIX_MAX");

static int __attribute__((format(printf, 3, 4))) build(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENOBUFS;
	}
	return n;
}

int
topic_of(const char *base, enum topic_kind kind, char *buf, size_t size)
{
	return build(buf, size, "%s/%s", base, suffixes[kind]);
}

char *
topic_new(const char *base, enum topic_kind kind)
{
	size_t size = strlen(base) + TOPIC_SUFFIX_MAX;
	char *t = malloc(size);

	if (t)
		(void) topic_of(base, kind, t, size);
	return t;
}

int
topic_label(const char *base, const char *label, char *buf, size_t size)
{
	int n = build(buf, size, "%s/%s", base, label);

	for (char *c = n > 0 ? buf + strlen(base) + 1 : buf; n > 0 && *c; c++)
		if (*c == '+' || *c == '#' || *c == '/')
			*c = '_';
	return n;
}

int
topic_ha_config(const char *prefix, const char *component, const char *serial, const char *slug,
                char *buf, size_t size)
{
	return build(buf, size, "%s/%s/linkyd_%s/%s/config", prefix, component, serial, slug);
}

int
topic_ha_status(const char *prefix, char *buf, size_t size)
{
	return build(buf, size, "%s/status", prefix);
}
