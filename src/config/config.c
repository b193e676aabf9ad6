/* SPDX-License-Identifier: MIT */
/*
 * linkyd's configuration: built-in defaults, the file read with libconfig (the only includer of
 * <libconfig.h>), the -i inputs of the command line, and the checks that stop a bad value before
 * the daemon starts. Nothing here logs: each error is one "FILE:LINE: key: message" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "linkyd/config.h"

#define DEFAULT_NAME      "meter"
#define DEFAULT_KEEPALIVE 30
#define DEFAULT_QOS       1
#define KEEPALIVE_MIN     5
#define KEEPALIVE_MAX     3600
#define QUEUE_MAX         1000000
/* MQTT sends the password as binary data with a 16-bit length. */
#define PASSWORD_MAX  65535
#define PASSWORD_MASK "********"
#define SERIAL_PREFIX "serial:"
#define KEY_SIZE      96

#define EXPECT_INPUT     "serial:DEVICE or a device path such as /dev/ttyUSB0"
#define EXPECT_MODE      "\"auto\", \"historique\" or \"standard\""
#define EXPECT_URL       "mqtt://host[:port] or mqtts://host[:port]"
#define EXPECT_FORMAT    "\"typed\" or \"raw\""
#define EXPECT_LEVEL     "\"notice\", \"info\" or \"debug\""
#define EXPECT_STRING    "a non-empty string"
#define EXPECT_BOOL      "true or false"
#define EXPECT_KEEPALIVE "an integer from 5 to 3600 (seconds)"
#define EXPECT_QOS       "0, 1 or 2"
#define EXPECT_QUEUE     "an integer from 1 to 1000000 (frames)"

static const char *const level_names[] = {"notice", "info", "debug"};

/* ---- small helpers ------------------------------------------------------------------------ */

/* Write "FILE:LINE: message" into err; no ":LINE" when line is 0, no "FILE:" when file is NULL.
 * Returns -EINVAL so that callers can return it directly. */
static int __attribute__((format(printf, 5, 6)))
errorf(char *err, size_t size, const char *file, unsigned line, const char *fmt, ...)
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

/* Replace *field with a copy of s (NULL allowed). Returns 0 or -ENOMEM, *field untouched then. */
static int
set_str(char **field, const char *s)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static void
free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void
meters_free(struct meter_config *meters, size_t n)
{
	for (size_t i = 0; meters && i < n; i++) {
		free(meters[i].name);
		free(meters[i].device);
		free(meters[i].topic);
	}
	free(meters);
}

static const char *
mode_name(enum tic_mode mode)
{
	switch (mode) {
	case TIC_MODE_HISTORIQUE:
		return "historique";
	case TIC_MODE_STANDARD:
		return "standard";
	default:
		return "auto";
	}
}

static int
mode_parse(const char *s, enum tic_mode *ret_mode)
{
	if (strcmp(s, "auto") == 0)
		*ret_mode = TIC_MODE_UNKNOWN;
	else if (strcmp(s, "historique") == 0)
		*ret_mode = TIC_MODE_HISTORIQUE;
	else if (strcmp(s, "standard") == 0)
		*ret_mode = TIC_MODE_STANDARD;
	else
		return -EINVAL;
	return 0;
}

/* The device of an input spec: "serial:/dev/ttyAMA0" or a bare path. NULL for an empty one or
 * another kind of input ("tcp:..."), so that a future scheme is never opened as a file name. A
 * colon after a slash is part of a path (/dev/serial/by-path/...-usb-0:1.3:1.0-port0). */
static const char *
input_device(const char *spec)
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
static bool
url_valid(const char *url, bool *ret_tls)
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

/* The default topic of a meter: the base alone, or one level per meter when there are several. */
static char *
default_topic(const char *name, size_t n_meters)
{
	char *t;

	if (n_meters == 1)
		return strdup(CONFIG_DEFAULT_TOPIC);
	if (asprintf(&t, "%s/%s", CONFIG_DEFAULT_TOPIC, name) < 0)
		return NULL;
	return t;
}

