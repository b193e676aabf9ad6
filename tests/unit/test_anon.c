/* SPDX-License-Identifier: MIT */
/* Unit tests of the anonymisation: SipHash against its paper, the pseudonyms' properties, the
 * key derivations (machine-id files good and bad), and the real captures anonymised as frames
 * and as raw bytes, in both JSON formats, with no trace of an original identifier left. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "linkyd/anon.h"
#include "helpers.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The key of the paper's test vector: bytes 00 01 .. 0f. */
static const struct anon_key paper_key = {
    {UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908)}};

static struct anon_key
key_of(const char *secret)
{
	struct anon_key k;

	assert_int_equal(anon_key_from_secret(secret, &k), 0);
	return k;
}

static void
pseudonym(const struct anon_key *k, const char *id, char *out)
{
	anon_pseudonym(k, id, strlen(id), out);
}

/* ---- SipHash and pseudonyms ------------------------------------------------------------------ */

static void
test_siphash_paper(void **state)
{
	uint8_t msg[15];

	(void) state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t) i;
	/* Appendix A: 15 bytes 00 .. 0e, one whole word and a tail. */
	assert_int_equal(anon_siphash(&paper_key, msg, sizeof(msg)), UINT64_C(0xa129ca6149be45e5));
	/* The reference implementation's first vector: the empty message, the length word only. */
	assert_int_equal(anon_siphash(&paper_key, msg, 0), UINT64_C(0x726fdb47dd0e0e31));
}

static void
assert_all_digits(const char *s, size_t len)
{
	assert_int_equal(strlen(s), len);
	for (size_t i = 0; i < len; i++)
		assert_true(s[i] >= '0' && s[i] <= '9');
}

static void
test_pseudonym_stable(void **state)
{
	struct anon_key a = key_of("first secret"), a2 = key_of("first secret"),
	                b = key_of("second secret");
	char pa[16], pa2[16], pb[16];

	(void) state;
	pseudonym(&a, "811775412275", pa);
	pseudonym(&a2, "811775412275", pa2);
	pseudonym(&b, "811775412275", pb);
	assert_all_digits(pa, 12);
	assert_string_equal(pa, pa2);
	assert_string_not_equal(pa, pb);
	assert_string_not_equal(pa, "811775412275");
}

/* Same length, digits only, leading zeros kept as digits, a valid id for every ID label. */
static void
test_pseudonym_shape(void **state)
{
	struct anon_key k = key_of("shape");
	static const char *const ids[] = {
	    "000123456789", "000000000000", "012345678910", "00000000000000", "0", "", "9"};
	char out[TIC_VALUE_MAX + 1];

	(void) state;
	for (size_t i = 0; i < N_ELEM(ids); i++) {
		pseudonym(&k, ids[i], out);
		assert_all_digits(out, strlen(ids[i]));
	}
	pseudonym(&k, "000000000000", out);
	assert_string_not_equal(out, "000000000000");
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		char id[TIC_VALUE_MAX + 1];

		if (def->format != TIC_FMT_ID)
			continue;
		memset(id, '0', def->width);
		id[def->width] = '\0';
		pseudonym(&k, id, out);
		assert_int_equal(tic_label_check(def, out, def->width), 0);
	}
	/* Not digits: kept (a valid id has none, a corrupt one in the raw log may). */
	pseudonym(&k, "12A4", out);
	assert_int_equal(out[2], 'A');
}

/* Ids of one length that differ in one digit get pseudonyms that differ in that digit, from
 * there on: no two ids share a pseudonym, and each digit takes all ten values. */
static void
test_pseudonym_one_to_one(void **state)
{
	struct anon_key k = key_of("bijection");
	char id[] = "031764953443", out[13];

	(void) state;
	for (size_t pos = 0; pos < 12; pos++) {
		unsigned seen = 0;
		char first[13];

		id[pos] = '0';
		pseudonym(&k, id, first);
		for (char d = '0'; d <= '9'; d++) {
			id[pos] = d;
			pseudonym(&k, id, out);
			assert_memory_equal(out, first, pos);
			seen |= 1u << (out[pos] - '0');
		}
		assert_int_equal(seen, 0x3ff);
		id[pos] = "031764953443"[pos];
	}
}

/* ---- Keys ------------------------------------------------------------------------------------ */

static void
test_key_from_secret(void **state)
{
	struct anon_key k = {{1, 2}}, a = key_of("a"), b = key_of("b");

	(void) state;
	assert_int_equal(anon_key_from_secret("", &k), -EINVAL);
	assert_int_equal(anon_key_from_secret(NULL, &k), -EINVAL);
	assert_memory_not_equal(&a, &b, sizeof(a));
}

