/* SPDX-License-Identifier: MIT */
/*
 * The line check: listen to the meter through the daemon's own source, line and parser code, at
 * 1200 Bd (historique) then 9600 Bd (standard) for a serial line, as it comes for a serial
 * bridge over TCP, and say what came: the mode, the frames, the errors by cause and what they
 * suggest. For a D2L input, whether its port can be served. It only reads.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "doctor.h"
#include "linkyd/line.h"
#include "linkyd/source.h"

#define LISTEN_1200_MS 7000 /* a historique frame lasts up to ~3 s: two of them */
#define LISTEN_9600_MS 4000 /* a standard frame ~1.3 s at most */
#define ENOUGH_FRAMES  3

struct listen {
	struct loop *loop;
	struct loop_timer timer;
	bool done;
	unsigned frames;
	enum tic_mode mode;
	int error;
	unsigned baud;
	uint64_t bytes;
	struct tic_stats stats;
};

static void
finish(struct listen *l)
{
	l->done = true;
	loop_quit(l->loop, 0);
}

static void
on_frame(const struct tic_frame *frame, void *userdata)
{
	struct listen *l = userdata;

	l->mode = frame->mode;
	if (++l->frames >= ENOUGH_FRAMES)
		finish(l);
}

static void
on_status(const struct line_status *st, void *userdata)
{
	struct listen *l = userdata;

	/* No retrying here: the reason is what the doctor reports. */
	if (st->state == LINE_ABSENT && st->error) {
		l->error = st->error;
		finish(l);
	}
}

static void
time_up(struct loop_timer *t)
{
	finish(container_of(t, struct listen, timer));
}

static const struct line_callbacks line_cbs = {.on_frame = on_frame, .on_status = on_status};

static unsigned
listen_ms(unsigned normal)
{
	const char *e = getenv("LINKYD_DOCTOR_LISTEN_MS");
	long ms = e ? strtol(e, NULL, 10) : 0;

	return ms > 0 && ms < 600000 ? (unsigned) ms : normal;
}

/* Listen to m's input for ms (mode fixes the speed of a serial line); fills *l. Returns 0 or
 * -errno when it could not be set up. */
static int
listen_once(struct loop *loop, const struct meter_config *m, enum tic_mode mode, unsigned ms,
            struct listen *l)
{
	struct meter_config mc = *m;
	const struct line_config lc = {.name = m->name, .mode = mode, .probe_ms = ms + 1000};
	struct source *src;
	struct line *line;
	int r;

	*l = (struct listen){.loop = loop, .timer.io.fd = -1};
	mc.mode = mode;
	r = source_new(loop, &mc, &src);
	if (r < 0)
		return r;
	r = line_new(loop, src, &lc, &line_cbs, l, &line);
	if (r < 0)
		return r;
	r = loop_timer_init(loop, &l->timer, time_up);
	if (r == 0)
		r = loop_timer_arm(&l->timer, ms, 0);
	if (r == 0) {
		line_start(line);
		if (!l->done)
			r = loop_run(loop);
	}
	l->baud = line_status(line)->baud;
	l->bytes = line_status(line)->bytes;
	l->stats = *line_status(line)->stats;
	line_free(line);
	loop_timer_done(loop, &l->timer);
	return r < 0 ? r : 0;
}

static const char *
mode_name(enum tic_mode mode)
{
	return mode == TIC_MODE_STANDARD ? "standard" : "historique";
}

