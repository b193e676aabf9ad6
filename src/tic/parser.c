/* SPDX-License-Identifier: MIT */
/*
 * Streaming TIC frame parser (Enedis-NOI-CPT_02E historique, Enedis-NOI-CPT_54E standard).
 *
 *   frame:        STX  LF group CR  LF group CR  ...  ETX      (EOT instead of ETX: cut short)
 *
 *   historique:   LF  LABEL SP VALUE SP C  CR
 *                     \______________/          C = (sum & 0x3F) + 0x20
 *                     (some meters also sum the last SP: "mode 2", accepted and counted)
 *
 *   standard:     LF  LABEL HT [HORODATE HT] VALUE HT C  CR
 *                     \_____________________________/  C = (sum & 0x3F) + 0x20
 *
 * The mode is taken from each group's last separator, and a frame holds groups of one mode (the
 * first valid group's). A group is kept only when its checksum, its shape and its value's format
 * are right; the others are dropped and counted while the rest of the frame carries on. A frame
 * is delivered at ETX with its valid groups; one cut by EOT, by a new STX or by the end of input
 * is not.
 *
 * Bytes with bit 7 set come from a 7E1 line read as 8 data bits (the parity bit lands in bit 7)
 * or from noise. Such a byte is accepted, with bit 7 cleared, only when its 8 bits have even
 * parity, i.e. when it is a valid 7E1 character; otherwise it is a bad byte and its group is
 * dropped. Bytes without bit 7 are taken as they are: on a line read 7 bits wide the UART already
 * checked their parity.
 *
 * Speed: the bytes of a group are checked, summed and copied 16 at a time up to the first control
 * or 8-bit byte (swar.h, on targets with vector instructions; the last few bytes of the input,
 * and all of them elsewhere, one by one), and a group's CR and the next LF are taken there too;
 * other control bytes and 8-bit bytes go through the per-byte state machine, which has the last
 * word on them. The group's checks then run inline (tic-internal.h) on the sum that the scan
 * made.
 */
#include <string.h>

#include "linkyd/tic.h"
#include "tic-internal.h"

/* group_parse() reads the first TIC_LABEL_MAX + 1 bytes of a group, even a shorter group's, and
 * a value's first 8 bytes, even a shorter value's. */
_Static_assert(TIC_BUF_SLACK >= TIC_LABEL_MAX && TIC_LABEL_MAX == 16,
               "label_split() reads a vector and a byte of the frame buffer");

/* Short names for the framing bytes, in this file where they are everywhere. */
enum {
	STX = TIC_STX,
	ETX = TIC_ETX,
	EOT = TIC_EOT,
	HT = TIC_HT,
	LF = TIC_LF,
	CR = TIC_CR,
	SP = TIC_SP,
};

static void
count(struct tic_parser *p, enum tic_err err)
{
	p->stats.errors[TIC_ERR_INDEX(err)]++;
}

static void
frame_begin(struct tic_parser *p)
{
	p->state = TIC_S_FRAME;
	p->mode = TIC_MODE_UNKNOWN;
	p->used = 0;
	p->n_groups = 0;
	memset(p->seen, 0, sizeof(p->seen));
}

/* The frame in progress will never see its ETX. */
static void
frame_interrupt(struct tic_parser *p)
{
	p->stats.frames_interrupted++;
	count(p, TIC_ERR_FRAMING);
	p->state = TIC_S_IDLE;
}

/*
 * The frame's groups are typed here, once per delivered frame, rather than in group_parse() as
 * each is checked. The byte scan and the checks are the work bench/run.sh holds to 2x its memchr
 * floor in instructions per byte, met with 1 to 2% to spare; typing (numbers, horodate fields,
 * STGE) adds 15 to 22%. Measured both ways (callgrind, Ir per frame, historique / standard
 * mono / triphasé): typed in group_parse(), the parser alone went from 3 052 / 10 769 / 15 791
 * to 3 552 / 13 226 / 19 713 (2.29x, 2.42x, 2.43x the floor); typed here, in a loop over groups
 * already checked and in cache, parsing and typing together cost 3 523 / 12 975 / 19 296,
 * less than the other way, and the parser's ratio holds. The bench's "frames" stage counts the
 * typing, its "parser" stage (no on_frame: nothing typed nor delivered) does not.
 */
static int
frame_end(struct tic_parser *p)
{
	struct tic_frame f = {p->mode, p->n_groups, p->groups};

	p->state = TIC_S_IDLE;
	if (p->n_groups == 0) {
		p->stats.frames_empty++;
		return 0;
	}
	p->stats.frames++;
	p->stats.groups += p->n_groups;
	if (!p->cb->on_frame)
		return 0;
	tic_groups_type(p->groups, p->n_groups);
	return p->cb->on_frame(&f, p->userdata);
}

