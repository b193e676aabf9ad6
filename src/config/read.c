/* SPDX-License-Identifier: MIT */
/*
 * Reading the configuration file with libconfig (with setting.c and publish.c, the only
 * includers of <libconfig.h>): each setting is checked as it is read, then the whole configuration,
 * and an error names the file and line of the setting at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config-internal.h"
#include "setting.h"

/* MQTT sends the password as binary data with a 16-bit length. */
#define PASSWORD_MAX 65535

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

/* tariff_names = ( "HEURES CREUSES", "HEURES PLEINES" ): "" keeps an index's learned name. */
static int
parse_names(struct load *l, const config_setting_t *s, size_t max, char ***ret, size_t *ret_n)
{
	size_t n = (size_t) config_setting_length(s);
	char **v;

	if ((config_setting_type(s) != CONFIG_TYPE_LIST &&
	     config_setting_type(s) != CONFIG_TYPE_ARRAY) ||
	    n > max)
		return cfg_fail(l, s, NULL, "expected a list of at most %zu strings, not %s", max,
		                cfg_type_name(s));
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_strv_free(v, n);
			return cfg_fail(l, e, NULL, "expected a string, not %s", cfg_type_name(e));
		}
		if (cfg_set_str(&v[i], config_setting_get_string(e)) < 0) {
			cfg_strv_free(v, n);
			return -ENOMEM;
		}
	}
	cfg_strv_free(*ret, *ret_n);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* One entry of meters; i is its index, n the number of entries (defaults depend on both). */
static int
parse_meter(struct load *l, const config_setting_t *g, size_t i, size_t n, struct meter_config *m)
{
	const char *v;
	int r;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, NULL, "expected a group { name = ...; input = ...; }, not %s",
		                cfg_type_name(g));
	/* The global publish group was read first: a meter's own settings go over it. */
	if (cfg_publish_copy(&m->publish, &l->c->publish) < 0)
		return -ENOMEM;
	for (int k = 0; k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "name") == 0) {
			r = cfg_get_str_field(l, s, &m->name);
		} else if (strcmp(key, "input") == 0) {
			r = cfg_get_string(l, s, EXPECT_INPUT, &v);
			if (r == 0 && !cfg_input_device(v))
				r = cfg_fail(l, s, NULL, "expected " EXPECT_INPUT);
			if (r == 0)
				r = cfg_set_str(&m->device, cfg_input_device(v));
		} else if (strcmp(key, "mode") == 0) {
			r = cfg_get_string(l, s, EXPECT_MODE, &v);
			if (r == 0 && mode_parse(v, &m->mode) < 0)
				r = cfg_fail(l, s, NULL, "expected " EXPECT_MODE);
		} else if (strcmp(key, "topic") == 0) {
			r = cfg_get_str_field(l, s, &m->topic);
		} else if (strcmp(key, "publish") == 0) {
			r = cfg_parse_publish(l, s, &m->publish, NULL);
		} else if (strcmp(key, "tariff_names") == 0) {
			r = parse_names(l, s, TARIFF_NAMES_MAX, &m->tariff_names,
			                &m->n_tariff_names);
		} else if (strcmp(key, "distributor_names") == 0) {
			r = parse_names(l, s, DISTRIBUTOR_NAMES_MAX, &m->distributor_names,
			                &m->n_distributor_names);
		} else {
			r = cfg_unknown(l, s);
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
			return cfg_fail(l, g, ".input",
			                "expected " EXPECT_INPUT
			                " (only a lone meter defaults to " CONFIG_DEFAULT_INPUT
			                ")");
		if (!(m->device = strdup(CONFIG_DEFAULT_INPUT)))
			return -ENOMEM;
	}
	if (!m->topic && !(m->topic = cfg_default_topic(m->name, n)))
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
		return cfg_fail(l, s, NULL, "expected a list of groups ( { ... }, ... ), not %s",
		                cfg_type_name(s));
	n = (size_t) config_setting_length(s);
	if (n == 0)
		return cfg_fail(l, s, NULL, "expected at least one meter");
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
	cfg_meters_free(l->c->meters, l->c->n_meters);
	l->c->meters = meters;
	l->c->n_meters = n;
	return 0;

