/* SPDX-License-Identifier: MIT */
/*
 * linkyd's configuration: built-in defaults, the -i inputs of the command line, the checks that
 * stop a bad value before the daemon starts, and the helpers that read.c and print.c share.
 * Nothing here logs: each error is one "FILE:LINE: key: message" line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

#define DEFAULT_KEEPALIVE 30
#define DEFAULT_QOS       1
#define SERIAL_PREFIX     "serial:"

const char *const cfg_level_names[3] = {"notice", "info", "debug"};

/* ---- small helpers ------------------------------------------------------------------------ */

int
cfg_errorf(char *err, size_t size, const char *file, unsigned line, const char *fmt, ...)
{
	size_t len = 0;
	va_list ap;
	int n = 0;

	if (!err || size == 0)
		return -EINVAL;
	if (file && line)
		n = snprintf(err, size, "%s:%u: ", file, line);
	else if (file)
		n = snprintf(err, size, "%s: ", file);
	if (n > 0)
		len = (size_t) n < size ? (size_t) n : size - 1;
	va_start(ap, fmt);
	(void) vsnprintf(err + len, size - len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
cfg_set_str(char **field, const char *s)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

void
cfg_free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

int
cfg_strv_copy(char ***dst, const char *const *src, size_t n)
{
	*dst = NULL;
	if (n == 0)
		return 0;
	*dst = calloc(n, sizeof(**dst));
	if (!*dst)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (cfg_set_str(&(*dst)[i], src[i]) < 0) {
			cfg_strv_free(*dst, n);
			*dst = NULL;
			return -ENOMEM;
		}
	return 0;
}

void
cfg_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void
cfg_meters_free(struct meter_config *meters, size_t n)
{
	for (size_t i = 0; meters && i < n; i++) {
		free(meters[i].name);
		free(meters[i].device);
		free(meters[i].topic);
		cfg_publish_free(&meters[i].publish);
		cfg_strv_free(meters[i].tariff_names, meters[i].n_tariff_names);
		cfg_strv_free(meters[i].distributor_names, meters[i].n_distributor_names);
	}
	free(meters);
}

/* The device of an input spec: "serial:/dev/ttyAMA0" or a bare path. NULL for an empty one or
 * another kind of input ("tcp:..."), so that a future scheme is never opened as a file name. A
 * colon after a slash is part of a path (/dev/serial/by-path/...-usb-0:1.3:1.0-port0). */
const char *
cfg_input_device(const char *spec)
{
	const char *p = spec;

	if (strncmp(spec, SERIAL_PREFIX, strlen(SERIAL_PREFIX)) == 0) {
		spec += strlen(SERIAL_PREFIX);
	} else {
		while (*p && *p != '/' && *p != ':')
			p++;
		if (*p == ':')
			return NULL;
	}
	return *spec ? spec : NULL;
}

/* mqtt://host[:port] or mqtts://host[:port], host a name, an IPv4 or a bracketed IPv6 address.
 * Credentials and paths are refused: they have their own settings, or no meaning. */
bool
cfg_url_valid(const char *url, bool *ret_tls)
{
	const char *p;
	bool tls;

	if (strncmp(url, "mqtt://", 7) == 0) {
		p = url + 7;
		tls = false;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		p = url + 8;
		tls = true;
	} else {
		return false;
	}
	if (*p == '[') {
		size_t n = strspn(p + 1, "0123456789abcdefABCDEF:.");

		if (n == 0 || p[1 + n] != ']')
			return false;
		p += n + 2;
	} else {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                     "0123456789.-_");

		if (n == 0)
			return false;
		p += n;
	}
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");
		long port = n && n <= 5 ? strtol(p + 1, NULL, 10) : 0;

		if (port < 1 || port > 65535)
			return false;
		p += n + 1;
	}
	if (*p)
		return false;
	if (ret_tls)
		*ret_tls = tls;
	return true;
}

/* A topic frames are published on: wildcards are for subscribers only. */
static bool
topic_valid(const char *t)
{
	return *t && !strpbrk(t, "+#");
}

char *
cfg_default_topic(const char *name, size_t n_meters)
{
	char *t;

	if (n_meters == 1)
		return strdup(CONFIG_DEFAULT_TOPIC);
	if (asprintf(&t, "%s/%s", CONFIG_DEFAULT_TOPIC, name) < 0)
		return NULL;
	return t;
}