static void
report_frames(struct doctor_report *r, const char *check, const struct meter_config *m,
              const struct listen *l, bool exact_speed)
{
	uint64_t damaged = 0;
	const uint64_t *e = l->stats.errors;
	char speed[96] = "";

	for (int i = 0; i < TIC_ERR_COUNT; i++)
		damaged += e[i];
	if (l->baud)
		snprintf(speed, sizeof(speed), " at %u Bd%s", l->baud,
		         exact_speed ? "" : " (a pseudo-terminal: the bridge sets the speed)");
	if (rules_line(&l->stats, l->bytes) == FIND_NOISY)
		report_line(
		    r, DOCTOR_WARNING, check,
		    "noise on the wires: keep the I1/I2 pair short, twisted and away from "
		    "mains cables; check the TIC module's terminals",
		    "%s mode, %u frame(s)%s, but %llu of %llu groups damaged (checksum %llu, "
		    "format %llu, framing %llu, overlong %llu, bad byte %llu)",
		    mode_name(l->mode), l->frames, speed, (unsigned long long) damaged,
		    (unsigned long long) (damaged + l->stats.groups),
		    (unsigned long long) e[TIC_ERR_INDEX(TIC_ERR_CHECKSUM)],
		    (unsigned long long) e[TIC_ERR_INDEX(TIC_ERR_FORMAT)],
		    (unsigned long long) e[TIC_ERR_INDEX(TIC_ERR_FRAMING)],
		    (unsigned long long) e[TIC_ERR_INDEX(TIC_ERR_OVERLONG)],
		    (unsigned long long) e[TIC_ERR_INDEX(TIC_ERR_BYTE)]);
	else
		report_line(r, DOCTOR_OK, check, NULL,
		            "%s mode, %u valid frame(s)%s, %llu group(s) damaged",
		            mode_name(l->mode), l->frames, speed, (unsigned long long) damaged);
	if (m->mode != TIC_MODE_UNKNOWN && m->mode != l->mode) {
		char fix[160];

		snprintf(fix, sizeof(fix),
		         "set mode = \"auto\" (or \"%s\") in the meter's configuration",
		         mode_name(l->mode));
		/* Through a bridge the bytes still come, only the daemon's speed is wrong. */
		report_line(r, exact_speed ? DOCTOR_PROBLEM : DOCTOR_WARNING, check, fix,
		            "the configuration says mode %s, the meter sends %s frames",
		            mode_name(m->mode), mode_name(l->mode));
	}
}

static void
report_none(struct doctor_report *r, const char *check, const struct listen *l, const char *where)
{
	switch (rules_line(&l->stats, l->bytes)) {
	case FIND_PARITY:
		report_line(
		    r, DOCTOR_PROBLEM, check,
		    "the meter sends 7 data bits, even parity, 1 stop bit (7E1): set the "
		    "bridge (socat, ser2net, ESPEasy) to 7E1, or to 8 bits raw (8N1), never "
		    "to odd parity",
		    "%llu of %llu bytes with bad parity%s and no valid frame: a 7E1/8N1 "
		    "mismatch",
		    (unsigned long long) l->stats.bytes_bad_parity, (unsigned long long) l->bytes,
		    where);
		break;
	case FIND_SILENT:
		report_line(
		    r, DOCTOR_PROBLEM, check,
		    "check the wires from the meter's I1 and I2 terminals to the TIC module, "
		    "that the module is powered (its LED blinks with the data), and that the "
		    "input is the module's device",
		    "not a byte%s: no TIC signal reaches it", where);
		break;
	default:
		report_line(
		    r, DOCTOR_PROBLEM, check,
		    "a bridge must read the meter at its speed (1200 Bd historique, 9600 Bd "
		    "standard, 7E1); else no TIC signal: the module must be on I1/I2, not on "
		    "A (power only)",
		    "%llu bytes but no valid frame%s: the wrong speed, or no TIC signal",
		    (unsigned long long) l->bytes, where);
		break;
	}
}

static void
report_open_error(struct doctor_report *r, const char *check, const struct meter_config *m, int err)
{
	report_line(r, DOCTOR_PROBLEM, check,
	            m->input.kind == INPUT_TCP
	                ? "check the bridge's address and port, that it is on and serves the "
	                  "meter's raw bytes over TCP (ser2net raw, ESPEasy serial server)"
	                : "see the device and access checks above",
	            "cannot open %s: %s", m->input.spec, strerror(-err));
}

static void
add(struct listen *sum, const struct listen *l)
{
	sum->bytes += l->bytes;
	sum->stats.frames += l->stats.frames;
	sum->stats.groups += l->stats.groups;
	sum->stats.bytes_bad_parity += l->stats.bytes_bad_parity;
	for (int i = 0; i < TIC_ERR_COUNT; i++)
		sum->stats.errors[i] += l->stats.errors[i];
}

static void
check_serial(struct doctor_report *r, struct loop *loop, const char *check,
             const struct meter_config *m, const struct device_facts *dev)
{
	/* Historique first: its frames are the longer ones to wait for. */
	const enum tic_mode modes[] = {TIC_MODE_HISTORIQUE, TIC_MODE_STANDARD};
	const unsigned ms[] = {listen_ms(LISTEN_1200_MS), listen_ms(LISTEN_9600_MS)};
	struct listen l, sum = {0};
	char where[96];

	for (size_t i = 0; i < 2; i++) {
		int e = listen_once(loop, m, modes[i], ms[i], &l);

		if (e < 0 || l.error) {
			report_open_error(r, check, m, e < 0 ? e : l.error);
			return;
		}
		if (l.frames) {
			report_frames(r, check, m, &l, !dev->pty);
			return;
		}
		add(&sum, &l);
	}
	snprintf(where, sizeof(where), " in %.1f s at 1200 Bd and %.1f s at 9600 Bd",
	         ms[0] / 1000.0, ms[1] / 1000.0);
	report_none(r, check, &sum, where);
}

