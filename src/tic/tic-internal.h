/* SPDX-License-Identifier: MIT */
/*
 * What the parser takes inline from labels.c, check.c and value.c: the label lookup, the check of
 * the most common value format (plain digits) and the horodate check, which run for most groups
 * and would lose a good part of their time to a call each; and the same for the typing of each
 * delivered group (numbers, horodate fields). Private to src/tic/: other modules see
 * linkyd/tic.h.
 */
#ifndef LINKYD_TIC_INTERNAL_H
#define LINKYD_TIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "linkyd/tic.h"
#include "swar.h"

/* ---- Label lookup (labels.c) ---------------------------------------------------------------- */

/* A label as the table's index looks it up: its bytes in two NUL-padded words, and its length
 * (a label may hold a NUL, a table name never does). */
struct tic_label_key {
	uint64_t w[2];
	size_t len;
};
_Static_assert(TIC_LABEL_MAX <= sizeof(((struct tic_label_key *) 0)->w), "a key holds a label");

static inline struct tic_label_key
tic_label_key_of(const char *name, size_t len)
{
	struct tic_label_key k = {{0, 0}, len};

	memcpy(k.w, name, len);
	return k;
}

/*
 * An open-addressing hash index over the table, built by labels.c before main() runs: each slot
 * holds its name as a key, so that a hit costs one hash and three compares, and what the parser
 * checks of every group it finds.
 */
#define TIC_INDEX_BITS 9
#define TIC_INDEX_SIZE (1u << TIC_INDEX_BITS)
extern struct tic_label_slot {
	struct tic_label_key key; /* len 0: empty */
	uint8_t label;            /* index in tic_labels */
	uint8_t shape;            /* tic_label_shape() of its groups */
} tic_label_index[TIC_INDEX_SIZE];

/* A group's mode and whether it holds a horodate, in one byte. */
static inline uint8_t
tic_label_shape(enum tic_mode mode, bool horodate)
{
	return (uint8_t) (mode | (horodate ? 4 : 0));
}

/* Multiplicative hashing: the top bits of the product depend on every bit of the key. */
static inline uint32_t
tic_label_hash(uint64_t w0, uint64_t w1)
{
	return (uint32_t) (((w0 ^ w1) * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - TIC_INDEX_BITS));
}

/* The slot of a key's words and length (1 or more), or NULL when the table has no such label. */
static inline const struct tic_label_slot *
tic_label_lookup(uint64_t w0, uint64_t w1, size_t len)
{
	for (uint32_t h = tic_label_hash(w0, w1);; h = (h + 1) % TIC_INDEX_SIZE) {
		const struct tic_label_slot *slot = &tic_label_index[h];

		if (slot->key.w[0] == w0 && slot->key.w[1] == w1 && slot->key.len == len)
			return slot;
		if (slot->key.len == 0)
			return NULL;
	}
}

/* ---- Value formats (check.c) ---------------------------------------------------------------- */

/*
 * Whether every byte of v[0..len) passes a test given for 8 bytes at once (word_ok) and for one
 * (byte_ok): the words at 0, 8, ... and the last 8 bytes (overlapping the previous word) cover
 * every byte once or twice, and a value shorter than a word goes byte by byte. Inline, so that
 * the tests are too.
 */
static inline bool
tic_all_bytes(const char *v, size_t len, int (*word_ok)(uint64_t), bool (*byte_ok)(unsigned char))
{
	size_t i = 0;

	if (len >= 8) {
		for (; i + 8 < len; i += 8)
			if (!word_ok(swar_load(v + i)))
				return false;
		return word_ok(swar_load(v + len - 8));
	}
	for (; i < len; i++)
		if (!byte_ok((unsigned char) v[i]))
			return false;
	return true;
}

static inline bool
tic_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A byte of free text (TIC_FMT_TEXT, BBRx's x, the value of an unknown label): printable ASCII but
 * the backquote. No meter sends one, and a space whose bit 6 flips becomes one with the same 6-bit
 * checksum: refused, it costs the group, where accepted it would be a wrong value published. */
static inline bool
tic_is_text(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '`';
}

static inline bool
tic_all_digits(const char *v, size_t len)
{
	return tic_all_bytes(v, len, swar_digits, tic_is_digit);
}

/* tic_all_digits() for a value followed by readable bytes up to v + 8 at least: a shorter value
 * is one word, its other bytes replaced by '0', and one of up to 16 bytes (every digit format)
 * two words without a loop. */
static inline bool
tic_all_digits_padded(const char *v, size_t len)
{
#if SWAR_LE
	if (len < 8) {
		uint64_t keep = swar_low_bytes((unsigned) len);

		return swar_digits((swar_load(v) & keep) | (SWAR_ONES * '0' & ~keep));
	}
#endif
	if (len >= 8 && len <= 16)
		return swar_digits(swar_load(v)) && swar_digits(swar_load(v + len - 8));
	return tic_all_digits(v, len);
}

/* The code of a value of an enumerated format (TIC_FMT_OPTARIF, _PTEC, _DEMAIN): its index among
 * the format's values (BBRx is 3, whatever x), which for PTEC and DEMAIN is enum tic_ptec or
 * tic_tempo; -1 when it is none of them (or another format). */
int tic_value_code(enum tic_format format, const char *v, size_t len);

/* tic_label_check() for the formats other than plain digits. */
int tic_label_check_other(const struct tic_label *def, const char *v, size_t len);

/* tic_label_check() for a value followed by readable bytes up to v + 8 at least (the parser's
 * buffer has them). Most groups are indexes and other plain numbers: their check is inline. */
static inline int
tic_label_check_padded(const struct tic_label *def, const char *v, size_t len)
{
	if (def->format == TIC_FMT_DIGITS && def->max == 0)
		return len == def->width && tic_all_digits_padded(v, len) ? 0 : TIC_ERR_FORMAT;
	return tic_label_check_other(def, v, len);
}

/* ---- Horodates (value.c) -------------------------------------------------------------------- */

/* yy is 00-99 for 2000-2099, where every fourth year is a leap year. */
static inline unsigned
tic_days_in_month(unsigned yy, unsigned month)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return days[month - 1] + (month == 2 && yy % 4 == 0);
}

