/* SPDX-License-Identifier: MIT */
/*
 * /metrics in Prometheus' text format (version 0.0.4): per meter, the line's counters (frames,
 * groups, rejects by cause, bytes, reconnections), its state, mode and speed, the age of the
 * last frame, the energy indexes, power and currents it sent, the derived power estimate, and
 * its MQTT client's connection and queue. Each family is written whole, meter after meter, as
 * the format wants; every sample carries meter="<name>".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct family {
	const char *name, *type, *help;
	void (*emit)(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
	             struct http_buf *b);
	const char *unit; /* indexes(): the labels of this unit */
};

/* name{meter="..."[,key="val"]} value */
static void
sample(struct http_buf *b, const struct family *fam, const struct state_meter *m, const char *key,
       const char *val, const char *value)
{
	buf_printf(b, "%s{meter=\"", fam->name);
	buf_label(b, m->name);
	if (key) {
		buf_printf(b, "\",%s=\"", key);
		buf_label(b, val);
	}
	buf_printf(b, "\"} %s\n", value);
}

static void
sample_u64(struct http_buf *b, const struct family *fam, const struct state_meter *m,
           const char *key, const char *val, uint64_t v)
{
	char n[24];

	(void) snprintf(n, sizeof(n), "%" PRIu64, v);
	sample(b, fam, m, key, val, n);
}

/* ---- the line ------------------------------------------------------------------------------- */

/* Each of these reads one number of the line's status; none before the first status. */
#define LINE_COUNTER(fn, expr)                                                                     \
	static void fn(const struct family *fam, const struct state_meter *m, uint64_t now_ms,     \
	               struct http_buf *b)                                                         \
	{                                                                                          \
		const struct line_status *st = m->line;                                            \
                                                                                                   \
		(void) now_ms;                                                                     \
		if (st)                                                                            \
			sample_u64(b, fam, m, NULL, NULL, (expr));                                 \
	}

LINE_COUNTER(line_frames, st->stats->frames)
LINE_COUNTER(line_groups, st->stats->groups)
LINE_COUNTER(line_interrupted, st->stats->frames_interrupted)
LINE_COUNTER(line_bytes, st->bytes)
LINE_COUNTER(line_reconnects, st->reconnects)
LINE_COUNTER(line_baud, st->baud)

static void
line_errors(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
            struct http_buf *b)
{
	(void) now_ms;
	for (int i = 0; m->line && i < TIC_ERR_COUNT; i++)
		sample_u64(b, fam, m, "cause", tic_err_name((enum tic_err)(-i - 1)),
		           m->line->stats->errors[i]);
}

static void
line_state(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
           struct http_buf *b)
{
	(void) now_ms;
	for (int s = LINE_ABSENT; m->line && s <= LINE_SILENT; s++)
		sample_u64(b, fam, m, "state", line_state_name((enum line_state) s),
		           m->line->state == (enum line_state) s);
}

static void
line_mode(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
          struct http_buf *b)
{
	(void) now_ms;
	if (!m->line)
		return;
	sample_u64(b, fam, m, "mode", "historique", m->line->mode == TIC_MODE_HISTORIQUE);
	sample_u64(b, fam, m, "mode", "standard", m->line->mode == TIC_MODE_STANDARD);
}

static void
frame_age(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
          struct http_buf *b)
{
	char n[32];

	if (!m->has_frame)
		return;
	(void) snprintf(n, sizeof(n), "%.3f",
	                now_ms > m->latest.mono_ms ? (double) (now_ms - m->latest.mono_ms) / 1000
	                                           : 0.0);
	sample(b, fam, m, NULL, NULL, n);
}

static void
frame_time(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
           struct http_buf *b)
{
	(void) now_ms;
	if (m->has_frame)
		sample_u64(b, fam, m, NULL, NULL, (uint64_t) m->latest.wall);
}

static void
index_rejected(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
               struct http_buf *b)
{
	(void) now_ms;
	sample_u64(b, fam, m, NULL, NULL, m->index_rejected);
}

/* ---- what the meter says -------------------------------------------------------------------- */

