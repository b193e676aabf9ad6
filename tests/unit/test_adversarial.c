/* SPDX-License-Identifier: MIT */
/* Adversarial tests on the real captures: junk, cut frames, lost CRs, stray STX, checksum-proof
 * corruptions, random bit errors at several rates, mode switches and 8-bit (7E1 read as 8N1)
 * input. The rule throughout: a damaged group may be lost, but no wrong value may come out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

enum {
	STX = 0x02,
	ETX = 0x03,
	EOT = 0x04,
	LF = 0x0a,
	CR = 0x0d,
};

#define ERRS(stats, e) ((stats)->errors[TIC_ERR_INDEX(e)])

static const char *const capture_names[] = {
    "historique-base-mono-01.tic",          "historique-hchp-mono-01.tic",
    "historique-hchp-mono-02.tic",          "historique-hchp-mono-03.tic",
    "historique-hchp-tri-adir-01.tic",      "historique-tempo-mono-01.tic",
    "historique-tempo-mono-02.tic",         "standard-mono-base-01.tic",
    "standard-mono-prod-hchp-noise-01.tic", "standard-tri-tempo-noise-01.tic",
};

/* ---- Captures and where their valid groups are -------------------------------------------- */

/* A group of a delivered frame, located in the capture's bytes. */
struct cap_group {
	size_t lf, cr;           /* its LF and CR */
	size_t value, value_len; /* its value */
	size_t horodate;         /* its horodate, 0 if none */
	size_t frame;            /* index of its frame in the clean decode */
	const struct rec_group *rec;
};

struct capture {
	const char *name;
	char *data;
	size_t len;
	struct rec clean;
	size_t *start;           /* per clean frame: offset of the STX that opened it */
	struct tic_stats *alone; /* per clean frame: the counters of its STX..ETX decoded alone */
	struct cap_group *groups;
	size_t n_groups;
};

/* The decoded group of frame f that the group text t[0..n) (between LF and CR) produced, if any. */
static const struct rec_group *
match_group(const struct rec_frame *f, const char *t, size_t n, size_t *ret_value,
            size_t *ret_value_len, size_t *ret_horodate)
{
	char label[TIC_LABEL_MAX + 1];
	const struct rec_group *g;
	const char *sep, *value, *end = t + n - 2;

	if (n < 3 || (*end != ' ' && *end != '\t'))
		return NULL;
	sep = memchr(t, *end, n - 2);
	if (!sep || sep == t || (size_t) (sep - t) > TIC_LABEL_MAX)
		return NULL;
	memcpy(label, t, (size_t) (sep - t));
	label[sep - t] = '\0';
	g = rec_find(f, label);
	if (!g)
		return NULL;
	value = sep + 1;
	*ret_horodate = 0;
	if (g->horodate) {
		if (end - value < TIC_HORODATE_LEN + 1 ||
		    memcmp(value, g->horodate, TIC_HORODATE_LEN) != 0)
			return NULL;
		*ret_horodate = (size_t) (value - t);
		value += TIC_HORODATE_LEN + 1;
	}
	if ((size_t) (end - value) != strlen(g->value) ||
	    memcmp(value, g->value, (size_t) (end - value)) != 0)
		return NULL;
	*ret_value = (size_t) (value - t);
	*ret_value_len = (size_t) (end - value);
	return g;
}

static void
capture_locate_groups(struct capture *c, size_t k)
{
	const struct rec_frame *f = &c->clean.frames[k];
	size_t etx = f->end - 1, found = 0;

	for (size_t p = c->start[k] + 1; p < etx; p++) {
		struct cap_group *cg;
		const struct rec_group *g;
		size_t q = p + 1, value, value_len, horodate;

		if (c->data[p] != LF)
			continue;
		while (q < etx && c->data[q] != LF && c->data[q] != CR)
			q++;
		if (c->data[q] != CR)
			continue;
		g = match_group(f, c->data + p + 1, q - p - 1, &value, &value_len, &horodate);
		if (!g)
			continue;
		c->groups = realloc(c->groups, (c->n_groups + 1) * sizeof(*c->groups));
		assert_non_null(c->groups);
		cg = &c->groups[c->n_groups++];
		*cg = (struct cap_group){
		    p, q, p + 1 + value, value_len, horodate ? p + 1 + horodate : 0, k, g};
		found++;
	}
	/* Every delivered group was found in the bytes: the positions below are trustworthy. */
	assert_int_equal(found, f->n_groups);
}

static void
capture_load(struct capture *c, const char *name)
{
	*c = (struct capture){.name = name};
	c->data = read_fixture(name, &c->len);
	rec_decode(&c->clean, c->data, c->len, 0);
	assert_true(c->clean.n_frames > 0);
	c->start = calloc(c->clean.n_frames, sizeof(*c->start));
	c->alone = calloc(c->clean.n_frames, sizeof(*c->alone));
	assert_non_null(c->start);
	assert_non_null(c->alone);
	for (size_t k = 0; k < c->clean.n_frames; k++) {
		const char *etx = c->data + c->clean.frames[k].end - 1;
		const char *stx = etx;
		struct rec r;

		assert_int_equal(*etx, ETX);
		while (*stx != STX)
			stx--;
		c->start[k] = (size_t) (stx - c->data);
		capture_locate_groups(c, k);
		/* Alone, a frame decodes as in the stream: tests can damage and decode one frame.
		 */
		rec_decode(&r, stx, c->clean.frames[k].end - c->start[k], 0);
		assert_int_equal(r.n_frames, 1);
		assert_rec_frame_equal(&r.frames[0], &c->clean.frames[k]);
		c->alone[k] = r.stats;
		rec_free(&r);
	}
}

