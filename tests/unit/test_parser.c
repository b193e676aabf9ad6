/* SPDX-License-Identifier: MIT */
/* Unit tests of the streaming parser: the checksum of both modes on the spec's worked groups, group
 * shapes, framing (STX/ETX/EOT, junk, missing CR, size limits), the callback's stop, reset and the
 * one-mode-per-frame rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define STX "\x02"
#define ETX "\x03"
#define EOT "\x04"

#define ERR(e) (stats->errors[TIC_ERR_INDEX(e)])

/* Decode a stream built by the test and free it. */
static void
decode_bytes(struct rec *r, struct bytes *b)
{
	rec_decode(r, b->data, b->len, 0);
	free(b->data);
	*b = (struct bytes){0};
}

/* LF text CR for texts that carry their own check character. */
static void
add_text(struct bytes *b, const char *text)
{
	bytes_byte(b, '\n');
	bytes_str(b, text);
	bytes_byte(b, '\r');
}

/* LF body C CR: body ends with its last separator; C is summed the way of that separator's mode,
 * so that shapes the builder cannot express still carry a right checksum. */
static void
add_checked(struct bytes *b, const char *body)
{
	size_t n = strlen(body);

	bytes_byte(b, '\n');
	bytes_str(b, body);
	bytes_byte(b, (unsigned char) tic_check_char(body, n - (body[n - 1] == ' ')));
	bytes_byte(b, '\r');
}

static void
assert_group(const struct rec_group *g, const char *label, const char *value, const char *horodate)
{
	assert_string_equal(g->label, label);
	assert_string_equal(g->value, value);
	if (horodate)
		assert_string_equal(g->horodate, horodate);
	else
		assert_null(g->horodate);
}

/* ---- Checksums ---------------------------------------------------------------------------- */

struct sum_case {
	const char *text; /* between LF and CR, check character included */
	enum tic_mode mode;
	const char *label, *value, *horodate; /* label NULL: the group must be rejected */
	unsigned excl, incl;                  /* historique checksum variant counters */
};

/* The worked examples of docs/tic.md §9 and their near misses. */
static const struct sum_case sum_cases[] = {
    {"HCHC 004070290 \\", TIC_MODE_HISTORIQUE, "HCHC", "004070290", NULL, 1, 0},
    {"PTEC HP..  ", TIC_MODE_HISTORIQUE, "PTEC", "HP..", NULL, 1, 0},
    {"ADCO 811775412275 I", TIC_MODE_HISTORIQUE, "ADCO", "811775412275", NULL, 1, 0},
    {"ADIR1 001 \"", TIC_MODE_HISTORIQUE, "ADIR1", "001", NULL, 1, 0},
    /* "Mode 2": the last SP summed too (764 + 32 = 796 -> '<'; PTEC: ' ' + 32 -> '@'). */
    {"HCHC 004070290 <", TIC_MODE_HISTORIQUE, "HCHC", "004070290", NULL, 0, 1},
    {"PTEC HP.. @", TIC_MODE_HISTORIQUE, "PTEC", "HP..", NULL, 0, 1},
    {"HCHC 004070290 ]", TIC_MODE_HISTORIQUE, NULL, NULL, NULL, 0, 0},
    {"PTEC HP.. !", TIC_MODE_HISTORIQUE, NULL, NULL, NULL, 0, 0},
    {"EAST\t003519702\t*", TIC_MODE_STANDARD, "EAST", "003519702", NULL, 0, 0},
    {"DATE\tH240210121355\t\t;", TIC_MODE_STANDARD, "DATE", "", "H240210121355", 0, 0},
    {"DPM1\t 200214060000\t00\t\\", TIC_MODE_STANDARD, "DPM1", "00", " 200214060000", 0, 0},
    {"SMAXSN-1\tH200213085118\t09562\t ", TIC_MODE_STANDARD, "SMAXSN-1", "09562", "H200213085118",
     0, 0},
    /* Standard always sums the last HT: the historique way (778 - 9 -> '!') is wrong here. */
    {"EAST\t003519702\t!", TIC_MODE_STANDARD, NULL, NULL, NULL, 0, 0},
    {"EAST\t003519702\t+", TIC_MODE_STANDARD, NULL, NULL, NULL, 0, 0},
    {"DATE\tH240210121355\t\t:", TIC_MODE_STANDARD, NULL, NULL, NULL, 0, 0},
};

