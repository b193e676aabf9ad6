/* SPDX-License-Identifier: MIT */
/*
 * The only user of sd-daemon. Outside systemd ($NOTIFY_SOCKET unset) every call is a cheap
 * no-op, so the daemon runs the same from a shell.
 *
 * libsystemd is loaded at run time, and only under systemd: with what it maps (libgcrypt,
 * liblzma, libzstd, liblz4, libcap, libgpg-error) it costs about 0.8 MiB of resident memory
 * (bench/e2e.py --notify), for three calls that are no-ops without $NOTIFY_SOCKET anyway.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "linkyd/log.h"
#include "linkyd/notify.h"

/* The module's one mutable global, set once on the loop's thread. */
static struct {
	bool tried;
	__typeof__(sd_notify) *notify; /* NULL outside systemd */
	__typeof__(sd_watchdog_enabled) *watchdog_enabled;
} sd;

static bool
under_systemd(void)
{
	void *h;

	if (sd.tried)
		return sd.notify;
	sd.tried = true;
	if (!getenv("NOTIFY_SOCKET"))
		return false;
	h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		/* The service manager waits for READY=1 in vain and stops the service. */
		log_err("cannot load libsystemd.so.0 (%s): no readiness or watchdog notifications",
		        dlerror());
		return false;
	}
	sd.notify = (__typeof__(sd.notify)) dlsym(h, "sd_notify");
	sd.watchdog_enabled = (__typeof__(sd.watchdog_enabled)) dlsym(h, "sd_watchdog_enabled");
	if (!sd.notify || !sd.watchdog_enabled) {
		log_err("libsystemd.so.0: %s: no readiness or watchdog notifications", dlerror());
		sd.notify = NULL;
		(void) dlclose(h);
	}
	return sd.notify;
}

static void
notify(const char *state)
{
	if (under_systemd())
		(void) sd.notify(0, state);
}

void
notify_ready(void)
{
	notify("READY=1");
}

void
notify_reloading(void)
{
	notify("RELOADING=1");
}

void
notify_stopping(void)
{
	notify("STOPPING=1");
}

void
notify_watchdog(void)
{
	notify("WATCHDOG=1");
}

void
notify_status(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!under_systemd())
		return;
	n = snprintf(line, sizeof(line), "STATUS=");
	va_start(ap, fmt);
	(void) vsnprintf(line + n, sizeof(line) - (size_t) n, fmt, ap);
	va_end(ap);
	notify(line);
}

uint64_t
notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	return under_systemd() && sd.watchdog_enabled(0, &usec) > 0 ? usec / 1000 : 0;
}
