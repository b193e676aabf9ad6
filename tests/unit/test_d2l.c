/* SPDX-License-Identifier: MIT */
/*
 * The D2L input. First the protocol against the public vectors of Zehir/eesmart-d2l's
 * test/test.js (key, IV, a GET_HORLOGE and a PUSH_JSON request, CRC 0x130A, module
 * 011601000001, clock 37537473 = 2017-03-10T11:04:33Z) and the payload rebuilt into TIC frames
 * from the real captures of tests/data, written as a D2L writes them. Then the source on the
 * real event loop, behind a real line, against modules this test plays on 127.0.0.1 with frames
 * it builds and encrypts itself (OpenSSL, linked here): split and merged segments, a wrong key,
 * two modules on one port, an unknown module, garbage and oversize frames, a module's requests
 * one after the other on one connection, a port already taken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "helpers.h"
#include "linkyd/d2l.h"
#include "linkyd/line.h"
#include "linkyd/log.h"

/* ---- the public vectors (Zehir/eesmart-d2l test/test.js) ----------------------------------- */

#define VEC_KEY "12341234123412341234123412341234"
#define VEC_IV  "fc91837fa2bdba1f9fe985452fdb925e"
#define VEC_ID  11601000001ull

static const char horloge_crypted[] =
    "03003000413679B30200000001000000689FC5F6E110E64D14FAF81EEE156C55B4F26EB04C1DD59D91306745D0"
    "E00CC4";
static const char horloge_plain[] =
    "03003000413679B3020000000100000040FBB297FC22CD014D997E39808FCBB30A13000005000000000000000000"
    "0000";
static const char push_crypted[] =
    "03008001413679B3020000000100000084223BE45BBC95E9C44B6391FDDEB455B9D8EE380D2CAFCD69972F9067"
    "41B6A3F6749D70607FA0F2A36246829141DF3DDB5F151436EB82C9EB913F790BF317368C1B3CA94FBE36CF32D4"
    "7BE24482A214B76BADC56A1E79099583670036462F38F9E539DDF727CC0E2117AAE7526AEDFCAD3796621EBF71"
    "8593DD4CF8962E50172D5799F9284CE62B4855E0D3DA77BA0D7FC445173654943B7AAACEEDA220C2F9AAE19594"
    "7EDA034FD1DF2D3D26238EF14967DBFB42B64C2B21A65BD8C4FF92FAFAE1C18D5DC86002DB903ABAFE6E5C8B94"
    "56A4F9C51F2C8C795A0A8CD04E037734B2CD50F7363FAC6AD3E0D579E2C41EE6FC9D69A0E2CAACACA2F20C0F52"
    "AADC758A00F370D93EBCBC7474090130B0521F287AE0D073AF6651245594654A31C5C36015E68C0A6E3B350ADE"
    "7543A6DC3A4B093C9C85B13C18A97BF5C266E465F606F0744FD7BD28E4C4F743FDAD241103A11550CF4C20754F"
    "39CA6EF363CADBEA75632AB85D94D5CA038D8DA34DDDD9F7";
static const char push_payload[] =
    "{ \"_TYPE_TRAME\":\"HISTORIQUE\", \"_ID_D2L\":\"011601000001\", \"_DATE_FIRMWARE\":\"Dec 20 "
    "2016\", \"ADCO\":\"041068016489\", \"OPTARIF\":\"HC..\", \"ISOUSC\":\"80\", \"IMAX\":\"\", "
    "\"BASE\":\"\", \"HCHC\":\"003820661\", \"HCHP\":\"007623409\", \"BBRHCJB\":\"\", "
    "\"BBRHCJR\":\"\", \"BBRHCJW\":\"\", \"BBRHPJB\":\"\", \"BBRHPJR\":\"\", \"BBRHPJW\":\"\", "
    "\"EJPHN\":\"\", \"EJPHPM\":\"\", \"_HORLOGE\":\"37537473\" }";

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t) v;
	}
	return n;
}

static struct d2l_cipher *
vec_cipher(void)
{
	uint8_t key[16], iv[16];
	struct d2l_cipher *c;

	assert_int_equal(d2l_hex128(VEC_KEY, key), 0);
	assert_int_equal(d2l_hex128(VEC_IV, iv), 0);
	assert_int_equal(d2l_cipher_new(key, iv, &c), 0);
	return c;
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = s};

	return timegm(&tm);
}

static void
test_crc_and_clock(void **state)
{
	(void) state;
	assert_int_equal(d2l_crc16_raw(0xFFFF, (const uint8_t *) "123456789", 9), 0x4B37);
	assert_int_equal(d2l_clock(utc(2017, 3, 10, 11, 4, 33)), 37537473);
	assert_int_equal(d2l_clock(utc(2017, 4, 24, 17, 57, 27)), 0x02787B07);
	assert_int_equal(d2l_clock(utc(2016, 1, 1, 0, 0, 0)), 0);
	assert_int_equal(d2l_hex128("12341234123412341234123412341234x", (uint8_t[16]){0}),
	                 -EINVAL);
	assert_int_equal(d2l_hex128("1234123412341234123412341234123g", (uint8_t[16]){0}), -EINVAL);
}

static void
test_vectors(void **state)
{
	uint8_t frame[512], plain[64];
	struct d2l_cipher *c = vec_cipher();
	struct d2l_header h;
	struct d2l_request req;
	size_t n = unhex(horloge_crypted, frame);

	(void) state;
	/* GET_HORLOGE: the clear header, then the frame decrypted to the vector's plain text. */
	assert_int_equal(d2l_header_read(frame, &h), 0);
	assert_int_equal(h.size, 48);
	assert_int_equal(n, 48);
	assert_true(h.id == VEC_ID);
	assert_int_equal(d2l_frame_open(frame, n, c, &req), 0);
	assert_int_equal(unhex(horloge_plain, plain), 48);
	assert_memory_equal(frame, plain, 48);
	assert_int_equal(frame[32] | frame[33] << 8, 0x130A);
	assert_int_equal(d2l_crc16(frame, 48), 0x130A);
	assert_int_equal(req.type, D2L_GET_HORLOGE);
	assert_false(req.response);
	assert_false(req.error);
	assert_int_equal(req.payload_len, 0);
	/* And back. */
	assert_int_equal(d2l_cipher_run(c, true, frame + 16, 32), 0);
	unhex(horloge_crypted, plain);
	assert_memory_equal(frame, plain, 48);

	/* PUSH_JSON: 384 bytes, the payload as the vector has it. */
	n = unhex(push_crypted, frame);
	assert_int_equal(n, 384);
	assert_int_equal(d2l_header_read(frame, &h), 0);
	assert_int_equal(h.size, 384);
	assert_int_equal(d2l_frame_open(frame, n, c, &req), 0);
	assert_int_equal(req.type, D2L_PUSH_JSON);
	assert_int_equal(req.payload_len, strlen(push_payload));
	assert_memory_equal(req.json, push_payload, req.payload_len);

	/* A wrong IV: the CRC says so. */
	n = unhex(horloge_crypted, frame);
	frame[20] ^= 1;
	assert_int_equal(d2l_frame_open(frame, n, c, &req), -EBADMSG);
	d2l_cipher_free(c);
}

