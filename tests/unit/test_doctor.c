/* SPDX-License-Identifier: MIT */
/*
 * linkyd --doctor's pure parts: the kernel command line's consoles, /proc/devices, the service
 * user's read permission, a unit's device sandbox, what a listen found, and the report with its
 * verdict and exit status. The checks themselves run in tests/integration/test_doctor.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "doctor.h"

static void
test_consoles(void **state)
{
	char names[4][CONSOLE_NAME_SIZE];

	(void) state;
	assert_int_equal(rules_consoles("coherent_pool=1M 8250.nr_uarts=1 console=serial0,115200 "
	                                "console=tty1 root=PARTUUID=1-02 rootwait\n",
	                                names, 4),
	                 2);
	assert_string_equal(names[0], "serial0");
	assert_string_equal(names[1], "tty1");
	assert_int_equal(rules_consoles("root=/dev/sda1 quiet", names, 4), 0);
	assert_int_equal(rules_consoles("", names, 4), 0);
	/* An empty name, and more than asked for. */
	assert_int_equal(rules_consoles("console= console=ttyAMA0 console=ttyS0", names, 1), 1);
	assert_string_equal(names[0], "ttyAMA0");
}

static void
test_driver(void **state)
{
	static const char devices[] = "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n"
	                              "136 pts\n166 ttyACM\n188 ttyUSB\n204 ttyAMA\n\n"
	                              "Block devices:\n  8 sd\n166 notachar\n";
	char name[64];

	(void) state;
	assert_int_equal(rules_driver(devices, 188, name, sizeof(name)), 0);
	assert_string_equal(name, "ttyUSB");
	assert_int_equal(rules_driver(devices, 136, name, sizeof(name)), 0);
	assert_string_equal(name, "pts");
	assert_int_equal(rules_driver(devices, 166, name, sizeof(name)), 0);
	assert_string_equal(name, "ttyACM");
	/* The first of a major's names; a block device's major is not a character one's. */
	assert_int_equal(rules_driver(devices, 4, name, sizeof(name)), 0);
	assert_string_equal(name, "/dev/vc/0");
	assert_int_equal(rules_driver(devices, 8, name, sizeof(name)), -ENOENT);
	assert_int_equal(rules_driver("garbage", 1, name, sizeof(name)), -ENOENT);
}

static void
test_service_can_read(void **state)
{
	const gid_t dialout = 20, tty = 5;

	(void) state;
	assert_true(rules_service_can_read(S_IFCHR | 0660, dialout, dialout));
	assert_true(rules_service_can_read(S_IFCHR | 0640, dialout, dialout));
	assert_true(rules_service_can_read(S_IFCHR | 0604, tty, dialout));
	/* A pty as openpty() makes it, a console's UART, one only its owner reads. */
	assert_false(rules_service_can_read(S_IFCHR | 0620, tty, dialout));
	assert_false(rules_service_can_read(S_IFCHR | 0600, dialout, dialout));
	assert_false(rules_service_can_read(S_IFCHR | 0620, dialout, dialout));
	/* No dialout group on this system. */
	assert_false(rules_service_can_read(S_IFCHR | 0660, dialout, (gid_t) -1));
}

static void
test_sandbox(void **state)
{
	static const char unit[] = "[Service]\nDynamicUser=yes\nDevicePolicy=closed\n"
	                           "DeviceAllow=char-ttyUSB rw\nDeviceAllow=/dev/ttyS5 r\n";

	(void) state;
	assert_true(rules_devices_closed(unit));
	assert_true(rules_device_allowed(unit, "ttyUSB", "/dev/ttyUSB0"));
	assert_true(rules_device_allowed(unit, "ttyS", "/dev/ttyS5"));
	assert_false(rules_device_allowed(unit, "ttyS", "/dev/ttyS0"));
	assert_false(rules_device_allowed(unit, "ttyUS", "/dev/x"));
	assert_false(rules_device_allowed(unit, "pts", "/dev/pts/3"));
	/* The last DevicePolicy= wins: a drop-in (systemctl cat prints it after) opens it. */
	assert_false(rules_devices_closed("DevicePolicy=closed\n# drop-in\nDevicePolicy=auto\n"));
	assert_true(rules_devices_closed("DevicePolicy=strict"));
	assert_false(rules_devices_closed("[Service]\nDynamicUser=yes\n"));
}

static void
test_line_findings(void **state)
{
	struct tic_stats s = {0};

	(void) state;
	assert_int_equal(rules_line(&s, 0), FIND_SILENT);
	assert_int_equal(rules_line(&s, 1000), FIND_GARBAGE);
	/* Noise: random bytes have bit 7 half the time, with odd parity half of that. */
	s.bytes_bad_parity = 250;
	assert_int_equal(rules_line(&s, 1000), FIND_GARBAGE);
	s.bytes_bad_parity = 400;
	assert_int_equal(rules_line(&s, 1000), FIND_PARITY);
	s = (struct tic_stats){.frames = 3, .groups = 95};
	s.errors[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)] = 4;
	assert_int_equal(rules_line(&s, 1000), FIND_FRAMES); /* 4 of 99 */
	s.errors[TIC_ERR_INDEX(TIC_ERR_FRAMING)] = 1;        /* 5 of 100 */
	assert_int_equal(rules_line(&s, 1000), FIND_NOISY);
}

/* Run fn on a report written into a memory buffer; returns the exit status, the text in out. */
static int
report(void (*fn)(struct doctor_report *), char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");
	struct doctor_report r = {.out = f};
	int status;

	assert_non_null(f);
	fn(&r);
	status = report_verdict(&r);
	assert_int_equal(fclose(f), 0);
	return status;
}

static void
all_ok(struct doctor_report *r)
{
	report_line(r, DOCTOR_OK, "device", NULL, "%s is a character device", "/dev/ttyUSB0");
}

static void
warned(struct doctor_report *r)
{
	all_ok(r);
	report_line(r, DOCTOR_WARNING, "Home Assistant", "wait", "no birth message");
}

static void
broken(struct doctor_report *r)
{
	warned(r);
	report_line(r, DOCTOR_PROBLEM, "access", "a udev rule", "cannot read %d", 1);
	report_line(r, DOCTOR_PROBLEM, "broker", NULL, "refused");
}

static void
test_report(void **state)
{
	char out[1024];

	(void) state;
	assert_int_equal(report(all_ok, out, sizeof(out)), 0);
	assert_string_equal(out, "ok       device: /dev/ttyUSB0 is a character device\n"
	                         "verdict: all good\n");
	assert_int_equal(report(warned, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "warning  Home Assistant: no birth message\n"
	                            "         Fix: wait\n"));
	assert_non_null(strstr(out, "verdict: 1 warning: linkyd can work"));
	assert_int_equal(report(broken, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "problem  access: cannot read 1\n         Fix: a udev rule\n"
	                            "problem  broker: refused\nverdict: 2 problems: linkyd "
	                            "cannot work as it is; see the fixes above\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_consoles),         cmocka_unit_test(test_driver),
	    cmocka_unit_test(test_service_can_read), cmocka_unit_test(test_sandbox),
	    cmocka_unit_test(test_line_findings),    cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
