/* SPDX-License-Identifier: MIT */
/* Shared test helpers (see helpers.h): fixtures, JSON decoding, stream building, frame records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "typed_check.h"

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

char
tic_check_char(const void *s, size_t n)
{
	const unsigned char *c = s;
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += c[i];
	return (char) ((sum & 0x3f) + 0x20);
}

void
bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
bytes_str(struct bytes *b, const char *s)
{
	bytes_add(b, s, strlen(s));
}

void
bytes_byte(struct bytes *b, unsigned char c)
{
	bytes_add(b, &c, 1);
}

void
bytes_group_text(struct bytes *b, enum tic_mode mode, const char *label, const char *horodate,
                 const char *value)
{
	unsigned char sep = mode == TIC_MODE_STANDARD ? '\t' : ' ';
	size_t start = b->len, summed;

	bytes_str(b, label);
	bytes_byte(b, sep);
	if (horodate) {
		bytes_str(b, horodate);
		bytes_byte(b, sep);
	}
	bytes_str(b, value);
	bytes_byte(b, sep);
	/* Historique leaves the separator before the check character out of the sum. */
	summed = b->len - start - (mode == TIC_MODE_HISTORIQUE);
	bytes_byte(b, (unsigned char) tic_check_char(b->data + start, summed));
}

void
bytes_group(struct bytes *b, enum tic_mode mode, const char *label, const char *horodate,
            const char *value)
{
	bytes_byte(b, '\n');
	bytes_group_text(b, mode, label, horodate, value);
	bytes_byte(b, '\r');
}

static char *
dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

/* Copies each frame and stops the feed, so that rec_decode() learns where the frame ended. */
static int
rec_on_frame(const struct tic_frame *frame, void *userdata)
{
	struct rec *r = userdata;
	struct rec_frame *f;

	r->frames = realloc(r->frames, (r->n_frames + 1) * sizeof(*r->frames));
	assert_non_null(r->frames);
	f = &r->frames[r->n_frames++];
	f->mode = frame->mode;
	f->end = 0;
	f->n_groups = frame->n_groups;
	f->groups = calloc(frame->n_groups, sizeof(*f->groups));
	assert_non_null(f->groups);
	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];

		struct rec_group *rg = &f->groups[i];
		const char *wrong = typed_check(g);

		/* Every group any test decodes is typed as the string parsers read it. */
		if (wrong)
			fail_msg("%s: typed %s wrong", g->label, wrong);
		*rg = (struct rec_group){dup_or_null(g->label), dup_or_null(g->value),
		                         dup_or_null(g->horodate), g->def, *g};
		rg->group.label = rg->label;
		rg->group.value = rg->value;
		rg->group.horodate = rg->horodate;
	}
	return 1;
}

static const struct tic_parser_callbacks rec_cbs = {.on_frame = rec_on_frame};

void
rec_decode(struct rec *r, const void *data, size_t len, size_t chunk)
{
	struct tic_parser *p = malloc(sizeof(*p));
	const char *d = data;
	size_t off = 0;

	assert_non_null(p);
	*r = (struct rec){0};
	tic_parser_init(p, &rec_cbs, r);
	if (chunk == 0)
		chunk = len;
	while (off < len) {
		size_t before = r->n_frames;
		size_t n = len - off < chunk ? len - off : chunk;

		off += tic_parser_feed(p, d + off, n);
		if (r->n_frames != before)
			r->frames[r->n_frames - 1].end = off;
	}
	tic_parser_reset(p);
	r->stats = *tic_parser_stats(p);
	free(p);
}

void
rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n_frames; i++) {
		for (unsigned j = 0; j < r->frames[i].n_groups; j++) {
			free(r->frames[i].groups[j].label);
			free(r->frames[i].groups[j].value);
			free(r->frames[i].groups[j].horodate);
		}
		free(r->frames[i].groups);
	}
	free(r->frames);
	*r = (struct rec){0};
}

const struct rec_group *
rec_find(const struct rec_frame *f, const char *label)
{
	for (unsigned i = 0; i < f->n_groups; i++)
		if (strcmp(f->groups[i].label, label) == 0)
			return &f->groups[i];
	return NULL;
}

void
assert_rec_group_equal(const struct rec_group *a, const struct rec_group *b)
{
	assert_string_equal(a->label, b->label);
	assert_string_equal(a->value, b->value);
	if (!a->horodate || !b->horodate)
		assert_ptr_equal(a->horodate, b->horodate);
	else
		assert_string_equal(a->horodate, b->horodate);
	assert_ptr_equal(a->def, b->def);
	if (!typed_same(&a->group, &b->group))
		fail_msg("%s: typed differently", a->label);
}

void
assert_rec_frame_equal(const struct rec_frame *a, const struct rec_frame *b)
{
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->n_groups, b->n_groups);
	for (unsigned i = 0; i < a->n_groups; i++)
		assert_rec_group_equal(&a->groups[i], &b->groups[i]);
}
