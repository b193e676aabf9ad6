/* SPDX-License-Identifier: MIT */
/*
 * Pseudonyms for the meter's identifiers (see anon.h): SipHash-2-4 written from its paper
 * ("SipHash: a fast short-input PRF", Aumasson and Bernstein, 2012), the key derivations, and the
 * rewriting of decoded frames and of raw bytes, which share the digit function so that the log
 * and the published frames show the same pseudonym.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "linkyd/anon.h"

/* ---- SipHash-2-4 ----------------------------------------------------------------------------- */

static uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static void
sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* c = 2 compression rounds per message word. */
static void
sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static uint64_t
load_le(const uint8_t *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t) p[i] << (8 * i);
	return w;
}

uint64_t
anon_siphash(const struct anon_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct sip s = {
	    .v0 = key->k[0] ^ UINT64_C(0x736f6d6570736575), /* "somepseu" */
	    .v1 = key->k[1] ^ UINT64_C(0x646f72616e646f6d), /* "dorandom" */
	    .v2 = key->k[0] ^ UINT64_C(0x6c7967656e657261), /* "lygenera" */
	    .v3 = key->k[1] ^ UINT64_C(0x7465646279746573), /* "tedbytes" */
	};
	size_t tail = len % 8;

	for (const uint8_t *end = p + len - tail; p < end; p += 8)
		sip_word(&s, load_le(p, 8));
	/* The last word: the remaining bytes, and the length modulo 256 in its top byte. */
	sip_word(&s, load_le(p, tail) | (uint64_t) (len & 0xff) << 56);
	/* d = 4 finalisation rounds. */
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* ---- Keys ------------------------------------------------------------------------------------ */

/* Two fixed, public keys turn a secret of any length into 128 bits; they only have to differ.
 * Hashed with keys of linkyd's own, a machine-id gives a key no other program derives, and the
 * id itself is never used as one (machine-id(5) asks for that). */
static const struct anon_key derive_keys[2] = {
    {{UINT64_C(0x6e6f6e61206479), UINT64_C(0x3120796b)}}, /* "yd anon", "ky 1" */
    {{UINT64_C(0x6e6f6e61206479), UINT64_C(0x3220796b)}}, /* "yd anon", "ky 2" */
};

static void
derive(const void *secret, size_t len, struct anon_key *ret_key)
{
	ret_key->k[0] = anon_siphash(&derive_keys[0], secret, len);
	ret_key->k[1] = anon_siphash(&derive_keys[1], secret, len);
}

int
anon_key_from_secret(const char *secret, struct anon_key *ret_key)
{
	if (!secret || !secret[0])
		return -EINVAL;
	derive(secret, strlen(secret), ret_key);
	return 0;
}

#define MACHINE_ID_LEN 32

int
anon_key_from_machine_id(const char *path, struct anon_key *ret_key)
{
	/* Room for one byte more than an id and its newline, to see that there is more. */
	char buf[MACHINE_ID_LEN + 2];
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			(void) close(fd);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t) r;
	}
	(void) close(fd);
	if (n == sizeof(buf) || n < MACHINE_ID_LEN ||
	    (n == MACHINE_ID_LEN + 1 && buf[MACHINE_ID_LEN] != '\n'))
		return -EINVAL;
	for (size_t i = 0; i < MACHINE_ID_LEN; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] >= 'a' && buf[i] <= 'f')))
			return -EINVAL;
	derive(buf, MACHINE_ID_LEN, ret_key);
	return 0;
}

/* ---- Pseudonyms ------------------------------------------------------------------------------ */

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Byte i of a pseudonym, from byte i of the id and the i bytes before it: a digit moves by a
 * keyed amount that depends on all of them (SipHash's input length is part of its input, so
 * the position is too); any other byte stays. */
static unsigned char
pseudo_byte(const struct anon_key *key, const char *prefix, size_t i, unsigned char c)
{
	if (!is_digit(c))
		return c;
	return (unsigned char) ('0' + (c - '0' + anon_siphash(key, prefix, i) % 10) % 10);
}

void
anon_pseudonym(const struct anon_key *key, const char *id, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char) pseudo_byte(key, id, i, (unsigned char) id[i]);
	out[len] = '\0';
}

static bool
is_id(const struct tic_label *def)
{
	return def && def->format == TIC_FMT_ID;
}

int
anon_frame(const struct anon_key *key, const struct tic_frame *in, struct anon_frame *out)
{
	size_t used = 0;

	if (in->n_groups > TIC_FRAME_GROUPS)
		return -ENOBUFS;
	for (unsigned i = 0; i < in->n_groups; i++) {
		const struct tic_group *g = &in->groups[i];

		out->groups[i] = *g;
		if (!is_id(g->def))
			continue;
		if (used + g->value_len + 1 > sizeof(out->values))
			return -ENOBUFS;
		anon_pseudonym(key, g->value, g->value_len, out->values + used);
		out->groups[i].value = out->values + used;
		used += g->value_len + 1u;
	}
	out->frame =
	    (struct tic_frame){.mode = in->mode, .n_groups = in->n_groups, .groups = out->groups};
	return 0;
}

/* ---- Raw bytes ------------------------------------------------------------------------------- */

enum stream_state {
	S_KNOWN,  /* in a group of a known label that holds no identifier: copied up to its check
	           * character; anything after that but CR is another group (S_MASKED) */
	S_MASKED, /* where an identifier could hide unseen: the start of the stream (mid-group),
	           * between groups (a lost LF), a group whose label is unknown or corrupt: its
	           * digits become '0' until the next LF */
	S_LABEL,  /* after LF, up to the first separator */
	S_VALUE,  /* an identifier's value, up to the next separator */
	S_CHECK,  /* the check character */
	S_TAIL,   /* bytes after the check character: a corrupt group, rewritten all the same */
};

