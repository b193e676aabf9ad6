/* SPDX-License-Identifier: MIT */
/*
 * A meter's line: its source opened and reopened with a back-off when it fails, its speed found
 * (historique 1200 Bd or standard 9600 Bd) when the source has one, its bytes read in batches
 * into the TIC parser, its health watched. What comes out: frames, and the line's status when it
 * changes. The line knows nothing of what the frames become (pipeline.c, the sinks).
 */
#ifndef LINKYD_LINE_H
#define LINKYD_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/anon.h"
#include "linkyd/loop.h"
#include "linkyd/source.h"
#include "linkyd/tic.h"

#define LINE_SILENCE_MS 15000 /* frames before, then no valid frame this long: silent */
#define LINE_PROBE_9600 4000  /* bytes without a frame: a standard frame lasts ~1.3 s at most */
#define LINE_PROBE_1200 8000  /* a historique frame up to ~3 s; sources without a speed too */

enum line_state {
	LINE_ABSENT,    /* the source cannot be opened (no device, connection refused...) */
	LINE_OPENING,   /* a connect under way */
	LINE_DETECTING, /* open, no valid frame yet (at this speed) */
	LINE_OK,        /* valid frames arriving */
	LINE_SILENT,    /* no valid frame for LINE_SILENCE_MS, after some */
};

struct line_status {
	enum line_state state;
	enum tic_mode mode; /* of the last frame, TIC_MODE_UNKNOWN before the first */
	unsigned baud;      /* the speed read at, 0 for a source without one */
	bool garbage;       /* bytes but no valid frame: a wrong speed, or noise */
	int error;          /* LINE_ABSENT: why the last open failed (-errno) */
	const char *source; /* the source's name */
	const struct tic_stats *stats;
	uint64_t bytes;      /* read since the line was created */
	time_t last_frame;   /* wall clock of the last frame, 0 before the first */
	unsigned reconnects; /* a network source reopened after it was lost or went silent */
};

/* "absent", "opening", "detecting", "ok", "silent". */
const char *line_state_name(enum line_state state);

struct line_callbacks {
	/* A frame with at least one valid group. Its strings live until the callback returns. */
	void (*on_frame)(const struct tic_frame *frame, void *userdata);
	/* The status changed: state, mode, speed, garbage or error. */
	void (*on_status)(const struct line_status *status, void *userdata);
};

struct line_config {
	const char *name;            /* the meter's, for the log; must outlive the line */
	enum tic_mode mode;          /* TIC_MODE_UNKNOWN: find it (and the speed) from the data */
	const struct anon_key *anon; /* the -vv raw log masks identifiers with it; NULL: none */
	unsigned silence_ms;         /* after frames, none this long is a silence; 0: default */
	unsigned probe_ms;           /* bytes without a frame this long: garbage; 0: by speed */
};

struct line;

/* Take src (the line frees it, also on failure). cfg and cb must outlive the line. Returns 0 or
 * -errno. */
int line_new(struct loop *loop, struct source *src, const struct line_config *cfg,
             const struct line_callbacks *cb, void *userdata, struct line **ret);

/* Open the source, now and again whenever it fails, until line_stop(). The callbacks may run
 * from inside this call. */
void line_start(struct line *l);

/* Bytes that arrived elsewhere (a push source): parsed as if read. */
void line_push(struct line *l, const void *bytes, size_t n);

/* Stop reading: close the source, disarm every timer. Frames and status stop. */
void line_stop(struct line *l);

/* Stop reading once the frame under way has ended (delivered, or cut), or after max_ms, then
 * call finished(userdata) from the loop: a frame half read when linkyd stops or reloads would
 * otherwise be lost. At once (still from the loop) when no frame is under way. */
void line_finish(struct line *l, unsigned max_ms, void (*finished)(void *userdata));

/* Valid until the line is freed; updated in place. */
const struct line_status *line_status(const struct line *l);

/* NULL-safe; returns NULL. */
struct line *line_free(struct line *l);

#endif
