/* SPDX-License-Identifier: MIT */
/*
 * Derived values of one meter: what linkyd computes from the frames, published apart from what
 * the meter said (<topic>/derived and <topic>/energy, every object marked "_derived"):
 *
 *   - the index guard, which holds back an energy index that went backwards or jumped further
 *     than any Linky can count in the time since the last accepted value;
 *   - load per phase (% of the subscribed current), active power estimated from the index
 *     deltas, the current tariff period's name and the Tempo colours;
 *   - energy per hour, day and month, in total and per tariff period, kept across restarts in a
 *     small state file written atomically, at most once an hour.
 *
 * Pure: no MQTT, no event loop, no clock and no logging. The caller passes the monotonic time
 * (for rates and plausibility) and the wall time of each frame (for the local hour, day and
 * month, through localtime_r()). Nothing is allocated per frame.
 */
#ifndef LINKYD_DERIVE_H
#define LINKYD_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "linkyd/tic.h"

/* Frames that must agree before the guard accepts an index it could not check against the last
 * accepted value: after a start without state, a silence, or a jump (a replaced meter). */
#define DERIVE_GUARD_CONFIRM 3
/* The most any Linky can count, in W (36 kVA meters, with a wide margin), and the slack in Wh
 * for timing jitter: the largest plausible step is DERIVE_GUARD_MAX_W x elapsed + this. */
#define DERIVE_GUARD_MAX_W         60000
#define DERIVE_GUARD_MARGIN_WH     20
#define DERIVE_NAME_MAX            48    /* bytes of a tariff period's name, NUL included */
#define DERIVE_SUPPLIER_INDEXES    10    /* EASF01..EASF10 */
#define DERIVE_DISTRIBUTOR_INDEXES 4     /* EASD01..EASD04 */
#define DERIVE_REGISTERS_MAX       32    /* energy registers of both modes */
#define DERIVE_JSON_MAX            1024  /* always enough for derive_json() */
#define DERIVE_ENERGY_JSON_MAX     16384 /* always enough for derive_energy_json() */

struct derive_config {
	/* The state file (energy per period, learned tariff names), NULL = no persistence. Its
	 * directory must be writable: the file is replaced through "<state_file>.tmp". */
	const char *state_file;
	/* Names of the supplier indexes EASF01, EASF02... in order (standard mode); NULL or ""
	 * entries, and indexes past n_tariff_names, keep the learned or default name. */
	const char *const *tariff_names;
	size_t n_tariff_names;
	/* The same for the distributor indexes EASD01..EASD04 (default: their labels). */
	const char *const *distributor_names;
	size_t n_distributor_names;
};

struct derive;

/* Create the derived values of one meter; cfg's strings are copied. Loads cfg->state_file if it
 * exists: a missing, truncated or corrupt file only means starting afresh (ret_loaded says
 * which happened, if not NULL: 1 loaded, 0 none, -errno unreadable or corrupt). Returns 0 or
 * -ENOMEM. Free with derive_free(). */
int derive_new(const struct derive_config *cfg, struct derive **ret, int *ret_loaded);

/* NULL-safe; returns NULL. Does not save: call derive_save() first on shutdown. */
struct derive *derive_free(struct derive *d);

/* ---- guard.c: the index guard ------------------------------------------------------------- */

enum derive_reject {
	DERIVE_REJECT_NONE,
	DERIVE_REJECT_BACKWARDS, /* below the last accepted value */
	DERIVE_REJECT_JUMP,      /* further than DERIVE_GUARD_MAX_W allows since then */
};

struct derive_guard_stats {
	uint64_t backwards, jumps; /* values rejected, by reason */
	uint64_t held;       /* values held back until confirmed (start, silence, after a jump) */
	uint64_t new_levels; /* levels accepted after DERIVE_GUARD_CONFIRM frames, over a reject */
	/* The last rejection, for the log. last_label points into the label table. */
	enum derive_reject last_reason;
	const char *last_label;
	uint64_t last_value, last_accepted;
};

/* Call first for every delivered frame, with its monotonic time in ms. Sets keep[i] (one per
 * group of f) to false for an energy index (BASE, HCHC, HCHP, EJP*, BBRH*, EAST, EASF*, EASD*,
 * EAIT, ERQ*) not to publish as a new total, true for every other group. A value is accepted
 * when it is at or above the last accepted one and within the plausible step since then;
 * otherwise it waits until DERIVE_GUARD_CONFIRM consecutive frames agree on a new level, so
 * that a replaced meter is followed and the guard never sticks. Returns the number of values
 * rejected by this frame (backwards or jump; held values are not rejections). */