static void
capture_free(struct capture *c)
{
	rec_free(&c->clean);
	free(c->data);
	free(c->start);
	free(c->alone);
	free(c->groups);
}

/* The clean frame whose STX..ETX span holds offset end (a frame end), or SIZE_MAX. */
static size_t
frame_at(const struct capture *c, size_t end)
{
	for (size_t k = 0; k < c->clean.n_frames; k++)
		if (c->start[k] < end && end <= c->clean.frames[k].end)
			return k;
	return SIZE_MAX;
}

static bool
numeric(const struct tic_label *def)
{
	return def && (def->format == TIC_FMT_DIGITS || def->format == TIC_FMT_ID ||
	               def->format == TIC_FMT_RELAIS);
}

/* Free text: any printable byte is valid there, so nothing but the checksum protects it. */
static bool
free_text(const struct tic_label *def)
{
	return !def || def->format == TIC_FMT_TEXT || def->format == TIC_FMT_OPTARIF;
}

/* ---- Expectations ------------------------------------------------------------------------- */

static void
assert_same_frames(const struct rec *got, const struct rec *want)
{
	assert_int_equal(got->n_frames, want->n_frames);
	for (size_t k = 0; k < want->n_frames; k++)
		assert_rec_frame_equal(&got->frames[k], &want->frames[k]);
}

/* got is clean with the group labelled label (which clean has) removed. */
static void
assert_frame_without(const struct rec_frame *got, const struct rec_frame *clean, const char *label)
{
	unsigned j = 0;

	assert_non_null(rec_find(clean, label));
	assert_null(rec_find(got, label));
	assert_int_equal(got->mode, clean->mode);
	assert_int_equal(got->n_groups + 1, clean->n_groups);
	for (unsigned i = 0; i < clean->n_groups; i++)
		if (strcmp(clean->groups[i].label, label) != 0)
			assert_rec_group_equal(&got->groups[j++], &clean->groups[i]);
}

/* got is the capture's clean decode but for frame k, which check_k (called with label) vets, or
 * which must be missing if check_k is NULL. */
static void
assert_frames_but(const struct rec *got, const struct capture *c, size_t k,
                  void (*check_k)(const struct rec_frame *, const struct rec_frame *, const char *),
                  const char *label)
{
	size_t j = 0;

	assert_int_equal(got->n_frames, c->clean.n_frames - (check_k == NULL));
	for (size_t i = 0; i < c->clean.n_frames; i++) {
		if (i != k)
			assert_rec_frame_equal(&got->frames[j++], &c->clean.frames[i]);
		else if (check_k)
			check_k(&got->frames[j++], &c->clean.frames[i], label);
	}
}

/* got's groups are the last ones of clean, at least one, fewer than all. */
static void
assert_frame_suffix(const struct rec_frame *got, const struct rec_frame *clean, const char *unused)
{
	unsigned skip = clean->n_groups - got->n_groups;

	(void) unused;
	assert_true(got->n_groups >= 1 && got->n_groups < clean->n_groups);
	for (unsigned i = 0; i < got->n_groups; i++)
		assert_rec_group_equal(&got->groups[i], &clean->groups[skip + i]);
}

/* The counters equal want's but for the ones a test expects to move. Groups and the historique
 * variants are left out: the frames themselves are compared. */
static void
assert_stats_delta(const struct tic_stats *got, const struct tic_stats *want, int err,
                   uint64_t errs, uint64_t interrupted, uint64_t skipped)
{
	for (int e = 0; e < TIC_ERR_COUNT; e++)
		assert_int_equal(got->errors[e],
		                 want->errors[e] + (err && e == TIC_ERR_INDEX(err) ? errs : 0));
	assert_int_equal(got->frames_interrupted, want->frames_interrupted + interrupted);
	assert_int_equal(got->frames_empty, want->frames_empty);
	assert_int_equal(got->bytes_skipped, want->bytes_skipped + skipped);
}

/* ---- A deterministic generator, the same on every libc ------------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * UINT64_C(2685821657736338717);
}

static size_t
rng_below(struct rng *r, size_t n)
{
	return (size_t) (rng_next(r) % n);
}

static double
rng_unit(struct rng *r)
{
	return (double) (rng_next(r) >> 11) / 9007199254740992.0;
}

/* A stream built from a capture's bytes with edits. */
static void
decode_edited(struct rec *r, struct bytes *b)
{
	rec_decode(r, b->data, b->len, 0);
	free(b->data);
	*b = (struct bytes){0};
}

/* ---- Framing damage on real captures ------------------------------------------------------ */