/* The answer: 48 bytes, the module's id, the request's type with the response bit, a fresh
 * nonce, a valid CRC, and the clock. */
static void
test_response(void **state)
{
	static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t out[D2L_RESPONSE_LEN];
	struct d2l_cipher *c = vec_cipher();
	struct d2l_header h;
	struct d2l_request req;

	(void) state;
	assert_int_equal(d2l_response(out, c, VEC_ID, D2L_GET_HORLOGE, 37537473, nonce), 0);
	assert_int_equal(d2l_header_read(out, &h), 0);
	assert_int_equal(h.size, 48);
	assert_true(h.id == VEC_ID);
	assert_int_equal(out[12], 1);
	/* Encrypted: the nonce is not there in clear. */
	assert_memory_not_equal(out + 16, nonce, 16);
	assert_int_equal(d2l_frame_open(out, sizeof(out), c, &req), 0);
	assert_memory_equal(out + 16, nonce, 16);
	assert_true(req.response);
	assert_false(req.error);
	assert_int_equal(req.type, D2L_GET_HORLOGE);
	assert_int_equal(req.payload_len, 4);
	assert_int_equal(out[38] | out[39] << 8 | out[40] << 16 | (uint32_t) out[41] << 24,
	                 37537473);
	d2l_cipher_free(c);
}

static void
test_headers(void **state)
{
	uint8_t b[16] = {3, 0, 48, 0};
	struct d2l_header h;

	(void) state;
	assert_int_equal(d2l_header_read(b, &h), 0);
	b[0] = 2;
	assert_int_equal(d2l_header_read(b, &h), -EPROTO);
	b[0] = 3;
	b[2] = 40; /* under the least frame */
	assert_int_equal(d2l_header_read(b, &h), -EPROTO);
	b[2] = 49; /* not a multiple of 16 */
	assert_int_equal(d2l_header_read(b, &h), -EPROTO);
	b[2] = 0x10;
	b[3] = 0x20; /* 8208 */
	assert_int_equal(d2l_header_read(b, &h), -EMSGSIZE);
	b[2] = 0x00; /* 8192 */
	assert_int_equal(d2l_header_read(b, &h), 0);
}

/* ---- frames as canonical text, to compare what the line delivers with the captures -------- */

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "LABEL|HORODATE|VALUE" per group, sorted, one per line: a meter's order and the table's may
 * differ (shuffled captures), the groups may not. groups: n structs of stride bytes, each with
 * its label, horodate and value strings at those offsets (a tic_frame's, a rec_frame's). */
static char *
canonical(unsigned n, const char *groups, size_t stride, size_t label, size_t horodate,
          size_t value)
{
	char **lines = calloc(n ? n : 1, sizeof(*lines));
	struct bytes b = {0};

	assert_non_null(lines);
	for (unsigned i = 0; i < n; i++) {
		const char *g = groups + i * stride, *h = *(const char *const *) (g + horodate);

		assert_true(asprintf(&lines[i], "%s|%s|%s", *(const char *const *) (g + label),
		                     h ? h : "", *(const char *const *) (g + value)) > 0);
	}
	qsort(lines, n, sizeof(*lines), cmp_lines);
	for (unsigned i = 0; i < n; i++) {
		bytes_str(&b, lines[i]);
		bytes_str(&b, "\n");
		free(lines[i]);
	}
	free(lines);
	if (!b.data)
		bytes_str(&b, "");
	return b.data;
}

/* Of a struct tic_frame or a struct rec_frame. Free with free(). */
#define CANONICAL(f)                                                                               \
	canonical((f)->n_groups, (const char *) (f)->groups, sizeof(*(f)->groups),                 \
	          offsetof(__typeof__(*(f)->groups), label),                                       \
	          offsetof(__typeof__(*(f)->groups), horodate),                                    \
	          offsetof(__typeof__(*(f)->groups), value))

/* ---- a D2L's JSON, from a decoded capture frame --------------------------------------------- */

static void
json_string(struct bytes *b, const char *s)
{
	bytes_str(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			bytes_str(b, "\\");
		bytes_byte(b, (unsigned char) *s);
	}
	bytes_str(b, "\"");
}

static void
member(struct bytes *b, const char *key, const char *value)
{
	bytes_str(b, ", ");
	json_string(b, key);
	bytes_str(b, ":");
	json_string(b, value);
}

/* The number without its leading zeros, as the module sends some ("2" for "002"). */
static const char *
stripped(const char *v)
{
	while (v[0] == '0' && v[1])
		v++;
	return v;
}

/* What a D2L pushes for frame f: its meta keys, every label as a string ("horodate|value" for a
 * horodated one, DATE's horodate alone), the labels it lists for any meter as "" or "|", a
 * monophasé meter's IINST as IINST1 (with IINST2 and IINST3 "0"), SINSTSn as SINSTn, and some
 * numbers stripped of their zeros. */
