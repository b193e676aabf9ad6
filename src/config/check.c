/* SPDX-License-Identifier: MIT */
/*
 * The checks that no single row can make: meters apart from each other (names, inputs, topics,
 * client ids), settings that need or exclude others, and the publish pauses Home Assistant would
 * take for an unavailable meter.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config-internal.h"

/* Whether topic t is base or a level below it: where linkyd publishes for a meter of base. */
static bool
topic_within(const char *t, const char *base)
{
	size_t n = strlen(base);

	return strncmp(t, base, n) == 0 && (t[n] == '\0' || t[n] == '/');
}

/* "<path>.<name>" in key, PATH_SIZE bytes. */
static const char *
member(char *key, const char *path, const char *name)
{
	(void) snprintf(key, PATH_SIZE, "%s", path);
	cfg_path_push(key, PATH_SIZE, name);
	return key;
}

/* Meter i against those before it, then against Home Assistant's prefix. */
static int
check_meter(const struct linkyd_config *c, size_t i, struct problem *p)
{
	const struct meter_config *m = &c->meters[i];
	char path[PATH_SIZE], key[PATH_SIZE];
	int r;

	(void) snprintf(path, sizeof(path), "meters[%zu]", i);
	r = input_check(m, path, p);
	if (r < 0)
		return r;
	for (size_t j = 0; j < i; j++) {
		const struct meter_config *o = &c->meters[j];

		if (input_same(&m->input, &o->input) && !input_shared(&m->input))
			return cfg_blame(p, member(key, path, "input"),
			                 "'%s' is already the input of meters[%zu]",
			                 input_key(&m->input), j);
		/* A frame is handed to the meter of the module's id: one meter per module. */
		if (m->d2l_id && o->d2l_id && strcmp(m->d2l_id, o->d2l_id) == 0)
			return cfg_blame(p, member(key, path, "d2l_id"),
			                 "'%s' is already the d2l_id of meters[%zu]", m->d2l_id, j);
		if (strcmp(m->name, o->name) == 0)
			return cfg_blame(p, member(key, path, "name"),
			                 "'%s' is already the name of meters[%zu]", m->name, j);
		/* Its status, mode, diagnostics, derived values and labels go below each topic. */
		if (strcmp(m->topic, o->topic) == 0)
			return cfg_blame(p, member(key, path, "topic"),
			                 "'%s' is already the topic of meters[%zu]", m->topic, j);
		if (topic_within(m->topic, o->topic) || topic_within(o->topic, m->topic))
			return cfg_blame(p, member(key, path, "topic"),
			                 "'%s' and '%s', the topic of meters[%zu]: expected topics "
			                 "neither of which is below the other",
			                 m->topic, o->topic, j);
		if (strcmp(m->client_id, o->client_id) == 0)
			return cfg_blame(
			    p, path,
			    "client id '%s' is already meters[%zu]'s: expected another "
			    "mqtt.client_id",
			    m->client_id, j);
	}
	if (c->ha.discovery && topic_within(m->topic, c->ha.prefix))
		return cfg_blame(
		    p, member(key, path, "topic"),
		    "'%s' is below homeassistant.prefix '%s': expected a topic outside "
		    "Home Assistant's discovery",
		    m->topic, c->ha.prefix);
	return 0;
}

static int
check_mqtt(const struct linkyd_config *c, struct problem *p)
{
	const struct mqtt_config *m = &c->mqtt;
	bool tls = false;

	if (m->password && m->password_file)
		return cfg_blame(p, "mqtt.password_file",
		                 "expected mqtt.password or mqtt.password_file, not both "
		                 "(mqtt.password is at %s)",
		                 config_where(c, "mqtt.password") ? config_where(c, "mqtt.password")
		                                                  : "its default");
	/* MQTT 3.1.1 §3.1.2.9: no password flag without the user name flag. */
	if ((m->password || m->password_file) && !m->username)
		return cfg_blame(p, m->password ? "mqtt.password" : "mqtt.password_file",
		                 "expected mqtt.username too");
	if (m->cert_file && !m->key_file)
		return cfg_blame(p, "mqtt.cert_file", "expected mqtt.key_file too");
	if (m->key_file && !m->cert_file)
		return cfg_blame(p, "mqtt.key_file", "expected mqtt.cert_file too");
	/* Silently ignoring TLS files on a plain connection would send the password in clear. */
	(void) cfg_url_valid(m->url, &tls);
	if (!tls && (m->ca_file || m->cert_file))
		return cfg_blame(p, m->ca_file ? "mqtt.ca_file" : "mqtt.cert_file",
		                 "expected an mqtts:// mqtt.url to use it");
	return 0;
}

