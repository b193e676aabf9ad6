/* SPDX-License-Identifier: MIT */
/* `linkyd --decode`: decode a TIC capture file to JSON lines, without a meter or a broker. */
#ifndef LINKYD_DECODE_H
#define LINKYD_DECODE_H

#include "linkyd/json.h"

/* Decode path ("-" = standard input): one JSON object per delivered frame on standard output,
 * the counters on standard error. Returns an exit status (0, or EX_NOINPUT / EX_IOERR after
 * printing why). */
int decode_run(const char *path, enum json_format format);

#endif