static void
d2l_json(struct bytes *b, const struct rec_frame *f, const char *id)
{
	bool hist = f->mode == TIC_MODE_HISTORIQUE;

	bytes_str(b, "{ \"_TYPE_TRAME\":");
	json_string(b, hist ? "HISTORIQUE" : "STANDARD");
	member(b, "_ID_D2L", id);
	member(b, "_DATE_FIRMWARE", "Jul 7 2017");
	for (unsigned i = 0; i < f->n_groups; i++) {
		const struct rec_group *g = &f->groups[i];
		char value[256], label[32];

		snprintf(label, sizeof(label), "%s", g->label);
		snprintf(value, sizeof(value), "%s", g->value);
		if (g->horodate)
			snprintf(value, sizeof(value), "%s%s%s", g->horodate,
			         strcmp(g->label, "DATE") ? "|" : "", g->value);
		if (hist && strcmp(g->label, "IINST") == 0) {
			member(b, "IINST1", stripped(g->value));
			member(b, "IINST2", "0");
			member(b, "IINST3", "0");
			continue;
		}
		if (strncmp(g->label, "IINST", 5) == 0 || strcmp(g->label, "IRMS1") == 0)
			snprintf(value, sizeof(value), "%s", stripped(g->value));
		if (!hist && strncmp(g->label, "SINSTS", 6) == 0 && g->label[6])
			snprintf(label, sizeof(label), "SINST%s", g->label + 6);
		member(b, label, value);
	}
	/* Labels the module lists whatever the meter. */
	if (hist) {
		if (!rec_find(f, "BBRHCJB"))
			member(b, "BBRHCJB", "");
		if (!rec_find(f, "ADIR1"))
			member(b, "ADIR1", "");
	} else {
		if (!rec_find(f, "SMAXSN2"))
			member(b, "SMAXSN2", "|");
		if (!rec_find(f, "EAIT"))
			member(b, "EAIT", "");
		if (!rec_find(f, "SINSTS2"))
			member(b, "SINST2", "");
	}
	member(b, "_HORLOGE", "37537473");
	bytes_str(b, " }");
}

static const char *const captures[] = {
    "historique-base-mono-01.tic",     "historique-hchp-mono-01.tic",
    "historique-hchp-tri-adir-01.tic", "historique-tempo-mono-01.tic",
    "standard-mono-base-01.tic",       "standard-mono-prod-hchp-noise-01.tic",
    "standard-tri-tempo-noise-01.tic",
};

/* Every frame of every capture, pushed as a D2L writes it and rebuilt: the same groups, every
 * one valid for the parser, none dropped. */
static void
test_rebuild_captures(void **state)
{
	static struct d2l_rebuild rb;
	char tic[TIC_FRAME_BYTES];

	(void) state;
	for (size_t k = 0; k < sizeof(captures) / sizeof(captures[0]); k++) {
		size_t len;
		char *data = read_fixture(captures[k], &len);
		struct rec in = {0};

		rec_decode(&in, data, len, 0);
		assert_true(in.n_frames > 0);
		memset(&rb, 0, sizeof(rb));
		for (size_t i = 0; i < in.n_frames; i++) {
			struct bytes json = {0};
			struct d2l_frame_info info;
			struct rec out = {0};
			char *want, *got;

			d2l_json(&json, &in.frames[i], "011601000001");
			assert_int_equal(d2l_json_to_tic(&rb, json.data, json.len, tic, sizeof(tic),
			                                 &len, &info),
			                 0);
			assert_int_equal(info.mode, in.frames[i].mode);
			assert_int_equal(info.dropped, 0);
			rec_decode(&out, tic, len, 0);
			assert_int_equal(out.n_frames, 1);
			assert_int_equal(out.stats.errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)], 0);
			assert_int_equal(out.stats.errors[TIC_ERR_INDEX(TIC_ERR_FORMAT)], 0);
			want = CANONICAL(&in.frames[i]);
			got = CANONICAL(&out.frames[0]);
			assert_string_equal(got, want);
			free(want);
			free(got);
			rec_free(&out);
			free(json.data);
		}
		rec_free(&in);
		free(data);
	}
}

/* The vector's payload, and what the rebuild makes of the module's ways. */
static void
test_rebuild_rules(void **state)
{
	static struct d2l_rebuild rb;
	static const struct {
		const char *json, *tic; /* tic: "" for an error */
		int r;
	} cases[] = {
	    {push_payload,
	     "\x02\nADCO 041068016489 F\r\nOPTARIF HC.. <\r\nISOUSC 80 >\r\nHCHC 003820661  \r"
	     "\nHCHP 007623409 2\r\x03",
	     0},
	    /* Monophasé: IINST1 is IINST, zeros back; IINST2 and IINST3 are the module's. */
	    {"{\"_TYPE_TRAME\":\"HISTORIQUE\",\"IINST1\":\"2\",\"IINST2\":\"0\",\"IINST3\":\"0\","
	     "\"IMAX\":\"090\"}",
	     "\x02\nIINST 002 Y\r\nIMAX 090 H\r\x03", 0},
	    /* Standard: horodated, DATE alone, absent "|" and "", SINST1 is SINSTS1, JSON
	     * escapes. */
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"SMAXSN\":\"E240613123456|03381\",\"SMAXSN2\":\"|\","
	     "\"DATE\":\"E240613123500\",\"SINST1\":\"00123\",\"EAIT\":\"\","
	     "\"MSG1\":\"PAS DE \\u004dESSAGE\"}",
	     "\x02\nDATE\tE240613123500\t\t9\r\nSINSTS1\t00123\t=\r\n"
	     "SMAXSN\tE240613123456\t03381\t>\r\nMSG1\tPAS DE MESSAGE\t<\r\x03",
	     0},
	    /* Not JSON, not flat, not strings, no or an unknown type, trailing bytes. */
	    {"", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":1}", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":{}}", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":\"x\"", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\"} x", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":\"\\x\"}", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":\"\\ud800\"}", "", -EBADMSG},
	    {"{\"_TYPE_TRAME\":\"STANDARD\",\"A\":\"a\nb\"}", "", -EBADMSG},
	    {"{\"ADCO\":\"041068016489\"}", "", -ENOMSG},
	    {"{\"_TYPE_TRAME\":\"AUTRE\"}", "", -ENOMSG},
	    /* NUL padding after the object is the frame's. */
	    {"{\"_TYPE_TRAME\":\"STANDARD\"}\0\0", "\x02\x03", 0},
	};
	char tic[TIC_FRAME_BYTES];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct d2l_frame_info info;
		size_t len = 0, n = strlen(cases[i].json);
		int r;

		if (strcmp(cases[i].json, "{\"_TYPE_TRAME\":\"STANDARD\"}") == 0)
			n += 2;
		memset(&rb, 0, sizeof(rb));
		r = d2l_json_to_tic(&rb, cases[i].json, n, tic, sizeof(tic), &len, &info);
		assert_int_equal(r, cases[i].r);
		if (r == 0) {
			tic[len] = '\0';
			assert_string_equal(tic, cases[i].tic);
		}
	}
}

