/* SPDX-License-Identifier: MIT */
/*
 * `linkyd --decode FILE`: the decoding core on a capture, for tests, bug reports and people who
 * want to see what their meter says before they set up a broker.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "linkyd/decode.h"

struct decode {
	enum json_format format;
	char json[JSON_FRAME_MAX];
};

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct decode *d = userdata;
	int n = json_encode_frame(frame, d->format, d->json, sizeof(d->json));

	if (n < 0) {
		fprintf(stderr, "linkyd: cannot encode a frame: %s\n", strerror(-n));
		return 0;
	}
	d->json[n] = '\n';
	return fwrite(d->json, 1, (size_t) n + 1, stdout) == (size_t) n + 1 ? 0 : -EIO;
}

static void
print_summary(const char *path, const struct tic_stats *st)
{
	fprintf(stderr,
	        "linkyd: %s: %llu frames, %llu groups; rejected groups: checksum %llu, "
	        "format %llu, framing %llu, overlong %llu, byte %llu; frames interrupted %llu, "
	        "empty %llu; historique checksums %llu (+%llu summing the last SP); "
	        "bytes skipped %llu\n",
	        path, (unsigned long long) st->frames, (unsigned long long) st->groups,
	        (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)],
	        (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)],
	        (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_FRAMING)],
	        (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_OVERLONG)],
	        (unsigned long long) st->errors[TIC_ERR_INDEX(TIC_ERR_BYTE)],
	        (unsigned long long) st->frames_interrupted, (unsigned long long) st->frames_empty,
	        (unsigned long long) st->hist_sum_excl, (unsigned long long) st->hist_sum_incl,
	        (unsigned long long) st->bytes_skipped);
}

int
decode_run(const char *path, enum json_format format)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};
	static struct decode d;
	static struct tic_parser parser;
	char buf[65536];
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int status = EX_OK;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "linkyd: cannot open '%s': %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	d.format = format;
	tic_parser_init(&parser, &cbs, &d);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "linkyd: cannot read '%s': %s\n", path, strerror(errno));
			status = EX_NOINPUT;
			break;
		}
		if (tic_parser_feed(&parser, buf, (size_t) n) != (size_t) n) {
			fprintf(stderr, "linkyd: cannot write to standard output: %s\n",
			        strerror(errno));
			status = EX_IOERR;
			break;
		}
	}
	tic_parser_reset(&parser);
	if (!is_stdin)
		(void) close(fd);
	if (fflush(stdout) != 0 && status == EX_OK) {
		fprintf(stderr, "linkyd: cannot write to standard output: %s\n", strerror(errno));
		status = EX_IOERR;
	}
	print_summary(is_stdin ? "<stdin>" : path, tic_parser_stats(&parser));
	return status;
}
