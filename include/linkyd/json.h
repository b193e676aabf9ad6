/* SPDX-License-Identifier: MIT */
/*
 * JSON encoding of decoded TIC frames: the "typed" form (numbers as numbers, horodates as ISO
 * dates, STGE decoded) and the "raw" form (every label maps to the exact string the meter sent).
 */
#ifndef LINKYD_JSON_H
#define LINKYD_JSON_H

#include <stddef.h>

#include "linkyd/tic.h"

enum json_format {
	JSON_FORMAT_TYPED,
	JSON_FORMAT_RAW,
};

/* Parse "typed" or "raw". Returns 0 or -EINVAL. */
int json_format_parse(const char *s, enum json_format *ret_format);
const char *json_format_name(enum json_format format);

/* Room that is always enough for one frame in either format. */
#define JSON_FRAME_MAX 32768

/* Encode frame as one line of JSON (no newline) into buf, NUL-terminated, from its groups' typed
 * fields (tic.h). Returns the length, or -ENOBUFS if size is too small (under length + 1; buf
 * then holds no string), or -EINVAL for a group of a table label that is not typed as its value
 * says (never for a frame the parser delivered; see tic_group_type() for groups made by hand).
 * Allocates nothing and never writes past buf + size. */
int json_encode_frame(const struct tic_frame *frame, enum json_format format, char *buf,
                      size_t size);

/* The payload of a label's own topic (<topic>/<LABEL>): its value as in the frame's object, a
 * string bare, without quotes ("HC..", 1940, {"value":..,"date":..}). Returns the length, or
 * -ENOBUFS / -EINVAL as json_encode_frame(); size must hold the quoted form of a string. */
int json_encode_value(const struct tic_group *g, enum json_format format, char *buf, size_t size);

#endif