/* A triphasé meter stays one when phases 2 and 3 carry nothing; what no TIC frame can carry is
 * left out and counted; a frame over the buffer is refused. */
static void
test_rebuild_edges(void **state)
{
	static struct d2l_rebuild rb;
	static const char tri[] = "{\"_TYPE_TRAME\":\"HISTORIQUE\",\"IINST1\":\"5\",\"IINST2\":"
	                          "\"3\",\"IINST3\":\"0\"}";
	static const char quiet[] = "{\"_TYPE_TRAME\":\"HISTORIQUE\",\"IINST1\":\"5\",\"IINST2\":"
	                            "\"0\",\"IINST3\":\"0\"}";
	static const char bad[] = "{\"_TYPE_TRAME\":\"STANDARD\",\"A B\":\"1\",\"C\":\"\\u00e9\","
	                          "\"TOOLONGLABEL12345\":\"1\",\"\":\"1\",\"OK\":\"1\"}";
	char tic[TIC_FRAME_BYTES], big[4096];
	struct d2l_frame_info info;
	size_t len;
	int n;

	(void) state;
	memset(&rb, 0, sizeof(rb));
	assert_int_equal(d2l_json_to_tic(&rb, quiet, strlen(quiet), tic, sizeof(tic), &len, &info),
	                 0);
	assert_non_null(memmem(tic, len, "\nIINST 005", 10));
	assert_int_equal(d2l_json_to_tic(&rb, tri, strlen(tri), tic, sizeof(tic), &len, &info), 0);
	assert_non_null(memmem(tic, len, "\nIINST2 003", 11));
	assert_int_equal(d2l_json_to_tic(&rb, quiet, strlen(quiet), tic, sizeof(tic), &len, &info),
	                 0);
	assert_non_null(memmem(tic, len, "\nIINST1 005", 11));
	assert_non_null(memmem(tic, len, "\nIINST3 000", 11));
	assert_null(memmem(tic, len, "\nIINST ", 7));

	assert_int_equal(d2l_json_to_tic(&rb, bad, strlen(bad), tic, sizeof(tic), &len, &info), 0);
	assert_int_equal(info.dropped, 4);
	assert_int_equal(info.groups, 1);

	/* 40 values of 80 characters: over a TIC frame. */
	n = snprintf(big, sizeof(big), "{\"_TYPE_TRAME\":\"STANDARD\"");
	for (int i = 0; i < 40; i++)
		n += snprintf(big + n, sizeof(big) - (size_t) n, ",\"L%d\":\"%080d\"", i, i);
	n += snprintf(big + n, sizeof(big) - (size_t) n, "}");
	assert_int_equal(d2l_json_to_tic(&rb, big, (size_t) n, tic, 2048, &len, &info), -EMSGSIZE);
	assert_int_equal(d2l_json_to_tic(&rb, big, (size_t) n, tic, sizeof(tic), &len, &info), 0);
}

/* ---- modules on the loop -------------------------------------------------------------------- */

#define ID_A 11601000001ull
#define ID_B 11601000002ull

static const uint8_t key_a[16] = {0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34,
                                  0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0x34};
static const uint8_t iv_a[16] = {0xfc, 0x91, 0x83, 0x7f, 0xa2, 0xbd, 0xba, 0x1f,
                                 0x9f, 0xe9, 0x85, 0x45, 0x2f, 0xdb, 0x92, 0x5e};
static const uint8_t key_b[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t iv_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

/* CRC-16/MODBUS bit by bit, apart from the library's. */
static uint16_t
crc_modbus(const uint8_t *p, size_t n, uint16_t crc)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = crc & 1 ? (uint16_t) (crc >> 1 ^ 0xA001) : (uint16_t) (crc >> 1);
	}
	return crc;
}

static void
aes(bool encrypt, const uint8_t key[16], const uint8_t iv[16], uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int out = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	assert_int_equal(EVP_CipherUpdate(ctx, buf, &out, buf, (int) len), 1);
	assert_int_equal(out, (int) len);
	EVP_CIPHER_CTX_free(ctx);
}

/* A request as a module makes it: into out (room for D2L_FRAME_MAX), its size returned. */
static size_t
make_request(uint8_t *out, uint64_t id, uint8_t type, const char *payload, size_t n,
             const uint8_t key[16], const uint8_t iv[16])
{
	size_t size = (38 + n + 15) / 16 * 16;
	uint16_t crc;

	assert_true(size <= D2L_FRAME_MAX);
	memset(out, 0, size);
	out[0] = 3;
	out[2] = (uint8_t) size;
	out[3] = (uint8_t) (size >> 8);
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t) (id >> 8 * i);
	out[12] = 1;
	for (int i = 0; i < 16; i++)
		out[16 + i] = (uint8_t) rand();
	out[34] = (uint8_t) n;
	out[35] = (uint8_t) (n >> 8);
	out[36] = type;
	memcpy(out + 38, payload, n);
	crc = crc_modbus(out + 34, size - 34, crc_modbus(out, 32, 0xFFFF));
	out[32] = (uint8_t) crc;
	out[33] = (uint8_t) (crc >> 8);
	aes(true, key, iv, out + 16, size - 16);
	return size;
}

struct run;

/* A module this test plays: a client socket, what the server answered. */
struct module {
	struct run *r;
	struct loop_io io;
	uint8_t in[1024];
	size_t in_len;
	bool closed; /* the server closed it */
};

struct meter {
	struct run *r;
	struct meter_config cfg;
	struct line_config line_cfg;
	struct line *line;
	unsigned frames;
	char *last; /* the last frame, canonical */
	struct line_status status;
	unsigned n_status;
};

struct run {
	struct loop *loop;
	struct loop_timer deadline;
	unsigned port;
	struct meter meters[2];
	unsigned n_meters;
	struct module *modules[4];
	bool (*until)(const struct run *r);
	int log_fd, saved_stderr; /* the log, captured */
};

