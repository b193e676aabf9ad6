/* SPDX-License-Identifier: MIT */
/* systemd service notifications (sd_notify): readiness, status line, watchdog, stopping. */
#ifndef LINKYD_NOTIFY_H
#define LINKYD_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval the service manager asked for, in ms, or 0 when there is none. */
uint64_t notify_watchdog_ms(void);

#endif