int
cfg_copy(struct linkyd_config *dst, const struct linkyd_config *src)
{
	const struct mqtt_config *m = &src->mqtt;
	struct mqtt_config *d = &dst->mqtt;

	memset(dst, 0, sizeof(*dst));
	dst->format = src->format;
	dst->verbosity = src->verbosity;
	dst->anonymise = src->anonymise;
	d->verify_hostname = m->verify_hostname;
	d->keepalive = m->keepalive;
	d->qos = m->qos;
	d->retain = m->retain;
	d->queue_frames = m->queue_frames;
	dst->ha.discovery = src->ha.discovery;
	dst->ha.expire_after = src->ha.expire_after;
	if (cfg_set_str(&dst->ha.prefix, src->ha.prefix) < 0 ||
	    cfg_set_str(&dst->anonymise_key, src->anonymise_key) < 0 ||
	    cfg_set_str(&dst->state_dir, src->state_dir) < 0 ||
	    cfg_publish_copy(&dst->publish, &src->publish) < 0)
		goto out_done;
	if (src->n_meters) {
		dst->meters = calloc(src->n_meters, sizeof(*dst->meters));
		if (!dst->meters)
			return -ENOMEM;
		dst->n_meters = src->n_meters;
	}
	for (size_t i = 0; i < src->n_meters; i++) {
		dst->meters[i].mode = src->meters[i].mode;
		if (cfg_set_str(&dst->meters[i].name, src->meters[i].name) < 0 ||
		    cfg_set_str(&dst->meters[i].device, src->meters[i].device) < 0 ||
		    cfg_set_str(&dst->meters[i].topic, src->meters[i].topic) < 0 ||
		    cfg_publish_copy(&dst->meters[i].publish, &src->meters[i].publish) < 0)
			goto out_done;
		dst->meters[i].n_tariff_names = src->meters[i].n_tariff_names;
		dst->meters[i].n_distributor_names = src->meters[i].n_distributor_names;
		if (cfg_strv_copy(&dst->meters[i].tariff_names,
		                  (const char *const *) src->meters[i].tariff_names,
		                  src->meters[i].n_tariff_names) < 0 ||
		    cfg_strv_copy(&dst->meters[i].distributor_names,
		                  (const char *const *) src->meters[i].distributor_names,
		                  src->meters[i].n_distributor_names) < 0)
			goto out_done;
	}
	if (cfg_set_str(&d->url, m->url) < 0 || cfg_set_str(&d->client_id, m->client_id) < 0 ||
	    cfg_set_str(&d->username, m->username) < 0 ||
	    cfg_set_str(&d->password, m->password) < 0 ||
	    cfg_set_str(&d->ca_file, m->ca_file) < 0 ||
	    cfg_set_str(&d->cert_file, m->cert_file) < 0 ||
	    cfg_set_str(&d->key_file, m->key_file) < 0)
		goto out_done;
	return 0;

out_done:
	config_done(dst);
	return -ENOMEM;
}

/* ---- whole-configuration checks ----------------------------------------------------------- */

