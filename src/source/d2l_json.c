/* SPDX-License-Identifier: MIT */
/*
 * A D2L module's PUSH_JSON payload turned back into the TIC frame its meter sent.
 *
 * Why a TIC frame and not records: the line's parser then checks every group of a D2L meter as
 * it checks a serial meter's (check character, label, width, character set, horodate,
 * duplicates), counts what it drops in the same counters, and hands the same frames to the
 * pipeline; MQTT, discovery, the index guard and the derived values cannot tell the two apart,
 * and `linkyd --decode` of the rebuilt bytes is what is published.
 *
 * The payload is a flat JSON object of strings (Zehir/eesmart-d2l's test vector, the Domoticz
 * plugin's frame_examples.txt):
 *
 *   { "_TYPE_TRAME":"HISTORIQUE", "_ID_D2L":"011601000001", "ADCO":"041068016489",
 *     "OPTARIF":"HC..", "IMAX":"", "HCHC":"003820661", "IINST1":"2", "IINST2":"0", ... }
 *   { "_TYPE_TRAME":"STANDARD", ..., "DATE":"H201209091900", "SMAXSN":"H201209020730|03381",
 *     "SMAXSN2":"|", "SINST1":"", ... }
 *
 * The parser below takes exactly that: an object, string keys, string values, the escapes of
 * RFC 8259, nothing nested, nothing after the closing brace but white space (and NUL padding).
 * Its bounds: the text of the payload, D2L_JSON_MEMBERS members.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "linkyd/d2l.h"

/* ---- the JSON ----------------------------------------------------------------------------- */

struct json {
	const char *s;
	size_t len, at;
	char *text; /* unescaped strings go here: never longer than the JSON (checked first) */
	size_t used;
};

static void
skip_ws(struct json *j)
{
	while (j->at < j->len && (j->s[j->at] == ' ' || j->s[j->at] == '\t' ||
	                          j->s[j->at] == '\n' || j->s[j->at] == '\r'))
		j->at++;
}