static void
test_checksum_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(sum_cases) / sizeof(sum_cases[0]); i++) {
		const struct sum_case *c = &sum_cases[i];
		const struct tic_stats *stats;
		struct bytes b = {0};
		struct rec r;

		print_message("%s\n", c->text);
		bytes_str(&b, STX);
		add_text(&b, c->text);
		bytes_str(&b, ETX);
		decode_bytes(&r, &b);
		stats = &r.stats;
		if (c->label) {
			assert_int_equal(r.n_frames, 1);
			assert_int_equal(r.frames[0].mode, c->mode);
			assert_int_equal(r.frames[0].n_groups, 1);
			assert_group(&r.frames[0].groups[0], c->label, c->value, c->horodate);
			assert_int_equal(ERR(TIC_ERR_CHECKSUM), 0);
		} else {
			assert_int_equal(r.n_frames, 0);
			assert_int_equal(ERR(TIC_ERR_CHECKSUM), 1);
			assert_int_equal(stats->frames_empty, 1);
		}
		assert_int_equal(stats->hist_sum_excl, c->excl);
		assert_int_equal(stats->hist_sum_incl, c->incl);
		rec_free(&r);
	}
}

/* The builder's checksums agree with the spec's examples in both modes. */
static void
test_checksum_builder(void **state)
{
	struct bytes b = {0};

	(void) state;
	bytes_group_text(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_group_text(&b, TIC_MODE_STANDARD, "DATE", "H240210121355", "");
	bytes_group_text(&b, TIC_MODE_STANDARD, "DPM1", " 200214060000", "00");
	assert_string_equal(b.data,
	                    "HCHC 004070290 \\DATE\tH240210121355\t\t;DPM1\t 200214060000\t00\t\\");
	free(b.data);
}

/* A meter in "mode 2" and one in the usual mode may both be heard; each group counts once. */
static void
test_checksum_mixed_variants(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	add_text(&b, "HCHC 004070290 \\");
	add_text(&b, "PTEC HP.. @");
	add_text(&b, "ADIR1 001 \"");
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 1);
	assert_int_equal(r.frames[0].n_groups, 3);
	assert_int_equal(stats->hist_sum_excl, 2);
	assert_int_equal(stats->hist_sum_incl, 1);
	rec_free(&r);
}

/* ---- Group shapes ------------------------------------------------------------------------- */

struct shape_case {
	const char *body; /* checksummed by add_checked() */
	int err;          /* 0: accepted */
};

static const struct shape_case shape_cases[] = {
    {"hchc 004070290 ", TIC_ERR_FORMAT},                  /* lower-case label */
    {"HC.C 004070290 ", TIC_ERR_FORMAT},                  /* label character */
    {"HCHC 00407029 ", TIC_ERR_FORMAT},                   /* width */
    {"HCHC 0040 70290 ", TIC_ERR_FORMAT},                 /* SP inside a historique value */
    {"EAST 003519702 ", TIC_ERR_FORMAT},                  /* standard label, historique group */
    {"ADCO\t811775412275\t", TIC_ERR_FORMAT},             /* historique label, standard group */
    {"EAST\tH240210121355\t003519702\t", TIC_ERR_FORMAT}, /* horodate where none goes */
    {"SMAXSN\t00986\t", TIC_ERR_FORMAT},                  /* horodate missing */
    {"DATE\t\t", TIC_ERR_FORMAT},                         /* DATE without its horodate */
    {"DATE\tH240210121355\t0\t", TIC_ERR_FORMAT},         /* DATE's value must be empty */
    {"SMAXSN\tH24021011033\t00986\t", TIC_ERR_FORMAT},    /* 12-character horodate */
    {"SMAXSN\tX240210110331\t00986\t", TIC_ERR_FORMAT},   /* season */
    {"SMAXSN\tH241310110331\t00986\t", TIC_ERR_FORMAT},   /* month 13 */
    {"SMAXSN\tH240210110331\t00\t986\t", TIC_ERR_FORMAT}, /* four separators */
    {"ZZZ9  ", TIC_ERR_FORMAT},                           /* unknown label, empty value */
    {"ZZZ9\t\t", TIC_ERR_FORMAT},                         /* ... in standard mode too */
    {" 004070290 ", TIC_ERR_FORMAT},                      /* empty label */
    {"HCHC 004070290X", TIC_ERR_FORMAT},                  /* no separator before the check */
    {"HCHC 0040\x01"
     "70290 ",
     TIC_ERR_BYTE}, /* control byte */
    {"HCHC 0040\x7f"
     "70290 ",
     TIC_ERR_BYTE},                 /* DEL */
    {"ZZZ9\tsome text\t", 0},       /* unknown labels pass as text */
    {"ZZZ9\tH240210121355\t\t", 0}, /* ... and may be horodated and empty */
    {"ZZZ9 TEXT ", 0},
    {"ZZZ9 TWO WORDS ", TIC_ERR_FORMAT}, /* SP inside an unknown historique value */
    {"OPTARIF BBR  ", TIC_ERR_FORMAT},   /* ... or as Tempo's 4th OPTARIF character */
};

