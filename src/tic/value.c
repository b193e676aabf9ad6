/* SPDX-License-Identifier: MIT */
/*
 * Typed views of validated values: integers, horodates as ISO 8601 local time with the UTC offset
 * of the meter's season, the STGE status register and PJOURF+1/PPOINTE day profiles; and the typed
 * records of the groups that the parser delivers.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "linkyd/tic.h"
#include "tic-internal.h"

const char *
tic_err_name(enum tic_err err)
{
	static const char *const names[TIC_ERR_COUNT] = {"checksum", "format", "framing",
	                                                 "overlong", "byte"};
	int i = TIC_ERR_INDEX(err);

	return i >= 0 && i < TIC_ERR_COUNT ? names[i] : "?";
}

int
tic_parse_uint(const char *s, uint64_t *ret_value)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 19)
			return -EINVAL;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	*ret_value = v;
	return 0;
}

static int
two_digits(const char *s, int lo, int hi)
{
	int v;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi ? v : -1;
}

int
tic_horodate_parse(const char *h, struct tic_datetime *ret_dt)
{
	unsigned f[6];

	/* tic_horodate_check() reads 13 bytes: a shorter string stops at its NUL. */
	if (strnlen(h, TIC_HORODATE_LEN) < TIC_HORODATE_LEN || !tic_horodate_check(h, f))
		return TIC_ERR_FORMAT;
	*ret_dt = tic_datetime_of(h, f);
	return 0;
}

/* The two decimal digits of v % 100, from a table: a third of the instructions of two divisions
 * by 10 per field. */
static char *
put2(char *s, unsigned v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
	                               "25262728293031323334353637383940414243444546474849"
	                               "50515253545556575859606162636465666768697071727374"
	                               "75767778798081828384858687888990919293949596979899";

	if (v >= 100)
		v %= 100;
	memcpy(s, pairs + 2 * v, 2);
	return s + 2;
}

/* By hand rather than with snprintf: the two snprintf calls cost about 4 500 instructions, and
 * the JSON encoder makes a date per horodate (five in a standard mono frame). The output is
 * snprintf's "%04u-%02u-%02uT%02u:%02u:%02u+%02d:00" for every date tic_horodate_parse() gives;
 * fields out of their range are cut to their width (and a negative offset written "-hh:00"), so
 * that the result always fits TIC_ISO_DATE_SIZE. */
int
tic_datetime_iso(const struct tic_datetime *dt, char *buf)
{
	char *s = buf;

	s = put2(s, dt->year / 100u);
	s = put2(s, dt->year);
	*s++ = '-';
	s = put2(s, dt->month);
	*s++ = '-';
	s = put2(s, dt->day);
	*s++ = 'T';
	s = put2(s, dt->hour);
	*s++ = ':';
	s = put2(s, dt->minute);
	*s++ = ':';
	s = put2(s, dt->second);
	if (dt->has_offset) {
		int h = dt->utc_offset_h;

		*s++ = h < 0 ? '-' : '+';
		s = put2(s, (unsigned) (h < 0 ? -h : h));
		memcpy(s, ":00", 3);
		s += 3;
	}
	*s = '\0';
	return (int) (s - buf);
}

int
tic_stge_decode(const char *hex, struct tic_stge *ret_stge)
{
	struct tic_stge s = {0};
	uint32_t r = 0;

	for (int i = 0; i < 8; i++) {
		char c = hex[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t) (c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t) (c - 'A' + 10);
		else
			return TIC_ERR_FORMAT;
		r = r << 4 | d;
	}
	if (hex[8] != '\0')
		return TIC_ERR_FORMAT;
	s.raw = r;
	s.dry_contact_open = r & 1;
	s.breaker = (r >> 1) & 7;
	s.cover_open = (r >> 4) & 1;
	s.overvoltage = (r >> 6) & 1;
	s.overload = (r >> 7) & 1;
	s.producer = (r >> 8) & 1;
	s.injecting = (r >> 9) & 1;
	s.supplier_index = (uint8_t) (((r >> 10) & 15) + 1);
	s.distributor_index = (uint8_t) (((r >> 14) & 3) + 1);
	s.clock_degraded = (r >> 16) & 1;
	s.standard_mode = (r >> 17) & 1;
	s.euridis = (r >> 19) & 3;
	s.cpl_status = (r >> 21) & 3;
	s.cpl_synchronised = (r >> 23) & 1;
	s.tempo_today = (r >> 24) & 3;
	s.tempo_tomorrow = (r >> 26) & 3;
	s.peak_notice = (r >> 28) & 3;
	s.peak = (r >> 30) & 3;
	*ret_stge = s;
	return 0;
}

static const char *
name_of(const char *const *names, size_t n, uint8_t v)
{
	return v < n ? names[v] : "?";
}

#define NAME_OF(names, v) name_of(names, sizeof(names) / sizeof(names[0]), v)

const char *
tic_stge_breaker_name(uint8_t v)
{
	static const char *const names[] = {"closed",
	                                    "open_overload",
	                                    "open_overvoltage",
	                                    "open_load_shedding",
	                                    "open_remote_order",
	                                    "open_overheat",
	                                    "open_overheat_low_current"};
	return NAME_OF(names, v);
}

