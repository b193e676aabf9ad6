/* SPDX-License-Identifier: MIT */
/* Unit tests of the typed views of values: decimal integers, horodates and their ISO 8601 form,
 * the STGE status register field by field, PJOURF+1 profiles, and the names of coded fields. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

/* The profile decoder takes a length; the tests write NUL-terminated literals. */
static int
decode_profile(const char *value, struct tic_profile_slot *ret_slots)
{
	return tic_profile_decode(value, strlen(value), ret_slots);
}

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Integers ----------------------------------------------------------------------------- */

static void
test_parse_uint(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
	    {"0", 0},
	    {"000", 0},
	    {"004070290", 4070290},
	    {"010", 10}, /* base 10, not octal */
	    {"08", 8},   /* not an invalid octal digit either */
	    {"999999999", 999999999},
	    {"1234567890123456789", UINT64_C(1234567890123456789)},
	    {"9999999999999999999", UINT64_C(9999999999999999999)}, /* 19 digits: the maximum */
	};
	static const char *const bad[] = {
	    "",
	    " 1",
	    "1 ",
	    "-1",
	    "+1",
	    "0x10",
	    "1a",
	    "1.5",
	    "12\t",
	    "0p0",                                       /* bit 6 flipped */
	    "00000000000000000001",                      /* 20 digits, even if small */
	    "18446744073709551616",                      /* 2^64 */
	    "99999999999999999999999999999999999999999", /* far past */
	};

	(void) state;
	for (size_t i = 0; i < N_ELEM(ok); i++) {
		uint64_t v = 42;

		assert_int_equal(tic_parse_uint(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		uint64_t v = 42;

		print_message("\"%s\"\n", bad[i]);
		assert_int_equal(tic_parse_uint(bad[i], &v), -EINVAL);
		assert_int_equal(v, 42); /* untouched on error */
	}
}

/* ---- Horodates ---------------------------------------------------------------------------- */

struct horodate_case {
	const char *h;
	const char *iso;
	bool degraded;
};

static const struct horodate_case horodate_ok[] = {
    {"E240615123456", "2024-06-15T12:34:56+02:00", false},
    {"H240210121355", "2024-02-10T12:13:55+01:00", false},
    {"e240615123456", "2024-06-15T12:34:56+02:00", true},
    {"h240210121355", "2024-02-10T12:13:55+01:00", true},
    {" 200214060000", "2020-02-14T06:00:00", false}, /* DPMx/FPMx: no season */
    {"H000101000000", "2000-01-01T00:00:00+01:00", false},
    {"E991231235959", "2099-12-31T23:59:59+02:00", false},
    {"H240229000000", "2024-02-29T00:00:00+01:00", false}, /* leap day */
};

static void
test_horodate_valid(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(horodate_ok); i++) {
		const struct horodate_case *c = &horodate_ok[i];
		struct tic_datetime dt;
		char iso[TIC_ISO_DATE_SIZE];

		print_message("\"%s\"\n", c->h);
		assert_int_equal(tic_horodate_parse(c->h, &dt), 0);
		assert_int_equal(dt.degraded, c->degraded);
		assert_int_equal(dt.has_offset, c->h[0] != ' ');
		if (dt.has_offset)
			assert_int_equal(dt.utc_offset_h, (c->h[0] | 0x20) == 'e' ? 2 : 1);
		assert_int_equal(tic_datetime_iso(&dt, iso), strlen(c->iso));
		assert_string_equal(iso, c->iso);
	}
}

static void
test_horodate_fields(void **state)
{
	struct tic_datetime dt;

	(void) state;
	assert_int_equal(tic_horodate_parse("H240210121355", &dt), 0);
	assert_int_equal(dt.year, 2024);
	assert_int_equal(dt.month, 2);
	assert_int_equal(dt.day, 10);
	assert_int_equal(dt.hour, 12);
	assert_int_equal(dt.minute, 13);
	assert_int_equal(dt.second, 55);
	assert_int_equal(dt.utc_offset_h, 1);
}

static const char *const horodate_bad[] = {
    "H240010121355", /* month 00 */
    "H241310121355", /* month 13 */
    "H240200121355", /* day 00 */
    "H240232121355", /* day 32 */
    "H240210241355", /* hour 24 */
    "H240210126055", /* minute 60 */
    "H240210121360", /* second 60 */
    "X240210121355", /* season letters: E H e h SP only */
    "A240210121355",  "S240210121355", "0240210121355",
    "\t240210121355", "H2402101213 5", /* a digit turned into a space */
    "H2402101213p5",                   /* a digit with bit 6 flipped */
    "H24021012135",                    /* short: stops at the NUL */
    "H-40210121355",
};