/* The fields YY, MM, DD, hh, mm, ss of a horodate h, whose twelve digits are digits. */
static inline void
tic_horodate_fields(const char *h, unsigned f[6])
{
#if SWAR_LE
	/* Each pair of digits joined in its first byte, as swar_digits_value() does: YYMMDDhh from
	 * the first word, then mm and ss from the second (DDhhmmss). */
	uint64_t a = swar_load(h + 1) - SWAR_ONES * '0', b = swar_load(h + 5) - SWAR_ONES * '0';

	a = a * 10 + (a >> 8);
	b = b * 10 + (b >> 8);
	for (int i = 0; i < 4; i++)
		f[i] = (unsigned) (a >> 16 * i) & 0xff;
	f[4] = (unsigned) (b >> 32) & 0xff;
	f[5] = (unsigned) (b >> 48) & 0xff;
#else
	for (int i = 0; i < 6; i++)
		f[i] = (unsigned) (h[1 + 2 * i] - '0') * 10 + (unsigned) (h[2 + 2 * i] - '0');
#endif
}

/*
 * Whether h[0..13) is a horodate SAAMMJJhhmmss: a season character E, H (e, h: degraded clock)
 * or SP, and a valid date and time. Sets f[] to its fields when its digits are digits.
 * The twelve digits are two overlapping words.
 */
static inline bool
tic_horodate_check(const char *h, unsigned f[6])
{
	unsigned season = (unsigned char) h[0] | 0x20; /* E, e -> e; H, h -> h */

	if (!swar_digits(swar_load(h + 1)) || !swar_digits(swar_load(h + 5)))
		return false;
	tic_horodate_fields(h, f);
	return (season == 'e' || season == 'h' || h[0] == ' ') && f[1] - 1 < 12 &&
	       f[2] - 1 < tic_days_in_month(f[0], f[1]) && f[3] < 24 && f[4] < 60 && f[5] < 60;
}

/* The date of a horodate h that tic_horodate_check() passed, from its fields f
 * (tic_horodate_fields()). */
static inline struct tic_datetime
tic_datetime_of(const char *h, const unsigned f[6])
{
	return (struct tic_datetime){
	    .year = (uint16_t) (2000 + f[0]),
	    .month = (uint8_t) f[1],
	    .day = (uint8_t) f[2],
	    .hour = (uint8_t) f[3],
	    .minute = (uint8_t) f[4],
	    .second = (uint8_t) f[5],
	    /* E, e: summer; H, h: winter; lower case: degraded clock; SP: none. */
	    .utc_offset_h = (int8_t) (h[0] == ' '            ? 0
	                              : (h[0] | 0x20) == 'e' ? 2
	                                                     : 1),
	    .has_offset = h[0] != ' ',
	    .degraded = h[0] == 'e' || h[0] == 'h',
	};
}

/* ---- Typed records (value.c) ---------------------------------------------------------------- */

/* The value of len digits at v, 1 <= len <= 16 (the widths of every number format: test_labels.c
 * pins it). Reads v[0..8), and v[len-8..len) beyond 8 digits, whatever len: the parser's buffer
 * has the bytes after a short value. */
static inline uint64_t
tic_digits_value(const char *v, size_t len)
{
#if SWAR_LE
	uint64_t high = 0;

	if (len > 8) {
		/* Every energy index has 9 digits: its first one alone is a subtraction. */
		high = len == 9 ? (uint64_t) (v[0] - '0')
		                : swar_digits_value(swar_load(v), (unsigned) len - 8);
		high *= 100000000;
		v += len - 8;
		len = 8;
	}
	return high + swar_digits_value(swar_load(v), (unsigned) len);
#else
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n = n * 10 + (uint64_t) (v[i] - '0');
	return n;
#endif
}

/* tic_group_type() for the n groups of a frame the parser validated: nothing checked again. */
void tic_groups_type(struct tic_group *groups, unsigned n);

#endif
