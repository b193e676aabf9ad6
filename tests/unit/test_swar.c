/* SPDX-License-Identifier: MIT */
/* Unit tests of src/tic/swar.h, in whichever version this build compiles (SSE2, NEON or the
 * generic vectors): every helper against the same answer worked out one byte at a time, on every
 * byte value at every position and on pseudo-random words. The parser's tests reach these helpers
 * only through real frames, where a wrong answer on a rare byte or position could hide. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "swar.h"

/* Deterministic, so that a failure repeats. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
random_bytes(uint64_t *seed, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t) next_random(seed);
}

/* The parser's special(), byte by byte: control bytes but HT, DEL and 8-bit bytes. */
static int
special(uint8_t c)
{
	return (c < 0x20 && c != 0x09) || c >= 0x7f;
}

/* Checks a mask against the bytes that should be flagged, and "any" and "first" on it. */
static void
check_mask(vec16 mask, const int *want)
{
	uint8_t m[16];
	int first = -1;

	vec16_store(m, mask);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(m[i], want[i] ? 0xff : 0);
		if (want[i] && first < 0)
			first = i;
	}
	assert_int_equal(vec16_any(mask), first >= 0);
#if SWAR_LE
	if (first >= 0)
		assert_int_equal(vec16_first(mask), first);
#endif
}

/* Every byte value at every position, among ordinary bytes, then random vectors. */
static void
test_vec16_special(void **state)
{
	uint64_t seed = 1;
	uint8_t b[16];
	int want[16];

	(void) state;
	for (int pos = 0; pos < 16; pos++)
		for (int c = 0; c < 256; c++) {
			memset(b, 'A', sizeof(b));
			b[pos] = (uint8_t) c;
			for (int i = 0; i < 16; i++)
				want[i] = special(b[i]);
			check_mask(vec16_special(vec16_load(b)), want);
		}
	for (int n = 0; n < 100000; n++) {
		random_bytes(&seed, b, sizeof(b));
		/* Mostly printable, so that the first special byte lands anywhere. */
		for (int i = 0; i < 16; i++)
			if (b[i] & 0x40)
				b[i] = (uint8_t) (0x20 + b[i] % 0x5f);
		for (int i = 0; i < 16; i++)
			want[i] = special(b[i]);
		check_mask(vec16_special(vec16_load(b)), want);
	}
}

/* Every separator against every byte value at every position. */
static void
test_vec16_eq(void **state)
{
	static const uint8_t seps[] = {0x09, 0x20, 0x00, 0xff};
	uint8_t b[16];
	int want[16];

	(void) state;
	for (size_t s = 0; s < sizeof(seps); s++)
		for (int pos = 0; pos < 16; pos++)
			for (int c = 0; c < 256; c++) {
				memset(b, 'A', sizeof(b));
				b[15 - pos] = (uint8_t) (seps[s] ^ 0x5a);
				b[pos] = (uint8_t) c;
				for (int i = 0; i < 16; i++)
					want[i] = b[i] == seps[s];
				check_mask(vec16_eq(vec16_load(b), seps[s]), want);
			}
}

/* Every flagged set of a 16-byte mask has its first byte right: the 65 536 of them. */
static void
test_vec16_flags(void **state)
{
	uint8_t b[16];
	int want[16];

	(void) state;
	for (unsigned set = 0; set < 0x10000; set++) {
		for (int i = 0; i < 16; i++) {
			want[i] = (set >> i) & 1;
			b[i] = want[i] ? '\r' : 'x';
		}
		check_mask(vec16_eq(vec16_load(b), '\r'), want);
	}
}

static void
test_vec16_low_bytes(void **state)
{
	(void) state;
	for (unsigned k = 0; k <= 16; k++) {
		uint8_t m[16];

		vec16_store(m, vec16_low_bytes(k));
		for (unsigned i = 0; i < 16; i++)
			assert_int_equal(m[i], i < k ? 0xff : 0);
	}
}

/* The sum modulo 64, on random bytes and on the extremes where a carry would show. */
static void
test_vec16_sum64(void **state)
{
	static const uint8_t fills[] = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xfe, 0xff};
	uint64_t seed = 2;
	uint8_t b[16];

	(void) state;
	for (int n = 0; n < 200000 + (int) sizeof(fills); n++) {
		unsigned want = 0;

		if (n < (int) sizeof(fills))
			memset(b, fills[n], sizeof(b));
		else
			random_bytes(&seed, b, sizeof(b));
		for (int i = 0; i < 16; i++)
			want += b[i];
		assert_int_equal(vec16_sum64(vec16_load(b)) % 64, want % 64);
	}
}

/* Every byte value at every position of a word of valid bytes. */
static void
test_swar_text_digits(void **state)
{
	uint8_t b[8];

	(void) state;
	for (int pos = 0; pos < 8; pos++)
		for (int c = 0; c < 256; c++) {
			memset(b, '~', sizeof(b));
			b[pos] = (uint8_t) c;
			assert_int_equal(swar_text(swar_load(b)),
			                 c >= 0x20 && c <= 0x7e && c != '`');
			memset(b, '9', sizeof(b));
			b[pos] = (uint8_t) c;
			assert_int_equal(swar_digits(swar_load(b)), c >= '0' && c <= '9');
		}
}

static void
test_swar_low_bytes_digits_value(void **state)
{
#if SWAR_LE
	uint64_t seed = 3;
	char b[9];

	for (unsigned k = 0; k <= 8; k++) {
		memset(b, 0, sizeof(b));
		memset(b, 0xff, k);
		assert_true(swar_low_bytes(k) == swar_load(b));
	}
	for (int n = 0; n < 100000; n++) {
		unsigned k = 1 + (unsigned) (next_random(&seed) % 8);

		/* Digits, then stale bytes that the value must ignore. */
		for (unsigned i = 0; i < 8; i++)
			b[i] = (char) (i < k ? '0' + next_random(&seed) % 10 : next_random(&seed));
		b[k] = '\0';
		assert_true(swar_digits_value(swar_load(b), k) == strtoull(b, NULL, 10));
	}
#endif
	(void) state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vec16_special),
	    cmocka_unit_test(test_vec16_eq),
	    cmocka_unit_test(test_vec16_flags),
	    cmocka_unit_test(test_vec16_low_bytes),
	    cmocka_unit_test(test_vec16_sum64),
	    cmocka_unit_test(test_swar_text_digits),
	    cmocka_unit_test(test_swar_low_bytes_digits_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