/* Deep copy, so that config_load() can build on a scratch copy and leave c untouched on error. */
static int
config_copy(struct linkyd_config *dst, const struct linkyd_config *src)
{
	const struct mqtt_config *m = &src->mqtt;
	struct mqtt_config *d = &dst->mqtt;

	memset(dst, 0, sizeof(*dst));
	dst->format = src->format;
	dst->verbosity = src->verbosity;
	d->verify_hostname = m->verify_hostname;
	d->keepalive = m->keepalive;
	d->qos = m->qos;
	d->retain = m->retain;
	d->queue_frames = m->queue_frames;
	if (src->n_meters) {
		dst->meters = calloc(src->n_meters, sizeof(*dst->meters));
		if (!dst->meters)
			return -ENOMEM;
		dst->n_meters = src->n_meters;
	}
	for (size_t i = 0; i < src->n_meters; i++) {
		dst->meters[i].mode = src->meters[i].mode;
		if (set_str(&dst->meters[i].name, src->meters[i].name) < 0 ||
		    set_str(&dst->meters[i].device, src->meters[i].device) < 0 ||
		    set_str(&dst->meters[i].topic, src->meters[i].topic) < 0)
			goto out_done;
	}
	if (set_str(&d->url, m->url) < 0 || set_str(&d->client_id, m->client_id) < 0 ||
	    set_str(&d->username, m->username) < 0 || set_str(&d->password, m->password) < 0 ||
	    set_str(&d->ca_file, m->ca_file) < 0 || set_str(&d->cert_file, m->cert_file) < 0 ||
	    set_str(&d->key_file, m->key_file) < 0)
		goto out_done;
	return 0;

out_done:
	config_done(dst);
	return -ENOMEM;
}

/* ---- whole-configuration checks ----------------------------------------------------------- */

/* What check_config() found: the setting to blame and why. config_load() turns the setting into
 * a file and line, config_validate() prints its name alone. */
struct problem {
	int meter;       /* index into meters, or -1 for a setting outside them */
	const char *key; /* meter member ("name"), or a path ("mqtt.qos") */
	const char *alt; /* the setting to blame when key is not in the file, or NULL */
	char msg[CONFIG_ERROR_SIZE / 2];
};

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

	if (!m->url || !url_valid(m->url, &tls))
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

static int
check_config(const struct linkyd_config *c, struct problem *p)
{
	int r = check_meters(c, p);

	if (r == 0)
		r = check_mqtt(&c->mqtt, p);
	if (r == 0 && c->format != JSON_FORMAT_TYPED && c->format != JSON_FORMAT_RAW)
		r = blame(p, -1, "publish.format", NULL, "expected " EXPECT_FORMAT);
	return r;
}

static void
problem_key(const struct problem *p, char *buf, size_t size)
{
	if (p->meter >= 0)
		(void) snprintf(buf, size, "meters[%d].%s", p->meter, p->key);
	else
		(void) snprintf(buf, size, "%s", p->key);
}

/* ---- reading the file --------------------------------------------------------------------- */

struct load {
	const char *path; /* libconfig leaves the file of the main stream's settings NULL */
	char *err;
	size_t err_size;
	struct linkyd_config *c;            /* the scratch copy being filled */
	const config_setting_t **meter_src; /* each meter's group, when meters came from the file */
};

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a floating-point number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/* "mqtt.qos", "meters[0].speed": the setting's path from the root, as the user wrote it. */
static void
setting_path(const config_setting_t *s, char *buf, size_t size)
{
	const config_setting_t *parent = config_setting_parent(s);
	size_t len;

	buf[0] = '\0';
	if (!parent)
		return;
	setting_path(parent, buf, size);
	len = strlen(buf);
	if (config_setting_name(s))
		(void) snprintf(buf + len, size - len, "%s%s", len ? "." : "",
		                config_setting_name(s));
	else
		(void) snprintf(buf + len, size - len, "[%d]", config_setting_index(s));
}