/* Each shape sits between two good groups: only it may be dropped, and only its counter moves. */
static void
test_group_shapes(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
		const struct shape_case *c = &shape_cases[i];
		enum tic_mode mode =
		    strchr(c->body, '\t') ? TIC_MODE_STANDARD : TIC_MODE_HISTORIQUE;
		const char *first = mode == TIC_MODE_STANDARD ? "VTIC" : "ISOUSC";
		const struct tic_stats *stats;
		struct bytes b = {0};
		struct rec r;

		print_message("%s\n", c->body);
		bytes_str(&b, STX);
		bytes_group(&b, mode, first, NULL, "45");
		add_checked(&b, c->body);
		bytes_group(&b, mode, "ZZZ0", NULL, "END");
		bytes_str(&b, ETX);
		decode_bytes(&r, &b);
		stats = &r.stats;
		assert_int_equal(r.n_frames, 1);
		assert_int_equal(r.frames[0].mode, mode);
		assert_int_equal(r.frames[0].n_groups, c->err ? 2 : 3);
		assert_string_equal(r.frames[0].groups[0].label, first);
		assert_string_equal(r.frames[0].groups[r.frames[0].n_groups - 1].label, "ZZZ0");
		for (int e = 0; e < TIC_ERR_COUNT; e++)
			assert_int_equal(stats->errors[e], c->err && e == TIC_ERR_INDEX(c->err));
		if (!c->err)
			assert_null(r.frames[0].groups[1].def);
		rec_free(&r);
	}
}

/* A label appears once per frame; a repeat is a damaged group, known label or not. */
static void
test_duplicate_labels(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070291");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ZZZ9", NULL, "A");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ZZZ9", NULL, "B");
	bytes_str(&b, ETX STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070292");
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 2);
	assert_int_equal(r.frames[0].n_groups, 2);
	assert_group(&r.frames[0].groups[0], "HCHC", "004070290", NULL);
	assert_group(&r.frames[0].groups[1], "ZZZ9", "A", NULL);
	assert_int_equal(ERR(TIC_ERR_FORMAT), 2);
	/* The next frame starts with a clean slate. */
	assert_group(&r.frames[1].groups[0], "HCHC", "004070292", NULL);
	rec_free(&r);
}

/* ---- Framing ------------------------------------------------------------------------------ */

/* Three historique groups of a short triphasé frame. */
static void
add_short_frame_groups(struct bytes *b)
{
	bytes_group(b, TIC_MODE_HISTORIQUE, "ADCO", NULL, "123456789012");
	bytes_group(b, TIC_MODE_HISTORIQUE, "ADIR1", NULL, "001");
	bytes_group(b, TIC_MODE_HISTORIQUE, "IINST1", NULL, "001");
}

static void
assert_short_frame(const struct rec_frame *f)
{
	assert_int_equal(f->mode, TIC_MODE_HISTORIQUE);
	assert_int_equal(f->n_groups, 3);
	assert_group(&f->groups[0], "ADCO", "123456789012", NULL);
	assert_group(&f->groups[1], "ADIR1", "001", NULL);
	assert_group(&f->groups[2], "IINST1", "001", NULL);
	assert_ptr_equal(f->groups[1].def, tic_label_find("ADIR1", 5));
}

static void
assert_no_errors(const struct tic_stats *stats)
{
	for (int e = 0; e < TIC_ERR_COUNT; e++)
		assert_int_equal(stats->errors[e], 0);
	assert_int_equal(stats->frames_interrupted, 0);
	assert_int_equal(stats->frames_empty, 0);
}