static void
check_tcp(struct doctor_report *r, struct loop *loop, const char *check,
          const struct meter_config *m)
{
	struct listen l;
	unsigned ms = listen_ms(LISTEN_1200_MS);
	char where[96];
	int e = listen_once(loop, m, m->mode, ms, &l);

	if (e < 0 || l.error) {
		report_open_error(r, check, m, e < 0 ? e : l.error);
		return;
	}
	if (l.frames) {
		report_frames(r, check, m, &l, false);
		return;
	}
	snprintf(where, sizeof(where), " from %s in %.1f s", m->input.spec, ms / 1000.0);
	report_none(r, check, &l, where);
}

/* Who listens on port: "linkyd (pid 12)" into ret; false when nobody is found. */
static bool
port_holder(unsigned port, char *ret, size_t size, bool *is_linkyd)
{
	unsigned long inode;
	char target[64], name[64];
	pid_t pid;

	if (proc_tcp_listener(port, &inode) < 0)
		return false;
	snprintf(target, sizeof(target), "socket:[%lu]", inode);
	if (proc_holders(target, &pid, 1) != 1)
		return false;
	proc_name(pid, name, sizeof(name));
	*is_linkyd = proc_is_linkyd(pid);
	snprintf(ret, size, "%s (pid %d)", name, (int) pid);
	return true;
}

static void
check_d2l(struct doctor_report *r, const char *check, const struct meter_config *m)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(m->input.port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(m->input.port)};
	const struct sockaddr *sa = (const struct sockaddr *) &a6;
	socklen_t len = sizeof(a6);
	char who[128] = "";
	bool linkyd = false;
	int fd, one = 1, e = 0;

	if (m->input.host && inet_pton(AF_INET, m->input.host, &a4.sin_addr) == 1) {
		sa = (const struct sockaddr *) &a4;
		len = sizeof(a4);
	} else if (m->input.host && inet_pton(AF_INET6, m->input.host, &a6.sin6_addr) != 1) {
		report_line(r, DOCTOR_PROBLEM, check, "give a numeric address, or none",
		            "%s: not an address to listen on", m->input.host);
		return;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		e = -errno;
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	         bind(fd, sa, len) < 0)
		e = -errno;
	if (fd >= 0)
		(void) close(fd);
	if (e == 0) {
		report_line(
		    r, DOCTOR_OK, check, NULL,
		    "port %u is free: linkyd can serve the D2L module there (it connects to "
		    "linkyd, every few minutes)",
		    m->input.port);
		return;
	}
	if (e == -EADDRINUSE && port_holder(m->input.port, who, sizeof(who), &linkyd) && linkyd) {
		report_line(r, DOCTOR_OK, check, NULL,
		            "port %u is served by the running linkyd, %s", m->input.port, who);
		return;
	}
	report_line(r, DOCTOR_PROBLEM, check,
	            e == -EADDRINUSE ? "stop the other program, or choose another port here and "
	                               "in the module's settings (Eesmart's app)"
	                             : "choose a port over 1023, here and in the module's settings",
	            "cannot serve port %u: %s%s%s", m->input.port, strerror(-e),
	            *who ? ", held by " : "", who);
}

void
check_line(struct doctor_report *r, struct loop *loop, const char *check_suffix,
           const struct meter_config *m, const struct device_facts *dev)
{
	char check[128];

	snprintf(check, sizeof(check), "line%s", check_suffix);
	switch (m->input.kind) {
	case INPUT_SERIAL:
		if (dev->daemon_runs)
			report_line(r, DOCTOR_OK, check, NULL,
			            "not listened to: the running linkyd reads it");
		else if (dev->usable)
			check_serial(r, loop, check, m, dev);
		else
			report_line(r, DOCTOR_WARNING, check, "fix the device first",
			            "not listened to, for the problems above");
		break;
	case INPUT_TCP:
		check_tcp(r, loop, check, m);
		break;
	case INPUT_D2L:
		check_d2l(r, check, m);
		break;
	}
}
