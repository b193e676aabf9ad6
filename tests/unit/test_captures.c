/* SPDX-License-Identifier: MIT */
/*
 * The real captures of tests/data, end to end through the parser and the JSON encoder: the output
 * must be the expected files byte for byte and the counters those of the table below, however the
 * bytes are split between tic_parser_feed() calls. The expected files were generated with linkyd
 * and checked against scripts/tic_reference.py and by hand against docs/tic.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "typed_check.h"

/* What decoding a whole capture gives: struct tic_stats, field by field. */
struct capture {
	const char *name;
	uint64_t frames, groups;
	uint64_t checksum, format, framing, overlong, byte;
	uint64_t interrupted, empty, hist_excl, hist_incl, skipped;
};

static const struct capture captures[] = {
    /* One clean frame. */
    {"historique-base-mono-01", 1, 8, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0},
    /* Starts mid-frame: the 8-group head (119 bytes, up to the first STX) is skipped. The last
     * frame is cut after ISOUSC by the end of the capture: 3 valid groups, 1 framing error, not
     * delivered. 82 complete frames = 913 - 8 - 3 groups. */
    {"historique-hchp-mono-01", 82, 902, 0, 0, 1, 0, 0, 1, 0, 905, 0, 119},
    /* Head (ISOUSC..MOTDETAT, 131 bytes) skipped. The 4 "ADCO 130622778433 D" groups fail the
     * checksum (the source edited the number: sum 933 -> 'E'), so 3 frames of 10 groups; the
     * fourth frame is cut after HCHC by the end of the capture. */
    {"historique-hchp-mono-02", 3, 30, 4, 0, 1, 0, 0, 1, 0, 33, 0, 131},
    /* One clean frame; HCHC's checksum is '\' and PTEC's a space. */
    {"historique-hchp-mono-03", 1, 11, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0},
    /* Long frame (no ADCO), 3 ADIR1 short frames, long frame: all clean. */
    {"historique-hchp-tri-adir-01", 5, 47, 0, 0, 0, 0, 0, 0, 0, 47, 0, 0},
    /* Head (139 bytes) skipped, one full TEMPO frame; the next one is cut in "HHPHC A" + CR
     * (checksum: 'A' instead of 'K'), then a last LF and the end of the capture interrupt it. */
    {"historique-tempo-mono-01", 1, 16, 1, 0, 1, 0, 0, 1, 0, 30, 0, 139},
    /* "ADCO 081524142549 :" fails the checksum (edited by the source: 'D' expected). */
    {"historique-tempo-mono-02", 1, 15, 1, 0, 0, 0, 0, 0, 0, 15, 0, 0},
    /* One clean 38-group frame. */
    {"standard-mono-base-01", 1, 38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* No bad group, but 10 frames interrupted: the noise after "CCAINKlBJ+" holds 6 STX (the
     * first cuts the first frame, the others open and cut empty frames), then "IRMS1<HT>" + STX,
     * "ERQ2<HT>" + STX and "3" + STX, and the final ADSC without CR at the end of the capture.
     * The groups after each noise STX make 3 partial frames (9, 23 and 25 groups), plus 6 full
     * ones. Skipped: the leading ETX and the 25 noise bytes outside groups. */
    {"standard-mono-prod-hchp-noise-01", 9, 344, 0, 0, 10, 0, 0, 10, 0, 0, 0, 26},
    /* Head (1 180 bytes, incl. "EAST  0021849106") skipped. Checksum: EASF09, EASD02, EASF07 with
     * " 00000000", CC@SN-1, NTARF " 3", SMAXSN2-1 " 3366", FPM1 " 0", @COUP, SINSTS1 "0066 ",
     * CC@SN, SMAXSN1 " 3411", NTARF "03" with '@'. Byte: EASD01 and EASF06 ended by 0x0c instead
     * of CR. Framing: the final "P" cut by LF, and the last frame cut by the end of the capture. */
    {"standard-tri-tempo-noise-01", 7, 373, 12, 0, 2, 0, 2, 1, 0, 0, 0, 1180},
};

#define N_CAPTURES (sizeof(captures) / sizeof(captures[0]))

static char *
read_named(const char *name, const char *suffix, size_t *ret_len)
{
	char file[256];
	size_t len;

	snprintf(file, sizeof(file), "%s%s", name, suffix);
	return read_fixture(file, ret_len ? ret_len : &len);
}

static const char *
expected_name(enum json_format format)
{
	return format == JSON_FORMAT_RAW ? ".raw.json" : ".typed.json";
}

/* Byte-for-byte comparison that reports the first differing line rather than two walls of text. */
static void
assert_same_text(const char *got, const char *want, const char *name, const char *what)
{
	size_t i = 0, line = 1, bol = 0;

	if (strcmp(got, want) == 0)
		return;
	for (; got[i] != '\0' && got[i] == want[i]; i++)
		if (got[i] == '\n') {
			line++;
			bol = i + 1;
		}
	fail_msg("%s (%s): differs at line %zu, column %zu:\n  got:  %.*s\n  want: %.*s", name,
	         what, line, i - bol + 1, (int) strcspn(got + bol, "\n"), got + bol,
	         (int) strcspn(want + bol, "\n"), want + bol);
}

static void
assert_stats(const struct tic_stats *st, const struct capture *c, const char *what)
{
	const uint64_t got[] = {st->frames,
	                        st->groups,
	                        st->errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)],
	                        st->errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)],
	                        st->errors[TIC_ERR_INDEX(TIC_ERR_FRAMING)],
	                        st->errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)],
	                        st->errors[TIC_ERR_INDEX(TIC_ERR_BYTE)],
	                        st->frames_interrupted,
	                        st->frames_empty,
	                        st->hist_sum_excl,
	                        st->hist_sum_incl,
	                        st->bytes_skipped};
	const uint64_t want[] = {c->frames,  c->groups,    c->checksum,  c->format,
	                         c->framing, c->overlong,  c->byte,      c->interrupted,
	                         c->empty,   c->hist_excl, c->hist_incl, c->skipped};
	static const char *const names[] = {"frames",
	                                    "groups",
	                                    "checksum errors",
	                                    "format errors",
	                                    "framing errors",
	                                    "overlong errors",
	                                    "byte errors",
	                                    "frames interrupted",
	                                    "frames empty",
	                                    "historique checksums",
	                                    "historique checksums with the last SP",
	                                    "bytes skipped"};

	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		if (got[k] != want[k])
			fail_msg("%s: %s: %s %llu, expected %llu", c->name, what, names[k],
			         (unsigned long long) got[k], (unsigned long long) want[k]);
}