static void
check_until(struct run *r)
{
	if (r->until && r->until(r))
		loop_quit(r->loop, 0);
}

static void
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct meter *m = userdata;

	m->frames++;
	free(m->last);
	m->last = CANONICAL(frame);
	check_until(m->r);
}

static void
on_status(const struct line_status *st, void *userdata)
{
	struct meter *m = userdata;

	m->status = *st;
	m->n_status++;
	check_until(m->r);
}

static const struct line_callbacks line_cbs = {.on_frame = on_frame, .on_status = on_status};

static void
deadline_due(struct loop_timer *t)
{
	struct run *r = container_of(t, struct run, deadline);

	loop_quit(r->loop, 1);
}

static unsigned
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	(void) close(fd);
	return ntohs(a.sin_port);
}

static void
hex(char *out, const uint8_t b[16])
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A D2L meter on the run's port for module id with key and iv. */
static void
add_meter(struct run *r, const char *name, uint64_t id, const uint8_t key[16], const uint8_t iv[16])
{
	struct meter *m = &r->meters[r->n_meters++];
	struct source *src;
	char spec[64], idstr[16], k[33], v[33];

	snprintf(spec, sizeof(spec), "d2l:127.0.0.1:%u", r->port);
	snprintf(idstr, sizeof(idstr), "%012llu", (unsigned long long) id);
	hex(k, key);
	hex(v, iv);
	m->cfg = (struct meter_config){
	    .name = strdup(name),
	    .input = {.kind = INPUT_D2L,
	              .spec = strdup(spec),
	              .host = strdup("127.0.0.1"),
	              .port = r->port},
	    .d2l_id = strdup(idstr),
	    .d2l_key = strdup(k),
	    .d2l_iv = strdup(v),
	};
	m->r = r;
	m->line_cfg = (struct line_config){.name = m->cfg.name};
	assert_int_equal(source_new(r->loop, &m->cfg, &src), 0);
	assert_int_equal(line_new(r->loop, src, &m->line_cfg, &line_cbs, m, &m->line), 0);
}

/* The test running, for teardown() to give the log back after a failure. */
static struct run *current;

/* The log, into a file of its own for the test to read; cmocka's own messages go there too, and
 * back to stderr with release_log(). */
static void
capture_log(struct run *r)
{
	char path[] = "/tmp/linkyd-test-d2l-XXXXXX";

	fflush(stderr);
	r->log_fd = mkstemp(path);
	assert_true(r->log_fd >= 0);
	(void) unlink(path);
	r->saved_stderr = dup(STDERR_FILENO);
	assert_int_equal(dup2(r->log_fd, STDERR_FILENO), STDERR_FILENO);
}

/* How many lines of the log so far hold needle. */
static unsigned
log_count(struct run *r, const char *needle)
{
	char buf[65536];
	ssize_t n;
	unsigned count = 0;

	fflush(stderr);
	n = pread(r->log_fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, needle)); p++)
		count++;
	return count;
}

/* Restore stderr and copy what was captured to it. */
static void
release_log(struct run *r)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	fflush(stderr);
	assert_int_equal(dup2(r->saved_stderr, STDERR_FILENO), STDERR_FILENO);
	(void) close(r->saved_stderr);
	while ((n = pread(r->log_fd, buf, sizeof(buf), off)) > 0) {
		(void) !write(STDERR_FILENO, buf, (size_t) n);
		off += n;
	}
	(void) close(r->log_fd);
	r->log_fd = -1;
}

static int
teardown(void **state)
{
	(void) state;
	if (current && current->log_fd >= 0)
		release_log(current);
	current = NULL;
	return 0;
}

static struct run *
run_new(void)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	log_init(1);
	capture_log(r);
	current = r;
	r->loop = loop_new();
	assert_non_null(r->loop);
	r->deadline.io.fd = -1;
	assert_int_equal(loop_timer_init(r->loop, &r->deadline, deadline_due), 0);
	r->port = free_port();
	return r;
}

/* Run the loop until until() holds; fails after ms. */
static void
run_until(struct run *r, bool (*until)(const struct run *r), unsigned ms)
{
	r->until = until;
	if (until(r))
		return;
	assert_int_equal(loop_timer_arm(&r->deadline, ms, 0), 0);
	assert_int_equal(loop_run(r->loop), 0);
	assert_int_equal(loop_timer_arm(&r->deadline, 0, 0), 0);
	r->until = NULL;
}

/* Run the loop for ms, whatever happens. */
static void
run_for(struct run *r, unsigned ms)
{
	r->until = NULL;
	assert_int_equal(loop_timer_arm(&r->deadline, ms, 0), 0);
	assert_int_equal(loop_run(r->loop), 1);
}

static void
module_ready(struct loop_io *io, uint32_t events)
{
	struct module *c = container_of(io, struct module, io);
	ssize_t n = recv(io->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	(void) events;
	if (n > 0)
		c->in_len += (size_t) n;
	else if (n == 0 || errno != EAGAIN) {
		c->closed = true;
		loop_del(c->r->loop, io);
	}
	check_until(c->r);
}

static struct module *
module_connect(struct run *r)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t) r->port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct module *c = calloc(1, sizeof(*c));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_non_null(c);
	assert_true(fd >= 0);
	/* The listener's backlog takes it before the loop runs. */
	assert_int_equal(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	c->r = r;
	assert_int_equal(loop_add(r->loop, &c->io, fd, EPOLLIN, module_ready), 0);
	for (size_t i = 0; i < 4; i++)
		if (!r->modules[i]) {
			r->modules[i] = c;
			break;
		}
	return c;
}

static void
module_send(struct module *c, const void *data, size_t n)
{
	assert_int_equal(send(c->io.fd, data, n, MSG_NOSIGNAL), (ssize_t) n);
}

