/* SPDX-License-Identifier: MIT */
/*
 * /status.json: every meter's line, MQTT client, latest frame (the JSON its MQTT frames carry)
 * and derived values, in one object:
 *   {"version":"0.1.0","meters":[{"name":"home","line":{"state":"ok","mode":"standard",...},
 *    "mqtt":{"connected":true,...},"frame":{...}|null,"derived":{...}|null}]}
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

static void
line_json(const struct line_status *st, const struct state_meter *m, uint64_t now_ms,
          struct http_buf *b)
{
	static const char *const modes[] = {"unknown", "historique", "standard"};
	const struct tic_stats *ts = st->stats;
	char when[32] = "";
	struct tm tm;

	buf_puts(b, "{\"state\":");
	buf_json(b, line_state_name(st->state));
	buf_printf(b, ",\"mode\":\"%s\",\"baud\":%u,\"garbage\":%s,\"source\":",
	           modes[st->mode <= TIC_MODE_STANDARD ? st->mode : 0], st->baud,
	           st->garbage ? "true" : "false");
	buf_json(b, st->source ? st->source : "");
	buf_printf(b,
	           ",\"frames\":%" PRIu64 ",\"groups\":%" PRIu64 ",\"interrupted\":%" PRIu64
	           ",\"bytes\":%" PRIu64 ",\"reconnects\":%u,\"errors\":{",
	           ts->frames, ts->groups, ts->frames_interrupted, st->bytes, st->reconnects);
	for (int i = 0; i < TIC_ERR_COUNT; i++)
		buf_printf(b, "%s\"%s\":%" PRIu64, i ? "," : "",
		           tic_err_name((enum tic_err)(-i - 1)), ts->errors[i]);
	buf_puts(b, "},\"last_frame\":");
	if (m->has_frame && gmtime_r(&m->latest.wall, &tm) &&
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf_printf(b, "\"%s\",\"last_frame_age\":%.3f", when,
		           now_ms > m->latest.mono_ms ? (double) (now_ms - m->latest.mono_ms) / 1000
		                                      : 0.0);
	else
		buf_puts(b, "null,\"last_frame_age\":null");
	buf_puts(b, "}");
}

static void
meter_json(const struct http_site *site, const struct state_meter *m, uint64_t now_ms,
           struct http_buf *b)
{
	char *room;
	int n;

	buf_puts(b, "{\"name\":");
	buf_json(b, m->name);
	buf_puts(b, ",\"line\":");
	if (m->line)
		line_json(m->line, m, now_ms, b);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"mqtt\":");
	if (m->mqtt) {
		struct mqtt_stats ms = mqtt_sink_stats(m->mqtt);

		buf_printf(b,
		           "{\"connected\":%s,\"queued\":%zu,\"sent\":%" PRIu64
		           ",\"dropped\":%" PRIu64 "}",
		           mqtt_sink_connected(m->mqtt) ? "true" : "false", ms.pending, ms.sent,
		           ms.dropped);
	} else {
		buf_puts(b, "null");
	}
	buf_printf(b,
	           ",\"frames\":%" PRIu64 ",\"index_rejected\":%" PRIu64 ",\"frame\":", m->frames,
	           m->index_rejected);
	/* Encoded in place: JSON_FRAME_MAX is always enough. */
	room = m->has_frame ? buf_room(b, JSON_FRAME_MAX) : NULL;
	n = room ? json_encode_frame(&m->latest.frame, site->cfg->format, room, JSON_FRAME_MAX)
	         : -1;
	if (n > 0)
		b->len += (size_t) n;
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"derived\":");
	if (m->derived_len)
		buf_put(b, m->derived, m->derived_len);
	else
		buf_puts(b, "null");
	buf_puts(b, "}");
}

void
status_json(const struct http_site *site, uint64_t now_ms, struct http_buf *b)
{
	buf_puts(b, "{\"version\":\"" LINKYD_VERSION "\",\"meters\":[");
	for (size_t i = 0; i < state_store_count(site->store); i++) {
		if (i)
			buf_puts(b, ",");
		meter_json(site, state_store_at(site->store, i), now_ms, b);
	}
	buf_puts(b, "]}\n");
}