/* The whole capture in one feed, both formats: the expected files and the counters. */
static void
test_whole(void **state)
{
	(void) state;
	for (size_t k = 0; k < N_CAPTURES; k++) {
		const struct capture *c = &captures[k];
		size_t len;
		char *data = read_named(c->name, ".tic", &len);

		for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
			struct tic_stats st;
			char *want = read_named(c->name, expected_name(f), NULL);
			char *got = decode_lines(data, len, 0, f, &st);

			assert_same_text(got, want, c->name, json_format_name(f));
			assert_stats(&st, c, "whole");
			free(got);
			free(want);
		}
		free(data);
	}
}

/* Facts checked by hand against docs/tic.md, so that regenerating the expected files from a
 * broken decoder cannot go unnoticed. */
static void
test_hand_checked(void **state)
{
	static const struct {
		const char *name;
		enum json_format format;
		const char *text;
		bool present;
	} facts[] = {
	    /* Checksum '\' (docs/tic.md §9: sum 764) and checksum SP. */
	    {"historique-hchp-mono-03", JSON_FORMAT_TYPED, "\"HCHC\":4070290,", true},
	    {"historique-hchp-mono-03", JSON_FORMAT_RAW, "\"PTEC\":\"HP..\",", true},
	    /* Rejected ADCO groups are nowhere. */
	    {"historique-hchp-mono-02", JSON_FORMAT_RAW, "ADCO", false},
	    {"historique-tempo-mono-02", JSON_FORMAT_RAW, "ADCO", false},
	    {"historique-tempo-mono-02", JSON_FORMAT_RAW, "\"OPTARIF\":\"BBR(\"", true},
	    {"historique-hchp-tri-adir-01", JSON_FORMAT_TYPED,
	     "{\"_mode\":\"historique\",\"ADCO\":\"123456789012\",\"ADIR1\":1,\"IINST1\":1,"
	     "\"IINST2\":9,\"IINST3\":0}",
	     true},
	    /* DATE: empty value, H = UTC+1. */
	    {"standard-mono-base-01", JSON_FORMAT_RAW, "\"DATE\":\"H240210121355|\"", true},
	    {"standard-mono-base-01", JSON_FORMAT_TYPED,
	     "\"DATE\":{\"date\":\"2024-02-10T12:13:55+01:00\"}", true},
	    /* STGE 003A0000 (docs/tic.md §8): standard mode, Euridis secured, CPL new/lock,
	     * index 1. */
	    {"standard-mono-base-01", JSON_FORMAT_TYPED,
	     "\"STGE\":{\"raw\":\"003A0000\",\"dry_contact\":\"closed\",\"breaker\":\"closed\","
	     "\"cover_open\":false,\"overvoltage\":false,\"overload\":false,\"producer\":false,"
	     "\"injecting\":false,\"supplier_index\":1,\"distributor_index\":1,"
	     "\"clock_degraded\":false,\"tic_mode\":\"standard\",\"euridis\":\"enabled_secured\","
	     "\"cpl\":\"new_locked\",\"cpl_synchronised\":false,\"tempo_today\":\"none\","
	     "\"tempo_tomorrow\":\"none\",\"peak_notice\":0,\"peak\":0}",
	     true},
	    {"standard-mono-base-01", JSON_FORMAT_TYPED, "\"RELAIS\":{\"value\":1,\"closed\":[1]}",
	     true},
	    /* 0xC001: index 1, dry contact bits 14-15 = 11 = close. */
	    {"standard-mono-base-01", JSON_FORMAT_TYPED,
	     "\"slots\":[{\"start\":\"00:00\",\"supplier_index\":1,\"dry_contact\":\"close\","
	     "\"virtual_contacts\":0}]}",
	     true},
	    /* STGE 463A0800: supplier index 3, today blanc, tomorrow bleu, PM1 in progress. */
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_TYPED,
	     "\"supplier_index\":3,\"distributor_index\":1,\"clock_degraded\":false,"
	     "\"tic_mode\":\"standard\",\"euridis\":\"enabled_secured\",\"cpl\":\"new_locked\","
	     "\"cpl_synchronised\":false,\"tempo_today\":\"blanc\",\"tempo_tomorrow\":\"bleu\","
	     "\"peak_notice\":0,\"peak\":1}",
	     true},
	    /* Season SP: no UTC offset. Checksum SP on SMAXSN-1. */
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_TYPED,
	     "\"DPM1\":{\"value\":0,\"date\":\"2020-02-14T06:00:00\"}", true},
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_RAW, "\"DPM1\":\" 200214060000|00\"", true},
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_TYPED,
	     "\"SMAXSN-1\":{\"value\":9562,\"date\":\"2020-02-13T08:51:18+01:00\"}", true},
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_TYPED, "\"LTARF\":\"HC  BLANC\"", true},
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_RAW, "\" 00000000\"", false},
	    {"standard-tri-tempo-noise-01", JSON_FORMAT_RAW, "CC@SN", false},
	    /* STGE 003AC701: contact open, producer, injecting, supplier 2, distributor 4. */
	    {"standard-mono-prod-hchp-noise-01", JSON_FORMAT_TYPED,
	     "\"STGE\":{\"raw\":\"003AC701\",\"dry_contact\":\"open\",\"breaker\":\"closed\","
	     "\"cover_open\":false,\"overvoltage\":false,\"overload\":false,\"producer\":true,"
	     "\"injecting\":true,\"supplier_index\":2,\"distributor_index\":4,",
	     true},
	    /* docs/tic.md §7.1: at 00:00 index 2, contact open; at 02:10 index 1, contact
	     * closed. */
	    {"standard-mono-prod-hchp-noise-01", JSON_FORMAT_TYPED,
	     "\"slots\":[{\"start\":\"00:00\",\"supplier_index\":2,\"dry_contact\":\"open\","
	     "\"virtual_contacts\":0},{\"start\":\"02:10\",\"supplier_index\":1,"
	     "\"dry_contact\":\"close\",\"virtual_contacts\":0},",
	     true},
	    {"standard-mono-prod-hchp-noise-01", JSON_FORMAT_RAW, "\"LTARF\":\" HEURE  PLEINE  \"",
	     true},
	    {"standard-mono-prod-hchp-noise-01", JSON_FORMAT_TYPED,
	     "\"RELAIS\":{\"value\":0,"
	     "\"closed\":[]}",
	     true},
	};

	(void) state;
	for (size_t k = 0; k < sizeof(facts) / sizeof(facts[0]); k++) {
		size_t len;
		char *data = read_named(facts[k].name, ".tic", &len);
		char *got = decode_lines(data, len, 0, facts[k].format, NULL);

		if ((strstr(got, facts[k].text) != NULL) != facts[k].present)
			fail_msg("%s (%s): %s expected %s", facts[k].name,
			         json_format_name(facts[k].format), facts[k].text,
			         facts[k].present ? "present" : "absent");
		free(got);
		free(data);
	}
}

