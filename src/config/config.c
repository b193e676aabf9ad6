/* SPDX-License-Identifier: MIT */
/*
 * config_load(): the defaults, the file, the command line and the checks, into a snapshot that
 * never changes once handed out. Snapshots are reference-counted, so that a reload can swap in a
 * new one while each running meter keeps the one it started with; each remembers where its
 * settings came from, for errors found after loading.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

static struct snapshot *
snapshot_of(const struct linkyd_config *c)
{
	return (struct snapshot *) ((char *) c - offsetof(struct snapshot, c));
}

/* ---- origins ------------------------------------------------------------------------------ */

int
cfg_origin_add(struct snapshot *s, const char *path, const char *where)
{
	struct origin o = {.path = strdup(path), .where = strdup(where)};

	if (o.path && o.where && s->n_origins == s->origins_size) {
		size_t size = s->origins_size ? 2 * s->origins_size : 32;
		struct origin *all = realloc(s->origins, size * sizeof(*all));

		if (all) {
			s->origins = all;
			s->origins_size = size;
		}
	}
	if (!o.path || !o.where || s->n_origins == s->origins_size) {
		free(o.path);
		free(o.where);
		return -ENOMEM;
	}
	s->origins[s->n_origins++] = o;
	return 0;
}

/* Whether path is prefix itself or a setting under it ("meters[0].name" under "meters"). */
static bool
under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 && (!path[n] || path[n] == '.' || path[n] == '[');
}

/* Forget the origins of path and what is under it (-i replaces the meters). */
static void
origin_drop(struct snapshot *s, const char *path)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n_origins; i++) {
		if (under(s->origins[i].path, path)) {
			free(s->origins[i].path);
			free(s->origins[i].where);
		} else {
			s->origins[kept++] = s->origins[i];
		}
	}
	s->n_origins = kept;
}

const char *
config_where(const struct linkyd_config *c, const char *path)
{
	const struct snapshot *s = snapshot_of(c);

	/* The last: the command line comes after the file. */
	for (size_t i = s->n_origins; i-- > 0;)
		if (strcmp(s->origins[i].path, path) == 0)
			return s->origins[i].where;
	return NULL;
}

/* Where path or, for a default, the group holding it was set. */
static const char *
where_or_parent(const struct linkyd_config *c, const char *path)
{
	char key[PATH_SIZE];
	const char *w;

	(void) snprintf(key, sizeof(key), "%s", path);
	while (!(w = config_where(c, key))) {
		char *cut = strrchr(key, '.'), *bracket = strrchr(key, '[');

		if (bracket > cut)
			cut = bracket;
		if (!cut)
			return NULL;
		*cut = '\0';
	}
	return w;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

const struct linkyd_config *
config_ref(const struct linkyd_config *c)
{
	snapshot_of(c)->refs++;
	return c;
}

const struct linkyd_config *
config_unref(const struct linkyd_config *c)
{
	struct snapshot *s;

	if (!c)
		return NULL;
	s = snapshot_of(c);
	if (--s->refs > 0)
		return NULL;
	cfg_free(&cfg_root, &s->c);
	for (size_t i = 0; i < s->n_origins; i++) {
		free(s->origins[i].path);
		free(s->origins[i].where);
	}
	free(s->origins);
	free(s);
	return NULL;
}

/* ---- the command line --------------------------------------------------------------------- */

/* -i: one meter per input spec, named after its device. */
static int
set_inputs(struct snapshot *s, char *const *specs, size_t n, struct problem *p)
{
	struct linkyd_config *c = &s->c;
	void *base;
	const struct cfg_row *row = cfg_lookup(&cfg_root, c, "meters", &base);
	char path[PATH_SIZE], expect[128];
	struct meter_config *meters;
	int r = 0;

	origin_drop(s, "meters");
	if (cfg_origin_add(s, "meters", "-i") < 0)
		return -ENOMEM;
	meters = cfg_list_new(row, base, n);
	if (!meters)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct meter_config *m = &meters[i];
		const char *name;

		(void) snprintf(path, sizeof(path), "meters[%zu]", i);
		r = input_parse(specs[i], &m->input);
		if (r == -EINVAL) {
			cfg_path_push(path, sizeof(path), "input");
			r = cfg_blame(p, path, "'%s': expected %s", specs[i],
			              input_expect(expect, sizeof(expect)));
		}
		if (r < 0)
			break;
		/* Named after the device; without a name of its own, finish() numbers it. */
		name = strrchr(input_key(&m->input), '/');
		name = name ? name + 1 : input_key(&m->input);
		if (*name && !(m->name = strdup(name)))
			r = -ENOMEM;
		if (r == 0)
			r = row->sub->finish(m, i, n, path, p);
	}
	if (r < 0) {
		cfg_free_list(row, meters, n);
		return r;
	}
	cfg_free_value(row, base);
	c->meters = meters;
	c->n_meters = n;
	/* The file's meters are gone, and with them the names that chose the HTTP inputs. */
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "http.teleinfo2" : "http.teleinfo1";

		row = cfg_lookup(&cfg_root, c, key, &base);
		cfg_free_value(row, base);
		origin_drop(s, key);
	}
	return 0;
}