/* The n-th answer the module got, decrypted and checked: the clock it carries. */
static uint32_t
answer(struct module *c, size_t n, uint64_t id, uint8_t type, const uint8_t key[16],
       const uint8_t iv[16])
{
	uint8_t a[48];

	assert_true(c->in_len >= (n + 1) * 48);
	memcpy(a, c->in + n * 48, 48);
	assert_int_equal(a[0], 3);
	assert_int_equal(a[2] | a[3] << 8, 48);
	for (int i = 0; i < 8; i++)
		assert_int_equal(a[4 + i], (uint8_t) (id >> 8 * i));
	aes(false, key, iv, a + 16, 32);
	assert_int_equal(a[32] | a[33] << 8, crc_modbus(a + 34, 14, crc_modbus(a, 32, 0xFFFF)));
	assert_int_equal(a[34] | a[35] << 8, 4);
	assert_int_equal(a[36], type | 0x80);
	assert_int_equal(a[37], 0);
	return a[38] | a[39] << 8 | a[40] << 16 | (uint32_t) a[41] << 24;
}

static void
module_free(struct run *r, struct module *c)
{
	if (!c->closed)
		loop_del(r->loop, &c->io);
	(void) close(c->io.fd);
	free(c);
}

static void
run_free(struct run *r)
{
	for (size_t i = 0; i < 4; i++)
		if (r->modules[i])
			module_free(r, r->modules[i]);
	for (unsigned i = 0; i < r->n_meters; i++) {
		struct meter *m = &r->meters[i];

		m->line = line_free(m->line);
		free(m->last);
		free(m->cfg.name);
		free(m->cfg.input.spec);
		free(m->cfg.input.host);
		free(m->cfg.d2l_id);
		free(m->cfg.d2l_key);
		free(m->cfg.d2l_iv);
	}
	loop_timer_done(r->loop, &r->deadline);
	loop_free(r->loop);
	release_log(r);
	current = NULL;
	free(r);
}

/* A capture's frames, as the JSON its D2L would push; their canonical forms. */
struct pushes {
	size_t n;
	char *json[64];
	char *want[64];
};

static void
pushes_load(struct pushes *p, const char *capture, size_t most)
{
	size_t len;
	char *data = read_fixture(capture, &len);
	struct rec in = {0};

	rec_decode(&in, data, len, 0);
	for (size_t i = 0; i < in.n_frames && p->n < most && p->n < 64; i++, p->n++) {
		struct bytes b = {0};

		d2l_json(&b, &in.frames[i], "011601000001");
		p->json[p->n] = b.data;
		p->want[p->n] = CANONICAL(&in.frames[i]);
	}
	rec_free(&in);
	free(data);
}

static void
pushes_free(struct pushes *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->json[i]);
		free(p->want[i]);
	}
}

static bool
until_detecting(const struct run *r)
{
	for (unsigned i = 0; i < r->n_meters; i++)
		if (r->meters[i].status.state != LINE_DETECTING)
			return false;
	return true;
}

static unsigned want_frames, want_answers;

static bool
until_frames(const struct run *r)
{
	return r->meters[0].frames >= want_frames;
}

static bool
until_answers(const struct run *r)
{
	return r->modules[0]->in_len >= want_answers * 48;
}

static bool
until_closed(const struct run *r)
{
	for (size_t i = 0; i < 4; i++)
		if (r->modules[i] && !r->modules[i]->closed)
			return false;
	return true;
}

static bool
until_first_closed(const struct run *r)
{
	return r->modules[0]->closed;
}

static struct run *
run_start(void)
{
	struct run *r = run_new();

	add_meter(r, "home", ID_A, key_a, iv_a);
	line_start(r->meters[0].line);
	run_until(r, until_detecting, 1000);
	return r;
}

/* A real D2L, as the Domoticz plugin serves it: a clock request, its answer, then frames, each
 * answered, on the one connection; the answers carry the clock. Segments split anywhere, then
 * several frames in one. */
static void
test_module_session(void **state)
{
	struct run *r = run_start();
	struct module *c;
	uint8_t req[3][D2L_FRAME_MAX], all[3 * D2L_FRAME_MAX];
	size_t n[3], total = 0;
	struct pushes p = {0};
	uint32_t now;

	(void) state;
	pushes_load(&p, "historique-hchp-mono-01.tic", 4);
	assert_true(p.n >= 4);
	c = module_connect(r);
	n[0] = make_request(req[0], ID_A, D2L_GET_HORLOGE, "", 0, key_a, iv_a);
	module_send(c, req[0], n[0]);
	want_answers = 1;
	run_until(r, until_answers, 2000);
	now = d2l_clock(time(NULL));
	assert_true(answer(c, 0, ID_A, D2L_GET_HORLOGE, key_a, iv_a) + 2 >= now);
	assert_true(answer(c, 0, ID_A, D2L_GET_HORLOGE, key_a, iv_a) <= now);
	assert_int_equal(r->meters[0].frames, 0);

	/* A frame byte by byte: nothing before its last byte, then the frame and its answer. */
	n[0] = make_request(req[0], ID_A, D2L_PUSH_JSON, p.json[0], strlen(p.json[0]), key_a, iv_a);
	for (size_t i = 0; i + 1 < n[0]; i += 97) {
		module_send(c, req[0] + i, n[0] - i - 1 < 97 ? n[0] - i - 1 : 97);
		run_for(r, 2);
	}
	assert_int_equal(r->meters[0].frames, 0);
	assert_int_equal(c->in_len, 48);
	module_send(c, req[0] + n[0] - 1, 1);
	want_frames = 1;
	want_answers = 2;
	run_until(r, until_frames, 2000);
	run_until(r, until_answers, 2000);
	assert_string_equal(r->meters[0].last, p.want[0]);
	assert_int_equal(r->meters[0].status.state, LINE_OK);
	assert_int_equal(r->meters[0].status.mode, TIC_MODE_HISTORIQUE);
	answer(c, 1, ID_A, D2L_PUSH_JSON, key_a, iv_a);

	/* Three frames in one segment: three frames, three answers, in order. */
	for (int i = 0; i < 3; i++) {
		n[i] = make_request(req[i], ID_A, D2L_PUSH_JSON, p.json[i + 1],
		                    strlen(p.json[i + 1]), key_a, iv_a);
		memcpy(all + total, req[i], n[i]);
		total += n[i];
	}
	module_send(c, all, total);
	want_frames = 4;
	want_answers = 5;
	run_until(r, until_frames, 2000);
	run_until(r, until_answers, 2000);
	assert_string_equal(r->meters[0].last, p.want[3]);
	for (int i = 2; i < 5; i++)
		answer(c, (size_t) i, ID_A, D2L_PUSH_JSON, key_a, iv_a);
	assert_false(c->closed);
	assert_int_equal(log_count(r, "warning"), 0);
	pushes_free(&p);
	run_free(r);
}