static void
test_horodate_invalid(void **state)
{
	(void) state;
	for (size_t i = 0; i < N_ELEM(horodate_bad); i++) {
		struct tic_datetime dt = {.year = 1};

		print_message("\"%s\"\n", horodate_bad[i]);
		assert_int_equal(tic_horodate_parse(horodate_bad[i], &dt), TIC_ERR_FORMAT);
		assert_int_equal(dt.year, 1); /* untouched on error */
	}
}

/* A date that no calendar has would become an ISO 8601 string no consumer can parse. */
static void
test_horodate_impossible_dates(void **state)
{
	static const char *const impossible[] = {
	    "H240230120000", /* 30 February */
	    "H240231120000", /* 31 February */
	    "H230229120000", /* 29 February 2023: not a leap year */
	    "E240431120000", /* 31 April */
	    "E240631120000", /* 31 June */
	    "E240931120000", /* 31 September */
	    "H241131120000", /* 31 November */
	};

	(void) state;
	for (size_t i = 0; i < N_ELEM(impossible); i++) {
		struct tic_datetime dt;

		print_message("\"%s\"\n", impossible[i]);
		assert_int_equal(tic_horodate_parse(impossible[i], &dt), TIC_ERR_FORMAT);
	}
}

/* ---- STGE --------------------------------------------------------------------------------- */

static void
assert_stge_equal(const struct tic_stge *a, const struct tic_stge *b)
{
	assert_int_equal(a->raw, b->raw);
	assert_int_equal(a->dry_contact_open, b->dry_contact_open);
	assert_int_equal(a->breaker, b->breaker);
	assert_int_equal(a->cover_open, b->cover_open);
	assert_int_equal(a->overvoltage, b->overvoltage);
	assert_int_equal(a->overload, b->overload);
	assert_int_equal(a->producer, b->producer);
	assert_int_equal(a->injecting, b->injecting);
	assert_int_equal(a->supplier_index, b->supplier_index);
	assert_int_equal(a->distributor_index, b->distributor_index);
	assert_int_equal(a->clock_degraded, b->clock_degraded);
	assert_int_equal(a->standard_mode, b->standard_mode);
	assert_int_equal(a->euridis, b->euridis);
	assert_int_equal(a->cpl_status, b->cpl_status);
	assert_int_equal(a->cpl_synchronised, b->cpl_synchronised);
	assert_int_equal(a->tempo_today, b->tempo_today);
	assert_int_equal(a->tempo_tomorrow, b->tempo_tomorrow);
	assert_int_equal(a->peak_notice, b->peak_notice);
	assert_int_equal(a->peak, b->peak);
}

/* Decode hex and compare with want, whose indexes 0 stand for the register's 1-based "index 1". */
static void
assert_stge(const char *hex, struct tic_stge want)
{
	struct tic_stge got;

	print_message("%s\n", hex);
	if (!want.supplier_index)
		want.supplier_index = 1;
	if (!want.distributor_index)
		want.distributor_index = 1;
	assert_int_equal(tic_stge_decode(hex, &got), 0);
	assert_stge_equal(&got, &want);
}

/* The examples of docs/tic.md §8, every field checked. */
static void
test_stge_examples(void **state)
{
	(void) state;
	assert_stge("003A0000",
	            (struct tic_stge){
	                .raw = 0x003A0000, .standard_mode = true, .euridis = 3, .cpl_status = 1});
	assert_stge("463A0800", (struct tic_stge){.raw = 0x463A0800,
	                                          .supplier_index = 3,
	                                          .standard_mode = true,
	                                          .euridis = 3,
	                                          .cpl_status = 1,
	                                          .tempo_today = 2,
	                                          .tempo_tomorrow = 1,
	                                          .peak = 1});
	assert_stge("003AC701", (struct tic_stge){.raw = 0x003AC701,
	                                          .dry_contact_open = true,
	                                          .producer = true,
	                                          .injecting = true,
	                                          .supplier_index = 2,
	                                          .distributor_index = 4,
	                                          .standard_mode = true,
	                                          .euridis = 3,
	                                          .cpl_status = 1});
	assert_stge("FFFFFFFF", (struct tic_stge){.raw = 0xFFFFFFFF,
	                                          .dry_contact_open = true,
	                                          .breaker = 7,
	                                          .cover_open = true,
	                                          .overvoltage = true,
	                                          .overload = true,
	                                          .producer = true,
	                                          .injecting = true,
	                                          .supplier_index = 16,
	                                          .distributor_index = 4,
	                                          .clock_degraded = true,
	                                          .standard_mode = true,
	                                          .euridis = 3,
	                                          .cpl_status = 3,
	                                          .cpl_synchronised = true,
	                                          .tempo_today = 3,
	                                          .tempo_tomorrow = 3,
	                                          .peak_notice = 3,
	                                          .peak = 3});
	assert_stge("00000000", (struct tic_stge){0});
}

