/* SPDX-License-Identifier: MIT */
/* Unit tests of the JSON encoding: exact typed and raw output for frames built group by group and
 * fed through the parser, buffer limits, every capture parsed back with cJSON and compared with its
 * frames, escapes as cJSON writes them, and the format names. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "json_check.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

#define STGE_003A0000                                                                              \
	"{\"raw\":\"003A0000\",\"dry_contact\":\"closed\",\"breaker\":\"closed\","                 \
	"\"cover_open\":false,\"overvoltage\":false,\"overload\":false,\"producer\":false,"        \
	"\"injecting\":false,\"supplier_index\":1,\"distributor_index\":1,"                        \
	"\"clock_degraded\":false,\"tic_mode\":\"standard\",\"euridis\":\"enabled_secured\","      \
	"\"cpl\":\"new_locked\",\"cpl_synchronised\":false,\"tempo_today\":\"none\","              \
	"\"tempo_tomorrow\":\"none\",\"peak_notice\":0,\"peak\":0}"

#define PROFILE_EXAMPLE                                                                            \
	"00008002 0210C001 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "        \
	"NONUTILE NONUTILE"

/* Decode stream (freed) in format and compare with the expected lines, '\n' after each. */
static void
assert_lines(struct bytes *stream, enum json_format format, const char *expected)
{
	char *got = decode_lines(stream->data, stream->len, 0, format, NULL);

	assert_string_equal(got, expected);
	free(got);
}

/* Both formats of one stream. */
static void
assert_json(struct bytes *stream, const char *typed, const char *raw)
{
	assert_lines(stream, JSON_FORMAT_TYPED, typed);
	assert_lines(stream, JSON_FORMAT_RAW, raw);
	free(stream->data);
	*stream = (struct bytes){0};
}

/* ---- Whole frames ------------------------------------------------------------------------- */

static void
test_historique_frame(void **state)
{
	static const char *const groups[][2] = {
	    {"ADCO", "021728123456"}, {"OPTARIF", "HC.."},    {"ISOUSC", "45"},
	    {"HCHC", "000019212"},    {"HCHP", "000032768"},  {"PTEC", "HP.."},
	    {"IINST", "000"},         {"IMAX", "090"},        {"PAPP", "00420"},
	    {"HHPHC", "A"},           {"MOTDETAT", "000000"},
	};
	struct bytes b = {0};

	(void) state;
	bytes_str(&b, "\x02");
	for (size_t i = 0; i < N_ELEM(groups); i++)
		bytes_group(&b, TIC_MODE_HISTORIQUE, groups[i][0], NULL, groups[i][1]);
	bytes_str(&b, "\x03");
	assert_json(&b,
	            "{\"_mode\":\"historique\",\"ADCO\":\"021728123456\",\"OPTARIF\":\"HC..\","
	            "\"ISOUSC\":45,\"HCHC\":19212,\"HCHP\":32768,\"PTEC\":\"HP..\",\"IINST\":0,"
	            "\"IMAX\":90,\"PAPP\":420,\"HHPHC\":\"A\",\"MOTDETAT\":\"000000\"}\n",
	            "{\"ADCO\":\"021728123456\",\"OPTARIF\":\"HC..\",\"ISOUSC\":\"45\","
	            "\"HCHC\":\"000019212\",\"HCHP\":\"000032768\",\"PTEC\":\"HP..\","
	            "\"IINST\":\"000\",\"IMAX\":\"090\",\"PAPP\":\"00420\",\"HHPHC\":\"A\","
	            "\"MOTDETAT\":\"000000\"}\n");
}

