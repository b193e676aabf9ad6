/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for the derived topics: objects of numbers, booleans and strings, written
 * into the caller's buffer with nothing allocated. json/encode.c's writer is tuned for frames
 * and private to it; these messages are a few per frame and a few hundred bytes, so simple code
 * does (but no snprintf per number: <topic>/derived is encoded with every frame, and snprintf
 * was half of it). Once a write does not fit, nothing more is written and jw_end() says
 * -ENOBUFS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void
put(struct jw *w, const char *s, size_t n)
{
	if (w->full || n >= w->size - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static bool
plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

/* Runs of bytes to copy as they are in one put() each: keys and names are mostly nothing else. */
static void
put_escaped(struct jw *w, const char *s)
{
	put(w, "\"", 1);
	while (*s) {
		unsigned char c;
		char e[8];
		size_t n = 0;

		while (plain((unsigned char) s[n]))
			n++;
		put(w, s, n);
		s += n;
		c = (unsigned char) *s;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char) c;
			put(w, e, 2);
		} else if (c) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(w, e, 6);
		} else {
			break;
		}
		s++;
	}
	put(w, "\"", 1);
}

/* The comma before a member, and its key. */
static void
key(struct jw *w, const char *k)
{
	if (w->comma[w->depth])
		put(w, ",", 1);
	w->comma[w->depth] = true;
	put_escaped(w, k);
	put(w, ":", 1);
}

void
jw_init(struct jw *w, char *buf, size_t size)
{
	*w = (struct jw){.buf = buf, .size = size, .full = size == 0};
	if (size > 0)
		buf[0] = '\0';
	put(w, "{", 1);
}

void
jw_open(struct jw *w, const char *k)
{
	key(w, k);
	put(w, "{", 1);
	/* Deeper than JW_DEPTH is a bug of this module, not input. */
	if (w->depth < JW_DEPTH)
		w->comma[++w->depth] = false;
}

void
jw_close(struct jw *w)
{
	put(w, "}", 1);
	if (w->depth > 0)
		w->depth--;
}

void
jw_uint(struct jw *w, const char *k, uint64_t v)
{
	char n[20];
	size_t i = sizeof(n);

	key(w, k);
	do {
		n[--i] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, n + i, sizeof(n) - i);
}

void
jw_bool(struct jw *w, const char *k, bool v)
{
	key(w, k);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jw_str(struct jw *w, const char *k, const char *v)
{
	key(w, k);
	put_escaped(w, v);
}

int
jw_end(struct jw *w)
{
	put(w, "}", 1);
	return w->full ? -ENOBUFS : (int) w->len;
}

void
iso_local(time_t t, char *buf)
{
	struct tm tm;
	unsigned off;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, 32, "1970-01-01T00:00:00+00:00");
		return;
	}
	off = (unsigned) (tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff) / 60 % 1440;
	/* The modulos only tell the compiler the widths: localtime_r() gives these ranges. */
	snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u%c%02u:%02u",
	         (unsigned) (tm.tm_year + 1900) % 10000, (unsigned) (tm.tm_mon + 1) % 100,
	         (unsigned) tm.tm_mday % 100, (unsigned) tm.tm_hour % 100,
	         (unsigned) tm.tm_min % 100, (unsigned) tm.tm_sec % 100,
	         tm.tm_gmtoff < 0 ? '-' : '+', off / 60, off % 60);
}