/* ---- Typed fields ----------------------------------------------------------------------- */

/* The group labelled label in frame i of r, typed as delivered; the test fails if there is none. */
static const struct tic_group *
typed(const struct rec *r, size_t i, const char *label)
{
	const struct rec_group *g;

	assert_true(i < r->n_frames);
	g = rec_find(&r->frames[i], label);
	if (!g)
		fail_msg("frame %zu: no %s", i, label);
	return &g->group;
}

/* A table label's group: its identity is its row's, spelt as the label. */
static const struct tic_group *
typed_row(const struct rec *r, size_t i, const char *label, enum tic_label_id id)
{
	const struct tic_group *g = typed(r, i, label);

	assert_int_equal(g->id, id);
	assert_ptr_equal(g->def, tic_label_of(id));
	assert_string_equal(tic_label_of(id)->name, label);
	return g;
}

static void
assert_number(const struct rec *r, size_t i, const char *label, enum tic_label_id id, uint64_t want)
{
	assert_int_equal(typed_row(r, i, label, id)->num, want);
}

static void
assert_date(const struct tic_datetime *dt, unsigned year, unsigned month, unsigned day,
            unsigned hour, unsigned minute, unsigned second, int offset_h, bool degraded)
{
	assert_int_equal(dt->year, year);
	assert_int_equal(dt->month, month);
	assert_int_equal(dt->day, day);
	assert_int_equal(dt->hour, hour);
	assert_int_equal(dt->minute, minute);
	assert_int_equal(dt->second, second);
	assert_int_equal(dt->has_offset, offset_h != 0);
	assert_int_equal(dt->utc_offset_h, offset_h);
	assert_int_equal(dt->degraded, degraded);
}

