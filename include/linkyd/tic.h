/* SPDX-License-Identifier: MIT */
/*
 * The TIC (télé-information client) decoder: a streaming parser that turns the byte stream of
 * an Enedis meter into validated frames of label/value groups, the label table that says what
 * each label means, and the helpers that type its values. No I/O, no heap, no clock, no logging.
 */
#ifndef LINKYD_TIC_H
#define LINKYD_TIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits. The spec's longest label is 9 characters (SMAXSN1-1) and its longest value 98
 * (PJOURF+1); unknown labels of future meters get some headroom. A triphasé standard frame is
 * about 1 300 bytes and 60 groups; every standard label at once stays under 2 500 bytes. */
#define TIC_LABEL_MAX    16
#define TIC_HORODATE_LEN 13
#define TIC_VALUE_MAX    128
/* Bytes between LF and CR: label, separator, horodate, separator, value, separator, checksum. */
#define TIC_GROUP_MAX    (TIC_LABEL_MAX + 1 + TIC_HORODATE_LEN + 1 + TIC_VALUE_MAX + 2)
#define TIC_FRAME_GROUPS 128
#define TIC_FRAME_BYTES  4096
/* Room after a frame's bytes in the parser's buffer: it reads and writes whole 8-byte words. */
#define TIC_BUF_SLACK 16

/* The protocol's framing bytes. */
enum tic_byte {
	TIC_STX = 0x02, /* start of frame */
	TIC_ETX = 0x03, /* end of frame */
	TIC_EOT = 0x04, /* frame cut short */
	TIC_HT = 0x09,  /* standard separator */
	TIC_LF = 0x0a,  /* start of group */
	TIC_CR = 0x0d,  /* end of group */
	TIC_SP = 0x20,  /* historique separator */
};

enum tic_mode {
	TIC_MODE_UNKNOWN = 0,
	TIC_MODE_HISTORIQUE, /* 1200 Bd, SP separators */
	TIC_MODE_STANDARD,   /* 9600 Bd, HT separators, optional horodate */
};

/* Why a group or a frame was rejected. Negative so that they can share an int with -errno. */
enum tic_err {
	TIC_ERR_CHECKSUM = -1, /* check character does not match */
	TIC_ERR_FORMAT = -2,   /* shape, label, width or character set wrong for the label */
	TIC_ERR_FRAMING = -3,  /* group cut (missing CR), frame interrupted (EOT, STX, end) */
	TIC_ERR_OVERLONG = -4, /* field, group or frame over the limits above */
	TIC_ERR_BYTE = -5,     /* control byte inside a group, or 8-bit byte with bad parity */
};
#define TIC_ERR_COUNT    5
#define TIC_ERR_INDEX(e) (-(e) -1)

/* Short name of an error ("checksum", "format", ...), for logs and JSON. */
const char *tic_err_name(enum tic_err err);

/* ---- The label table ------------------------------------------------------------------- */

/* How a label's value is checked and typed (the typed field of struct tic_group it fills). */
enum tic_format {
	TIC_FMT_DIGITS,  /* exactly width decimal digits, published as an integer (num) */
	TIC_FMT_ID,      /* exactly width decimal digits, published as a string (ADCO, PRM) */
	TIC_FMT_TEXT,    /* 1..width printable characters but '`', published without padding SPs */
	TIC_FMT_EMPTY,   /* empty value: the information is the horodate (DATE) */
	TIC_FMT_OPTARIF, /* BASE, HC.., EJP., BBRx */
	TIC_FMT_PTEC,    /* TH.., HC.., HP.., HN.., PM.., HCJB ... HPJR (code: enum tic_ptec) */
	TIC_FMT_DEMAIN,  /* ----, BLEU, BLAN, ROUG (code: enum tic_tempo) */
	TIC_FMT_LETTER,  /* one upper-case letter (HHPHC) */
	TIC_FMT_ALNUM,   /* exactly width upper-case letters or digits (MOTDETAT) */
	TIC_FMT_PPOT,    /* '0' then a hexadecimal digit */
	TIC_FMT_STGE,    /* 8 upper-case hexadecimal digits (stge) */
	TIC_FMT_PROFILE, /* 11 blocks HHMMSSSS or NONUTILE separated by SP (PJOURF+1, PPOINTE) */
	TIC_FMT_RELAIS,  /* 3 digits, 000-255: bit n = relay n+1 closed (num) */
};

