/* SPDX-License-Identifier: MIT */
/*
 * linkyd --doctor: every check of a setup, each printed as one line (ok, warning, problem) with
 * the fix, then a verdict. Private to src/doctor/: main.c sees doctor_run() only
 * (linkyd/doctor.h). It never changes anything: the line is only read, the broker gets one
 * non-retained test message on a topic of the doctor's own.
 *
 * Three layers: the report (report.c) and the rules (rules.c) are pure, for the unit tests; the
 * system is read through procfs.c, devfs.c and systemctl.c only; the checks (device.c, line.c,
 * broker.c) put the two together.
 *
 * Test-only environment variables, so that the tests can fake what they cannot make real:
 *   LINKYD_DOCTOR_CMDLINE    a file read instead of /proc/cmdline
 *   LINKYD_DOCTOR_DEVICES    a file read instead of /proc/devices
 *   LINKYD_DOCTOR_DEV        a directory listed instead of /dev for the candidate devices
 *   LINKYD_DOCTOR_SYSTEMCTL  a program run instead of systemctl (same arguments)
 *   LINKYD_DOCTOR_LISTEN_MS  how long the line is listened to at each speed (instead of 7 s
 *                            at 1200 Bd and 4 s at 9600 Bd)
 *   LINKYD_DOCTOR_BIRTH_MS   how long to wait for Home Assistant's birth message (instead of
 *                            2 s)
 */
#ifndef LINKYD_DOCTOR_INTERNAL_H
#define LINKYD_DOCTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"
#include "linkyd/tic.h"

/* ---- report.c: the lines and the verdict ------------------------------------------------ */

enum doctor_level {
	DOCTOR_OK,
	DOCTOR_WARNING,
	DOCTOR_PROBLEM,
};

struct doctor_report {
	FILE *out;
	unsigned warnings, problems;
};

/* One check's line: "<level>  <check>: <what>", then "    Fix: <fix>" when fix is not NULL. */
void report_line(struct doctor_report *r, enum doctor_level level, const char *check,
                 const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The verdict line, last; returns the exit status: 0 without a problem (warnings allowed), 1
 * with one at least. */
int report_verdict(struct doctor_report *r);

/* ---- rules.c: pure decisions ------------------------------------------------------------ */

/* The names given to console= in a kernel command line ("ttyAMA0" of "console=ttyAMA0,115200"),
 * each into its own CONSOLE_NAME_SIZE slot of ret, at most max. Returns how many. */
#define CONSOLE_NAME_SIZE 64
size_t rules_consoles(const char *cmdline, char (*ret)[CONSOLE_NAME_SIZE], size_t max);

/* The character device driver of major in /proc/devices' text ("ttyUSB", "pts"...) into ret.
 * Returns 0 or -ENOENT. */
int rules_driver(const char *devices, unsigned major, char *ret, size_t size);

/* Whether the service's user (DynamicUser=yes, SupplementaryGroups=dialout: never the owner)
 * can read a device of this mode and group. */
bool rules_service_can_read(mode_t mode, gid_t gid, gid_t dialout);

/* A unit's text (systemctl cat): whether it closes devices (DevicePolicy=closed or strict), and
 * whether a DeviceAllow= opens the driver's class ("char-<driver>") or path. */
bool rules_devices_closed(const char *unit);
bool rules_device_allowed(const char *unit, const char *driver, const char *path);

/* What a listen found. */
enum line_finding {
	FIND_FRAMES,  /* valid frames, clean enough */
	FIND_NOISY,   /* frames, but 5 % of groups damaged or more */
	FIND_PARITY,  /* 40 % of the bytes with bad parity or more: 7E1 read as something else */
	FIND_GARBAGE, /* bytes but no frame: a wrong speed, or no TIC signal */
	FIND_SILENT,  /* not a byte: wiring */
};
enum line_finding rules_line(const struct tic_stats *s, uint64_t bytes);

/* ---- procfs.c, devfs.c, systemctl.c: the system, read ------------------------------------ */

/* The whole of a small text file (NUL-terminated) into ret, truncated. Returns 0 or -errno. */
int proc_read(const char *path, char *ret, size_t size);
/* /proc/cmdline and /proc/devices (or their test-only stand-ins). */
int proc_cmdline(char *ret, size_t size);
int proc_devices(char *ret, size_t size);

/* Processes but this one with target open (a device's path, "socket:[INODE]"): their pids into
 * ret, at most max. Returns how many, or -errno when /proc cannot be read. */
int proc_holders(const char *target, pid_t *ret, size_t max);
/* A process's name (comm) into ret; "?" when it is gone. */
void proc_name(pid_t pid, char *ret, size_t size);
/* Whether pid is linkyd itself (its name, or an emulator's argument, as under qemu-user). */
bool proc_is_linkyd(pid_t pid);
/* The inode of the socket listening on TCP port (IPv4 or IPv6). Returns 0 or -ENOENT. */
int proc_tcp_listener(unsigned port, unsigned long *ret_inode);

/* The serial devices present, "ttyUSB0 (-> ...)" for links, comma-separated into ret. */
void dev_candidates(char *ret, size_t size);

/* Run systemctl with args (NULL-terminated); its standard output (truncated) into out unless
 * NULL. Returns its exit status, or -errno when it cannot run. */
int systemctl(char *const args[], char *out, size_t size);

/* ---- the checks -------------------------------------------------------------------------- */

/* What the device checks found, for the line check. */
struct device_facts {
	bool usable;      /* there, a character device, nobody else reads it: listen */
	bool daemon_runs; /* the running linkyd holds it: leave it alone */
	bool pty;         /* a pseudo-terminal (a socat bridge): speed means nothing */
};

/* device, access, sandbox, console, other programs, ModemManager: for a serial input. */
void check_device(struct doctor_report *r, const char *check_suffix, const struct meter_config *m,
                  struct device_facts *ret);

/* The line: listen through the daemon's own line and parser code. */
void check_line(struct doctor_report *r, struct loop *loop, const char *check_suffix,
                const struct meter_config *m, const struct device_facts *dev);

/* The broker and Home Assistant discovery. */
void check_broker(struct doctor_report *r, struct loop *loop, const struct linkyd_config *c);

#endif
