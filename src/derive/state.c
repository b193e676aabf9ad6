/* SPDX-License-Identifier: MIT */
/*
 * The state file: a few hundred bytes of text, one "key values" line each, between a version
 * line and an "end" line (a file without it was cut short):
 *
 *   linkyd-derive 1
 *   serial 041776199277
 *   ngtf TEMPO
 *   learned 3 HC BLANC
 *   register EASF03 487134 1581718084        label, last value (Wh), when (time_t)
 *   period day 1581634800 0                  kind, start (time_t), partial
 *   energy day EASF03 4000                   kind, register, Wh so far
 *   previous day 1581548400 0
 *   previous_energy day EASF03 12000
 *   end
 *
 * Written whole to "<file>.tmp", fsync'ed, renamed over the file and the directory fsync'ed, so
 * that a power cut leaves the old file or the new one. Anything unexpected when reading (a
 * line, a number, a register, a missing end) discards the whole file: starting afresh loses
 * the current periods, a wrong value would be published as the truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define STATE_VERSION "linkyd-derive 1"
#define STATE_MAX     65536 /* a real file is under 4 KiB */

static const char *const kinds[PERIODS] = {"hour", "day", "month"};

/* ---- writing ------------------------------------------------------------------------------ */

static void
save_period(FILE *f, const char *what, int k, const struct period *p)
{
	if (!p->start)
		return;
	fprintf(f, "%s %s %lld %d\n", what, kinds[k], (long long) p->start, p->partial);
	for (size_t r = 0; r < reg_count; r++)
		if (p->wh[r])
			fprintf(f, "%s_energy %s %s %" PRIu64 "\n", what, kinds[k],
			        reg_label((int) r), p->wh[r]);
}

static void
write_state(const struct derive *d, FILE *f)
{
	fprintf(f, "%s\n", STATE_VERSION);
	if (d->serial[0])
		fprintf(f, "serial %s\n", d->serial);
	if (d->ngtf[0])
		fprintf(f, "ngtf %s\n", d->ngtf);
	for (unsigned i = 0; i < DERIVE_SUPPLIER_INDEXES; i++)
		if (d->learned[i][0])
			fprintf(f, "learned %u %s\n", i + 1, d->learned[i]);
	for (size_t r = 0; r < reg_count; r++)
		if (d->regs[r].counted)
			fprintf(f, "register %s %" PRIu64 " %lld\n", reg_label((int) r),
			        d->regs[r].last, (long long) d->regs[r].last_wall);
	for (int k = 0; k < PERIODS; k++) {
		save_period(f, "period", k, &d->cur[k]);
		save_period(f, "previous", k, &d->prev[k]);
	}
	fprintf(f, "end\n");
}

static int
fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	(void) close(fd);
	return r;
}

int
derive_save(struct derive *d)
{
	FILE *f;
	int fd, r = 0;

	/* Cleared even when the write fails: a broken card is tried again at the next period's
	 * end (and on stop), not at every frame. */
	d->save_due = false;
	if (!d->state_file)
		return 0;
	fd = open(d->tmp_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		(void) close(fd);
		goto out_unlink;
	}
	write_state(d, f);
	/* ferror() may come from a write long ago, errno from nothing: never rename on it. */
	if (fflush(f) != 0 || ferror(f) || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(d->tmp_file, d->state_file) < 0)
		r = -errno;
	if (r == 0)
		return fsync_dir(d->state_file);
out_unlink:
	(void) unlink(d->tmp_file);
	return r ? r : -EIO;
}

int
derive_save_due(struct derive *d)
{
	int r;

	if (!d->save_due || !d->state_file)
		return 0;
	r = derive_save(d);
	return r < 0 ? r : 1;
}

/* ---- reading ------------------------------------------------------------------------------ */

static int
kind_of(const char *s)
{
	for (int k = 0; k < PERIODS; k++)
		if (strcmp(s, kinds[k]) == 0)
			return k;
	return -1;
}

/* A whole unsigned decimal number, nothing else. */
static bool
number(const char *s, uint64_t *ret)
{
	return tic_parse_uint(s, ret) == 0;
}

