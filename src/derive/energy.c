/* SPDX-License-Identifier: MIT */
/*
 * Energy per local hour, day and month, in total and per register, from the guarded indexes.
 *
 * Each accepted index value adds its step since the register's previous value to the current
 * periods, so a period's energy is its index at the last frame minus its index at the start.
 * A step is counted in a period only when the previous value was seen inside it, or less than
 * ENERGY_GAP_S before it began (the frames around the boundary: that little energy goes to the
 * new period). A longer silence across a boundary (linkyd stopped, meter unplugged) cannot be
 * split between the periods: its energy is counted in neither, and both are marked partial.
 * Energy is never invented: a step larger than DERIVE_GUARD_MAX_W allows over the wall time
 * since the previous value (another meter, a state file from elsewhere) and a step down count
 * nothing; the index is simply followed from there.
 *
 * The periods' starts, the energy so far and each register's last value are what the state file
 * keeps, so a restart inside a period continues it, steps over the downtime included.
 */
#include <string.h>

#include "internal.h"

#define ENERGY_GAP_S 180

static const char *const period_names[PERIODS] = {"hour", "day", "month"};
static const char *const previous_names[PERIODS] = {"previous_hour", "previous_day",
                                                    "previous_month"};

time_t
period_start(enum period_kind k, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return t;
	/* Whole hours from the time itself: mktime() cannot tell the two 02:00 of a DST change
	 * apart, the time_t can. */
	if (k == PERIOD_HOUR)
		return t - (tm.tm_min * 60 + tm.tm_sec);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if (k == PERIOD_MONTH)
		tm.tm_mday = 1;
	return mktime(&tm);
}

void
energy_roll(struct derive *d, time_t wall)
{
	time_t hour = d->cur[PERIOD_HOUR].start;

	/* Within the current hour nothing can roll (the day and the month end on an hour): the
	 * local-time arithmetic, and the stat of the time zone file mktime() makes, once an hour
	 * rather than every frame. (A zone whose summer time moves by half an hour would roll
	 * up to half an hour late.) */
	if (hour && wall >= hour && wall < hour + 3600)
		return;
	for (int k = 0; k < PERIODS; k++) {
		struct period *c = &d->cur[k];
		time_t start = period_start((enum period_kind) k, wall);
		bool next, edge;

		/* Same period, or the clock went back: stay in the current one. */
		if (c->start == start || (c->start && start < c->start))
			continue;
		next = c->start && period_start((enum period_kind) k, start - 1) == c->start;
		edge = d->last_wall && d->last_wall + ENERGY_GAP_S >= start;
		if (next) {
			d->prev[k] = *c;
			d->prev[k].partial |= !edge;
		} else {
			d->prev[k].start = 0;
		}
		d->cur[k] = (struct period){.start = start, .partial = !(next && edge)};
		d->save_due = true;
		d->energy_changed = true;
	}
}

uint64_t
energy_value(struct derive *d, int r, uint64_t value, time_t wall)
{
	struct reg_state *s = &d->regs[r];
	uint64_t step = value - s->last, elapsed;

	if (!s->counted || value <= s->last)
		goto out_follow;
	elapsed = wall > s->last_wall ? (uint64_t) (wall - s->last_wall) : 0;
	if (step > (uint64_t) DERIVE_GUARD_MAX_W * elapsed / 3600 + DERIVE_GUARD_MARGIN_WH) {
		step = 0;
		goto out_follow;
	}
	for (int k = 0; k < PERIODS; k++) {
		if (s->last_wall + ENERGY_GAP_S >= d->cur[k].start)
			d->cur[k].wh[r] += step;
		else
			d->cur[k].partial = true;
	}
	d->energy_changed = true;
	s->last = value;
	s->last_wall = wall;
	d->last_wall = wall;
	return step;

out_follow:
	if (!s->counted || value != s->last)
		d->energy_changed = true;
	s->counted = true;
	s->last = value;
	s->last_wall = wall;
	d->last_wall = wall;
	return 0;
}

void
energy_reset(struct derive *d)
{
	for (size_t r = 0; r < reg_count; r++)
		d->regs[r].counted = false;
	memset(d->cur, 0, sizeof(d->cur));
	memset(d->prev, 0, sizeof(d->prev));
	d->last_wall = 0;
	d->energy_changed = true;
}

bool
derive_energy_changed(struct derive *d)
{
	bool changed = d->energy_changed;

	d->energy_changed = false;
	return changed;
}

bool
derive_energy_current(const struct derive *d)
{
	return !d->energy_stale;
}

static void
write_period(const struct derive *d, struct jw *w, const char *key, const struct period *p)
{
	char start[32];
	uint64_t total = 0;

	/* Standard: EAST; historique: the sum of its period indexes. Only one mode counts at a
	 * time, so the sum of both is right even on the day Enedis switches the meter. */
	for (size_t r = 0; r < reg_count; r++)
		if (reg_defs[r].kind == REG_TOTAL ||
		    (reg_defs[r].kind == REG_TARIFF && reg_defs[r].number == 0))
			total += p->wh[r];
	iso_local(p->start, start);
	jw_open(w, key);
	jw_str(w, "start", start);
	jw_bool(w, "partial", p->partial);
	jw_uint(w, "total", total);
	if (d->has_injection)
		jw_uint(w, "injected", p->wh[reg_of_label(TIC_L_EAIT)]);
	/* By name: two indexes may share one (a configured name), their energy adds up. */
	jw_open(w, "tariffs");
	for (size_t r = 0; r < reg_count; r++) {
		const char *name = reg_name(d, (int) r);
		uint64_t wh = 0;
		bool first = true;

		if (reg_defs[r].kind != REG_TARIFF || !reg_used(d, (int) r))
			continue;
		for (size_t o = 0; o < reg_count; o++) {
			if (reg_defs[o].kind != REG_TARIFF || !reg_used(d, (int) o) ||
			    strcmp(reg_name(d, (int) o), name) != 0)
				continue;
			first &= o >= r;
			wh += p->wh[o];
		}
		if (first)
			jw_uint(w, name, wh);
	}
	jw_close(w);
	jw_open(w, "registers");
	for (size_t r = 0; r < reg_count; r++)
		if ((reg_defs[r].kind == REG_TARIFF || reg_defs[r].kind == REG_DISTRIBUTOR) &&
		    reg_used(d, (int) r))
			jw_uint(w, reg_label((int) r), p->wh[r]);
	jw_close(w);
	jw_close(w);
}

int
derive_energy_json(const struct derive *d, char *buf, size_t size)
{
	struct jw w;

	jw_init(&w, buf, size);
	jw_bool(&w, "_derived", true);
	for (int k = 0; k < PERIODS; k++)
		if (d->cur[k].start)
			write_period(d, &w, period_names[k], &d->cur[k]);
	for (int k = 0; k < PERIODS; k++)
		if (d->prev[k].start)
			write_period(d, &w, previous_names[k], &d->prev[k]);
	return jw_end(&w);
}