static void
test_frame_delivered(void **state)
{
	struct bytes b = {0};
	size_t len;
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	add_short_frame_groups(&b);
	bytes_str(&b, ETX);
	len = b.len;
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(r.frames[0].end, len);
	assert_int_equal(r.stats.frames, 1);
	assert_int_equal(r.stats.groups, 3);
	assert_int_equal(r.stats.bytes_skipped, 0);
	assert_no_errors(&r.stats);
	rec_free(&r);
}

/* Split anywhere, the stream decodes the same: the bulk path and the byte path agree. */
static void
test_frame_any_chunking(void **state)
{
	struct bytes b = {0};
	struct rec whole, piece;

	(void) state;
	bytes_str(&b, "xx" STX);
	add_short_frame_groups(&b);
	bytes_str(&b, ETX "\r\n" STX);
	bytes_group(&b, TIC_MODE_STANDARD, "DATE", "H240210121355", "");
	bytes_str(&b, ETX);
	rec_decode(&whole, b.data, b.len, 0);
	assert_int_equal(whole.n_frames, 2);
	for (size_t chunk = 1; chunk < 8; chunk++) {
		rec_decode(&piece, b.data, b.len, chunk);
		assert_int_equal(piece.n_frames, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_rec_frame_equal(&piece.frames[i], &whole.frames[i]);
			assert_int_equal(piece.frames[i].end, whole.frames[i].end);
		}
		assert_memory_equal(&piece.stats, &whole.stats, sizeof(piece.stats));
		rec_free(&piece);
	}
	rec_free(&whole);
	free(b.data);
}

/* EOT cuts the frame (téléreport): its groups are not delivered, the next frame is. */
static void
test_eot_interrupts(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHP", NULL, "006438891");
	bytes_str(&b, EOT STX "\nHCHC 0040" EOT STX);
	add_short_frame_groups(&b);
	bytes_str(&b, ETX EOT);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(stats->frames_interrupted, 2);
	assert_int_equal(ERR(TIC_ERR_FRAMING), 2);
	/* An EOT outside a frame is only a stray byte. */
	assert_int_equal(stats->bytes_skipped, 1);
	assert_int_equal(stats->groups, 3);
	rec_free(&r);
}

/* A new STX before ETX abandons the frame in progress, even in the middle of a group. */
static void
test_stx_restarts(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_str(&b, STX "\nHCHP 0064" STX);
	add_short_frame_groups(&b);
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(stats->frames_interrupted, 2);
	assert_int_equal(ERR(TIC_ERR_FRAMING), 2);
	rec_free(&r);
}

/* Outside a frame everything but STX is skipped and counted, control bytes included. */
static void
test_outside_bytes_skipped(void **state)
{
	static const char head[] = "HCHC 004070290 \\\r\n\r" ETX EOT "\t\x7f\x01";
	static const char tail[] = "\nPAPP 01090 +\r" ETX;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, head);
	bytes_str(&b, STX);
	add_short_frame_groups(&b);
	bytes_str(&b, ETX);
	bytes_str(&b, tail);
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(r.stats.bytes_skipped, strlen(head) + strlen(tail));
	assert_no_errors(&r.stats);
	rec_free(&r);
}

/* Junk between the groups of a frame is skipped too: a group starts at LF only. */
static void
test_junk_between_groups(void **state)
{
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX "junk\r");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ADCO", NULL, "123456789012");
	bytes_str(&b, "ADIR1 001 \"\r");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ADIR1", NULL, "001");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "IINST1", NULL, "001");
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(r.stats.bytes_skipped, strlen("junk\r") + strlen("ADIR1 001 \"\r"));
	assert_no_errors(&r.stats);
	rec_free(&r);
}

/* A frame without one valid group is not delivered: empty, or every group damaged. */
static void
test_empty_frames(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX ETX STX);
	add_text(&b, "HCHC 004070290 ]");
	add_text(&b, "HCHP 006438891 ");
	bytes_str(&b, ETX STX "\n" ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 0);
	assert_int_equal(stats->frames, 0);
	assert_int_equal(stats->frames_empty, 3);
	assert_int_equal(ERR(TIC_ERR_CHECKSUM), 1);
	/* "HCHP 006438891 " lost its check character; "" at ETX is a cut group. */
	assert_int_equal(ERR(TIC_ERR_FORMAT), 1);
	assert_int_equal(ERR(TIC_ERR_FRAMING), 1);
	rec_free(&r);
}

