/* SPDX-License-Identifier: MIT */
/*
 * JSON encoding of TIC frames, written straight into the caller's buffer: no tree, no heap.
 *
 * Why not cJSON, which the project used here first and still uses to parse JSON: its model is a
 * heap node per value, and a standard mono frame (38 groups) made about 140 nodes to allocate,
 * link, print and free, about 99 000 instructions and 13 us per frame (callgrind and
 * bench/bench_tic.c, stage json minus stage parser), against a target of 5 us for the parser and
 * the encoder together. Writing the bytes directly costs about a tenth of that. The output is
 * byte for byte what cJSON printed (same member order, escapes and number forms), which
 * tests/data/ pins; tests/unit/test_json.c and tests/fuzz/fuzz_tic.c parse every output back with
 * cJSON and compare the tree with the frame, so the writer is checked by an independent parser.
 *
 * Every write checks the room left first; once a write does not fit the output is marked full
 * and nothing more is written, and the call returns -ENOBUFS. The last byte of the buffer is kept
 * for the NUL, so a buffer of exactly length + 1 bytes is enough.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "linkyd/json.h"

int
json_format_parse(const char *s, enum json_format *ret_format)
{
	if (strcmp(s, "typed") == 0)
		*ret_format = JSON_FORMAT_TYPED;
	else if (strcmp(s, "raw") == 0)
		*ret_format = JSON_FORMAT_RAW;
	else
		return -EINVAL;
	return 0;
}

const char *
json_format_name(enum json_format format)
{
	return format == JSON_FORMAT_RAW ? "raw" : "typed";
}

struct out {
	char *p;   /* next byte to write */
	char *end; /* last byte of the buffer, kept for the NUL */
	bool full; /* a write did not fit: the result is -ENOBUFS */
};

/* Room for n more bytes? If not, the output is full and stays so (no later write fits). */
static inline bool
room(struct out *o, size_t n)
{
	if (n <= (size_t) (o->end - o->p))
		return true;
	o->full = true;
	o->end = o->p;
	return false;
}

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* The high bit of some byte is set if any byte of w is a control byte, '"' or '\\': the classic
 * "has a zero byte" tests, 8 bytes in a dozen instructions instead of 8 compares and branches.
 * Exact as a yes/no answer (a borrow only crosses into bytes above one that already said yes). */
static inline uint64_t
special(uint64_t w)
{
	uint64_t quote = w ^ (ONES * '"'), bslash = w ^ (ONES * '\\');

	return (((w - ONES * 0x20) & ~w) | ((quote - ONES) & ~quote) |
	        ((bslash - ONES) & ~bslash)) &
	       HIGHS;
}

/* Copy s[0..n) to d, which has room for it, and say whether any byte needs escaping; one pass
 * of 8-byte moves, the last one overlapping, rather than memcpy plus a byte loop (values are
 * mostly under 16 bytes, where a call to memcpy costs more than the copy). Nothing outside
 * s[0..n) is read, nothing outside d[0..n) written. */
static inline bool
copy_scan(char *d, const char *s, size_t n)
{
	uint64_t w, found = 0;
	uint32_t a, b;

	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			found |= special(w);
			memcpy(d + i, &w, 8);
		}
		memcpy(&w, s + n - 8, 8);
		memcpy(d + n - 8, &w, 8);
		return (found | special(w)) != 0;
	}
	if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
		return special(a | (uint64_t) b << 32) != 0;
	}
	if (n == 0)
		return false;
	/* 1 to 3 bytes: first, middle and last cover them; the rest of the word is 'A's. */
	d[0] = s[0];
	d[n / 2] = s[n / 2];
	d[n - 1] = s[n - 1];
	w = (ONES * 'A') << 24 | (uint64_t) (unsigned char) s[0] |
	    (uint64_t) (unsigned char) s[n / 2] << 8 | (uint64_t) (unsigned char) s[n - 1] << 16;
	return special(w) != 0;
}

/* Bytes that need no escaping (constants, digits, dates). */
static inline void
put(struct out *o, const char *s, size_t n)
{
	if (room(o, n)) {
		(void) copy_scan(o->p, s, n);
		o->p += n;
	}
}

