/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant discovery payloads (HA's MQTT sensor / binary_sensor schema), built with cJSON:
 * the only file that includes it, so that the frames' hot path keeps its hand-written encoder.
 * Topics: <prefix>/<component>/linkyd_<serial>/<slug>/config, one HA device per meter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "linkyd/ha.h"

#define ORIGIN_URL    "https://github.com/linkyd/linkyd"
#define TOPIC_SIZE    512
#define TEMPLATE_SIZE 256

size_t
ha_slug(const char *label, char *buf)
{
	size_t n = 0;

	for (const char *s = label; *s && n + 8 <= HA_SLUG_SIZE; s++) {
		char c = *s;

		if (c == '+' || c == '-') {
			n += (size_t) sprintf(buf + n, "%s", c == '+' ? "_plus_" : "_minus_");
		} else if (c >= 'A' && c <= 'Z') {
			buf[n++] = (char) (c - 'A' + 'a');
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
			buf[n++] = c;
		} else {
			/* Topic levels and entity ids take [a-z0-9_] only. */
			buf[n++] = '_';
		}
	}
	buf[n] = '\0';
	return n;
}

int
ha_unique_id(const char *serial, const char *slug, char *buf, size_t size)
{
	int n = snprintf(buf, size, "linkyd_%s_%s", serial, slug);

	return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

/* value_json.X, or value_json['X'] when X is not a Jinja identifier ("NJOURF+1" would parse as
 * an addition). */
static int
json_ref(const char *label, char *buf, size_t size)
{
	bool ident = label[0] && !(label[0] >= '0' && label[0] <= '9');

	for (const char *s = label; *s; s++)
		ident &= (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		         (*s >= '0' && *s <= '9') || *s == '_';
	return snprintf(buf, size, ident ? "value_json.%s" : "value_json['%s']", label);
}

static bool
is_text(const struct tic_label *def)
{
	return !def || (!def->ha_class && !def->ha_unit && !def->ha_state);
}

int
ha_value_template(const struct ha_label *l, char *buf, size_t size)
{
	const struct tic_label *def = l->def;
	char ref[TIC_LABEL_MAX + 16];
	int n;

	(void) json_ref(l->label, ref, sizeof(ref));
	if (def && def->format == TIC_FMT_EMPTY)
		n = snprintf(buf, size, "{{ %s.date }}", ref);
	else if (def && (def->format == TIC_FMT_STGE || def->format == TIC_FMT_PROFILE))
		n = snprintf(buf, size, "{{ %s.raw }}", ref);
	else if (l->horodated || (def && def->format == TIC_FMT_RELAIS))
		n = snprintf(buf, size, "{{ %s.value }}", ref);
	else if (def && def->ha_scale > 1)
		n = snprintf(buf, size, "{{ %s * %u }}", ref, (unsigned) def->ha_scale);
	else if (def && (def->flags & TIC_LF_ALARM))
		/* Absent means no alarm: 0, not an unknown state. */
		n = snprintf(buf, size, "{{ %s | default(0) }}", ref);
	else if (is_text(def))
		/* A short frame (ADIRx) lacks most labels: keep the text. Numeric sensors need no
		 * such guard: HA ignores an empty rendering for them. */
		n = snprintf(buf, size, "{{ %s | default(this.state) }}", ref);
	else
		n = snprintf(buf, size, "{{ %s }}", ref);
	return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

/* ---- payloads ----------------------------------------------------------------------------- */

static void
add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

static cJSON *
device_block(const struct ha_device *dev)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *ids = cJSON_AddArrayToObject(d, "identifiers");
	char buf[HA_SERIAL_SIZE + 16];

	snprintf(buf, sizeof(buf), "linkyd_%s", dev->serial);
	cJSON_AddItemToArray(ids, cJSON_CreateString(buf));
	snprintf(buf, sizeof(buf), "Linky %s", dev->serial);
	add_str(d, "name", buf);
	add_str(d, "manufacturer", "Enedis");
	add_str(d, "model",
	        dev->mode == TIC_MODE_STANDARD ? "Linky (standard)" : "Linky (historique)");
	add_str(d, "serial_number", dev->serial);
	add_str(d, "sw_version", LINKYD_VERSION);
	return d;
}

/* What every entity of the device carries. */
static cJSON *
entity(const struct ha_device *dev, const char *slug, const char *name, const char *state_topic)
{
	cJSON *o = cJSON_CreateObject(), *origin;
	char buf[TOPIC_SIZE];

	add_str(o, "name", name);
	(void) ha_unique_id(dev->serial, slug, buf, sizeof(buf));
	add_str(o, "unique_id", buf);
	add_str(o, "state_topic", state_topic);
	snprintf(buf, sizeof(buf), "%s/status", dev->topic);
	add_str(o, "availability_topic", buf);
	cJSON_AddNumberToObject(o, "qos", 1);
	cJSON_AddItemToObject(o, "device", device_block(dev));
	origin = cJSON_AddObjectToObject(o, "o");
	add_str(origin, "name", "linkyd");
	add_str(origin, "sw", LINKYD_VERSION);
	add_str(origin, "url", ORIGIN_URL);
	return o;
}

/* Publish o (consumed) on its config topic, or the empty payload that deletes it. */
static int
send(const struct ha_device *dev, const char *component, const char *slug, cJSON *o, bool remove,
     ha_publish_fn fn, void *ctx)
{
	char topic[TOPIC_SIZE];
	char *text = NULL;
	int r;

	if (snprintf(topic, sizeof(topic), "%s/%s/linkyd_%s/%s/config", dev->prefix, component,
	             dev->serial, slug) >= (int) sizeof(topic)) {
		cJSON_Delete(o);
		return -ENOBUFS;
	}
	if (!remove && !(text = cJSON_PrintUnformatted(o))) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	cJSON_Delete(o);
	r = fn(topic, remove ? "" : text, remove ? 0 : strlen(text), ctx);
	free(text);
	return r;
}

/* A sub-entity of STGE: a field of the decoded object. */
struct stge_field {
	const char *slug, *name, *field;
	bool binary, diagnostic;
	const char *device_class;
};

static const struct stge_field stge_fields[] = {
    {"stge_overload", "Overload", "overload", true, false, "problem"},
    {"stge_overvoltage", "Over-voltage", "overvoltage", true, false, "problem"},
    {"stge_clock_degraded", "Clock degraded", "clock_degraded", true, true, "problem"},
    {"stge_tempo_today", "Tempo colour today", "tempo_today", false, false, NULL},
    {"stge_tempo_tomorrow", "Tempo colour tomorrow", "tempo_tomorrow", false, false, NULL},
    {"stge_supplier_index", "Supplier tariff index", "supplier_index", false, false, NULL},
};

static int
publish_stge_fields(const struct ha_device *dev, bool remove, ha_publish_fn fn, void *ctx)
{
	int first = 0;

	for (size_t i = 0; i < sizeof(stge_fields) / sizeof(stge_fields[0]); i++) {
		const struct stge_field *f = &stge_fields[i];
		cJSON *o = entity(dev, f->slug, f->name, dev->topic);
		char tpl[TEMPLATE_SIZE];
		int r;

		if (f->binary)
			snprintf(tpl, sizeof(tpl), "{{ 'ON' if value_json.STGE.%s else 'OFF' }}",
			         f->field);
		else
			snprintf(tpl, sizeof(tpl), "{{ value_json.STGE.%s }}", f->field);
		add_str(o, "value_template", tpl);
		add_str(o, "device_class", f->device_class);
		if (f->diagnostic)
			add_str(o, "entity_category", "diagnostic");
		if (dev->expire_after > 0)
			cJSON_AddNumberToObject(o, "expire_after", dev->expire_after);
		r = send(dev, f->binary ? "binary_sensor" : "sensor", f->slug, o, remove, fn, ctx);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}

int
ha_publish_label(const struct ha_device *dev, const struct ha_label *l, bool remove,
                 ha_publish_fn fn, void *ctx)
{
	const struct tic_label *def = l->def;
	char slug[HA_SLUG_SIZE], tpl[TEMPLATE_SIZE];
	cJSON *o;
	int r;

	(void) ha_slug(l->label, slug);
	o = entity(dev, slug, def ? def->description : l->label, dev->topic);
	if (ha_value_template(l, tpl, sizeof(tpl)) < 0) {
		cJSON_Delete(o);
		return -ENOBUFS;
	}
	add_str(o, "value_template", tpl);
	if (def && def->format == TIC_FMT_EMPTY) {
		add_str(o, "device_class", "timestamp");
	} else if (def) {
		add_str(o, "device_class", def->ha_class);
		add_str(o, "state_class", def->ha_state);
		add_str(o, "unit_of_measurement", def->ha_unit);
	}
	if (def && def->format == TIC_FMT_STGE) {
		add_str(o, "json_attributes_topic", dev->topic);
		add_str(o, "json_attributes_template", "{{ value_json.STGE | tojson }}");
	}
	if (def && (def->flags & TIC_LF_DIAGNOSTIC))
		add_str(o, "entity_category", "diagnostic");
	if (dev->expire_after > 0)
		cJSON_AddNumberToObject(o, "expire_after", dev->expire_after);
	r = send(dev, "sensor", slug, o, remove, fn, ctx);
	if (def && def->format == TIC_FMT_STGE) {
		int r2 = publish_stge_fields(dev, remove, fn, ctx);

		r = r < 0 ? r : r2;
	}
	return r;
}

/* The line's health, from the JSON the meter publishes on <topic>/diagnostics every minute. */
struct diag {
	const char *slug, *name, *field, *device_class, *state_class, *unit;
};

static const struct diag diags[] = {
    {"diag_mode", "TIC mode", "mode", NULL, NULL, NULL},
    {"diag_speed", "TIC speed", "speed", NULL, NULL, "Bd"},
    {"diag_frames_per_minute", "Frames per minute", "frames_per_minute", NULL, "measurement",
     "frames/min"},
    {"diag_checksum_errors", "Checksum errors", "checksum_errors", NULL, "total_increasing", NULL},
    {"diag_format_errors", "Format errors", "format_errors", NULL, "total_increasing", NULL},
    {"diag_last_frame", "Last frame", "last_frame", "timestamp", NULL, NULL},
    {"diag_last_frame_age", "Last frame age", "last_frame_age", "duration", "measurement", "s"},
};

int
ha_publish_entity(const struct ha_device *dev, const struct ha_entity *e, bool remove,
                  ha_publish_fn fn, void *ctx)
{
	cJSON *o = entity(dev, e->slug, e->name, e->state_topic);

	add_str(o, "value_template", e->value_template);
	add_str(o, "device_class", e->device_class);
	add_str(o, "state_class", e->state_class);
	add_str(o, "unit_of_measurement", e->unit);
	add_str(o, "last_reset_value_template", e->last_reset_template);
	if (e->options) {
		cJSON *a = cJSON_AddArrayToObject(o, "options");

		for (const char *const *p = e->options; *p; p++)
			cJSON_AddItemToArray(a, cJSON_CreateString(*p));
	}
	if (e->diagnostic)
		add_str(o, "entity_category", "diagnostic");
	if (e->expire && dev->expire_after > 0)
		cJSON_AddNumberToObject(o, "expire_after", dev->expire_after);
	return send(dev, e->component, e->slug, o, remove, fn, ctx);
}

int
ha_publish_diagnostics(const struct ha_device *dev, bool remove, ha_publish_fn fn, void *ctx)
{
	char topic[TOPIC_SIZE], tpl[TEMPLATE_SIZE];
	int first = 0;

	snprintf(topic, sizeof(topic), "%s/diagnostics", dev->topic);
	for (size_t i = 0; i < sizeof(diags) / sizeof(diags[0]); i++) {
		const struct diag *g = &diags[i];
		/* No expire_after: published once a minute, and availability covers a dead daemon.
		 */
		struct ha_entity e = {.component = "sensor",
		                      .slug = g->slug,
		                      .name = g->name,
		                      .state_topic = topic,
		                      .value_template = tpl,
		                      .device_class = g->device_class,
		                      .state_class = g->state_class,
		                      .unit = g->unit,
		                      .diagnostic = true};
		int r;

		snprintf(tpl, sizeof(tpl), "{{ value_json.%s }}", g->field);
		r = ha_publish_entity(dev, &e, remove, fn, ctx);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