/* One error line about setting s (plus suffix, for a member it lacks). Returns -EINVAL. */
static int __attribute__((format(printf, 4, 5)))
fail(struct load *l, const config_setting_t *s, const char *suffix, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char key[KEY_SIZE], msg[CONFIG_ERROR_SIZE];
	va_list ap;

	setting_path(s, key, sizeof(key));
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return errorf(l->err, l->err_size, file ? file : l->path, config_setting_source_line(s),
	              "%s%s: %s", key, suffix ? suffix : "", msg);
}

static int
unknown(struct load *l, const config_setting_t *s)
{
	return fail(l, s, NULL, "unknown setting");
}

static int
expect_group(struct load *l, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(l, s, NULL, "expected a group { ... }, not %s", type_name(s));
	return 0;
}

/* A non-empty string; expect says what was wanted. The string belongs to the config_t. */
static int
get_string(struct load *l, const config_setting_t *s, const char *expect, const char **ret_value)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(l, s, NULL, "expected %s, not %s", expect, type_name(s));
	v = config_setting_get_string(s);
	if (!*v)
		return fail(l, s, NULL, "expected %s", expect);
	*ret_value = v;
	return 0;
}

/* A string setting copied into *field. */
static int
get_str_field(struct load *l, const config_setting_t *s, char **field)
{
	const char *v;
	int r = get_string(l, s, EXPECT_STRING, &v);

	return r < 0 ? r : set_str(field, v);
}

/* An integer within min..max. Floats are refused rather than truncated: "keepalive = 1.5" is a
 * mistake worth a message. (libconfig itself wraps an over-long integer without an L suffix.) */
static int
get_int(struct load *l, const config_setting_t *s, long long min, long long max, const char *expect,
        long long *ret_value)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(l, s, NULL, "expected %s, not %s", expect, type_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(l, s, NULL, "expected %s", expect);
	*ret_value = v;
	return 0;
}

static int
get_bool(struct load *l, const config_setting_t *s, bool *ret_value)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(l, s, NULL, "expected " EXPECT_BOOL ", not %s", type_name(s));
	*ret_value = config_setting_get_bool(s);
	return 0;
}

/* One entry of meters; i is its index, n the number of entries (defaults depend on both). */
static int
parse_meter(struct load *l, const config_setting_t *g, size_t i, size_t n, struct meter_config *m)
{
	const char *v;
	int r;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(l, g, NULL, "expected a group { name = ...; input = ...; }, not %s",
		            type_name(g));
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "name") == 0) {
			r = get_str_field(l, s, &m->name);
		} else if (strcmp(key, "input") == 0) {
			r = get_string(l, s, EXPECT_INPUT, &v);
			if (r == 0 && !input_device(v))
				r = fail(l, s, NULL, "expected " EXPECT_INPUT);
			if (r == 0)
				r = set_str(&m->device, input_device(v));
		} else if (strcmp(key, "mode") == 0) {
			r = get_string(l, s, EXPECT_MODE, &v);
			if (r == 0 && mode_parse(v, &m->mode) < 0)
				r = fail(l, s, NULL, "expected " EXPECT_MODE);
		} else if (strcmp(key, "topic") == 0) {
			r = get_str_field(l, s, &m->topic);
		} else {
			r = unknown(l, s);
		}
		if (r < 0)
			return r;
	}
	/* Index 0 is "meter", like the built-in default; the others "meter1", "meter2"... */
	if (!m->name) {
		if (i == 0)
			m->name = strdup(DEFAULT_NAME);
		else if (asprintf(&m->name, DEFAULT_NAME "%zu", i) < 0)
			m->name = NULL;
		if (!m->name)
			return -ENOMEM;
	}
	/* Guessing the device of a second meter would open the first one's twice. */
	if (!m->device) {
		if (n > 1)
			return fail(l, g, ".input",
			            "expected " EXPECT_INPUT
			            " (only a lone meter defaults to " CONFIG_DEFAULT_INPUT ")");
		if (!(m->device = strdup(CONFIG_DEFAULT_INPUT)))
			return -ENOMEM;
	}
	if (!m->topic && !(m->topic = default_topic(m->name, n)))
		return -ENOMEM;
	return 0;
}