out_free_meters:
	cfg_meters_free(meters, n);
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
		return cfg_fail(l, s, NULL, "'%s': %s", path, strerror(errno));
	/* fstat the open file, so that what was checked is what gets read. */
	if (fstat(fd, &st) < 0) {
		r = cfg_fail(l, s, NULL, "'%s': %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = cfg_fail(l, s, NULL, "'%s': expected a regular file", path);
		goto out_close;
	}
	if (st.st_mode & 077) {
		r = cfg_fail(l, s, NULL,
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
			r = cfg_fail(l, s, NULL, "'%s': %s", path, strerror(errno));
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
		r = cfg_fail(l, s, NULL, "'%s': expected at most %d bytes", path, PASSWORD_MAX);
	else if (len == 0)
		r = cfg_fail(l, s, NULL, "'%s' is empty: expected the password", path);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n"))
		r = cfg_fail(l, s, NULL, "'%s': expected the password alone on one line", path);
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
	int r = cfg_expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s), *str;

		if (strcmp(key, "url") == 0) {
			r = cfg_get_string(l, s, EXPECT_URL, &str);
			if (r == 0 && !cfg_url_valid(str, NULL))
				r = cfg_fail(l, s, NULL, "expected " EXPECT_URL);
			if (r == 0)
				r = cfg_set_str(&m->url, str);
		} else if (strcmp(key, "client_id") == 0) {
			r = cfg_get_str_field(l, s, &m->client_id);
		} else if (strcmp(key, "username") == 0) {
			r = cfg_get_str_field(l, s, &m->username);
		} else if (strcmp(key, "password") == 0) {
			password = s;
			r = cfg_get_string(l, s, EXPECT_STRING, &str);
			if (r == 0) {
				char *copy = strdup(str);

				if (!copy)
					return -ENOMEM;
				cfg_free_secret(m->password);
				m->password = copy;
			}
		} else if (strcmp(key, "password_file") == 0) {
			password_file = s;
			r = cfg_get_string(l, s, "a file path", &str);
		} else if (strcmp(key, "ca_file") == 0) {
			r = cfg_get_str_field(l, s, &m->ca_file);
		} else if (strcmp(key, "cert_file") == 0) {
			r = cfg_get_str_field(l, s, &m->cert_file);
		} else if (strcmp(key, "key_file") == 0) {
			r = cfg_get_str_field(l, s, &m->key_file);
		} else if (strcmp(key, "verify_hostname") == 0) {
			r = cfg_get_bool(l, s, &m->verify_hostname);
		} else if (strcmp(key, "keepalive") == 0) {
			r = cfg_get_int(l, s, KEEPALIVE_MIN, KEEPALIVE_MAX, EXPECT_KEEPALIVE, &v);
			if (r == 0)
				m->keepalive = (int) v;
		} else if (strcmp(key, "qos") == 0) {
			r = cfg_get_int(l, s, 0, 2, EXPECT_QOS, &v);
			if (r == 0)
				m->qos = (int) v;
		} else if (strcmp(key, "retain") == 0) {
			r = cfg_get_bool(l, s, &m->retain);
		} else if (strcmp(key, "queue") == 0) {
			r = cfg_get_int(l, s, 1, QUEUE_MAX, EXPECT_QUEUE, &v);
			if (r == 0)
				m->queue_frames = (unsigned) v;
		} else {
			r = cfg_unknown(l, s);
		}
	}
	if (r < 0 || !password_file)
		return r;
	if (password)
		return cfg_fail(
		    l, password_file, NULL,
		    "expected mqtt.password or mqtt.password_file, not both (mqtt.password "
		    "is on line %u)",
		    config_setting_source_line(password));
	r = read_password_file(l, password_file, config_setting_get_string(password_file), &secret);
	if (r < 0)
		return r;
	cfg_free_secret(m->password);
	m->password = secret;
	return 0;
}

/* The global publish group's own settings, beside the policy every meter starts from. */
static int
parse_publish_other(struct load *l, const config_setting_t *s)
{
	const char *key = config_setting_name(s), *v;
	int r;

	if (strcmp(key, "anonymise") == 0)
		return cfg_get_bool(l, s, &l->c->anonymise);
	if (strcmp(key, "anonymise_key") == 0) {
		r = cfg_get_string(l, s, EXPECT_STRING, &v);
		if (r == 0) {
			char *copy = strdup(v);

			if (!copy)
				return -ENOMEM;
			cfg_free_secret(l->c->anonymise_key);
			l->c->anonymise_key = copy;
		}
		return r;
	}
	if (strcmp(key, "format") != 0)
		return cfg_unknown(l, s);
	r = cfg_get_string(l, s, EXPECT_FORMAT, &v);
	if (r == 0 && json_format_parse(v, &l->c->format) < 0)
		r = cfg_fail(l, s, NULL, "expected " EXPECT_FORMAT);
	return r;
}

