/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TIC parser and the JSON encoder.
 *
 * The first input byte chooses how the rest is split into tic_parser_feed() calls, so that the
 * fuzzer explores chunk boundaries as well as contents (the parser has a bulk path and a per-byte
 * path, and a frame or a group may straddle any number of calls):
 *
 *   bits 0-1  split: 0 one call, 1 fixed chunks of PARAM + 1 bytes, 2 pseudo-random chunks of
 *             1 .. 2^(PARAM % 13) bytes, 3 a cut just before and just after every control byte
 *   bit 2     on_frame asks the parser to stop after every frame; the rest is fed again
 *   bits 3-7  PARAM
 *
 * Every delivered frame is checked against the contracts of linkyd/tic.h (its typed fields
 * against the string parsers: tests/unit/typed_check.c) and encoded in both JSON formats, which
 * must succeed, fit exactly, and parse back with cJSON into a tree holding the frame's groups and
 * values (tests/unit/json_check.c): the encoder writes JSON by hand, and an independent parser is
 * its referee. Any broken invariant calls abort() so that libFuzzer keeps
 * the input as a crash.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/json.h"
#include "linkyd/tic.h"

#include "../unit/json_check.h"
#include "../unit/typed_check.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	SPLIT_ONE = 0,
	SPLIT_FIXED = 1,
	SPLIT_RANDOM = 2,
	SPLIT_CONTROL = 3,
	OPT_STOP = 0x04,
};

struct run {
	bool stop;                      /* on_frame returns non-zero */
	unsigned frames_in_call;        /* frames delivered by the current tic_parser_feed() */
	uint64_t frames, groups;        /* delivered, as seen by on_frame */
	uint64_t hist_groups;           /* delivered groups of historique frames */
	char json[JSON_FRAME_MAX];      /* one buffer, as the daemon uses */
	char json2[JSON_FRAME_MAX + 1]; /* the same output at the exact size, and a canary */
};

static bool
label_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-';
}

static void
check_group(const struct tic_frame *f, unsigned i, uint64_t *seen)
{
	const struct tic_group *g = &f->groups[i];
	struct tic_datetime dt;

	CHECK(g->label && g->value);
	CHECK(g->label_len >= 1 && g->label_len <= TIC_LABEL_MAX);
	CHECK(strlen(g->label) == g->label_len);
	for (unsigned k = 0; k < g->label_len; k++)
		CHECK(label_char_ok(g->label[k]));
	CHECK(g->value_len <= TIC_VALUE_MAX);
	CHECK(strlen(g->value) == g->value_len);
	/* Only standard groups carry a horodate, and a valid one. */
	if (g->horodate) {
		CHECK(f->mode == TIC_MODE_STANDARD);
		CHECK(strlen(g->horodate) == TIC_HORODATE_LEN);
		CHECK(tic_horodate_parse(g->horodate, &dt) == 0);
	}
	/* def is exactly the table's row for the label, and the value passed its check. A label
	 * appears at most once per frame: table rows are told apart by index, the others by name
	 * (they are rare, and comparing every pair of 128 labels would slow the fuzzer down). */
	CHECK(g->def == tic_label_find(g->label, g->label_len));
	/* The typed fields are what the string parsers read (typed_check.c). */
	CHECK(typed_check(g) == NULL);
	if (g->def) {
		size_t row = (size_t) (g->def - tic_labels);

		CHECK(strcmp(g->def->name, g->label) == 0);
		CHECK(g->def->mode == f->mode);
		CHECK(!(g->def->flags & TIC_LF_HORODATE) == !g->horodate);
		CHECK(tic_label_check(g->def, g->value, g->value_len) == 0);
		CHECK(row < tic_labels_count);
		CHECK(!(seen[row / 64] & (UINT64_C(1) << (row % 64))));
		seen[row / 64] |= UINT64_C(1) << (row % 64);
	} else {
		for (unsigned k = 0; k < i; k++)
			CHECK(f->groups[k].def || strcmp(f->groups[k].label, g->label) != 0);
	}
}

/* Encode f in format, which must succeed and give JSON that cJSON parses into exactly the frame
 * (json_check.c: every member and value, recomputed from the frame). The length is exact: one
 * byte less room is -ENOBUFS, and the same bytes come out in a buffer of exactly length + 1. */