/* Label flags. */
#define TIC_LF_HORODATE   0x01 /* carries a horodate (standard mode) */
#define TIC_LF_DIAGNOSTIC 0x02 /* static or configuration data, not a measurement */
#define TIC_LF_ALARM      0x04 /* transient warning (ADPS, ADIRx) */
#define TIC_LF_TRI        0x08 /* only sent by three-phase meters */
#define TIC_LF_PROD       0x10 /* only sent by meters in producer mode */

/* One row of the label table: data, not code paths. */
struct tic_label {
	const char *name;
	const char *description; /* English, for entity names */
	const char *unit;        /* the meter's unit ("Wh", "kVA", ...) or NULL */
	const char *ha_class;    /* Home Assistant device_class or NULL */
	const char *ha_state;    /* Home Assistant state_class or NULL */
	const char *ha_unit;     /* unit Home Assistant accepts for ha_class, or NULL */
	uint16_t ha_scale;       /* multiply the value by this for ha_unit (kVA -> VA: 1000) */
	uint16_t max;            /* TIC_FMT_DIGITS: largest valid value, 0 = no limit */
	uint8_t min;             /* TIC_FMT_DIGITS: smallest valid value */
	uint8_t mode;            /* enum tic_mode */
	uint8_t format;          /* enum tic_format */
	uint8_t width;           /* exact width, or maximum width for TIC_FMT_TEXT */
	uint8_t flags;           /* TIC_LF_* */
	uint8_t name_len;        /* strlen(name) */
};

/* The table, in spec order (linkyd/tic_labels.h), and its length (at most TIC_LABELS_MAX rows). */
#define TIC_LABELS_MAX 192
extern const struct tic_label tic_labels[];
extern const size_t tic_labels_count;

/*
 * A label's identity, to switch on rather than on its spelling: TIC_L_ADCO, TIC_L_SMAXSN_1 ...,
 * one per row of the table in its order, made from the same list (linkyd/tic_labels.h). 0 is
 * TIC_L_UNKNOWN, a label the table does not know, so that a group nobody typed is never taken
 * for a table label; row i is TIC_L_UNKNOWN + 1 + i.
 */
enum tic_label_id {
	TIC_L_UNKNOWN,
#define TIC_LABEL(id, ...) TIC_L_##id,
#include "linkyd/tic_labels.h"
#undef TIC_LABEL
	TIC_L_COUNT /* table rows + 1 */
};

/* The identity of a row of the table, or TIC_L_UNKNOWN for NULL. */
static inline enum tic_label_id
tic_label_id(const struct tic_label *def)
{
	return def ? (enum tic_label_id)(def - tic_labels + 1) : TIC_L_UNKNOWN;
}

/* The row of a label's identity, or NULL for TIC_L_UNKNOWN (and any number that is no identity,
 * as an untyped group's may be). */
static inline const struct tic_label *
tic_label_of(enum tic_label_id id)
{
	return id > TIC_L_UNKNOWN && id < TIC_L_COUNT ? &tic_labels[id - 1] : NULL;
}

/* Find a label of either mode by name (len bytes, not NUL-terminated); NULL if unknown. */
const struct tic_label *tic_label_find(const char *name, size_t len);

/* Check a value (len bytes) against the label's format. Returns 0 or TIC_ERR_FORMAT. */
int tic_label_check(const struct tic_label *def, const char *value, size_t len);

/* ---- Typed values ---------------------------------------------------------------------------- */

/* A horodate SAAMMJJhhmmss, in the meter's local legal time. */
struct tic_datetime {
	uint16_t year;
	uint8_t month, day, hour, minute, second;
	int8_t utc_offset_h; /* +2 (E, summer), +1 (H, winter) */
	bool has_offset;     /* false when the season character is SP (DPMx/FPMx) */
	bool degraded;       /* lower-case season: the meter's clock runs in degraded mode */
};