/* Each bit on its own lands in its field and nowhere else (docs/tic.md §8's table). */
static void
test_stge_single_bits(void **state)
{
	static const struct tic_stge by_bit[32] = {
	    [0] = {.dry_contact_open = true},
	    [1] = {.breaker = 1},
	    [2] = {.breaker = 2},
	    [3] = {.breaker = 4},
	    [4] = {.cover_open = true},
	    [5] = {0}, /* unused */
	    [6] = {.overvoltage = true},
	    [7] = {.overload = true},
	    [8] = {.producer = true},
	    [9] = {.injecting = true},
	    [10] = {.supplier_index = 2},
	    [11] = {.supplier_index = 3},
	    [12] = {.supplier_index = 5},
	    [13] = {.supplier_index = 9},
	    [14] = {.distributor_index = 2},
	    [15] = {.distributor_index = 3},
	    [16] = {.clock_degraded = true},
	    [17] = {.standard_mode = true},
	    [18] = {0}, /* unused */
	    [19] = {.euridis = 1},
	    [20] = {.euridis = 2},
	    [21] = {.cpl_status = 1},
	    [22] = {.cpl_status = 2},
	    [23] = {.cpl_synchronised = true},
	    [24] = {.tempo_today = 1},
	    [25] = {.tempo_today = 2},
	    [26] = {.tempo_tomorrow = 1},
	    [27] = {.tempo_tomorrow = 2},
	    [28] = {.peak_notice = 1},
	    [29] = {.peak_notice = 2},
	    [30] = {.peak = 1},
	    [31] = {.peak = 2},
	};

	(void) state;
	for (unsigned bit = 0; bit < 32; bit++) {
		struct tic_stge want = by_bit[bit];
		char hex[9];

		snprintf(hex, sizeof(hex), "%08X", 1u << bit);
		want.raw = 1u << bit;
		assert_stge(hex, want);
	}
}

static void
test_stge_invalid(void **state)
{
	static const char *const bad[] = {
	    "003a0000",  /* lower case */
	    "003A000G",  /* not hex */
	    "003A000",   /* 7 digits */
	    "003A00000", /* 9 digits */
	    "",          " 03A0000", "0x3A0000", "003A000 ", "-03A0000", "003Ap000",
	};

	(void) state;
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		struct tic_stge s = {.raw = 7};

		print_message("\"%s\"\n", bad[i]);
		assert_int_equal(tic_stge_decode(bad[i], &s), TIC_ERR_FORMAT);
		assert_int_equal(s.raw, 7);
	}
}

/* ---- Profiles ----------------------------------------------------------------------------- */

static void
assert_slot(const struct tic_profile_slot *s, unsigned hour, unsigned minute, unsigned action,
            unsigned supplier_index, unsigned virtual_contacts, unsigned dry_contact)
{
	assert_int_equal(s->hour, hour);
	assert_int_equal(s->minute, minute);
	assert_int_equal(s->action, action);
	assert_int_equal(s->supplier_index, supplier_index);
	assert_int_equal(s->virtual_contacts, virtual_contacts);
	assert_int_equal(s->dry_contact, dry_contact);
}

/* docs/tic.md §7.1: "00008002 0210C001" = at 00:00 index 2, contact open; at 02:10 index 1,
 * contact closed. */