struct tmpdir {
	char path[64];
	char file[128];
};

static const char *
write_file(struct tmpdir *t, const char *content)
{
	FILE *f;

	snprintf(t->file, sizeof(t->file), "%s/machine-id", t->path);
	f = fopen(t->file, "w");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return t->file;
}

static void
test_key_from_machine_id(void **state)
{
	static const char id[] = "3d1219c7c4c5404aaa1f6d2a48adfda4";
	static const char *const bad[] = {
	    "",
	    "uninitialized\n", /* systemd's first boot */
	    "3d1219c7c4c5404aaa1f6d2a48adfda\n",
	    "3d1219c7c4c5404aaa1f6d2a48adfda45\n",
	    "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n",
	    "3d1219c7c4c5404aaa1f6d2a48adfda4\n\n",
	    "3d1219c7c4c5404aaa1f6d2a48adfda4 ",
	    "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\n",
	};
	struct tmpdir t;
	struct anon_key k1, k2, other;
	char path[160];

	(void) state;
	snprintf(t.path, sizeof(t.path), "/tmp/test_anon.XXXXXX");
	assert_non_null(mkdtemp(t.path));

	/* With or without the newline: the same key, not the secret's for another id. */
	assert_int_equal(
	    anon_key_from_machine_id(write_file(&t, "3d1219c7c4c5404aaa1f6d2a48adfda4\n"), &k1), 0);
	assert_int_equal(anon_key_from_machine_id(write_file(&t, id), &k2), 0);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(
	    anon_key_from_machine_id(write_file(&t, "0d1219c7c4c5404aaa1f6d2a48adfda4\n"), &other),
	    0);
	assert_memory_not_equal(&k1, &other, sizeof(k1));

	for (size_t i = 0; i < N_ELEM(bad); i++)
		assert_int_equal(anon_key_from_machine_id(write_file(&t, bad[i]), &k2), -EINVAL);

	/* Missing, and a directory (open succeeds, read fails): errors, not a crash. */
	assert_int_equal(unlink(t.file), 0);
	assert_int_equal(anon_key_from_machine_id(t.file, &k2), -ENOENT);
	assert_int_equal(anon_key_from_machine_id(t.path, &k2), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing/machine-id", t.path);
	assert_int_equal(anon_key_from_machine_id(path, &k2), -ENOENT);
	assert_int_equal(rmdir(t.path), 0);
}

/* ---- The captures ---------------------------------------------------------------------------- */

#define MAX_IDS 32

/* The identifiers a capture holds anywhere, valid groups or not: the bytes after "LF label
 * separator" for every TIC_FMT_ID label, as wide as the label's ids. */
struct ids {
	size_t n;
	char id[MAX_IDS][TIC_VALUE_MAX + 1];
};

static void
ids_add(struct ids *ids, const char *p, size_t len)
{
	for (size_t i = 0; i < ids->n; i++)
		if (strlen(ids->id[i]) == len && memcmp(ids->id[i], p, len) == 0)
			return;
	assert_true(ids->n < MAX_IDS);
	memcpy(ids->id[ids->n], p, len);
	ids->id[ids->n++][len] = '\0';
}

static void
ids_scan(struct ids *ids, const char *data, size_t len)
{
	*ids = (struct ids){0};
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		char pattern[TIC_LABEL_MAX + 3];
		int n;

		if (def->format != TIC_FMT_ID)
			continue;
		n = snprintf(pattern, sizeof(pattern), "\n%s%c", def->name,
		             def->mode == TIC_MODE_STANDARD ? '\t' : ' ');
		for (const char *p = data;
		     (p = memmem(p, len - (size_t) (p - data), pattern, (size_t) n)) != NULL; p++)
			if ((size_t) (p - data) + (size_t) n + def->width <= len)
				ids_add(ids, p + n, def->width);
	}
}

/* Fail if any of ids is in the len bytes at p. */
static void
assert_no_id(const struct ids *ids, const char *p, size_t len, const char *name)
{
	for (size_t i = 0; i < ids->n; i++)
		if (memmem(p, len, ids->id[i], strlen(ids->id[i])))
			fail_msg("%s: %s is still there", name, ids->id[i]);
}

/* Decoding with anon_frame() between the parser and the encoder, as the daemon does. */
struct anon_sink {
	const struct anon_key *key;
	enum json_format format;
	struct anon_frame af;
	struct bytes out;
};