/* meters replaces the meters already configured as a whole: entries are not merged by index. */
static int
parse_meters(struct load *l, const config_setting_t *s)
{
	struct meter_config *meters;
	size_t n;
	int r = 0;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(l, s, NULL, "expected a list of groups ( { ... }, ... ), not %s",
		            type_name(s));
	n = (size_t) config_setting_length(s);
	if (n == 0)
		return fail(l, s, NULL, "expected at least one meter");
	meters = calloc(n, sizeof(*meters));
	free(l->meter_src);
	l->meter_src = calloc(n, sizeof(*l->meter_src));
	if (!meters || !l->meter_src) {
		r = -ENOMEM;
		goto out_free_meters;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		l->meter_src[i] = config_setting_get_elem(s, (unsigned) i);
		r = parse_meter(l, l->meter_src[i], i, n, &meters[i]);
	}
	if (r < 0)
		goto out_free_meters;
	meters_free(l->c->meters, l->c->n_meters);
	l->c->meters = meters;
	l->c->n_meters = n;
	return 0;

out_free_meters:
	meters_free(meters, n);
	return r;
}

/* Read the password from path into *ret_password. The file must be private: a password others
 * can read or replace is not a secret. */
static int
read_password_file(struct load *l, const config_setting_t *s, const char *path, char **ret_password)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(l, s, NULL, "'%s': %s", path, strerror(errno));
	/* fstat the open file, so that what was checked is what gets read. */
	if (fstat(fd, &st) < 0) {
		r = fail(l, s, NULL, "'%s': %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(l, s, NULL, "'%s': expected a regular file", path);
		goto out_close;
	}
	if (st.st_mode & 077) {
		r = fail(l, s, NULL,
		         "'%s' has mode %04o: expected no access for group and others "
		         "(chmod 600)",
		         path, (unsigned) (st.st_mode & 07777));
		goto out_close;
	}
	buf = malloc(PASSWORD_MAX + 2);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (len < PASSWORD_MAX + 1) {
		ssize_t n = read(fd, buf + len, PASSWORD_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = fail(l, s, NULL, "'%s': %s", path, strerror(errno));
			goto out_free_buf;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	/* One line, as "echo secret > file" writes it. */
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len > PASSWORD_MAX)
		r = fail(l, s, NULL, "'%s': expected at most %d bytes", path, PASSWORD_MAX);
	else if (len == 0)
		r = fail(l, s, NULL, "'%s' is empty: expected the password", path);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n"))
		r = fail(l, s, NULL, "'%s': expected the password alone on one line", path);
	else
		r = 0;
	if (r < 0)
		goto out_free_buf;
	*ret_password = buf;
	(void) close(fd);
	return 0;

out_free_buf:
	explicit_bzero(buf, PASSWORD_MAX + 2);
	free(buf);
out_close:
	(void) close(fd);
	return r;
}

static int
parse_mqtt(struct load *l, const config_setting_t *g)
{
	const config_setting_t *password = NULL, *password_file = NULL;
	struct mqtt_config *m = &l->c->mqtt;
	char *secret = NULL;
	long long v;
	int r = expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s), *str;

		if (strcmp(key, "url") == 0) {
			r = get_string(l, s, EXPECT_URL, &str);
			if (r == 0 && !url_valid(str, NULL))
				r = fail(l, s, NULL, "expected " EXPECT_URL);
			if (r == 0)
				r = set_str(&m->url, str);
		} else if (strcmp(key, "client_id") == 0) {
			r = get_str_field(l, s, &m->client_id);
		} else if (strcmp(key, "username") == 0) {
			r = get_str_field(l, s, &m->username);
		} else if (strcmp(key, "password") == 0) {
			password = s;
			r = get_string(l, s, EXPECT_STRING, &str);
			if (r == 0) {
				char *copy = strdup(str);

				if (!copy)
					return -ENOMEM;
				free_secret(m->password);
				m->password = copy;
			}
		} else if (strcmp(key, "password_file") == 0) {
			password_file = s;
			r = get_string(l, s, "a file path", &str);
		} else if (strcmp(key, "ca_file") == 0) {
			r = get_str_field(l, s, &m->ca_file);
		} else if (strcmp(key, "cert_file") == 0) {
			r = get_str_field(l, s, &m->cert_file);
		} else if (strcmp(key, "key_file") == 0) {
			r = get_str_field(l, s, &m->key_file);
		} else if (strcmp(key, "verify_hostname") == 0) {
			r = get_bool(l, s, &m->verify_hostname);
		} else if (strcmp(key, "keepalive") == 0) {
			r = get_int(l, s, KEEPALIVE_MIN, KEEPALIVE_MAX, EXPECT_KEEPALIVE, &v);
			if (r == 0)
				m->keepalive = (int) v;
		} else if (strcmp(key, "qos") == 0) {
			r = get_int(l, s, 0, 2, EXPECT_QOS, &v);
			if (r == 0)
				m->qos = (int) v;
		} else if (strcmp(key, "retain") == 0) {
			r = get_bool(l, s, &m->retain);
		} else if (strcmp(key, "queue") == 0) {
			r = get_int(l, s, 1, QUEUE_MAX, EXPECT_QUEUE, &v);
			if (r == 0)
				m->queue_frames = (unsigned) v;
		} else {
			r = unknown(l, s);
		}
	}
	if (r < 0 || !password_file)
		return r;
	if (password)
		return fail(l, password_file, NULL,
		            "expected mqtt.password or mqtt.password_file, not both (mqtt.password "
		            "is on line %u)",
		            config_setting_source_line(password));
	r = read_password_file(l, password_file, config_setting_get_string(password_file), &secret);
	if (r < 0)
		return r;
	free_secret(m->password);
	m->password = secret;
	return 0;
}

