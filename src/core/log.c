/* SPDX-License-Identifier: MIT */
/*
 * Log lines to stderr: plain text on a terminal, "<N>"-prefixed lines when stderr is the
 * journal's stream (its dev:inode is in $JOURNAL_STREAM), so that journald keeps the priority.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linkyd/log.h"

static int max_priority = LOG_NOTICE;
static int verbosity_level;
static bool to_journal;

static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(int verbosity)
{
	verbosity_level = verbosity;
	max_priority = verbosity >= 2   ? LOG_DEBUG
	               : verbosity == 1 ? LOG_INFO
	               : verbosity == 0 ? LOG_NOTICE
	                                : LOG_ERR;
	to_journal = stderr_is_journal();
}

int
log_verbosity(void)
{
	return verbosity_level;
}

static void
log_line(int priority, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (priority > max_priority)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (to_journal)
		fprintf(stderr, "<%d>%s%s\n", priority, line, suffix);
	else
		fprintf(stderr, "linkyd: %s%s\n", line, suffix);
}

void
log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(priority, "", fmt, ap);
	va_end(ap);
}

int
log_errno(int priority, int err, const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(err < 0 ? -err : err));
	va_start(ap, fmt);
	log_line(priority, suffix, fmt, ap);
	va_end(ap);
	return err;
}