/* Labels have at most two digits in a row (EASF01, SMAXSN1-1): more is a value whose LF and
 * label were lost, maybe an identifier. */
#define LABEL_DIGITS_MAX 2

void
anon_stream_init(struct anon_stream *s)
{
	*s = (struct anon_stream){.state = S_MASKED};
}

/* What to write for c, read from the line, once its 7 bits c7 are rewritten as o. A byte read
 * with bit 7 comes from a 7E1 line read 8 bits wide, bit 7 being its parity: a good one gets
 * the parity bit of o; a bad one, which the parser drops with its group, becomes 0x80, bad too
 * and telling nothing of the digit. A byte without bit 7 stays without, as the parser takes
 * those as they are. */
static unsigned char
rewritten(unsigned char c, unsigned char c7, unsigned char o)
{
	if (o == c7)
		return c;
	if (!(c & 0x80))
		return o;
	if (__builtin_popcount(c) & 1)
		return 0x80;
	return (unsigned char) (o | (__builtin_popcount(o) & 1) << 7);
}

/* A byte of an identifier group's value (or of a corrupt tail): rewritten, and kept as the
 * prefix of the next. Past TIC_VALUE_MAX, the parser drops the group as overlong: digits
 * become '0', which says nothing of them. */
static unsigned char
value_byte(const struct anon_key *key, struct anon_stream *s, unsigned char c7)
{
	unsigned char r = '0';

	if (s->value_len < sizeof(s->value)) {
		r = pseudo_byte(key, s->value, s->value_len, c7);
		s->value[s->value_len++] = (char) c7;
	} else if (!is_digit(c7)) {
		r = c7;
	}
	s->sum_delta = (uint8_t) ((s->sum_delta + r - c7) & 0x3f);
	return r;
}

/* Where the label (s->label_len bytes) leads: into an identifier's value, or out. */
static enum stream_state
after_label(struct anon_stream *s, unsigned char sep)
{
	const struct tic_label *def = tic_label_find(s->label, s->label_len);

	s->value_len = 0;
	s->sum_delta = 0;
	/* A known group's shape: its separators, then one check character, then CR. */
	s->sep = (char) sep;
	s->seps = 1;
	s->seps_needed = sep == TIC_HT && def && (def->flags & TIC_LF_HORODATE) ? 3 : 2;
	return !def ? S_MASKED : is_id(def) ? S_VALUE : S_KNOWN;
}

/* Whether c7 is a digit past LABEL_DIGITS_MAX in a row at the end of the label so far. */
static bool
label_digit_run(const struct anon_stream *s, unsigned char c7)
{
	size_t run = 0;

	if (!is_digit(c7))
		return false;
	while (run < s->label_len && is_digit((unsigned char) s->label[s->label_len - 1 - run]))
		run++;
	return run >= LABEL_DIGITS_MAX;
}

/* One byte (7 bits) of a group: the next state, and the byte to write in *out. */
static enum stream_state
group_step(const struct anon_key *key, struct anon_stream *s, unsigned char c7, unsigned char *out)
{
	bool sep = c7 == TIC_SP || c7 == TIC_HT;

	*out = c7;
	switch ((enum stream_state) s->state) {
	case S_LABEL:
		if (sep)
			return after_label(s, c7);
		if (label_digit_run(s, c7))
			*out = '0';
		if (s->label_len == sizeof(s->label))
			return S_MASKED;
		s->label[s->label_len++] = (char) c7;
		return S_LABEL;
	case S_VALUE:
		if (sep)
			return S_CHECK;
		*out = value_byte(key, s, c7);
		return S_VALUE;
	case S_CHECK:
		/* Moved by what the pseudonym added to the sum, the check character stays right
		 * (in either historique rule) or wrong, and no longer tells the id's digit sum. */
		if (c7 >= 0x20 && c7 < 0x60)
			*out = (unsigned char) (((c7 - 0x20 + s->sum_delta) & 0x3f) + 0x20);
		return S_TAIL;
	case S_TAIL:
		*out = value_byte(key, s, c7);
		return S_TAIL;
	case S_KNOWN:
		if (s->seps < s->seps_needed) {
			s->seps += c7 == (unsigned char) s->sep;
			return S_KNOWN;
		}
		if (s->seps++ == s->seps_needed)
			return S_KNOWN; /* the check character */
		/* Only CR may follow it: this is another group, its CR and LF lost. */
		break;
	case S_MASKED:
		break;
	}
	if (is_digit(c7))
		*out = '0';
	return S_MASKED;
}

void
anon_stream(const struct anon_key *key, struct anon_stream *s, const unsigned char *in, size_t len,
            unsigned char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i], c7 = c & 0x7f, o = c7;

		if (c7 == TIC_LF) {
			s->state = S_LABEL;
			s->label_len = 0;
		} else if (c7 != TIC_HT && (c7 < 0x20 || c7 == 0x7f)) {
			/* CR, STX, ETX, EOT or noise: the group is over; until the next LF, nothing
			 * says what the bytes are. */
			s->state = S_MASKED;
		} else {
			s->state = (uint8_t) group_step(key, s, c7, &o);
		}
		out[i] = rewritten(c, c7, o);
	}
}

int
anon_key_load(const char *secret, struct anon_key *ret_key)
{
	if (secret)
		return anon_key_from_secret(secret, ret_key);
	return anon_key_from_machine_id(ANON_MACHINE_ID, ret_key);
}
