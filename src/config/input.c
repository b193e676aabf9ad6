/* SPDX-License-Identifier: MIT */
/*
 * Inputs: where a meter's bytes come from, written "KIND:..." or as a bare device path. Each kind
 * is one row: its prefix, its parser, its check, and what makes two inputs the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

#define BARE_PATH "a device path such as /dev/ttyUSB0"

struct input_kind_row {
	enum input_kind kind;
	const char *prefix; /* "serial:" */
	const char *expect; /* its form, for errors: "serial:DEVICE" */
	/* Fill in's fields from what follows the prefix. Returns 0, -EINVAL or -ENOMEM. */
	int (*parse)(const char *rest, struct input_config *in);
	/* What the kind needs of its meter (meters[i] at path), NULL: nothing. Returns 0 or
	 * -EINVAL (*p). */
	int (*check)(const struct meter_config *m, const char *path, struct problem *p);
	/* What identifies the source: two inputs of a kind are the same when theirs are. */
	const char *(*key)(const struct input_config *in);
};

static int
serial_parse(const char *rest, struct input_config *in)
{
	if (!*rest)
		return -EINVAL;
	return (in->path = strdup(rest)) ? 0 : -ENOMEM;
}

/* A relative path would be opened from the daemon's working directory: / under systemd. */
static int
serial_check(const struct meter_config *m, const char *path, struct problem *p)
{
	char key[PATH_SIZE];

	if (m->input.path[0] == '/')
		return 0;
	(void) snprintf(key, sizeof(key), "%s.input", path);
	return cfg_blame(p, key, "'%s': expected an absolute device path such as /dev/ttyUSB0",
	                 m->input.path);
}

static const char *
serial_key(const struct input_config *in)
{
	return in->path;
}

/* HOST:PORT, HOST a name or an IPv4 address, or [IPv6]:PORT. */
static int
tcp_parse(const char *rest, struct input_config *in)
{
	const char *colon = strrchr(rest, ':'), *host = rest;
	size_t len = colon ? (size_t) (colon - rest) : 0;
	char *end;
	unsigned long port;

	if (!colon || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port < 1 || port > 65535 || colon[1] == '+' || colon[1] == '-')
		return -EINVAL;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	} else if (memchr(host, ':', len) || memchr(host, '[', len) || memchr(host, ']', len)) {
		return -EINVAL; /* an IPv6 address needs its brackets */
	}
	if (len == 0 || memchr(host, '/', len) || memchr(host, ' ', len))
		return -EINVAL;
	in->port = (unsigned) port;
	return (in->host = strndup(host, len)) ? 0 : -ENOMEM;
}

/* "HOST:PORT", as written: also what a meter given with -i is named after. */
static const char *
tcp_key(const struct input_config *in)
{
	return in->spec + strlen("tcp:");
}

/* The first row also reads bare paths. */
static const struct input_kind_row kinds[] = {
    {INPUT_SERIAL, "serial:", "serial:DEVICE", serial_parse, serial_check, serial_key},
    {INPUT_TCP, "tcp:", "tcp:HOST:PORT", tcp_parse, NULL, tcp_key},
};

static const struct input_kind_row *
kind_of(const struct input_config *in)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (kinds[k].kind == in->kind)
			return &kinds[k];
	return &kinds[0];
}

int
input_parse(const char *spec, struct input_config *ret)
{
	const struct input_kind_row *row = NULL;
	const char *rest = spec;
	struct input_config in = {0};
	int r;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !row; k++)
		if (strncmp(spec, kinds[k].prefix, strlen(kinds[k].prefix)) == 0) {
			row = &kinds[k];
			rest = spec + strlen(row->prefix);
		}
	/* A bare path; but "tcp:..." is a kind this build does not know, never a file name. A
	 * colon after a slash is part of a path (/dev/serial/by-path/...-usb-0:1.3:1.0-port0). */
	if (!row) {
		if (spec[strcspn(spec, "/:")] == ':')
			return -EINVAL;
		row = &kinds[0];
	}
	in.kind = row->kind;
	r = row->parse(rest, &in);
	if (r == 0 && !(in.spec = strdup(spec)))
		r = -ENOMEM;
	if (r < 0) {
		input_free(&in);
		return r;
	}
	*ret = in;
	return 0;
}

const char *
input_expect(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && len < size; k++)
		len += (size_t) snprintf(buf + len, size - len, "%s%s", k ? ", " : "",
		                         kinds[k].expect);
	if (len < size)
		(void) snprintf(buf + len, size - len, " or " BARE_PATH);
	return buf;
}

bool
input_same(const struct input_config *a, const struct input_config *b)
{
	if (!a->spec || !b->spec)
		return !a->spec && !b->spec;
	return a->kind == b->kind && strcmp(input_key(a), input_key(b)) == 0;
}

const char *
input_key(const struct input_config *in)
{
	return kind_of(in)->key(in);
}

int
input_check(const struct meter_config *m, const char *path, struct problem *p)
{
	const struct input_kind_row *row = kind_of(&m->input);

	return row->check ? row->check(m, path, p) : 0;
}

int
input_copy(struct input_config *dst, const struct input_config *src)
{
	*dst = (struct input_config){.kind = src->kind, .port = src->port};
	if ((src->spec && !(dst->spec = strdup(src->spec))) ||
	    (src->path && !(dst->path = strdup(src->path))) ||
	    (src->host && !(dst->host = strdup(src->host)))) {
		input_free(dst);
		return -ENOMEM;
	}
	return 0;
}

void
input_free(struct input_config *in)
{
	free(in->spec);
	free(in->path);
	free(in->host);
	*in = (struct input_config){0};
}
