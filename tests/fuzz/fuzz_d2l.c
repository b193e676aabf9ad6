/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the D2L frame decoder: the clear header, decryption and CRC, the JSON
 * payload and its rebuild into a TIC frame, which the line's parser then reads.
 *
 * The first input byte chooses what the rest is:
 *
 *   bit 0 clear  a PUSH_JSON payload: sealed here into a valid frame of the module (CRC right,
 *                encrypted with its key) and handed to the decoder, so that the fuzzer works on
 *                the JSON and the rebuild rather than on ciphertext no mutation gets through
 *   bit 0 set    bytes as a connection receives them: frames are cut from the stream by their
 *                headers and opened with the module's key, as src/source/d2l.c does
 *
 * Invariants (abort() on any, so that libFuzzer keeps the input): the rebuilt frame fits, starts
 * with STX and ends with ETX, holds LF ... CR groups of printable bytes (HT and SP as separators)
 * and nothing else, and the parser delivers at most one frame of at most as many groups from it,
 * with no checksum error (every check character is computed, never copied).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkyd/d2l.h"
#include "linkyd/tic.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[16] = {0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34,
                                0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34};
static const uint8_t iv[16] = {0xfc, 0x91, 0x83, 0x7f, 0xa2, 0xbd, 0xba, 0x1f,
                               0x9f, 0xe9, 0x85, 0x45, 0x2f, 0xdb, 0x92, 0x5e};

struct run {
	struct d2l_cipher *cipher;
	struct d2l_rebuild rb;
	struct tic_parser parser;
	unsigned frames, groups;
	char tic[TIC_FRAME_BYTES];
	uint8_t frame[D2L_FRAME_MAX];
};

static int
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct run *r = userdata;

	r->frames++;
	r->groups += frame->n_groups;
	return 0;
}

static const struct tic_parser_callbacks cbs = {.on_frame = on_frame};

static void
check_tic(struct run *r, const char *tic, size_t len, const struct d2l_frame_info *info)
{
	bool in_group = false;

	CHECK(len >= 2 && len <= sizeof(r->tic));
	CHECK(tic[0] == TIC_STX && tic[len - 1] == TIC_ETX);
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char) tic[i];

		if (c == TIC_LF) {
			CHECK(!in_group);
			in_group = true;
		} else if (c == TIC_CR) {
			CHECK(in_group);
			in_group = false;
		} else {
			CHECK(in_group && (c == TIC_HT || (c >= 0x20 && c <= 0x7e)));
		}
	}
	CHECK(!in_group);
	r->frames = r->groups = 0;
	tic_parser_reset(&r->parser);
	CHECK(tic_parser_feed(&r->parser, tic, len) == len);
	CHECK(r->frames <= 1 && r->groups <= info->groups);
	CHECK(tic_parser_stats(&r->parser)->errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)] == 0);
}

/* A request opened: its JSON rebuilt and checked, twice (the rebuild keeps state across
 * frames). */
static void
decode(struct run *r, const struct d2l_request *req)
{
	for (int i = 0; i < 2 && req->type == D2L_PUSH_JSON; i++) {
		struct d2l_frame_info info;
		size_t len = 0;

		if (d2l_json_to_tic(&r->rb, req->json, req->payload_len, r->tic, sizeof(r->tic),
		                    &len, &info) == 0)
			check_tic(r, r->tic, len, &info);
	}
}

static void
seal_and_decode(struct run *r, const uint8_t *json, size_t n)
{
	size_t size = (D2L_PREFIX_SIZE + n + 15) / 16 * 16;
	struct d2l_request req;
	struct d2l_header h;
	uint16_t crc;

	if (size > D2L_FRAME_MAX)
		return;
	memset(r->frame, 0, size);
	r->frame[0] = D2L_VERSION;
	r->frame[2] = (uint8_t) size;
	r->frame[3] = (uint8_t) (size >> 8);
	r->frame[4] = 0x41;
	r->frame[12] = 1;
	r->frame[34] = (uint8_t) n;
	r->frame[35] = (uint8_t) (n >> 8);
	r->frame[36] = D2L_PUSH_JSON;
	memcpy(r->frame + D2L_PREFIX_SIZE, json, n);
	crc = d2l_crc16(r->frame, size);
	r->frame[32] = (uint8_t) crc;
	r->frame[33] = (uint8_t) (crc >> 8);
	CHECK(d2l_cipher_run(r->cipher, true, r->frame + 16, size - 16) == 0);
	CHECK(d2l_header_read(r->frame, &h) == 0 && h.size == size);
	CHECK(d2l_frame_open(r->frame, size, r->cipher, &req) == 0);
	CHECK(req.payload_len == n && memcmp(req.json, json, n) == 0);
	decode(r, &req);
}

static void
stream(struct run *r, const uint8_t *data, size_t n)
{
	while (n >= D2L_CLEAR_SIZE) {
		struct d2l_header h;
		struct d2l_request req;

		if (d2l_header_read(data, &h) < 0 || h.size > n)
			return;
		CHECK(h.size >= D2L_FRAME_MIN && h.size <= D2L_FRAME_MAX && h.size % 16 == 0);
		memcpy(r->frame, data, h.size);
		if (d2l_frame_open(r->frame, h.size, r->cipher, &req) == 0) {
			CHECK(req.payload_len <= h.size - D2L_PREFIX_SIZE);
			decode(r, &req);
		}
		data += h.size;
		n -= h.size;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run *r;

	if (!r) {
		r = calloc(1, sizeof(*r));
		CHECK(r && d2l_cipher_new(key, iv, &r->cipher) == 0);
		tic_parser_init(&r->parser, &cbs, r);
	}
	if (size == 0)
		return 0;
	memset(&r->rb, 0, sizeof(r->rb));
	if (data[0] & 1)
		stream(r, data + 1, size - 1);
	else
		seal_and_decode(r, data + 1, size - 1);
	return 0;
}
