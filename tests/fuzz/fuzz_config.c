/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration loader (src/config/): the input is the whole file, read
 * through config_load() as the daemon reads /etc/linkyd.conf, so that the bounded reader, the
 * @include scanner, libconfig, the table-driven reading, the checks and the printer all see it.
 * The loader only takes a path: the bytes go to a memfd, named by /proc/self/fd/N, rewritten for
 * every input (no file system write, nothing left behind by a crash).
 *
 * Invariants (abort() when broken):
 *   - a failure is -EINVAL or -ENOMEM, gives no snapshot, and one line of error naming the file
 *     and a line of it ("FILE:LINE: ..."), unless it came from a file that an @include named;
 *   - a success gives a snapshot whose meters each have a name, an input, a topic and a client
 *     id; config_print() of it reads back into a snapshot that prints the same text (secrets
 *     masked, so the two may differ there); reloading the unchanged input keeps every meter
 *     running (config_meter_kept());
 *   - everything is freed (LeakSanitizer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linkyd/config.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two files: the input, then config_print()'s text read back. */
static int fds[2] = {-1, -1};
static char paths[2][32];

static void
put(int i, const void *data, size_t size)
{
	if (fds[i] < 0) {
		fds[i] = memfd_create(i ? "fuzz_config-printed" : "fuzz_config", MFD_CLOEXEC);
		CHECK(fds[i] >= 0);
		(void) snprintf(paths[i], sizeof(paths[i]), "/proc/self/fd/%d", fds[i]);
	}
	CHECK(ftruncate(fds[i], 0) == 0);
	CHECK(pwrite(fds[i], data, size, 0) == (ssize_t) size);
}

static int
load(int i, const struct linkyd_config **c, char *err)
{
	/* A fixed host name: the default client ids hash it, and the read-back must match. */
	struct config_args args = {.path = paths[i], .hostname = "fuzz-host"};

	*c = NULL;
	err[0] = '\0';
	return config_load(&args, c, err, CONFIG_ERROR_SIZE);
}

static char *
print(const struct linkyd_config *c, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	CHECK(out);
	CHECK(config_print(c, out) == 0);
	CHECK(fclose(out) == 0);
	return text;
}

/* Whether err names the input and a line of it: "PATH:LINE: ", LINE within the input's lines (one
 * past the last for what libconfig finds at the end). An error in an included file names that
 * file. */
static bool
error_located(const char *err, const uint8_t *data, size_t size)
{
	size_t n = strlen(paths[0]), lines = 1;
	char *end;
	unsigned long line;

	if (!err[0] || strchr(err, '\n'))
		return false;
	if (strncmp(err, paths[0], n) != 0 || err[n] != ':')
		return memmem(data, size, "@include", 8) != NULL;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	line = strtoul(err + n + 1, &end, 10);
	return end > err + n + 1 && *end == ':' && line >= 1 && line <= lines + 1;
}

static void
check_loaded(const struct linkyd_config *c)
{
	const struct linkyd_config *again;
	char err[CONFIG_ERROR_SIZE], *text, *text2;
	size_t len, len2;

	CHECK(c->n_meters >= 1 && c->meters);
	for (size_t i = 0; i < c->n_meters; i++) {
		const struct meter_config *m = &c->meters[i];

		CHECK(m->name && m->input.spec && m->topic && m->client_id);
	}
	text = print(c, &len);
	put(1, text, len);
	if (load(1, &again, err) != 0) {
		(void) fprintf(stderr, "fuzz_config: the printed configuration fails: %s\n%s", err,
		               text);
		abort();
	}
	text2 = print(again, &len2);
	CHECK(len == len2 && memcmp(text, text2, len) == 0);
	free(text);
	free(text2);
	config_unref(again);
	/* The same file again: a reload with nothing changed restarts nothing. */
	CHECK(load(0, &again, err) == 0);
	for (size_t i = 0; i < c->n_meters; i++)
		CHECK(config_meter_kept(c, again, &c->meters[i]));
	config_unref(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct linkyd_config *c;
	char err[CONFIG_ERROR_SIZE];
	int r;

	put(0, data, size);
	r = load(0, &c, err);
	if (r == 0) {
		CHECK(c);
		check_loaded(c);
		config_unref(c);
	} else {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(!c);
		if (!error_located(err, data, size)) {
			(void) fprintf(stderr, "fuzz_config: error without its line: %s\n", err);
			abort();
		}
	}
	return 0;
}