static void
test_profile_spec_example(void **state)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];

	(void) state;
	assert_int_equal(decode_profile("00008002 0210C001 NONUTILE NONUTILE NONUTILE NONUTILE "
	                                "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE",
	                                slots),
	                 2);
	assert_slot(&slots[0], 0, 0, 0x8002, 2, 0, 2);
	assert_slot(&slots[1], 2, 10, 0xC001, 1, 0, 3);
	assert_string_equal(tic_profile_contact_name(slots[0].dry_contact), "open");
	assert_string_equal(tic_profile_contact_name(slots[1].dry_contact), "close");
}

static void
test_profile_fields(void **state)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];

	(void) state;
	/* Virtual contacts are bits 4-10; bits 11-13 are unused; index 11-15 means no change. */
	assert_int_equal(decode_profile("12343FF0 2359400B 0600000A", slots), 3);
	assert_slot(&slots[0], 12, 34, 0x3FF0, 0, 0x7f, 0);
	assert_slot(&slots[1], 23, 59, 0x400B, 0, 0, 1);
	assert_slot(&slots[2], 6, 0, 0x000A, 10, 0, 0);
	/* The real tri TEMPO capture's profile. */
	assert_int_equal(decode_profile("00004001 06004002 22004001 NONUTILE NONUTILE NONUTILE "
	                                "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE",
	                                slots),
	                 3);
	assert_slot(&slots[1], 6, 0, 0x4002, 2, 0, 1);
	assert_string_equal(tic_profile_contact_name(slots[1].dry_contact), "tempo");
}

static void
test_profile_nonutile(void **state)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];

	(void) state;
	assert_int_equal(decode_profile("NONUTILE", slots), 0);
	assert_int_equal(decode_profile("NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
	                                "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE",
	                                slots),
	                 0);
	/* Used blocks after unused ones still count, in order. */
	assert_int_equal(decode_profile("NONUTILE 0810C001 NONUTILE 1440C002", slots), 2);
	assert_slot(&slots[0], 8, 10, 0xC001, 1, 0, 3);
	assert_slot(&slots[1], 14, 40, 0xC002, 2, 0, 3);
}

static void
test_profile_full_day(void **state)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];

	(void) state;
	assert_int_equal(decode_profile("00000001 01000002 02000003 03000004 04000005 05000006 "
	                                "06000007 07000008 08000009 0900000A 10000001",
	                                slots),
	                 TIC_PROFILE_SLOTS);
	for (unsigned i = 0; i < TIC_PROFILE_SLOTS; i++)
		assert_int_equal(slots[i].hour, i);
}

/* What tic_label_check() rejects for PJOURF+1, the decoder rejects too: its contract is the
 * same format, and it must not turn a malformed block into a slot. */
static void
test_profile_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2400C001",          /* hour 24 */
	    "0060C001",          /* minute 60 */
	    "0000C00G",          /* not hex */
	    "0000C001 ",         /* trailing separator */
	    "NONUTIL",           /* bad length */
	    "0000C001 0210C00",  /* short last block */
	    "0000c001",          /* lower-case hex */
	    "0000+001",          /* a sign is not a digit */
	    "0000-001",          /* ... nor 0xFFFF */
	    " 1000001",          /* nor is a space */
	    "00 0C001",          /* ... anywhere */
	    "00008002X0210C001", /* separator */
	    "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
	    "NONUTILE NONUTILE NONUTILE", /* 12 blocks */
	};
	const struct tic_label *def = tic_label_find("PJOURF+1", 8);

	(void) state;
	for (size_t i = 0; i < N_ELEM(bad); i++) {
		struct tic_profile_slot slots[TIC_PROFILE_SLOTS];

		print_message("\"%s\"\n", bad[i]);
		assert_int_equal(tic_label_check(def, bad[i], strlen(bad[i])), TIC_ERR_FORMAT);
		assert_int_equal(decode_profile(bad[i], slots), TIC_ERR_FORMAT);
	}
}

/* ---- Names -------------------------------------------------------------------------------- */

typedef const char *(*name_fn)(uint8_t);

static void
assert_names(name_fn fn, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_string_equal(fn((uint8_t) i), names[i]);
	assert_string_equal(fn((uint8_t) n), "?");
	assert_string_equal(fn(UINT8_MAX), "?");
}