/* Junk after every ETX, control and 8-bit bytes included (but never an STX): all skipped. */
static void
test_junk_between_frames(void **state)
{
	struct rng rng = {0x9e3779b97f4a7c15};

	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;
		struct bytes b = {0};
		size_t from = 0, junk = 0;
		struct rec r;

		capture_load(&c, capture_names[i]);
		for (size_t k = 0; k < c.clean.n_frames; k++) {
			size_t end = c.clean.frames[k].end, n = rng_below(&rng, 40);

			bytes_add(&b, c.data + from, end - from);
			from = end;
			for (size_t j = 0; j < n; j++) {
				unsigned char x;

				do
					x = (unsigned char) rng_next(&rng);
				while ((x & 0x7f) == STX);
				bytes_byte(&b, x);
			}
			junk += n;
		}
		bytes_add(&b, c.data + from, c.len - from);
		decode_edited(&r, &b);
		assert_same_frames(&r, &c.clean);
		assert_stats_delta(&r.stats, &c.clean.stats, 0, 0, 0, junk);
		rec_free(&r);
		capture_free(&c);
	}
}

/* One byte inserted at `at` in the capture, the rest as it was. */
static void
insert_byte(struct bytes *b, const struct capture *c, size_t at, unsigned char x)
{
	bytes_add(b, c->data, at);
	bytes_byte(b, x);
	bytes_add(b, c->data + at, c->len - at);
}

/* Index in c->groups of the first located group of frame k, and their number. */
static size_t
frame_groups(const struct capture *c, size_t k, size_t *ret_n)
{
	size_t first = SIZE_MAX, n = 0;

	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i].frame == k) {
			if (first == SIZE_MAX)
				first = i;
			n++;
		}
	*ret_n = n;
	return first;
}

static const struct cap_group *
middle_group(const struct capture *c, size_t k)
{
	size_t n, first = frame_groups(c, k, &n);

	return &c->groups[first + n / 2];
}

/* The groups worth damaging one at a time: the first, middle and last of each frame, where the
 * frame's edges and its inside are; every frame of short captures, every 16th of long ones. */
static bool
sampled(const struct capture *c, size_t g)
{
	size_t k = c->groups[g].frame, n, first = frame_groups(c, k, &n);

	if (c->clean.n_frames > 20 && k % 16)
		return false;
	return g == first || g == first + n / 2 || g == first + n - 1;
}

/* EOT in the middle of any frame loses that frame only. */
static void
test_eot_mid_frame(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;

		capture_load(&c, capture_names[i]);
		for (size_t k = 0; k < c.clean.n_frames; k++) {
			const struct cap_group *g = middle_group(&c, k);
			struct bytes b = {0};
			struct rec r;

			/* Between groups, and inside one. */
			insert_byte(&b, &c, k % 2 ? g->lf : g->value, EOT);
			decode_edited(&r, &b);
			assert_frames_but(&r, &c, k, NULL, NULL);
			assert_int_equal(r.stats.frames_interrupted,
			                 c.clean.stats.frames_interrupted + 1);
			rec_free(&r);
		}
		capture_free(&c);
	}
}

/* A stray STX restarts the frame there: the groups after it come out as a frame of their own. */
static void
test_stx_inside_frame(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;

		capture_load(&c, capture_names[i]);
		for (size_t k = 0; k < c.clean.n_frames; k++) {
			struct bytes b = {0};
			struct rec r;

			insert_byte(&b, &c, middle_group(&c, k)->lf, STX);
			decode_edited(&r, &b);
			assert_frames_but(&r, &c, k, assert_frame_suffix, NULL);
			assert_int_equal(r.stats.frames_interrupted,
			                 c.clean.stats.frames_interrupted + 1);
			rec_free(&r);
		}
		capture_free(&c);
	}
}

/* The capture without the byte at `at`. */
static void
delete_byte(struct bytes *b, const struct capture *c, size_t at)
{
	bytes_add(b, c->data, at);
	bytes_add(b, c->data + at + 1, c->len - at - 1);
}

/* A lost CR loses its group; the next LF or the ETX is where the damage stops. */
static void
test_missing_cr(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;

		capture_load(&c, capture_names[i]);
		for (size_t g = 0; g < c.n_groups; g++) {
			const struct cap_group *cg = &c.groups[g];
			struct bytes b = {0};
			struct rec r;

			if (!sampled(&c, g))
				continue;
			delete_byte(&b, &c, cg->cr);
			decode_edited(&r, &b);
			assert_frames_but(&r, &c, cg->frame, assert_frame_without, cg->rec->label);
			assert_stats_delta(&r.stats, &c.clean.stats, TIC_ERR_FRAMING, 1, 0, 0);
			rec_free(&r);
		}
		capture_free(&c);
	}
}

/* Every occurrence of from replaced by to. */
static void
replace_all(struct bytes *b, const struct capture *c, const char *from, const char *to)
{
	size_t n = strlen(from), at = 0;
	const char *hit;

	while ((hit = memmem(c->data + at, c->len - at, from, n))) {
		bytes_add(b, c->data + at, (size_t) (hit - c->data) - at);
		bytes_str(b, to);
		at = (size_t) (hit - c->data) + n;
	}
	bytes_add(b, c->data + at, c->len - at);
}

static size_t
count_labelled(const struct rec *r, const char *label, const char *value)
{
	size_t n = 0;

	for (size_t k = 0; k < r->n_frames; k++) {
		const struct rec_group *g = rec_find(&r->frames[k], label);

		n += g && strcmp(g->value, value) == 0;
	}
	return n;
}

