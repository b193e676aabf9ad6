/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for tests/faults/faults.py: the faults linkyd cannot be made to meet on its
 * own, within the minutes a test has.
 *
 * FAULTSHIM_CLOCK="T0 BASE FACTOR": time() answers BASE + (now - T0) * FACTOR, so that the
 * state file, written when an hour ends, is written every few seconds, and the energy periods
 * go by. Only for calls from linkyd's own code (the executable): paho's timers run on the real
 * clock, which a jump of an hour a second would stall (its keep-alive and retry times), losing
 * frames that are no fault of linkyd's. T0 and BASE come from the caller, the same for every
 * run, so that the clock goes on across restarts.
 *
 * FAULTSHIM_KILL="STEP N": SIGKILL during the N-th state-file write of this process, at STEP:
 *   open      the temporary file just created, empty
 *   write     half of its content on disk (stdio's write is inside the C library, where no
 *             shim reaches: the flush is taken, then the file cut to half its length)
 *   fsync     before the temporary file's fsync
 *   rename    before the rename over the state file
 *   dirfsync  after the rename, before the directory's fsync
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double t0, base, factor;
static uintptr_t exe_lo, exe_hi; /* the executable's loaded segments */
static char kill_step[16];
static int kill_save, saves, tmp_fd = -1;

static int
find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
	(void) size;
	(void) data;
	/* The first object is the executable. */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (!exe_lo || lo < exe_lo)
			exe_lo = lo;
		if (lo + ph->p_memsz > exe_hi)
			exe_hi = lo + ph->p_memsz;
	}
	return 1;
}

__attribute__((constructor)) static void
init(void)
{
	const char *clock = getenv("FAULTSHIM_CLOCK"), *kill = getenv("FAULTSHIM_KILL");

	if (clock && sscanf(clock, "%lf %lf %lf", &t0, &base, &factor) != 3)
		factor = 0;
	if (kill && sscanf(kill, "%15s %d", kill_step, &kill_save) != 2)
		kill_step[0] = '\0';
	dl_iterate_phdr(find_exe, NULL);
}

static bool
at(const char *step)
{
	return saves == kill_save && strcmp(kill_step, step) == 0;
}

static void
die_at(const char *step)
{
	if (at(step))
		raise(SIGKILL);
}

static bool
is_tmp(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcmp(path + n - 4, ".tmp") == 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;
	uintptr_t caller = (uintptr_t) __builtin_return_address(0);
	time_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec;
	if (factor > 0 && caller >= exe_lo && caller < exe_hi)
		now = (time_t) (base + ((double) ts.tv_sec + ts.tv_nsec / 1e9 - t0) * factor);
	if (t)
		*t = now;
	return now;
}

int
open64(const char *path, int flags, ...)
{
	int (*next)(const char *, int, ...) = dlsym(RTLD_NEXT, "open64");
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = (flags & O_CREAT) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	fd = next(path, flags, mode);
	if (fd >= 0 && (flags & O_CREAT) && is_tmp(path)) {
		saves++;
		tmp_fd = fd;
		die_at("open");
	}
	return fd;
}

/* The same function on a 64-bit C library: linkyd calls one or the other by its build. */
int open(const char *path, int flags, ...) __attribute__((alias("open64")));

int
fflush(FILE *f)
{
	int (*next)(FILE *) = dlsym(RTLD_NEXT, "fflush");
	int r = next(f);
	struct stat st;

	if (f && fileno(f) == tmp_fd && at("write") && fstat(tmp_fd, &st) == 0) {
		(void) !ftruncate(tmp_fd, st.st_size / 2);
		raise(SIGKILL);
	}
	return r;
}

int
fsync(int fd)
{
	int (*next)(int) = dlsym(RTLD_NEXT, "fsync");
	struct stat st;

	if (fd == tmp_fd)
		die_at("fsync");
	else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		die_at("dirfsync");
	return next(fd);
}

int
rename(const char *from, const char *to)
{
	int (*next)(const char *, const char *) = dlsym(RTLD_NEXT, "rename");

	if (is_tmp(from)) {
		die_at("rename");
		tmp_fd = -1; /* closed: the directory's fd may take its number */
	}
	return next(from, to);
}