/* A string setting from option: checked with the rest afterwards. */
static int
set_string(struct snapshot *s, const char *path, const char *value, const char *option)
{
	void *base;
	const struct cfg_row *row = cfg_lookup(&cfg_root, &s->c, path, &base);

	cfg_free_value(row, base);
	if (!(*(char **) CFG_AT(base, row->offset) = strdup(value)))
		return -ENOMEM;
	return cfg_origin_add(s, path, option);
}

static int
apply_args(struct snapshot *s, const struct config_args *a, struct problem *p)
{
	struct linkyd_config *c = &s->c;
	const struct cfg_row *row;
	char path[PATH_SIZE];
	void *base;
	int r = 0;

	if (a->n_inputs)
		r = set_inputs(s, a->inputs, a->n_inputs, p);
	if (r == 0 && a->mqtt_url)
		r = set_string(s, "mqtt.url", a->mqtt_url, "--mqtt");
	for (size_t i = 0; r == 0 && a->topic && i < c->n_meters; i++) {
		struct meter_config *m = &c->meters[i];

		free(m->topic);
		m->topic = cfg_default_topic(a->topic, m->name, c->n_meters);
		(void) snprintf(path, sizeof(path), "meters[%zu].topic", i);
		r = !m->topic ? -ENOMEM : cfg_origin_add(s, path, "--topic");
	}
	if (r == 0 && a->format) {
		row = cfg_lookup(&cfg_root, c, "publish.format", &base);
		r = cfg_origin_add(s, "publish.format", "--format");
		if (r == 0 && cfg_enum_parse(row, base, a->format) < 0)
			r = cfg_blame(p, "publish.format", "expected %s", row->expect);
	}
	if (r == 0 && a->http)
		r = set_string(s, "http.listen", a->http, "--http");
	/* -v raises the file's level; -vvv is -vv. */
	if (a->verbosity > c->verbosity)
		c->verbosity = a->verbosity > 2 ? 2 : a->verbosity;
	return r;
}

/* ---- defaults of the input's kind ---- */

/* The settings a meter left unset whose default depends on its input: a silence is not the same
 * for a meter sending a frame a second and for a D2L module pushing one a minute. */
static void
input_defaults(struct linkyd_config *c)
{
	char path[PATH_SIZE];

	for (size_t i = 0; i < c->n_meters; i++) {
		(void) snprintf(path, sizeof(path), "meters[%zu].silence", i);
		if (!config_where(c, path))
			c->meters[i].silence = input_default_silence(&c->meters[i].input);
	}
}

/* ---- client ids --------------------------------------------------------------------------- */

/* Stable across restarts and unique per host and input (and module, for meters that share a D2L
 * listener): "linkyd-" and 32 bits of FNV-1a. */