/* The rest of a line after "key ": a name, normalised. */
static bool
text(const char *s, char *dst)
{
	name_normalise(dst, s);
	return dst[0] != '\0';
}

/* One line, split at its first spaces into at most 4 words (the last keeps its spaces). */
static int
parse_line(struct derive *d, char *line)
{
	char *w[4] = {line};
	int n = 1, k, r;
	uint64_t a, b;

	while (n < 4 && (w[n] = strchr(w[n - 1], ' '))) {
		*w[n]++ = '\0';
		n++;
	}
	if (strcmp(w[0], "serial") == 0 && n == 2 && strlen(w[1]) < sizeof(d->serial)) {
		strcpy(d->serial, w[1]);
		return 0;
	}
	if (strcmp(w[0], "ngtf") == 0 && n >= 2) {
		/* The name may hold spaces: take the rest of the line. */
		for (int i = 2; i < n; i++)
			w[i][-1] = ' ';
		return text(w[1], d->ngtf) ? 0 : -EBADMSG;
	}
	if (strcmp(w[0], "learned") == 0 && n >= 3 && number(w[1], &a) && a >= 1 &&
	    a <= DERIVE_SUPPLIER_INDEXES) {
		if (n == 4)
			w[3][-1] = ' ';
		return text(w[2], d->learned[a - 1]) ? 0 : -EBADMSG;
	}
	if (strcmp(w[0], "register") == 0 && n == 4 && (r = reg_find(w[1])) >= 0 &&
	    number(w[2], &a) && number(w[3], &b) && b > 0) {
		d->regs[r] =
		    (struct reg_state){.counted = true, .last = a, .last_wall = (time_t) b};
		if (d->last_wall < (time_t) b)
			d->last_wall = (time_t) b;
		return 0;
	}
	if ((strcmp(w[0], "period") == 0 || strcmp(w[0], "previous") == 0) && n == 4 &&
	    (k = kind_of(w[1])) >= 0 && number(w[2], &a) && a > 0 && number(w[3], &b) && b <= 1) {
		struct period *p = w[0][1] == 'e' ? &d->cur[k] : &d->prev[k]; /* pEriod, pRevious */

		p->start = (time_t) a;
		p->partial = b;
		return 0;
	}
	if ((strcmp(w[0], "period_energy") == 0 || strcmp(w[0], "previous_energy") == 0) &&
	    n == 4 && (k = kind_of(w[1])) >= 0 && (r = reg_find(w[2])) >= 0 && number(w[3], &a)) {
		struct period *p = w[0][1] == 'e' ? &d->cur[k] : &d->prev[k];

		/* After its period line: a period has no energy without a start. */
		if (!p->start)
			return -EBADMSG;
		p->wh[r] = a;
		return 0;
	}
	return -EBADMSG;
}

static int
parse(struct derive *d, char *buf)
{
	char *line = buf, *nl;
	bool ended = false;

	if (strncmp(buf, STATE_VERSION "\n", sizeof(STATE_VERSION)) != 0)
		return -EBADMSG;
	line += sizeof(STATE_VERSION);
	for (; *line; line = nl + 1) {
		int r;

		nl = strchr(line, '\n');
		if (!nl || ended)
			return -EBADMSG;
		*nl = '\0';
		if (strcmp(line, "end") == 0) {
			ended = true;
			continue;
		}
		r = parse_line(d, line);
		if (r < 0)
			return r;
	}
	return ended ? 0 : -EBADMSG;
}

int
state_load(struct derive *d)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd = open(d->state_file, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	buf = malloc(STATE_MAX + 1);
	if (!buf) {
		(void) close(fd);
		return -ENOMEM;
	}
	while (len < STATE_MAX && (n = read(fd, buf + len, STATE_MAX - len)) > 0)
		len += (size_t) n;
	(void) close(fd);
	buf[len] = '\0';
	/* A NUL inside would hide the rest of the file from the parser. */
	r = len == STATE_MAX || strlen(buf) != len ? -EBADMSG : parse(d, buf);
	free(buf);
	return r < 0 ? r : 1;
}