/* A bad checksum drops that group only; the frame is delivered with the others. */
static void
test_bad_checksum_drops_group(void **state)
{
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ADCO", NULL, "123456789012");
	add_text(&b, "HCHC 004070290 ]");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ADIR1", NULL, "001");
	add_text(&b, "PAPP 01090 ,");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "IINST1", NULL, "001");
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(r.stats.errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)], 2);
	assert_int_equal(r.stats.groups, 3);
	rec_free(&r);
}

/* A lost CR: the LF that follows starts the next group; before ETX the group is lost. */
static void
test_missing_cr(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX "\nHCHC 004070290 \\");
	add_short_frame_groups(&b);
	bytes_str(&b, "\nPAPP 01090 +" ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 1);
	assert_short_frame(&r.frames[0]);
	assert_int_equal(ERR(TIC_ERR_FRAMING), 2);
	assert_int_equal(stats->frames_interrupted, 0);
	rec_free(&r);
}

/* A standard group: label, optional horodate and value of the given lengths, valid checksum. */
static void
add_long_group(struct bytes *b, size_t label_len, bool horodate, size_t value_len)
{
	char label[64], value[512];

	assert_true(label_len < sizeof(label) && value_len < sizeof(value));
	for (size_t i = 0; i < label_len; i++)
		label[i] = (char) ('A' + i % 26);
	label[label_len] = '\0';
	for (size_t i = 0; i < value_len; i++)
		value[i] = (char) ('a' + i % 26);
	value[value_len] = '\0';
	bytes_group(b, TIC_MODE_STANDARD, label, horodate ? "H240210121355" : NULL, value);
}

struct long_case {
	size_t label_len;
	bool horodate;
	size_t value_len;
	bool ok;
};

static const struct long_case long_cases[] = {
    {TIC_LABEL_MAX, false, 10, true},
    {TIC_LABEL_MAX + 1, false, 10, false},
    {4, false, TIC_VALUE_MAX, true},
    {4, false, TIC_VALUE_MAX + 1, false},
    /* The longest group: exactly TIC_GROUP_MAX bytes between LF and CR ... */
    {TIC_LABEL_MAX, true, TIC_VALUE_MAX, true},
    /* ... and one more: over the group limit before the value is even seen. */
    {TIC_LABEL_MAX, true, TIC_VALUE_MAX + 1, false},
    {4, false, TIC_GROUP_MAX * 2, false},
};

static void
test_overlong_fields(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(long_cases) / sizeof(long_cases[0]); i++) {
		const struct long_case *c = &long_cases[i];
		struct bytes b = {0};
		struct rec r;

		print_message("label %zu, horodate %d, value %zu\n", c->label_len, c->horodate,
		              c->value_len);
		bytes_str(&b, STX);
		add_long_group(&b, c->label_len, c->horodate, c->value_len);
		bytes_group(&b, TIC_MODE_STANDARD, "VTIC", NULL, "02");
		bytes_str(&b, ETX);
		decode_bytes(&r, &b);
		assert_int_equal(r.n_frames, 1);
		assert_int_equal(r.frames[0].n_groups, c->ok ? 2 : 1);
		assert_string_equal(r.frames[0].groups[c->ok].label, "VTIC");
		if (c->ok)
			assert_int_equal(strlen(r.frames[0].groups[0].value), c->value_len);
		assert_int_equal(r.stats.errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)], !c->ok);
		assert_int_equal(r.stats.errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)], 0);
		rec_free(&r);
	}
}

/* The 129th group of a frame is one too many; the frame keeps the first 128. */
static void
test_too_many_groups(void **state)
{
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	for (unsigned i = 0; i < TIC_FRAME_GROUPS + 3; i++) {
		char label[8];

		snprintf(label, sizeof(label), "Z%03u", i);
		bytes_group(&b, TIC_MODE_HISTORIQUE, label, NULL, "1");
	}
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_int_equal(r.frames[0].n_groups, TIC_FRAME_GROUPS);
	assert_string_equal(r.frames[0].groups[TIC_FRAME_GROUPS - 1].label, "Z127");
	assert_int_equal(r.stats.errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)], 3);
	rec_free(&r);
}

