/* SPDX-License-Identifier: MIT */
/*
 * JSON encoding of TIC frames with cJSON (the only file that includes it). The tree never leaves
 * a function: it is built, printed into the caller's buffer and freed.
 *
 * Two choices keep a frame within a few microseconds: keys point into the frame (cJSON's
 * "CS" calls, no copy), and integers are emitted as raw digit strings, exact for any width,
 * instead of going through cJSON's double printing (a printf and a scanf per number).
 */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

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

static const char *
mode_name(enum tic_mode mode)
{
	return mode == TIC_MODE_STANDARD ? "standard" : "historique";
}

/* Add an item under a constant key; on failure the item is freed and false returned. */
static bool
add(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObjectCS(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *
number_from_digits(const char *digits)
{
	while (digits[0] == '0' && digits[1] != '\0')
		digits++;
	return cJSON_CreateRaw(digits);
}

static cJSON *
uint_item(uint64_t v)
{
	char buf[24];
	int n = (int) sizeof(buf);

	buf[--n] = '\0';
	do {
		buf[--n] = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	return cJSON_CreateRaw(buf + n);
}

/* Text without the meter's padding spaces. */
static cJSON *
trimmed(const char *v, size_t len)
{
	char buf[TIC_VALUE_MAX + 1];

	while (len > 0 && v[len - 1] == ' ')
		len--;
	while (len > 0 && v[0] == ' ') {
		v++;
		len--;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	return cJSON_CreateString(buf);
}

static cJSON *
stge_object(const char *value)
{
	struct tic_stge s;
	cJSON *o;
	bool ok;

	if (tic_stge_decode(value, &s) < 0)
		return NULL;
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	ok =
	    add(o, "raw", cJSON_CreateString(value)) &&
	    add(o, "dry_contact", cJSON_CreateString(s.dry_contact_open ? "open" : "closed")) &&
	    add(o, "breaker", cJSON_CreateString(tic_stge_breaker_name(s.breaker))) &&
	    add(o, "cover_open", cJSON_CreateBool(s.cover_open)) &&
	    add(o, "overvoltage", cJSON_CreateBool(s.overvoltage)) &&
	    add(o, "overload", cJSON_CreateBool(s.overload)) &&
	    add(o, "producer", cJSON_CreateBool(s.producer)) &&
	    add(o, "injecting", cJSON_CreateBool(s.injecting)) &&
	    add(o, "supplier_index", uint_item(s.supplier_index)) &&
	    add(o, "distributor_index", uint_item(s.distributor_index)) &&
	    add(o, "clock_degraded", cJSON_CreateBool(s.clock_degraded)) &&
	    add(o, "tic_mode", cJSON_CreateString(s.standard_mode ? "standard" : "historique")) &&
	    add(o, "euridis", cJSON_CreateString(tic_stge_euridis_name(s.euridis))) &&
	    add(o, "cpl", cJSON_CreateString(tic_stge_cpl_name(s.cpl_status))) &&
	    add(o, "cpl_synchronised", cJSON_CreateBool(s.cpl_synchronised)) &&
	    add(o, "tempo_today", cJSON_CreateString(tic_tempo_colour_name(s.tempo_today))) &&
	    add(o, "tempo_tomorrow", cJSON_CreateString(tic_tempo_colour_name(s.tempo_tomorrow))) &&
	    add(o, "peak_notice", uint_item(s.peak_notice)) && add(o, "peak", uint_item(s.peak));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
relais_object(const char *value)
{
	uint64_t v;
	cJSON *o, *closed;

	if (tic_parse_uint(value, &v) < 0)
		return NULL;
	o = cJSON_CreateObject();
	closed = cJSON_CreateArray();
	if (!add(o, "value", uint_item(v)) || !closed || !add(o, "closed", closed))
		goto out_free;
	for (unsigned bit = 0; bit < 8; bit++) {
		cJSON *n;

		if (!(v & (1u << bit)))
			continue;
		n = uint_item(bit + 1);
		if (!n)
			goto out_free;
		cJSON_AddItemToArray(closed, n);
	}
	return o;

out_free:
	cJSON_Delete(o);
	return NULL;
}

static cJSON *
slot_object(const struct tic_profile_slot *slot)
{
	char start[8];
	cJSON *o = cJSON_CreateObject();

	start[0] = (char) ('0' + slot->hour / 10);
	start[1] = (char) ('0' + slot->hour % 10);
	start[2] = ':';
	start[3] = (char) ('0' + slot->minute / 10);
	start[4] = (char) ('0' + slot->minute % 10);
	start[5] = '\0';
	if (!add(o, "start", cJSON_CreateString(start)) ||
	    !add(o, "supplier_index", uint_item(slot->supplier_index)) ||
	    !add(o, "dry_contact",
	         cJSON_CreateString(tic_profile_contact_name(slot->dry_contact))) ||
	    !add(o, "virtual_contacts", uint_item(slot->virtual_contacts))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *
profile_object(const char *value, size_t len)
{
	struct tic_profile_slot slots[TIC_PROFILE_SLOTS];
	int n = tic_profile_decode(value, len, slots);
	cJSON *o, *arr;

	if (n < 0)
		return NULL;
	o = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	if (!add(o, "raw", cJSON_CreateString(value)) || !arr || !add(o, "slots", arr))
		goto out_free;
	for (int i = 0; i < n; i++) {
		cJSON *slot = slot_object(&slots[i]);

		if (!slot)
			goto out_free;
		cJSON_AddItemToArray(arr, slot);
	}
	return o;

out_free:
	cJSON_Delete(o);
	return NULL;
}

/* The typed value of a group, without its horodate. */
static cJSON *
typed_value(const struct tic_group *g)
{
	if (!g->def)
		return trimmed(g->value, g->value_len);
	switch ((enum tic_format) g->def->format) {
	case TIC_FMT_DIGITS:
		return number_from_digits(g->value);
	case TIC_FMT_TEXT:
		return trimmed(g->value, g->value_len);
	case TIC_FMT_STGE:
		return stge_object(g->value);
	case TIC_FMT_PROFILE:
		return profile_object(g->value, g->value_len);
	case TIC_FMT_RELAIS:
		return relais_object(g->value);
	case TIC_FMT_EMPTY:
		return NULL;
	case TIC_FMT_ID:
	case TIC_FMT_OPTARIF:
	case TIC_FMT_PTEC:
	case TIC_FMT_DEMAIN:
	case TIC_FMT_LETTER:
	case TIC_FMT_ALNUM:
	case TIC_FMT_PPOT:
		break;
	}
	return cJSON_CreateString(g->value);
}

/* A horodated group: {"value": ..., "date": "ISO 8601"[, "clock_degraded": true]}. */
static cJSON *
horodated(const struct tic_group *g)
{
	struct tic_datetime dt;
	char iso[TIC_ISO_DATE_SIZE];
	cJSON *o, *v;

	if (tic_horodate_parse(g->horodate, &dt) < 0)
		return NULL;
	(void) tic_datetime_iso(&dt, iso);
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (g->def && g->def->format == TIC_FMT_EMPTY) {
		v = NULL;
	} else {
		v = typed_value(g);
		if (!add(o, "value", v))
			goto out_free;
	}
	if (!add(o, "date", cJSON_CreateString(iso)))
		goto out_free;
	if (dt.degraded && !add(o, "clock_degraded", cJSON_CreateTrue()))
		goto out_free;
	return o;

out_free:
	cJSON_Delete(o);
	return NULL;
}

/* Raw form of a horodated group, as the Eesmart D2L writes it: "<horodate>|<value>". */
static cJSON *
raw_horodated(const struct tic_group *g)
{
	char buf[TIC_HORODATE_LEN + 1 + TIC_VALUE_MAX + 1];

	memcpy(buf, g->horodate, TIC_HORODATE_LEN);
	buf[TIC_HORODATE_LEN] = '|';
	memcpy(buf + TIC_HORODATE_LEN + 1, g->value, (size_t) g->value_len + 1);
	return cJSON_CreateString(buf);
}

static cJSON *
group_item(const struct tic_group *g, enum json_format format)
{
	if (format == JSON_FORMAT_RAW)
		return g->horodate ? raw_horodated(g) : cJSON_CreateString(g->value);
	return g->horodate ? horodated(g) : typed_value(g);
}

int
json_encode_frame(const struct tic_frame *frame, enum json_format format, char *buf, size_t size)
{
	cJSON *root = cJSON_CreateObject();
	int r = -ENOMEM;

	if (!root)
		return -ENOMEM;
	if (format == JSON_FORMAT_TYPED &&
	    !add(root, "_mode", cJSON_CreateString(mode_name(frame->mode))))
		goto out_free;
	for (unsigned i = 0; i < frame->n_groups; i++)
		if (!add(root, frame->groups[i].label, group_item(&frame->groups[i], format)))
			goto out_free;
	if (size > INT32_MAX || !cJSON_PrintPreallocated(root, buf, (int) size, false)) {
		r = -ENOBUFS;
		goto out_free;
	}
	r = (int) strlen(buf);

out_free:
	cJSON_Delete(root);
	return r;
}
