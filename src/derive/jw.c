/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for the derived topics: objects of numbers, booleans and strings, written
 * into the caller's buffer with nothing allocated. json/encode.c's writer is tuned for frames
 * and private to it; these messages are a few per frame and a few hundred bytes, so plain
 * snprintf does. Once a write does not fit, nothing more is written and jw_end() says -ENOBUFS.
 */
#include <errno.h>
#include <inttypes.h>
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

static void
put_escaped(struct jw *w, const char *s)
{
	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;
		char e[8];

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char) c;
			put(w, e, 2);
		} else if (c < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			put(w, e, 6);
		} else {
			put(w, (const char *) &c, 1);
		}
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
	char n[24];

	key(w, k);
	put(w, n, (size_t) snprintf(n, sizeof(n), "%" PRIu64, v));
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