static void
test_standard_frame(void **state)
{
	struct bytes b = {0};

	(void) state;
	bytes_str(&b, "\x02");
	bytes_group(&b, TIC_MODE_STANDARD, "ADSC", NULL, "012345678910");
	bytes_group(&b, TIC_MODE_STANDARD, "VTIC", NULL, "02");
	bytes_group(&b, TIC_MODE_STANDARD, "DATE", "H240210121355", "");
	bytes_group(&b, TIC_MODE_STANDARD, "NGTF", NULL, "base            ");
	bytes_group(&b, TIC_MODE_STANDARD, "LTARF", NULL, " HEURE  PLEINE  ");
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "003519702");
	bytes_group(&b, TIC_MODE_STANDARD, "PREF", NULL, "06");
	bytes_group(&b, TIC_MODE_STANDARD, "SMAXSN", "H240210110331", "00986");
	bytes_group(&b, TIC_MODE_STANDARD, "STGE", NULL, "003A0000");
	bytes_group(&b, TIC_MODE_STANDARD, "PRM", NULL, "00000000000000");
	bytes_group(&b, TIC_MODE_STANDARD, "NTARF", NULL, "01");
	bytes_str(&b, "\x03");
	assert_json(&b,
	            "{\"_mode\":\"standard\",\"ADSC\":\"012345678910\",\"VTIC\":2,"
	            "\"DATE\":{\"date\":\"2024-02-10T12:13:55+01:00\"},\"NGTF\":\"base\","
	            "\"LTARF\":\"HEURE  PLEINE\",\"EAST\":3519702,\"PREF\":6,"
	            "\"SMAXSN\":{\"value\":986,\"date\":\"2024-02-10T11:03:31+01:00\"},"
	            "\"STGE\":" STGE_003A0000 ",\"PRM\":\"00000000000000\",\"NTARF\":1}\n",
	            "{\"ADSC\":\"012345678910\",\"VTIC\":\"02\",\"DATE\":\"H240210121355|\","
	            "\"NGTF\":\"base            \",\"LTARF\":\" HEURE  PLEINE  \","
	            "\"EAST\":\"003519702\",\"PREF\":\"06\",\"SMAXSN\":\"H240210110331|00986\","
	            "\"STGE\":\"003A0000\",\"PRM\":\"00000000000000\",\"NTARF\":\"01\"}\n");
}

/* One line per delivered frame, in order; a damaged group is simply absent. */
static void
test_lines_per_frame(void **state)
{
	struct bytes b = {0};

	(void) state;
	bytes_str(&b, "\x02");
	bytes_group(&b, TIC_MODE_HISTORIQUE, "PAPP", NULL, "00420");
	bytes_str(&b, "\nHCHC 000019212 X\r\x03\x02");
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "000000000");
	bytes_str(&b, "\x03");
	assert_json(
	    &b, "{\"_mode\":\"historique\",\"PAPP\":420}\n{\"_mode\":\"standard\",\"EAST\":0}\n",
	    "{\"PAPP\":\"00420\"}\n{\"EAST\":\"000000000\"}\n");
}

/* ---- One group at a time ------------------------------------------------------------------ */

struct group_case {
	enum tic_mode mode;
	const char *label, *horodate, *value;
	const char *typed, *raw; /* the JSON of the value alone */
};

