/* SPDX-License-Identifier: MIT */
/*
 * The index guard. An energy index only grows, and by no more than the meter can count: a value
 * below the last accepted one, or above it by more than DERIVE_GUARD_MAX_W over the time since
 * (plus DERIVE_GUARD_MARGIN_WH), is a transmission error the 6-bit checksum let through, and
 * Home Assistant would take it for a new meter and count the whole index as consumption. Such
 * values are not published.
 *
 * What the guard cannot check it confirms instead: the first values after a start, after a
 * silence of over GUARD_FRESH_MS (the plausible step would be too wide to mean anything) and
 * after a rejection are held until DERIVE_GUARD_CONFIRM consecutive frames agree (each within
 * the plausible step of the one before). So a replaced meter, or a host that slept, is followed
 * after a few frames, and one bad value never becomes the reference.
 *
 * One exception: a confirmed level at most GUARD_SETTLE_WH below the accepted one is not taken.
 * The accepted value was then a small error that passed as plausible, and the real index will
 * reach it soon; going back down would look like a meter reset to Home Assistant.
 */
#include <string.h>

#include "internal.h"

#define GUARD_FRESH_MS  60000
#define GUARD_SETTLE_WH 1000

static uint64_t
max_step(uint64_t elapsed_ms)
{
	return (uint64_t) DERIVE_GUARD_MAX_W * elapsed_ms / 3600000 + DERIVE_GUARD_MARGIN_WH;
}

/* Is x a plausible successor of v, seen at v_ms? */
static bool
plausible(uint64_t v, uint64_t v_ms, uint64_t x, uint64_t now_ms)
{
	return now_ms >= v_ms && now_ms - v_ms <= GUARD_FRESH_MS && x >= v &&
	       x - v <= max_step(now_ms - v_ms);
}

static void
accept(struct reg_state *s, uint64_t x, uint64_t now_ms)
{
	s->accepted = true;
	s->value = x;
	s->value_ms = now_ms;
	s->cand_n = 0;
}

static void
reject(struct derive *d, int r, enum derive_reject why, uint64_t x)
{
	struct derive_guard_stats *g = &d->guard;

	if (why == DERIVE_REJECT_BACKWARDS)
		g->backwards++;
	else
		g->jumps++;
	g->last_reason = why;
	g->last_label = reg_label(r);
	g->last_value = x;
	g->last_accepted = d->regs[r].value;
}

/* Returns true to keep x, and says whether it was a rejection. */
static bool
check(struct derive *d, int r, uint64_t x, uint64_t now_ms, bool *ret_rejected)
{
	struct reg_state *s = &d->regs[r];
	bool fresh = s->accepted && now_ms >= s->value_ms && now_ms - s->value_ms <= GUARD_FRESH_MS;

	*ret_rejected = false;
	if (s->accepted && plausible(s->value, s->value_ms, x, now_ms)) {
		accept(s, x, now_ms);
		return true;
	}
	if (s->cand_n > 0 && plausible(s->cand, s->cand_ms, x, now_ms))
		s->cand_n++;
	else
		s->cand_n = 1;
	s->cand = x;
	s->cand_ms = now_ms;
	if (s->cand_n >= DERIVE_GUARD_CONFIRM &&
	    !(s->accepted && x < s->value && s->value - x <= GUARD_SETTLE_WH)) {
		if (fresh)
			d->guard.new_levels++;
		accept(s, x, now_ms);
		return true;
	}
	if (!fresh) {
		d->guard.held++;
		return false;
	}
	reject(d, r, x < s->value ? DERIVE_REJECT_BACKWARDS : DERIVE_REJECT_JUMP, x);
	*ret_rejected = true;
	return false;
}

unsigned
derive_guard(struct derive *d, const struct tic_frame *f, uint64_t mono_ms, bool *keep)
{
	unsigned rejected = 0;

	meter_identify(d, f);
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];
		int r = reg_of(g);
		bool bad;

		keep[i] = true;
		if (r < 0)
			continue;
		keep[i] = check(d, r, g->num, mono_ms, &bad);
		rejected += bad;
	}
	return rejected;
}

const struct derive_guard_stats *
derive_guard_stats(const struct derive *d)
{
	return &d->guard;
}

void
guard_reset(struct derive *d)
{
	for (size_t r = 0; r < reg_count; r++) {
		d->regs[r].accepted = false;
		d->regs[r].cand_n = 0;
	}
}
