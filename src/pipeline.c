/* SPDX-License-Identifier: MIT */
/*
 * A meter's frames from the parser to the sinks (see linkyd/pipeline.h). The index guard comes
 * first: an energy index it holds back is in nothing the sinks are asked to publish, not even
 * the derived values, which are computed from what it let through. The whole frame still goes
 * with it, for what must know every label the meter sends (Home Assistant's entities: a label
 * the guard holds back for a while keeps its entity).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "linkyd/derive.h"
#include "linkyd/log.h"
#include "linkyd/pipeline.h"
#include "linkyd/policy.h"

#define GUARD_LOG_MS 60000

struct pipeline {
	const struct meter_config *m;
	const struct linkyd_config *c;
	struct sink *sinks[PIPELINE_SINKS];
	size_t n_sinks;
	struct policy_engine *policy;
	struct anon_key anon_key;
	struct anon_frame *anon; /* the frame with pseudonyms; NULL: not anonymising */
	struct derive *derive;   /* the index guard and the derived values, or NULL */
	char *state_file;        /* where derive keeps its state, NULL: nowhere */
	uint64_t guard_log_ms;   /* when a rejected index was last logged */
	int save_error;          /* of the state file, logged on change */
	struct tic_frame kept;   /* the frame without what the guard held back */
	struct tic_group kept_groups[TIC_FRAME_GROUPS];
	bool keep[TIC_FRAME_GROUPS];
	bool due[TIC_FRAME_GROUPS];
};

/* The derived values, and the guard that needs their state, when the meter wants either. */
static int
derive_start(struct pipeline *p)
{
	const struct meter_config *m = p->m;
	struct derive_config dc = {
	    .tariff_names = (const char *const *) m->tariff_names,
	    .n_tariff_names = m->n_tariff_names,
	    .distributor_names = (const char *const *) m->distributor_names,
	    .n_distributor_names = m->n_distributor_names,
	};
	int loaded = 0, r;

	if (!m->publish.derived && !m->publish.index_guard)
		return 0;
	/* The energy per period is the state worth keeping; the guard alone needs none. */
	if (m->publish.derived && p->c->state_dir) {
		if (asprintf(&p->state_file, "%s/%s.state", p->c->state_dir, m->name) < 0) {
			p->state_file = NULL;
			return -ENOMEM;
		}
		/* systemd makes it (StateDirectory=); by hand, as root, it may not exist yet. Any
		 * failure shows when the file is first written. */
		(void) mkdir(p->c->state_dir, 0755);
	}
	dc.state_file = p->state_file;
	r = derive_new(&dc, &p->derive, &loaded);
	if (r == 0 && loaded < 0)
		log_errno(LOG_WARNING, loaded, "meter '%s': %s unreadable, starting afresh",
		          m->name, p->state_file);
	else if (r == 0 && loaded > 0)
		log_info("meter '%s': derived values resumed from %s", m->name, p->state_file);
	return r;
}

int
pipeline_new(const struct meter_config *m, const struct linkyd_config *c,
             const struct anon_key *anon, struct pipeline **ret)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->m = m;
	p->c = c;
	if (anon) {
		p->anon_key = *anon;
		p->anon = malloc(sizeof(*p->anon));
		if (!p->anon)
			goto out_free;
	}
	r = policy_engine_new(&m->publish, &p->policy);
	if (r == 0)
		r = derive_start(p);
	if (r < 0)
		goto out_free;
	*ret = p;
	return 0;

out_free:
	pipeline_free(p);
	return r;
}

int
pipeline_add_sink(struct pipeline *p, struct sink *s)
{
	if (p->n_sinks == PIPELINE_SINKS)
		return -ENOSPC;
	p->sinks[p->n_sinks++] = s;
	return 0;
}

/* Say that an index was held back, at most once a minute (a broken meter would flood). */
static void
log_guard(struct pipeline *p, uint64_t now_ms)
{
	const struct derive_guard_stats *st = derive_guard_stats(p->derive);

	if (p->guard_log_ms && now_ms - p->guard_log_ms < GUARD_LOG_MS)
		return;
	log_warn("meter '%s': %s %llu not published: %s the last accepted %llu (%llu rejected in "
	         "all)",
	         p->m->name, st->last_label ? st->last_label : "index",
	         (unsigned long long) st->last_value,
	         st->last_reason == DERIVE_REJECT_BACKWARDS ? "below" : "implausibly far above",
	         (unsigned long long) st->last_accepted,
	         (unsigned long long) (st->backwards + st->jumps));
	p->guard_log_ms = now_ms;
}