static void
group_begin(struct tic_parser *p)
{
	p->state = TIC_S_GROUP;
	p->group_start = p->used;
	p->group_sum = 0;
}

static void
group_drop(struct tic_parser *p, enum tic_err err)
{
	count(p, err);
	p->used = p->group_start;
	p->state = TIC_S_FRAME;
}

static bool
label_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-';
}

static bool
text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!tic_is_text((unsigned char) s[i]))
			return false;
	return true;
}

/* A label the table does not know may appear once per frame, like known ones. */
static bool
unknown_seen(const struct tic_parser *p, const char *label, size_t len)
{
	for (unsigned i = 0; i < p->n_groups; i++)
		if (!p->groups[i].def && p->groups[i].label_len == len &&
		    memcmp(p->groups[i].label, label, len) == 0)
			return true;
	return false;
}

/*
 * The label of a group whose bytes before its last separator are g[0..n): the bytes before the
 * first sep. Returns its length and sets ret_key, or an error.
 */
static int
label_split(const char *g, size_t n, unsigned char sep, struct tic_label_key *ret_key)
{
	size_t len;
#if VEC16_SCAN
	/* The first sep among g[0..17) (bytes past n are stale but inside p->buf); 17 if none.
	 * Compared with HT or SP as constants: a vector of a variable byte costs 3 or 4
	 * instructions to broadcast. */
	vec16 w = vec16_load(g), m = sep == HT ? vec16_eq(w, HT) : vec16_eq(w, SP);

	len = vec16_any(m) ? vec16_first(m) : (unsigned char) g[16] == sep ? 16 : 17;
#else
	for (len = 0; len < n && len <= TIC_LABEL_MAX && (unsigned char) g[len] != sep; len++)
		;
#endif
	if (len >= n)
		return TIC_ERR_FORMAT; /* no separator before the last one */
	if (len > TIC_LABEL_MAX)
		return memchr(g + len, sep, n - len) ? TIC_ERR_OVERLONG : TIC_ERR_FORMAT;
	if (len == 0)
		return TIC_ERR_FORMAT;
#if VEC16_SCAN
	{
		vec16_words k = (vec16_words) (w & vec16_low_bytes((unsigned) len));

		*ret_key = (struct tic_label_key){{k[0], k[1]}, len};
	}
#else
	*ret_key = tic_label_key_of(g, len);
#endif
	return (int) len;
}

/*
 * Check the group g[0..n) (between LF and CR), whose bytes sum to sum (modulo 256 at least: the
 * checksum keeps 6 bits), and split it in place: separators become NULs so that label, horodate
 * and value are C strings inside the frame buffer. Forced inline into group_end(): a call per
 * group would cost a good part of what it does.
 */