/* Checksum = SP: "PTEC HP..<SP><SP>" in every frame; an editor's trimmed copy must not pass. */
static void
test_checksum_space(void **state)
{
	struct capture c;
	struct bytes b = {0};
	struct rec r;
	size_t n;

	(void) state;
	capture_load(&c, "historique-hchp-mono-01.tic");
	n = count_labelled(&c.clean, "PTEC", "HP..");
	assert_true(n >= 80);
	replace_all(&b, &c, "\nPTEC HP..  \r", "\nPTEC HP.. \r");
	decode_edited(&r, &b);
	assert_int_equal(count_labelled(&r, "PTEC", "HP.."), 0);
	assert_int_equal(r.n_frames, c.clean.n_frames);
	for (size_t k = 0; k < r.n_frames; k++) {
		if (rec_find(&c.clean.frames[k], "PTEC") &&
		    strcmp(rec_find(&c.clean.frames[k], "PTEC")->value, "HP..") == 0)
			assert_frame_without(&r.frames[k], &c.clean.frames[k], "PTEC");
		else
			assert_rec_frame_equal(&r.frames[k], &c.clean.frames[k]);
	}
	assert_int_equal(ERRS(&r.stats, TIC_ERR_FORMAT), ERRS(&c.clean.stats, TIC_ERR_FORMAT) + n);
	rec_free(&r);
	capture_free(&c);

	/* Standard: SMAXSN-1 and CCASN-1 end in SP in the tri capture. */
	capture_load(&c, "standard-tri-tempo-noise-01.tic");
	assert_true(count_labelled(&c.clean, "SMAXSN-1", "09562") >= 7);
	assert_true(count_labelled(&c.clean, "CCASN-1", "00786") >= 1);
	capture_free(&c);
}

/* DATE's empty value is a value: every standard frame has it; without its field it is wrong. */
static void
test_empty_date(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;
		size_t dates = 0;

		capture_load(&c, capture_names[i]);
		for (size_t g = 0; g < c.n_groups; g++) {
			const struct cap_group *cg = &c.groups[g];
			struct bytes b = {0};
			struct rec r;
			char check;

			if (strcmp(cg->rec->label, "DATE") != 0)
				continue;
			dates++;
			assert_string_equal(cg->rec->value, "");
			assert_int_equal(strlen(cg->rec->horodate), TIC_HORODATE_LEN);
			assert_int_equal(cg->value_len, 0);
			/* "DATE HT horodate HT C": one HT short, checksum made right again. */
			check = tic_check_char(c.data + cg->lf + 1, cg->value - cg->lf - 1);
			bytes_add(&b, c.data, cg->value);
			bytes_byte(&b, (unsigned char) check);
			bytes_add(&b, c.data + cg->cr, c.len - cg->cr);
			decode_edited(&r, &b);
			assert_frames_but(&r, &c, cg->frame, assert_frame_without, "DATE");
			assert_stats_delta(&r.stats, &c.clean.stats, TIC_ERR_FORMAT, 1, 0, 0);
			rec_free(&r);
		}
		/* Frames opened by a noise STX lack their first groups; the others have DATE. */
		if (strncmp(capture_names[i], "standard", 8) == 0)
			assert_true(dates > c.clean.n_frames / 2);
		else
			assert_int_equal(dates, 0);
		capture_free(&c);
	}
}

static void
test_nine_character_labels(void **state)
{
	static const char *const nine[] = {"SMAXSN1-1", "SMAXSN2-1", "SMAXSN3-1"};
	struct capture c;
	size_t full = 0;

	(void) state;
	capture_load(&c, "standard-tri-tempo-noise-01.tic");
	for (size_t k = 0; k < c.clean.n_frames; k++) {
		size_t n = 0;

		for (size_t j = 0; j < N_ELEM(nine); j++) {
			const struct rec_group *g = rec_find(&c.clean.frames[k], nine[j]);

			if (!g)
				continue;
			assert_ptr_equal(g->def, tic_label_find(nine[j], 9));
			assert_non_null(g->horodate);
			assert_int_equal(strlen(g->value), 5);
			n++;
		}
		full += n == N_ELEM(nine);
	}
	/* One frame lost SMAXSN2-1 to line noise. */
	assert_int_equal(c.clean.n_frames, 7);
	assert_int_equal(full, 6);
	capture_free(&c);
}

/* ---- Corruptions the checksum cannot see -------------------------------------------------- */

/* The group text between LF and CR of span passes its checksum (historique, either variant). */
static bool
checksum_holds(const char *t, size_t n)
{
	char c = t[n - 1];

	if (t[n - 2] == '\t')
		return tic_check_char(t, n - 1) == c;
	return tic_check_char(t, n - 2) == c || tic_check_char(t, n - 1) == c;
}

/* Frame k of c with its group cg's text replaced by text[0..n): the group must be dropped as
 * `err` while its checksum still holds, and nothing else of the frame change. */
