/* SPDX-License-Identifier: MIT */
/*
 * The one place where the HTTP pages read a value out of a frame: by the label's spelling and
 * the value's string today. Once the typed records land (struct tic_group's id, num, stge),
 * these functions switch to them and nothing else in src/http/ changes.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const struct tic_group *
frame_find(const struct tic_frame *f, const char *label)
{
	for (unsigned i = 0; i < f->n_groups; i++)
		if (strcmp(f->groups[i].label, label) == 0)
			return &f->groups[i];
	return NULL;
}

bool
group_number(const struct tic_group *g, uint64_t *ret)
{
	return g->def && g->def->format == TIC_FMT_DIGITS && tic_parse_uint(g->value, ret) == 0;
}

bool
frame_number(const struct tic_frame *f, const char *label, uint64_t *ret)
{
	const struct tic_group *g = frame_find(f, label);

	return g && group_number(g, ret);
}

const char *
frame_text(const struct tic_frame *f, const char *label, char *buf, size_t size)
{
	const struct tic_group *g = frame_find(f, label);
	size_t n;

	if (!g || size == 0)
		return NULL;
	/* Text labels (NGTF, LTARF) are padded with spaces to their width. */
	n = strspn(g->value, " ");
	(void) snprintf(buf, size, "%s", g->value + n);
	for (n = strlen(buf); n > 0 && buf[n - 1] == ' ';)
		buf[--n] = '\0';
	return buf;
}

bool
frame_stge(const struct tic_frame *f, struct tic_stge *ret)
{
	const struct tic_group *g = frame_find(f, "STGE");

	return g && tic_stge_decode(g->value, ret) == 0;
}