__attribute__((always_inline)) static inline int
group_parse(struct tic_parser *p, char *g, size_t n, uint32_t sum, struct tic_group *ret)
{
	enum tic_mode mode;
	unsigned char c, sep;
	char *label, *value, *horodate = NULL, *end;
	size_t label_len, value_len;
	struct tic_label_key key;
	const struct tic_label_slot *slot;
	const struct tic_label *def = NULL;
	bool incl = false;
	int r;

	if (n < 3)
		return TIC_ERR_FORMAT;
	c = (unsigned char) g[n - 1];
	sep = (unsigned char) g[n - 2];
	sum -= c;
	if (sep == HT) {
		mode = TIC_MODE_STANDARD;
		if ((sum & 0x3f) + 0x20 != c)
			return TIC_ERR_CHECKSUM;
	} else if (sep == SP) {
		mode = TIC_MODE_HISTORIQUE;
		incl = (sum & 0x3f) + 0x20 == c;
		if (!incl && ((sum - SP) & 0x3f) + 0x20 != c)
			return TIC_ERR_CHECKSUM;
	} else {
		return TIC_ERR_FORMAT;
	}

	label = g;
	end = g + n - 2;
	r = label_split(label, (size_t) (end - label), sep, &key);
	if (r < 0)
		return r;
	label_len = (size_t) r;
	/* Looked up first so that only unknown labels need their characters checked: the table's
	 * names are made of label characters (test_labels.c pins it). */
	slot = tic_label_lookup(key.w[0], key.w[1], key.len);
	if (!slot)
		for (size_t i = 0; i < label_len; i++)
			if (!label_char_ok((unsigned char) label[i]))
				return TIC_ERR_FORMAT;
	value = label + label_len;
	*value++ = '\0';
	/* A standard group holds a horodate when an HT follows 13 bytes. An HT anywhere else is a
	 * format error: it is left in the value, where every value format and text_ok() refuse it
	 * (test_labels.c pins it), and where the only check before those, the length, looks for it.
	 */
	if (mode == TIC_MODE_STANDARD && end - value > TIC_HORODATE_LEN &&
	    value[TIC_HORODATE_LEN] == HT) {
		horodate = value;
		value[TIC_HORODATE_LEN] = '\0';
		value += TIC_HORODATE_LEN + 1;
	}
	value_len = (size_t) (end - value);
	if (value_len > TIC_VALUE_MAX)
		return mode == TIC_MODE_STANDARD && memchr(value, HT, value_len) ? TIC_ERR_FORMAT
		                                                                 : TIC_ERR_OVERLONG;

	if (p->mode != TIC_MODE_UNKNOWN && p->mode != mode)
		return TIC_ERR_FORMAT;
	if (horodate) {
		unsigned f[6];

		if (!tic_horodate_check(horodate, f))
			return TIC_ERR_FORMAT;
	}
	if (slot) {
		unsigned i = slot->label;

		def = &tic_labels[i];
		if (slot->shape != tic_label_shape(mode, horodate) ||
		    tic_label_check_padded(def, value, value_len) < 0 ||
		    (p->seen[i / 64] & (UINT64_C(1) << (i % 64))))
			return TIC_ERR_FORMAT;
		p->seen[i / 64] |= UINT64_C(1) << (i % 64);
	} else {
		/* Unknown labels (other VTIC, older meters) pass through as text. A historique
		 * value never holds a SP: one there would let a SP inserted by noise pass the
		 * checksum variant that sums the last SP (the two sums differ by 64). */
		if ((value_len == 0 && (!horodate || mode == TIC_MODE_HISTORIQUE)) ||
		    !text_ok(value, value_len) || unknown_seen(p, label, label_len) ||
		    (mode == TIC_MODE_HISTORIQUE && memchr(value, SP, value_len)))
			return TIC_ERR_FORMAT;
	}

	end[0] = '\0';
	p->mode = mode;
	if (mode == TIC_MODE_HISTORIQUE) {
		if (incl)
			p->stats.hist_sum_incl++;
		else
			p->stats.hist_sum_excl++;
	}
	/* Field by field: the typed fields are frame_end()'s, and a whole-struct store here would
	 * zero them for nothing. */
	ret->label = label;
	ret->value = value;
	ret->horodate = horodate;
	ret->def = def;
	ret->label_len = (uint8_t) label_len;
	ret->value_len = (uint8_t) value_len;
	return 0;
}

/* The CR of a group whose bytes sum to sum, as group_parse() takes it. Inline in the scan of
 * group_run(), where a call cost 10 to 14 instructions per group. */
__attribute__((always_inline)) static inline void
group_end(struct tic_parser *p, uint32_t sum)
{
	int r;

	if (p->n_groups == TIC_FRAME_GROUPS) {
		group_drop(p, TIC_ERR_OVERLONG);
		return;
	}
	r = group_parse(p, p->buf + p->group_start, (size_t) p->used - p->group_start, sum,
	                &p->groups[p->n_groups]);
	if (r < 0) {
		group_drop(p, r);
		return;
	}
	p->n_groups++;
	p->state = TIC_S_FRAME;
}

/* group_end() for byte_step(), which only sees the rare CR that arrives with its parity bit set:
 * out of line, so that the state machine does not carry a second copy of group_parse(). */
__attribute__((noinline)) static void
group_end_byte(struct tic_parser *p)
{
	group_end(p, p->group_sum);
}

/* Bytes the current group can still take, bounded by the group and the frame buffer. */
static size_t
group_room(const struct tic_parser *p)
{
	size_t used = p->used, group = TIC_GROUP_MAX - (used - p->group_start);
	size_t frame = TIC_FRAME_BYTES - used;

	return group < frame ? group : frame;
}

static bool
even_parity(uint8_t c)
{
	return (__builtin_popcount(c) & 1) == 0;
}