/* A wrong key: nothing published, the connection closed, said once however often the module
 * tries; the right key afterwards works. */
static void
test_wrong_key(void **state)
{
	struct run *r = run_start();
	uint8_t req[D2L_FRAME_MAX];
	struct pushes p = {0};
	size_t n;

	(void) state;
	pushes_load(&p, "standard-mono-base-01.tic", 1);
	n = make_request(req, ID_A, D2L_PUSH_JSON, p.json[0], strlen(p.json[0]), key_b, iv_a);
	for (int i = 0; i < 3; i++) {
		struct module *c = module_connect(r);

		module_send(c, req, n);
		run_until(r, until_closed, 2000);
		assert_int_equal(c->in_len, 0);
	}
	assert_int_equal(r->meters[0].frames, 0);
	assert_int_equal(log_count(r, "key or the iv configured for it is wrong"), 1);
	assert_int_equal(log_count(r, "D2L module 011601000001 (from"), 1);

	n = make_request(req, ID_A, D2L_PUSH_JSON, p.json[0], strlen(p.json[0]), key_a, iv_a);
	module_send(module_connect(r), req, n);
	want_frames = 1;
	run_until(r, until_frames, 2000);
	assert_string_equal(r->meters[0].last, p.want[0]);
	pushes_free(&p);
	run_free(r);
}

/* Two modules on one port, each to its meter with its own key; a module no meter has is refused
 * and said once. */
static void
test_two_modules_and_unknown(void **state)
{
	struct run *r = run_new();
	uint8_t req[D2L_FRAME_MAX];
	struct pushes ph = {0}, ps = {0};
	struct module *a, *b, *u;
	size_t n;

	(void) state;
	add_meter(r, "a", ID_A, key_a, iv_a);
	add_meter(r, "b", ID_B, key_b, iv_b);
	line_start(r->meters[0].line);
	line_start(r->meters[1].line);
	run_until(r, until_detecting, 1000);
	pushes_load(&ph, "historique-tempo-mono-01.tic", 1);
	pushes_load(&ps, "standard-tri-tempo-noise-01.tic", 1);
	a = module_connect(r);
	b = module_connect(r);
	n = make_request(req, ID_B, D2L_PUSH_JSON, ps.json[0], strlen(ps.json[0]), key_b, iv_b);
	module_send(b, req, n);
	n = make_request(req, ID_A, D2L_PUSH_JSON, ph.json[0], strlen(ph.json[0]), key_a, iv_a);
	module_send(a, req, n);
	want_frames = 1;
	run_until(r, until_frames, 2000);
	run_for(r, 50);
	assert_int_equal(r->meters[0].frames, 1);
	assert_int_equal(r->meters[1].frames, 1);
	assert_string_equal(r->meters[0].last, ph.want[0]);
	assert_string_equal(r->meters[1].last, ps.want[0]);
	assert_int_equal(r->meters[1].status.mode, TIC_MODE_STANDARD);
	assert_int_equal(a->in_len, 48);
	assert_int_equal(b->in_len, 48);
	answer(b, 0, ID_B, D2L_PUSH_JSON, key_b, iv_b);

	/* 011601000003: twice, said once; the others carry on. */
	n = make_request(req, 11601000003ull, D2L_GET_HORLOGE, "", 0, key_a, iv_a);
	for (int i = 0; i < 2; i++) {
		u = module_connect(r);
		module_send(u, req, n);
		r->until = NULL;
		run_for(r, 100);
		assert_true(u->closed);
		assert_int_equal(u->in_len, 0);
	}
	assert_int_equal(log_count(r, "refusing D2L module 011601000003"), 1);
	assert_false(a->closed);
	assert_false(b->closed);
	pushes_free(&ph);
	pushes_free(&ps);
	run_free(r);
}

/* Garbage, a frame over the bound, a frame never finished: each connection is closed, and a
 * module still gets through. */
static void
test_garbage_and_oversize(void **state)
{
	struct run *r = run_start();
	uint8_t req[D2L_FRAME_MAX], huge[16] = {3, 0, 0xF0, 0xFF};
	struct module *c;
	size_t n;

	(void) state;
	c = module_connect(r);
	module_send(c, "GET / HTTP/1.0\r\n\r\n", 18);
	run_until(r, until_closed, 2000);
	c = module_connect(r);
	module_send(c, huge, sizeof(huge));
	run_until(r, until_closed, 2000);
	/* A frame of the right module whose payload size runs past the frame. */
	n = make_request(req, ID_A, D2L_GET_HORLOGE, "", 0, key_a, iv_a);
	aes(false, key_a, iv_a, req + 16, n - 16);
	req[34] = 200;
	{
		uint16_t crc = crc_modbus(req + 34, n - 34, crc_modbus(req, 32, 0xFFFF));

		req[32] = (uint8_t) crc;
		req[33] = (uint8_t) (crc >> 8);
	}
	aes(true, key_a, iv_a, req + 16, n - 16);
	c = module_connect(r);
	module_send(c, req, n);
	run_until(r, until_closed, 2000);
	assert_int_equal(c->in_len, 0);
	/* A payload that is no JSON: said, answered all the same. */
	n = make_request(req, ID_A, D2L_PUSH_JSON, "{not json", 9, key_a, iv_a);
	c = module_connect(r);
	module_send(c, req, n);
	want_answers = 1;
	for (size_t i = 0; i < 4; i++)
		if (r->modules[i] == c) {
			struct module *t = r->modules[0];

			r->modules[0] = c;
			r->modules[i] = t;
		}
	run_until(r, until_answers, 2000);
	assert_int_equal(log_count(r, "cannot read: not a JSON object of strings"), 1);
	assert_int_equal(r->meters[0].frames, 0);
	assert_int_equal(log_count(r, "not a D2L frame"), 1);
	assert_int_equal(log_count(r, "over the largest"), 1);
	run_free(r);
}