/* The frame without the groups the guard held back. */
static const struct tic_frame *
kept_frame(struct pipeline *p, const struct tic_frame *frame)
{
	unsigned n = 0;

	for (unsigned i = 0; i < frame->n_groups; i++)
		if (p->keep[i])
			p->kept_groups[n++] = frame->groups[i];
	if (n == frame->n_groups)
		return frame;
	p->kept = (struct tic_frame){.mode = frame->mode, .n_groups = n, .groups = p->kept_groups};
	return &p->kept;
}

/* Write the state file when a period ended (or now); a failure is logged when it changes. */
static void
save(struct pipeline *p, bool now)
{
	int r = now ? derive_save(p->derive) : derive_save_due(p->derive);

	if (r < 0 && r != p->save_error)
		log_errno(LOG_WARNING, r, "meter '%s': cannot save the derived values in %s",
		          p->m->name, p->state_file);
	else if (r >= 0 && p->save_error && (r > 0 || now))
		log_notice("meter '%s': derived values saved again", p->m->name);
	/* derive_save_due() says 0 when nothing was due: that proves nothing either way. */
	if (r < 0 || r > 0 || now)
		p->save_error = r < 0 ? r : 0;
}

static bool
derived_on(const struct pipeline *p)
{
	return p->derive && p->m->publish.derived;
}

void
pipeline_frame(struct pipeline *p, const struct tic_frame *frame, uint64_t mono_ms, time_t wall)
{
	struct sink_frame f = {.mono_ms = mono_ms, .wall = wall};

	/* Before anything reads the frame. */
	if (p->anon) {
		if (anon_frame(&p->anon_key, frame, p->anon) < 0) {
			log_err("meter '%s': cannot anonymise a frame, not publishing it",
			        p->m->name);
			return;
		}
		frame = &p->anon->frame;
	}
	f.whole = f.kept = frame;
	if (p->derive) {
		/* The derived values use what the guard kept, whether or not the sinks do. */
		bool guarded = p->m->publish.index_guard;

		if (derive_guard(p->derive, frame, mono_ms, p->keep) > 0 && guarded)
			log_guard(p, mono_ms);
		derive_frame(p->derive, frame, p->keep, mono_ms, wall);
		if (guarded)
			f.kept = kept_frame(p, frame);
		if (p->m->publish.derived)
			save(p, false);
	}
	f.due = p->due;
	f.publish = f.kept->n_groups > 0 &&
	            policy_engine_frame(p->policy, f.kept, mono_ms, p->due, &f.alarm);
	if (f.alarm)
		log_info("meter '%s': alarm in a frame, published at once", p->m->name);
	for (size_t i = 0; i < p->n_sinks; i++)
		p->sinks[i]->ops->frame(p->sinks[i], &f);
	if (derived_on(p)) {
		struct sink_derived d = {.derive = p->derive,
		                         .energy_changed = derive_energy_changed(p->derive),
		                         .mono_ms = mono_ms};

		for (size_t i = 0; i < p->n_sinks; i++)
			if (p->sinks[i]->ops->derived)
				p->sinks[i]->ops->derived(p->sinks[i], &d);
	}
}

void
pipeline_line(struct pipeline *p, const struct line_status *st)
{
	for (size_t i = 0; i < p->n_sinks; i++)
		if (p->sinks[i]->ops->line)
			p->sinks[i]->ops->line(p->sinks[i], st);
}

void
pipeline_close(struct pipeline *p, unsigned timeout_ms)
{
	struct sink_derived last = {.derive = p->derive};
	const struct sink_derived *lastp = NULL;
	struct sink *sinks[PIPELINE_SINKS];
	size_t n = p->n_sinks;

	if (derived_on(p)) {
		last.energy_changed = derive_energy_changed(p->derive);
		save(p, true);
		lastp = &last;
	}
	/* A sink may close at once, and its owner tear down from on_closed: nothing of p is read
	 * once the closing starts. */
	memcpy(sinks, p->sinks, n * sizeof(*sinks));
	p->n_sinks = 0;
	for (size_t i = 0; i < n; i++)
		sinks[i]->ops->close(sinks[i], lastp, timeout_ms);
}

struct pipeline *
pipeline_free(struct pipeline *p)
{
	if (p) {
		policy_engine_free(p->policy);
		derive_free(p->derive);
		free(p->state_file);
		free(p->anon);
		free(p);
	}
	return NULL;
}
