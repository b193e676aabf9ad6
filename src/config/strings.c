/* SPDX-License-Identifier: MIT */
/*
 * The strings of the configuration: what MQTT can carry (UTF-8, topics), broker URLs, default
 * topics, and the paths of settings that problems are blamed on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "config-internal.h"

int
cfg_blame(struct problem *p, const char *path, const char *fmt, ...)
{
	va_list ap;

	p->where[0] = '\0';
	(void) snprintf(p->path, sizeof(p->path), "%s", path);
	va_start(ap, fmt);
	(void) vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void
cfg_path_push(char *path, size_t size, const char *key)
{
	size_t len = strlen(path);

	(void) snprintf(path + len, size - len, "%s%s", len ? "." : "", key);
}

void
cfg_path_index(char *path, size_t size, size_t i)
{
	size_t len = strlen(path);

	(void) snprintf(path + len, size - len, "[%zu]", i);
}

/* RFC 3629: the shortest form only, no surrogates (U+D800..DFFF), nothing past U+10FFFF. */
bool
cfg_utf8_valid(const char *s, size_t *ret_at)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t i = 0;

	while (p[i]) {
		unsigned c = p[i], n, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			goto out_bad;
		}
		/* The terminating NUL is no continuation byte: nothing is read past it. */
		for (unsigned k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto out_bad;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto out_bad;
		i += n + 1;
	}
	return true;

out_bad:
	*ret_at = i;
	return false;
}

bool
cfg_topic_valid(const char *t)
{
	return *t && !strpbrk(t, "+#");
}

/* mqtt://host[:port] or mqtts://host[:port], host a name, an IPv4 or a bracketed IPv6 address.
 * Credentials and paths are refused: they have their own settings, or no meaning. */
bool
cfg_url_valid(const char *url, bool *ret_tls)
{
	const char *p;
	bool tls;

	if (strncmp(url, "mqtt://", 7) == 0) {
		p = url + 7;
		tls = false;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		p = url + 8;
		tls = true;
	} else {
		return false;
	}
	if (*p == '[') {
		size_t n = strspn(p + 1, "0123456789abcdefABCDEF:.");

		if (n == 0 || p[1 + n] != ']')
			return false;
		p += n + 2;
	} else {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                     "0123456789.-_");

		if (n == 0)
			return false;
		p += n;
	}
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");
		long port = n && n <= 5 ? strtol(p + 1, NULL, 10) : 0;

		if (port < 1 || port > 65535)
			return false;
		p += n + 1;
	}
	if (*p)
		return false;
	if (ret_tls)
		*ret_tls = tls;
	return true;
}

char *
cfg_default_topic(const char *base, const char *name, size_t n_meters)
{
	char *t;

	if (n_meters == 1)
		return strdup(base);
	if (asprintf(&t, "%s/%s", base, name) < 0)
		return NULL;
	return t;
}

void
cfg_free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

int
config_listen_parse(const char *s, struct config_listen *ret)
{
	struct config_listen l = {.family = AF_INET};
	char host[INET6_ADDRSTRLEN + 1] = "127.0.0.1";
	const char *port = strrchr(s, ':');
	size_t n;
	long v;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t) (end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t) (end - s - 1));
		host[end - s - 1] = '\0';
		l.family = AF_INET6;
		port = end + 1;
	} else if (port) {
		if ((size_t) (port - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t) (port - s));
		host[port - s] = '\0';
	}
	port = port ? port + 1 : s;
	n = strspn(port, "0123456789");
	v = n && n <= 5 && !port[n] ? strtol(port, NULL, 10) : 0;
	if (v < 1 || v > 65535 || inet_pton(l.family, host, l.addr) != 1)
		return -EINVAL;
	l.port = (unsigned) v;
	*ret = l;
	return 0;
}
