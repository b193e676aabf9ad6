/* SPDX-License-Identifier: MIT */
/*
 * What a meter's frames go through between the parser and the sinks, in this order:
 * anonymisation (the identifiers replaced by pseudonyms, before anything reads the frame), the
 * index guard (energy indexes that go backwards or jump are held back), the derived values
 * (computed from what the guard kept, their state file saved when a period ends), the publish
 * policy (which labels are due), then every sink. No fd, no timer, no clock of its own: the
 * caller passes the time of each frame, so that tests and the fuzzer drive it as the daemon does.
 */
#ifndef LINKYD_PIPELINE_H
#define LINKYD_PIPELINE_H

#include <stdint.h>
#include <time.h>

#include "linkyd/anon.h"
#include "linkyd/config.h"
#include "linkyd/line.h"
#include "linkyd/sink.h"
#include "linkyd/tic.h"

#define PIPELINE_SINKS 4

struct pipeline;

/* The stages for meter m of configuration c (both must outlive the pipeline); anon (copied;
 * NULL: none) is the key of the pseudonyms. Loads the derived values' state file. Returns 0 or
 * -errno. */
int pipeline_new(const struct meter_config *m, const struct linkyd_config *c,
                 const struct anon_key *anon, struct pipeline **ret);

/* Hand the records to s too (not owned), after the sinks added before. Returns 0 or -ENOSPC. */
int pipeline_add_sink(struct pipeline *p, struct sink *s);

/* A frame the line delivered, received at mono_ms (loop_now_ms()) and wall (time()). */
void pipeline_frame(struct pipeline *p, const struct tic_frame *frame, uint64_t mono_ms,
                    time_t wall);

/* The line's status changed. */
void pipeline_line(struct pipeline *p, const struct line_status *st);

/* The meter stops: save the derived values' state, then close every sink (sink_closed() tells
 * each one's end to its owner). */
void pipeline_close(struct pipeline *p, unsigned timeout_ms);

/* NULL-safe; returns NULL. The sinks are not freed. */
struct pipeline *pipeline_free(struct pipeline *p);

#endif