/* A string literal: its length is a constant, so the copy is a few moves. */
#define PUT_LIT(o, lit) put(o, lit, sizeof(lit) - 1)

static inline void
put_char(struct out *o, char c)
{
	if (room(o, 1))
		*o->p++ = c;
}

/* A constant of this file or of value.c's name tables: nothing to escape. */
static inline void
put_name(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* ---- Strings ------------------------------------------------------------------------------ */

/* Byte by byte, as cJSON escapes: the short forms where JSON has one, \u00xx for the other
 * control bytes, every other byte as it is. Values are printable ASCII (the parser rejects
 * control bytes), so this runs only for '"' and '\\' in text. */
static void
put_escaped(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t len = 2;

		switch (c) {
		case '"':
		case '\\':
			e[1] = (char) c;
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			if (c >= 0x20) {
				put_char(o, (char) c);
				continue;
			}
			len = 6;
			break;
		}
		put(o, e, len);
	}
}

/* prefix (',' or none), "a[0..na)" + sep + b[0..nb) + '"', suffix (':' or none): a string
 * value or a key, or with sep '|' the raw form of a horodated group. The fast path copies
 * and checks in one pass; escaping only makes the output longer, so if the unescaped form does
 * not fit, nothing does. */
static void
put_string2(struct out *o, char prefix, const char *a, size_t na, char sep, const char *b,
            size_t nb, char suffix)
{
	size_t n = (prefix != 0) + 1 + na + (sep != 0) + nb + 1 + (suffix != 0);
	char *p = o->p;
	bool esc;

	if (!room(o, n))
		return;
	if (prefix)
		*p++ = prefix;
	*p++ = '"';
	esc = copy_scan(p, a, na);
	p += na;
	if (sep)
		*p++ = sep;
	esc |= copy_scan(p, b, nb);
	p += nb;
	*p++ = '"';
	if (suffix)
		*p++ = suffix;
	if (!esc) {
		o->p = p;
		return;
	}
	/* Keep the prefix, write the rest again byte by byte with escapes. */
	if (prefix)
		o->p++;
	put_char(o, '"');
	put_escaped(o, a, na);
	if (sep)
		put_char(o, sep);
	put_escaped(o, b, nb);
	put_char(o, '"');
	if (suffix)
		put_char(o, suffix);
}

/* "s[0..n)": most strings are values with nothing to escape, and put_string2()'s generality
 * costs them more than their copy. */
static inline void
put_string(struct out *o, const char *s, size_t n)
{
	if (room(o, n + 2)) {
		o->p[0] = '"';
		if (!copy_scan(o->p + 1, s, n)) {
			o->p[n + 1] = '"';
			o->p += n + 2;
			return;
		}
	}
	/* Escapes to write, or no room (the output stays full). */
	put_string2(o, 0, s, n, 0, NULL, 0, 0);
}

/* "s[0..n)" for a value its format's check leaves nothing to escape in: digits, upper-case
 * letters, '.', '-' and SP (ID, PTEC, DEMAIN, LETTER, ALNUM, PPOT, STGE, PROFILE). */
static inline void
put_plain(struct out *o, const char *s, size_t n)
{
	if (room(o, n + 2)) {
		o->p[0] = '"';
		(void) copy_scan(o->p + 1, s, n);
		o->p[n + 1] = '"';
		o->p += n + 2;
	}
}

/* Each table label's key after a member, ",\"NAME\":" (13 bytes at most, SMAXSN1-1's; the
 * compiler refuses one over 16), by identity, NUL-padded so that a whole key is one fixed-size
 * copy. The table's names need no escaping: test_labels.c pins their characters. */
static const char keys[TIC_L_COUNT][16] = {
#define TIC_LABEL(id, kind, name, ...) [TIC_L_##id] = ",\"" name "\":",
#include "linkyd/tic_labels.h"
#undef TIC_LABEL
};

/* ",\"KEY\":" or "\"KEY\":" for the first member. A key from keys[] when there is room for all
 * of it, its padding overwritten by what follows. Any other label, which the parser limits to
 * [A-Z0-9+-], is checked all the same: no label may ever break the JSON. */
