/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

char *
read_fixture(const char *name, size_t *ret_len)
{
	char path[4096];
	FILE *f;
	char *data;
	long len;

	snprintf(path, sizeof(path), "%s/%s", LINKYD_TEST_DATA, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	data = malloc((size_t) len + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t) len, f), (size_t) len);
	data[len] = '\0';
	fclose(f);
	*ret_len = (size_t) len;
	return data;
}

struct sink {
	enum json_format format;
	char *out;
	size_t len, cap;
};

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct sink *s = userdata;
	char json[JSON_FRAME_MAX];
	int n = json_encode_frame(frame, s->format, json, sizeof(json));

	assert_true(n > 0);
	if (s->len + (size_t) n + 2 > s->cap) {
		s->cap = (s->len + (size_t) n + 2) * 2;
		s->out = realloc(s->out, s->cap);
		assert_non_null(s->out);
	}
	memcpy(s->out + s->len, json, (size_t) n);
	s->len += (size_t) n;
	s->out[s->len++] = '\n';
	s->out[s->len] = '\0';
	return 0;
}

static const struct tic_parser_callbacks sink_cbs = {.on_frame = on_frame};

static char *
sink_result(struct sink *s)
{
	return s->out ? s->out : calloc(1, 1);
}

char *
decode_lines(const void *data, size_t len, size_t chunk, enum json_format format,
             struct tic_stats *ret_stats)
{
	struct sink s = {.format = format};
	struct tic_parser *p = malloc(sizeof(*p));
	const char *d = data;

	assert_non_null(p);
	tic_parser_init(p, &sink_cbs, &s);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		assert_int_equal(tic_parser_feed(p, d + off, n), n);
	}
	tic_parser_reset(p);
	if (ret_stats)
		*ret_stats = *tic_parser_stats(p);
	free(p);
	return sink_result(&s);
}

char *
decode_split(const void *data, size_t len, size_t i, size_t j, enum json_format format)
{
	struct sink s = {.format = format};
	struct tic_parser *p = malloc(sizeof(*p));
	const char *d = data;

	assert_non_null(p);
	tic_parser_init(p, &sink_cbs, &s);
	assert_int_equal(tic_parser_feed(p, d, i), i);
	assert_int_equal(tic_parser_feed(p, d + i, j - i), j - i);
	assert_int_equal(tic_parser_feed(p, d + j, len - j), len - j);
	free(p);
	return sink_result(&s);
}