const char *
tic_stge_euridis_name(uint8_t v)
{
	static const char *const names[] = {"disabled", "enabled", "invalid", "enabled_secured"};
	return NAME_OF(names, v);
}

const char *
tic_stge_cpl_name(uint8_t v)
{
	static const char *const names[] = {"new_unlocked", "new_locked", "registered", "invalid"};
	return NAME_OF(names, v);
}

const char *
tic_tempo_colour_name(uint8_t v)
{
	static const char *const names[] = {"none", "bleu", "blanc", "rouge"};
	return NAME_OF(names, v);
}

const char *
tic_profile_contact_name(uint8_t v)
{
	static const char *const names[] = {"none", "tempo", "open", "close"};
	return NAME_OF(names, v);
}

/* One block HHMMSSSS (SSSS hexadecimal, upper case), or NONUTILE: returns 1, 0, or <0. */
static int
profile_block(const char *b, struct tic_profile_slot *ret_slot)
{
	int hh, mm;
	unsigned action = 0;

	/* Most blocks are unused: tested first, as one word. */
	if (swar_load(b) == swar_load("NONUTILE"))
		return 0;
	hh = two_digits(b, 0, 23);
	mm = two_digits(b + 2, 0, 59);
	if (hh < 0 || mm < 0)
		return TIC_ERR_FORMAT;
	for (int i = 4; i < 8; i++) {
		char c = b[i];

		if (c >= '0' && c <= '9')
			action = action << 4 | (unsigned) (c - '0');
		else if (c >= 'A' && c <= 'F')
			action = action << 4 | (unsigned) (c - 'A' + 10);
		else
			return TIC_ERR_FORMAT;
	}
	*ret_slot = (struct tic_profile_slot){
	    .hour = (uint8_t) hh,
	    .minute = (uint8_t) mm,
	    .action = (uint16_t) action,
	    .supplier_index = (action & 15) <= 10 ? (uint8_t) (action & 15) : 0,
	    .virtual_contacts = (uint8_t) ((action >> 4) & 0x7f),
	    .dry_contact = (uint8_t) ((action >> 14) & 3),
	};
	return 1;
}

int
tic_profile_decode(const char *value, size_t len, struct tic_profile_slot *ret_slots)
{
	int n = 0;

	if ((len + 1) % 9 != 0 || len > 98)
		return TIC_ERR_FORMAT;
	for (size_t i = 0; i < len; i += 9) {
		struct tic_profile_slot slot;
		int r;

		if (i + 8 < len && value[i + 8] != ' ')
			return TIC_ERR_FORMAT;
		r = profile_block(value + i, &slot);
		if (r < 0)
			return r;
		if (r > 0 && ret_slots)
			ret_slots[n] = slot;
		n += r;
	}
	return n;
}

/* ---- Typed records -------------------------------------------------------------------------- */

/* Type g, whose value v (g->value, or a copy with room after it for tic_digits_value()) and
 * horodate passed their checks. */
static inline void
group_type(struct tic_group *g, const char *v)
{
	const struct tic_label *def = g->def;
	unsigned f[6];

	if (g->horodate) {
		tic_horodate_fields(g->horodate, f);
		g->date = tic_datetime_of(g->horodate, f);
	}
	g->id = (uint8_t) tic_label_id(def);
	if (!def)
		return;
	switch ((enum tic_format) def->format) {
	case TIC_FMT_DIGITS:
	case TIC_FMT_RELAIS:
		g->num = tic_digits_value(v, g->value_len);
		break;
	case TIC_FMT_PTEC:
	case TIC_FMT_DEMAIN:
		g->code = (uint8_t) tic_value_code((enum tic_format) def->format, v, g->value_len);
		break;
	case TIC_FMT_STGE:
		(void) tic_stge_decode(v, &g->stge);
		break;
	case TIC_FMT_ID:
	case TIC_FMT_TEXT:
	case TIC_FMT_EMPTY:
	case TIC_FMT_OPTARIF:
	case TIC_FMT_LETTER:
	case TIC_FMT_ALNUM:
	case TIC_FMT_PPOT:
	case TIC_FMT_PROFILE:
		/* Published as the checked string, which nothing after the parser reads otherwise
		 * (a profile is decoded where it is published, its one reader). */
		break;
	}
}

void
tic_groups_type(struct tic_group *groups, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		group_type(&groups[i], groups[i].value);
}

int
tic_group_type(struct tic_group *g)
{
	/* The value with room after it for the word reads, zeros: no format takes a NUL. */
	char v[TIC_VALUE_MAX + 16] = {0};
	struct tic_datetime dt;
	size_t typed = offsetof(struct tic_group, id);

	/* Every typed field, from id to the end: a group that fails is typed as unknown. */
	memset((char *) g + typed, 0, sizeof(*g) - typed);
	if (g->value_len > TIC_VALUE_MAX ||
	    (g->horodate && tic_horodate_parse(g->horodate, &dt) < 0) ||
	    (g->def && tic_label_check(g->def, g->value, g->value_len) < 0))
		return TIC_ERR_FORMAT;
	memcpy(v, g->value, g->value_len);
	group_type(g, v);
	return 0;
}