static int
parse_publish(struct load *l, const config_setting_t *g)
{
	int r = expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *v;

		if (strcmp(config_setting_name(s), "format") == 0) {
			r = get_string(l, s, EXPECT_FORMAT, &v);
			if (r == 0 && json_format_parse(v, &l->c->format) < 0)
				r = fail(l, s, NULL, "expected " EXPECT_FORMAT);
		} else {
			r = unknown(l, s);
		}
	}
	return r;
}

static int
parse_log(struct load *l, const config_setting_t *g)
{
	int r = expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *v;
		int level = -1;

		if (strcmp(config_setting_name(s), "level") != 0) {
			r = unknown(l, s);
			break;
		}
		r = get_string(l, s, EXPECT_LEVEL, &v);
		for (int i = 0; r == 0 && i < 3; i++)
			if (strcmp(v, level_names[i]) == 0)
				level = i;
		if (r == 0 && level < 0)
			r = fail(l, s, NULL, "expected " EXPECT_LEVEL);
		if (r == 0)
			l->c->verbosity = level;
	}
	return r;
}

static int
parse_root(struct load *l, const config_setting_t *root)
{
	int r = 0;

	for (int k = 0; r == 0 && k < config_setting_length(root); k++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "meters") == 0)
			r = parse_meters(l, s);
		else if (strcmp(key, "mqtt") == 0)
			r = parse_mqtt(l, s);
		else if (strcmp(key, "publish") == 0)
			r = parse_publish(l, s);
		else if (strcmp(key, "log") == 0)
			r = parse_log(l, s);
		else
			r = unknown(l, s);
	}
	return r;
}