/* homeassistant = { discovery = true; prefix = "homeassistant"; expire_after = 120; }; the
 * prefix's wildcards are refused by cfg_check(), so that the error is the same for both paths. */
static int
parse_homeassistant(struct load *l, const config_setting_t *g)
{
	struct ha_config *ha = &l->c->ha;
	const char *str;
	long long v;
	int r = cfg_expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "discovery") == 0) {
			r = cfg_get_bool(l, s, &ha->discovery);
		} else if (strcmp(key, "prefix") == 0) {
			r = cfg_get_string(l, s, EXPECT_PREFIX, &str);
			if (r == 0)
				r = cfg_set_str(&ha->prefix, str);
		} else if (strcmp(key, "expire_after") == 0) {
			r = cfg_get_int(l, s, 0, EXPIRE_MAX, EXPECT_EXPIRE, &v);
			if (r == 0)
				ha->expire_after = (int) v;
		} else {
			r = cfg_unknown(l, s);
		}
	}
	return r;
}

static int
parse_log(struct load *l, const config_setting_t *g)
{
	int r = cfg_expect_group(l, g);

	for (int k = 0; r == 0 && k < config_setting_length(g); k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const char *v;
		int level = -1;

		if (strcmp(config_setting_name(s), "level") != 0) {
			r = cfg_unknown(l, s);
			break;
		}
		r = cfg_get_string(l, s, EXPECT_LEVEL, &v);
		for (int i = 0; r == 0 && i < 3; i++)
			if (strcmp(v, cfg_level_names[i]) == 0)
				level = i;
		if (r == 0 && level < 0)
			r = cfg_fail(l, s, NULL, "expected " EXPECT_LEVEL);
		if (r == 0)
			l->c->verbosity = level;
	}
	return r;
}

static int
parse_root(struct load *l, const config_setting_t *root)
{
	const config_setting_t *meters = NULL;
	int r = 0;

	for (int k = 0; r == 0 && k < config_setting_length(root); k++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned) k);
		const char *key = config_setting_name(s);

		if (strcmp(key, "meters") == 0)
			meters = s;
		else if (strcmp(key, "mqtt") == 0)
			r = parse_mqtt(l, s);
		else if (strcmp(key, "publish") == 0)
			r = cfg_parse_publish(l, s, &l->c->publish, parse_publish_other);
		else if (strcmp(key, "log") == 0)
			r = parse_log(l, s);
		else if (strcmp(key, "homeassistant") == 0)
			r = parse_homeassistant(l, s);
		else if (strcmp(key, "state_dir") == 0)
			r = cfg_get_str_field(l, s, &l->c->state_dir);
		else
			r = cfg_unknown(l, s);
	}
	if (r < 0)
		return r;
	/* Meters start from the global publish settings, wherever the file puts them. */
	if (meters)
		return parse_meters(l, meters);
	for (size_t i = 0; i < l->c->n_meters; i++) {
		cfg_publish_free(&l->c->meters[i].publish);
		if (cfg_publish_copy(&l->c->meters[i].publish, &l->c->publish) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Run the whole-configuration checks and blame the line of the setting at fault. */
static int
check_loaded(struct load *l, const config_t *cfg)
{
	const config_setting_t *s = NULL;
	const char *suffix = NULL;
	char key[KEY_SIZE], dot_key[KEY_SIZE];
	struct problem p;

	if (cfg_check(l->c, &p) == 0)
		return 0;
	cfg_problem_key(&p, key, sizeof(key));
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
		return cfg_errorf(l->err, l->err_size, l->path, 0, "%s: %s", key, p.msg);
	return cfg_fail(l, s, suffix, "%s", p.msg);
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
		(void) cfg_errorf(err, err_size, path, 0, "%s", strerror(-r));
		return r;
	}
	/* fopen() succeeds on a directory; libconfig would then report a baffling syntax error. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		(void) cfg_errorf(err, err_size, path, 0, "%s", strerror(-r));
		goto out_close;
	}
	config_init(&cfg);
	if (!config_read(&cfg, f)) {
		const char *file = config_error_file(&cfg);

		r = cfg_errorf(err, err_size, file ? file : path,
		               (unsigned) config_error_line(&cfg), "%s", config_error_text(&cfg));
		goto out_destroy;
	}
	r = cfg_copy(&scratch, c);
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