/* The longest a meter's frames may pause under policy, 0 for every frame. */
static unsigned
policy_gap(const struct policy *pol)
{
	return pol->kind == PUBLISH_INTERVAL    ? pol->interval
	       : pol->kind == PUBLISH_ON_CHANGE ? pol->heartbeat
	                                        : 0;
}

/* Home Assistant marks the sensors unavailable after expire_after seconds without a frame: a
 * policy that pauses longer would make a healthy meter flicker. */
static int
check_expiry(const struct linkyd_config *c, struct problem *p)
{
	int expire = c->ha.expire_after;
	unsigned gap = policy_gap(&c->publish.policy);
	char path[PATH_SIZE];

	if (!c->ha.discovery || expire == 0)
		return 0;
	if (gap >= (unsigned) expire)
		return cfg_blame(p,
		                 c->publish.policy.kind == PUBLISH_INTERVAL ? "publish.interval"
		                                                            : "publish.heartbeat",
		                 "%u s: expected less than homeassistant.expire_after (%d s), or "
		                 "Home Assistant shows the meter unavailable between frames",
		                 gap, expire);
	for (size_t i = 0; i < c->n_meters; i++) {
		gap = policy_gap(&c->meters[i].publish.policy);
		(void) snprintf(path, sizeof(path), "meters[%zu].publish", i);
		if (gap >= (unsigned) expire)
			return cfg_blame(p, path,
			                 "a pause of %u s between frames: expected less than "
			                 "homeassistant.expire_after (%d s)",
			                 gap, expire);
	}
	return 0;
}

/* Whether name is a meter's. */
static bool
meter_named(const struct linkyd_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_meters; i++)
		if (strcmp(c->meters[i].name, name) == 0)
			return true;
	return false;
}

static int
check_http(const struct linkyd_config *c, struct problem *p)
{
	const struct http_config *h = &c->http;
	const char *inputs[] = {h->teleinfo1, h->teleinfo2};

	if (h->password && h->password_file)
		return cfg_blame(p, "http.password_file",
		                 "expected http.password or http.password_file, not both");
	if ((h->password || h->password_file) && !h->username)
		return cfg_blame(p, h->password ? "http.password" : "http.password_file",
		                 "expected http.username too");
	/* A user without a password would let anyone in who knows the name. */
	if (h->username && !h->password && !h->password_file)
		return cfg_blame(p, "http.username",
		                 "expected http.password or http.password_file too");
	for (int i = 0; i < 2; i++)
		if (inputs[i] && !meter_named(c, inputs[i]))
			return cfg_blame(p, i ? "http.teleinfo2" : "http.teleinfo1",
			                 "'%s': expected the name of a meter", inputs[i]);
	if (h->teleinfo1 && h->teleinfo2 && strcmp(h->teleinfo1, h->teleinfo2) == 0)
		return cfg_blame(p, "http.teleinfo2",
		                 "'%s' is already http.teleinfo1: expected another meter",
		                 h->teleinfo2);
	return 0;
}

int
cfg_check(const struct linkyd_config *c, struct problem *p)
{
	int r = 0;

	for (size_t i = 0; i < c->n_meters && r == 0; i++)
		r = check_meter(c, i, p);
	if (r == 0)
		r = check_mqtt(c, p);
	if (r == 0)
		r = check_expiry(c, p);
	if (r == 0)
		r = check_http(c, p);
	return r;
}