static inline void
put_key(struct out *o, bool comma, const struct tic_group *g)
{
	const struct tic_label *def = tic_label_of((enum tic_label_id) g->id);

	if (def && comma && (size_t) (o->end - o->p) >= sizeof(keys[0])) {
		memcpy(o->p, keys[g->id], sizeof(keys[0]));
		o->p += def->name_len + 4u;
		return;
	}
	put_string2(o, comma ? ',' : 0, g->label, g->label_len, 0, NULL, 0, ':');
}

/* ---- Numbers ------------------------------------------------------------------------------ */

static void
put_uint(struct out *o, uint64_t v)
{
	char buf[20];
	size_t n = sizeof(buf);

	do {
		buf[--n] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, buf + n, sizeof(buf) - n);
}

/* The number of decimal digits of v, 1 for 0: the bit length times log10(2) is that or one less
 * (v | 1 has as many digits as v, but for 0). */
static size_t
digits10(uint64_t v)
{
	static const uint64_t pow10[20] = {1,
	                                   10,
	                                   100,
	                                   1000,
	                                   10000,
	                                   100000,
	                                   1000000,
	                                   10000000,
	                                   100000000,
	                                   1000000000,
	                                   10000000000,
	                                   100000000000,
	                                   1000000000000,
	                                   10000000000000,
	                                   100000000000000,
	                                   1000000000000000,
	                                   10000000000000000,
	                                   100000000000000000,
	                                   1000000000000000000,
	                                   UINT64_C(10000000000000000000)};
	uint64_t x = v | 1;
	size_t n = (size_t) (64 - __builtin_clzll(x)) * 1233 >> 12;

	return n + (x >= pow10[n]);
}

/* A number (TIC_FMT_DIGITS) as JSON: the value's own digits from the first significant one,
 * which the typed number's magnitude says, so exact for any width and without a conversion. */
static int
put_number(struct out *o, const struct tic_group *g)
{
	size_t n = digits10(g->num);

	if (n > g->value_len)
		return -EINVAL;
	put(o, g->value + g->value_len - n, n);
	return 0;
}

static void
put_bool(struct out *o, bool b)
{
	if (b)
		PUT_LIT(o, "true");
	else
		PUT_LIT(o, "false");
}

/* ---- Typed values ------------------------------------------------------------------------- */

/* Text without the meter's padding spaces. */
static void
put_trimmed(struct out *o, const char *v, size_t len)
{
	while (len > 0 && v[len - 1] == ' ')
		len--;
	while (len > 0 && v[0] == ' ') {
		v++;
		len--;
	}
	put_string(o, v, len);
}

/* The members follow cJSON's order of old, which the expected files pin. */
static void
put_stge(struct out *o, const struct tic_group *g)
{
	const struct tic_stge *s = &g->stge;

	PUT_LIT(o, "{\"raw\":");
	put_plain(o, g->value, g->value_len);
	PUT_LIT(o, ",\"dry_contact\":\"");
	put_name(o, s->dry_contact_open ? "open" : "closed");
	PUT_LIT(o, "\",\"breaker\":\"");
	put_name(o, tic_stge_breaker_name(s->breaker));
	PUT_LIT(o, "\",\"cover_open\":");
	put_bool(o, s->cover_open);
	PUT_LIT(o, ",\"overvoltage\":");
	put_bool(o, s->overvoltage);
	PUT_LIT(o, ",\"overload\":");
	put_bool(o, s->overload);
	PUT_LIT(o, ",\"producer\":");
	put_bool(o, s->producer);
	PUT_LIT(o, ",\"injecting\":");
	put_bool(o, s->injecting);
	PUT_LIT(o, ",\"supplier_index\":");
	put_uint(o, s->supplier_index);
	PUT_LIT(o, ",\"distributor_index\":");
	put_uint(o, s->distributor_index);
	PUT_LIT(o, ",\"clock_degraded\":");
	put_bool(o, s->clock_degraded);
	PUT_LIT(o, ",\"tic_mode\":\"");
	put_name(o, s->standard_mode ? "standard" : "historique");
	PUT_LIT(o, "\",\"euridis\":\"");
	put_name(o, tic_stge_euridis_name(s->euridis));
	PUT_LIT(o, "\",\"cpl\":\"");
	put_name(o, tic_stge_cpl_name(s->cpl_status));
	PUT_LIT(o, "\",\"cpl_synchronised\":");
	put_bool(o, s->cpl_synchronised);
	PUT_LIT(o, ",\"tempo_today\":\"");
	put_name(o, tic_tempo_colour_name(s->tempo_today));
	PUT_LIT(o, "\",\"tempo_tomorrow\":\"");
	put_name(o, tic_tempo_colour_name(s->tempo_tomorrow));
	PUT_LIT(o, "\",\"peak_notice\":");
	put_uint(o, s->peak_notice);
	PUT_LIT(o, ",\"peak\":");
	put_uint(o, s->peak);
	put_char(o, '}');
}

