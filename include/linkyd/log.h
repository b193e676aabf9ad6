/* SPDX-License-Identifier: MIT */
/*
 * Logging for the daemon's own layers (core, io, mqtt, main). The decoder, the JSON encoder and
 * the config parser never log: they return codes. Lines go to stderr, with sd-daemon "<N>"
 * priority prefixes when stderr is connected to the journal, so `journalctl -p warning` works.
 */
#ifndef LINKYD_LOG_H
#define LINKYD_LOG_H

#include <syslog.h>

/* verbosity: 0 = notice and above, 1 = info, 2 = debug (raw frames); negative: errors only
 * (tests, fuzzers). */
void log_init(int verbosity);
int log_verbosity(void);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log with strerror(-err) appended; returns err so that one line both logs and returns. */
int log_errno(int priority, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