static void
rec_capture(struct rec *r, const char *name)
{
	size_t len;
	char *data = read_named(name, ".tic", &len);

	rec_decode(r, data, len, 0);
	free(data);
}

/* Historique: numbers (leading zeros and all), identifiers as their string, PTEC and DEMAIN as
 * codes, the other formats by identity alone. Values checked by hand against the captures. */
static void
test_typed_historique(void **state)
{
	struct rec r;
	const struct tic_group *g;

	(void) state;
	rec_capture(&r, "historique-hchp-mono-03");
	g = typed_row(&r, 0, "ADCO", TIC_L_ADCO);
	assert_string_equal(g->value, "811775412275"); /* published as it is: no number */
	assert_null(g->horodate);
	typed_row(&r, 0, "OPTARIF", TIC_L_OPTARIF);
	assert_number(&r, 0, "ISOUSC", TIC_L_ISOUSC, 45);
	assert_number(&r, 0, "HCHC", TIC_L_HCHC, 4070290);
	assert_number(&r, 0, "HCHP", TIC_L_HCHP, 6438891);
	assert_int_equal(typed_row(&r, 0, "PTEC", TIC_L_PTEC)->code, TIC_PTEC_HP);
	assert_number(&r, 0, "IINST", TIC_L_IINST, 4);
	assert_number(&r, 0, "IMAX", TIC_L_IMAX, 90);
	assert_number(&r, 0, "PAPP", TIC_L_PAPP, 1090);
	typed_row(&r, 0, "HHPHC", TIC_L_HHPHC);
	typed_row(&r, 0, "MOTDETAT", TIC_L_MOTDETAT);
	rec_free(&r);

	rec_capture(&r, "historique-tempo-mono-01");
	assert_int_equal(typed_row(&r, 0, "PTEC", TIC_L_PTEC)->code, TIC_PTEC_HPJB);
	assert_int_equal(typed_row(&r, 0, "DEMAIN", TIC_L_DEMAIN)->code, TIC_TEMPO_BLEU);
	assert_number(&r, 0, "BBRHCJB", TIC_L_BBRHCJB, 1478389);
	assert_number(&r, 0, "BBRHPJR", TIC_L_BBRHPJR, 6010);
	assert_string_equal(typed_row(&r, 0, "OPTARIF", TIC_L_OPTARIF)->value, "BBR(");
	rec_free(&r);

	rec_capture(&r, "historique-tempo-mono-02");
	assert_int_equal(typed_row(&r, 0, "PTEC", TIC_L_PTEC)->code, TIC_PTEC_HPJW);
	assert_int_equal(typed_row(&r, 0, "DEMAIN", TIC_L_DEMAIN)->code, TIC_TEMPO_NONE);
	rec_free(&r);

	rec_capture(&r, "historique-hchp-tri-adir-01");
	assert_number(&r, 0, "IINST2", TIC_L_IINST2, 1);
	assert_number(&r, 0, "PMAX", TIC_L_PMAX, 8611);
	typed_row(&r, 0, "PPOT", TIC_L_PPOT);
	rec_free(&r);
}

