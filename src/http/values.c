/* SPDX-License-Identifier: MIT */
/*
 * The one place where the HTTP pages read a value out of a frame: a label by its identity (the
 * parser typed every group), numbers and STGE as the parser typed them, text as the meter sent
 * it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const struct tic_group *
frame_find(const struct tic_frame *f, const char *label)
{
	enum tic_label_id id = tic_label_id(tic_label_find(label, strlen(label)));

	for (unsigned i = 0; id != TIC_L_UNKNOWN && i < f->n_groups; i++)
		if (f->groups[i].id == id)
			return &f->groups[i];
	return NULL;
}

bool
group_number(const struct tic_group *g, uint64_t *ret)
{
	const struct tic_label *def = tic_label_of(g->id);

	if (!def || def->format != TIC_FMT_DIGITS)
		return false;
	*ret = g->num;
	return true;
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

	if (!g || tic_label_of(g->id)->format != TIC_FMT_STGE)
		return false;
	*ret = g->stge;
	return true;
}
