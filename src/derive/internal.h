/* SPDX-License-Identifier: MIT */
/*
 * What the files of src/derive share: the energy registers, the state of one meter's derived
 * values, and a small JSON writer. Not for use outside src/derive.
 */
#ifndef LINKYD_DERIVE_INTERNAL_H
#define LINKYD_DERIVE_INTERNAL_H

#include <stdarg.h>

#include "linkyd/derive.h"

/* ---- registers.c: the energy registers and their names ------------------------------------ */

enum reg_kind {
	REG_TARIFF,      /* a tariff period: historique index, or supplier index EASFnn */
	REG_TOTAL,       /* EAST: everything withdrawn */
	REG_DISTRIBUTOR, /* EASDnn */
	REG_INJECTED,    /* EAIT */
	REG_REACTIVE,    /* ERQn: guarded only */
};

struct reg_def {
	uint8_t label;    /* enum tic_label_id */
	uint8_t kind;     /* enum reg_kind */
	uint8_t number;   /* EASF/EASD: 1..10 / 1..4; 0 otherwise */
	const char *name; /* historique: the period it counts (PTEC's meaning) */
};

extern const struct reg_def reg_defs[];
extern const size_t reg_count;

/* The register of a label, or -1 for any other label (and TIC_L_UNKNOWN). */
int reg_of_label(enum tic_label_id id);

/* The register of a group (an energy index of the label table), or -1. */
static inline int
reg_of(const struct tic_group *g)
{
	return reg_of_label((enum tic_label_id) g->id);
}

/* The label of register r, from the label table: "HCHC", "EASF01". */
static inline const char *
reg_label(int r)
{
	return tic_label_of((enum tic_label_id) reg_defs[r].label)->name;
}

/* The register of a label's name (the state file), or -1. */
int reg_find(const char *label);

/* The register of supplier (REG_TARIFF) or distributor index n, or -1. */
int reg_numbered(enum reg_kind kind, unsigned n);

/* Is register r in use: seen with a value above zero (standard meters send every EASFnn)? */
struct derive;
bool reg_used(const struct derive *d, int r);

/* Trim the padding and fold runs of spaces: "HC  BLANC " -> "HC BLANC"; control characters
 * count as spaces. dst has DERIVE_NAME_MAX bytes; longer names are cut. */
void name_normalise(char *dst, const char *src);

/* The name of register r: configured, else learned from LTARF, else the contract's default
 * (NGTF), else the label. */
const char *reg_name(const struct derive *d, int r);

/* The register of the period PTEC names (historique), or -1. */
int reg_of_ptec(enum tic_ptec ptec);

/* Learn from NGTF (a new contract forgets what was learned) and from LTARF + the current
 * supplier index. Returns true when a name changed. */
bool names_learn(struct derive *d, const char *ngtf, const char *ltarf, unsigned index);

/* ---- the state of one meter ----------------------------------------------------------------- */

enum period_kind { PERIOD_HOUR, PERIOD_DAY, PERIOD_MONTH, PERIODS };

struct period {
	time_t start; /* 0 = none */
	bool partial;
	uint64_t wh[DERIVE_REGISTERS_MAX];
};

struct reg_state {
	/* guard.c: the last accepted value, and a candidate new level being confirmed */
	bool accepted;
	uint64_t value, value_ms;
	unsigned cand_n; /* 0 = no candidate */
	uint64_t cand, cand_ms;
	/* energy.c: the last value counted, and when (wall time; restored from the state file) */
	bool counted;
	uint64_t last;
	time_t last_wall;
};

/* Active power from the times an index ticked (live.c). */
#define RATE_TICKS 64
struct rate {
	uint64_t ms[RATE_TICKS], wh[RATE_TICKS];
	unsigned n, head; /* ticks held; head = next slot */
	uint64_t cum;     /* Wh counted since the estimator started */
	bool moved;       /* this frame added energy */
	bool valid;
	uint64_t watts; /* as of the last frame, when valid */
};

#define PHASES 3

