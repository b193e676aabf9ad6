/* SPDX-License-Identifier: MIT */
/* Shared test helpers: read fixtures, decode bytes to JSON lines with any chunking. */
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

#endif
