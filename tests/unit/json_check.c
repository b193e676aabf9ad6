/* SPDX-License-Identifier: MIT */
/*
 * The encoder writes JSON by hand for speed (src/json/encode.c); this file is its independent
 * referee. cJSON parses the output, so any syntax slip (an unescaped quote, a missing comma, a
 * stray byte) fails, and the tree is compared with the frame: member names and order, and each
 * value recomputed here from the frame's own strings (digits to numbers, horodate characters to
 * the ISO date, STGE and profile bits) rather than with the encoder's helpers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_check.h"

#define EXPECT(cond, what)                                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return what;                                                               \
	} while (0)

static bool
string_is(const cJSON *item, const char *s, size_t len)
{
	return cJSON_IsString(item) && strlen(item->valuestring) == len &&
	       memcmp(item->valuestring, s, len) == 0;
}

/* The member key of o is the string s. */
static bool
member_is(const cJSON *o, const char *key, const char *s)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(item) && strcmp(item->valuestring, s) == 0;
}

static bool
number_is(const cJSON *item, double v)
{
	return cJSON_IsNumber(item) && item->valuedouble == v;
}

/* The value of n characters of s in base 16 or 10, which the parser already checked. */
static unsigned long
num(const char *s, size_t n, int base)
{
	char buf[24] = {0};

	memcpy(buf, s, n < sizeof(buf) - 1 ? n : sizeof(buf) - 1);
	return strtoul(buf, NULL, base);
}

static const char *
check_stge(const cJSON *o, const char *v, size_t len)
{
	static const char *const bools[] = {"cover_open",      "overvoltage", "overload",
	                                    "producer",        "injecting",   "clock_degraded",
	                                    "cpl_synchronised"};
	static const unsigned bool_bits[] = {4, 6, 7, 8, 9, 16, 23};
	unsigned long r = num(v, len, 16);

	EXPECT(cJSON_IsObject(o) && cJSON_GetArraySize(o) == 19, "STGE: not a 19-member object");
	EXPECT(string_is(o->child, v, len) && strcmp(o->child->string, "raw") == 0, "STGE: raw");
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		EXPECT(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, bools[i])) &&
		           !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, bools[i])) ==
		               !((r >> bool_bits[i]) & 1),
		       "STGE: a flag");
	EXPECT(member_is(o, "dry_contact", r & 1 ? "open" : "closed"), "STGE: dry_contact");
	EXPECT(member_is(o, "tic_mode", (r >> 17) & 1 ? "standard" : "historique"),
	       "STGE: tic_mode");
	EXPECT(number_is(cJSON_GetObjectItemCaseSensitive(o, "supplier_index"),
	                 (double) (((r >> 10) & 15) + 1)) &&
	           number_is(cJSON_GetObjectItemCaseSensitive(o, "distributor_index"),
	                     (double) (((r >> 14) & 3) + 1)) &&
	           number_is(cJSON_GetObjectItemCaseSensitive(o, "peak_notice"),
	                     (double) ((r >> 28) & 3)) &&
	           number_is(cJSON_GetObjectItemCaseSensitive(o, "peak"), (double) ((r >> 30) & 3)),
	       "STGE: an index");
	/* The coded names: the same table as the decoder, indexed by bits taken here. */
	EXPECT(member_is(o, "breaker", tic_stge_breaker_name((r >> 1) & 7)) &&
	           member_is(o, "euridis", tic_stge_euridis_name((r >> 19) & 3)) &&
	           member_is(o, "cpl", tic_stge_cpl_name((r >> 21) & 3)) &&
	           member_is(o, "tempo_today", tic_tempo_colour_name((r >> 24) & 3)) &&
	           member_is(o, "tempo_tomorrow", tic_tempo_colour_name((r >> 26) & 3)),
	       "STGE: a coded name");
	return NULL;
}

static const char *
check_relais(const cJSON *o, const char *v, size_t len)
{
	unsigned long r = num(v, len, 10);
	const cJSON *closed = cJSON_GetObjectItemCaseSensitive(o, "closed"), *c;

	EXPECT(cJSON_IsObject(o) && cJSON_GetArraySize(o) == 2, "RELAIS: not a 2-member object");
	EXPECT(number_is(cJSON_GetObjectItemCaseSensitive(o, "value"), (double) r),
	       "RELAIS: value");
	EXPECT(cJSON_IsArray(closed), "RELAIS: closed");
	c = closed->child;
	for (unsigned bit = 0; bit < 8; bit++) {
		if (!(r & (1u << bit)))
			continue;
		EXPECT(number_is(c, bit + 1), "RELAIS: a closed relay");
		c = c->next;
	}
	EXPECT(!c, "RELAIS: too many closed relays");
	return NULL;
}