/* {"value":N,"closed":[relays]}: bit n set = relay n + 1 closed. */
static void
put_relais(struct out *o, uint64_t v)
{
	bool comma = false;

	PUT_LIT(o, "{\"value\":");
	put_uint(o, v);
	PUT_LIT(o, ",\"closed\":[");
	for (unsigned bit = 0; bit < 8; bit++) {
		if (!(v & (1u << bit)))
			continue;
		if (comma)
			put_char(o, ',');
		comma = true;
		put_uint(o, bit + 1);
	}
	PUT_LIT(o, "]}");
}

static int
put_profile(struct out *o, const char *value, size_t len)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];
	int n = tic_profile_decode(value, len, slots);

	if (n < 0)
		return -EINVAL;
	PUT_LIT(o, "{\"raw\":");
	put_plain(o, value, len);
	PUT_LIT(o, ",\"slots\":[");
	for (int i = 0; i < n; i++) {
		const struct tic_profile_slot *s = &slots[i];
		char start[5] = {(char) ('0' + s->hour / 10), (char) ('0' + s->hour % 10), ':',
		                 (char) ('0' + s->minute / 10), (char) ('0' + s->minute % 10)};

		if (i > 0)
			put_char(o, ',');
		PUT_LIT(o, "{\"start\":\"");
		put(o, start, sizeof(start));
		PUT_LIT(o, "\",\"supplier_index\":");
		put_uint(o, s->supplier_index);
		PUT_LIT(o, ",\"dry_contact\":\"");
		put_name(o, tic_profile_contact_name(s->dry_contact));
		PUT_LIT(o, "\",\"virtual_contacts\":");
		put_uint(o, s->virtual_contacts);
		put_char(o, '}');
	}
	PUT_LIT(o, "]}");
	return 0;
}

/* put_typed_value() but for numbers; apart, so that the common case does not pay for the
 * registers the others need. */
static __attribute__((noinline)) int
put_typed_other(struct out *o, const struct tic_group *g)
{
	if (!g->def) {
		put_trimmed(o, g->value, g->value_len);
		return 0;
	}
	if (g->id != tic_label_id(g->def))
		return -EINVAL;
	switch ((enum tic_format) g->def->format) {
	case TIC_FMT_DIGITS:
		return put_number(o, g);
	case TIC_FMT_TEXT:
		put_trimmed(o, g->value, g->value_len);
		return 0;
	case TIC_FMT_OPTARIF:
		/* BBRx: x may be any printable character but SP. */
		put_string(o, g->value, g->value_len);
		return 0;
	case TIC_FMT_STGE:
		put_stge(o, g);
		return 0;
	case TIC_FMT_PROFILE:
		return put_profile(o, g->value, g->value_len);
	case TIC_FMT_RELAIS:
		put_relais(o, g->num);
		return 0;
	case TIC_FMT_EMPTY: /* only with a horodate, which is then the whole information */
		return -EINVAL;
	case TIC_FMT_ID:
	case TIC_FMT_PTEC:
	case TIC_FMT_DEMAIN:
	case TIC_FMT_LETTER:
	case TIC_FMT_ALNUM:
	case TIC_FMT_PPOT:
		break;
	}
	put_plain(o, g->value, g->value_len);
	return 0;
}

/* The typed value of a group, without its horodate, from its typed fields (tic.h), which the
 * parser's checks vouch for: a group of a table label that is not typed, or whose value failed
 * its format's check (tic_group_type()), is refused with -EINVAL, as are DATE without its
 * horodate and a profile that does not decode. */