static void
check_json(struct run *r, const struct tic_frame *f, enum json_format format)
{
	int n = json_encode_frame(f, format, r->json, sizeof(r->json));

	CHECK(n > 0 && (size_t) n < sizeof(r->json));
	CHECK(strlen(r->json) == (size_t) n);
	CHECK(json_check_frame(f, format, r->json) == NULL);
	/* json2 is larger than the sizes given, so a canary past them catches a write too far. */
	r->json2[n] = r->json2[n + 1] = 0x5a;
	CHECK(json_encode_frame(f, format, r->json2, (size_t) n) == -ENOBUFS);
	CHECK(r->json2[n] == 0x5a);
	CHECK(json_encode_frame(f, format, r->json2, (size_t) n + 1) == n);
	CHECK(r->json2[n + 1] == 0x5a);
	CHECK(memcmp(r->json, r->json2, (size_t) n + 1) == 0);
}

static int
on_frame(const struct tic_frame *f, void *userdata)
{
	struct run *r = userdata;
	uint64_t seen[(TIC_LABELS_MAX + 63) / 64] = {0};

	CHECK(f->mode == TIC_MODE_HISTORIQUE || f->mode == TIC_MODE_STANDARD);
	CHECK(f->n_groups >= 1 && f->n_groups <= TIC_FRAME_GROUPS && f->groups);
	for (unsigned i = 0; i < f->n_groups; i++)
		check_group(f, i, seen);
	check_json(r, f, JSON_FORMAT_TYPED);
	check_json(r, f, JSON_FORMAT_RAW);
	r->frames++;
	r->groups += f->n_groups;
	if (f->mode == TIC_MODE_HISTORIQUE)
		r->hist_groups += f->n_groups;
	r->frames_in_call++;
	return r->stop ? 1 : 0;
}

/* Feed one chunk, feeding again after each stop, and check what tic_parser_feed() returns. */
static void
feed(struct tic_parser *p, struct run *r, const uint8_t *s, size_t len)
{
	while (len > 0) {
		size_t n;

		r->frames_in_call = 0;
		n = tic_parser_feed(p, s, len);
		CHECK(n <= len);
		if (!r->stop) {
			CHECK(n == len);
		} else if (r->frames_in_call > 0) {
			/* A stop returns at once, just past the byte that ended the frame. */
			CHECK(r->frames_in_call == 1);
			CHECK(n >= 1 && (s[n - 1] & 0x7f) == TIC_ETX);
		} else {
			CHECK(n == len);
		}
		s += n;
		len -= n;
	}
}

static bool
is_control(uint8_t c)
{
	c &= 0x7f;
	return c < 0x20 || c == 0x7f;
}

/* A small deterministic generator, seeded from the input, so that crashes reproduce. */
static uint32_t
xorshift32(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static size_t
next_chunk(unsigned split, unsigned param, const uint8_t *s, size_t len, uint32_t *rng)
{
	size_t n;

	switch (split) {
	case SPLIT_FIXED:
		n = (size_t) param + 1;
		break;
	case SPLIT_RANDOM:
		n = 1 + xorshift32(rng) % (UINT32_C(1) << (param % 13));
		break;
	case SPLIT_CONTROL:
		if (is_control(s[0]))
			return 1;
		for (n = 1; n < len && !is_control(s[n]); n++)
			;
		break;
	default:
		n = len;
		break;
	}
	return n < len ? n : len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};
	static struct tic_parser parser;
	static struct run run;
	const struct tic_stats *st;
	unsigned split, param;
	uint32_t rng;

	if (size < 1)
		return 0;
	split = data[0] & 3;
	param = data[0] >> 3;
	rng = 0x9e3779b9u ^ (uint32_t) size ^ ((uint32_t) data[0] << 24);
	memset(&run, 0, offsetof(struct run, json));
	run.stop = (data[0] & OPT_STOP) != 0;
	data++;
	size--;

	tic_parser_init(&parser, &cbs, &run);
	while (size > 0) {
		size_t n = next_chunk(split, param, data, size, &rng);

		feed(&parser, &run, data, n);
		data += n;
		size -= n;
	}
	tic_parser_reset(&parser);

	/* The counters agree with what on_frame saw. */
	st = tic_parser_stats(&parser);
	CHECK(st->frames == run.frames);
	CHECK(st->groups == run.groups);
	CHECK(st->hist_sum_excl + st->hist_sum_incl >= run.hist_groups);
	CHECK(st->errors[TIC_ERR_INDEX(TIC_ERR_FRAMING)] >= st->frames_interrupted);
	return 0;
}
