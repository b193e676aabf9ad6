/* SPDX-License-Identifier: MIT */
/*
 * Where a meter's bytes come from. A source is a small object behind a table of operations, in
 * the spirit of rtl_433's outputs: the line (line.c) opens it, watches its fd in the event loop,
 * reads what is there into the parser, and reopens it with a back-off when it fails; the source
 * itself never sees the parser, the loop or a timer, and never logs (it returns -errno codes, and
 * describe() says what it is).
 *
 * Adding an input is one file implementing these operations and one row in source.c's table.
 */
#ifndef LINKYD_SOURCE_H
#define LINKYD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "linkyd/config.h"
#include "linkyd/loop.h"

struct source;

struct source_ops {
	/* Start reading at baud (0 for a source without a speed of its own). Returns 0 when the
	 * fd is ready to read, -EINPROGRESS when opening takes a while (a name to resolve, a
	 * connect under way), or -errno. */
	int (*open)(struct source *s, unsigned baud);
	/* After -EINPROGRESS, each time the fd is readable or writable (a resolver's pipe is
	 * readable once it answered, a connecting socket writable once connected): 0 when open,
	 * -EINPROGRESS when more is to come (the fd may have changed), or -errno. NULL for sources
	 * whose open() never returns -EINPROGRESS. */
	int (*finish_open)(struct source *s);
	/* The fd to watch while open, non-blocking and close-on-exec; owned by the source. NULL
	 * for a source whose bytes come from elsewhere (a server's connection): it hands them
	 * over through push(). */
	int (*fd)(const struct source *s);
	/* Read what is waiting, up to size bytes: the count, 0 when nothing is waiting, -ENODEV
	 * when the source is gone (unplugged, peer closed) or another -errno. */
	long (*read)(struct source *s, void *buf, size_t size);
	/* Change the speed of an open line (auto-detection). NULL when the speed is not the
	 * source's to choose (a network bridge sets its own). Returns 0 or -errno. */
	int (*set_speed)(struct source *s, unsigned baud);
	/* Close, keeping what open() needs to start again. */
	void (*close)(struct source *s);
	/* Close if open, and free. */
	void (*free)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	/* What it is, for logs and diagnostics ("/dev/ttyUSB0"); set by the constructor. */
	const char *name;
	/* A network stream: silence means a dead connection (a bridge whose Wi-Fi dropped stays
	 * "connected"), so the line reconnects rather than waits. */
	bool network;
	/* Set by the line: what a source without an fd calls with the bytes it received. */
	void (*push)(void *ctx, const void *bytes, size_t n);
	void *push_ctx;
};

/* A source for the meter's input (its strings are copied); loop is for sources that serve
 * connections of their own. Returns 0, -ENOMEM, or -EINVAL for an input kind this build cannot
 * read. */
int source_new(struct loop *loop, const struct meter_config *m, struct source **ret);

/* NULL-safe; returns NULL. */
struct source *source_free(struct source *s);

/* ---- serial.c ---------------------------------------------------------------------------------
 */

/* A serial line (see linkyd/serial.h): 7E1 at the baud open() is given. */
int source_serial_new(const struct meter_config *m, struct source **ret);

/* ---- tcp.c ------------------------------------------------------------------------------------
 */

/* A raw TCP stream from host (a name, an IPv4 or IPv6 address) and port: a serial bridge. */
int source_tcp_new(const char *host, unsigned port, struct source **ret);

/* ---- d2l.c ------------------------------------------------------------------------------------
 */

/* An Eesmart D2L module, told apart by m's d2l_id, pushing its frames to a listener on
 * m->input's address and port that linkyd serves on loop, shared by the meters that name it. */
int source_d2l_new(struct loop *loop, const struct meter_config *m, struct source **ret);

#endif
