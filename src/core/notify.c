/* SPDX-License-Identifier: MIT */
/*
 * The only user of sd-daemon. Outside systemd ($NOTIFY_SOCKET unset) every call is a cheap
 * no-op, so the daemon runs the same from a shell.
 */
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "linkyd/notify.h"

void
notify_ready(void)
{
	(void) sd_notify(0, "READY=1");
}

void
notify_reloading(void)
{
	(void) sd_notify(0, "RELOADING=1");
}

void
notify_stopping(void)
{
	(void) sd_notify(0, "STOPPING=1");
}

void
notify_watchdog(void)
{
	(void) sd_notify(0, "WATCHDOG=1");
}

void
notify_status(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void) sd_notifyf(0, "STATUS=%s", line);
}

uint64_t
notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec / 1000 : 0;
}
