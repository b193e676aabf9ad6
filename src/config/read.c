/* SPDX-License-Identifier: MIT */
/*
 * Reading the configuration with libconfig (the only includer of <libconfig.h>): the text that
 * source.c prepared is parsed, then each setting is found in the table, checked against its row
 * and stored, and where it came from is recorded. libconfig's strings belong to its config_t:
 * they are copied, and config_destroy() is called before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config-internal.h"

#define EXPECT_GROUP "a group { ... }"

struct reader {
	struct snapshot *s;
	const struct cfg_source *src;
	struct problem *p;
};

static int read_group(struct reader *r, const config_setting_t *g, const struct cfg_table *t,
                      void *base, const char *path, const char *expect);

/* "a group", "an integer"...: what s is, for "expected X, not Y". */
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

/* Record where setting s, at path, is in the files. */
static int
locate(struct reader *r, const config_setting_t *s, const char *path)
{
	char where[CONFIG_ERROR_SIZE / 2];

	cfg_source_where(r->src, (unsigned) config_setting_source_line(s), where, sizeof(where));
	return cfg_origin_add(r->s, path, where);
}

static int
wrong_type(struct reader *r, const config_setting_t *s, const char *path, const char *expect)
{
	return cfg_blame(r->p, path, "expected %s, not %s", expect, type_name(s));
}

/* tariff_names = ( "HEURES CREUSES", "HEURES PLEINES" ). */
static int
read_strv(struct reader *r, const config_setting_t *s, const struct cfg_row *row, void *base,
          const char *path)
{
	size_t n = (size_t) config_setting_length(s);
	char elem[PATH_SIZE], **v;
	int e = 0;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return wrong_type(r, s, path, row->expect);
	if (n > (size_t) row->max)
		return cfg_blame(r->p, path, "%zu entries: expected %s", n, row->expect);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && e == 0; i++) {
		const config_setting_t *x = config_setting_get_elem(s, (unsigned) i);

		(void) snprintf(elem, sizeof(elem), "%s", path);
		cfg_path_index(elem, sizeof(elem), i);
		e = locate(r, x, elem);
		if (e == 0 && config_setting_type(x) != CONFIG_TYPE_STRING)
			e = wrong_type(r, x, elem, "a string");
		if (e == 0 && !(v[i] = strdup(config_setting_get_string(x))))
			e = -ENOMEM;
		if (e == 0)
			e = cfg_check_string(row, v[i], elem, r->p);
	}
	cfg_free_value(row, base);
	*(char ***) CFG_AT(base, row->offset) = v;
	*(size_t *) CFG_AT(base, row->count) = n;
	return e;
}

/* ( { ... }, ... ): the elements start from their defaults and what they inherit from base. */
static int
read_list(struct reader *r, const config_setting_t *s, const struct cfg_row *row, void *base,
          const char *path)
{
	size_t n = (size_t) config_setting_length(s), *count = CFG_AT(base, row->count);
	char **elems = CFG_AT(base, row->offset), *made, *all, elem[PATH_SIZE];
	int e = 0;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return wrong_type(r, s, path, row->expect);
	if (n < (size_t) row->min || n > (size_t) row->max)
		return cfg_blame(r->p, path, "%zu entries: expected %lld to %lld", n, row->min,
		                 row->max);
	made = cfg_list_new(row, base, n);
	if (!made)
		return -ENOMEM;
	for (size_t i = 0; i < n && e == 0; i++) {
		const config_setting_t *x = config_setting_get_elem(s, (unsigned) i);
		void *m = made + i * row->size;

		(void) snprintf(elem, sizeof(elem), "%s", path);
		cfg_path_index(elem, sizeof(elem), i);
		e = locate(r, x, elem);
		if (e == 0)
			e = read_group(r, x, row->sub, m, elem, row->sub->expect);
		if (e == 0 && row->sub->finish)
			e = row->sub->finish(m, i, n, elem, r->p);
		if (e == 0)
			e = cfg_check_values(row->sub, m, elem, r->p);
	}
	if (e < 0) {
		cfg_free_list(row, made, n);
		return e;
	}
	if (!(row->flags & CFG_APPEND)) {
		cfg_free_value(row, base);
		*elems = made;
		*count = n;
		return 0;
	}
	/* After what was inherited: the last entry naming a label wins. An empty list adds
	 * nothing, and must not reach realloc(), which may return NULL for 0 bytes. */
	if (n == 0) {
		free(made);
		return 0;
	}
	all = realloc(*elems, (*count + n) * row->size);
	if (!all) {
		cfg_free_list(row, made, n);
		return -ENOMEM;
	}
	memcpy(all + *count * row->size, made, n * row->size);
	free(made);
	*elems = all;
	*count += n;
	return 0;
}