static int
anon_on_frame(const struct tic_frame *frame, void *userdata)
{
	struct anon_sink *s = userdata;
	char json[JSON_FRAME_MAX], want[TIC_VALUE_MAX + 1];
	int n;

	assert_int_equal(anon_frame(s->key, frame, &s->af), 0);
	assert_int_equal(s->af.frame.mode, frame->mode);
	assert_int_equal(s->af.frame.n_groups, frame->n_groups);
	for (unsigned i = 0; i < frame->n_groups; i++) {
		const struct tic_group *g = &frame->groups[i], *a = &s->af.frame.groups[i];

		if (g->def && g->def->format == TIC_FMT_ID) {
			anon_pseudonym(s->key, g->value, g->value_len, want);
			assert_string_equal(a->value, want);
			assert_int_equal(tic_label_check(a->def, a->value, a->value_len), 0);
		} else {
			/* Not copied: the original's strings. */
			assert_ptr_equal(a->value, g->value);
		}
		assert_ptr_equal(a->label, g->label);
		assert_ptr_equal(a->def, g->def);
	}
	n = json_encode_frame(&s->af.frame, s->format, json, sizeof(json));
	assert_true(n > 0);
	bytes_add(&s->out, json, (size_t) n);
	bytes_byte(&s->out, '\n');
	return 0;
}

static const struct tic_parser_callbacks anon_cbs = {.on_frame = anon_on_frame};

static char *
decode_anonymised(const struct anon_key *key, const char *data, size_t len, enum json_format format)
{
	struct anon_sink *s = calloc(1, sizeof(*s));
	struct tic_parser *p = malloc(sizeof(*p));
	char *out;

	assert_non_null(s);
	assert_non_null(p);
	s->key = key;
	s->format = format;
	tic_parser_init(p, &anon_cbs, s);
	assert_int_equal(tic_parser_feed(p, data, len), len);
	tic_parser_reset(p);
	out = s->out.data ? s->out.data : calloc(1, 1);
	free(p);
	free(s);
	return out;
}

/* Every identifier of text replaced by its pseudonym (same length: in place). */
static void
replace_ids(const struct anon_key *key, const struct ids *ids, char *text)
{
	for (size_t i = 0; i < ids->n; i++) {
		size_t len = strlen(ids->id[i]);
		char pseudo[TIC_VALUE_MAX + 1];

		anon_pseudonym(key, ids->id[i], len, pseudo);
		for (char *p = text; (p = strstr(p, ids->id[i])) != NULL; p += len)
			memcpy(p, pseudo, len);
	}
}

typedef void capture_fn(const char *name, const char *data, size_t len, const struct ids *ids);

/* Run fn on every capture of the data directory, with the identifiers it holds. Historique
 * captures have ADCO, standard ones ADSC and PRM: make sure all three were seen. */
static void
each_capture(capture_fn *fn)
{
	DIR *dir = opendir(LINKYD_TEST_DATA);
	struct dirent *e;
	unsigned labels = 0, captures = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t nlen = strlen(e->d_name), len;
		struct ids ids;
		char *data;

		if (nlen < 5 || strcmp(e->d_name + nlen - 4, ".tic") != 0)
			continue;
		data = read_fixture(e->d_name, &len);
		ids_scan(&ids, data, len);
		labels |= (memmem(data, len, "\nADCO ", 6) ? 1u : 0) |
		          (memmem(data, len, "\nADSC\t", 6) ? 2u : 0) |
		          (memmem(data, len, "\nPRM\t", 5) ? 4u : 0);
		fn(e->d_name, data, len, &ids);
		free(data);
		captures++;
	}
	closedir(dir);
	assert_true(captures >= 10);
	assert_int_equal(labels, 7);
}

static const struct anon_key *
capture_key(void)
{
	static struct anon_key key;

	if (!key.k[0])
		key = key_of("captures");
	return &key;
}

/* The anonymised frames' JSON is the original's with each identifier replaced by its
 * pseudonym, and nothing else changed; no identifier is left. */
static void
frames_check(const char *name, const char *data, size_t len, const struct ids *ids)
{
	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
		char *want = decode_lines(data, len, 0, f, NULL);
		char *got = decode_anonymised(capture_key(), data, len, f);

		assert_true(ids->n > 0);
		replace_ids(capture_key(), ids, want);
		assert_string_equal(got, want);
		assert_no_id(ids, got, strlen(got), name);
		free(want);
		free(got);
	}
}

