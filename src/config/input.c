/* SPDX-License-Identifier: MIT */
/*
 * Inputs: where a meter's bytes come from, written "KIND:..." or as a bare device path. Each kind
 * is one row: its prefix, its parser, its check, and what makes two inputs the same.
 */
#include <arpa/inet.h>
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
	/* Several meters may name the same one (a server that tells its clients apart). */
	bool shared;
	/* The kind takes the D2L settings (d2l_id, key, iv); the others refuse them. */
	bool d2l;
	/* Its meters' default silence, in seconds; 0: CONFIG_DEFAULT_SILENCE. */
	int silence;
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

/* A port number, 1 to 65535, nothing else. Returns 0 or -EINVAL. */
static int
port_parse(const char *s, unsigned *ret)
{
	char *end;
	unsigned long port;

	if (!*s || *s == '+' || *s == '-')
		return -EINVAL;
	errno = 0;
	port = strtoul(s, &end, 10);
	if (*end || errno || port < 1 || port > 65535)
		return -EINVAL;
	*ret = (unsigned) port;
	return 0;
}

/* HOST:PORT, HOST a name or an IPv4 address, or [IPv6]:PORT. */
static int
tcp_parse(const char *rest, struct input_config *in)
{
	const char *colon = strrchr(rest, ':'), *host = rest;
	size_t len = colon ? (size_t) (colon - rest) : 0;
	unsigned port;

	if (!colon || port_parse(colon + 1, &port) < 0)
		return -EINVAL;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	} else if (memchr(host, ':', len) || memchr(host, '[', len) || memchr(host, ']', len)) {
		return -EINVAL; /* an IPv6 address needs its brackets */
	}
	if (len == 0 || memchr(host, '/', len) || memchr(host, ' ', len))
		return -EINVAL;
	in->port = port;
	return (in->host = strndup(host, len)) ? 0 : -ENOMEM;
}

/* "HOST:PORT", as written: also what a meter given with -i is named after. */
static const char *
tcp_key(const struct input_config *in)
{
	return in->spec + strlen("tcp:");
}

/* [ADDR:]PORT: a numeric address to listen on (a name would have to be resolved, and a
 * D2L module reaches the host by its address anyway), by default any. */
static int
d2l_parse(const char *rest, struct input_config *in)
{
	unsigned char addr[sizeof(struct in6_addr)];
	int r;

	if (!strchr(rest, ':'))
		return port_parse(rest, &in->port);
	r = tcp_parse(rest, in);
	if (r == 0 && inet_pton(AF_INET, in->host, addr) != 1 &&
	    inet_pton(AF_INET6, in->host, addr) != 1)
		r = -EINVAL;
	return r;
}

/* A D2L module is told apart by its id, sealed with its key and IV: all three needed. */
static int
d2l_check(const struct meter_config *m, const char *path, struct problem *p)
{
	static const char *const keys[] = {"d2l_id", "key", "iv"};
	const char *values[] = {m->d2l_id, m->d2l_key, m->d2l_iv};
	char key[PATH_SIZE];

	for (size_t i = 0; i < 3; i++) {
		if (values[i])
			continue;
		(void) snprintf(key, sizeof(key), "%s.%s", path, keys[i]);
		return cfg_blame(p, key,
		                 "expected it for input '%s': a D2L module needs its id, key "
		                 "and IV (see etc/linkyd.conf)",
		                 m->input.spec);
	}
	return 0;
}

/* "[ADDR:]PORT", as written: the listener, which the meters naming it share. */
static const char *
d2l_key(const struct input_config *in)
{
	return in->spec + strlen("d2l:");
}

/* The first row also reads bare paths. */
static const struct input_kind_row kinds[] = {
    {INPUT_SERIAL, "serial:", "serial:DEVICE", serial_parse, serial_check, serial_key, false, false,
     0},
    {INPUT_TCP, "tcp:", "tcp:HOST:PORT", tcp_parse, NULL, tcp_key, false, false, 0},
    /* How often a module pushes a frame is its setting (Eesmart's app), a minute or less. */
    {INPUT_D2L, "d2l:", "d2l:[ADDR:]PORT", d2l_parse, d2l_check, d2l_key, true, true,
     CONFIG_D2L_SILENCE},
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
input_default_silence(const struct input_config *in)
{
	return kind_of(in)->silence ? kind_of(in)->silence : CONFIG_DEFAULT_SILENCE;
}

bool
input_shared(const struct input_config *in)
{
	return kind_of(in)->shared;
}

int
input_check(const struct meter_config *m, const char *path, struct problem *p)
{
	const struct input_kind_row *row = kind_of(&m->input);
	char key[PATH_SIZE];

	/* Settings that would silently do nothing are a mistake worth saying. */
	if (!row->d2l && (m->d2l_id || m->d2l_key || m->d2l_iv)) {
		(void) snprintf(key, sizeof(key), "%s.%s", path,
		                m->d2l_id    ? "d2l_id"
		                : m->d2l_key ? "key"
		                             : "iv");
		return cfg_blame(p, key, "only for a d2l:[ADDR:]PORT input, not '%s'",
		                 m->input.spec);
	}
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