/* Standard: horodates' fields, labels spelt with '-' and '+', STGE decoded, RELAIS. */
static void
test_typed_standard(void **state)
{
	struct rec r;
	const struct tic_group *g;
	const struct tic_stge *st;

	(void) state;
	rec_capture(&r, "standard-mono-base-01");
	g = typed_row(&r, 0, "DATE", TIC_L_DATE);
	assert_string_equal(g->value, "");
	assert_date(&g->date, 2024, 2, 10, 12, 13, 55, 1, false); /* H240210121355 */
	assert_number(&r, 0, "VTIC", TIC_L_VTIC, 2);
	assert_number(&r, 0, "EAST", TIC_L_EAST, 3519702);
	assert_number(&r, 0, "EASF02", TIC_L_EASF02, 0);
	assert_number(&r, 0, "PREF", TIC_L_PREF, 6);
	g = typed_row(&r, 0, "SMAXSN", TIC_L_SMAXSN);
	assert_int_equal(g->num, 986);
	assert_date(&g->date, 2024, 2, 10, 11, 3, 31, 1, false);
	g = typed_row(&r, 0, "SMAXSN-1", TIC_L_SMAXSN_1);
	assert_int_equal(g->num, 1422);
	assert_date(&g->date, 2024, 2, 9, 21, 17, 59, 1, false);
	st = &typed_row(&r, 0, "STGE", TIC_L_STGE)->stge; /* 003A0000 */
	assert_int_equal(st->raw, 0x003A0000);
	assert_false(st->dry_contact_open);
	assert_int_equal(st->breaker, 0);
	assert_int_equal(st->supplier_index, 1);
	assert_int_equal(st->distributor_index, 1);
	assert_true(st->standard_mode);
	assert_int_equal(st->euridis, 3);
	assert_int_equal(st->cpl_status, 1);
	assert_int_equal(st->tempo_today, TIC_TEMPO_NONE);
	assert_number(&r, 0, "RELAIS", TIC_L_RELAIS, 1);
	assert_number(&r, 0, "NTARF", TIC_L_NTARF, 1);
	assert_number(&r, 0, "NJOURF+1", TIC_L_NJOURF_1, 0);
	assert_string_equal(typed_row(&r, 0, "PRM", TIC_L_PRM)->value, "00000000000000");
	typed_row(&r, 0, "PJOURF+1", TIC_L_PJOURF_1); /* decoded where it is published */
	typed_row(&r, 0, "NGTF", TIC_L_NGTF);
	rec_free(&r);

	rec_capture(&r, "standard-tri-tempo-noise-01");
	st = &typed_row(&r, 0, "STGE", TIC_L_STGE)->stge; /* 463A0800 */
	assert_int_equal(st->raw, 0x463A0800);
	assert_int_equal(st->supplier_index, 3);
	assert_int_equal(st->tempo_today, TIC_TEMPO_BLANC);
	assert_int_equal(st->tempo_tomorrow, TIC_TEMPO_BLEU);
	assert_int_equal(st->peak_notice, 0);
	assert_int_equal(st->peak, 1);
	/* Season SP: no offset. */
	g = typed_row(&r, 0, "DPM1", TIC_L_DPM1);
	assert_int_equal(g->num, 0);
	assert_date(&g->date, 2020, 2, 14, 6, 0, 0, 0, false);
	assert_number(&r, 0, "SINSTS3", TIC_L_SINSTS3, 664);
	rec_free(&r);

	rec_capture(&r, "standard-mono-prod-hchp-noise-01");
	st = &typed_row(&r, 1, "STGE", TIC_L_STGE)->stge; /* 003AC701 */
	assert_int_equal(st->raw, 0x003AC701);
	assert_true(st->dry_contact_open);
	assert_true(st->producer);
	assert_true(st->injecting);
	assert_int_equal(st->supplier_index, 2);
	assert_int_equal(st->distributor_index, 4);
	assert_number(&r, 1, "RELAIS", TIC_L_RELAIS, 0);
	assert_number(&r, 1, "EAIT", TIC_L_EAIT, 3626872);
	assert_number(&r, 1, "ERQ4", TIC_L_ERQ4, 5446257);
	g = typed_row(&r, 1, "SMAXIN-1", TIC_L_SMAXIN_1);
	assert_int_equal(g->num, 4301);
	assert_date(&g->date, 2025, 3, 6, 14, 19, 39, 1, false);
	rec_free(&r);
}

