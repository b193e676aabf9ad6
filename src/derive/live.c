/* SPDX-License-Identifier: MIT */
/*
 * The instantaneous derived values (<topic>/derived): load per phase, active power estimated
 * from the indexes, the current tariff period and the Tempo colours.
 *
 * Load. Historique: IINST (IINSTn) over ISOUSC, which a Linky sets to PREF / 200 V, divided by
 * 3 on a triphasé meter (docs/tic.md §5): both per phase. Standard: the meter cuts on apparent
 * power against PREF, so a phase's load is its IRMSn x URMSn over its share of PREF (PREF / 3 on
 * a triphasé meter). Both come in whole amperes: a few % of resolution.
 *
 * Active power. The meter sends apparent power (VA) only; the indexes count active energy in
 * whole Wh, at a few hundred Wh per hour on a quiet evening. A delta over a fixed window would
 * be off by up to 1 Wh at each end, so the estimate measures between the frames where the index
 * ticked: from one tick to a later one is an exact number of Wh, known to within a frame's time.
 * The window is the latest tick back to the first tick at least RATE_WINDOW_MS before it (or
 * the oldest tick kept, if those already hold RATE_MIN_WH). Once the next tick is overdue, the
 * power cannot be more than 1 Wh over the time since the last one: the estimate decays to that.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define RATE_WINDOW_MS 60000
#define RATE_MIN_WH    30
#define RATE_GAP_MS    300000 /* frames further apart than this: start the estimate again */
#define MS_PER_HOUR    3600000

static void
rate_reset(struct rate *r)
{
	*r = (struct rate){0};
}

static void
rate_tick(struct rate *r, uint64_t now_ms)
{
	r->ms[r->head] = now_ms;
	r->wh[r->head] = r->cum;
	r->head = (r->head + 1) % RATE_TICKS;
	if (r->n < RATE_TICKS)
		r->n++;
}

static void
rate_update(struct rate *r, uint64_t now_ms)
{
	unsigned j, i = 0;
	uint64_t dms, dwh, since;

	if (r->moved)
		rate_tick(r, now_ms);
	r->moved = false;
	r->valid = false;
	if (r->n < 2)
		return;
	j = (r->head + RATE_TICKS - 1) % RATE_TICKS;
	for (unsigned k = 1; k < r->n; k++) {
		i = (j + RATE_TICKS - k) % RATE_TICKS;
		if (r->ms[j] - r->ms[i] >= RATE_WINDOW_MS)
			break;
	}
	dms = r->ms[j] - r->ms[i];
	dwh = r->wh[j] - r->wh[i];
	if (dms == 0 || (dms < RATE_WINDOW_MS && dwh < RATE_MIN_WH))
		return;
	r->watts = dwh * MS_PER_HOUR / dms;
	since = now_ms - r->ms[j];
	if (since * dwh > dms && r->watts > MS_PER_HOUR / since)
		r->watts = MS_PER_HOUR / since;
	r->valid = true;
}

void
live_reset(struct derive *d)
{
	d->phases = 0;
	memset(d->has_current, 0, sizeof(d->has_current));
	memset(d->has_voltage, 0, sizeof(d->has_voltage));
	d->isousc = d->pref = 0;
	d->tariff_reg = d->distributor_reg = -1;
	d->tempo = false;
	rate_reset(&d->withdrawn);
	rate_reset(&d->injected);
	d->has_injection = false;
	d->power_seen = false;
	d->last_frame_ms = 0;
}

/* The labels of one quantity per phase follow each other in the table. */
_Static_assert(TIC_L_IINST2 == TIC_L_IINST1 + 1 && TIC_L_IINST3 == TIC_L_IINST1 + 2, "IINSTn");
_Static_assert(TIC_L_IRMS2 == TIC_L_IRMS1 + 1 && TIC_L_IRMS3 == TIC_L_IRMS1 + 2, "IRMSn");
_Static_assert(TIC_L_URMS2 == TIC_L_URMS1 + 1 && TIC_L_URMS3 == TIC_L_URMS1 + 2, "URMSn");

static void
current(struct derive *d, unsigned phase, uint64_t v)
{
	d->current[phase - 1] = v;
	d->has_current[phase - 1] = true;
}

void
live_group(struct derive *d, const struct tic_group *g, struct scan *sc)
{
	unsigned ph;

	switch ((enum tic_label_id) g->id) {
	case TIC_L_IINST:
		/* IINST alone is monophasé; IINSTn, and IRMSn above 1, triphasé. */
		current(d, 1, g->num);
		if (d->phases != 3)
			d->phases = 1;
		break;
	case TIC_L_IINST1:
	case TIC_L_IINST2:
	case TIC_L_IINST3:
		current(d, g->id - TIC_L_IINST1 + 1u, g->num);
		d->phases = 3;
		break;
	case TIC_L_IRMS1:
	case TIC_L_IRMS2:
	case TIC_L_IRMS3:
		ph = g->id - TIC_L_IRMS1 + 1u;
		current(d, ph, g->num);
		if (ph > 1)
			d->phases = 3;
		else if (d->phases == 0)
			d->phases = 1;
		break;
	case TIC_L_URMS1:
	case TIC_L_URMS2:
	case TIC_L_URMS3:
		ph = g->id - TIC_L_URMS1;
		d->voltage[ph] = g->num;
		d->has_voltage[ph] = true;
		break;
	case TIC_L_ISOUSC:
		d->isousc = g->num;
		break;
	case TIC_L_PREF:
		d->pref = g->num;
		break;
	case TIC_L_NTARF:
		sc->ntarf = (unsigned) g->num;
		break;
	case TIC_L_PTEC:
		d->tariff_reg = reg_of_ptec((enum tic_ptec) g->code);
		/* Tempo's periods, HCJB ... HPJR, in the order bleu, blanc, rouge twice. */
		d->tempo_today = g->code >= TIC_PTEC_HCJB
		                     ? (uint8_t) ((g->code - TIC_PTEC_HCJB) % 3 + TIC_TEMPO_BLEU)
		                     : TIC_TEMPO_NONE;
		d->tempo = d->tempo_today != TIC_TEMPO_NONE;
		break;
	case TIC_L_DEMAIN:
		d->tempo_tomorrow = g->code;
		break;
	case TIC_L_STGE:
		sc->stge = &g->stge;
		break;
	case TIC_L_NGTF:
		sc->ngtf = g->value;
		break;
	case TIC_L_LTARF:
		sc->ltarf = g->value;
		break;
	default:
		break;
	}
}

