/* SPDX-License-Identifier: MIT */
/*
 * SWAR ("SIMD within a register") helpers of the decoder: 8 bytes in a uint64_t, tested or summed
 * at once. Each test below keeps every byte's arithmetic inside its own 8 bits (no carry or borrow
 * crosses into the next byte), so its per-byte answer is exact, and it is exact on either byte
 * order. Only turning a mask into a byte position (vec16_first but on x86-64) and masking the
 * first k bytes of a word (swar_low_bytes) assume little-endian: callers use those under SWAR_LE,
 * with a byte-wise fallback elsewhere.
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
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
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

/* True when the 8 bytes are all TIC text: printable, 0x20..0x7e, but the backquote 0x60 (a space
 * whose bit 6 flipped, which the checksum cannot see: docs/tic.md §11). With low = the byte's
 * 7 low bits, none of these sums leaves its byte: low + 1 reaches bit 7 iff low is 0x7f,
 * low + 0x60 iff low >= 0x20, and (low ^ 0x60) + 0x7f iff low is not 0x60. */
static inline int
swar_text(uint64_t x)
{
	uint64_t low = x & SWAR_LOW7;

	return ((x | (low + SWAR_ONES) | ~(low + SWAR_ONES * 0x60) |
	         ~((low ^ SWAR_ONES * 0x60) + SWAR_LOW7)) &
	        SWAR_HIGH) == 0;
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
 * one operation per byte or word elsewhere. A test gives a mask with all the bits of each
 * matching byte set.
 *
 * VEC16_SCAN: whether the parser uses them, which pays only with vector instructions. Debian's
 * armhf has no NEON, and there GCC turns each operation on 16 bytes into 16 on bytes: the parser
 * cost 5 times the floor's instructions per byte, a plain byte loop 40% fewer (bench/README.md).
 * -DVEC16_HW=0 takes the byte loop on any target, to test it natively.
 */
#ifndef VEC16_HW
#if defined(__x86_64__) || defined(__SSE2__) || defined(__ARM_NEON)
#define VEC16_HW 1
#else
#define VEC16_HW 0
#endif
#endif
#define VEC16_SCAN (SWAR_LE && VEC16_HW)

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
/* x86-64: one instruction (pmovmskb) turns a mask into 16 bits, one per byte. */
#define VEC16_FLAG_BITS 1

static inline uint64_t
vec16_flags(vec16 mask)
{
	return (uint64_t) _mm_movemask_epi8((__m128i) mask);
}
#else
/*
 * Elsewhere a mask becomes 64 bits, 4 per byte: each 16-bit lane shifted right by 4 and cut to
 * 8 bits keeps the high half of its first byte and the low half of its second, in order (on
 * little-endian). On arm64 that is one instruction (shrn); with the generic vectors, a shift, an
 * and and a pack on x86-64. Then "any" is a test and "first" a ctz and a shift of that one word,
 * where two words took a branch and up to 7 instructions.
 */
#define VEC16_FLAG_BITS 4

static inline uint64_t
vec16_flags(vec16 mask)
{
#if defined(__aarch64__) && defined(__ARM_NEON)
	return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(mask), 4)), 0);
#else
	typedef uint16_t vec16_lanes __attribute__((vector_size(16)));
	typedef uint8_t vec8 __attribute__((vector_size(8)));
	vec8 nibbles = __builtin_convertvector((vec16_lanes) mask >> 4, vec8);
	uint64_t flags;

	memcpy(&flags, &nibbles, sizeof(flags));
	return flags;
#endif
}
#endif

static inline bool
vec16_any(vec16 mask)
{
	return vec16_flags(mask) != 0;
}

/* Little-endian only but on x86-64. Index of the first byte flagged in a non-zero mask. */
static inline unsigned
vec16_first(vec16 mask)
{
	return (unsigned) __builtin_ctzll(vec16_flags(mask)) / VEC16_FLAG_BITS;
}

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
#elif defined(__aarch64__) && defined(__ARM_NEON)
	/* addv: the 16 bytes' sum modulo 256. */
	return vaddvq_u8(x);
#else
	/*
	 * Every byte's 6 low bits (at most 63), then the four 32-bit lanes folded twice, bytewise:
	 * each byte of lane 0 adds up four bytes, at most 252, so no sum carries into the next
	 * byte. Cut to 6 bits again (the sum modulo 64 is all that counts), the four bytes are
	 * added into the top one by a multiplication, whose partial sums (at most 63, 126, 189,
	 * 252) carry nothing either: 9 instructions on x86-64, where 16-bit pairs took 18.
	 */
	typedef uint32_t vec16_lanes __attribute__((vector_size(16)));
	vec16_lanes v = (vec16_lanes) (x & 0x3f);

	v += __builtin_shufflevector(v, v, 2, 3, 0, 1);
	v += __builtin_shufflevector(v, v, 1, 0, 3, 2);
	return ((v[0] & UINT32_C(0x3f3f3f3f)) * UINT32_C(0x01010101)) >> 24;
#endif
}

#endif
