/* SPDX-License-Identifier: MIT */
/*
 * The Eesmart D2L local-server protocol (docs/d2l.md): the frames a D2L
 * module sends to the server it is pointed at, the clock answer it expects for each, and its
 * JSON payload turned back into the TIC frame the meter sent. No I/O, no clock of its own, no
 * logging: src/source/d2l.c serves the modules with it; the tests, the fuzzer and the bench call
 * it directly.
 *
 *   offset size                                   (integers little-endian)
 *   0      1    version, 3                        \
 *   1      1    unused                             |
 *   2      2    frameSize: the whole frame, a      | in clear: the server reads the size and
 *               multiple of 16                     | the module's id before choosing the key
 *   4      8    the module's id (12 digits)        |
 *   12     1    bits 0-2 encryption method, 1      |
 *   13     3    reserved                          /
 *   16     16   random nonce                      \
 *   32     2    CRC-16/MODBUS of the plain frame,  | AES-128-CBC with the module's key and IV,
 *               these two bytes left out           | afresh for every frame, no padding scheme
 *   34     2    payloadSize                        |
 *   36     1    bits 0-6 payload type, bit 7       |
 *               set in a response                  |
 *   37     1    bits 0-6 next query, bit 7 error   |
 *   38     n    payload, then zeros to the size   /
 */
#ifndef LINKYD_D2L_H
#define LINKYD_D2L_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/tic.h"

#define D2L_VERSION     3
#define D2L_CLEAR_SIZE  16 /* the header in clear */
#define D2L_PREFIX_SIZE 38 /* everything before the payload */
#define D2L_FRAME_MIN   48 /* the prefix rounded up: a clock request or answer */
/* A standard triphasé meter's JSON with every label is about 2.6 KB: room for three times that,
 * and a bound on what one connection may make linkyd hold. */
#define D2L_FRAME_MAX    8192
#define D2L_RESPONSE_LEN 48
#define D2L_KEY_SIZE     16
#define D2L_CLOCK_EPOCH  1451606400 /* 2016-01-01T00:00:00Z: the module's clock counts from it */

/* Payload types of a request (a response has bit 7 set as well). */
enum d2l_type {
	D2L_FIRMWARE = 0x01,    /* the module wants a firmware update (from Eesmart's cloud) */
	D2L_PUSH_JSON = 0x03,   /* a frame of the meter, as JSON */
	D2L_GET_HORLOGE = 0x05, /* the module asks the time */
	D2L_NO_INTERNET = 0x07, /* undocumented: the module reaches no Internet */
};

/* A frame's clear header, read before anything is decrypted. */
struct d2l_header {
	size_t size; /* the whole frame */
	uint64_t id; /* the module's */
};

/* A frame's encrypted part, once decrypted and checked. */
struct d2l_request {
	uint64_t id;
	uint8_t type;       /* enum d2l_type */
	bool response;      /* bit 7 of the type: a module never sends one */
	bool error;         /* bit 7 of the next query */
	const char *json;   /* the payload, inside the frame */
	size_t payload_len; /* at most size - D2L_PREFIX_SIZE */
};

/* CRC-16/MODBUS (reflected 0xA001, initial 0xFFFF) of frame[0..len), bytes 32 and 33 (the CRC's
 * own place) left out. check("123456789") is 0x4B37 through d2l_crc16_raw(). */
uint16_t d2l_crc16(const uint8_t *frame, size_t len);
uint16_t d2l_crc16_raw(uint16_t crc, const uint8_t *data, size_t len);

/* Read the clear header at the start of buf (at least D2L_CLEAR_SIZE bytes). Returns 0; -EPROTO
 * when it is no D2L frame (another version, a size that is not a multiple of 16 or under
 * D2L_FRAME_MIN); -EMSGSIZE for a frame over D2L_FRAME_MAX. */
int d2l_header_read(const uint8_t *buf, struct d2l_header *ret);

/* The module's clock: seconds since 2016-01-01T00:00:00Z. */
uint32_t d2l_clock(time_t t);

/* ---- AES-128-CBC (d2l_crypto.c: libcrypto, loaded at run time) ----------------------------- */