/* A label the table does not know, in a real frame: identity TIC_L_UNKNOWN and nothing else but
 * its horodate's fields, whose season may say the clock is degraded (lower case). The frame's
 * other groups are typed as without it. */
static void
test_typed_unknown(void **state)
{
	struct bytes b = {0};
	struct rec r;
	size_t len;
	char *data = read_named("standard-mono-base-01", ".tic", &len);
	const struct tic_group *g;

	(void) state;
	assert_true(len > 2 && data[len - 1] == TIC_ETX);
	bytes_add(&b, data, len - 1);
	bytes_group(&b, TIC_MODE_STANDARD, "FUTUR1", NULL, "42");
	bytes_group(&b, TIC_MODE_STANDARD, "FUTUR2", "e240710153000", "ABC");
	bytes_str(&b, "\x03");
	rec_decode(&r, b.data, b.len, 0);
	assert_int_equal(r.n_frames, 1);
	assert_int_equal(r.frames[0].n_groups, 40);
	g = typed(&r, 0, "FUTUR1");
	assert_int_equal(g->id, TIC_L_UNKNOWN);
	assert_null(g->def);
	assert_string_equal(g->value, "42");
	g = typed(&r, 0, "FUTUR2");
	assert_int_equal(g->id, TIC_L_UNKNOWN);
	assert_date(&g->date, 2024, 7, 10, 15, 30, 0, 2, true);
	assert_number(&r, 0, "EAST", TIC_L_EAST, 3519702);
	rec_free(&r);
	free(b.data);
	free(data);
}