unsigned derive_guard(struct derive *d, const struct tic_frame *f, uint64_t mono_ms, bool *keep);

const struct derive_guard_stats *derive_guard_stats(const struct derive *d);

/* ---- derive.c: updating ------------------------------------------------------------------- */

/* Update everything from the groups of f that keep (from derive_guard(), NULL = all) allows.
 * wall is the frame's time: its local hour, day and month are the periods. */
void derive_frame(struct derive *d, const struct tic_frame *f, const bool *keep, uint64_t mono_ms,
                  time_t wall);

/* ---- live.c: <topic>/derived -------------------------------------------------------------- */

/* The instantaneous derived values, only the keys known so far:
 * {"_derived":true,"load_pct":{"1":34,...},"power_w":1234,"injected_power_w":0,
 *  "tariff":"HC BLANC","tariff_register":"EASF03","distributor_register":"EASD01",
 *  "tempo_today":"blanc","tempo_tomorrow":"bleu","index_rejected":0}
 * power_w and injected_power_w are estimated from the index deltas as of the last frame (see
 * live.c). Returns the length (buf NUL-terminated) or -ENOBUFS. */
int derive_json(const struct derive *d, char *buf, size_t size);

/* The active power estimates of derive_json(), as numbers (for /metrics). */
struct derive_power {
	bool valid;          /* watts is known */
	bool injected_valid; /* injected_watts is known (a producer) */
	uint64_t watts, injected_watts;
};

void derive_power(const struct derive *d, struct derive_power *ret);

/* ---- energy.c: <topic>/energy --------------------------------------------------------------- */

/* Energy in Wh per period, to publish retained:
 * {"_derived":true,
 *  "hour":{"start":"2026-11-29T10:00:00+01:00","partial":false,"total":123,
 *          "tariffs":{"HEURES CREUSES":100,"HEURES PLEINES":23},
 *          "registers":{"HCHC":100,"HCHP":23}},
 *  "day":{...},"month":{...},"previous_hour":{...},"previous_day":{...},"previous_month":{...}}
 * "partial" is true when linkyd did not watch the whole period so far (started in its middle,
 * or a silence too long to know which period the energy belongs to): the numbers then miss
 * some energy, never count any twice. "injected" (EAIT) appears for producers. previous_* are
 * the periods just before, when they were watched to their end. Returns the length or
 * -ENOBUFS. */
int derive_energy_json(const struct derive *d, char *buf, size_t size);

/* True when the energy JSON changed since the last call (which clears it). */
bool derive_energy_changed(struct derive *d);

/* False from a start on a state file until an index has been counted again. The state file is
 * written once an hour: after a SIGKILL or a power cut it lacks what was counted since, and its
 * energy is below what was already published; published before an index brings it up to date
 * (the guard holds the first frames' indexes), the energy would go down, which Home Assistant
 * counts as negative consumption. Publish the energy only when this is true. */
bool derive_energy_current(const struct derive *d);

/* ---- state.c: persistence ----------------------------------------------------------------- */

/* Save if a period ended since the last save (so at most once an hour). Returns 1 when written,
 * 0 when nothing was due (or no state file), or -errno. */
int derive_save_due(struct derive *d);

/* Save now (on shutdown): write "<state_file>.tmp", fsync, rename over state_file, fsync the
 * directory. Returns 0 (also without a state file) or -errno. */
int derive_save(struct derive *d);

/* ---- derive.c: what Home Assistant should declare -----------------------------------------------
 */

struct derive_register_info {
	const char *label; /* "EASF01", "HCHC": stable, for unique_ids and JSON keys */
	const char *name;  /* the tariff period's name ("HC BLEU"), or the label */
	bool tariff;       /* a supplier or historique tariff period (else distributor) */
};

struct derive_info {
	unsigned phases; /* with a load value: 0 none yet, 1 or 3 */
	bool power;      /* power_w */
	bool injection;  /* injected_power_w and "injected" energy (EAIT seen) */
	bool tariff;     /* tariff */
	bool tempo;      /* tempo_today, tempo_tomorrow */
	size_t n_registers;
	struct derive_register_info registers[DERIVE_REGISTERS_MAX];
	/* Changes whenever anything above does: declare the entities again then. */
	unsigned generation;
};

/* What the derived topics carry so far. The strings live in d until its next update. */
void derive_info(const struct derive *d, struct derive_info *ret);

/* derive_info()'s generation alone, without building the rest. */
unsigned derive_generation(const struct derive *d);

#endif