static const struct group_case group_cases[] = {
    /* Empty DATE: the information is the horodate. */
    {TIC_MODE_STANDARD, "DATE", "E240615123456", "", "{\"date\":\"2024-06-15T12:34:56+02:00\"}",
     "\"E240615123456|\""},
    /* Degraded clock: lower-case season. */
    {TIC_MODE_STANDARD, "DATE", "e240615123456", "",
     "{\"date\":\"2024-06-15T12:34:56+02:00\",\"clock_degraded\":true}", "\"e240615123456|\""},
    {TIC_MODE_STANDARD, "SMAXSN-1", "h200213085118", "09562",
     "{\"value\":9562,\"date\":\"2020-02-13T08:51:18+01:00\",\"clock_degraded\":true}",
     "\"h200213085118|09562\""},
    {TIC_MODE_STANDARD, "SMAXSN1-1", "H200213085118", "03129",
     "{\"value\":3129,\"date\":\"2020-02-13T08:51:18+01:00\"}", "\"H200213085118|03129\""},
    /* DPMx: no season, no offset. */
    {TIC_MODE_STANDARD, "DPM1", " 200214060000", "00",
     "{\"value\":0,\"date\":\"2020-02-14T06:00:00\"}", "\" 200214060000|00\""},
    {TIC_MODE_STANDARD, "UMOY1", "E200714230000", "237",
     "{\"value\":237,\"date\":\"2020-07-14T23:00:00+02:00\"}", "\"E200714230000|237\""},
    {TIC_MODE_STANDARD, "STGE", NULL, "003A0000", STGE_003A0000, "\"003A0000\""},
    {TIC_MODE_STANDARD, "STGE", NULL, "463A0800",
     "{\"raw\":\"463A0800\",\"dry_contact\":\"closed\",\"breaker\":\"closed\","
     "\"cover_open\":false,\"overvoltage\":false,\"overload\":false,\"producer\":false,"
     "\"injecting\":false,\"supplier_index\":3,\"distributor_index\":1,"
     "\"clock_degraded\":false,\"tic_mode\":\"standard\",\"euridis\":\"enabled_secured\","
     "\"cpl\":\"new_locked\",\"cpl_synchronised\":false,\"tempo_today\":\"blanc\","
     "\"tempo_tomorrow\":\"bleu\",\"peak_notice\":0,\"peak\":1}",
     "\"463A0800\""},
    {TIC_MODE_STANDARD, "STGE", NULL, "003AC701",
     "{\"raw\":\"003AC701\",\"dry_contact\":\"open\",\"breaker\":\"closed\","
     "\"cover_open\":false,\"overvoltage\":false,\"overload\":false,\"producer\":true,"
     "\"injecting\":true,\"supplier_index\":2,\"distributor_index\":4,"
     "\"clock_degraded\":false,\"tic_mode\":\"standard\",\"euridis\":\"enabled_secured\","
     "\"cpl\":\"new_locked\",\"cpl_synchronised\":false,\"tempo_today\":\"none\","
     "\"tempo_tomorrow\":\"none\",\"peak_notice\":0,\"peak\":0}",
     "\"003AC701\""},
    {TIC_MODE_STANDARD, "STGE", NULL, "0001001C",
     "{\"raw\":\"0001001C\",\"dry_contact\":\"closed\",\"breaker\":\"open_overheat_low_current\","
     "\"cover_open\":true,\"overvoltage\":false,\"overload\":false,\"producer\":false,"
     "\"injecting\":false,\"supplier_index\":1,\"distributor_index\":1,"
     "\"clock_degraded\":true,\"tic_mode\":\"historique\",\"euridis\":\"disabled\","
     "\"cpl\":\"new_unlocked\",\"cpl_synchronised\":false,\"tempo_today\":\"none\","
     "\"tempo_tomorrow\":\"none\",\"peak_notice\":0,\"peak\":0}",
     "\"0001001C\""},
    /* Relays: bit n = relay n+1 closed; 140 = relays 3, 4 and 8 (docs/tic.md §10). */
    {TIC_MODE_STANDARD, "RELAIS", NULL, "140", "{\"value\":140,\"closed\":[3,4,8]}", "\"140\""},
    {TIC_MODE_STANDARD, "RELAIS", NULL, "000", "{\"value\":0,\"closed\":[]}", "\"000\""},
    {TIC_MODE_STANDARD, "RELAIS", NULL, "001", "{\"value\":1,\"closed\":[1]}", "\"001\""},
    {TIC_MODE_STANDARD, "RELAIS", NULL, "255", "{\"value\":255,\"closed\":[1,2,3,4,5,6,7,8]}",
     "\"255\""},
    {TIC_MODE_STANDARD, "PJOURF+1", NULL, PROFILE_EXAMPLE,
     "{\"raw\":\"" PROFILE_EXAMPLE "\",\"slots\":["
     "{\"start\":\"00:00\",\"supplier_index\":2,\"dry_contact\":\"open\",\"virtual_contacts\":0},"
     "{\"start\":\"02:10\",\"supplier_index\":1,\"dry_contact\":\"close\","
     "\"virtual_contacts\":0}]}",
     "\"" PROFILE_EXAMPLE "\""},
    {TIC_MODE_STANDARD, "PPOINTE", NULL, "NONUTILE", "{\"raw\":\"NONUTILE\",\"slots\":[]}",
     "\"NONUTILE\""},
    {TIC_MODE_STANDARD, "PJOURF+1", NULL, "2359FFFF",
     "{\"raw\":\"2359FFFF\",\"slots\":[{\"start\":\"23:59\",\"supplier_index\":0,"
     "\"dry_contact\":\"close\",\"virtual_contacts\":127}]}",
     "\"2359FFFF\""},
    /* Unknown labels pass as trimmed text; the raw form keeps every byte. */
    {TIC_MODE_STANDARD, "XTRA", NULL, "  some text  ", "\"some text\"", "\"  some text  \""},
    {TIC_MODE_STANDARD, "XTRA", "H240210121355", " 12 ",
     "{\"value\":\"12\",\"date\":\"2024-02-10T12:13:55+01:00\"}", "\"H240210121355| 12 \""},
    {TIC_MODE_HISTORIQUE, "XTRA", NULL, "0042", "\"0042\"", "\"0042\""},
    /* Padding goes, inner spaces stay. */
    {TIC_MODE_STANDARD, "NGTF", NULL, "     TEMPO      ", "\"TEMPO\"", "\"     TEMPO      \""},
    {TIC_MODE_STANDARD, "NGTF", NULL, " HC et Week-End ", "\"HC et Week-End\"",
     "\" HC et Week-End \""},
    {TIC_MODE_STANDARD, "LTARF", NULL, "   HC  BLANC    ", "\"HC  BLANC\"", "\"   HC  BLANC    \""},
    {TIC_MODE_STANDARD, "MSG1", NULL, "PAS DE          MESSAGE         ",
     "\"PAS DE          MESSAGE\"", "\"PAS DE          MESSAGE         \""},
    /* Any printable byte is a valid text character; JSON must still come out valid. */
    {TIC_MODE_STANDARD, "MSG2", NULL, "SAY \"HI\" \\ /", "\"SAY \\\"HI\\\" \\\\ /\"",
     "\"SAY \\\"HI\\\" \\\\ /\""},
    /* Identifiers keep their leading zeros; numbers lose them. */
    {TIC_MODE_STANDARD, "ADSC", NULL, "000000000001", "\"000000000001\"", "\"000000000001\""},
    {TIC_MODE_STANDARD, "PRM", NULL, "07361794479930", "\"07361794479930\"", "\"07361794479930\""},
    {TIC_MODE_HISTORIQUE, "ADCO", NULL, "000123456789", "\"000123456789\"", "\"000123456789\""},
    {TIC_MODE_STANDARD, "EAST", NULL, "000000000", "0", "\"000000000\""},
    {TIC_MODE_STANDARD, "EAST", NULL, "999999999", "999999999", "\"999999999\""},
    {TIC_MODE_STANDARD, "NJOURF+1", NULL, "09", "9", "\"09\""},
    {TIC_MODE_HISTORIQUE, "OPTARIF", NULL, "BBR(", "\"BBR(\"", "\"BBR(\""},
    {TIC_MODE_HISTORIQUE, "PTEC", NULL, "HPJB", "\"HPJB\"", "\"HPJB\""},
    {TIC_MODE_HISTORIQUE, "DEMAIN", NULL, "----", "\"----\"", "\"----\""},
    {TIC_MODE_HISTORIQUE, "PPOT", NULL, "0F", "\"0F\"", "\"0F\""},
    {TIC_MODE_HISTORIQUE, "ADIR1", NULL, "001", "1", "\"001\""},
};

