/* SPDX-License-Identifier: MIT */
/*
 * The typed fields of a group, checked against references that share none of the parser's
 * typing code: the byte-by-byte string parsers of value.c, and the spellings of the codes of
 * docs/tic.md §5 and §8 written out here.
 */
#include <string.h>

#include "typed_check.h"

static bool
same_date(const struct tic_datetime *a, const struct tic_datetime *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
	       a->hour == b->hour && a->minute == b->minute && a->second == b->second &&
	       a->utc_offset_h == b->utc_offset_h && a->has_offset == b->has_offset &&
	       a->degraded == b->degraded;
}

/* Field by field: a struct's padding is not part of its value. */
static bool
same_stge(const struct tic_stge *a, const struct tic_stge *b)
{
	return a->raw == b->raw && a->dry_contact_open == b->dry_contact_open &&
	       a->breaker == b->breaker && a->cover_open == b->cover_open &&
	       a->overvoltage == b->overvoltage && a->overload == b->overload &&
	       a->producer == b->producer && a->injecting == b->injecting &&
	       a->supplier_index == b->supplier_index &&
	       a->distributor_index == b->distributor_index &&
	       a->clock_degraded == b->clock_degraded && a->standard_mode == b->standard_mode &&
	       a->euridis == b->euridis && a->cpl_status == b->cpl_status &&
	       a->cpl_synchronised == b->cpl_synchronised && a->tempo_today == b->tempo_today &&
	       a->tempo_tomorrow == b->tempo_tomorrow && a->peak_notice == b->peak_notice &&
	       a->peak == b->peak;
}

/* The values of PTEC and DEMAIN in the order of enum tic_ptec and enum tic_tempo. */
static const char *const ptec_values[] = {"TH..", "HC..", "HP..", "HN..", "PM..", "HCJB",
                                          "HCJW", "HCJR", "HPJB", "HPJW", "HPJR"};
static const char *const demain_values[] = {"----", "BLEU", "BLAN", "ROUG"};

static bool
is_value(const char *value, const char *const *values, size_t n, uint8_t code)
{
	return code < n && strcmp(value, values[code]) == 0;
}

const char *
typed_check(const struct tic_group *g)
{
	const struct tic_label *def = g->def;
	struct tic_datetime dt;
	struct tic_stge stge;
	uint64_t num;

	if (g->id != tic_label_id(def))
		return "id is not the label's row";
	if (def && tic_label_of((enum tic_label_id) g->id) != def)
		return "the id's row is not def";
	if (g->horodate && (tic_horodate_parse(g->horodate, &dt) < 0 || !same_date(&dt, &g->date)))
		return "date";
	if (!def)
		return NULL;
	switch ((enum tic_format) def->format) {
	case TIC_FMT_DIGITS:
	case TIC_FMT_RELAIS:
		if (tic_parse_uint(g->value, &num) < 0 || num != g->num)
			return "num";
		break;
	case TIC_FMT_PTEC:
		if (!is_value(g->value, ptec_values, sizeof(ptec_values) / sizeof(ptec_values[0]),
		              g->code))
			return "PTEC code";
		break;
	case TIC_FMT_DEMAIN:
		if (!is_value(g->value, demain_values,
		              sizeof(demain_values) / sizeof(demain_values[0]), g->code))
			return "DEMAIN code";
		break;
	case TIC_FMT_STGE:
		if (tic_stge_decode(g->value, &stge) < 0 || !same_stge(&stge, &g->stge))
			return "stge";
		break;
	default:
		break;
	}
	return NULL;
}

bool
typed_same(const struct tic_group *a, const struct tic_group *b)
{
	if (a->id != b->id || !a->horodate != !b->horodate ||
	    (a->horodate && !same_date(&a->date, &b->date)))
		return false;
	if (!a->def)
		return true;
	switch ((enum tic_format) a->def->format) {
	case TIC_FMT_DIGITS:
	case TIC_FMT_RELAIS:
		return a->num == b->num;
	case TIC_FMT_PTEC:
	case TIC_FMT_DEMAIN:
		return a->code == b->code;
	case TIC_FMT_STGE:
		return same_stge(&a->stge, &b->stge);
	default:
		return true;
	}
}