/* Groups that would overflow the frame buffer are dropped; the frame keeps those that fit. */
static void
test_frame_buffer_full(void **state)
{
	/* Label, HT, value, HT, check: what a group keeps in the buffer. */
	const size_t value_len = 100, stored = 4 + 1 + value_len + 2;
	const size_t fit = TIC_FRAME_BYTES / stored, sent = fit + 3;
	struct bytes b = {0};
	struct rec r;
	char value[128];

	(void) state;
	memset(value, 'v', value_len);
	value[value_len] = '\0';
	bytes_str(&b, STX);
	for (size_t i = 0; i < sent; i++) {
		char label[24];

		snprintf(label, sizeof(label), "Z%03zu", i);
		bytes_group(&b, TIC_MODE_STANDARD, label, NULL, value);
	}
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	assert_int_equal(r.n_frames, 1);
	assert_int_equal(r.frames[0].n_groups, fit);
	assert_int_equal(r.stats.errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)], sent - fit);
	rec_free(&r);
}

/* ---- Callback, reset, mode ---------------------------------------------------------------- */

struct stopper {
	unsigned calls, stop_at;
};

static int
stop_on_frame(const struct tic_frame *frame, void *userdata)
{
	struct stopper *s = userdata;

	assert_int_equal(frame->n_groups, 3);
	return ++s->calls == s->stop_at;
}

static const struct tic_parser_callbacks stop_cbs = {.on_frame = stop_on_frame};

/* on_frame returning non-zero stops feed() right after the ETX; the rest can be fed later. */
static void
test_callback_stops_feed(void **state)
{
	struct stopper s = {.stop_at = 2};
	struct tic_parser *p = malloc(sizeof(*p));
	struct bytes b = {0};
	size_t first_end = 0, second_end;

	(void) state;
	assert_non_null(p);
	for (int i = 0; i < 3; i++) {
		bytes_str(&b, STX);
		add_short_frame_groups(&b);
		bytes_str(&b, ETX);
		if (i == 0)
			first_end = b.len;
	}
	second_end = 2 * first_end;
	tic_parser_init(p, &stop_cbs, &s);
	assert_int_equal(tic_parser_feed(p, b.data, b.len), second_end);
	assert_int_equal(s.calls, 2);
	assert_int_equal(tic_parser_feed(p, b.data + second_end, b.len - second_end),
	                 b.len - second_end);
	assert_int_equal(s.calls, 3);
	assert_int_equal(tic_parser_stats(p)->frames, 3);
	/* Stopping on the very last byte consumes it all. */
	s = (struct stopper){.stop_at = 1};
	assert_int_equal(tic_parser_feed(p, b.data, first_end), first_end);
	assert_int_equal(s.calls, 1);
	free(p);
	free(b.data);
}

/* reset() drops a partial frame and counts it as interrupted; an idle reset counts nothing. */
static void
test_reset_interrupts(void **state)
{
	struct stopper s = {0};
	struct tic_parser *p = malloc(sizeof(*p));
	const struct tic_stats *stats = tic_parser_stats(p);
	struct bytes b = {0};
	size_t cut;

	(void) state;
	assert_non_null(p);
	bytes_str(&b, STX);
	add_short_frame_groups(&b);
	cut = b.len - 5; /* inside the last group */
	bytes_str(&b, ETX);
	tic_parser_init(p, &stop_cbs, &s);
	tic_parser_reset(p);
	assert_int_equal(stats->frames_interrupted, 0);
	assert_int_equal(tic_parser_feed(p, b.data, cut), cut);
	tic_parser_reset(p);
	assert_int_equal(stats->frames_interrupted, 1);
	assert_int_equal(ERR(TIC_ERR_FRAMING), 1);
	tic_parser_reset(p);
	assert_int_equal(stats->frames_interrupted, 1);
	/* The rest of the old frame is outside any frame now. */
	assert_int_equal(tic_parser_feed(p, b.data + cut, b.len - cut), b.len - cut);
	assert_int_equal(s.calls, 0);
	assert_int_equal(stats->bytes_skipped, b.len - cut);
	/* Between groups too, and the counters survive. */
	assert_int_equal(tic_parser_feed(p, b.data, 1), 1);
	tic_parser_reset(p);
	assert_int_equal(stats->frames_interrupted, 2);
	assert_int_equal(tic_parser_feed(p, b.data, b.len), b.len);
	assert_int_equal(s.calls, 1);
	assert_int_equal(stats->frames, 1);
	free(p);
	free(b.data);
}