static void
test_group_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(group_cases); i++) {
		const struct group_case *c = &group_cases[i];
		const char *mode = c->mode == TIC_MODE_STANDARD ? "standard" : "historique";
		char typed[2048], raw[1024];
		struct bytes b = {0};

		print_message("%s %s\n", c->label, c->value);
		snprintf(typed, sizeof(typed), "{\"_mode\":\"%s\",\"%s\":%s}\n", mode, c->label,
		         c->typed);
		snprintf(raw, sizeof(raw), "{\"%s\":%s}\n", c->label, c->raw);
		bytes_str(&b, "\x02");
		bytes_group(&b, c->mode, c->label, c->horodate, c->value);
		bytes_str(&b, "\x03");
		assert_json(&b, typed, raw);
	}
}

/* What a label's own topic carries: the value's JSON, a string bare. */
static void
assert_payload(const struct tic_group *g, enum json_format format, const char *json)
{
	char want[1024], got[1024];
	size_t n = 0, len = strlen(json);

	if (json[0] == '"') {
		for (size_t i = 1; i + 1 < len; i++)
			want[n++] = json[i] == '\\' ? json[++i] : json[i];
		want[n] = '\0';
	} else {
		snprintf(want, sizeof(want), "%s", json);
	}
	assert_int_equal(json_encode_value(g, format, got, sizeof(got)), (int) strlen(want));
	assert_string_equal(got, want);
	/* One byte short of the NUL: refused, never truncated. */
	assert_int_equal(json_encode_value(g, format, got, strlen(want)), -ENOBUFS);
}

