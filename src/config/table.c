/* SPDX-License-Identifier: MIT */
/*
 * Walking the settings table (settings.c): defaults, copy, free, comparison and the checks of each
 * value against its row, for every type of row. Nothing here knows a setting by name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

long long
cfg_int_get(const void *p, size_t size)
{
	if (size == sizeof(int64_t))
		return *(const int64_t *) p;
	return *(const int32_t *) p;
}

void
cfg_int_set(void *p, size_t size, long long v)
{
	if (size == sizeof(int64_t))
		*(int64_t *) p = v;
	else
		*(int32_t *) p = (int32_t) v;
}

static char **
strv_at(const struct cfg_row *row, const void *base, size_t **ret_n)
{
	*ret_n = CFG_AT(base, row->count);
	return *(char ***) CFG_AT(base, row->offset);
}

/* ---- defaults ----------------------------------------------------------------------------- */

void *
cfg_list_new(const struct cfg_row *row, const void *parent, size_t n)
{
	char *elems = calloc(n ? n : 1, row->size);

	if (!elems)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		void *e = elems + i * row->size;

		if (cfg_defaults(row->sub, e) < 0 ||
		    (row->sub->init && row->sub->init(e, parent) < 0)) {
			cfg_free_list(row, elems, i + 1);
			return NULL;
		}
	}
	return elems;
}

int
cfg_list_default(const struct cfg_row *row, void *base)
{
	size_t n = (size_t) row->def, *count = CFG_AT(base, row->count);
	void **elems = CFG_AT(base, row->offset);
	struct problem p;
	char *made = cfg_list_new(row, base, n);

	if (!made)
		return -ENOMEM;
	for (size_t i = 0; i < n && row->sub->finish; i++) {
		/* A default element lacks nothing finish() could blame it for. */
		int r = row->sub->finish(made + i * row->size, i, n, row->key, &p);

		if (r < 0) {
			cfg_free_list(row, made, n);
			return r;
		}
	}
	cfg_free_list(row, *elems, *count);
	*elems = made;
	*count = n;
	return 0;
}

/* One row's default. */
static int
default_value(const struct cfg_row *row, void *base)
{
	void *v = CFG_AT(base, row->offset);

	switch (row->type) {
	case CFG_BOOL:
		*(bool *) v = row->def;
		return 0;
	case CFG_INT:
	case CFG_ENUM:
		cfg_int_set(v, row->size, row->def);
		return 0;
	case CFG_STRING:
	case CFG_SECRET:
		return row->def_str && !(*(char **) v = strdup(row->def_str)) ? -ENOMEM : 0;
	case CFG_STRV:
	case CFG_INPUT:
		return 0; /* none */
	case CFG_GROUP:
	case CFG_MERGE:
		return cfg_defaults(row->sub, v);
	case CFG_LIST:
		return cfg_list_default(row, base);
	}
	return 0;
}

int
cfg_defaults(const struct cfg_table *t, void *base)
{
	/* Late rows last, as when reading: the default meter starts from the global publish
	 * group's defaults. */
	for (int late = 0; late < 2; late++)
		for (size_t k = 0; k < t->n_rows; k++) {
			const struct cfg_row *row = &t->rows[k];
			int r;

			if (!(row->flags & CFG_LATE) != !late)
				continue;
			r = default_value(row, base);
			if (r < 0)
				return r;
		}
	return 0;
}

/* ---- free and copy ------------------------------------------------------------------------- */

void
cfg_free_list(const struct cfg_row *row, void *elems, size_t n)
{
	for (size_t i = 0; elems && i < n; i++)
		cfg_free(row->sub, (char *) elems + i * row->size);
	free(elems);
}

void
cfg_free_value(const struct cfg_row *row, void *base)
{
	void *v = CFG_AT(base, row->offset);
	size_t *n;
	char **strv;

	switch (row->type) {
	case CFG_STRING:
		free(*(char **) v);
		*(char **) v = NULL;
		break;
	case CFG_SECRET:
		cfg_free_secret(*(char **) v);
		*(char **) v = NULL;
		break;
	case CFG_STRV:
		strv = strv_at(row, base, &n);
		for (size_t i = 0; strv && i < *n; i++)
			free(strv[i]);
		free(strv);
		*(char ***) v = NULL;
		*n = 0;
		break;
	case CFG_INPUT:
		input_free(v);
		break;
	case CFG_GROUP:
	case CFG_MERGE:
		cfg_free(row->sub, v);
		break;
	case CFG_LIST:
		cfg_free_list(row, *(void **) v, *(size_t *) CFG_AT(base, row->count));
		*(void **) v = NULL;
		*(size_t *) CFG_AT(base, row->count) = 0;
		break;
	default:
		break; /* nothing on the heap */
	}
}

void
cfg_free(const struct cfg_table *t, void *base)
{
	for (size_t k = 0; k < t->n_rows; k++)
		cfg_free_value(&t->rows[k], base);
}

