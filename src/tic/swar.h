/* SPDX-License-Identifier: MIT */
/*
 * SWAR ("SIMD within a register") helpers of the decoder: 8 bytes in a uint64_t, tested or summed
 * at once. Each test below keeps every byte's arithmetic inside its own 8 bits (no carry or borrow
 * crosses into the next byte), so its per-byte answer is exact, and it is exact on either byte
 * order. Only turning a mask into a byte position (swar_first, vec16_first but on x86-64) and
 * masking the first k bytes of a word (swar_low_bytes) assume little-endian: callers use those
 * under SWAR_LE, with a byte-wise fallback elsewhere.
 *
 * Then the same for 16 bytes (vec16_*), with the compiler's generic vectors, for the group scan.
 */
#ifndef LINKYD_TIC_SWAR_H
#define LINKYD_TIC_SWAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* True when the 8 bytes are all printable, 0x20..0x7e. With low = the byte's 7 low bits, none of
 * these sums leaves its byte: low + 1 reaches bit 7 iff low is 0x7f and low + 0x60 iff
 * low >= 0x20. */
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

/* Little-endian only. Index of the first byte flagged in a non-zero mask (bit 7 or all the bits
 * of each flagged byte set). */
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

/*
 * Little-endian only. The number the first k bytes of x write in decimal, 1 <= k <= 8, when they
 * are digits (the bytes after them are ignored). Less '0' each, they stay in their bytes (a digit
 * borrows nothing, and a borrow only moves up, into the bytes shifted out); shifted to the top,
 * under zeros, they are eight digits, most significant first in memory. Then adjacent digits,
 * pairs and quads are joined in three multiplications; no sum leaves its lane (99, 9999,
 * 99999999), so no carry crosses into the next.
 */
static inline uint64_t
swar_digits_value(uint64_t x, unsigned k)
{
	x = (x - SWAR_ONES * '0') << (8 * (8 - k));
	x = (x * 10 + (x >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
	x = (x * 100 + (x >> 16)) & UINT64_C(0x0000ffff0000ffff);
	return (x * 10000 + (x >> 32)) & UINT64_C(0xffffffff);
}

/*
 * 16 bytes at a time, with GCC's and Clang's generic vectors: SSE2 on x86-64, NEON on arm64,
 * words elsewhere. A test gives a mask with all the bits of each matching byte set.
 */
typedef uint8_t vec16 __attribute__((vector_size(16)));
typedef int8_t vec16_signed __attribute__((vector_size(16)));
typedef uint64_t vec16_words __attribute__((vector_size(16)));

/* vec16 at any address, which may hold any type: how emmintrin.h's own unaligned loads read. */
typedef uint8_t vec16_unaligned __attribute__((vector_size(16), aligned(1), may_alias));

static inline vec16
vec16_load(const void *s)
{
	return *(const vec16_unaligned *) s;
}

static inline void
vec16_store(void *d, vec16 x)
{
	*(vec16_unaligned *) d = x;
}

static inline vec16
vec16_eq(vec16 x, uint8_t b)
{
	return (vec16) (x == b);
}

/*
 * The bytes that may not sit in a group as they are: control bytes other than HT, DEL, 8-bit
 * bytes (the parser's special()). x + 1 as a signed byte is above 0x20 exactly for the printable
 * bytes 0x20..0x7e (DEL and 0x80..0xff wrap to negative): a byte is special when that test and
 * the test for HT agree, both false (they are never both true).
 */
static inline vec16
vec16_special(vec16 x)
{
	return (vec16) ((vec16) ((vec16_signed) (x + 1) > 0x20) == vec16_eq(x, 0x09));
}

#ifdef __SSE2__
/* x86-64: one instruction (pmovmskb) turns a mask into 16 bits. */
static inline bool
vec16_any(vec16 mask)
{
	return _mm_movemask_epi8((__m128i) mask) != 0;
}

/* Index of the first byte flagged in a non-zero mask. */
static inline unsigned
vec16_first(vec16 mask)
{
	return (unsigned) __builtin_ctz((unsigned) _mm_movemask_epi8((__m128i) mask));
}
#else
static inline bool
vec16_any(vec16 mask)
{
	vec16_words w = (vec16_words) mask;

	return (w[0] | w[1]) != 0;
}

/* Little-endian only. Index of the first byte flagged in a non-zero mask. */
static inline unsigned
vec16_first(vec16 mask)
{
	vec16_words w = (vec16_words) mask;

	return w[0] ? swar_first(w[0]) : 8 + swar_first(w[1]);
}
#endif

/* A mask of the first k bytes, 0 <= k <= 16 (none, all). */
static inline vec16
vec16_low_bytes(unsigned k)
{
	static const uint8_t ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	return vec16_load(ones + 16 - k);
}

/* A number equal to the sum of the bytes of x modulo 64, all the checksum keeps. */
static inline uint32_t
vec16_sum64(vec16 x)
{
#ifdef __SSE2__
	/* psadbw: the sums of each half's bytes, in the low 16 bits of each 64-bit lane. */
	__m128i halves = _mm_sad_epu8((__m128i) x, _mm_setzero_si128());

	return (uint32_t) (_mm_cvtsi128_si32(halves) + _mm_extract_epi16(halves, 4));
#else
	/* Every byte's 6 low bits in two words of four 16-bit sums each (at most 4 * 63 * 2),
	 * whose total swar_pairs_total() takes. */
	vec16_words w = (vec16_words) (x & 0x3f);

	return swar_pairs_total(swar_pairs(w[0] + w[1]));
#endif
}

#endif