/* The STGE status register (docs/tic.md §8). */
struct tic_stge {
	uint32_t raw;
	bool dry_contact_open;     /* bit 0 */
	uint8_t breaker;           /* bits 1-3: 0 closed, 1..6 open and why */
	bool cover_open;           /* bit 4: terminal cover */
	bool overvoltage;          /* bit 6 */
	bool overload;             /* bit 7: reference power exceeded */
	bool producer;             /* bit 8 */
	bool injecting;            /* bit 9: active energy negative */
	uint8_t supplier_index;    /* bits 10-13, as 1..16 */
	uint8_t distributor_index; /* bits 14-15, as 1..4 */
	bool clock_degraded;       /* bit 16 */
	bool standard_mode;        /* bit 17 */
	uint8_t euridis;           /* bits 19-20 */
	uint8_t cpl_status;        /* bits 21-22 */
	bool cpl_synchronised;     /* bit 23 */
	uint8_t tempo_today;       /* bits 24-25: enum tic_tempo */
	uint8_t tempo_tomorrow;    /* bits 26-27 */
	uint8_t peak_notice;       /* bits 28-29: 0 none, 1..3 PMx notice */
	uint8_t peak;              /* bits 30-31: 0 none, 1..3 PMx in progress */
};

/* Tempo day colours: STGE's codes, and DEMAIN's values ("----", BLEU, BLAN, ROUG) typed. */
enum tic_tempo {
	TIC_TEMPO_NONE,
	TIC_TEMPO_BLEU,
	TIC_TEMPO_BLANC,
	TIC_TEMPO_ROUGE,
};

/* PTEC's values typed: TH.., HC.., HP.., HN.., PM.., then Tempo's HCJB ... HPJR. */
enum tic_ptec {
	TIC_PTEC_TH,
	TIC_PTEC_HC,
	TIC_PTEC_HP,
	TIC_PTEC_HN,
	TIC_PTEC_PM,
	TIC_PTEC_HCJB,
	TIC_PTEC_HCJW,
	TIC_PTEC_HCJR,
	TIC_PTEC_HPJB,
	TIC_PTEC_HPJW,
	TIC_PTEC_HPJR,
};

/* ---- The parser ---------------------------------------------------------------------------- */

/*
 * One valid group of a delivered frame: its strings, as the meter sent them, then the same
 * information typed, so that what follows the parser neither parses a value again nor compares
 * a label's spelling. Strings are NUL-terminated and, like the group, live in the parser until
 * the on_frame callback returns.
 */
struct tic_group {
	const char *label;
	const char *value;           /* may be "" (DATE) */
	const char *horodate;        /* 13 characters, or NULL when the group has none */
	const struct tic_label *def; /* NULL for a label the table does not know */
	uint8_t label_len, value_len;

	/* Typed once per frame, before on_frame (tic_group_type()). */
	uint8_t id;                   /* enum tic_label_id: def's row, or TIC_L_UNKNOWN */
	struct tic_datetime date;     /* the horodate's, when there is one */
	union {                       /* the value's, as def->format says (enum tic_format) */
		uint64_t num;         /* TIC_FMT_DIGITS, TIC_FMT_RELAIS */
		uint8_t code;         /* TIC_FMT_PTEC, TIC_FMT_DEMAIN */
		struct tic_stge stge; /* TIC_FMT_STGE */
	};
};

struct tic_frame {
	enum tic_mode mode;
	unsigned n_groups;
	const struct tic_group *groups;
};

/* Type g: set its typed fields from def and its strings, as the parser does for each group it
 * delivers; for groups made by hand (tests, a frame rewritten). The value is checked against
 * def's format (tic_label_check()) and the horodate parsed (tic_horodate_parse()) first: returns
 * 0, or TIC_ERR_FORMAT when either fails, g then typed as a label the table does not know (id
 * TIC_L_UNKNOWN, every other typed field zero), which what follows does not read as a row's. */
int tic_group_type(struct tic_group *g);

/* Counters since tic_parser_init(). */
struct tic_stats {
	uint64_t frames;                /* delivered */
	uint64_t groups;                /* valid groups in delivered frames */
	uint64_t errors[TIC_ERR_COUNT]; /* by TIC_ERR_INDEX(): rejected groups and frames */
	uint64_t frames_interrupted;    /* cut by EOT, by a new STX, or by tic_parser_reset() */
	uint64_t frames_empty;          /* ended by ETX without one valid group: not delivered */
	uint64_t hist_sum_excl;         /* historique groups whose checksum left the last SP out */
	uint64_t hist_sum_incl;         /* ... and the "mode 2" variant that sums it */
	uint64_t bytes_skipped;         /* outside frames, or junk between groups */
	uint64_t bytes_bad_parity;      /* 8-bit bytes with odd parity: noise, or not 7E1 */
};