static int
copy_value(const struct cfg_row *row, void *dst, const void *src)
{
	void *d = CFG_AT(dst, row->offset);
	const void *s = CFG_AT(src, row->offset);
	size_t *dn, *sn;
	char **from;

	switch (row->type) {
	case CFG_BOOL:
		*(bool *) d = *(const bool *) s;
		return 0;
	case CFG_INT:
	case CFG_ENUM:
		cfg_int_set(d, row->size, cfg_int_get(s, row->size));
		return 0;
	case CFG_STRING:
	case CFG_SECRET:
		return !*(char *const *) s || (*(char **) d = strdup(*(char *const *) s)) ? 0
		                                                                          : -ENOMEM;
	case CFG_STRV:
		from = strv_at(row, src, &sn);
		(void) strv_at(row, dst, &dn);
		if (*sn == 0)
			return 0;
		if (!(*(char ***) d = calloc(*sn, sizeof(char *))))
			return -ENOMEM;
		*dn = *sn;
		for (size_t i = 0; i < *sn; i++)
			if (from[i] && !((*(char ***) d)[i] = strdup(from[i])))
				return -ENOMEM;
		return 0;
	case CFG_INPUT:
		return input_copy(d, s);
	case CFG_GROUP:
	case CFG_MERGE:
		return cfg_copy(row->sub, d, s);
	case CFG_LIST:
		sn = CFG_AT(src, row->count);
		dn = CFG_AT(dst, row->count);
		if (*sn == 0)
			return 0;
		if (!(*(char **) d = calloc(*sn, row->size)))
			return -ENOMEM;
		*dn = *sn;
		for (size_t i = 0; i < *sn; i++)
			if (cfg_copy(row->sub, *(char **) d + i * row->size,
			             *(char *const *) s + i * row->size) < 0)
				return -ENOMEM;
		return 0;
	}
	return 0;
}

int
cfg_copy(const struct cfg_table *t, void *dst, const void *src)
{
	for (size_t k = 0; k < t->n_rows; k++)
		if (copy_value(&t->rows[k], dst, src) < 0) {
			cfg_free(t, dst);
			return -ENOMEM;
		}
	return 0;
}

/* ---- comparison ---------------------------------------------------------------------------- */

static bool
str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool
value_equal(const struct cfg_row *row, const void *a, const void *b, enum cfg_reload at_least)
{
	const void *va = CFG_AT(a, row->offset), *vb = CFG_AT(b, row->offset);
	size_t *na, *nb;
	char **sa, **sb;

	switch (row->type) {
	case CFG_BOOL:
		return *(const bool *) va == *(const bool *) vb;
	case CFG_INT:
	case CFG_ENUM:
		return cfg_int_get(va, row->size) == cfg_int_get(vb, row->size);
	case CFG_STRING:
	case CFG_SECRET:
		return str_eq(*(char *const *) va, *(char *const *) vb);
	case CFG_STRV:
		sa = strv_at(row, a, &na);
		sb = strv_at(row, b, &nb);
		if (*na != *nb)
			return false;
		for (size_t i = 0; i < *na; i++)
			if (!str_eq(sa[i], sb[i]))
				return false;
		return true;
	case CFG_INPUT:
		return input_same(va, vb);
	case CFG_GROUP:
	case CFG_MERGE:
		return cfg_equal(row->sub, va, vb, at_least);
	case CFG_LIST:
		na = CFG_AT(a, row->count);
		nb = CFG_AT(b, row->count);
		if (*na != *nb)
			return false;
		for (size_t i = 0; i < *na; i++)
			if (!cfg_equal(row->sub, *(char *const *) va + i * row->size,
			               *(char *const *) vb + i * row->size, at_least))
				return false;
		return true;
	}
	return true;
}

bool
cfg_value_equal(const struct cfg_row *row, const void *a, const void *b)
{
	return value_equal(row, a, b, RELOAD_NONE);
}

bool
cfg_equal(const struct cfg_table *t, const void *a, const void *b, enum cfg_reload at_least)
{
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct cfg_row *row = &t->rows[k];
		bool container = row->type == CFG_GROUP || row->type == CFG_MERGE;

		/* A group holds rows of every kind: each says for itself. */
		if (!container && row->reload < at_least)
			continue;
		if (!value_equal(row, a, b, at_least))
			return false;
	}
	return true;
}

const struct cfg_row *
cfg_find(const struct cfg_table *t, const char *key, size_t *ret_offset)
{
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct cfg_row *row = &t->rows[k], *found;
		size_t off;

		if (row->type == CFG_MERGE && (found = cfg_find(row->sub, key, &off))) {
			*ret_offset = row->offset + off;
			return found;
		}
		if (row->key && !(row->flags & CFG_COMPUTED) && strcmp(row->key, key) == 0) {
			*ret_offset = 0;
			return row;
		}
	}
	return NULL;
}