static void
test_capture_frames(void **state)
{
	(void) state;
	each_capture(frames_check);
}

/* The raw bytes rewritten in pieces of every size (one in place) decode to the same counters
 * (checksums recomputed, corrupt groups still corrupt) and to the anonymised frames; no
 * identifier is left in the bytes. */
static void
stream_check(const char *name, const char *data, size_t len, const struct ids *ids)
{
	static const size_t chunks[] = {1, 2, 3, 7, 64, 0};
	struct tic_stats want_stats, got_stats;
	char *want[2];

	free(decode_lines(data, len, 0, JSON_FORMAT_RAW, &want_stats));
	for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++)
		want[f] = decode_anonymised(capture_key(), data, len, f);
	for (size_t c = 0; c < N_ELEM(chunks); c++) {
		unsigned char *out = malloc(len);
		size_t chunk = chunks[c] ? chunks[c] : len;
		struct anon_stream s;

		assert_non_null(out);
		if (!chunks[c])
			memcpy(out, data, len);
		anon_stream_init(&s);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			const unsigned char *in = chunks[c] ? (const unsigned char *) data : out;

			anon_stream(capture_key(), &s, in + off, n, out + off);
		}
		assert_no_id(ids, (const char *) out, len, name);
		for (int f = JSON_FORMAT_TYPED; f <= JSON_FORMAT_RAW; f++) {
			char *got = decode_lines(out, len, 0, f, &got_stats);

			assert_string_equal(got, want[f]);
			assert_memory_equal(&got_stats, &want_stats, sizeof(got_stats));
			free(got);
		}
		free(out);
	}
	free(want[0]);
	free(want[1]);
}

static void
test_capture_stream(void **state)
{
	(void) state;
	each_capture(stream_check);
}

/* ---- Raw bytes by hand ----------------------------------------------------------------------- */

static unsigned char *
stream_all(const struct anon_key *k, const struct bytes *b)
{
	unsigned char *out = malloc(b->len + 1);
	struct anon_stream s;

	assert_non_null(out);
	anon_stream_init(&s);
	anon_stream(k, &s, (const unsigned char *) b->data, b->len, out);
	out[b->len] = '\0';
	return out;
}

/* A 7E1 line read as 8 bits: the parity bit in bit 7 of every byte. A rewritten byte that had
 * bit 7 keeps good parity, and a byte with bad parity stays bad. */
static void
test_stream_parity(void **state)
{
	struct anon_key k = key_of("parity");
	struct bytes b = {0};
	unsigned char *plain, *wide;
	char *want, *got;

	(void) state;
	bytes_byte(&b, TIC_STX);
	bytes_group(&b, TIC_MODE_STANDARD, "ADSC", NULL, "041776199277");
	bytes_group(&b, TIC_MODE_STANDARD, "PRM", NULL, "07361794479930");
	bytes_group(&b, TIC_MODE_STANDARD, "EAST", NULL, "021849106");
	bytes_byte(&b, TIC_ETX);
	plain = stream_all(&k, &b);
	want = decode_lines(plain, b.len, 0, JSON_FORMAT_RAW, NULL);
	assert_non_null(strstr(want, "\"EAST\":\"021849106\""));

	for (size_t i = 0; i < b.len; i++)
		if (__builtin_popcount((unsigned char) b.data[i]) & 1)
			b.data[i] = (char) (b.data[i] | 0x80);
	wide = stream_all(&k, &b);
	got = decode_lines(wide, b.len, 0, JSON_FORMAT_RAW, NULL);
	assert_string_equal(got, want);
	for (size_t i = 0; i < b.len; i++) {
		/* A byte read without bit 7 may come from a 7-bit line: it stays without. */
		if (wide[i] & 0x80)
			assert_int_equal(__builtin_popcount(wide[i]) & 1, 0);
		assert_int_equal(wide[i] & 0x7f, plain[i]);
	}
	free(got);
	free(wide);

	/* One digit of the id with bad parity: the group is dropped before and after. */
	b.data[7] = (char) (b.data[7] ^ 0x80);
	wide = stream_all(&k, &b);
	got = decode_lines(wide, b.len, 0, JSON_FORMAT_RAW, NULL);
	assert_null(strstr(got, "ADSC"));
	assert_non_null(strstr(got, "PRM"));
	free(got);
	free(wide);
	free(want);
	free(plain);
	free(b.data);
}

/* ADCO in historique and ADSC in standard are the same serial: when Enedis switches the meter,
 * its pseudonym, and so its Home Assistant device, must stay the same. */