static void
expect_dropped(const struct capture *c, const struct cap_group *cg, const char *text, size_t n,
               int err)
{
	size_t k = cg->frame, stx = c->start[k], etx = c->clean.frames[k].end;
	struct bytes b = {0};
	struct rec r;

	assert_true(checksum_holds(text, n));
	bytes_add(&b, c->data + stx, cg->lf + 1 - stx);
	bytes_add(&b, text, n);
	bytes_add(&b, c->data + cg->cr, etx - cg->cr);
	rec_decode(&r, b.data, b.len, 0);
	assert_int_equal(r.n_frames, 1);
	assert_frame_without(&r.frames[0], &c->clean.frames[k], cg->rec->label);
	assert_stats_delta(&r.stats, &c->alone[k], err, 1, 0, 0);
	rec_free(&r);
	free(b.data);
}

/* Whether byte p of group cg is a digit of its number or of its horodate. */
static bool
number_digit(const struct capture *c, const struct cap_group *cg, size_t p)
{
	bool in_value = p >= cg->value && p < cg->value + cg->value_len;

	(void) c;
	if (!numeric(cg->rec->def))
		return false;
	return in_value ||
	       (cg->horodate && p > cg->horodate && p < cg->horodate + TIC_HORODATE_LEN);
}

/* Whether byte p of group cg is a space of its free-text value. */
static bool
text_space(const struct capture *c, const struct cap_group *cg, size_t p)
{
	return free_text(cg->rec->def) && p >= cg->value && p < cg->value + cg->value_len &&
	       c->data[p] == ' ';
}

/* Bit 6 flipped (a change of 64 the 6-bit sum cannot see), one byte at a time, on every byte
 * that pick() selects in the groups of the first frames and of every 16th (the first frames hold
 * every label of a capture): format validation must drop the group. Returns how many. */
static size_t
expect_bit6_flips_dropped(bool (*pick)(const struct capture *, const struct cap_group *, size_t))
{
	size_t tried = 0;

	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;

		capture_load(&c, capture_names[i]);
		for (size_t g = 0; g < c.n_groups; g++) {
			const struct cap_group *cg = &c.groups[g];
			size_t n = cg->cr - cg->lf - 1;
			char text[TIC_GROUP_MAX + 1];

			if (cg->frame >= 2 && cg->frame % 16)
				continue;
			memcpy(text, c.data + cg->lf + 1, n);
			for (size_t p = cg->lf + 1; p < cg->cr - 2; p++) {
				if (!pick(&c, cg, p))
					continue;
				text[p - cg->lf - 1] ^= 0x40;
				expect_dropped(&c, cg, text, n, TIC_ERR_FORMAT);
				text[p - cg->lf - 1] ^= 0x40;
				tried++;
			}
		}
		capture_free(&c);
	}
	return tried;
}

/* Every digit of every numeric value and horodate ('0' -> 'p'). */
static void
test_bit6_flips_in_numbers(void **state)
{
	(void) state;
	assert_true(expect_bit6_flips_dropped(number_digit) > 1000);
}

/* Every space of every free-text value (NGTF, LTARF, MSG1, an unknown label's...): a backquote,
 * which no meter sends. The group is dropped as a format error, the rest of its frame delivered.
 * Lower case, which a meter does send, stays valid text. */
static void
test_bit6_flips_in_text(void **state)
{
	struct capture c;
	const struct rec_group *ngtf;

	(void) state;
	assert_true(expect_bit6_flips_dropped(text_space) > 100);
	capture_load(&c, "standard-mono-base-01.tic");
	ngtf = rec_find(&c.clean.frames[0], "NGTF");
	assert_non_null(ngtf);
	assert_string_equal(ngtf->value, "base            ");
	capture_free(&c);
}

/* A digit made a letter with the check character made right again ("adjust another byte"),
 * and two spaces slipped into the value (+64): both pass the checksum, neither the format. */
static void
test_checksum_fixed_corruptions(void **state)
{
	size_t tried = 0;

	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;

		capture_load(&c, capture_names[i]);
		for (size_t g = 0; g < c.n_groups; g++) {
			const struct cap_group *cg = &c.groups[g];
			size_t n = cg->cr - cg->lf - 1, v = cg->value - cg->lf - 1;
			bool hist = c.data[cg->cr - 2] == ' ';
			char text[TIC_GROUP_MAX + 3];

			if (!numeric(cg->rec->def))
				continue;
			memcpy(text, c.data + cg->lf + 1, n);
			text[v] = 'O';
			text[n - 1] = tic_check_char(text, n - 1 - hist);
			expect_dropped(&c, cg, text, n, TIC_ERR_FORMAT);

			memcpy(text, c.data + cg->lf + 1, v + 1);
			memcpy(text + v + 1, "  ", 2);
			memcpy(text + v + 3, c.data + cg->lf + 1 + v + 1, n - v - 1);
			expect_dropped(&c, cg, text, n + 2, TIC_ERR_FORMAT);
			tried++;
		}
		capture_free(&c);
	}
	assert_true(tried > 100);
}

/* ---- Random bit errors -------------------------------------------------------------------- */

struct noise_totals {
	size_t frames, touched, delivered_touched, groups;
};