/* Every energy index of the last complete frame, by label. */
static void
indexes(const struct family *fam, const struct state_meter *m, uint64_t now_ms, struct http_buf *b)
{
	const struct tic_frame *f = &m->complete.frame;
	uint64_t v;

	(void) now_ms;
	for (unsigned i = 0; m->has_complete && i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];

		if (g->def && g->def->unit && strcmp(g->def->unit, fam->unit) == 0 &&
		    group_number(g, &v))
			sample_u64(b, fam, m, "label", g->label, v);
	}
}

/* The first of labels (NULL-terminated) in f, as one sample. */
static void
first_of(const struct family *fam, const struct state_meter *m, const struct tic_frame *f,
         const char *const *labels, struct http_buf *b)
{
	uint64_t v;

	for (; *labels; labels++)
		if (frame_number(f, *labels, &v)) {
			sample_u64(b, fam, m, NULL, NULL, v);
			return;
		}
}

static void
apparent_power(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
               struct http_buf *b)
{
	static const char *const labels[] = {"PAPP", "SINSTS", NULL};

	(void) now_ms;
	if (m->has_complete)
		first_of(fam, m, &m->complete.frame, labels, b);
}

static void
injected_power(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
               struct http_buf *b)
{
	static const char *const labels[] = {"SINSTI", NULL};

	(void) now_ms;
	if (m->has_complete)
		first_of(fam, m, &m->complete.frame, labels, b);
}

/* Per phase: the latest frame (a three-phase meter's short frames carry the currents). */
static void
phases(const struct family *fam, const struct state_meter *m, const struct tic_frame *f,
       const char *const (*labels)[3], struct http_buf *b)
{
	uint64_t v;

	for (int p = 0; p < 3; p++) {
		char phase[2] = {(char) ('1' + p), '\0'};

		for (int i = 0; i < 3; i++)
			if (labels[p][i] && frame_number(f, labels[p][i], &v)) {
				sample_u64(b, fam, m, "phase", phase, v);
				break;
			}
	}
}

static void
currents(const struct family *fam, const struct state_meter *m, uint64_t now_ms, struct http_buf *b)
{
	static const char *const labels[3][3] = {
	    {"IINST1", "IINST", "IRMS1"}, {"IINST2", "IRMS2", NULL}, {"IINST3", "IRMS3", NULL}};

	(void) now_ms;
	if (m->has_frame)
		phases(fam, m, &m->latest.frame, labels, b);
}

static void
voltages(const struct family *fam, const struct state_meter *m, uint64_t now_ms, struct http_buf *b)
{
	static const char *const labels[3][3] = {{"URMS1"}, {"URMS2"}, {"URMS3"}};

	(void) now_ms;
	if (m->has_complete)
		phases(fam, m, &m->complete.frame, labels, b);
}

static void
active_power(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
             struct http_buf *b)
{
	(void) now_ms;
	if (m->power.valid)
		sample_u64(b, fam, m, NULL, NULL, m->power.watts);
}

static void
injected_active_power(const struct family *fam, const struct state_meter *m, uint64_t now_ms,
                      struct http_buf *b)
{
	(void) now_ms;
	if (m->power.injected_valid)
		sample_u64(b, fam, m, NULL, NULL, m->power.injected_watts);
}

/* ---- MQTT ----------------------------------------------------------------------------------- */

#define MQTT_NUMBER(fn, expr)                                                                      \
	static void fn(const struct family *fam, const struct state_meter *m, uint64_t now_ms,     \
	               struct http_buf *b)                                                         \
	{                                                                                          \
		struct mqtt_stats ms;                                                              \
                                                                                                   \
		(void) now_ms;                                                                     \
		if (!m->mqtt)                                                                      \
			return;                                                                    \
		ms = mqtt_sink_stats(m->mqtt);                                                     \
		(void) ms;                                                                         \
		sample_u64(b, fam, m, NULL, NULL, (expr));                                         \
	}

MQTT_NUMBER(mqtt_connected, mqtt_sink_connected(m->mqtt))
MQTT_NUMBER(mqtt_pending, ms.pending)
MQTT_NUMBER(mqtt_sent, ms.sent)
MQTT_NUMBER(mqtt_dropped, ms.dropped)