static int __attribute__((format(printf, 5, 6)))
blame(struct problem *p, int meter, const char *key, const char *alt, const char *fmt, ...)
{
	va_list ap;

	p->meter = meter;
	p->key = key;
	p->alt = alt;
	va_start(ap, fmt);
	(void) vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool
empty(const char *s)
{
	return s && !*s;
}

static int
check_meters(const struct linkyd_config *c, struct problem *p)
{
	if (c->n_meters == 0)
		return blame(p, -1, "meters", NULL, "expected at least one meter");
	for (size_t i = 0; i < c->n_meters; i++) {
		const struct meter_config *m = &c->meters[i];
		int k = (int) i;

		if (!m->name || !*m->name)
			return blame(p, k, "name", NULL, "expected " EXPECT_STRING);
		if (!m->device || !*m->device)
			return blame(p, k, "input", NULL, "expected " EXPECT_INPUT);
		if (!m->topic || !topic_valid(m->topic))
			return blame(p, k, "topic", NULL,
			             "expected a non-empty topic without wildcards (+, #)");
		/* Each meter owns its device, its topic and its name (client id, logs). */
		for (size_t j = 0; j < i; j++) {
			const struct meter_config *o = &c->meters[j];

			if (strcmp(m->name, o->name) == 0)
				return blame(p, k, "name", NULL,
				             "'%s' is already the name of meters[%zu]", m->name, j);
			if (strcmp(m->device, o->device) == 0)
				return blame(p, k, "input", NULL,
				             "'%s' is already the input of meters[%zu]", m->device,
				             j);
			if (strcmp(m->topic, o->topic) == 0)
				return blame(p, k, "topic", NULL,
				             "'%s' is already the topic of meters[%zu]", m->topic,
				             j);
		}
	}
	return 0;
}

static int
check_mqtt(const struct mqtt_config *m, struct problem *p)
{
	bool tls = false;

	if (!m->url || !cfg_url_valid(m->url, &tls))
		return blame(p, -1, "mqtt.url", NULL, "expected " EXPECT_URL);
	if (empty(m->client_id))
		return blame(p, -1, "mqtt.client_id", NULL, "expected " EXPECT_STRING);
	if (empty(m->username))
		return blame(p, -1, "mqtt.username", NULL, "expected " EXPECT_STRING);
	if (empty(m->password))
		return blame(p, -1, "mqtt.password", "mqtt.password_file",
		             "expected " EXPECT_STRING);
	/* MQTT 3.1.1 §3.1.2.9: no password flag without the user name flag. */
	if (m->password && !m->username)
		return blame(p, -1, "mqtt.password", "mqtt.password_file",
		             "expected mqtt.username too");
	if (empty(m->ca_file))
		return blame(p, -1, "mqtt.ca_file", NULL, "expected " EXPECT_STRING);
	if (empty(m->cert_file))
		return blame(p, -1, "mqtt.cert_file", NULL, "expected " EXPECT_STRING);
	if (empty(m->key_file))
		return blame(p, -1, "mqtt.key_file", NULL, "expected " EXPECT_STRING);
	if (m->cert_file && !m->key_file)
		return blame(p, -1, "mqtt.cert_file", NULL, "expected mqtt.key_file too");
	if (m->key_file && !m->cert_file)
		return blame(p, -1, "mqtt.key_file", NULL, "expected mqtt.cert_file too");
	/* Silently ignoring TLS files on a plain connection would send the password in clear. */
	if (!tls && (m->ca_file || m->cert_file)) {
		const char *key = m->ca_file ? "mqtt.ca_file" : "mqtt.cert_file";

		return blame(p, -1, key, NULL, "expected an mqtts:// mqtt.url to use it");
	}
	if (m->keepalive < KEEPALIVE_MIN || m->keepalive > KEEPALIVE_MAX)
		return blame(p, -1, "mqtt.keepalive", NULL, "expected " EXPECT_KEEPALIVE);
	if (m->qos < 0 || m->qos > 2)
		return blame(p, -1, "mqtt.qos", NULL, "expected " EXPECT_QOS);
	if (m->queue_frames < 1 || m->queue_frames > QUEUE_MAX)
		return blame(p, -1, "mqtt.queue", NULL, "expected " EXPECT_QUEUE);
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

	if (!c->ha.discovery || expire == 0)
		return 0;
	if (gap >= (unsigned) expire)
		return blame(p, -1,
		             c->publish.policy.kind == PUBLISH_INTERVAL ? "publish.interval"
		                                                        : "publish.heartbeat",
		             "publish.policy",
		             "%u s: expected less than homeassistant.expire_after (%d s), or Home "
		             "Assistant shows the meter unavailable between frames",
		             gap, expire);
	for (size_t i = 0; i < c->n_meters; i++) {
		gap = policy_gap(&c->meters[i].publish.policy);
		if (gap >= (unsigned) expire)
			return blame(p, (int) i, "publish", NULL,
			             "a pause of %u s between frames: expected less than "
			             "homeassistant.expire_after (%d s)",
			             gap, expire);
	}
	return 0;
}

int
cfg_check(const struct linkyd_config *c, struct problem *p)
{
	int r = check_meters(c, p);

	if (r == 0)
		r = check_mqtt(&c->mqtt, p);
	if (r == 0 && c->format != JSON_FORMAT_TYPED && c->format != JSON_FORMAT_RAW)
		r = blame(p, -1, "publish.format", NULL, "expected " EXPECT_FORMAT);
	if (r == 0 && (!c->ha.prefix || !topic_valid(c->ha.prefix)))
		r = blame(p, -1, "homeassistant.prefix", NULL, "expected " EXPECT_PREFIX);
	if (r == 0 && (c->ha.expire_after < 0 || c->ha.expire_after > EXPIRE_MAX))
		r = blame(p, -1, "homeassistant.expire_after", NULL, "expected " EXPECT_EXPIRE);
	if (r == 0)
		r = check_expiry(c, p);
	return r;
}

void
cfg_problem_key(const struct problem *p, char *buf, size_t size)
{
	if (p->meter >= 0)
		(void) snprintf(buf, size, "meters[%d].%s", p->meter, p->key);
	else
		(void) snprintf(buf, size, "%s", p->key);
}

/* ---- the API ------------------------------------------------------------------------------ */

int
config_defaults(struct linkyd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->meters = calloc(1, sizeof(*c->meters));
	if (!c->meters)
		return -ENOMEM;
	c->n_meters = 1;
	c->meters[0].mode = TIC_MODE_UNKNOWN;
	c->mqtt.verify_hostname = true;
	c->mqtt.keepalive = DEFAULT_KEEPALIVE;
	c->mqtt.qos = DEFAULT_QOS;
	c->mqtt.retain = false;
	c->mqtt.queue_frames = CONFIG_DEFAULT_QUEUE;
	c->format = JSON_FORMAT_TYPED;
	c->verbosity = 0;
	c->ha.discovery = true;
	c->ha.expire_after = CONFIG_DEFAULT_HA_EXPIRE;
	c->publish.policy = (struct policy){.kind = PUBLISH_EVERY_FRAME,
	                                    .interval = CONFIG_DEFAULT_INTERVAL,
	                                    .heartbeat = CONFIG_DEFAULT_HEARTBEAT};
	c->publish.derived = true;
	c->publish.index_guard = true;
	c->meters[0].publish = c->publish;
	if (cfg_set_str(&c->ha.prefix, CONFIG_DEFAULT_HA_PREFIX) < 0 ||
	    cfg_set_str(&c->meters[0].name, DEFAULT_NAME) < 0 ||
	    cfg_set_str(&c->meters[0].device, CONFIG_DEFAULT_INPUT) < 0 ||
	    cfg_set_str(&c->meters[0].topic, CONFIG_DEFAULT_TOPIC) < 0 ||
	    cfg_set_str(&c->mqtt.url, CONFIG_DEFAULT_URL) < 0 ||
	    cfg_set_str(&c->state_dir, CONFIG_DEFAULT_STATE_DIR) < 0) {
		config_done(c);
		return -ENOMEM;
	}
	return 0;
}

int
config_set_inputs(struct linkyd_config *c, char *const *specs, size_t n, char *err, size_t err_size)
{
	struct meter_config *meters;
	int r = 0;

	if (n == 0)
		return cfg_errorf(err, err_size, NULL, 0, "-i: expected at least one input");
	meters = calloc(n, sizeof(*meters));
	if (!meters)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct meter_config *m = &meters[i];
		const char *dev = cfg_input_device(specs[i]);
		const char *base = dev ? strrchr(dev, '/') : NULL;

		base = base ? base + 1 : dev;
		if (!dev || !*base) {
			r = cfg_errorf(err, err_size, NULL, 0,
			               "-i: expected " EXPECT_INPUT ", not '%s'", specs[i]);
			break;
		}
		for (size_t j = 0; j < i && r == 0; j++) {
			if (strcmp(dev, meters[j].device) == 0)
				r = cfg_errorf(err, err_size, NULL, 0, "-i: '%s' is given twice",
				               dev);
			else if (strcmp(base, meters[j].name) == 0)
				r = cfg_errorf(err, err_size, NULL, 0,
				               "-i: '%s' and '%s' would both be named '%s'",
				               meters[j].device, dev, base);
		}
		if (r < 0)
			break;
		m->mode = TIC_MODE_UNKNOWN;
		if (cfg_set_str(&m->device, dev) < 0 || cfg_set_str(&m->name, base) < 0 ||
		    !(m->topic = cfg_default_topic(base, n)) ||
		    cfg_publish_copy(&m->publish, &c->publish) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		cfg_meters_free(meters, n);
		return r;
	}
	cfg_meters_free(c->meters, c->n_meters);
	c->meters = meters;
	c->n_meters = n;
	return 0;
}

int
config_validate(const struct linkyd_config *c, char *err, size_t err_size)
{
	char key[KEY_SIZE];
	struct problem p;

	if (cfg_check(c, &p) == 0)
		return 0;
	cfg_problem_key(&p, key, sizeof(key));
	return cfg_errorf(err, err_size, NULL, 0, "%s: %s", key, p.msg);
}

void
config_done(struct linkyd_config *c)
{
	cfg_meters_free(c->meters, c->n_meters);
	free(c->mqtt.url);
	free(c->mqtt.client_id);
	free(c->mqtt.username);
	cfg_free_secret(c->mqtt.password);
	free(c->mqtt.ca_file);
	free(c->mqtt.cert_file);
	free(c->mqtt.key_file);
	free(c->ha.prefix);
	cfg_free_secret(c->anonymise_key);
	free(c->state_dir);
	cfg_publish_free(&c->publish);
	memset(c, 0, sizeof(*c));
}
