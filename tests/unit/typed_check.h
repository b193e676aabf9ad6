/* SPDX-License-Identifier: MIT */
/* The typed fields of a group (tic.h) against what the string parsers make of its strings:
 * for the unit tests and the fuzzer, hence no cmocka. */
#ifndef LINKYD_TEST_TYPED_CHECK_H
#define LINKYD_TEST_TYPED_CHECK_H

#include <stdbool.h>

#include "linkyd/tic.h"

/* NULL when g's typed fields are those its label, value and horodate give, read again with the
 * checked, byte-by-byte parsers (tic_parse_uint(), tic_horodate_parse(), tic_stge_decode()) and
 * the code lists of docs/tic.md §5 and §8; else what differs. */
const char *typed_check(const struct tic_group *g);

/* Whether a and b, two groups of the same label, have the same typed fields (those that their
 * format and horodate have). */
bool typed_same(const struct tic_group *a, const struct tic_group *b);

#endif
