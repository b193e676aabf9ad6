/* SPDX-License-Identifier: MIT */
/* What the doctor reads from /proc: the kernel's command line and drivers (or the tests'
 * stand-ins, see doctor.h), who has a file or a socket open, who listens on a port. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"

int
proc_read(const char *path, char *ret, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (used + 1 < size && (n = read(fd, ret + used, size - used - 1)) > 0)
		used += (size_t) n;
	ret[used] = '\0';
	(void) close(fd);
	return 0;
}

static int
read_env_or(const char *env, const char *path, char *ret, size_t size)
{
	const char *alt = getenv(env);

	return proc_read(alt && *alt ? alt : path, ret, size);
}

int
proc_cmdline(char *ret, size_t size)
{
	return read_env_or("LINKYD_DOCTOR_CMDLINE", "/proc/cmdline", ret, size);
}

int
proc_devices(char *ret, size_t size)
{
	return read_env_or("LINKYD_DOCTOR_DEVICES", "/proc/devices", ret, size);
}

static bool
holds(const char *pid, const char *target)
{
	char dir[64], link[400], to[512];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false; /* gone, or another user's process we may not look into */
	while (!found && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, to, sizeof(to) - 1);
		if (n <= 0)
			continue;
		to[n] = '\0';
		found = strcmp(to, target) == 0;
	}
	(void) closedir(d);
	return found;
}

int
proc_holders(const char *target, pid_t *ret, size_t max)
{
	DIR *d = opendir("/proc");
	pid_t self = getpid();
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && (size_t) n < max) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		if (holds(e->d_name, target))
			ret[n++] = (pid_t) pid;
	}
	(void) closedir(d);
	return n;
}

void
proc_name(pid_t pid, char *ret, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
	if (proc_read(path, ret, size) < 0 || !*ret)
		snprintf(ret, size, "?");
	ret[strcspn(ret, "\n")] = '\0';
}

static bool
named_linkyd(const char *s)
{
	const char *base = strrchr(s, '/');

	return strcmp(base ? base + 1 : s, "linkyd") == 0;
}

bool
proc_is_linkyd(pid_t pid)
{
	char path[64], args[1024];
	size_t used;

	proc_name(pid, args, sizeof(args));
	if (strcmp(args, "linkyd") == 0)
		return true;
	/* An emulator's: "qemu-aarch64 /path/linkyd ...", its arguments NUL-separated. */
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
	if (proc_read(path, args, sizeof(args)) < 0)
		return false;
	used = strlen(args);
	return named_linkyd(args) || (used + 1 < sizeof(args) && named_linkyd(args + used + 1));
}

/* One of /proc/net/tcp or tcp6: "sl local rem st ... inode", addresses as HEX:PORT. */
static int
find_listener(const char *path, unsigned port, unsigned long *ret_inode)
{
	FILE *f = fopen(path, "re");
	char line[512];
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char local[80];
		unsigned st, p;
		unsigned long inode;
		const char *colon;

		if (sscanf(line, "%*u: %79s %*s %x %*s %*s %*s %*u %*u %lu", local, &st, &inode) !=
		    3)
			continue;
		colon = strrchr(local, ':');
		/* 0A: TCP_LISTEN. */
		if (colon && sscanf(colon + 1, "%x", &p) == 1 && p == port && st == 0x0A) {
			*ret_inode = inode;
			r = 0;
		}
	}
	(void) fclose(f);
	return r;
}

int
proc_tcp_listener(unsigned port, unsigned long *ret_inode)
{
	if (find_listener("/proc/net/tcp", port, ret_inode) == 0)
		return 0;
	return find_listener("/proc/net/tcp6", port, ret_inode) == 0 ? 0 : -ENOENT;
}