static void
test_same_serial_both_modes(void **state)
{
	struct anon_key k = key_of("switch");
	struct bytes b = {0};
	unsigned char *out;
	char *json, pseudo[13], want[64];

	(void) state;
	bytes_byte(&b, TIC_STX);
	bytes_group(&b, TIC_MODE_HISTORIQUE, "ADCO", NULL, "031764953443");
	bytes_byte(&b, TIC_ETX);
	bytes_byte(&b, TIC_STX);
	bytes_group(&b, TIC_MODE_STANDARD, "ADSC", NULL, "031764953443");
	bytes_byte(&b, TIC_ETX);
	out = stream_all(&k, &b);
	json = decode_lines(out, b.len, 0, JSON_FORMAT_RAW, NULL);
	pseudonym(&k, "031764953443", pseudo);
	snprintf(want, sizeof(want), "{\"ADCO\":\"%s\"}\n{\"ADSC\":\"%s\"}\n", pseudo, pseudo);
	assert_string_equal(json, want);
	free(json);
	free(out);
	free(b.data);
}

/* Noise inside an identifier group: whatever follows the label is rewritten up to the end of
 * the group, an extra separator included. */
static void
test_stream_corrupt(void **state)
{
	struct anon_key k = key_of("corrupt");
	struct bytes b = {0};
	unsigned char *out;

	(void) state;
	bytes_str(&b, "\x02\nADSC\t0417761\t99277\tX\r\nADCO 12345678\r\nEAST\t021849106\t)\r\x03");
	out = stream_all(&k, &b);
	assert_null(strstr((char *) out, "0417761"));
	assert_null(strstr((char *) out, "99277"));
	assert_null(strstr((char *) out, "12345678"));
	assert_non_null(strstr((char *) out, "\nADSC\t"));
	assert_non_null(strstr((char *) out, "\nEAST\t021849106\t)\r\x03"));
	free(out);
	free(b.data);
}

/* Where nothing says which group the bytes belong to, no identifier may pass: a stream that
 * starts inside the ADCO group, a corrupt label, a lost LF, a lost label; known groups are
 * copied as they are. */
static void
test_stream_no_leak(void **state)
{
	static const char *const cases[] = {
	    "O 811775412275 E\r\n",               /* the daemon opened the line mid-group */
	    "\nADCN 811775412275 E\r\n",          /* a bit error in the label */
	    "\r811775412275 E\r\nPAPP 01090 *\r", /* the LF lost */
	    "\n811775412275 E\r\n",               /* LF, then the label lost */
	    "\nXYZ\t811775412275\t#\r\n",         /* a label the table does not know */
	    /* A known group's CR and the next LF lost, or turned printable by noise. */
	    "\nSTGE\t003A0001\t:ADSC\t811775412275\tX\r\n",
	    "\nPAPP 01090 *ADCO 811775412275 E\r\n",
	    "\nPAPP 01090 *MJADCO 811775412275 E\r\n",
	    "\nDATE\tH240210121355\t\t>ADSC\t811775412275\tX\r\n",
	};
	struct anon_key k = key_of("leak");

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bytes b = {0};
		unsigned char *out;

		print_message("%zu\n", i);
		bytes_str(&b, cases[i]);
		out = stream_all(&k, &b);
		/* Not even a run of three of its digits. */
		for (size_t at = 0; at + 3 <= 12; at++) {
			char part[4];

			memcpy(part, "811775412275" + at, 3);
			part[3] = '\0';
			assert_null(strstr((char *) out, part));
		}
		free(out);
		free(b.data);
	}
	/* After a known group's LF, bytes are copied again. */
	{
		struct bytes b = {0};
		unsigned char *out;

		bytes_str(&b, "O 811775412275 E\r\nHCHC 014795091 %\r");
		out = stream_all(&k, &b);
		assert_non_null(strstr((char *) out, "\nHCHC 014795091 %\r"));
		free(out);
		free(b.data);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_paper),   cmocka_unit_test(test_pseudonym_stable),
	    cmocka_unit_test(test_pseudonym_shape), cmocka_unit_test(test_pseudonym_one_to_one),
	    cmocka_unit_test(test_key_from_secret), cmocka_unit_test(test_key_from_machine_id),
	    cmocka_unit_test(test_capture_frames),  cmocka_unit_test(test_capture_stream),
	    cmocka_unit_test(test_stream_parity),   cmocka_unit_test(test_stream_corrupt),
	    cmocka_unit_test(test_stream_no_leak),  cmocka_unit_test(test_same_serial_both_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