/*
 * Flip one random bit in some of the capture's valid groups, each group hit with the probability
 * that a byte error at `rate` lands in it. One error per group at most: two errors in one group
 * can cancel in a 6-bit sum ('2'->'3' and '5'->'4'), which no decoder can detect. Bit 6 of free
 * text is spared for the same reason: it turns a digit or a sign into lower case and back
 * ('1' <-> 'q'), text with the same sum (only a space's, '`', is refused: test_bit6_flips_in_text).
 * Returns the per-frame "touched" flags.
 */
static bool *
corrupt(const struct capture *c, char *data, double rate, struct rng *rng)
{
	bool *touched = calloc(c->clean.n_frames, sizeof(*touched));

	assert_non_null(touched);
	for (size_t g = 0; g < c->n_groups; g++) {
		const struct cap_group *cg = &c->groups[g];
		size_t len = cg->cr - cg->lf + 1, p = cg->lf + rng_below(rng, len);
		bool text =
		    free_text(cg->rec->def) && p >= cg->value && p < cg->value + cg->value_len;
		unsigned bit;

		if (rng_unit(rng) >= rate * (double) len)
			continue;
		do
			bit = (unsigned) rng_below(rng, 8);
		while (text && bit == 6);
		data[p] = (char) (data[p] ^ (1u << bit));
		touched[cg->frame] = true;
	}
	return touched;
}

/* Every frame of the noisy decode holds only groups of the clean frame it lies in, with the same
 * values; every frame the noise missed comes out identical. */
static void
check_noisy(const struct capture *c, const struct rec *noisy, const bool *touched,
            struct noise_totals *t)
{
	size_t next = 0;

	for (size_t i = 0; i < noisy->n_frames; i++) {
		const struct rec_frame *f = &noisy->frames[i];
		size_t k = frame_at(c, f->end);

		if (k == SIZE_MAX)
			fail_msg("%s: frame ending at %zu lies in no clean frame", c->name, f->end);
		assert_int_equal(f->mode, c->clean.frames[k].mode);
		for (unsigned j = 0; j < f->n_groups; j++) {
			const struct rec_group *g = &f->groups[j];
			const struct rec_group *want = rec_find(&c->clean.frames[k], g->label);

			if (!want)
				fail_msg("%s frame %zu: %s=\"%s\" came out of nothing", c->name, k,
				         g->label, g->value);
			assert_rec_group_equal(g, want);
		}
		t->groups += f->n_groups;
		if (touched[k])
			t->delivered_touched++;
	}
	for (size_t k = 0; k < c->clean.n_frames; k++) {
		if (touched[k]) {
			t->touched++;
			continue;
		}
		while (next < noisy->n_frames && noisy->frames[next].end < c->clean.frames[k].end)
			next++;
		if (next == noisy->n_frames || noisy->frames[next].end != c->clean.frames[k].end)
			fail_msg("%s: untouched frame %zu not delivered", c->name, k);
		assert_rec_frame_equal(&noisy->frames[next], &c->clean.frames[k]);
	}
	t->frames += c->clean.n_frames;
}

static void
test_random_bit_errors(void **state)
{
	static const double rates[] = {1e-4, 1e-3, 1e-2, 3e-2};
	struct capture caps[N_ELEM(capture_names)];
	const int iterations = 100;

	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++)
		capture_load(&caps[i], capture_names[i]);
	for (size_t ri = 0; ri < N_ELEM(rates); ri++) {
		struct rng rng = {0x2545f4914f6cdd1d + ri};
		struct noise_totals t = {0};

		for (int it = 0; it < iterations; it++) {
			for (size_t i = 0; i < N_ELEM(caps); i++) {
				const struct capture *c = &caps[i];
				char *data = malloc(c->len);
				bool *touched;
				struct rec noisy;

				assert_non_null(data);
				memcpy(data, c->data, c->len);
				touched = corrupt(c, data, rates[ri], &rng);
				/* Fed whole, or in small pieces: the two paths must agree. */
				rec_decode(&noisy, data, c->len, it % 4 ? 0 : 1 + (size_t) it % 7);
				check_noisy(c, &noisy, touched, &t);
				rec_free(&noisy);
				free(touched);
				free(data);
			}
		}
		print_message("rate %g: %zu frames, %zu touched, %zu frames out of those, %zu "
		              "groups\n",
		              rates[ri], t.frames, t.touched, t.delivered_touched, t.groups);
		/* The noise did reach frames, and damaged frames still gave their good groups. */
		assert_true(t.touched > 0);
		if (rates[ri] >= 1e-3)
			assert_true(t.delivered_touched > t.touched / 4);
	}
	for (size_t i = 0; i < N_ELEM(caps); i++)
		capture_free(&caps[i]);
}

/* Noise anywhere (frame bytes included), any byte value, several errors per group: values can
 * then be wrong in ways no 6-bit checksum sees, but whatever comes out is still well-formed. */
