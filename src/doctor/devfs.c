/* SPDX-License-Identifier: MIT */
/* The serial devices in /dev (or the tests' stand-in, see doctor.h) that a meter may be on. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"

/* The Pi's serial0/1 links, its UARTs, a PC's first UART, USB adapters. */
static bool
candidate(const char *name)
{
	static const char *const prefixes[] = {"serial0", "serial1", "ttyAMA", "ttyUSB", "ttyACM"};

	if (strcmp(name, "ttyS0") == 0)
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void
append(char *ret, size_t size, const char *dir, const char *name)
{
	char path[PATH_MAX], to[PATH_MAX];
	size_t used = strlen(ret);
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path))
		return; /* no device has such a path */
	n = readlink(path, to, sizeof(to) - 1);
	if (n > 0)
		to[n] = '\0';
	snprintf(ret + used, size - used, "%s%s%s%s", used ? ", " : "", path, n > 0 ? " -> " : "",
	         n > 0 ? to : "");
}

void
dev_candidates(char *ret, size_t size)
{
	const char *root = getenv("LINKYD_DOCTOR_DEV");
	char byid[PATH_MAX];
	struct dirent *e;
	DIR *d;

	ret[0] = '\0';
	if (!root || !*root)
		root = "/dev";
	d = opendir(root);
	while (d && (e = readdir(d)))
		if (candidate(e->d_name))
			append(ret, size, root, e->d_name);
	if (d)
		(void) closedir(d);
	/* USB adapters by their serial number: the name that survives a replug. */
	snprintf(byid, sizeof(byid), "%s/serial/by-id", root);
	d = opendir(byid);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			append(ret, size, byid, e->d_name);
	if (d)
		(void) closedir(d);
}