static inline int
put_typed_value(struct out *o, const struct tic_group *g)
{
	const struct tic_label *def = g->def;

	if (def && def->format == TIC_FMT_DIGITS && g->id == tic_label_id(def))
		return put_number(o, g);
	return put_typed_other(o, g);
}

/* A horodated group: {"value": ..., "date": "ISO 8601"[, "clock_degraded": true]}, without
 * "value" for an empty one (DATE). */
static int
put_horodated(struct out *o, const struct tic_group *g)
{
	char iso[TIC_ISO_DATE_SIZE];
	int r;

	if (g->def && g->def->format == TIC_FMT_EMPTY) {
		PUT_LIT(o, "{\"date\":\"");
	} else {
		PUT_LIT(o, "{\"value\":");
		r = put_typed_value(o, g);
		if (r < 0)
			return r;
		PUT_LIT(o, ",\"date\":\"");
	}
	/* Straight into the output while the longest date fits there with its NUL, else through
	 * iso[], so as to stop exactly where the room ends. */
	if ((size_t) (o->end - o->p) >= TIC_ISO_DATE_SIZE - 1)
		o->p += tic_datetime_iso(&g->date, o->p);
	else
		put(o, iso, (size_t) tic_datetime_iso(&g->date, iso));
	if (g->date.degraded)
		PUT_LIT(o, "\",\"clock_degraded\":true}");
	else
		PUT_LIT(o, "\"}");
	return 0;
}

/* Raw form of a group: the exact string the meter sent, "<horodate>|<value>" with a horodate
 * as the Eesmart D2L writes it. */
static void
put_raw(struct out *o, const struct tic_group *g)
{
	if (g->horodate)
		put_string2(o, 0, g->horodate, TIC_HORODATE_LEN, '|', g->value, g->value_len, 0);
	else
		put_string(o, g->value, g->value_len);
}

static int
put_value(struct out *o, const struct tic_group *g, enum json_format format)
{
	if (format == JSON_FORMAT_RAW) {
		put_raw(o, g);
		return 0;
	}
	return g->horodate ? put_horodated(o, g) : put_typed_value(o, g);
}

/* An output over buf's size bytes; the length is returned as an int, so never beyond INT_MAX. */
static struct out
out_init(char *buf, size_t size)
{
	if (size > (size_t) INT_MAX)
		size = (size_t) INT_MAX;
	return (struct out){.p = buf, .end = buf + size - 1};
}

/* NUL-terminate o's output: its length, or -ENOBUFS. */
static int
out_end(struct out *o, char *buf)
{
	if (o->full)
		return -ENOBUFS;
	*o->p = '\0';
	return (int) (o->p - buf);
}

int
json_encode_value(const struct tic_group *g, enum json_format format, char *buf, size_t size)
{
	struct out o;
	size_t n = 0;
	int len, r;

	if (size == 0)
		return -ENOBUFS;
	o = out_init(buf, size);
	r = put_value(&o, g, format);
	if (r < 0)
		return r;
	len = out_end(&o, buf);
	if (len < 2 || buf[0] != '"')
		return len;
	/* A bare string: drop the quotes and undo the escapes. TIC values are printable ASCII, so
	 * only \" and \\ can be there. */
	for (int i = 1; i < len - 1; i++) {
		if (buf[i] == '\\')
			i++;
		buf[n++] = buf[i];
	}
	buf[n] = '\0';
	return (int) n;
}

int
json_encode_frame(const struct tic_frame *frame, enum json_format format, char *buf, size_t size)
{
	struct out o;

	if (size == 0)
		return -ENOBUFS;
	o = out_init(buf, size);
	if (format == JSON_FORMAT_TYPED) {
		if (frame->mode == TIC_MODE_STANDARD)
			PUT_LIT(&o, "{\"_mode\":\"standard\"");
		else
			PUT_LIT(&o, "{\"_mode\":\"historique\"");
	} else {
		put_char(&o, '{');
	}
	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i];
		int r;

		put_key(&o, i > 0 || format == JSON_FORMAT_TYPED, g);
		r = put_value(&o, g, format);
		if (r < 0)
			return r;
		if (o.full)
			return -ENOBUFS;
	}
	put_char(&o, '}');
	return out_end(&o, buf);
}