static const struct family families[] = {
    {.name = "linkyd_meter_frames_total",
     .type = "counter",
     .help = "Valid frames read from the meter.",
     .emit = line_frames},
    {.name = "linkyd_meter_groups_total",
     .type = "counter",
     .help = "Valid groups in those frames.",
     .emit = line_groups},
    {.name = "linkyd_meter_errors_total",
     .type = "counter",
     .help = "Groups and frames rejected, by cause.",
     .emit = line_errors},
    {.name = "linkyd_meter_frames_interrupted_total",
     .type = "counter",
     .help = "Frames cut short (EOT, a new STX, a reopened line).",
     .emit = line_interrupted},
    {.name = "linkyd_meter_read_bytes_total",
     .type = "counter",
     .help = "Bytes read from the line.",
     .emit = line_bytes},
    {.name = "linkyd_meter_reconnects_total",
     .type = "counter",
     .help = "Times a network source was reopened after a loss or a silence.",
     .emit = line_reconnects},
    {.name = "linkyd_meter_index_rejected_total",
     .type = "counter",
     .help = "Energy index values the index guard rejected.",
     .emit = index_rejected},
    {.name = "linkyd_meter_line_state",
     .type = "gauge",
     .help = "The line's state: 1 for the current one.",
     .emit = line_state},
    {.name = "linkyd_meter_mode",
     .type = "gauge",
     .help = "The mode of the last frame: 1 for the current one.",
     .emit = line_mode},
    {.name = "linkyd_meter_baud",
     .type = "gauge",
     .help = "The speed the line is read at (0: a network source).",
     .emit = line_baud},
    {.name = "linkyd_meter_last_frame_age_seconds",
     .type = "gauge",
     .help = "Seconds since the last valid frame.",
     .emit = frame_age},
    {.name = "linkyd_meter_last_frame_timestamp_seconds",
     .type = "gauge",
     .help = "Wall-clock time of the last valid frame.",
     .emit = frame_time},
    {.name = "linkyd_meter_index_wh_total",
     .type = "counter",
     .help = "Energy indexes as the meter sends them (Wh).",
     .emit = indexes,
     .unit = "Wh"},
    {.name = "linkyd_meter_index_varh_total",
     .type = "counter",
     .help = "Reactive energy indexes as the meter sends them (varh).",
     .emit = indexes,
     .unit = "VArh"},
    {.name = "linkyd_meter_apparent_power_va",
     .type = "gauge",
     .help = "Apparent power drawn (PAPP, SINSTS).",
     .emit = apparent_power},
    {.name = "linkyd_meter_injected_apparent_power_va",
     .type = "gauge",
     .help = "Apparent power injected (SINSTI).",
     .emit = injected_power},
    {.name = "linkyd_meter_current_amperes",
     .type = "gauge",
     .help = "RMS current per phase (IINST, IRMS).",
     .emit = currents},
    {.name = "linkyd_meter_voltage_volts",
     .type = "gauge",
     .help = "RMS voltage per phase (URMS).",
     .emit = voltages},
    {.name = "linkyd_meter_active_power_watts",
     .type = "gauge",
     .help = "Active power drawn, estimated from the index steps (derived).",
     .emit = active_power},
    {.name = "linkyd_meter_injected_active_power_watts",
     .type = "gauge",
     .help = "Active power injected, estimated from EAIT's steps (derived).",
     .emit = injected_active_power},
    {.name = "linkyd_mqtt_connected",
     .type = "gauge",
     .help = "1 while the meter's MQTT client is connected.",
     .emit = mqtt_connected},
    {.name = "linkyd_mqtt_queue_messages",
     .type = "gauge",
     .help = "Messages waiting in the meter's MQTT queue.",
     .emit = mqtt_pending},
    {.name = "linkyd_mqtt_sent_messages_total",
     .type = "counter",
     .help = "Messages the broker took.",
     .emit = mqtt_sent},
    {.name = "linkyd_mqtt_dropped_messages_total",
     .type = "counter",
     .help = "Frames never sent because the queue was full.",
     .emit = mqtt_dropped},
};

void
metrics_text(const struct http_site *site, uint64_t now_ms, struct http_buf *b)
{
	size_t n = state_store_count(site->store);

	buf_puts(b, "# HELP linkyd_build_info linkyd's version.\n# TYPE linkyd_build_info gauge\n"
	            "linkyd_build_info{version=\"" LINKYD_VERSION "\"} 1\n");
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const struct family *fam = &families[f];

		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
		           fam->type);
		for (size_t i = 0; i < n; i++)
			fam->emit(fam, state_store_at(site->store, i), now_ms, b);
	}
}
