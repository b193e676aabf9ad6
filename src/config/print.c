/* SPDX-License-Identifier: MIT */
/*
 * config_print(): the effective configuration in libconfig syntax, row by row of the settings
 * table, secrets masked, so that what the daemon will run with can be checked before it starts.
 * A meter's publish group shows only what differs from the global one it starts from, as one
 * would write it; what was worked out (client ids) and what is unset are comments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config-internal.h"

#define SECRET_MASK "********"

static int print_rows(FILE *out, const struct cfg_table *t, const void *base, const void *proto,
                      bool diff, unsigned depth);

static void
indent(FILE *out, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		(void) fputc('\t', out);
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

/* ( { ... }, ... ) from entry first on. Each element's proto is what its init() alone makes of
 * it, for the groups it inherits. */
static int
print_list(FILE *out, const struct cfg_row *row, const void *base, size_t first, unsigned depth)
{
	size_t n = *(const size_t *) CFG_AT(base, row->count);
	const char *elems = *(char *const *) CFG_AT(base, row->offset);
	void *proto = NULL;
	int r = 0;

	if (row->sub->init && !(proto = cfg_list_new(row, base, 1)))
		return -ENOMEM;
	(void) fprintf(out, "%s = (\n", row->key);
	for (size_t i = first; i < n && r == 0; i++) {
		indent(out, depth + 1);
		(void) fputs("{\n", out);
		r = print_rows(out, row->sub, elems + i * row->size, proto, false, depth + 2);
		indent(out, depth + 1);
		(void) fputs(i + 1 < n ? "},\n" : "}\n", out);
	}
	indent(out, depth);
	(void) fputs(");\n", out);
	cfg_free_list(row, proto, proto ? 1 : 0);
	return r;
}

/* One row; with proto, only if it differs from proto's. */
static int
print_row(FILE *out, const struct cfg_row *row, const void *base, const void *proto, unsigned depth)
{
	const void *v = CFG_AT(base, row->offset);
	const char *s;
	char *const *strv;
	size_t n, first = 0;
	int r;

	if (row->type == CFG_LIST) {
		n = *(const size_t *) CFG_AT(base, row->count);
		/* An appended list shows the entries added to what it inherited. */
		if (proto && (row->flags & CFG_APPEND))
			first = *(const size_t *) CFG_AT(proto, row->count);
		if (first >= n)
			return 0;
		indent(out, depth);
		return print_list(out, row, base, first, depth);
	}
	if (proto && cfg_value_equal(row, base, proto))
		return 0;
	if ((row->flags & CFG_HIDE_UNSET) && !*(char *const *) v)
		return 0;
	indent(out, depth);
	switch (row->type) {
	case CFG_BOOL:
		(void) fprintf(out, "%s = %s;\n", row->key, *(const bool *) v ? "true" : "false");
		break;
	case CFG_INT:
		(void) fprintf(out, "%s = %lld;\n", row->key, cfg_int_get(v, row->size));
		break;
	case CFG_ENUM:
		(void) fprintf(out, "%s = \"%s\";\n", row->key,
		               row->names[cfg_int_get(v, row->size)]);
		break;
	case CFG_STRING:
	case CFG_SECRET:
		s = *(char *const *) v;
		if (!s) {
			(void) fprintf(out, "# %s: not set%s%s\n", row->key, row->unset ? ", " : "",
			               row->unset ? row->unset : "");
			break;
		}
		(void) fprintf(out, (row->flags & CFG_COMPUTED) ? "# %s: " : "%s = ", row->key);
		print_string(out, row->type == CFG_SECRET ? SECRET_MASK : s);
		(void) fputs((row->flags & CFG_COMPUTED) ? " (worked out)\n" : ";\n", out);
		break;
	case CFG_STRV:
		n = *(const size_t *) CFG_AT(base, row->count);
		strv = *(char **const *) v;
		(void) fprintf(out, "%s = (", row->key);
		for (size_t k = 0; k < n; k++) {
			(void) fputs(k ? ", " : " ", out);
			print_string(out, strv[k] ? strv[k] : "");
		}
		(void) fputs(" );\n", out);
		break;
	case CFG_INPUT:
		(void) fprintf(out, "%s = ", row->key);
		print_string(out, ((const struct input_config *) v)->spec);
		(void) fputs(";\n", out);
		break;
	case CFG_GROUP:
		(void) fprintf(out, "%s = {\n", row->key);
		r = print_rows(out, row->sub, v, proto ? CFG_AT(proto, row->offset) : NULL, proto,
		               depth + 1);
		indent(out, depth);
		(void) fputs("};\n", out);
		return r;
	default:
		break; /* lists above, merges in print_rows() */
	}
	return 0;
}

/* t's rows; proto (with diff, or for the rows that inherit) is what base started as. */
static int
print_rows(FILE *out, const struct cfg_table *t, const void *base, const void *proto, bool diff,
           unsigned depth)
{
	for (size_t k = 0; k < t->n_rows; k++) {
		const struct cfg_row *row = &t->rows[k];
		bool compare = proto && (diff || (row->flags & CFG_INHERITS));
		int r;

		if (row->type == CFG_MERGE)
			r = print_rows(out, row->sub, CFG_AT(base, row->offset),
			               proto ? CFG_AT(proto, row->offset) : NULL, diff, depth);
		else if (row->type == CFG_STRV && *(const size_t *) CFG_AT(base, row->count) == 0)
			r = 0; /* none, the default */
		else
			r = print_row(out, row, base, compare ? proto : NULL, depth);
		if (r < 0)
			return r;
	}
	return 0;
}

int
config_print(const struct linkyd_config *c, FILE *out)
{
	(void) fputs("# linkyd: effective configuration (secrets masked)\n", out);
	return print_rows(out, &cfg_root, c, NULL, false, 0);
}
