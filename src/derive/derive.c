/* SPDX-License-Identifier: MIT */
/*
 * The derived values of one meter: construction, one frame's update, and what Home Assistant
 * should declare. The parts live in guard.c, energy.c, live.c, registers.c and state.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void
copy_names(char (*dst)[DERIVE_NAME_MAX], size_t max, const char *const *src, size_t n)
{
	for (size_t i = 0; i < n && i < max; i++)
		if (src[i])
			name_normalise(dst[i], src[i]);
}

/* Forget what the meter told: another meter, or a state file that does not load. */
static void
forget(struct derive *d)
{
	d->serial[0] = '\0';
	d->ngtf[0] = '\0';
	memset(d->learned, 0, sizeof(d->learned));
	guard_reset(d);
	energy_reset(d);
	d->energy_stale = false;
	live_reset(d);
	d->mode = TIC_MODE_UNKNOWN;
	d->generation++;
}

int
derive_new(const struct derive_config *cfg, struct derive **ret, int *ret_loaded)
{
	struct derive *d = calloc(1, sizeof(*d));
	int loaded = 0;

	if (!d)
		return -ENOMEM;
	if (cfg->state_file && (!(d->state_file = strdup(cfg->state_file)) ||
	                        asprintf(&d->tmp_file, "%s.tmp", cfg->state_file) < 0)) {
		d->tmp_file = NULL;
		derive_free(d);
		return -ENOMEM;
	}
	copy_names(d->tariff_override, DERIVE_SUPPLIER_INDEXES, cfg->tariff_names,
	           cfg->n_tariff_names);
	copy_names(d->distributor_override, DERIVE_DISTRIBUTOR_INDEXES, cfg->distributor_names,
	           cfg->n_distributor_names);
	forget(d);
	if (d->state_file) {
		loaded = state_load(d);
		if (loaded < 0)
			forget(d);
		d->energy_stale = loaded > 0;
	}
	if (ret_loaded)
		*ret_loaded = loaded;
	*ret = d;
	return 0;
}

struct derive *
derive_free(struct derive *d)
{
	if (!d)
		return NULL;
	free(d->state_file);
	free(d->tmp_file);
	free(d);
	return NULL;
}

void
meter_identify(struct derive *d, const struct tic_frame *f)
{
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];

		if (g->id != TIC_L_ADCO && g->id != TIC_L_ADSC)
			continue;
		if (strcmp(g->value, d->serial) == 0)
			return;
		/* A state file from no meter yet is this meter's: keep it. */
		if (d->serial[0])
			forget(d);
		snprintf(d->serial, sizeof(d->serial), "%s", g->value);
		d->save_due = true;
		return;
	}
}

static bool
info_same(const struct derive_info *a, const struct derive_info *b)
{
	if (a->phases != b->phases || a->power != b->power || a->injection != b->injection ||
	    a->tariff != b->tariff || a->tempo != b->tempo || a->n_registers != b->n_registers)
		return false;
	for (size_t i = 0; i < a->n_registers; i++)
		if (a->registers[i].label != b->registers[i].label ||
		    strcmp(a->registers[i].name, b->registers[i].name) != 0)
			return false;
	return true;
}

void
derive_frame(struct derive *d, const struct tic_frame *f, const bool *keep, uint64_t mono_ms,
             time_t wall)
{
	struct scan sc = {0};
	struct derive_info before, after;

	derive_info(d, &before);
	meter_identify(d, f);
	if (f->mode != d->mode) {
		/* Loads and tariffs are read differently in each mode; energy carries on. */
		live_reset(d);
		d->mode = f->mode;
	}
	energy_roll(d, wall);
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];
		int r = reg_of(g);

		if (r < 0) {
			live_group(d, g, &sc);
			continue;
		}
		if (keep && !keep[i])
			continue;
		if (reg_defs[r].kind == REG_INJECTED)
			d->has_injection = true;
		live_counted(d, r, energy_value(d, r, g->num, wall));
		d->energy_stale = false;
	}
	live_end(d, &sc, mono_ms);
	d->power_seen |= d->withdrawn.valid;
	derive_info(d, &after);
	if (!info_same(&before, &after))
		d->generation++;
}

unsigned
derive_generation(const struct derive *d)
{
	return d->generation;
}

void
derive_info(const struct derive *d, struct derive_info *ret)
{
	struct derive_info info = {
	    .phases = live_phases(d),
	    .power = d->power_seen,
	    .injection = d->has_injection,
	    .tariff = d->tariff_reg >= 0,
	    .tempo = d->tempo,
	    .generation = d->generation,
	};

	for (size_t r = 0; r < reg_count; r++) {
		enum reg_kind kind = reg_defs[r].kind;

		if ((kind != REG_TARIFF && kind != REG_DISTRIBUTOR) || !reg_used(d, (int) r))
			continue;
		info.registers[info.n_registers++] = (struct derive_register_info){
		    .label = reg_label((int) r),
		    .name = reg_name(d, (int) r),
		    .tariff = kind == REG_TARIFF,
		};
	}
	*ret = info;
}