/* The state machine, one byte at a time. Returns on_frame's result, 0 to go on. */
static int
byte_step(struct tic_parser *p, uint8_t c)
{
	if (c & 0x80) {
		if (!even_parity(c)) {
			p->stats.bytes_bad_parity++;
			if (p->state == TIC_S_GROUP)
				group_drop(p, TIC_ERR_BYTE);
			else
				p->stats.bytes_skipped++;
			return 0;
		}
		c &= 0x7f;
	}
	switch (c) {
	case STX:
		if (p->state != TIC_S_IDLE)
			frame_interrupt(p);
		frame_begin(p);
		return 0;
	case ETX:
		if (p->state == TIC_S_IDLE)
			break;
		if (p->state == TIC_S_GROUP)
			group_drop(p, TIC_ERR_FRAMING);
		return frame_end(p);
	case EOT:
		if (p->state == TIC_S_IDLE)
			break;
		frame_interrupt(p);
		return 0;
	default:
		if (p->state == TIC_S_GROUP)
			goto in_group;
		if (p->state == TIC_S_FRAME && c == LF) {
			group_begin(p);
			return 0;
		}
		break;
	}
	p->stats.bytes_skipped++;
	return 0;

in_group:
	if (c == CR) {
		group_end_byte(p);
	} else if (c == LF) {
		/* CR lost: the group is cut, and this LF starts the next one. */
		group_drop(p, TIC_ERR_FRAMING);
		group_begin(p);
	} else if (c != HT && (c < 0x20 || c == 0x7f)) {
		group_drop(p, TIC_ERR_BYTE);
	} else if (group_room(p) == 0) {
		/* Counted as skipped, like the bytes after it up to the next LF. */
		group_drop(p, TIC_ERR_OVERLONG);
		p->stats.bytes_skipped++;
	} else {
		p->buf[p->used++] = (char) c;
		p->group_sum += c;
	}
	return 0;
}

static bool
special(uint8_t c)
{
	return (uint8_t) (c - 0x20) > 0x5e && c != HT;
}

/*
 * Inside a group: take the run of ordinary bytes (not special()) up to CR in bulk, then the CR, and
 * group after group while an LF follows. Returns bytes consumed.
 */
static size_t
group_run(struct tic_parser *p, const uint8_t *s, size_t avail)
{
	const uint8_t *start = s;
	uint32_t sum = p->group_sum;

	for (;;) {
		size_t room = group_room(p);
		size_t lim = avail < room + 1 ? avail : room + 1;
		char *d = p->buf + p->used;
		size_t run = 0;

#if VEC16_SCAN
		/* 16 bytes at a time while they are in s[0..lim): bytes stored past the run stay
		 * below buf + used + lim <= buf + TIC_FRAME_BYTES + 1, and are overwritten or
		 * ignored. Each byte of sums adds up a byte of each vector, modulo 256: enough for
		 * the checksum, which keeps the sum modulo 64. */
		vec16 sums = {0};

		for (; run + 16 <= lim; run += 16) {
			vec16 x = vec16_load(s + run), m = vec16_special(x);

			vec16_store(d + run, x);
			if (vec16_any(m)) {
				unsigned k = vec16_first(m);

				sums += x & vec16_low_bytes(k);
				run += k;
				goto done;
			}
			sums += x;
		}
#endif
		for (; run < lim && !special(s[run]); run++) {
			d[run] = (char) s[run];
			sum += s[run];
		}
#if VEC16_SCAN
	done:
		sum += vec16_sum64(sums);
#endif
		if (run > room) {
			/* The group takes room bytes, as byte by byte; the rest is skipped. */
			group_drop(p, TIC_ERR_OVERLONG);
			return (size_t) (s - start) + room;
		}
		p->used = (uint16_t) (p->used + run);
		if (run == lim || s[run] != CR) {
			p->group_sum = sum;
			return (size_t) (s - start) + run;
		}
		group_end(p, sum);
		/* Most of the time the next group's LF follows: start it here, as byte_step would.
		 */
		if (run + 1 == avail || s[run + 1] != LF)
			return (size_t) (s - start) + run + 1;
		group_begin(p);
		sum = 0;
		s += run + 2;
		avail -= run + 2;
	}
}

void
tic_parser_init(struct tic_parser *p, const struct tic_parser_callbacks *cb, void *userdata)
{
	memset(p, 0, sizeof(*p));
	p->state = TIC_S_IDLE;
	p->cb = cb;
	p->userdata = userdata;
}

void
tic_parser_reset(struct tic_parser *p)
{
	if (p->state != TIC_S_IDLE)
		frame_interrupt(p);
}

size_t
tic_parser_feed(struct tic_parser *p, const void *data, size_t len)
{
	const uint8_t *s = data, *end = s + len;

	while (s < end) {
		if (p->state == TIC_S_GROUP) {
			size_t n = group_run(p, s, (size_t) (end - s));

			s += n;
			if (n > 0 || p->state != TIC_S_GROUP)
				continue;
		}
		if (s < end && byte_step(p, *s++) != 0)
			break;
	}
	return (size_t) (s - (const uint8_t *) data);
}
