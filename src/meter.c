/* SPDX-License-Identifier: MIT */
/*
 * A meter: its line (source -> parser), its pipeline (anonymisation, index guard, derived values,
 * publish policy) and its sinks (MQTT, the in-memory state), put together for one meter of the
 * configuration. Meters are independent: one failing never disturbs another.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "linkyd/line.h"
#include "linkyd/log.h"
#include "linkyd/meter.h"
#include "linkyd/pipeline.h"
#include "linkyd/sink.h"

enum { SINK_MQTT, SINK_STATE, N_SINKS };

/* At most this long of a close's time goes to finishing the frame under way (a standard frame
 * lasts about a second at 9600 Bd, and one is half read on average); the rest to flushing. */
#define FINISH_MAX_MS 1250

struct meter {
	struct loop *loop;
	const struct meter_config *cfg;
	const struct linkyd_config *global;
	const struct meter_callbacks *cb;
	void *userdata;
	bool closing;
	unsigned closing_sinks;
	unsigned flush_ms; /* what the close leaves the sinks, once the line has finished */

	struct anon_key anon_key;
	struct line_config line_cfg;
	struct line *line;
	struct pipeline *pipeline;
	struct sink *sinks[N_SINKS];
};

static void
changed(void *userdata)
{
	struct meter *m = userdata;

	if (m->cb->on_change)
		m->cb->on_change(m, m->userdata);
}

static void
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct meter *m = userdata;

	pipeline_frame(m->pipeline, frame, loop_now_ms(), time(NULL));
}

static void
on_status(const struct line_status *st, void *userdata)
{
	struct meter *m = userdata;

	pipeline_line(m->pipeline, st);
	changed(m);
}

static const struct line_callbacks line_cbs = {.on_frame = on_frame, .on_status = on_status};

static void
on_sink_closed(struct sink *s, void *owner)
{
	struct meter *m = owner;

	(void) s;
	if (--m->closing_sinks == 0 && m->cb->on_closed)
		m->cb->on_closed(m, m->userdata);
}

int
meter_new(struct loop *loop, const struct meter_config *cfg, const struct linkyd_config *global,
          struct state_store *store, const struct meter_callbacks *cb, void *userdata,
          struct meter **ret_meter)
{
	struct meter *m = calloc(1, sizeof(*m));
	struct source *src = NULL;
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->cfg = cfg;
	m->global = config_ref(global);
	m->cb = cb;
	m->userdata = userdata;
	m->line_cfg = (struct line_config){
	    .name = cfg->name, .mode = cfg->mode, .silence_ms = (unsigned) cfg->silence * 1000};
	if (global->anonymise) {
		r = anon_key_load(global->anonymise_key, &m->anon_key);
		if (r < 0) {
			log_errno(LOG_ERR, r, "meter '%s': cannot make the pseudonyms' key",
			          cfg->name);
			goto out_free;
		}
		m->line_cfg.anon = &m->anon_key;
	}
	if ((r = pipeline_new(cfg, global, m->line_cfg.anon, &m->pipeline)) < 0 ||
	    (r = mqtt_sink_new(loop, cfg, global, changed, m, &m->sinks[SINK_MQTT])) < 0 ||
	    (r = state_sink_new(store, cfg->name, m->sinks[SINK_MQTT], &m->sinks[SINK_STATE])) <
	        0 ||
	    (r = source_new(loop, cfg, &src)) < 0 ||
	    (r = line_new(loop, src, &m->line_cfg, &line_cbs, m, &m->line)) < 0)
		goto out_free;
	for (int i = 0; i < N_SINKS; i++) {
		m->sinks[i]->on_closed = on_sink_closed;
		m->sinks[i]->owner = m;
		(void) pipeline_add_sink(m->pipeline, m->sinks[i]);
	}
	line_start(m->line);
	*ret_meter = m;
	return 0;

out_free:
	meter_free(m);
	return r;
}

static void
line_finished(void *userdata)
{
	struct meter *m = userdata;

	pipeline_close(m->pipeline, m->flush_ms);
}

void
meter_close(struct meter *m, unsigned timeout_ms)
{
	unsigned finish = timeout_ms / 2 < FINISH_MAX_MS ? timeout_ms / 2 : FINISH_MAX_MS;

	m->closing = true;
	m->closing_sinks = N_SINKS;
	m->flush_ms = timeout_ms - finish;
	line_finish(m->line, finish, line_finished);
}

bool
meter_is_closing(const struct meter *m)
{
	return m->closing;
}

const char *
meter_name(const struct meter *m)
{
	return m->cfg->name;
}

const struct meter_config *
meter_config(const struct meter *m)
{
	return m->cfg;
}

struct meter *
meter_free(struct meter *m)
{
	if (!m)
		return NULL;
	/* The sinks read the line's status, the state sink the MQTT sink: in that order. */
	for (int i = N_SINKS; i-- > 0;)
		m->sinks[i] = sink_free(m->sinks[i]);
	m->pipeline = pipeline_free(m->pipeline);
	m->line = line_free(m->line);
	config_unref(m->global);
	free(m);
	return NULL;
}