static void
check_well_formed(const struct rec *r)
{
	for (size_t k = 0; k < r->n_frames; k++) {
		const struct rec_frame *f = &r->frames[k];

		assert_true(f->n_groups >= 1 && f->n_groups <= TIC_FRAME_GROUPS);
		assert_true(f->mode == TIC_MODE_HISTORIQUE || f->mode == TIC_MODE_STANDARD);
		for (unsigned j = 0; j < f->n_groups; j++) {
			const struct rec_group *g = &f->groups[j];
			struct tic_datetime dt;

			assert_ptr_equal(g->def, tic_label_find(g->label, strlen(g->label)));
			for (unsigned i = 0; i < j; i++)
				assert_string_not_equal(f->groups[i].label, g->label);
			if (g->horodate) {
				assert_int_equal(f->mode, TIC_MODE_STANDARD);
				assert_int_equal(tic_horodate_parse(g->horodate, &dt), 0);
			}
			if (!g->def) {
				for (const char *s = g->value; *s; s++)
					assert_true(*s >= 0x20 && *s <= 0x7e);
				continue;
			}
			assert_int_equal(g->def->mode, f->mode);
			assert_int_equal(!!(g->def->flags & TIC_LF_HORODATE), g->horodate != NULL);
			assert_int_equal(tic_label_check(g->def, g->value, strlen(g->value)), 0);
		}
	}
}

static void
test_heavy_noise_well_formed(void **state)
{
	static const double rates[] = {1e-2, 5e-2, 2e-1};
	struct rng rng = {0xd1b54a32d192ed03};

	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		size_t len;
		char *clean = read_fixture(capture_names[i], &len);

		for (size_t ri = 0; ri < N_ELEM(rates); ri++) {
			for (int it = 0; it < 12; it++) {
				char *data = malloc(len), *whole, *pieces;
				struct rec r;

				assert_non_null(data);
				for (size_t p = 0; p < len; p++)
					data[p] = rng_unit(&rng) < rates[ri]
					              ? (char) (1 + rng_below(&rng, 255))
					              : clean[p];
				rec_decode(&r, data, len, 0);
				check_well_formed(&r);
				rec_free(&r);
				/* Both JSON forms of everything that came out, fed two ways. */
				whole =
				    decode_lines(data, len, 0, (enum json_format)(it % 2), NULL);
				pieces = decode_lines(data, len, 1 + (size_t) it % 5,
				                      (enum json_format)(it % 2), NULL);
				assert_string_equal(whole, pieces);
				free(whole);
				free(pieces);
				free(data);
			}
		}
		free(clean);
	}
}

/* ---- Modes and line settings -------------------------------------------------------------- */

static void
assert_stats_sum(const struct tic_stats *got, const struct tic_stats *a, const struct tic_stats *b)
{
	assert_int_equal(got->frames, a->frames + b->frames);
	assert_int_equal(got->groups, a->groups + b->groups);
	for (int e = 0; e < TIC_ERR_COUNT; e++)
		assert_int_equal(got->errors[e], a->errors[e] + b->errors[e]);
	assert_int_equal(got->frames_interrupted, a->frames_interrupted + b->frames_interrupted);
	assert_int_equal(got->frames_empty, a->frames_empty + b->frames_empty);
	assert_int_equal(got->hist_sum_excl, a->hist_sum_excl + b->hist_sum_excl);
	assert_int_equal(got->hist_sum_incl, a->hist_sum_incl + b->hist_sum_incl);
	assert_int_equal(got->bytes_skipped, a->bytes_skipped + b->bytes_skipped);
}

/* A meter switched from historique to standard (or back) mid-stream: both decoded, each frame in
 * its own mode, as if the captures had been read apart. */
static void
test_mode_switch(void **state)
{
	static const char *const pairs[][2] = {
	    /* ends after ETX; the next starts mid-frame */
	    {"historique-hchp-mono-03.tic", "standard-tri-tempo-noise-01.tic"},
	    /* ends mid-frame, cut by the next STX */
	    {"historique-hchp-mono-01.tic", "standard-mono-base-01.tic"},
	    {"standard-mono-base-01.tic", "historique-tempo-mono-01.tic"},
	    /* ends mid-group */
	    {"standard-mono-prod-hchp-noise-01.tic", "historique-base-mono-01.tic"},
	};

	(void) state;
	for (size_t i = 0; i < N_ELEM(pairs); i++) {
		struct capture a, b;
		struct bytes s = {0};
		struct rec r;

		capture_load(&a, pairs[i][0]);
		capture_load(&b, pairs[i][1]);
		bytes_add(&s, a.data, a.len);
		bytes_add(&s, b.data, b.len);
		decode_edited(&r, &s);
		assert_int_equal(r.n_frames, a.clean.n_frames + b.clean.n_frames);
		for (size_t k = 0; k < r.n_frames; k++) {
			const struct rec *from = k < a.clean.n_frames ? &a.clean : &b.clean;
			size_t kk = k < a.clean.n_frames ? k : k - a.clean.n_frames;

			assert_rec_frame_equal(&r.frames[k], &from->frames[kk]);
			assert_int_equal(r.frames[k].mode, pairs[i][k >= a.clean.n_frames][0] == 'h'
			                                       ? TIC_MODE_HISTORIQUE
			                                       : TIC_MODE_STANDARD);
		}
		assert_stats_sum(&r.stats, &a.clean.stats, &b.clean.stats);
		rec_free(&r);
		capture_free(&a);
		capture_free(&b);
	}
}