/* Run the whole-configuration checks and blame the line of the setting at fault. */
static int
check_loaded(struct load *l, const config_t *cfg)
{
	const config_setting_t *s = NULL;
	const char *suffix = NULL;
	char key[KEY_SIZE], dot_key[KEY_SIZE];
	struct problem p;

	if (check_config(l->c, &p) == 0)
		return 0;
	problem_key(&p, key, sizeof(key));
	if (p.meter >= 0 && l->meter_src) {
		const config_setting_t *g = l->meter_src[p.meter];

		/* A defaulted name or topic has no line of its own: blame its meter's. */
		s = config_setting_get_member(g, p.key);
		if (!s) {
			(void) snprintf(dot_key, sizeof(dot_key), ".%s", p.key);
			s = g;
			suffix = dot_key;
		}
	} else if (p.meter < 0) {
		/* The password read from password_file has the line of password_file. */
		s = config_lookup(cfg, p.key);
		if (!s && p.alt)
			s = config_lookup(cfg, p.alt);
	}
	if (!s)
		return errorf(l->err, l->err_size, l->path, 0, "%s: %s", key, p.msg);
	return fail(l, s, suffix, "%s", p.msg);
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
	if (set_str(&c->meters[0].name, DEFAULT_NAME) < 0 ||
	    set_str(&c->meters[0].device, CONFIG_DEFAULT_INPUT) < 0 ||
	    set_str(&c->meters[0].topic, CONFIG_DEFAULT_TOPIC) < 0 ||
	    set_str(&c->mqtt.url, CONFIG_DEFAULT_URL) < 0) {
		config_done(c);
		return -ENOMEM;
	}
	return 0;
}

int
config_load(struct linkyd_config *c, const char *path, char *err, size_t err_size)
{
	struct linkyd_config scratch;
	struct load l = {.path = path, .err = err, .err_size = err_size, .c = &scratch};
	struct stat st;
	config_t cfg;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		(void) errorf(err, err_size, path, 0, "%s", strerror(-r));
		return r;
	}
	/* fopen() succeeds on a directory; libconfig would then report a baffling syntax error. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		(void) errorf(err, err_size, path, 0, "%s", strerror(-r));
		goto out_close;
	}
	config_init(&cfg);
	if (!config_read(&cfg, f)) {
		const char *file = config_error_file(&cfg);

		r = errorf(err, err_size, file ? file : path, (unsigned) config_error_line(&cfg),
		           "%s", config_error_text(&cfg));
		goto out_destroy;
	}
	r = config_copy(&scratch, c);
	if (r < 0)
		goto out_destroy;
	r = parse_root(&l, config_root_setting(&cfg));
	if (r == 0)
		r = check_loaded(&l, &cfg);
	if (r < 0) {
		config_done(&scratch);
		goto out_free_src;
	}
	config_done(c);
	*c = scratch;

out_free_src:
	free(l.meter_src);
out_destroy:
	config_destroy(&cfg);
out_close:
	(void) fclose(f);
	return r;
}

int
config_set_inputs(struct linkyd_config *c, char *const *specs, size_t n, char *err, size_t err_size)
{
	struct meter_config *meters;
	int r = 0;

	if (n == 0)
		return errorf(err, err_size, NULL, 0, "-i: expected at least one input");
	meters = calloc(n, sizeof(*meters));
	if (!meters)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct meter_config *m = &meters[i];
		const char *dev = input_device(specs[i]);
		const char *base = dev ? strrchr(dev, '/') : NULL;

		base = base ? base + 1 : dev;
		if (!dev || !*base) {
			r = errorf(err, err_size, NULL, 0,
			           "-i: expected " EXPECT_INPUT ", not '%s'", specs[i]);
			break;
		}
		for (size_t j = 0; j < i && r == 0; j++) {
			if (strcmp(dev, meters[j].device) == 0)
				r = errorf(err, err_size, NULL, 0, "-i: '%s' is given twice", dev);
			else if (strcmp(base, meters[j].name) == 0)
				r = errorf(err, err_size, NULL, 0,
				           "-i: '%s' and '%s' would both be named '%s'",
				           meters[j].device, dev, base);
		}
		if (r < 0)
			break;
		m->mode = TIC_MODE_UNKNOWN;
		if (set_str(&m->device, dev) < 0 || set_str(&m->name, base) < 0 ||
		    !(m->topic = default_topic(base, n)))
			r = -ENOMEM;
	}
	if (r < 0) {
		meters_free(meters, n);
		return r;
	}
	meters_free(c->meters, c->n_meters);
	c->meters = meters;
	c->n_meters = n;
	return 0;
}

int
config_validate(const struct linkyd_config *c, char *err, size_t err_size)
{
	char key[KEY_SIZE];
	struct problem p;

	if (check_config(c, &p) == 0)
		return 0;
	problem_key(&p, key, sizeof(key));
	return errorf(err, err_size, NULL, 0, "%s: %s", key, p.msg);
}

/* A libconfig string literal: quotes, backslashes and control bytes escaped. */
static void
print_string(FILE *out, const char *s)
{
	(void) fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		switch (*p) {
		case '"':
			(void) fputs("\\\"", out);
			break;
		case '\\':
			(void) fputs("\\\\", out);
			break;
		case '\n':
			(void) fputs("\\n", out);
			break;
		case '\r':
			(void) fputs("\\r", out);
			break;
		case '\t':
			(void) fputs("\\t", out);
			break;
		case '\f':
			(void) fputs("\\f", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				(void) fprintf(out, "\\x%02x", *p);
			else
				(void) fputc(*p, out);
		}
	}
	(void) fputc('"', out);
}