/* The port is taken: the source cannot open, the line retries, and opens once it is free. */
static void
test_port_taken(void **state)
{
	struct run *r = run_new();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void) state;
	a.sin_port = htons((uint16_t) r->port);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	add_meter(r, "home", ID_A, key_a, iv_a);
	line_start(r->meters[0].line);
	assert_int_equal(r->meters[0].status.state, LINE_ABSENT);
	assert_int_equal(r->meters[0].status.error, -EADDRINUSE);
	(void) close(fd);
	run_until(r, until_detecting, 3000);
	assert_int_equal(log_count(r, "Address already in use"), 1);
	run_free(r);
}

/* A module that reconnects: its old connection is closed, the new one served. */
static void
test_reconnect(void **state)
{
	struct run *r = run_start();
	uint8_t req[D2L_FRAME_MAX];
	struct module *old, *fresh;
	size_t n = make_request(req, ID_A, D2L_GET_HORLOGE, "", 0, key_a, iv_a);

	(void) state;
	old = module_connect(r);
	module_send(old, req, n);
	want_answers = 1;
	run_until(r, until_answers, 2000);
	fresh = module_connect(r);
	module_send(fresh, req, n);
	run_until(r, until_first_closed, 2000);
	r->modules[0] = fresh;
	r->modules[1] = old;
	run_until(r, until_answers, 2000);
	assert_false(fresh->closed);
	assert_int_equal(log_count(r, "reconnected"), 1);
	run_free(r);
}

/* "No internet" and a type no one knows are answered with the clock and said once; a firmware
 * update request, which only Eesmart can answer, is said once and its connection closed. */
static void
test_other_requests(void **state)
{
	struct run *r = run_start();
	uint8_t req[D2L_FRAME_MAX];
	struct module *c = module_connect(r);
	size_t n;

	(void) state;
	for (int i = 0; i < 2; i++) {
		n = make_request(req, ID_A, D2L_NO_INTERNET, "", 0, key_a, iv_a);
		module_send(c, req, n);
		n = make_request(req, ID_A, 0x09, "x", 1, key_a, iv_a);
		module_send(c, req, n);
	}
	want_answers = 4;
	run_until(r, until_answers, 2000);
	answer(c, 0, ID_A, D2L_NO_INTERNET, key_a, iv_a);
	answer(c, 1, ID_A, 0x09, key_a, iv_a);
	answer(c, 3, ID_A, 0x09, key_a, iv_a);
	assert_int_equal(log_count(r, "reaches no Internet"), 1);
	assert_int_equal(log_count(r, "unknown type 0x09"), 1);
	n = make_request(req, ID_A, D2L_FIRMWARE, "abc", 3, key_a, iv_a);
	for (int i = 0; i < 2; i++) {
		if (i) {
			module_free(r, c);
			r->modules[0] = NULL;
			c = module_connect(r);
		}
		module_send(c, req, n);
		run_until(r, until_closed, 2000);
		assert_int_equal(c->in_len, i ? 0 : 4 * 48);
	}
	assert_int_equal(log_count(r, "asks for a firmware update"), 1);
	assert_int_equal(r->meters[0].frames, 0);
	run_free(r);
}

/* Connections are bounded (4, and 2 per module): silent ones that never sent a valid frame make
 * room for newcomers, oldest first, and a module still gets through. */
static void
test_slots(void **state)
{
	struct run *r = run_start();
	struct module *silent[7], *m;
	uint8_t req[D2L_FRAME_MAX];
	size_t n = make_request(req, ID_A, D2L_GET_HORLOGE, "", 0, key_a, iv_a);

	(void) state;
	for (int i = 0; i < 7; i++) {
		silent[i] = module_connect(r);
		/* Accepted one by one, so that their age is their order. */
		run_for(r, 5);
	}
	/* Seven for one module's 4 + 2: the first is gone, the others stay. */
	assert_true(silent[0]->closed);
	for (int i = 1; i < 7; i++)
		assert_false(silent[i]->closed);
	memset(r->modules, 0, sizeof(r->modules));
	for (int i = 0; i < 7; i++)
		module_free(r, silent[i]);
	m = module_connect(r);
	module_send(m, req, n);
	want_answers = 1;
	run_until(r, until_answers, 2000);
	answer(m, 0, ID_A, D2L_GET_HORLOGE, key_a, iv_a);
	assert_int_equal(log_count(r, "which sent no valid frame, for a newer one"), 1);
	run_free(r);
}

/* Nothing holds a slot for good: a connection that sends nothing, one whose frame never ends,
 * a module that falls silent, each closed once its deadline passed (built in with 400, 400 and
 * 1200 ms). */
static void
test_deadlines(void **state)
{
	struct run *r = run_start();
	uint8_t req[D2L_FRAME_MAX];
	struct module *quiet, *partial, *module;
	size_t n = make_request(req, ID_A, D2L_GET_HORLOGE, "", 0, key_a, iv_a);
	uint64_t t0 = loop_now_ms();

	(void) state;
	module = module_connect(r);
	module_send(module, req, n);
	want_answers = 1;
	run_until(r, until_answers, 2000);
	quiet = module_connect(r);
	partial = module_connect(r);
	module_send(partial, req, 20);
	r->modules[0] = quiet;
	r->modules[1] = partial;
	r->modules[2] = NULL;
	run_until(r, until_closed, 3000);
	assert_false(module->closed);
	assert_true(loop_now_ms() - t0 >= 400);
	assert_int_equal(log_count(r, "no valid frame"), 1);
	assert_int_equal(log_count(r, "a frame left unfinished"), 1);
	r->modules[2] = module;
	run_until(r, until_closed, 3000);
	assert_int_equal(log_count(r, "silent for too long"), 1);
	run_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc_and_clock),
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_response),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_rebuild_captures),
	    cmocka_unit_test(test_rebuild_rules),
	    cmocka_unit_test(test_rebuild_edges),
	    cmocka_unit_test_teardown(test_module_session, teardown),
	    cmocka_unit_test_teardown(test_wrong_key, teardown),
	    cmocka_unit_test_teardown(test_two_modules_and_unknown, teardown),
	    cmocka_unit_test_teardown(test_garbage_and_oversize, teardown),
	    cmocka_unit_test_teardown(test_port_taken, teardown),
	    cmocka_unit_test_teardown(test_reconnect, teardown),
	    cmocka_unit_test_teardown(test_slots, teardown),
	    cmocka_unit_test_teardown(test_other_requests, teardown),
	    cmocka_unit_test_teardown(test_deadlines, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
