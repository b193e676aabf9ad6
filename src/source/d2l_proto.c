/* SPDX-License-Identifier: MIT */
/*
 * D2L frames (see linkyd/d2l.h for the layout): the clear header, the CRC, opening a request and
 * sealing the clock answer. Every size is checked against the frame's before it is used.
 */
#include <errno.h>
#include <string.h>

#include "linkyd/d2l.h"

#define CRC_AT     32 /* the CRC's place, left out of its own computation */
#define PAYLOAD_AT D2L_PREFIX_SIZE

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

uint16_t
d2l_crc16_raw(uint16_t crc, const uint8_t *data, size_t len)
{
	/* Four bits at a time: a 32-byte table where a byte-wise one takes 512 bytes of a
	 * Raspberry Pi's cache, at two lookups a byte instead of eight shifts. */
	static const uint16_t nibble[16] = {
	    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
	    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
	};

	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		crc = (uint16_t) (crc >> 4 ^ nibble[crc & 0xF]);
		crc = (uint16_t) (crc >> 4 ^ nibble[crc & 0xF]);
	}
	return crc;
}

uint16_t
d2l_crc16(const uint8_t *frame, size_t len)
{
	uint16_t crc = d2l_crc16_raw(0xFFFF, frame, len < CRC_AT ? len : CRC_AT);

	return len > CRC_AT + 2 ? d2l_crc16_raw(crc, frame + CRC_AT + 2, len - CRC_AT - 2) : crc;
}

int
d2l_header_read(const uint8_t *buf, struct d2l_header *ret)
{
	size_t size = le16(buf + 2);

	if (buf[0] != D2L_VERSION || size < D2L_FRAME_MIN || size % 16)
		return -EPROTO;
	if (size > D2L_FRAME_MAX)
		return -EMSGSIZE;
	ret->size = size;
	ret->id = 0;
	for (int i = 7; i >= 0; i--)
		ret->id = ret->id << 8 | buf[4 + i];
	return 0;
}

uint32_t
d2l_clock(time_t t)
{
	return t > D2L_CLOCK_EPOCH ? (uint32_t) (t - D2L_CLOCK_EPOCH) : 0;
}

int
d2l_frame_open(uint8_t *frame, size_t size, struct d2l_cipher *c, struct d2l_request *ret)
{
	struct d2l_header h;
	size_t payload;
	int r = d2l_header_read(frame, &h);

	if (r < 0)
		return r;
	if (h.size != size)
		return -EPROTO;
	r = d2l_cipher_run(c, false, frame + D2L_CLEAR_SIZE, size - D2L_CLEAR_SIZE);
	if (r < 0)
		return r;
	if (d2l_crc16(frame, size) != le16(frame + CRC_AT))
		return -EBADMSG;
	payload = le16(frame + 34);
	if (payload > size - PAYLOAD_AT)
		return -EPROTO;
	*ret = (struct d2l_request){
	    .id = h.id,
	    .type = frame[36] & 0x7F,
	    .response = frame[36] & 0x80,
	    .error = frame[37] & 0x80,
	    .json = (const char *) frame + PAYLOAD_AT,
	    .payload_len = payload,
	};
	return 0;
}

int
d2l_response(uint8_t out[D2L_RESPONSE_LEN], struct d2l_cipher *c, uint64_t id, uint8_t type,
             uint32_t clock, const uint8_t nonce[16])
{
	memset(out, 0, D2L_RESPONSE_LEN);
	out[0] = D2L_VERSION;
	put_le16(out + 2, D2L_RESPONSE_LEN);
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t) (id >> 8 * i);
	out[12] = 1; /* AES key #1, the only method there is */
	memcpy(out + 16, nonce, 16);
	put_le16(out + 34, 4);
	out[36] = (uint8_t) (type | 0x80);
	for (int i = 0; i < 4; i++)
		out[PAYLOAD_AT + i] = (uint8_t) (clock >> 8 * i);
	put_le16(out + CRC_AT, d2l_crc16(out, D2L_RESPONSE_LEN));
	return d2l_cipher_run(c, true, out + D2L_CLEAR_SIZE, D2L_RESPONSE_LEN - D2L_CLEAR_SIZE);
}