/* Fixed chunk sizes: 1..64 (every alignment of a group), then a few larger ones. */
static void
test_chunks(void **state)
{
	static const size_t big[] = {100, 127, 128, 255, 256, 1000, 4096, 8191};

	(void) state;
	for (size_t k = 0; k < N_CAPTURES; k++) {
		const struct capture *c = &captures[k];
		size_t len;
		char *data = read_named(c->name, ".tic", &len);

		for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
			char *want = read_named(c->name, expected_name(f), NULL);

			for (size_t n = 1; n <= 64 + sizeof(big) / sizeof(big[0]); n++) {
				size_t chunk = n <= 64 ? n : big[n - 65];
				struct tic_stats st;
				char *got = decode_lines(data, len, chunk, f, &st);
				char what[64];

				snprintf(what, sizeof(what), "%s, chunks of %zu",
				         json_format_name(f), chunk);
				assert_same_text(got, want, c->name, what);
				assert_stats(&st, c, what);
				free(got);
			}
			free(want);
		}
		free(data);
	}
}

/*
 * Every split point of every capture. Going through JSON 38 000 times would dominate the run
 * (hchp-mono-01 alone is 14 110 splits x 82 frames), so this sink compares what the parser
 * delivers, from which the JSON is a pure function: each frame's mode and each group's label,
 * horodate, value, table entry and typed fields, as they arrive, with a copy recorded from the
 * whole feed (whose typed fields are checked against the string parsers).
 */
struct recorded_group {
	char label[TIC_LABEL_MAX + 1];
	char horodate[TIC_HORODATE_LEN + 1]; /* "" when the group has none */
	char value[TIC_VALUE_MAX + 1];
	const struct tic_label *def;
	struct tic_group typed; /* the group, its strings the copies above */
};

struct recorded_frame {
	enum tic_mode mode;
	unsigned first, n_groups; /* in frames_sink.groups */
};

struct frames_sink {
	struct recorded_frame *frames;
	struct recorded_group *groups;
	size_t n_frames, n_groups, at; /* at: frames seen while checking */
	bool recording, same;
};

static void
record_frame(struct frames_sink *s, const struct tic_frame *f)
{
	s->frames = realloc(s->frames, (s->n_frames + 1) * sizeof(*s->frames));
	s->groups = realloc(s->groups, (s->n_groups + f->n_groups) * sizeof(*s->groups));
	assert_non_null(s->frames);
	assert_non_null(s->groups);
	s->frames[s->n_frames++] =
	    (struct recorded_frame){f->mode, (unsigned) s->n_groups, f->n_groups};
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];
		struct recorded_group *r = &s->groups[s->n_groups++];

		assert_true(strlen(g->label) <= TIC_LABEL_MAX);
		assert_true(strlen(g->value) <= TIC_VALUE_MAX);
		strcpy(r->label, g->label);
		strcpy(r->horodate, g->horodate ? g->horodate : "");
		strcpy(r->value, g->value);
		r->def = g->def;
		r->typed = *g;
		r->typed.label = r->label;
		r->typed.horodate = g->horodate ? r->horodate : NULL;
		r->typed.value = r->value;
		if (typed_check(&r->typed))
			fail_msg("%s: typed %s wrong", g->label, typed_check(&r->typed));
	}
}

static bool
same_frame(const struct frames_sink *s, const struct tic_frame *f)
{
	const struct recorded_frame *r;

	if (s->at >= s->n_frames)
		return false;
	r = &s->frames[s->at];
	if (r->mode != f->mode || r->n_groups != f->n_groups)
		return false;
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];
		const struct recorded_group *rg = &s->groups[r->first + i];

		if (g->def != rg->def || strcmp(g->label, rg->label) != 0 ||
		    strcmp(g->value, rg->value) != 0 ||
		    strcmp(g->horodate ? g->horodate : "", rg->horodate) != 0 ||
		    !typed_same(g, &rg->typed))
			return false;
	}
	return true;
}