static const char *
check_profile(const cJSON *o, const char *v, size_t len)
{
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(o, "slots"), *s;

	EXPECT(cJSON_IsObject(o) && cJSON_GetArraySize(o) == 2, "profile: not a 2-member object");
	EXPECT(string_is(cJSON_GetObjectItemCaseSensitive(o, "raw"), v, len), "profile: raw");
	EXPECT(cJSON_IsArray(slots), "profile: slots");
	s = slots->child;
	for (size_t i = 0; i + 8 <= len; i += 9) {
		const char *b = v + i;
		char start[5] = {b[0], b[1], ':', b[2], b[3]};
		unsigned long action = num(b + 4, 4, 16);

		if (memcmp(b, "NONUTILE", 8) == 0)
			continue;
		EXPECT(cJSON_IsObject(s) && cJSON_GetArraySize(s) == 4, "profile: a slot");
		EXPECT(string_is(cJSON_GetObjectItemCaseSensitive(s, "start"), start, 5),
		       "profile: start");
		EXPECT(number_is(cJSON_GetObjectItemCaseSensitive(s, "supplier_index"),
		                 (action & 15) <= 10 ? (double) (action & 15) : 0) &&
		           number_is(cJSON_GetObjectItemCaseSensitive(s, "virtual_contacts"),
		                     (double) ((action >> 4) & 0x7f)),
		       "profile: an index");
		EXPECT(member_is(s, "dry_contact", tic_profile_contact_name((action >> 14) & 3)),
		       "profile: dry_contact");
		s = s->next;
	}
	EXPECT(!s, "profile: too many slots");
	return NULL;
}

/* The typed value of a group, without its horodate. */
static const char *
check_typed(const cJSON *item, const struct tic_group *g)
{
	const char *v = g->value;
	size_t len = g->value_len;

	switch (g->def ? (enum tic_format) g->def->format : TIC_FMT_TEXT) {
	case TIC_FMT_TEXT:
		while (len > 0 && v[len - 1] == ' ')
			len--;
		while (len > 0 && v[0] == ' ') {
			v++;
			len--;
		}
		EXPECT(string_is(item, v, len), "text: not the trimmed value");
		return NULL;
	case TIC_FMT_DIGITS:
		EXPECT(number_is(item, (double) num(v, len, 10)), "digits: not the number");
		return NULL;
	case TIC_FMT_STGE:
		return check_stge(item, v, len);
	case TIC_FMT_RELAIS:
		return check_relais(item, v, len);
	case TIC_FMT_PROFILE:
		return check_profile(item, v, len);
	case TIC_FMT_EMPTY:
		return "empty value without a horodate";
	default:
		EXPECT(string_is(item, v, len), "string: not the value");
		return NULL;
	}
}

/* {"value": ..., "date": "20YY-MM-DDThh:mm:ss[+0H:00]"[, "clock_degraded": true]}. */
static const char *
check_horodated(const cJSON *o, const struct tic_group *g)
{
	const char *h = g->horodate;
	char iso[32] = {'2', '0',  h[1], h[2], '-',  h[3],  h[4], '-',   h[5], h[6],
	                'T', h[7], h[8], ':',  h[9], h[10], ':',  h[11], h[12]};
	bool degraded = h[0] == 'e' || h[0] == 'h',
	     empty = g->def && g->def->format == TIC_FMT_EMPTY;
	const cJSON *cd = cJSON_GetObjectItemCaseSensitive(o, "clock_degraded");
	const char *why;

	if (h[0] != ' ')
		memcpy(iso + 19, (h[0] | 0x20) == 'e' ? "+02:00" : "+01:00", 6);
	EXPECT(cJSON_IsObject(o) && cJSON_GetArraySize(o) == !empty + 1 + degraded,
	       "horodated: wrong member count");
	EXPECT(string_is(cJSON_GetObjectItemCaseSensitive(o, "date"), iso, strlen(iso)),
	       "horodated: date");
	EXPECT(degraded ? cJSON_IsTrue(cd) : !cd, "horodated: clock_degraded");
	if (!empty) {
		why = check_typed(cJSON_GetObjectItemCaseSensitive(o, "value"), g);
		if (why)
			return why;
	}
	return NULL;
}

static const char *
check_tree(const cJSON *root, const struct tic_frame *f, enum json_format format)
{
	const char *mode = f->mode == TIC_MODE_STANDARD ? "standard" : "historique", *why;
	const cJSON *m;

	EXPECT(cJSON_IsObject(root), "not an object");
	m = root->child;
	if (format == JSON_FORMAT_TYPED) {
		EXPECT(string_is(m, mode, strlen(mode)) && strcmp(m->string, "_mode") == 0,
		       "typed: _mode");
		m = m->next;
	}
	for (unsigned i = 0; i < f->n_groups; i++, m = m->next) {
		const struct tic_group *g = &f->groups[i];
		char raw[TIC_HORODATE_LEN + 1 + TIC_VALUE_MAX + 1];
		size_t n = 0;

		EXPECT(m && strcmp(m->string, g->label) == 0, "a member is not the group's label");
		if (format == JSON_FORMAT_RAW) {
			if (g->horodate) {
				memcpy(raw, g->horodate, TIC_HORODATE_LEN);
				raw[TIC_HORODATE_LEN] = '|';
				n = TIC_HORODATE_LEN + 1;
			}
			memcpy(raw + n, g->value, g->value_len);
			EXPECT(string_is(m, raw, n + g->value_len), "raw: not the meter's string");
			continue;
		}
		why = g->horodate ? check_horodated(m, g) : check_typed(m, g);
		if (why)
			return why;
	}
	EXPECT(!m, "more members than groups");
	return NULL;
}

const char *
json_check_frame(const struct tic_frame *frame, enum json_format format, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const char *why;

	if (!root)
		return "cJSON cannot parse it";
	why = check_tree(root, frame, format);
	cJSON_Delete(root);
	return why;
}