struct tic_parser_callbacks {
	/* A frame ended by ETX with at least one valid group, its groups typed. Return non-zero
	 * to stop feeding. NULL: frames are validated and counted, neither typed nor delivered. */
	int (*on_frame)(const struct tic_frame *frame, void *userdata);
};

enum tic_state {
	TIC_S_IDLE,  /* outside a frame, looking for STX */
	TIC_S_FRAME, /* inside a frame, between groups */
	TIC_S_GROUP, /* inside a group, collecting bytes up to CR */
};

/* The parser lives in caller storage (about 13 KiB); its fields are private. */
struct tic_parser {
	enum tic_state state;
	enum tic_mode mode;   /* of the current frame, set by its first valid group */
	uint32_t group_sum;   /* sum of the current group's bytes so far */
	uint16_t group_start; /* offset of the current group in buf */
	uint16_t used;        /* bytes of buf used by the current frame */
	unsigned n_groups;
	uint64_t seen[TIC_LABELS_MAX / 64]; /* table labels the current frame holds (duplicates) */
	const struct tic_parser_callbacks *cb;
	void *userdata;
	struct tic_stats stats;
	struct tic_group groups[TIC_FRAME_GROUPS];
	char buf[TIC_FRAME_BYTES + TIC_BUF_SLACK];
};

/* Prepare p. cb and userdata must outlive it. */
void tic_parser_init(struct tic_parser *p, const struct tic_parser_callbacks *cb, void *userdata);

/* Drop a partial frame: at the end of input, or when the line was reopened (at another speed).
 * It counts as interrupted. The counters are kept. */
void tic_parser_reset(struct tic_parser *p);

/* Feed len bytes, any split. Returns the number of bytes consumed: len, or fewer when on_frame
 * asked to stop (the byte that ended that frame is consumed). */
size_t tic_parser_feed(struct tic_parser *p, const void *data, size_t len);

static inline const struct tic_stats *
tic_parser_stats(const struct tic_parser *p)
{
	return &p->stats;
}

/* ---- Typed values, from strings -------------------------------------------------------------- */

/* Value of a TIC_FMT_DIGITS/TIC_FMT_ID string of digits (base 10, leading zeros allowed).
 * Returns 0, or -EINVAL if s is empty, not all digits, or over 19 digits. */
int tic_parse_uint(const char *s, uint64_t *ret_value);

/* Parse a 13-character horodate. Returns 0 or TIC_ERR_FORMAT. */
int tic_horodate_parse(const char *h, struct tic_datetime *ret_dt);

/* Write dt as ISO 8601 ("2024-02-10T12:13:55+01:00", or without offset) into buf (at least
 * TIC_ISO_DATE_SIZE bytes). Returns the length. */
#define TIC_ISO_DATE_SIZE 26
int tic_datetime_iso(const struct tic_datetime *dt, char *buf);

/* Decode 8 hexadecimal digits. Returns 0 or TIC_ERR_FORMAT. */
int tic_stge_decode(const char *hex, struct tic_stge *ret_stge);

/* Names of the coded STGE fields, never NULL ("?" out of range). */
const char *tic_stge_breaker_name(uint8_t v);
const char *tic_stge_euridis_name(uint8_t v);
const char *tic_stge_cpl_name(uint8_t v);
const char *tic_tempo_colour_name(uint8_t v);

/* One slot of a PJOURF+1 / PPOINTE day profile (docs/tic.md §7.1). */
struct tic_profile_slot {
	uint8_t hour, minute;
	uint16_t action;          /* the raw 16-bit action word */
	uint8_t supplier_index;   /* bits 0-3: 1..10, 0 = no change */
	uint8_t virtual_contacts; /* bits 4-10 */
	uint8_t dry_contact;      /* bits 14-15: 0 no change, 1 tempo, 2 open, 3 close */
};
#define TIC_PROFILE_SLOTS 11

/* Decode the used slots of a profile value of len bytes (NONUTILE blocks are skipped). Returns
 * the number of slots, written to ret_slots (room for TIC_PROFILE_SLOTS) unless it is NULL,
 * or TIC_ERR_FORMAT. */
int tic_profile_decode(const char *value, size_t len, struct tic_profile_slot *ret_slots);

/* Name of a profile dry-contact action ("none", "tempo", "open", "close"). */
const char *tic_profile_contact_name(uint8_t v);

#endif
