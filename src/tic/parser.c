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
 * Speed: the bytes of a group are found with memchr(CR) and checked, summed and copied in bulk;
 * only control bytes, 8-bit bytes and group ends go through the per-byte state machine.
 */
#include <string.h>

#include "linkyd/tic.h"

enum {
	STX = 0x02,
	ETX = 0x03,
	EOT = 0x04,
	HT = 0x09,
	LF = 0x0a,
	CR = 0x0d,
	SP = 0x20,
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
	return p->cb->on_frame ? p->cb->on_frame(&f, p->userdata) : 0;
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
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
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
 * Check the group g[0..n) (between LF and CR) and split it in place: separators become NULs so
 * that label, horodate and value are C strings inside the frame buffer.
 */
static int
group_parse(struct tic_parser *p, char *g, size_t n, struct tic_group *ret)
{
	enum tic_mode mode;
	unsigned char c, sep;
	uint32_t sum;
	char *label, *value, *horodate = NULL, *end;
	size_t label_len, value_len;
	const struct tic_label *def;
	bool incl = false;

	if (n < 3)
		return TIC_ERR_FORMAT;
	c = (unsigned char) g[n - 1];
	sep = (unsigned char) g[n - 2];
	sum = p->group_sum - c;
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
	value = memchr(label, sep, (size_t) (end - label));
	if (!value)
		return TIC_ERR_FORMAT;
	label_len = (size_t) (value - label);
	if (label_len == 0)
		return TIC_ERR_FORMAT;
	if (label_len > TIC_LABEL_MAX)
		return TIC_ERR_OVERLONG;
	for (size_t i = 0; i < label_len; i++)
		if (!label_char_ok((unsigned char) label[i]))
			return TIC_ERR_FORMAT;
	*value++ = '\0';
	if (mode == TIC_MODE_STANDARD) {
		char *ht = memchr(value, HT, (size_t) (end - value));

		if (ht) {
			if (ht - value != TIC_HORODATE_LEN ||
			    memchr(ht + 1, HT, (size_t) (end - ht - 1)))
				return TIC_ERR_FORMAT;
			horodate = value;
			*ht = '\0';
			value = ht + 1;
		}
	}
	value_len = (size_t) (end - value);
	if (value_len > TIC_VALUE_MAX)
		return TIC_ERR_OVERLONG;

	if (p->mode != TIC_MODE_UNKNOWN && p->mode != mode)
		return TIC_ERR_FORMAT;
	if (horodate) {
		struct tic_datetime dt;

		if (tic_horodate_parse(horodate, &dt) < 0)
			return TIC_ERR_FORMAT;
	}
	def = tic_label_find(label, label_len);
	if (def) {
		size_t i = (size_t) (def - tic_labels);

		if (def->mode != mode || !(def->flags & TIC_LF_HORODATE) != !horodate ||
		    tic_label_check(def, value, value_len) < 0 ||
		    (p->seen[i / 64] & (UINT64_C(1) << (i % 64))))
			return TIC_ERR_FORMAT;
		p->seen[i / 64] |= UINT64_C(1) << (i % 64);
	} else {
		/* Unknown labels (other VTIC, older meters) pass through as text. */
		if ((value_len == 0 && (!horodate || mode == TIC_MODE_HISTORIQUE)) ||
		    !text_ok(value, value_len) || unknown_seen(p, label, label_len))
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
	*ret = (struct tic_group){
	    label, value, horodate, def, (uint8_t) label_len, (uint8_t) value_len};
	return 0;
}

static void
group_end(struct tic_parser *p)
{
	int r;

	if (p->n_groups == TIC_FRAME_GROUPS) {
		group_drop(p, TIC_ERR_OVERLONG);
		return;
	}
	r = group_parse(p, p->buf + p->group_start, (size_t) (p->used - p->group_start),
	                &p->groups[p->n_groups]);
	if (r < 0) {
		group_drop(p, r);
		return;
	}
	p->n_groups++;
	p->state = TIC_S_FRAME;
}

/* Bytes the current group can still take, bounded by the group and the frame buffer. */
static size_t
group_room(const struct tic_parser *p)
{
	size_t group = TIC_GROUP_MAX - (size_t) (p->used - p->group_start);
	size_t frame = TIC_FRAME_BYTES - (size_t) p->used;

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
		group_end(p);
	} else if (c == LF) {
		/* CR lost: the group is cut, and this LF starts the next one. */
		group_drop(p, TIC_ERR_FRAMING);
		group_begin(p);
	} else if (c != HT && (c < 0x20 || c == 0x7f)) {
		group_drop(p, TIC_ERR_BYTE);
	} else if (group_room(p) == 0) {
		group_drop(p, TIC_ERR_OVERLONG);
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

/* Length of the prefix of s[0..n) free of control and 8-bit bytes, and the sum of its bytes. */
static size_t
clean_prefix(const uint8_t *s, size_t n, uint32_t *ret_sum)
{
	uint32_t sum = 0;
	unsigned bad = 0;
	size_t i;

	/* Branch-free so that the compiler can vectorise the common, clean case. */
	for (i = 0; i < n; i++) {
		sum += s[i];
		bad |= special(s[i]);
	}
	if (bad) {
		sum = 0;
		for (i = 0; !special(s[i]); i++)
			sum += s[i];
	}
	*ret_sum = sum;
	return i;
}

/* Inside a group: take the run of ordinary bytes up to CR in bulk. Returns bytes consumed. */
static size_t
group_run(struct tic_parser *p, const uint8_t *s, size_t avail)
{
	size_t room = group_room(p);
	size_t lim = avail < room + 1 ? avail : room + 1;
	const uint8_t *cr = memchr(s, CR, lim);
	size_t span = cr ? (size_t) (cr - s) : lim;
	uint32_t sum;
	size_t run = clean_prefix(s, span, &sum);

	if (run > room) {
		group_drop(p, TIC_ERR_OVERLONG);
		return 0;
	}
	memcpy(p->buf + p->used, s, run);
	p->used = (uint16_t) (p->used + run);
	p->group_sum += sum;
	if (run == span && cr) {
		group_end(p);
		return run + 1;
	}
	return run;
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