static void
test_label_payloads(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(group_cases); i++) {
		const struct group_case *c = &group_cases[i];
		struct tic_group g = {
		    .label = c->label,
		    .value = c->value,
		    .horodate = c->horodate,
		    .def = tic_label_find(c->label, strlen(c->label)),
		    .label_len = (uint8_t) strlen(c->label),
		    .value_len = (uint8_t) strlen(c->value),
		};

		print_message("%s %s\n", c->label, c->value);
		assert_int_equal(tic_group_type(&g), 0);
		assert_payload(&g, JSON_FORMAT_TYPED, c->typed);
		assert_payload(&g, JSON_FORMAT_RAW, c->raw);
	}
}

/* ---- Buffers ------------------------------------------------------------------------------ */

/* Every size from 0 to enough for frame in both formats, each in a buffer of exactly that size
 * so that the sanitizer sees any write past it: -ENOBUFS exactly while the length and its NUL do
 * not fit. */
static void
assert_all_sizes(const struct tic_frame *frame)
{
	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
		char full[JSON_FRAME_MAX];
		int len = json_encode_frame(frame, (enum json_format) f, full, sizeof(full));

		assert_true(len > 0);
		assert_int_equal(strlen(full), len);
		for (size_t size = 0; size <= (size_t) len + 8; size++) {
			char *buf = malloc(size ? size : 1);
			int r;

			assert_non_null(buf);
			r = json_encode_frame(frame, (enum json_format) f, buf, size);
			if (size <= (size_t) len) {
				assert_int_equal(r, -ENOBUFS);
			} else {
				assert_int_equal(r, len);
				assert_string_equal(buf, full);
			}
			free(buf);
		}
	}
}

static int
sizes_on_frame(const struct tic_frame *frame, void *userdata)
{
	size_t *checked = userdata;

	assert_all_sizes(frame);
	*checked += 2;
	return 0;
}

static void
test_small_buffers(void **state)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = sizes_on_frame};
	struct tic_parser *p = malloc(sizeof(*p));
	struct bytes b = {0};
	size_t checked = 0;

	(void) state;
	assert_non_null(p);
	bytes_str(&b, "\x02");
	bytes_group(&b, TIC_MODE_STANDARD, "DATE", "H240210121355", "");
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "003519702");
	bytes_group(&b, TIC_MODE_STANDARD, "STGE", NULL, "003A0000");
	bytes_group(&b, TIC_MODE_STANDARD, "RELAIS", NULL, "140");
	bytes_group(&b, TIC_MODE_STANDARD, "PJOURF+1", NULL, PROFILE_EXAMPLE);
	bytes_group(&b, TIC_MODE_STANDARD, "MSG1", NULL, "\"quoted\" \\ text");
	bytes_str(&b, "\x03");
	tic_parser_init(p, &cbs, &checked);
	assert_int_equal(tic_parser_feed(p, b.data, b.len), b.len);
	assert_int_equal(checked, 2);
	free(p);
	free(b.data);
}

/* The frame that makes the most JSON fits JSON_FRAME_MAX: as many groups as a frame holds, each
 * with the longest typed form (horodate, degraded clock) and values that all need escaping. */
static void
test_largest_frame_fits(void **state)
{
	/* Label, HT, horodate, HT, value, HT, check: the frame buffer shared by the most groups. */
	const size_t value_len = TIC_FRAME_BYTES / TIC_FRAME_GROUPS - (4 + 1 + 13 + 1 + 2);
	struct tic_stats stats;
	struct bytes b = {0};
	char value[TIC_VALUE_MAX + 1], *lines;

	(void) state;
	memset(value, '"', value_len);
	value[value_len] = '\0';
	bytes_str(&b, "\x02");
	for (unsigned i = 0; i < TIC_FRAME_GROUPS; i++) {
		char label[8];

		snprintf(label, sizeof(label), "Z%03u", i);
		bytes_group(&b, TIC_MODE_STANDARD, label, "h240210121355", value);
	}
	bytes_str(&b, "\x03");
	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
		/* decode_lines() encodes into JSON_FRAME_MAX bytes and fails if that is short. */
		lines = decode_lines(b.data, b.len, 0, (enum json_format) f, &stats);
		assert_int_equal(stats.frames, 1);
		assert_int_equal(stats.groups, TIC_FRAME_GROUPS);
		assert_true(strlen(lines) > TIC_FRAME_BYTES);
		free(lines);
	}
	free(b.data);
}