/* A historique meter in "mode 2" (last SP summed): same frames, every group counted as such. */
static void
test_historique_mode2(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;
		struct rec r;
		char *data;

		if (strncmp(capture_names[i], "historique", 10) != 0)
			continue;
		capture_load(&c, capture_names[i]);
		data = malloc(c.len);
		assert_non_null(data);
		memcpy(data, c.data, c.len);
		for (size_t g = 0; g < c.n_groups; g++) {
			char *check = data + c.groups[g].cr - 1;
			int sum = *check - 0x20;

			/* The last SP summed too: 32 more. */
			*check = (char) (((sum + ' ') & 0x3f) + 0x20);
		}
		rec_decode(&r, data, c.len, 0);
		assert_same_frames(&r, &c.clean);
		assert_int_equal(r.stats.hist_sum_incl, c.n_groups);
		/* Groups of frames that never ended were left as they were. */
		assert_int_equal(r.stats.hist_sum_excl, c.clean.stats.hist_sum_excl - c.n_groups);
		assert_int_equal(c.clean.stats.hist_sum_incl, 0);
		rec_free(&r);
		free(data);
		capture_free(&c);
	}
}

static bool
odd_parity(unsigned char x)
{
	return __builtin_popcount(x) & 1;
}

/* The capture as a 7E1 line read 8N1 delivers it: the parity bit in bit 7, set when the seven
 * data bits hold an odd number of ones. */
static char *
as_8n1(const struct capture *c)
{
	char *d = malloc(c->len);

	assert_non_null(d);
	for (size_t i = 0; i < c->len; i++) {
		unsigned char x = (unsigned char) c->data[i];

		d[i] = (char) (odd_parity(x) ? x | 0x80 : x);
	}
	return d;
}

static void
test_8n1_decodes_the_same(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;
		char *d;
		struct rec r;
		size_t high = 0;

		capture_load(&c, capture_names[i]);
		d = as_8n1(&c);
		for (size_t j = 0; j < c.len; j++)
			high += (unsigned char) d[j] >> 7;
		assert_true(high > c.len / 4);
		rec_decode(&r, d, c.len, 0);
		assert_same_frames(&r, &c.clean);
		for (size_t k = 0; k < r.n_frames; k++)
			assert_int_equal(r.frames[k].end, c.clean.frames[k].end);
		assert_memory_equal(&r.stats, &c.clean.stats, sizeof(r.stats));
		assert_int_equal(r.stats.bytes_bad_parity, 0); /* even parity: all good */
		rec_free(&r);
		free(d);
		capture_free(&c);
	}
}

/* In the 8N1 stream, a byte whose parity went wrong drops its group (and only it); outside a
 * frame it is a skipped byte. Either way it is counted as a bad-parity byte. */
static void
test_8n1_bad_parity(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(capture_names); i++) {
		struct capture c;
		char *d;

		capture_load(&c, capture_names[i]);
		d = as_8n1(&c);
		for (size_t g = 0; g < c.n_groups; g++) {
			const struct cap_group *cg = &c.groups[g];
			size_t p = cg->lf + 1;
			struct rec r;

			if (!sampled(&c, g))
				continue;
			/* A byte sent without its parity bit set: setting bit 7 makes it odd. */
			while (d[p] & 0x80)
				p++;
			assert_true(p < cg->cr);
			d[p] = (char) (d[p] | 0x80);
			rec_decode(&r, d, c.len, 0);
			assert_frames_but(&r, &c, cg->frame, assert_frame_without, cg->rec->label);
			/* The rest of the group, CR included, is skipped up to the next LF. */
			assert_stats_delta(&r.stats, &c.clean.stats, TIC_ERR_BYTE, 1, 0,
			                   cg->cr - p);
			assert_int_equal(r.stats.bytes_bad_parity, 1);
			rec_free(&r);
			d[p] = (char) (d[p] & 0x7f);
		}
		/* Between frames: the byte after the first ETX, given a wrong parity bit. */
		{
			size_t p = c.clean.frames[0].end;
			struct bytes b = {0};
			struct rec r;

			bytes_add(&b, d, p);
			bytes_byte(&b, 0x80 | 'x'); /* 'x' has four ones: with bit 7, five */
			bytes_add(&b, d + p, c.len - p);
			decode_edited(&r, &b);
			assert_same_frames(&r, &c.clean);
			assert_stats_delta(&r.stats, &c.clean.stats, 0, 0, 0, 1);
			assert_int_equal(r.stats.bytes_bad_parity, 1);
			rec_free(&r);
		}
		free(d);
		capture_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_junk_between_frames),
	    cmocka_unit_test(test_eot_mid_frame),
	    cmocka_unit_test(test_stx_inside_frame),
	    cmocka_unit_test(test_missing_cr),
	    cmocka_unit_test(test_checksum_space),
	    cmocka_unit_test(test_empty_date),
	    cmocka_unit_test(test_nine_character_labels),
	    cmocka_unit_test(test_bit6_flips_in_numbers),
	    cmocka_unit_test(test_bit6_flips_in_text),
	    cmocka_unit_test(test_checksum_fixed_corruptions),
	    cmocka_unit_test(test_random_bit_errors),
	    cmocka_unit_test(test_heavy_noise_well_formed),
	    cmocka_unit_test(test_mode_switch),
	    cmocka_unit_test(test_historique_mode2),
	    cmocka_unit_test(test_8n1_decodes_the_same),
	    cmocka_unit_test(test_8n1_bad_parity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
