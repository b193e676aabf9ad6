/* SPDX-License-Identifier: MIT */
/*
 * SWAR ("SIMD within a register") helpers of the decoder: 8 bytes in a uint64_t, tested or summed
 * at once. Each test below keeps every byte's arithmetic inside its own 8 bits (no carry or borrow
 * crosses into the next byte), so its per-byte answer is exact, and it is exact on either byte
 * order. Only turning a mask into a byte position (swar_first) and masking the first k bytes
 * (swar_low_bytes) assume little-endian: callers use those under SWAR_LE, with a byte-wise
 * fallback elsewhere.
 */
#ifndef LINKYD_TIC_SWAR_H
#define LINKYD_TIC_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_LE 1
#else
#define SWAR_LE 0
#endif

#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGH (SWAR_ONES * 0x80)
#define SWAR_LOW7 (SWAR_ONES * 0x7f)

static inline uint64_t
swar_load(const void *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
	return x;
}

static inline void
swar_store(void *d, uint64_t x)
{
	memcpy(d, &x, sizeof(x));
}

/* Bit 7 of each byte set where x's byte equals b. y & 0x7f plus 0x7f stays below 0x100 and has
 * bit 7 set unless those 7 bits are 0; or-ing y adds its own bit 7: bit 7 is clear iff y is 0. */
static inline uint64_t
swar_eq(uint64_t x, uint8_t b)
{
	uint64_t y = x ^ (SWAR_ONES * b);

	return ~(((y & SWAR_LOW7) + SWAR_LOW7) | y) & SWAR_HIGH;
}

/*
 * Bit 7 of each byte set where x's byte may not sit in a group as it is: a control byte other than
 * HT, DEL, or an 8-bit byte (the parser's special()). With low = the byte's 7 low bits, none of
 * these sums leaves its byte: low + 1 has bit 7 set iff low is 0x7f; low + 0x60 has it clear iff
 * low < 0x20; (low ^ HT) + 0x7f has it clear iff low is HT.
 */
static inline uint64_t
swar_special(uint64_t x)
{
	uint64_t low = x & SWAR_LOW7;
	uint64_t ctl = ((low ^ (SWAR_ONES * 0x09)) + SWAR_LOW7) & ~(low + SWAR_ONES * 0x60);

	return (x | (low + SWAR_ONES) | ctl) & SWAR_HIGH;
}

/* True when the 8 bytes are all printable, 0x20..0x7e: as in swar_special(), with low = the
 * byte's 7 low bits, low + 1 reaches bit 7 iff low is 0x7f and low + 0x60 iff low >= 0x20. */
static inline int
swar_printable(uint64_t x)
{
	uint64_t low = x & SWAR_LOW7;

	return ((x | (low + SWAR_ONES) | ~(low + SWAR_ONES * 0x60)) & SWAR_HIGH) == 0;
}

/* True when the 8 bytes are all '0'..'9'. For a digit, c - '0' and c + 0x46 both stay in
 * 0x00..0x7f, so an all-digit word borrows and carries nothing and gives 0. Otherwise the lowest
 * other byte gets no borrow or carry from below, and one of the two sets its bit 7 (c < '0'
 * borrows; c > '9' reaches 0x80; c >= 0x80 has it already in c - '0' or in c + 0x46). */
static inline int
swar_digits(uint64_t x)
{
	return (((x - SWAR_ONES * '0') | (x + SWAR_ONES * 0x46)) & SWAR_HIGH) == 0;
}

/* The bytes of x as four 16-bit sums of two bytes each (at most 510): add these up for up to 128
 * words and no sum overflows its 16 bits. */
static inline uint64_t
swar_pairs(uint64_t x)
{
	const uint64_t even = UINT64_C(0x00ff00ff00ff00ff);

	return (x & even) + ((x >> 8) & even);
}

/* Total of swar_pairs() sums: the multiplication adds the four 16-bit lanes into the top one,
 * exactly as long as the total (hence every partial sum) is below 0x10000. */
static inline uint32_t
swar_pairs_total(uint64_t pairs)
{
	return (uint32_t) ((pairs * UINT64_C(0x0001000100010001)) >> 48);
}

/* Little-endian only. Index of the first byte flagged in a non-zero mask of bit-7 flags. */
static inline unsigned
swar_first(uint64_t mask)
{
	return (unsigned) __builtin_ctzll(mask) / 8;
}

/* Little-endian only. A mask of the first k bytes of a word, 0 <= k <= 8 (none, all). */
static inline uint64_t
swar_low_bytes(unsigned k)
{
	return k >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * k)) - 1;
}

#endif
