/* SPDX-License-Identifier: MIT */
/*
 * Home Assistant discovery payloads (HA's MQTT sensor / binary_sensor schema), built with cJSON:
 * the only file that includes it, so that the frames' hot path keeps its hand-written encoder.
 * Topics: <prefix>/<component>/linkyd_<serial>/<slug>/config, one HA device per meter.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "linkyd/ha.h"
#include "linkyd/topics.h"

#define ORIGIN_URL "https://github.com/linkyd/linkyd"

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

/* ---- templates ---------------------------------------------------------------------------- */

/* Appending to a fixed buffer; a write that does not fit marks it full. */
struct text {
	char *buf;
	size_t size, len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= t->size - t->len)
		t->full = true;
	else
		t->len += (size_t) n;
}

/* A Jinja identifier can follow a dot; "NJOURF+1" would parse as an addition and "1" as a
 * number, so they go in brackets. */
static bool
is_identifier(const char *key)
{
	if (!key[0] || (key[0] >= '0' && key[0] <= '9'))
		return false;
	for (const char *s = key; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

const char *
ha_absent(const char *device_class, const char *state_class, const char *unit)
{
	static const char *const non_numeric[] = {"timestamp", "date", "enum"};

	for (size_t i = 0; device_class && i < sizeof(non_numeric) / sizeof(non_numeric[0]); i++)
		if (strcmp(device_class, non_numeric[i]) == 0)
			return HA_ABSENT_KEEP;
	return state_class || unit || device_class ? HA_ABSENT_IGNORED : HA_ABSENT_KEEP;
}

int
ha_guarded(char *buf, size_t size, const char *const *keys, size_t n, const char *pre,
           const char *post, const char *absent)
{
	char ref[HA_TEMPLATE_SIZE], defined[HA_TEMPLATE_SIZE];
	struct text r = {.buf = ref, .size = sizeof(ref)};
	struct text d = {.buf = defined, .size = sizeof(defined)};
	struct text out = {.buf = buf, .size = size};

	text_add(&r, "value_json");
	for (size_t i = 0; i < n; i++) {
		bool dot = is_identifier(keys[i]);

		text_add(&r, dot ? ".%s" : "['%s']", keys[i]);
		/* Domoticz reads the value from what comes before the first "if value_json."
		 * (MQTTAutoDiscover.cpp, CleanValueTemplate()), so the condition starts with
		 * "value_json." even for a label in brackets: get() is None only for a missing
		 * label, as no label's value is null. */
		if (i == 0 && !dot)
			text_add(&d, "value_json.get('%s') is not none", keys[i]);
		else
			text_add(&d, "%s%s is defined", i > 0 ? " and " : "", ref);
	}
	text_add(&out, "%s%s%s if %s else %s", pre, ref, post, defined, absent);
	return r.full || d.full || out.full ? -ENOBUFS : (int) out.len;
}

int
ha_template(char *buf, size_t size, const char *const *keys, size_t n, const char *pre,
            const char *post, const char *absent)
{
	char expr[HA_TEMPLATE_SIZE];
	int r = ha_guarded(expr, sizeof(expr), keys, n, pre, post, absent);

	if (r < 0)
		return r;
	r = snprintf(buf, size, "{{ %s }}", expr);
	return r < 0 || (size_t) r >= size ? -ENOBUFS : r;
}

int
ha_value_template(const struct ha_label *l, char *buf, size_t size)
{
	const struct tic_label *def = l->def;
	/* An unknown label is text; DATE (TIC_FMT_EMPTY) a timestamp, see ha_publish_label(). */
	const char *absent = !def || def->format == TIC_FMT_EMPTY
	                         ? HA_ABSENT_KEEP
	                         : ha_absent(def->ha_class, def->ha_state, def->ha_unit);
	const char *keys[2] = {l->label}, *post = "";
	char scale[16];
	size_t n = 1;

	if (def && def->format == TIC_FMT_EMPTY) {
		keys[n++] = "date";
	} else if (def && (def->format == TIC_FMT_STGE || def->format == TIC_FMT_PROFILE)) {
		keys[n++] = "raw";
	} else if (l->horodated || (def && def->format == TIC_FMT_RELAIS)) {
		keys[n++] = "value";
	} else if (def && def->ha_scale > 1) {
		snprintf(scale, sizeof(scale), " * %u", (unsigned) def->ha_scale);
		post = scale;
	} else if (def && (def->flags & TIC_LF_ALARM)) {
		/* Absent means no alarm: 0, not the last overload's current. */
		absent = "0";
	}
	return ha_template(buf, size, keys, n, "", post, absent);
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
	(void) topic_of(dev->topic, TOPIC_STATUS, buf, sizeof(buf));
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

	if (topic_ha_config(dev->prefix, component, dev->serial, slug, topic, sizeof(topic)) < 0) {
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
		const char *keys[] = {"STGE", f->field};
		cJSON *o;
		char tpl[HA_TEMPLATE_SIZE];
		int r = f->binary ? ha_template(tpl, sizeof(tpl), keys, 2, "('ON' if ",
		                                " else 'OFF')", HA_ABSENT_IGNORED)
		                  : ha_template(tpl, sizeof(tpl), keys, 2, "", "", HA_ABSENT_KEEP);

		if (r < 0) {
			if (first == 0)
				first = r;
			continue;
		}
		o = entity(dev, f->slug, f->name, dev->topic);
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
	static const char *const stge[] = {"STGE"};
	const struct tic_label *def = l->def;
	char slug[HA_SLUG_SIZE], tpl[HA_TEMPLATE_SIZE], attrs[HA_TEMPLATE_SIZE];
	cJSON *o;
	int r;

	if (ha_value_template(l, tpl, sizeof(tpl)) < 0)
		return -ENOBUFS;
	/* HA replaces the attributes with whatever this renders: without STGE, the ones it has. */
	if (def && def->format == TIC_FMT_STGE) {
		char expr[HA_TEMPLATE_SIZE];

		if (ha_guarded(expr, sizeof(expr), stge, 1, "", "", "this.attributes") < 0 ||
		    snprintf(attrs, sizeof(attrs), "{{ (%s) | tojson }}", expr) >=
		        (int) sizeof(attrs))
			return -ENOBUFS;
	}
	(void) ha_slug(l->label, slug);
	o = entity(dev, slug, def ? def->description : l->label, dev->topic);
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
		add_str(o, "json_attributes_template", attrs);
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
    {"diag_mode", "TIC mode", DIAG_MODE, NULL, NULL, NULL},
    {"diag_line", "TIC line", DIAG_LINE, NULL, NULL, NULL},
    {"diag_speed", "TIC speed", DIAG_SPEED, NULL, NULL, "Bd"},
    {"diag_reconnects", "Reconnections", DIAG_RECONNECTS, NULL, "total_increasing", NULL},
    {"diag_frames_per_minute", "Frames per minute", DIAG_FRAMES_PER_MINUTE, NULL, "measurement",
     "frames/min"},
    {"diag_checksum_errors", "Checksum errors", DIAG_CHECKSUM_ERRORS, NULL, "total_increasing",
     NULL},
    {"diag_format_errors", "Format errors", DIAG_FORMAT_ERRORS, NULL, "total_increasing", NULL},
    {"diag_last_frame", "Last frame", DIAG_LAST_FRAME, "timestamp", NULL, NULL},
    {"diag_last_frame_age", "Last frame age", DIAG_LAST_FRAME_AGE, "duration", "measurement", "s"},
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
	char topic[TOPIC_SIZE], tpl[HA_TEMPLATE_SIZE];
	int first = 0;

	(void) topic_of(dev->topic, TOPIC_DIAGNOSTICS, topic, sizeof(topic));
	for (size_t i = 0; i < sizeof(diags) / sizeof(diags[0]); i++) {
		const struct diag *g = &diags[i];
		const char *keys[] = {g->field};
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
		int r = ha_template(tpl, sizeof(tpl), keys, 1, "", "",
		                    ha_absent(g->device_class, g->state_class, g->unit));

		if (r >= 0)
			r = ha_publish_entity(dev, &e, remove, fn, ctx);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
