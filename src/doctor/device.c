/* SPDX-License-Identifier: MIT */
/*
 * The checks of a serial input's device: there and a character device, readable by the
 * service's user, allowed by the unit's sandbox, free of a console and of other programs
 * (ModemManager above all, on a ttyACM). Each says what it found and, when it is wrong, the fix.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "doctor.h"

#define TEXT_SIZE   8192
#define MAX_HOLDERS 16
#define UNIT        "linkyd.service"
#define PI_UART_FIX                                                                                \
	"on a Raspberry Pi, enable the UART: raspi-config, Interface Options, Serial Port: "       \
	"login shell no, hardware yes, then reboot; /dev/serial0 appears"
#define USB_FIX                                                                                    \
	"plug the USB adapter in (dmesg names it), and use its stable name from "                  \
	"/dev/serial/by-id/ as the input"

struct dev {
	const char *path;
	char real[PATH_MAX]; /* the device itself, links resolved */
	char driver[64];     /* /proc/devices' name of its major, "" when unknown */
	struct stat st;
	const char *sfx;
};

static void
name_check(char *buf, size_t size, const char *check, const char *sfx)
{
	snprintf(buf, size, "%s%s", check, sfx);
}

static bool
check_exists(struct doctor_report *r, struct dev *d)
{
	char check[128], found[2048];
	bool usb = strstr(d->path, "USB") || strstr(d->path, "ACM") || strstr(d->path, "by-id");

	name_check(check, sizeof(check), "device", d->sfx);
	if (stat(d->path, &d->st) < 0) {
		int e = errno;

		dev_candidates(found, sizeof(found));
		report_line(r, DOCTOR_PROBLEM, check,
		            usb ? USB_FIX ", or set the input to one of the devices found"
		                : PI_UART_FIX ", or set the input to one of the devices found",
		            "%s: %s; serial devices present: %s", d->path, strerror(e),
		            *found ? found : "none");
		return false;
	}
	if (!S_ISCHR(d->st.st_mode)) {
		report_line(
		    r, DOCTOR_PROBLEM, check,
		    "set the input to the serial device itself (/dev/serial0, /dev/ttyUSB0, "
		    "/dev/serial/by-id/...)",
		    "%s is a %s, not a serial device", d->path,
		    S_ISREG(d->st.st_mode)   ? "regular file"
		    : S_ISDIR(d->st.st_mode) ? "directory"
		                             : "special file");
		return false;
	}
	if (!realpath(d->path, d->real))
		snprintf(d->real, sizeof(d->real), "%s", d->path);
	{
		char devices[TEXT_SIZE];

		if (proc_devices(devices, sizeof(devices)) < 0 ||
		    rules_driver(devices, major(d->st.st_rdev), d->driver, sizeof(d->driver)) < 0)
			d->driver[0] = '\0';
	}
	if (strcmp(d->real, d->path) == 0)
		report_line(r, DOCTOR_OK, check, NULL, "%s is a character device (driver %s)",
		            d->path, *d->driver ? d->driver : "unknown");
	else
		report_line(r, DOCTOR_OK, check, NULL, "%s -> %s, a character device (driver %s)",
		            d->path, d->real, *d->driver ? d->driver : "unknown");
	return true;
}

static bool
is_pty(const struct dev *d)
{
	/* Unix98 pty slaves: majors 136 to 143. */
	return strcmp(d->driver, "pts") == 0 ||
	       (!*d->driver && major(d->st.st_rdev) >= 136 && major(d->st.st_rdev) <= 143);
}

