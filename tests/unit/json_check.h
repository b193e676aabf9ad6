/* SPDX-License-Identifier: MIT */
/* An independent check of json_encode_frame()'s output: parse it back with cJSON and compare the
 * tree with the frame, value by value, computing every expected value here from the frame's
 * strings rather than with the encoder's code. Shared by tests/unit/test_json.c and the fuzzer. */
#ifndef LINKYD_TEST_JSON_CHECK_H
#define LINKYD_TEST_JSON_CHECK_H

#include "linkyd/json.h"
#include "linkyd/tic.h"

/* NULL if json is valid JSON holding exactly frame in format, else what is wrong (a constant
 * string). */
const char *json_check_frame(const struct tic_frame *frame, enum json_format format,
                             const char *json);

#endif
