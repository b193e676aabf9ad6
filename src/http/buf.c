/* SPDX-License-Identifier: MIT */
/*
 * Response bodies: a buffer that grows by doubling up to HTTP_BODY_MAX, and the escapes of the
 * three formats served (XML, JSON, Prometheus label values).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Room for n more bytes and a NUL. */
static bool
reserve(struct http_buf *b, size_t n)
{
	size_t size = b->size ? b->size : 1024;
	char *data;

	if (b->failed)
		return false;
	if (n < b->size - b->len)
		return true;
	if (n >= HTTP_BODY_MAX - b->len) {
		b->failed = true;
		return false;
	}
	while (size - b->len <= n)
		size *= 2;
	if (size > HTTP_BODY_MAX)
		size = HTTP_BODY_MAX;
	data = realloc(b->data, size);
	if (!data) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->size = size;
	return true;
}

void
buf_put(struct http_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

char *
buf_room(struct http_buf *b, size_t n)
{
	return reserve(b, n) ? b->data + b->len : NULL;
}

void
buf_puts(struct http_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void
buf_printf(struct http_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t) n))
		return;
	va_start(ap, fmt);
	(void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
buf_xml(struct http_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '&')
			buf_puts(b, "&amp;");
		else if (c == '<')
			buf_puts(b, "&lt;");
		else if (c == '>')
			buf_puts(b, "&gt;");
		else if (c == '"')
			buf_puts(b, "&quot;");
		else if (c == '\'')
			buf_puts(b, "&apos;");
		else if (c >= ' ' && c <= '~')
			buf_put(b, (const char *) &c, 1);
	}
}

void
buf_json(struct http_buf *b, const char *s)
{
	buf_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			buf_printf(b, "\\u%04x", c);
		else
			buf_put(b, (const char *) &c, 1);
	}
	buf_put(b, "\"", 1);
}

void
buf_label(struct http_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_put(b, s, 1);
	}
}

void
buf_free(struct http_buf *b)
{
	free(b->data);
	*b = (struct http_buf){0};
}