/* ---- Checked by an independent parser ----------------------------------------------------- */

struct parse_back {
	const char *capture;
	size_t frames;
};

static int
parse_back_on_frame(const struct tic_frame *frame, void *userdata)
{
	struct parse_back *pb = userdata;
	char json[JSON_FRAME_MAX];

	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
		const char *why;

		assert_true(json_encode_frame(frame, (enum json_format) f, json, sizeof(json)) > 0);
		why = json_check_frame(frame, (enum json_format) f, json);
		if (why)
			fail_msg("%s, frame %zu, %s: %s\n%s", pb->capture, pb->frames,
			         json_format_name((enum json_format) f), why, json);
	}
	pb->frames++;
	return 0;
}

/* Every frame of every capture in tests/data/, in both formats, parsed back with cJSON and
 * compared member by member with the frame (json_check.c): the expected files pin the bytes,
 * this checks that those bytes are the JSON they mean to be, with no shared code. */
static void
test_captures_parse_back(void **state)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = parse_back_on_frame};
	struct tic_parser *p = malloc(sizeof(*p));
	size_t captures = 0, frames = 0;
	DIR *dir = opendir(LINKYD_TEST_DATA);
	struct dirent *e;

	(void) state;
	assert_non_null(p);
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name), len;
		struct parse_back pb = {.capture = e->d_name};
		char *data;

		if (n < 5 || strcmp(e->d_name + n - 4, ".tic") != 0)
			continue;
		data = read_fixture(e->d_name, &len);
		tic_parser_init(p, &cbs, &pb);
		assert_int_equal(tic_parser_feed(p, data, len), len);
		free(data);
		assert_true(pb.frames > 0);
		frames += pb.frames;
		captures++;
	}
	closedir(dir);
	free(p);
	print_message("%zu frames of %zu captures parsed back\n", frames, captures);
	assert_true(captures >= 10);
}

/* Bytes the parser never delivers (control bytes, quotes in labels) in a frame built by hand:
 * escaped exactly as cJSON escapes them, which cJSON itself prints here as the reference, at
 * every buffer size. */
static void
test_escapes_like_cjson(void **state)
{
	char value[64], *want;
	size_t n = 0;
	struct tic_group groups[3] = {0};
	struct tic_frame frame = {TIC_MODE_STANDARD, 3, groups};
	cJSON *ref[2] = {cJSON_CreateObject(), cJSON_CreateObject()};
	char got[JSON_FRAME_MAX];

	(void) state;
	for (int c = 1; c < 0x20; c++)
		value[n++] = (char) c;
	memcpy(value + n, "\"a\\b/\x7f\xc3\xa9z", 9);
	n += 9;
	value[n] = '\0';
	groups[0] = (struct tic_group){
	    .label = "X\"Y\\", .value = value, .label_len = 4, .value_len = (uint8_t) n};
	groups[1] = (struct tic_group){.label = "Q",
	                               .value = "\"\"",
	                               .horodate = "H240210121355",
	                               .label_len = 1,
	                               .value_len = 2};
	groups[2] = (struct tic_group){.label = "EAST",
	                               .value = "003519702",
	                               .def = tic_label_find("EAST", 4),
	                               .label_len = 4,
	                               .value_len = 9};
	assert_non_null(groups[2].def);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tic_group_type(&groups[i]), 0);

	cJSON_AddStringToObject(ref[0], "_mode", "standard");
	cJSON_AddStringToObject(ref[0], groups[0].label, value);
	cJSON_AddItemToObject(ref[0], "Q", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItem(ref[0], "Q"), "value", "\"\"");
	cJSON_AddStringToObject(cJSON_GetObjectItem(ref[0], "Q"), "date",
	                        "2024-02-10T12:13:55+01:00");
	cJSON_AddRawToObject(ref[0], "EAST", "3519702");
	cJSON_AddStringToObject(ref[1], groups[0].label, value);
	cJSON_AddStringToObject(ref[1], "Q", "H240210121355|\"\"");
	cJSON_AddStringToObject(ref[1], "EAST", "003519702");
	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
		want = cJSON_PrintUnformatted(ref[f]);
		assert_non_null(want);
		assert_int_equal(json_encode_frame(&frame, (enum json_format) f, got, sizeof(got)),
		                 strlen(want));
		assert_string_equal(got, want);
		assert_null(json_check_frame(&frame, (enum json_format) f, got));
		free(want);
		cJSON_Delete(ref[f]);
	}
	assert_all_sizes(&frame);
}