static char *
hashed_client_id(const char *host, const struct meter_config *m)
{
	uint32_t h = 2166136261u;
	char *id;

	for (const char *s = host ? host : ""; *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	for (const char *s = input_key(&m->input); *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	for (const char *s = m->d2l_id ? m->d2l_id : ""; *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	return asprintf(&id, "linkyd-%08x", h) < 0 ? NULL : id;
}

/* Each meter's own: never cut, whatever its length (the checks refuse what MQTT cannot carry),
 * since two cut ones could be the same and the broker would keep kicking one of them out. */
static int
make_client_ids(struct linkyd_config *c, const char *host)
{
	const char *id = c->mqtt.client_id;

	for (size_t i = 0; i < c->n_meters; i++) {
		struct meter_config *m = &c->meters[i];

		free(m->client_id);
		if (!id)
			m->client_id = hashed_client_id(host, m);
		else if (c->n_meters == 1)
			m->client_id = strdup(id);
		else if (asprintf(&m->client_id, "%s-%s", id, m->name) < 0)
			m->client_id = NULL;
		if (!m->client_id)
			return -ENOMEM;
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static int
read_path(struct snapshot *s, const char *path, bool optional, struct problem *p)
{
	struct cfg_source src;
	int r = cfg_source_read(&src, path, p);

	if (r == 0)
		r = cfg_read(s, &src, p);
	cfg_source_done(&src);
	return r == -ENOENT && optional ? 0 : r;
}

/* "WHERE: setting: message", each part there is. */
static void
report(const struct linkyd_config *c, struct problem *p, int r, char *err, size_t size)
{
	const char *where = p->where[0] || !p->path[0] ? p->where : where_or_parent(c, p->path);
	size_t len = 0;

	if (r == -ENOMEM)
		(void) snprintf(p->msg, sizeof(p->msg), "out of memory");
	if (r == -ENOMEM || !where)
		where = "";
	if (*where)
		len += (size_t) snprintf(err, size, "%s: ", where);
	if (p->path[0] && r != -ENOMEM && len < size)
		len += (size_t) snprintf(err + len, size - len, "%s: ", p->path);
	if (len < size)
		(void) snprintf(err + len, size - len, "%s", p->msg);
	/* One line, as promised to the log and to --check-config, even when it quotes a value
	 * that does not fit on one (a string may span lines). */
	for (size_t i = 0; i < size && err[i]; i++)
		if ((unsigned char) err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
}

int
config_load(const struct config_args *args, const struct linkyd_config **ret_config, char *err,
            size_t err_size)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct problem p = {0};
	int r;

	if (!s) {
		(void) snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->refs = 1;
	r = cfg_defaults(&cfg_root, &s->c);
	if (r == 0 && args->path)
		r = read_path(s, args->path, args->optional, &p);
	if (r == 0)
		r = apply_args(s, args, &p);
	if (r == 0)
		r = make_client_ids(&s->c, args->hostname);
	if (r == 0)
		input_defaults(&s->c);
	if (r == 0)
		r = cfg_check_values(&cfg_root, &s->c, "", &p);
	if (r == 0)
		r = cfg_check(&s->c, &p);
	if (r < 0) {
		report(&s->c, &p, r, err, err_size);
		config_unref(&s->c);
		return r;
	}
	*ret_config = &s->c;
	return 0;
}

bool
config_meter_kept(const struct linkyd_config *old, const struct linkyd_config *fresh,
                  const struct meter_config *m)
{
	void *base;
	const struct cfg_row *meters = cfg_lookup(&cfg_root, (void *) old, "meters", &base);

	if (!cfg_equal(&cfg_root, old, fresh, RELOAD_ALL))
		return false;
	for (size_t j = 0; j < fresh->n_meters; j++)
		if (cfg_equal(meters->sub, m, &fresh->meters[j], RELOAD_METER))
			return true;
	return false;
}
