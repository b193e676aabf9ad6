/* SPDX-License-Identifier: MIT */
/*
 * CPU per D2L frame beside the serial path's: the frames of a real capture, sealed as its D2L
 * would push them (JSON, CRC, AES-128-CBC), then per stage over and over:
 *
 *   none    nothing per frame: what setting up costs, subtracted by bench/run.sh
 *   serial  the TIC parser on the frame's bytes (the meter's, in the label table's order), as a
 *           serial meter's line does
 *   d2l     decryption and CRC, the JSON payload rebuilt into the TIC frame, the same parser
 *
 * `linkyd_bench_d2l --stage S --capture FILE --frames N` runs one stage (for callgrind); without
 * --stage every stage is timed (CPU time, best of --reps).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linkyd/d2l.h"
#include "linkyd/tic.h"

#define MAX_FRAMES 64

enum stage { STAGE_NONE, STAGE_SERIAL, STAGE_D2L, N_STAGES };
static const char *const stage_names[] = {"none", "serial", "d2l"};

struct frame {
	char *tic; /* as the meter sent it */
	size_t tic_len;
	uint8_t *sealed; /* as its D2L pushes it */
	size_t size;
};

struct bench {
	struct frame frames[MAX_FRAMES];
	size_t n_frames, tic_bytes, sealed_bytes;
	struct tic_parser parser;
	struct d2l_rebuild rb;
	struct d2l_cipher *cipher;
	uint64_t delivered, groups;
	uint8_t work[D2L_FRAME_MAX];
	char tic[TIC_FRAME_BYTES];
};

static const uint8_t key[16] = {0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34,
                                0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34};
static const uint8_t iv[16] = {0xfc, 0x91, 0x83, 0x7f, 0xa2, 0xbd, 0xba, 0x1f,
                               0x9f, 0xe9, 0x85, 0x45, 0x2f, 0xdb, 0x92, 0x5e};

static void
die(const char *what)
{
	fprintf(stderr, "linkyd_bench_d2l: %s\n", what);
	exit(EXIT_FAILURE);
}

static void
append(char **s, size_t *len, const char *add)
{
	size_t n = strlen(add);

	*s = realloc(*s, *len + n + 1);
	if (!*s)
		die("out of memory");
	memcpy(*s + *len, add, n + 1);
	*len += n;
}

/* The JSON a D2L pushes for a frame (tests/unit/test_d2l.c says how it writes one). */
static char *
d2l_json(const struct tic_frame *f, size_t *ret_len)
{
	char *s = NULL, member[256];
	size_t len = 0;
	bool hist = f->mode == TIC_MODE_HISTORIQUE;

	append(&s, &len,
	       hist ? "{ \"_TYPE_TRAME\":\"HISTORIQUE\"" : "{ \"_TYPE_TRAME\":\"STANDARD\"");
	append(&s, &len, ", \"_ID_D2L\":\"011601000001\", \"_DATE_FIRMWARE\":\"Jul 7 2017\"");
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct tic_group *g = &f->groups[i];

		if (hist && strcmp(g->label, "IINST") == 0)
			snprintf(member, sizeof(member),
			         ", \"IINST1\":\"%s\", \"IINST2\":\"0\", \"IINST3\":\"0\"",
			         g->value);
		else if (g->horodate)
			snprintf(member, sizeof(member), ", \"%s\":\"%s%s%s\"", g->label,
			         g->horodate, g->value[0] ? "|" : "", g->value);
		else
			snprintf(member, sizeof(member), ", \"%s\":\"%s\"", g->label, g->value);
		append(&s, &len, member);
	}
	append(&s, &len, ", \"_HORLOGE\":\"37537473\" }");
	*ret_len = len;
	return s;
}

static uint8_t *
seal(struct bench *b, const char *json, size_t n, size_t *ret_size)
{
	size_t size = (D2L_PREFIX_SIZE + n + 15) / 16 * 16;
	uint8_t *f = calloc(1, size);
	uint16_t crc;

	if (!f || size > D2L_FRAME_MAX)
		die("a frame too large for a D2L");
	f[0] = D2L_VERSION;
	f[2] = (uint8_t) size;
	f[3] = (uint8_t) (size >> 8);
	f[12] = 1;
	f[34] = (uint8_t) n;
	f[35] = (uint8_t) (n >> 8);
	f[36] = D2L_PUSH_JSON;
	memcpy(f + D2L_PREFIX_SIZE, json, n);
	crc = d2l_crc16(f, size);
	f[32] = (uint8_t) crc;
	f[33] = (uint8_t) (crc >> 8);
	if (d2l_cipher_run(b->cipher, true, f + 16, size - 16) < 0)
		die("cannot encrypt");
	*ret_size = size;
	return f;
}