static int
frames_on_frame(const struct tic_frame *frame, void *userdata)
{
	struct frames_sink *s = userdata;

	if (s->recording)
		record_frame(s, frame);
	else if (s->same)
		s->same = same_frame(s, frame);
	s->at++;
	return 0;
}

static const struct tic_parser_callbacks frames_cbs = {.on_frame = frames_on_frame};

/* Feed data[0..len) cut at each of cuts[0..n) (ascending), then reset like the end of input. */
static void
feed_cut(struct tic_parser *p, struct frames_sink *s, const char *data, size_t len,
         const size_t *cuts, size_t n)
{
	size_t from = 0;

	tic_parser_init(p, &frames_cbs, s);
	for (size_t k = 0; k <= n; k++) {
		size_t to = k < n ? cuts[k] : len;

		assert_int_equal(tic_parser_feed(p, data + from, to - from), to - from);
		from = to;
	}
	tic_parser_reset(p);
}

static void
test_every_split_point(void **state)
{
	struct tic_parser *p = malloc(sizeof(*p));

	(void) state;
	assert_non_null(p);
	for (size_t k = 0; k < N_CAPTURES; k++) {
		const struct capture *c = &captures[k];
		struct frames_sink s = {.recording = true};
		size_t len;
		char *data = read_named(c->name, ".tic", &len);

		feed_cut(p, &s, data, len, NULL, 0);
		assert_stats(tic_parser_stats(p), c, "recording");
		s.recording = false;
		for (size_t i = 0; i <= len; i++) {
			char what[64];

			s.at = 0;
			s.same = true;
			feed_cut(p, &s, data, len, &i, 1);
			if (!s.same || s.at != s.n_frames)
				fail_msg("%s: frames differ when split at %zu", c->name, i);
			snprintf(what, sizeof(what), "split at %zu", i);
			assert_stats(tic_parser_stats(p), c, what);
		}
		assert_int_equal(s.n_frames, c->frames);
		free(s.frames);
		free(s.groups);
		free(data);
	}
	free(p);
}

/* Three feeds through the JSON encoder (decode_split): every pair (i, j) of the two smallest
 * captures, and a stride of pairs, with co-prime steps so that the cuts land on every kind of
 * byte, on the others. */
static void
test_split_pairs(void **state)
{
	size_t sizes[N_CAPTURES], smallest = 0, second = 1;

	(void) state;
	for (size_t k = 0; k < N_CAPTURES; k++)
		free(read_named(captures[k].name, ".tic", &sizes[k]));
	if (sizes[second] < sizes[smallest]) {
		smallest = 1;
		second = 0;
	}
	for (size_t k = 2; k < N_CAPTURES; k++) {
		if (sizes[k] < sizes[smallest]) {
			second = smallest;
			smallest = k;
		} else if (sizes[k] < sizes[second]) {
			second = k;
		}
	}
	for (size_t k = 0; k < N_CAPTURES; k++) {
		const struct capture *c = &captures[k];
		size_t len, pairs = 0;
		char *data = read_named(c->name, ".tic", &len);
		char *want = read_named(c->name, ".typed.json", NULL);
		bool all = k == smallest || k == second;
		size_t step_i = all ? 1 : len / 29 + 1, step_j = all ? 1 : len / 13 + 3;

		for (size_t i = 0; i <= len; i += step_i)
			for (size_t j = i; j <= len; j += step_j) {
				char *got = decode_split(data, len, i, j, JSON_FORMAT_TYPED);

				if (strcmp(got, want) != 0)
					fail_msg("%s: output differs when split at %zu and %zu",
					         c->name, i, j);
				free(got);
				pairs++;
			}
		/* The small ones must really have been done exhaustively. */
		if (all)
			assert_int_equal(pairs, (len + 1) * (len + 2) / 2);
		free(want);
		free(data);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole),          cmocka_unit_test(test_hand_checked),
	    cmocka_unit_test(test_chunks),         cmocka_unit_test(test_every_split_point),
	    cmocka_unit_test(test_split_pairs),    cmocka_unit_test(test_typed_historique),
	    cmocka_unit_test(test_typed_standard), cmocka_unit_test(test_typed_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