static void
test_names(void **state)
{
	static const char *const breaker[] = {"closed",
	                                      "open_overload",
	                                      "open_overvoltage",
	                                      "open_load_shedding",
	                                      "open_remote_order",
	                                      "open_overheat",
	                                      "open_overheat_low_current"};
	static const char *const euridis[] = {"disabled", "enabled", "invalid", "enabled_secured"};
	static const char *const cpl[] = {"new_unlocked", "new_locked", "registered", "invalid"};
	static const char *const tempo[] = {"none", "bleu", "blanc", "rouge"};
	static const char *const contact[] = {"none", "tempo", "open", "close"};

	(void) state;
	assert_names(tic_stge_breaker_name, breaker, N_ELEM(breaker));
	assert_names(tic_stge_euridis_name, euridis, N_ELEM(euridis));
	assert_names(tic_stge_cpl_name, cpl, N_ELEM(cpl));
	assert_names(tic_tempo_colour_name, tempo, N_ELEM(tempo));
	assert_names(tic_profile_contact_name, contact, N_ELEM(contact));
}

/* A group made by hand, not typed yet (its typed fields hold garbage, as stack memory would). */
static struct tic_group
hand_group(const char *label, const char *horodate, const char *value)
{
	struct tic_group g;

	memset(&g, 0xa5, sizeof(g));
	g.label = label;
	g.value = value;
	g.horodate = horodate;
	g.def = tic_label_find(label, strlen(label));
	g.label_len = (uint8_t) strlen(label);
	g.value_len = (uint8_t) strlen(value);
	return g;
}

/* tic_group_type() types what its checks pass, and a group that fails as an unknown label. */
static void
test_group_type(void **state)
{
	static const struct tic_datetime none = {0};
	struct tic_group g;

	(void) state;
	/* The widest numbers: 9 digits, a leading digit alone; 5, 3, 2 digits. */
	g = hand_group("EAST", NULL, "987654321");
	assert_int_equal(tic_group_type(&g), 0);
	assert_int_equal(g.id, TIC_L_EAST);
	assert_int_equal(g.num, 987654321);
	assert_memory_equal(&g.date, &none, sizeof(none));
	g = hand_group("SMAXSN", "E240710153000", "12345");
	assert_int_equal(tic_group_type(&g), 0);
	assert_int_equal(g.num, 12345);
	assert_int_equal(g.date.year, 2024);
	assert_int_equal(g.date.second, 0);
	assert_int_equal(g.date.utc_offset_h, 2);
	g = hand_group("RELAIS", NULL, "255");
	assert_int_equal(tic_group_type(&g), 0);
	assert_int_equal(g.num, 255);
	/* Unknown labels: identity alone, any printable value. */
	g = hand_group("FUTUR", NULL, "\"x\"");
	assert_int_equal(tic_group_type(&g), 0);
	assert_int_equal(g.id, TIC_L_UNKNOWN);
	/* Refused: a value its format does not take, a bad horodate. Nothing typed is left. */
	g = hand_group("EAST", NULL, "98765432");
	assert_int_equal(tic_group_type(&g), TIC_ERR_FORMAT);
	assert_int_equal(g.id, TIC_L_UNKNOWN);
	assert_int_equal(g.num, 0);
	g = hand_group("RELAIS", NULL, "256");
	assert_int_equal(tic_group_type(&g), TIC_ERR_FORMAT);
	assert_int_equal(g.id, TIC_L_UNKNOWN);
	g = hand_group("SMAXSN", "E241310153000", "12345");
	assert_int_equal(tic_group_type(&g), TIC_ERR_FORMAT);
	assert_int_equal(g.id, TIC_L_UNKNOWN);
	assert_memory_equal(&g.date, &none, sizeof(none));
	g = hand_group("FUTUR", "H2407", "1");
	assert_int_equal(tic_group_type(&g), TIC_ERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_uint),
	    cmocka_unit_test(test_horodate_valid),
	    cmocka_unit_test(test_horodate_fields),
	    cmocka_unit_test(test_horodate_invalid),
	    cmocka_unit_test(test_horodate_impossible_dates),
	    cmocka_unit_test(test_stge_examples),
	    cmocka_unit_test(test_stge_single_bits),
	    cmocka_unit_test(test_stge_invalid),
	    cmocka_unit_test(test_profile_spec_example),
	    cmocka_unit_test(test_profile_fields),
	    cmocka_unit_test(test_profile_nonutile),
	    cmocka_unit_test(test_profile_full_day),
	    cmocka_unit_test(test_profile_invalid),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_group_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