struct derive {
	char *state_file, *tmp_file;
	char tariff_override[DERIVE_SUPPLIER_INDEXES][DERIVE_NAME_MAX];
	char distributor_override[DERIVE_DISTRIBUTOR_INDEXES][DERIVE_NAME_MAX];

	/* What the meter told us; reset when another meter shows up. */
	char serial[TIC_VALUE_MAX + 1];
	char ngtf[DERIVE_NAME_MAX];
	char learned[DERIVE_SUPPLIER_INDEXES][DERIVE_NAME_MAX];
	struct reg_state regs[DERIVE_REGISTERS_MAX];
	struct period cur[PERIODS], prev[PERIODS];
	time_t last_wall; /* of the last frame that counted energy */

	/* live.c */
	unsigned phases;          /* 0, 1 or 3 */
	uint64_t current[PHASES]; /* IINSTn or IRMSn, A */
	uint64_t voltage[PHASES]; /* URMSn, V (standard) */
	bool has_current[PHASES], has_voltage[PHASES];
	uint64_t isousc, pref;               /* A (historique), kVA (standard); 0 unknown */
	int tariff_reg, distributor_reg;     /* registers, -1 unknown */
	uint8_t tempo_today, tempo_tomorrow; /* enum tic_tempo */
	bool tempo;
	struct rate withdrawn, injected;
	bool has_injection;
	bool power_seen;        /* an estimate was published: the entity stays */
	uint64_t last_frame_ms; /* mono time of the last frame, 0 = none */
	enum tic_mode mode;

	struct derive_guard_stats guard;
	bool energy_changed;
	bool energy_stale;   /* loaded from the state file, no index counted since */
	bool save_due;       /* a period ended since the last save */
	unsigned generation; /* of derive_info() */
};

/* ---- the parts of derive_frame() --------------------------------------------------------------
 */

/* What a frame said that takes several groups to understand. */
struct scan {
	const char *ngtf, *ltarf;
	unsigned ntarf;              /* 0 = absent */
	const struct tic_stge *stge; /* NULL = absent */
};

/* derive.c: forget everything if f comes from another meter than the last one (ADCO/ADSC). */
void meter_identify(struct derive *d, const struct tic_frame *f);

/* energy.c: move to the periods that contain wall (ending the current ones). */
void energy_roll(struct derive *d, time_t wall);
/* energy.c: a kept value of register r; returns the Wh counted (0 when none could be). */
uint64_t energy_value(struct derive *d, int r, uint64_t value, time_t wall);
/* energy.c: forget every register and period (another meter). */
void energy_reset(struct derive *d);
/* energy.c: the start of the period of kind k that contains t, local time. */
time_t period_start(enum period_kind k, time_t t);

/* live.c: a group that is not an energy index; Wh counted by register r; the end of the
 * frame (what took several groups, and the power estimates); forget everything. */
void live_group(struct derive *d, const struct tic_group *g, struct scan *sc);
void live_counted(struct derive *d, int r, uint64_t wh);
void live_end(struct derive *d, const struct scan *sc, uint64_t mono_ms);
void live_reset(struct derive *d);
/* live.c: the phases with a known load (0, 1 or 3). */
unsigned live_phases(const struct derive *d);

/* guard.c */
void guard_reset(struct derive *d);

/* state.c */
int state_load(struct derive *d);

/* ---- jw.c: JSON into a caller's buffer ------------------------------------------------------ */

#define JW_DEPTH 4

struct jw {
	char *buf;
	size_t size, len;
	bool full;
	unsigned depth;
	bool comma[JW_DEPTH + 1]; /* a member was written at this depth */
};

void jw_init(struct jw *w, char *buf, size_t size); /* writes the opening '{' */
void jw_open(struct jw *w, const char *key);        /* "key":{ */
void jw_close(struct jw *w);                        /* } */
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_str(struct jw *w, const char *key, const char *v);
/* Close the root object; returns the length (buf NUL-terminated) or -ENOBUFS. */
int jw_end(struct jw *w);

/* Local time as ISO 8601 with its offset: "2026-11-29T10:00:00+01:00". buf has 32 bytes. */
void iso_local(time_t t, char *buf);

#endif