static int
hex4(struct json *j, unsigned *ret)
{
	unsigned v = 0;

	if (j->len - j->at < 4)
		return -EBADMSG;
	for (int i = 0; i < 4; i++) {
		char c = j->s[j->at++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* \uXXXX (after the "\u"), a surrogate pair whole, as UTF-8. It is never longer than its escape,
 * so the text cannot outgrow the payload. */
static int
unicode_escape(struct json *j)
{
	unsigned cp, lo;
	char *o = j->text + j->used;

	if (hex4(j, &cp) < 0)
		return -EBADMSG;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return -EBADMSG;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (j->len - j->at < 2 || j->s[j->at] != '\\' || j->s[j->at + 1] != 'u')
			return -EBADMSG;
		j->at += 2;
		if (hex4(j, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return -EBADMSG;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp < 0x80) {
		*o++ = (char) cp;
	} else if (cp < 0x800) {
		*o++ = (char) (0xC0 | cp >> 6);
		*o++ = (char) (0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char) (0xE0 | cp >> 12);
		*o++ = (char) (0x80 | (cp >> 6 & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	} else {
		*o++ = (char) (0xF0 | cp >> 18);
		*o++ = (char) (0x80 | (cp >> 12 & 0x3F));
		*o++ = (char) (0x80 | (cp >> 6 & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	j->used = (size_t) (o - j->text);
	return 0;
}

/* A string at j->at, unescaped into the text: its offset and length. */
static int
string(struct json *j, uint16_t *ret_off, uint16_t *ret_len)
{
	static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	size_t start = j->used;

	if (j->at >= j->len || j->s[j->at] != '"')
		return -EBADMSG;
	j->at++;
	while (j->at < j->len) {
		size_t run = j->at;
		unsigned char c;
		const char *e;

		/* Runs of plain characters in one copy: a D2L escapes nothing. */
		while (run < j->len && (unsigned char) j->s[run] >= 0x20 && j->s[run] != '"' &&
		       j->s[run] != '\\')
			run++;
		memcpy(j->text + j->used, j->s + j->at, run - j->at);
		j->used += run - j->at;
		j->at = run;
		if (j->at == j->len)
			break;
		c = (unsigned char) j->s[j->at++];
		if (c == '"') {
			*ret_off = (uint16_t) start;
			*ret_len = (uint16_t) (j->used - start);
			return 0;
		}
		if (c < 0x20 || j->at >= j->len)
			return -EBADMSG;
		c = (unsigned char) j->s[j->at++];
		if (c == 'u') {
			if (unicode_escape(j) < 0)
				return -EBADMSG;
			continue;
		}
		for (e = escapes; *e && *e != c; e += 2)
			;
		if (!*e)
			return -EBADMSG;
		j->text[j->used++] = e[1];
	}
	return -EBADMSG;
}

static bool
next_is(struct json *j, char c)
{
	skip_ws(j);
	if (j->at < j->len && j->s[j->at] == c) {
		j->at++;
		return true;
	}
	return false;
}

/* The members of the object, in rb->members (key and value set, the rest zero). */
static int
parse_object(struct d2l_rebuild *rb, const char *s, size_t len)
{
	struct json j = {.s = s, .len = len, .text = rb->text};

	rb->n_members = 0;
	if (len > sizeof(rb->text))
		return -EMSGSIZE;
	if (!next_is(&j, '{'))
		return -EBADMSG;
	if (!next_is(&j, '}')) {
		do {
			struct d2l_member *m = &rb->members[rb->n_members];
			uint16_t k, kl, v, vl;

			if (rb->n_members == D2L_JSON_MEMBERS)
				return -EMSGSIZE;
			skip_ws(&j);
			if (string(&j, &k, &kl) < 0 || !next_is(&j, ':'))
				return -EBADMSG;
			skip_ws(&j);
			if (string(&j, &v, &vl) < 0)
				return -EBADMSG;
			*m = (struct d2l_member){.key = rb->text + k,
			                         .key_len = kl,
			                         .value = rb->text + v,
			                         .value_len = vl,
			                         .order = (uint16_t) rb->n_members};
			rb->n_members++;
		} while (next_is(&j, ','));
		if (!next_is(&j, '}'))
			return -EBADMSG;
	}
	/* Some firmware may pad the payload with NULs as it pads the frame. */
	skip_ws(&j);
	while (j.at < len && s[j.at] == '\0')
		j.at++;
	return j.at == len ? 0 : -EBADMSG;
}

/* ---- the frame ----------------------------------------------------------------------------- */

static bool
key_is(const struct d2l_member *m, const char *name)
{
	return m->key_len == strlen(name) && memcmp(m->key, name, m->key_len) == 0;
}

static const struct d2l_member *
find(const struct d2l_rebuild *rb, const char *name)
{
	for (unsigned i = 0; i < rb->n_members; i++)
		if (key_is(&rb->members[i], name))
			return &rb->members[i];
	return NULL;
}

/* A member the module sends for a label the meter did not send: "", or "|" for a horodated
 * one. */
static bool
absent(const struct d2l_member *m)
{
	return m->value_len == 0 || (m->value_len == 1 && m->value[0] == '|');
}

static bool
all_zeros(const struct d2l_member *m)
{
	for (size_t i = 0; i < m->value_len; i++)
		if (m->value[i] != '0')
			return false;
	return true;
}

/*
 * Whether a historique meter has three phases. The module reports a monophasé meter's IINST as
 * IINST1, with IINST2 and IINST3 "0" (the Domoticz plugin reads it so); a triphasé meter is known
 * by a current on phase 2 or 3, or by the labels only it sends. Kept once seen: a meter whose
 * phases 2 and 3 happen to carry nothing is still triphasé.
 */
static bool
three_phase(struct d2l_rebuild *rb)
{
	static const char *const tri_only[] = {"IMAX1", "IMAX2", "IMAX3", "PMAX",
	                                       "PPOT",  "ADIR1", "ADIR2", "ADIR3"};

	for (unsigned i = 0; i < rb->n_members && !rb->three_phase; i++) {
		const struct d2l_member *m = &rb->members[i];

		if (absent(m))
			continue;
		if (key_is(m, "IINST2") || key_is(m, "IINST3"))
			rb->three_phase = !all_zeros(m);
		for (size_t t = 0; t < sizeof(tri_only) / sizeof(tri_only[0]); t++)
			rb->three_phase |= key_is(m, tri_only[t]);
	}
	return rb->three_phase;
}

/* The label this member is in the meter's own frame: its key, or another name, or NULL for
 * none. */
static const char *
meter_label(const struct d2l_rebuild *rb, const struct d2l_member *m, enum tic_mode mode, bool tri)
{
	static const char *const sinsts[] = {"SINSTS1", "SINSTS2", "SINSTS3"};
	const struct d2l_member *own;

	if (mode == TIC_MODE_HISTORIQUE && !tri) {
		if (key_is(m, "IINST2") || key_is(m, "IINST3"))
			return NULL;
		if (key_is(m, "IINST1"))
			return (own = find(rb, "IINST")) && !absent(own) ? NULL : "IINST";
	}
	/* The module's spelling of the per-phase power of a triphasé meter (VTIC 02), unless it
	 * sends the meter's own as well. */
	if (mode == TIC_MODE_STANDARD && m->key_len == 6 && memcmp(m->key, "SINST", 5) == 0 &&
	    m->key[5] >= '1' && m->key[5] <= '3') {
		const char *name = sinsts[m->key[5] - '1'];

		return (own = find(rb, name)) && !absent(own) ? NULL : name;
	}
	return "";
}

static bool
printable(const char *s, size_t n, bool space)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) s[i] < (space ? 0x20 : 0x21) || (unsigned char) s[i] > 0x7e)
			return false;
	return true;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Turn member m into the group the meter sent. Returns 1 to emit it, 0 to leave it out (a meta
 * key, an absent label), -1 when no TIC frame can carry it. */
static int
to_group(const struct d2l_rebuild *rb, struct d2l_member *m, enum tic_mode mode, bool tri)
{
	const char *label = meter_label(rb, m, mode, tri), *bar;
	const struct tic_label *def;

	if (m->key_len && m->key[0] == '_')
		return 0;
	if (!label || absent(m))
		return 0;
	if (*label) {
		m->key = label;
		m->key_len = (uint16_t) strlen(label);
	}
	def = tic_label_find(m->key, m->key_len);
	bar = mode == TIC_MODE_STANDARD ? memchr(m->value, '|', m->value_len) : NULL;
	if (bar) {
		size_t h = (size_t) (bar - m->value);

		/* A horodate without its value: the meter did not send the label. */
		if (h + 1 == m->value_len && !(def && def->format == TIC_FMT_EMPTY))
			return 0;
		m->horodate = h ? m->value : NULL;
		m->horodate_len = (uint16_t) h;
		m->value = bar + 1;
		m->value_len = (uint16_t) (m->value_len - h - 1);
	} else if (def && def->format == TIC_FMT_EMPTY && mode == TIC_MODE_STANDARD) {
		/* DATE: the horodate is the information, its value is empty. */
		m->horodate = m->value;
		m->horodate_len = m->value_len;
		m->value_len = 0;
	}
	if (m->key_len == 0 || m->key_len > TIC_LABEL_MAX ||
	    !printable(m->key, m->key_len, false) || !printable(m->value, m->value_len, true) ||
	    (m->horodate && !printable(m->horodate, m->horodate_len, true)))
		return -1;
	/* The meter pads its numbers with zeros to their width; the module sends "2" for "002". */
	if (def && def->mode == mode &&
	    (def->format == TIC_FMT_DIGITS || def->format == TIC_FMT_ID ||
	     def->format == TIC_FMT_RELAIS) &&
	    m->value_len < def->width && digits(m->value, m->value_len))
		m->zeros = (uint8_t) (def->width - m->value_len);
	m->rank = def ? (int16_t) (def - tic_labels) : (int16_t) tic_labels_count;
	return 1;
}

static bool
before(const struct d2l_member *a, const struct d2l_member *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->order < b->order);
}

/* Members [0, n) by table order, then JSON order: insertion, as the module's order is almost the
 * table's. */
static void
sort(struct d2l_member *m, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct d2l_member x = m[i];
		unsigned k = i;

		for (; k > 0 && before(&x, &m[k - 1]); k--)
			m[k] = m[k - 1];
		m[k] = x;
	}
}

struct out {
	char *p;
	size_t len, size;
	unsigned sum;
};

static void
put(struct out *o, const char *s, size_t n, bool summed)
{
	/* The caller checked the room first. */
	memcpy(o->p + o->len, s, n);
	o->len += n;
	for (size_t i = 0; summed && i < n; i++)
		o->sum += (unsigned char) s[i];
}

/* One group: LF label SEP [horodate SEP] value [SEP] C CR, the check character summed over what
 * its mode sums (docs/tic.md §3). Returns -EMSGSIZE when it does not fit. */
static int
put_group(struct out *o, const struct d2l_member *m, enum tic_mode mode)
{
	const char *sep = mode == TIC_MODE_STANDARD ? "\t" : " ";
	size_t need = 1 + m->key_len + 1 + (m->horodate ? m->horodate_len + 1u : 0) + m->zeros +
	              m->value_len + 3;
	char check;

	if (o->size - o->len < need + 1) /* and the ETX */
		return -EMSGSIZE;
	o->sum = 0;
	put(o, "\n", 1, false);
	put(o, m->key, m->key_len, true);
	put(o, sep, 1, true);
	if (m->horodate) {
		put(o, m->horodate, m->horodate_len, true);
		put(o, sep, 1, true);
	}
	memset(o->p + o->len, '0', m->zeros);
	o->len += m->zeros;
	o->sum += '0' * m->zeros;
	put(o, m->value, m->value_len, true);
	/* Standard sums the separator before the check character, historique does not. */
	put(o, sep, 1, mode == TIC_MODE_STANDARD);
	check = (char) ((o->sum & 0x3F) + 0x20);
	put(o, &check, 1, false);
	put(o, "\r", 1, false);
	return 0;
}

int
d2l_json_to_tic(struct d2l_rebuild *rb, const char *json, size_t len, char *out, size_t size,
                size_t *ret_len, struct d2l_frame_info *ret_info)
{
	struct d2l_frame_info info = {0};
	const struct d2l_member *type;
	struct out o = {.p = out, .size = size};
	unsigned n = 0;
	bool tri = false;
	int r = parse_object(rb, json, len);

	if (r < 0)
		return r;
	type = find(rb, "_TYPE_TRAME");
	if (type && type->value_len == 10 && memcmp(type->value, "HISTORIQUE", 10) == 0)
		info.mode = TIC_MODE_HISTORIQUE;
	else if (type && type->value_len == 8 && memcmp(type->value, "STANDARD", 8) == 0)
		info.mode = TIC_MODE_STANDARD;
	else
		return -ENOMSG;
	if (info.mode == TIC_MODE_HISTORIQUE)
		tri = three_phase(rb);
	for (unsigned i = 0; i < rb->n_members; i++) {
		struct d2l_member m = rb->members[i];

		r = to_group(rb, &m, info.mode, tri);
		info.dropped += r < 0;
		rb->members[i].rank = r > 0 ? m.rank : -1;
		if (r > 0)
			rb->members[i] = m;
	}
	for (unsigned i = 0; i < rb->n_members; i++)
		if (rb->members[i].rank >= 0)
			rb->members[n++] = rb->members[i];
	sort(rb->members, n);
	if (size < 2)
		return -EMSGSIZE;
	out[o.len++] = TIC_STX;
	for (unsigned i = 0; i < n; i++) {
		r = put_group(&o, &rb->members[i], info.mode);
		if (r < 0)
			return r;
	}
	out[o.len++] = TIC_ETX;
	info.groups = n;
	*ret_len = o.len;
	*ret_info = info;
	return 0;
}
