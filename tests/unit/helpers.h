/* SPDX-License-Identifier: MIT */
/* Shared test helpers: read fixtures, decode bytes to JSON lines with any chunking, build TIC
 * streams group by group, and record decoded frames with the stream offset where each ended. */
#ifndef LINKYD_TEST_HELPERS_H
#define LINKYD_TEST_HELPERS_H

#include <stddef.h>

#include "linkyd/json.h"
#include "linkyd/tic.h"

/* Read LINKYD_TEST_DATA/name whole; aborts the test on failure. Free with free(). */
char *read_fixture(const char *name, size_t *ret_len);

/* Decode data fed in pieces of `chunk` bytes (0 = all at once) into JSON lines, one per frame,
 * each ending in '\n'. Free with free(). ret_stats, if not NULL, gets the counters. */
char *decode_lines(const void *data, size_t len, size_t chunk, enum json_format format,
                   struct tic_stats *ret_stats);

/* Decode data split at positions i and j (i <= j <= len): three feeds. */
char *decode_split(const void *data, size_t len, size_t i, size_t j, enum json_format format);

/* ---- Building streams --------------------------------------------------------------------- */

/* The check character of s[0..n): (sum & 0x3F) + 0x20. */
char tic_check_char(const void *s, size_t n);

/* A growable byte string, always NUL-terminated. Zero-initialise; free data with free(). */
struct bytes {
	char *data;
	size_t len, cap;
};

void bytes_add(struct bytes *b, const void *p, size_t n);
void bytes_str(struct bytes *b, const char *s);
void bytes_byte(struct bytes *b, unsigned char c);

/* The text of a group between LF and CR, with its check character: LABEL SP VALUE SP C
 * (historique, last SP not summed) or LABEL HT [HORODATE HT] VALUE HT C (standard). */
void bytes_group_text(struct bytes *b, enum tic_mode mode, const char *label, const char *horodate,
                      const char *value);

/* The same group framed as LF ... CR. */
void bytes_group(struct bytes *b, enum tic_mode mode, const char *label, const char *horodate,
                 const char *value);

/* ---- Recording decoded frames ------------------------------------------------------------- */

struct rec_group {
	char *label, *value, *horodate; /* copies; horodate NULL when the group has none */
	const struct tic_label *def;
	struct tic_group group; /* the group as delivered, typed, its strings the copies above */
};

struct rec_frame {
	enum tic_mode mode;
	size_t end; /* offset just past the byte (ETX) that ended the frame */
	unsigned n_groups;
	struct rec_group *groups;
};

struct rec {
	struct rec_frame *frames;
	size_t n_frames;
	struct tic_stats stats; /* after the final tic_parser_reset() */
};

/* Decode data in one parser fed at most `chunk` bytes at a time (0 = all at once), resetting it at
 * the end, and keep a copy of every frame. */
void rec_decode(struct rec *r, const void *data, size_t len, size_t chunk);
void rec_free(struct rec *r);

/* The group of f labelled label, or NULL. */
const struct rec_group *rec_find(const struct rec_frame *f, const char *label);

/* Fail unless a and b have the same label, value, horodate, table row and typed fields. */
void assert_rec_group_equal(const struct rec_group *a, const struct rec_group *b);

/* Fail unless a and b hold the same groups (labels, values, horodates, typed fields, order) in
 * the same mode. */
void assert_rec_frame_equal(const struct rec_frame *a, const struct rec_frame *b);

#endif