const struct cfg_row *
cfg_lookup(const struct cfg_table *t, void *base, const char *path, void **ret_base)
{
	char key[PATH_SIZE], *dot;
	const struct cfg_row *row;
	size_t offset;

	(void) snprintf(key, sizeof(key), "%s", path);
	dot = strchr(key, '.');
	if (dot)
		*dot = '\0';
	row = cfg_find(t, key, &offset);
	if (!row)
		return NULL;
	base = CFG_AT(base, offset);
	if (!dot) {
		*ret_base = base;
		return row;
	}
	return row->type == CFG_GROUP ? cfg_lookup(row->sub, CFG_AT(base, row->offset),
	                                           path + (dot - key) + 1, ret_base)
	                              : NULL;
}

/* ---- checks ------------------------------------------------------------------------------- */

/* "expected X": the row's words (the input kinds' for an input). */
static const char *
row_expect(const struct cfg_row *row, char *buf, size_t size)
{
	return row->type == CFG_INPUT ? input_expect(buf, size) : row->expect;
}

int
cfg_check_string(const struct cfg_row *row, const char *s, const char *path, struct problem *p)
{
	size_t len = strlen(s), at;

	/* An empty entry of a list of names keeps the learned name. */
	if (len == 0 && row->type != CFG_STRV)
		return cfg_blame(p, path, "expected %s", row->expect);
	if (row->type != CFG_STRV && len > (size_t) row->max)
		return cfg_blame(p, path, "%zu bytes: expected at most %lld", len, row->max);
	if ((row->flags & CFG_UTF8) && !cfg_utf8_valid(s, &at))
		return cfg_blame(p, path, "byte %zu: expected UTF-8", at + 1);
	if (row->valid && !row->valid(s))
		return cfg_blame(p, path, "expected %s", row->expect);
	return 0;
}

static long long
names_count(const char *const *names)
{
	long long n = 0;

	while (names[n])
		n++;
	return n;
}

static int
check_value(const struct cfg_row *row, const void *base, const char *path, struct problem *p)
{
	const void *v = CFG_AT(base, row->offset);
	char expect[128], elem[PATH_SIZE];
	long long n;
	size_t *count;
	char **strv;
	int r = 0;

	switch (row->type) {
	case CFG_INT:
		n = cfg_int_get(v, row->size);
		if (n < row->min || n > row->max)
			return cfg_blame(p, path, "expected %s", row->expect);
		return 0;
	case CFG_ENUM:
		n = cfg_int_get(v, row->size);
		if (n < 0 || n >= names_count(row->names))
			return cfg_blame(p, path, "expected %s", row->expect);
		return 0;
	case CFG_STRING:
	case CFG_SECRET:
		if (*(char *const *) v)
			return cfg_check_string(row, *(char *const *) v, path, p);
		if (row->flags & CFG_REQUIRED)
			return cfg_blame(p, path, "expected %s", row->expect);
		return 0;
	case CFG_STRV:
		strv = strv_at(row, base, &count);
		for (size_t i = 0; i < *count && r == 0; i++) {
			(void) snprintf(elem, sizeof(elem), "%s", path);
			cfg_path_index(elem, sizeof(elem), i);
			r = strv[i] ? cfg_check_string(row, strv[i], elem, p) : 0;
		}
		return r;
	case CFG_INPUT:
		if (!((const struct input_config *) v)->spec)
			return cfg_blame(p, path, "expected %s",
			                 row_expect(row, expect, sizeof(expect)));
		return 0;
	case CFG_GROUP:
	case CFG_MERGE:
		return cfg_check_values(row->sub, v, path, p);
	case CFG_LIST:
		count = CFG_AT(base, row->count);
		if (*count < (size_t) row->min || *count > (size_t) row->max)
			return cfg_blame(p, path, "%zu entries: expected %lld to %lld", *count,
			                 row->min, row->max);
		for (size_t i = 0; i < *count && r == 0; i++) {
			(void) snprintf(elem, sizeof(elem), "%s", path);
			cfg_path_index(elem, sizeof(elem), i);
			r = cfg_check_values(row->sub, *(char *const *) v + i * row->size, elem, p);
		}
		return r;
	default:
		return 0;
	}
}

int
cfg_check_values(const struct cfg_table *t, const void *base, const char *path, struct problem *p)
{
	char key[PATH_SIZE];

	for (size_t k = 0; k < t->n_rows; k++) {
		const struct cfg_row *row = &t->rows[k];
		int r;

		(void) snprintf(key, sizeof(key), "%s", path);
		if (row->type != CFG_MERGE)
			cfg_path_push(key, sizeof(key), row->key);
		r = check_value(row, base, key, p);
		if (r < 0)
			return r;
	}
	return 0;
}

int
cfg_enum_parse(const struct cfg_row *row, void *base, const char *name)
{
	for (long long i = 0; row->names[i]; i++)
		if (strcmp(name, row->names[i]) == 0) {
			cfg_int_set(CFG_AT(base, row->offset), row->size, i);
			return 0;
		}
	return -EINVAL;
}