/* The encoder reads the typed fields: a group of a table label that nobody typed, or whose value
 * its format refused (tic_group_type()), is refused rather than published from stale fields. A
 * label the table does not know needs no typing. */
static void
test_untyped_refused(void **state)
{
	struct tic_group g = {.label = "EAST",
	                      .value = "003519702",
	                      .def = tic_label_find("EAST", 4),
	                      .label_len = 4,
	                      .value_len = 9};
	struct tic_group bad = {.label = "EAST",
	                        .value = "0035197O2",
	                        .def = tic_label_find("EAST", 4),
	                        .label_len = 4,
	                        .value_len = 9};
	struct tic_group unknown = {.label = "FUTUR", .value = "1", .label_len = 5, .value_len = 1};
	struct tic_frame frame = {TIC_MODE_STANDARD, 1, &g};
	char buf[256];

	(void) state;
	assert_int_equal(json_encode_frame(&frame, JSON_FORMAT_TYPED, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(json_encode_value(&g, JSON_FORMAT_TYPED, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(tic_group_type(&bad), TIC_ERR_FORMAT);
	assert_int_equal(json_encode_value(&bad, JSON_FORMAT_TYPED, buf, sizeof(buf)), -EINVAL);
	/* The raw form is the strings alone. */
	assert_int_equal(json_encode_value(&g, JSON_FORMAT_RAW, buf, sizeof(buf)), 9);
	assert_int_equal(json_encode_value(&unknown, JSON_FORMAT_TYPED, buf, sizeof(buf)), 1);
	assert_int_equal(tic_group_type(&g), 0);
	assert_int_equal(json_encode_frame(&frame, JSON_FORMAT_TYPED, buf, sizeof(buf)),
	                 strlen("{\"_mode\":\"standard\",\"EAST\":3519702}"));
	assert_string_equal(buf, "{\"_mode\":\"standard\",\"EAST\":3519702}");
}

/* ---- Format names ------------------------------------------------------------------------- */

static void
test_format_names(void **state)
{
	static const char *const bad[] = {"", "RAW", "Typed", "typed ", "raww", "json", "t"};
	enum json_format f;

	(void) state;
	assert_int_equal(json_format_parse("typed", &f), 0);
	assert_int_equal(f, JSON_FORMAT_TYPED);
	assert_int_equal(json_format_parse("raw", &f), 0);
	assert_int_equal(f, JSON_FORMAT_RAW);
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		f = (enum json_format) 42;
		assert_int_equal(json_format_parse(bad[i], &f), -EINVAL);
		assert_int_equal(f, 42);
	}
	assert_string_equal(json_format_name(JSON_FORMAT_TYPED), "typed");
	assert_string_equal(json_format_name(JSON_FORMAT_RAW), "raw");
	for (int i = JSON_FORMAT_TYPED; i <= JSON_FORMAT_RAW; i++) {
		assert_int_equal(json_format_parse(json_format_name((enum json_format) i), &f), 0);
		assert_int_equal(f, i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_historique_frame),    cmocka_unit_test(test_standard_frame),
	    cmocka_unit_test(test_lines_per_frame),     cmocka_unit_test(test_group_table),
	    cmocka_unit_test(test_small_buffers),       cmocka_unit_test(test_largest_frame_fits),
	    cmocka_unit_test(test_captures_parse_back), cmocka_unit_test(test_escapes_like_cjson),
	    cmocka_unit_test(test_format_names),        cmocka_unit_test(test_label_payloads),
	    cmocka_unit_test(test_untyped_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