static void
check_access(struct doctor_report *r, const struct dev *d)
{
	const struct group *dialout = getgrnam("dialout");
	const struct group *owner = getgrgid(d->st.st_gid);
	gid_t dgid = dialout ? dialout->gr_gid : (gid_t) -1;
	char check[128], fix[PATH_MAX + 512], gname[64];
	unsigned mode = d->st.st_mode & 07777;

	name_check(check, sizeof(check), "access", d->sfx);
	snprintf(gname, sizeof(gname), "%s", owner ? owner->gr_name : "?");
	if (rules_service_can_read(d->st.st_mode, d->st.st_gid, dgid)) {
		report_line(r, DOCTOR_OK, check, NULL,
		            "the service's user (group dialout) can read %s (group %s, mode %04o)",
		            d->real, gname, mode);
		return;
	}
	if (is_pty(d))
		snprintf(fix, sizeof(fix),
		         "make the bridge create it for group dialout: socat "
		         "pty,link=%s,raw,group=dialout,perm=0660 ...",
		         d->path);
	else if (owner && strcmp(owner->gr_name, "tty") == 0)
		snprintf(fix, sizeof(fix),
		         "group tty means a console or a getty has it: free it (see the console "
		         "check), then reboot; udev gives it back to group dialout");
	else
		snprintf(fix, sizeof(fix),
		         "a udev rule, e.g. /etc/udev/rules.d/99-linkyd.rules: "
		         "KERNEL==\"%s\", GROUP=\"dialout\", MODE=\"0660\", then "
		         "udevadm trigger",
		         strrchr(d->real, '/') ? strrchr(d->real, '/') + 1 : d->real);
	report_line(r, DOCTOR_PROBLEM, check, fix,
	            "the service runs as its own user in group dialout, which cannot read %s "
	            "(group %s, mode %04o)",
	            d->real, gname, mode);
}

static void
check_sandbox(struct doctor_report *r, const struct dev *d)
{
	char *args[] = {"cat", UNIT, NULL};
	char unit[TEXT_SIZE], check[128], fix[512];

	/* Not installed as a service (a test, a container): no sandbox to check. */
	if (systemctl(args, unit, sizeof(unit)) != 0)
		return;
	name_check(check, sizeof(check), "sandbox", d->sfx);
	if (!rules_devices_closed(unit) || rules_device_allowed(unit, d->driver, d->real) ||
	    rules_device_allowed(unit, d->driver, d->path)) {
		report_line(r, DOCTOR_OK, check, NULL, "%s lets the service open %s", UNIT,
		            d->real);
		return;
	}
	snprintf(fix, sizeof(fix),
	         "systemctl edit %s, and add under [Service]: DeviceAllow=char-%s r; then "
	         "systemctl restart %s",
	         UNIT, *d->driver ? d->driver : "DRIVER", UNIT);
	report_line(r, DOCTOR_PROBLEM, check, fix,
	            "%s closes devices (DevicePolicy=closed) and no DeviceAllow= opens %s (driver "
	            "%s)",
	            UNIT, d->real, *d->driver ? d->driver : "unknown");
}

/* "/dev/pts/3" -> "pts/3"; NULL when not under /dev. */
static const char *
dev_relative(const char *real)
{
	return strncmp(real, "/dev/", 5) == 0 ? real + 5 : NULL;
}

static void
check_console(struct doctor_report *r, const struct dev *d)
{
	char cmdline[TEXT_SIZE], consoles[8][CONSOLE_NAME_SIZE], check[128];
	char tty[PATH_MAX] = "", unit[PATH_MAX + 64], state[64] = "";
	const char *rel = dev_relative(d->real);
	bool on_cmdline = false, getty;
	size_t n = 0;

	name_check(check, sizeof(check), "console", d->sfx);
	if (proc_cmdline(cmdline, sizeof(cmdline)) == 0)
		n = rules_consoles(cmdline, consoles, 8);
	for (size_t i = 0; i < n && !on_cmdline; i++) {
		char path[PATH_MAX], real[PATH_MAX];

		/* console=serial0 names the link: compare the devices. */
		snprintf(path, sizeof(path), "/dev/%s", consoles[i]);
		on_cmdline = (rel && strcmp(consoles[i], rel) == 0) ||
		             (realpath(path, real) && strcmp(real, d->real) == 0);
	}
	/* systemd's instance name: the path under /dev, '/' escaped as '-'. */
	if (snprintf(tty, sizeof(tty), "%s", rel ? rel : "") >= (int) sizeof(tty))
		tty[0] = '\0';
	for (char *p = tty; *p; p++)
		*p = *p == '/' ? '-' : *p;
	snprintf(unit, sizeof(unit), "serial-getty@%s.service", tty);
	{
		char *args[] = {"is-active", unit, NULL};

		getty = *tty && systemctl(args, state, sizeof(state)) == 0;
	}
	if (!on_cmdline && !getty) {
		report_line(r, DOCTOR_OK, check, NULL, "no console or login prompt on %s", d->real);
		return;
	}
	snprintf(state, sizeof(state), "%s", on_cmdline && getty ? " and" : "");
	report_line(r, DOCTOR_PROBLEM, check,
	            "on a Raspberry Pi: raspi-config, Interface Options, Serial Port: login shell "
	            "no, hardware yes, then reboot. By hand: remove console=serial0,115200 (or the "
	            "device's) from /boot/firmware/cmdline.txt (/boot/cmdline.txt on older "
	            "systems), systemctl disable --now serial-getty@<tty>.service, reboot",
	            "%s%s%s%s%s: the kernel or a login prompt writes on the meter's line", d->real,
	            on_cmdline ? " is the kernel's console (console= in /proc/cmdline)" : "", state,
	            getty ? " has a login prompt: " : "", getty ? unit : "");
}