/* "\tkey = "value";" or, for an unset optional string, a comment saying what happens instead. */
static void
print_setting(FILE *out, const char *key, const char *value, const char *unset)
{
	if (!value) {
		(void) fprintf(out, "\t# %s: not set%s%s\n", key, unset ? ", " : "",
		               unset ? unset : "");
		return;
	}
	(void) fprintf(out, "\t%s = ", key);
	print_string(out, value);
	(void) fputs(";\n", out);
}

void
config_print(const struct linkyd_config *c, FILE *out)
{
	const struct mqtt_config *m = &c->mqtt;
	int level = c->verbosity < 0 ? 0 : c->verbosity > 2 ? 2 : c->verbosity;

	(void) fputs("# linkyd: effective configuration (the password is masked)\n", out);
	(void) fputs("meters = (\n", out);
	for (size_t i = 0; i < c->n_meters; i++) {
		const struct meter_config *mc = &c->meters[i];

		(void) fputs("\t{ name = ", out);
		print_string(out, mc->name ? mc->name : "");
		(void) fputs("; input = ", out);
		print_string(out, mc->device ? mc->device : "");
		(void) fprintf(out, "; mode = \"%s\"; topic = ", mode_name(mc->mode));
		print_string(out, mc->topic ? mc->topic : "");
		(void) fprintf(out, "; }%s\n", i + 1 < c->n_meters ? "," : "");
	}
	(void) fputs(");\n", out);
	(void) fputs("mqtt = {\n", out);
	print_setting(out, "url", m->url, NULL);
	print_setting(out, "client_id", m->client_id,
	              "derived from the host name and each meter's device");
	print_setting(out, "username", m->username, NULL);
	print_setting(out, "password", m->password ? PASSWORD_MASK : NULL, NULL);
	print_setting(out, "ca_file", m->ca_file, "the system's trust store");
	print_setting(out, "cert_file", m->cert_file, NULL);
	print_setting(out, "key_file", m->key_file, NULL);
	(void) fprintf(out, "\tverify_hostname = %s;\n", m->verify_hostname ? "true" : "false");
	(void) fprintf(out, "\tkeepalive = %d;\n", m->keepalive);
	(void) fprintf(out, "\tqos = %d;\n", m->qos);
	(void) fprintf(out, "\tretain = %s;\n", m->retain ? "true" : "false");
	(void) fprintf(out, "\tqueue = %u;\n", m->queue_frames);
	(void) fputs("};\n", out);
	(void) fprintf(out, "publish = { format = \"%s\"; };\n", json_format_name(c->format));
	(void) fprintf(out, "log = { level = \"%s\"; };\n", level_names[level]);
}

void
config_done(struct linkyd_config *c)
{
	meters_free(c->meters, c->n_meters);
	free(c->mqtt.url);
	free(c->mqtt.client_id);
	free(c->mqtt.username);
	free_secret(c->mqtt.password);
	free(c->mqtt.ca_file);
	free(c->mqtt.cert_file);
	free(c->mqtt.key_file);
	memset(c, 0, sizeof(*c));
}
