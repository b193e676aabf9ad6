/* SPDX-License-Identifier: MIT */
/* The doctor's decisions, from text and numbers the system inspection read: no I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"

size_t
rules_consoles(const char *cmdline, char (*ret)[CONSOLE_NAME_SIZE], size_t max)
{
	size_t n = 0;
	const char *p = cmdline;

	while (*p && n < max) {
		size_t len = strcspn(p, " \t\n");

		/* "console=NAME[,OPTIONS]"; quoting is for other parameters' values. */
		if (len > 8 && strncmp(p, "console=", 8) == 0) {
			size_t name = strcspn(p + 8, ", \t\n");

			if (name > 0 && name < CONSOLE_NAME_SIZE)
				snprintf(ret[n++], CONSOLE_NAME_SIZE, "%.*s", (int) name, p + 8);
		}
		p += len;
		p += strspn(p, " \t\n");
	}
	return n;
}

int
rules_driver(const char *devices, unsigned major, char *ret, size_t size)
{
	const char *p = strstr(devices, "Character devices:");
	const char *end = strstr(devices, "Block devices:");

	if (!p)
		return -ENOENT;
	/* "  4 /dev/vc/0", "188 ttyUSB": a major, then a name, one per line. */
	for (p = strchr(p, '\n'); p && (!end || p < end); p = strchr(p + 1, '\n')) {
		unsigned m;
		char name[64];

		if (sscanf(p + 1, "%u %63s", &m, name) == 2 && m == major) {
			snprintf(ret, size, "%s", name);
			return 0;
		}
	}
	return -ENOENT;
}

bool
rules_service_can_read(mode_t mode, gid_t gid, gid_t dialout)
{
	return (mode & S_IROTH) || (gid == dialout && (mode & S_IRGRP));
}

/* Each "Key=value" line of a unit with this key, in order: calls fn(value, len, ctx). */
static bool
any_setting(const char *unit, const char *key, bool (*fn)(const char *, size_t, const void *),
            const void *ctx)
{
	size_t klen = strlen(key);

	for (const char *p = unit; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len = strcspn(p, "\n");

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=' &&
		    fn(p + klen + 1, len - klen - 1, ctx))
			return true;
	}
	return false;
}

static bool
is_closed(const char *value, size_t len, const void *ctx)
{
	(void) ctx;
	return (len >= 6 && strncmp(value, "closed", 6) == 0) ||
	       (len >= 6 && strncmp(value, "strict", 6) == 0);
}

bool
rules_devices_closed(const char *unit)
{
	/* The last setting wins: a drop-in may open what the unit closed. */
	bool closed = false;
	size_t klen = strlen("DevicePolicy=");

	for (const char *p = unit; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "DevicePolicy=", klen) == 0)
			closed = is_closed(p + klen, strcspn(p + klen, "\n"), NULL);
	return closed;
}

struct allow_ctx {
	const char *driver, *path;
};

static bool
allows(const char *value, size_t len, const void *ctx)
{
	const struct allow_ctx *a = ctx;
	size_t what = strcspn(value, " \t\n");
	char class[80];

	if (what > len)
		what = len;
	snprintf(class, sizeof(class), "char-%s", a->driver ? a->driver : "");
	return (a->driver && what == strlen(class) && strncmp(value, class, what) == 0) ||
	       (a->path && what == strlen(a->path) && strncmp(value, a->path, what) == 0);
}

bool
rules_device_allowed(const char *unit, const char *driver, const char *path)
{
	const struct allow_ctx a = {.driver = driver, .path = path};

	return any_setting(unit, "DeviceAllow", allows, &a);
}

enum line_finding
rules_line(const struct tic_stats *s, uint64_t bytes)
{
	uint64_t damaged = 0;

	for (int i = 0; i < TIC_ERR_COUNT; i++)
		damaged += s->errors[i];
	if (bytes == 0)
		return FIND_SILENT;
	/* A 7E1 character read 8N1 always has even parity; noise has either, half and half.
	 * Many odd ones: the line is not 7E1 as read (7O1, 8N1 sent, a bridge set wrong). */
	if (s->bytes_bad_parity * 100 >= bytes * 40)
		return FIND_PARITY;
	if (s->frames == 0)
		return FIND_GARBAGE;
	if (damaged * 100 >= (s->groups + damaged) * 5)
		return FIND_NOISY;
	return FIND_FRAMES;
}