static void
check_holders(struct doctor_report *r, const struct dev *d, struct device_facts *facts)
{
	pid_t pids[MAX_HOLDERS];
	char check[128], names[1024] = "";
	int n = proc_holders(d->real, pids, MAX_HOLDERS);
	bool mm = false;
	size_t used = 0;

	name_check(check, sizeof(check), "other programs", d->sfx);
	if (n < 0) {
		report_line(r, DOCTOR_WARNING, check, "run linkyd --doctor as root to see them all",
		            "cannot read /proc: %s", strerror(-n));
		return;
	}
	if (n == 1 && proc_is_linkyd(pids[0])) {
		facts->daemon_runs = true;
		report_line(r, DOCTOR_OK, check, NULL,
		            "the running linkyd (pid %d) reads %s; the line check leaves it alone "
		            "(see the daemon's <topic>/diagnostics)",
		            (int) pids[0], d->real);
		return;
	}
	if (n == 0) {
		report_line(r, DOCTOR_OK, check, NULL, "no other program has %s open", d->real);
		return;
	}
	for (int i = 0; i < n && used < sizeof(names); i++) {
		char name[64];

		proc_name(pids[i], name, sizeof(name));
		mm |= strcmp(name, "ModemManager") == 0;
		used += (size_t) snprintf(names + used, sizeof(names) - used, "%s%s (pid %d)",
		                          i ? ", " : "", name, (int) pids[i]);
	}
	facts->usable = false;
	report_line(r, DOCTOR_PROBLEM, check,
	            mm ? "systemctl disable --now ModemManager (see the ModemManager check)"
	               : "stop it (a getty: see the console check; another reader of the meter: "
	                 "only one program can read a serial line), then run the doctor again",
	            "%s has %s open: its bytes go to whoever reads first; the line is not "
	            "checked",
	            d->real, names);
}

static void
check_modemmanager(struct doctor_report *r, const struct dev *d)
{
	char *args[] = {"is-active", "ModemManager.service", NULL};
	char check[128], out[64];

	if (strcmp(d->driver, "ttyACM") != 0)
		return;
	name_check(check, sizeof(check), "ModemManager", d->sfx);
	if (systemctl(args, out, sizeof(out)) != 0) {
		report_line(r, DOCTOR_OK, check, NULL, "ModemManager is not running");
		return;
	}
	report_line(r, DOCTOR_PROBLEM, check,
	            "systemctl disable --now ModemManager, or keep it away from this device with a "
	            "udev rule: ATTRS{idVendor}==\"VVVV\", ATTRS{idProduct}==\"PPPP\", "
	            "ENV{ID_MM_DEVICE_IGNORE}=\"1\" (the ids from lsusb)",
	            "ModemManager is running: it opens every new ttyACM to probe it for a modem, "
	            "writing AT commands and taking the meter's bytes");
}

void
check_device(struct doctor_report *r, const char *check_suffix, const struct meter_config *m,
             struct device_facts *ret)
{
	struct dev d = {.path = m->input.path, .sfx = check_suffix};

	*ret = (struct device_facts){0};
	if (!check_exists(r, &d))
		return;
	ret->usable = true;
	ret->pty = is_pty(&d);
	check_access(r, &d);
	check_sandbox(r, &d);
	check_console(r, &d);
	check_holders(r, &d, ret);
	check_modemmanager(r, &d);
	if (ret->daemon_runs)
		ret->usable = false;
}