static int
collect(const struct tic_frame *frame, void *userdata)
{
	struct bench *b = userdata;
	struct frame *f;
	char *json;
	size_t len;

	(void) frame;
	if (b->n_frames == MAX_FRAMES)
		return 0;
	f = &b->frames[b->n_frames++];
	json = d2l_json(frame, &len);
	f->sealed = seal(b, json, len, &f->size);
	/* The serial stage parses the same frame as its meter sends it, whatever noise the
	 * capture has around it. */
	if (d2l_json_to_tic(&b->rb, json, len, b->tic, sizeof(b->tic), &f->tic_len,
	                    &(struct d2l_frame_info){0}) < 0 ||
	    !(f->tic = malloc(f->tic_len)))
		die("cannot rebuild a frame");
	memcpy(f->tic, b->tic, f->tic_len);
	free(json);
	b->sealed_bytes += f->size;
	b->tic_bytes += f->tic_len;
	return 0;
}

static int
count(const struct tic_frame *frame, void *userdata)
{
	struct bench *b = userdata;

	b->delivered++;
	b->groups += frame->n_groups;
	return 0;
}

static void
load(struct bench *b, const char *path)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = collect};
	FILE *f = fopen(path, "rb");
	char *data;
	long len;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) <= 0)
		die("cannot read the capture");
	rewind(f);
	data = malloc((size_t) len);
	if (!data || fread(data, 1, (size_t) len, f) != (size_t) len)
		die("cannot read the capture");
	fclose(f);
	if (d2l_cipher_new(key, iv, &b->cipher) < 0)
		die("no libcrypto");
	tic_parser_init(&b->parser, &cbs, b);
	tic_parser_feed(&b->parser, data, (size_t) len);
	if (b->n_frames == 0)
		die("no frame in the capture");
	free(data);
	tic_parser_init(&b->parser, &(struct tic_parser_callbacks){.on_frame = count}, b);
}

static void
run(struct bench *b, enum stage stage, unsigned long frames)
{
	static const struct tic_parser_callbacks cbs = {.on_frame = count};

	tic_parser_init(&b->parser, &cbs, b);
	for (unsigned long i = 0; i < frames; i++) {
		const struct frame *f = &b->frames[i % b->n_frames];
		struct d2l_request req;
		struct d2l_frame_info info;
		size_t len;

		switch (stage) {
		case STAGE_NONE:
			break;
		case STAGE_SERIAL:
			tic_parser_feed(&b->parser, f->tic, f->tic_len);
			break;
		case STAGE_D2L:
			memcpy(b->work, f->sealed, f->size);
			if (d2l_frame_open(b->work, f->size, b->cipher, &req) < 0 ||
			    d2l_json_to_tic(&b->rb, req.json, req.payload_len, b->tic,
			                    sizeof(b->tic), &len, &info) < 0)
				die("a frame did not decode");
			tic_parser_feed(&b->parser, b->tic, len);
			break;
		default:
			break;
		}
	}
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"stage", required_argument, NULL, 's'},
	    {"capture", required_argument, NULL, 'c'},
	    {"frames", required_argument, NULL, 'n'},
	    {"reps", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	static struct bench b;
	const char *capture = NULL;
	unsigned long frames = 20000;
	unsigned reps = 5;
	int stage = -1, opt;

	while ((opt = getopt_long(argc, argv, "s:c:n:r:", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			for (int i = 0; i < N_STAGES; i++)
				if (strcmp(optarg, stage_names[i]) == 0)
					stage = i;
			if (stage < 0)
				die("--stage none|serial|d2l");
			break;
		case 'c':
			capture = optarg;
			break;
		case 'n':
			frames = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			reps = (unsigned) strtoul(optarg, NULL, 10);
			break;
		default:
			die("usage: linkyd_bench_d2l [--stage none|serial|d2l] --capture FILE "
			    "[--frames N] [--reps N]");
		}
	}
	if (!capture || !frames || !reps)
		die("usage: linkyd_bench_d2l [--stage none|serial|d2l] --capture FILE [--frames N] "
		    "[--reps N]");
	load(&b, capture);
	if (stage >= 0) {
		run(&b, stage, frames);
		printf("stage=%s frames=%lu delivered=%llu groups=%llu tic_bytes=%zu "
		       "sealed_bytes=%zu n=%zu\n",
		       stage_names[stage], frames, (unsigned long long) b.delivered,
		       (unsigned long long) b.groups, b.tic_bytes, b.sealed_bytes, b.n_frames);
		return 0;
	}
	for (int s = STAGE_SERIAL; s < N_STAGES; s++) {
		double best = 0;

		for (unsigned r = 0; r < reps; r++) {
			double t0 = cpu_ns();

			run(&b, s, frames);
			if (!r || cpu_ns() - t0 < best)
				best = cpu_ns() - t0;
		}
		printf("%s: %.0f ns CPU per frame (%zu bytes of TIC, %zu sealed, per frame)\n",
		       stage_names[s], best / (double) frames, b.tic_bytes / b.n_frames,
		       b.sealed_bytes / b.n_frames);
	}
	return 0;
}