static int
read_value(struct reader *r, const config_setting_t *s, const struct cfg_row *row, void *base,
           const char *path)
{
	void *v = CFG_AT(base, row->offset);
	int type = config_setting_type(s);
	struct input_config in;
	char expect[128];
	const char *str;
	long long n;
	int e;

	switch (row->type) {
	case CFG_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			return wrong_type(r, s, path, row->expect);
		*(bool *) v = config_setting_get_bool(s);
		return 0;
	case CFG_INT:
		/* Floats are refused rather than truncated: "keepalive = 1.5" is a mistake worth
		 * a message. (libconfig itself wraps an over-long integer without an L suffix.) */
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return wrong_type(r, s, path, row->expect);
		n = config_setting_get_int64(s);
		if (n < row->min || n > row->max)
			return cfg_blame(r->p, path, "expected %s", row->expect);
		cfg_int_set(v, row->size, n);
		return 0;
	case CFG_ENUM:
		if (type != CONFIG_TYPE_STRING)
			return wrong_type(r, s, path, row->expect);
		if (cfg_enum_parse(row, base, config_setting_get_string(s)) < 0)
			return cfg_blame(r->p, path, "expected %s", row->expect);
		return 0;
	case CFG_STRING:
	case CFG_SECRET:
		if (type != CONFIG_TYPE_STRING)
			return wrong_type(r, s, path, row->expect);
		str = config_setting_get_string(s);
		cfg_free_value(row, base);
		if (!(*(char **) v = strdup(str)))
			return -ENOMEM;
		return cfg_check_string(row, str, path, r->p);
	case CFG_STRV:
		return read_strv(r, s, row, base, path);
	case CFG_INPUT:
		if (type != CONFIG_TYPE_STRING)
			return wrong_type(r, s, path, input_expect(expect, sizeof(expect)));
		e = input_parse(config_setting_get_string(s), &in);
		if (e == -EINVAL)
			return cfg_blame(r->p, path, "expected %s",
			                 input_expect(expect, sizeof(expect)));
		if (e < 0)
			return e;
		input_free(v);
		*(struct input_config *) v = in;
		return 0;
	case CFG_GROUP:
		return read_group(r, s, row->sub, v, path, NULL);
	case CFG_LIST:
		return read_list(r, s, row, base, path);
	case CFG_MERGE:
		break; /* its rows are found by key */
	}
	return 0;
}

/* The settings of a group that is read after the others. */
struct late {
	const config_setting_t *s;
	const struct cfg_row *row;
	size_t offset;
};

/* Lists whose elements inherit from the group are made again when the file has none: the
 * default meter takes the file's global publish settings. */
static int
inherit_defaults(const struct cfg_table *t, void *base, const struct late *late, size_t n_late)
{
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct cfg_row *row = &t->rows[k];
		bool seen = false;
		int e = 0;

		for (size_t i = 0; i < n_late; i++)
			seen |= late[i].row == row;
		if (row->type == CFG_MERGE)
			e = inherit_defaults(row->sub, CFG_AT(base, row->offset), late, n_late);
		else if (row->type == CFG_LIST && row->sub->init && row->def > 0 && !seen)
			e = cfg_list_default(row, base);
		if (e < 0)
			return e;
	}
	return 0;
}

static int
read_group(struct reader *r, const config_setting_t *g, const struct cfg_table *t, void *base,
           const char *path, const char *expect)
{
	size_t n = (size_t) config_setting_length(g), n_late = 0;
	struct late *late;
	char key[PATH_SIZE];
	int e = 0;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return wrong_type(r, g, path, expect ? expect : EXPECT_GROUP);
	late = calloc(n ? n : 1, sizeof(*late));
	if (!late)
		return -ENOMEM;
	for (size_t k = 0; k < n && e == 0; k++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned) k);
		const struct cfg_row *row;
		size_t offset = 0;

		(void) snprintf(key, sizeof(key), "%s", path);
		cfg_path_push(key, sizeof(key), config_setting_name(s));
		e = locate(r, s, key);
		row = cfg_find(t, config_setting_name(s), &offset);
		if (e == 0 && !row)
			e = cfg_blame(r->p, key, "unknown setting");
		else if (e == 0 && (row->flags & CFG_LATE))
			late[n_late++] = (struct late){s, row, offset};
		else if (e == 0)
			e = read_value(r, s, row, CFG_AT(base, offset), key);
	}
	for (size_t k = 0; k < n_late && e == 0; k++) {
		(void) snprintf(key, sizeof(key), "%s", path);
		cfg_path_push(key, sizeof(key), late[k].row->key);
		e = read_value(r, late[k].s, late[k].row, CFG_AT(base, late[k].offset), key);
	}
	if (e == 0)
		e = inherit_defaults(t, base, late, n_late);
	free(late);
	return e;
}

int
cfg_read(struct snapshot *s, const struct cfg_source *src, struct problem *p)
{
	struct reader r = {.s = s, .src = src, .p = p};
	config_t cfg;
	int e;

	config_init(&cfg);
	if (config_read_string(&cfg, src->text)) {
		e = read_group(&r, config_root_setting(&cfg), &cfg_root, &s->c, "", NULL);
	} else {
		cfg_source_where(src, (unsigned) config_error_line(&cfg), p->where,
		                 sizeof(p->where));
		p->path[0] = '\0';
		(void) snprintf(p->msg, sizeof(p->msg), "%s", config_error_text(&cfg));
		e = -EINVAL;
	}
	config_destroy(&cfg);
	return e;
}