struct d2l_cipher;

/* 32 hexadecimal digits into 16 bytes. Returns 0 or -EINVAL. */
int d2l_hex128(const char *hex, uint8_t ret[D2L_KEY_SIZE]);

/* A cipher with the module's key and IV. The first one loads libcrypto (logged once if it is
 * missing). Returns 0, -ELIBACC without libcrypto, or -ENOMEM. Free with d2l_cipher_free(). */
int d2l_cipher_new(const uint8_t key[D2L_KEY_SIZE], const uint8_t iv[D2L_KEY_SIZE],
                   struct d2l_cipher **ret);

/* Encrypt or decrypt len bytes (a multiple of 16) in place, from the IV afresh. Returns 0 or
 * -EIO. */
int d2l_cipher_run(struct d2l_cipher *c, bool encrypt, uint8_t *buf, size_t len);

/* NULL-safe; returns NULL. */
struct d2l_cipher *d2l_cipher_free(struct d2l_cipher *c);

/* ---- frames (d2l_proto.c) ----------------------------------------------------------------- */

/* Decrypt frame (size bytes, its header read by d2l_header_read()) in place and check it.
 * Returns 0 with *ret pointing into frame; -EBADMSG when the CRC does not match (a wrong key or
 * IV); -EPROTO for a payload size past the frame; -EIO from the cipher. */
int d2l_frame_open(uint8_t *frame, size_t size, struct d2l_cipher *c, struct d2l_request *ret);

/* The answer to a request of type from module id: the clock, with nonce, sealed with c into out.
 * Returns 0 or -EIO. */
int d2l_response(uint8_t out[D2L_RESPONSE_LEN], struct d2l_cipher *c, uint64_t id, uint8_t type,
                 uint32_t clock, const uint8_t nonce[16]);

/* ---- the JSON payload as a TIC frame (d2l_json.c) ---------------------------------------- */

#define D2L_JSON_MEMBERS 256 /* a D2L sends about 90 */

/* What the rebuild keeps from one frame of a module to the next, and its workspace (about
 * 18 KiB, so that no call needs the stack or the heap for it). Zero it to start. */
struct d2l_rebuild {
	bool three_phase; /* a historique meter seen sending phases 2 or 3: for good */
	unsigned n_members;
	struct d2l_member {
		const char *key, *value, *horodate; /* horodate NULL when none */
		uint16_t key_len, value_len, horodate_len;
		uint8_t zeros;  /* leading zeros the module left out */
		int16_t rank;   /* label table order, unknown labels last */
		uint16_t order; /* in the JSON */
	} members[D2L_JSON_MEMBERS];
	char text[D2L_FRAME_MAX]; /* the members' strings, unescaped */
};

/* What became of a payload. */
struct d2l_frame_info {
	enum tic_mode mode;
	unsigned groups;  /* written */
	unsigned dropped; /* members no TIC frame can carry (bytes outside printable ASCII, an
	                   * empty or overlong label, a label with a space) */
};

/*
 * Turn a PUSH_JSON payload (json, len bytes) into the TIC frame its meter sent: STX, one group
 * per label with its check character, ETX, in the mode of _TYPE_TRAME, so that the line's parser
 * checks every label as it does a serial meter's. Meta keys ("_...") and absent labels ("", "|")
 * are left out; "horodate|value" becomes a horodated group, DATE's lone horodate too; numbers
 * the module sent without their leading zeros get them back; a historique monophasé meter's
 * current, which the module calls IINST1, is IINST again; standard SINST1-3 are SINSTS1-3; the
 * groups follow the label table's order, as a meter sends them.
 * Writes at most size bytes to out. Returns 0 with *ret_len and *ret_info; -EBADMSG when json is
 * not a flat object of strings; -ENOMSG without a known _TYPE_TRAME; -EMSGSIZE when the frame
 * does not fit.
 */
int d2l_json_to_tic(struct d2l_rebuild *rb, const char *json, size_t len, char *out, size_t size,
                    size_t *ret_len, struct d2l_frame_info *ret_info);

#endif