/* A frame takes the mode of its first valid group; groups of the other mode are rejected. */
static void
test_mode_per_frame(void **state)
{
	const struct tic_stats *stats;
	struct bytes b = {0};
	struct rec r;

	(void) state;
	bytes_str(&b, STX);
	add_text(&b, "EAST\t003519702\t+"); /* invalid: does not set the mode */
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "003519702");
	bytes_group(&b, TIC_MODE_STANDARD, "ZZZ9", NULL, "std");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ZZZ8", NULL, "HIST");
	bytes_str(&b, ETX STX);
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "003519702");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "HCHC", NULL, "004070290");
	bytes_group(&b, TIC_MODE_STANDARD, "DATE", "H240210121355", "");
	bytes_str(&b, ETX);
	decode_bytes(&r, &b);
	stats = &r.stats;
	assert_int_equal(r.n_frames, 2);
	assert_int_equal(r.frames[0].mode, TIC_MODE_HISTORIQUE);
	assert_int_equal(r.frames[0].n_groups, 2);
	assert_group(&r.frames[0].groups[0], "HCHC", "004070290", NULL);
	assert_group(&r.frames[0].groups[1], "ZZZ8", "HIST", NULL);
	assert_int_equal(r.frames[1].mode, TIC_MODE_STANDARD);
	assert_int_equal(r.frames[1].n_groups, 2);
	assert_group(&r.frames[1].groups[0], "EAST", "003519702", NULL);
	assert_group(&r.frames[1].groups[1], "DATE", "", "H240210121355");
	assert_int_equal(ERR(TIC_ERR_CHECKSUM), 1);
	assert_int_equal(ERR(TIC_ERR_FORMAT), 3);
	rec_free(&r);
}

/* An overlong group takes the same bytes however the input is split; the rest is skipped. */
static void
test_overlong_split_independent(void **state)
{
	struct bytes b = {0};
	struct tic_stats first, st;

	(void) state;
	bytes_str(&b, "\x02\n");
	for (int i = 0; i < 200; i++)
		bytes_byte(&b, 'A');
	bytes_str(&b, "\r\x03");
	free(decode_lines(b.data, b.len, 0, JSON_FORMAT_TYPED, &first));
	/* 200 bytes: TIC_GROUP_MAX in the dropped group, the others and the CR skipped. */
	assert_int_equal(first.bytes_skipped, 200 - TIC_GROUP_MAX + 1);
	assert_int_equal(first.errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)], 1);
	for (size_t chunk = 1; chunk <= 16; chunk++) {
		free(decode_lines(b.data, b.len, chunk, JSON_FORMAT_TYPED, &st));
		assert_memory_equal(&st, &first, sizeof(st));
	}
	free(b.data);
}

static void
test_err_names(void **state)
{
	(void) state;
	assert_string_equal(tic_err_name(TIC_ERR_CHECKSUM), "checksum");
	assert_string_equal(tic_err_name(TIC_ERR_FORMAT), "format");
	assert_string_equal(tic_err_name(TIC_ERR_FRAMING), "framing");
	assert_string_equal(tic_err_name(TIC_ERR_OVERLONG), "overlong");
	assert_string_equal(tic_err_name(TIC_ERR_BYTE), "byte");
	assert_string_equal(tic_err_name((enum tic_err) 0), "?");
	assert_string_equal(tic_err_name((enum tic_err) - 6), "?");
	assert_string_equal(tic_err_name((enum tic_err) 3), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_checksum_table),
	    cmocka_unit_test(test_checksum_builder),
	    cmocka_unit_test(test_checksum_mixed_variants),
	    cmocka_unit_test(test_group_shapes),
	    cmocka_unit_test(test_duplicate_labels),
	    cmocka_unit_test(test_frame_delivered),
	    cmocka_unit_test(test_frame_any_chunking),
	    cmocka_unit_test(test_eot_interrupts),
	    cmocka_unit_test(test_stx_restarts),
	    cmocka_unit_test(test_outside_bytes_skipped),
	    cmocka_unit_test(test_junk_between_groups),
	    cmocka_unit_test(test_empty_frames),
	    cmocka_unit_test(test_bad_checksum_drops_group),
	    cmocka_unit_test(test_missing_cr),
	    cmocka_unit_test(test_overlong_fields),
	    cmocka_unit_test(test_too_many_groups),
	    cmocka_unit_test(test_frame_buffer_full),
	    cmocka_unit_test(test_callback_stops_feed),
	    cmocka_unit_test(test_reset_interrupts),
	    cmocka_unit_test(test_mode_per_frame),
	    cmocka_unit_test(test_overlong_split_independent),
	    cmocka_unit_test(test_err_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