void
live_counted(struct derive *d, int r, uint64_t wh)
{
	const struct reg_def *def = &reg_defs[r];

	/* Standard: EAST is the total (EASFnn split it); historique: the period indexes. */
	if (def->kind == REG_TOTAL || (def->kind == REG_TARIFF && def->number == 0)) {
		d->withdrawn.cum += wh;
		d->withdrawn.moved |= wh > 0;
	} else if (def->kind == REG_INJECTED) {
		d->injected.cum += wh;
		d->injected.moved |= wh > 0;
	}
}

void
live_end(struct derive *d, const struct scan *sc, uint64_t mono_ms)
{
	unsigned index = sc->ntarf ? sc->ntarf : sc->stge ? sc->stge->supplier_index : 0;

	if (index)
		d->tariff_reg = reg_numbered(REG_TARIFF, index);
	if (names_learn(d, sc->ngtf, index ? sc->ltarf : NULL, index))
		d->generation++;
	if (sc->stge) {
		d->distributor_reg = reg_numbered(REG_DISTRIBUTOR, sc->stge->distributor_index);
		/* Bits 24-27 are 0 for every other contract; a Tempo day always has a colour. */
		d->tempo = sc->stge->tempo_today != TIC_TEMPO_NONE;
		d->tempo_today = sc->stge->tempo_today;
		d->tempo_tomorrow = sc->stge->tempo_tomorrow;
	}
	if (d->last_frame_ms && mono_ms - d->last_frame_ms > RATE_GAP_MS) {
		/* The ticks before a long silence say nothing of the power now. */
		rate_reset(&d->withdrawn);
		rate_reset(&d->injected);
	}
	d->last_frame_ms = mono_ms;
	rate_update(&d->withdrawn, mono_ms);
	rate_update(&d->injected, mono_ms);
}

/* Load of phase i in %, or -1 when unknown. */
static int
load_pct(const struct derive *d, unsigned i)
{
	uint64_t num, den;

	if (!d->has_current[i])
		return -1;
	if (d->mode == TIC_MODE_HISTORIQUE && d->isousc) {
		num = d->current[i];
		den = d->isousc;
	} else if (d->mode == TIC_MODE_STANDARD && d->pref && d->has_voltage[i]) {
		num = d->current[i] * d->voltage[i] * (d->phases == 3 ? 3 : 1);
		den = d->pref * 1000;
	} else {
		return -1;
	}
	return (int) ((num * 100 + den / 2) / den);
}

unsigned
live_phases(const struct derive *d)
{
	unsigned n = d->phases == 3 ? 3 : 1;

	for (unsigned i = 0; i < n; i++)
		if (load_pct(d, i) < 0)
			return 0;
	return d->phases;
}

void
derive_power(const struct derive *d, struct derive_power *ret)
{
	*ret = (struct derive_power){
	    .valid = d->withdrawn.valid,
	    .injected_valid = d->has_injection && d->injected.valid,
	    .watts = d->withdrawn.watts,
	    .injected_watts = d->injected.watts,
	};
}

int
derive_json(const struct derive *d, char *buf, size_t size)
{
	struct jw w;
	unsigned phases = live_phases(d);

	jw_init(&w, buf, size);
	jw_bool(&w, "_derived", true);
	if (phases) {
		jw_open(&w, "load_pct");
		for (unsigned i = 0; i < phases; i++) {
			char key[2] = {(char) ('1' + i), '\0'};

			jw_uint(&w, key, (uint64_t) load_pct(d, i));
		}
		jw_close(&w);
	}
	if (d->withdrawn.valid)
		jw_uint(&w, "power_w", d->withdrawn.watts);
	if (d->has_injection && d->injected.valid)
		jw_uint(&w, "injected_power_w", d->injected.watts);
	if (d->tariff_reg >= 0) {
		jw_str(&w, "tariff", reg_name(d, d->tariff_reg));
		jw_str(&w, "tariff_register", reg_label(d->tariff_reg));
	}
	if (d->distributor_reg >= 0)
		jw_str(&w, "distributor_register", reg_label(d->distributor_reg));
	if (d->tempo) {
		jw_str(&w, "tempo_today", tic_tempo_colour_name(d->tempo_today));
		jw_str(&w, "tempo_tomorrow", tic_tempo_colour_name(d->tempo_tomorrow));
	}
	jw_uint(&w, "index_rejected", d->guard.backwards + d->guard.jumps);
	return jw_end(&w);
}
