/* SPDX-License-Identifier: MIT */
/*
 * The label table of both TIC modes (tic-spec.md §5 and §7), with the formats the parser checks
 * and the hints Home Assistant needs, and a constant-time lookup by name.
 */
#include <string.h>

#include "linkyd/tic.h"
#include "tic-internal.h"

#define H TIC_MODE_HISTORIQUE
#define S TIC_MODE_STANDARD

/* Shorthands for the rows: a measurement with its Home Assistant class. */
#define ENERGY(n, d, md, fl)                                                                       \
	{                                                                                          \
		n, d, "Wh", "energy", "total_increasing", "Wh", 1, 0, 0, md, TIC_FMT_DIGITS, 9, fl \
	}
#define NUM(n, d, u, cls, st, hu, md, w, fl)                                                       \
	{                                                                                          \
		n, d, u, cls, st, hu, 1, 0, 0, md, TIC_FMT_DIGITS, w, fl                           \
	}
#define FMT(n, d, md, f, w, fl)                                                                    \
	{                                                                                          \
		n, d, NULL, NULL, NULL, NULL, 1, 0, 0, md, f, w, fl                                \
	}

#define DIAG TIC_LF_DIAGNOSTIC
#define HORO TIC_LF_HORODATE
#define TRI  TIC_LF_TRI
#define PROD TIC_LF_PROD

const struct tic_label tic_labels[] = {
    /* Historique (Enedis 02E, 54E §6.1). */
    FMT("ADCO", "Meter address", H, TIC_FMT_ID, 12, DIAG),
    FMT("OPTARIF", "Tariff option", H, TIC_FMT_OPTARIF, 4, DIAG),
    NUM("ISOUSC", "Subscribed current", "A", "current", NULL, "A", H, 2, DIAG),
    ENERGY("BASE", "Index base", H, 0),
    ENERGY("HCHC", "Index off-peak", H, 0),
    ENERGY("HCHP", "Index peak", H, 0),
    ENERGY("EJPHN", "Index EJP normal", H, 0),
    ENERGY("EJPHPM", "Index EJP mobile peak", H, 0),
    ENERGY("BBRHCJB", "Index Tempo blue off-peak", H, 0),
    ENERGY("BBRHPJB", "Index Tempo blue peak", H, 0),
    ENERGY("BBRHCJW", "Index Tempo white off-peak", H, 0),
    ENERGY("BBRHPJW", "Index Tempo white peak", H, 0),
    ENERGY("BBRHCJR", "Index Tempo red off-peak", H, 0),
    ENERGY("BBRHPJR", "Index Tempo red peak", H, 0),
    NUM("PEJP", "EJP advance notice", "min", "duration", NULL, "min", H, 2, 0),
    FMT("PTEC", "Current tariff period", H, TIC_FMT_PTEC, 4, 0),
    FMT("DEMAIN", "Tomorrow's Tempo colour", H, TIC_FMT_DEMAIN, 4, 0),
    NUM("IINST", "Current", "A", "current", "measurement", "A", H, 3, 0),
    NUM("IINST1", "Current phase 1", "A", "current", "measurement", "A", H, 3, TRI),
    NUM("IINST2", "Current phase 2", "A", "current", "measurement", "A", H, 3, TRI),
    NUM("IINST3", "Current phase 3", "A", "current", "measurement", "A", H, 3, TRI),
    NUM("ADPS", "Overload warning", "A", "current", NULL, "A", H, 3, TIC_LF_ALARM),
    NUM("ADIR1", "Overload warning phase 1", "A", "current", NULL, "A", H, 3, TIC_LF_ALARM | TRI),
    NUM("ADIR2", "Overload warning phase 2", "A", "current", NULL, "A", H, 3, TIC_LF_ALARM | TRI),
    NUM("ADIR3", "Overload warning phase 3", "A", "current", NULL, "A", H, 3, TIC_LF_ALARM | TRI),
    NUM("IMAX", "Maximum current", "A", "current", NULL, "A", H, 3, DIAG),
    NUM("IMAX1", "Maximum current phase 1", "A", "current", NULL, "A", H, 3, DIAG | TRI),
    NUM("IMAX2", "Maximum current phase 2", "A", "current", NULL, "A", H, 3, DIAG | TRI),
    NUM("IMAX3", "Maximum current phase 3", "A", "current", NULL, "A", H, 3, DIAG | TRI),
    NUM("PMAX", "Maximum power", "W", "power", NULL, "W", H, 5, TRI),
    NUM("PAPP", "Apparent power", "VA", "apparent_power", "measurement", "VA", H, 5, 0),
    FMT("HHPHC", "Peak/off-peak schedule", H, TIC_FMT_LETTER, 1, DIAG),
    FMT("MOTDETAT", "Meter status word", H, TIC_FMT_ALNUM, 6, DIAG),
    FMT("PPOT", "Phase potentials", H, TIC_FMT_PPOT, 2, DIAG | TRI),

    /* Standard (Enedis 54E §6.2.2). */
    FMT("ADSC", "Meter address", S, TIC_FMT_ID, 12, DIAG),
    NUM("VTIC", "TIC version", NULL, NULL, NULL, NULL, S, 2, DIAG),
    FMT("DATE", "Meter clock", S, TIC_FMT_EMPTY, 0, HORO | DIAG),
    FMT("NGTF", "Supplier calendar", S, TIC_FMT_TEXT, 16, DIAG),
    FMT("LTARF", "Current tariff", S, TIC_FMT_TEXT, 16, 0),
    ENERGY("EAST", "Energy withdrawn", S, 0),
    ENERGY("EASF01", "Energy withdrawn supplier index 1", S, 0),
    ENERGY("EASF02", "Energy withdrawn supplier index 2", S, 0),
    ENERGY("EASF03", "Energy withdrawn supplier index 3", S, 0),
    ENERGY("EASF04", "Energy withdrawn supplier index 4", S, 0),
    ENERGY("EASF05", "Energy withdrawn supplier index 5", S, 0),
    ENERGY("EASF06", "Energy withdrawn supplier index 6", S, 0),
    ENERGY("EASF07", "Energy withdrawn supplier index 7", S, 0),
    ENERGY("EASF08", "Energy withdrawn supplier index 8", S, 0),
    ENERGY("EASF09", "Energy withdrawn supplier index 9", S, 0),
    ENERGY("EASF10", "Energy withdrawn supplier index 10", S, 0),
    ENERGY("EASD01", "Energy withdrawn distributor index 1", S, 0),
    ENERGY("EASD02", "Energy withdrawn distributor index 2", S, 0),
    ENERGY("EASD03", "Energy withdrawn distributor index 3", S, 0),
    ENERGY("EASD04", "Energy withdrawn distributor index 4", S, 0),
    ENERGY("EAIT", "Energy injected", S, PROD),
    NUM("ERQ1", "Reactive energy Q1", "VArh", "reactive_energy", "total_increasing", "varh", S, 9,
        PROD),
    NUM("ERQ2", "Reactive energy Q2", "VArh", "reactive_energy", "total_increasing", "varh", S, 9,
        PROD),
    NUM("ERQ3", "Reactive energy Q3", "VArh", "reactive_energy", "total_increasing", "varh", S, 9,
        PROD),
    NUM("ERQ4", "Reactive energy Q4", "VArh", "reactive_energy", "total_increasing", "varh", S, 9,
        PROD),
    NUM("IRMS1", "Current phase 1", "A", "current", "measurement", "A", S, 3, 0),
    NUM("IRMS2", "Current phase 2", "A", "current", "measurement", "A", S, 3, TRI),
    NUM("IRMS3", "Current phase 3", "A", "current", "measurement", "A", S, 3, TRI),
    NUM("URMS1", "Voltage phase 1", "V", "voltage", "measurement", "V", S, 3, 0),
    NUM("URMS2", "Voltage phase 2", "V", "voltage", "measurement", "V", S, 3, TRI),
    NUM("URMS3", "Voltage phase 3", "V", "voltage", "measurement", "V", S, 3, TRI),
    {"PREF", "Reference power", "kVA", "apparent_power", NULL, "VA", 1000, 0, 0, S, TIC_FMT_DIGITS,
     2, DIAG},
    {"PCOUP", "Cut-off power", "kVA", "apparent_power", NULL, "VA", 1000, 0, 0, S, TIC_FMT_DIGITS,
     2, DIAG},
    NUM("SINSTS", "Apparent power", "VA", "apparent_power", "measurement", "VA", S, 5, 0),
    NUM("SINSTS1", "Apparent power phase 1", "VA", "apparent_power", "measurement", "VA", S, 5,
        TRI),
    NUM("SINSTS2", "Apparent power phase 2", "VA", "apparent_power", "measurement", "VA", S, 5,
        TRI),
    NUM("SINSTS3", "Apparent power phase 3", "VA", "apparent_power", "measurement", "VA", S, 5,
        TRI),
    NUM("SMAXSN", "Max power today", "VA", "apparent_power", NULL, "VA", S, 5, HORO),
    NUM("SMAXSN1", "Max power today phase 1", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXSN2", "Max power today phase 2", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXSN3", "Max power today phase 3", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXSN-1", "Max power yesterday", "VA", "apparent_power", NULL, "VA", S, 5, HORO),
    NUM("SMAXSN1-1", "Max power yesterday phase 1", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
    NUM("SMAXSN2-1", "Max power yesterday phase 2", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
    NUM("SMAXSN3-1", "Max power yesterday phase 3", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
    NUM("SINSTI", "Apparent power injected", "VA", "apparent_power", "measurement", "VA", S, 5,
        PROD),
    NUM("SMAXIN", "Max power injected today", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | PROD),
    NUM("SMAXIN-1", "Max power injected yesterday", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | PROD),
    NUM("CCASN", "Load curve point", "W", "power", "measurement", "W", S, 5, HORO),
    NUM("CCASN-1", "Previous load curve point", "W", "power", "measurement", "W", S, 5, HORO),
    NUM("CCAIN", "Injection curve point", "W", "power", "measurement", "W", S, 5, HORO | PROD),
    NUM("CCAIN-1", "Previous injection curve point", "W", "power", "measurement", "W", S, 5,
        HORO | PROD),
    NUM("UMOY1", "Mean voltage phase 1", "V", "voltage", "measurement", "V", S, 3, HORO),
    NUM("UMOY2", "Mean voltage phase 2", "V", "voltage", "measurement", "V", S, 3, HORO | TRI),
    NUM("UMOY3", "Mean voltage phase 3", "V", "voltage", "measurement", "V", S, 3, HORO | TRI),
    FMT("STGE", "Status register", S, TIC_FMT_STGE, 8, 0),
    NUM("DPM1", "Mobile peak 1 start", NULL, NULL, NULL, NULL, S, 2, HORO),
    NUM("FPM1", "Mobile peak 1 end", NULL, NULL, NULL, NULL, S, 2, HORO),
    NUM("DPM2", "Mobile peak 2 start", NULL, NULL, NULL, NULL, S, 2, HORO),
    NUM("FPM2", "Mobile peak 2 end", NULL, NULL, NULL, NULL, S, 2, HORO),
    NUM("DPM3", "Mobile peak 3 start", NULL, NULL, NULL, NULL, S, 2, HORO),
    NUM("FPM3", "Mobile peak 3 end", NULL, NULL, NULL, NULL, S, 2, HORO),
    FMT("MSG1", "Message", S, TIC_FMT_TEXT, 32, 0),
    FMT("MSG2", "Short message", S, TIC_FMT_TEXT, 16, 0),
    FMT("PRM", "Delivery point", S, TIC_FMT_ID, 14, DIAG),
    {"RELAIS", "Relays", NULL, NULL, NULL, NULL, 1, 255, 0, S, TIC_FMT_RELAIS, 3, 0},
    {"NTARF", "Supplier tariff index", NULL, NULL, NULL, NULL, 1, 10, 1, S, TIC_FMT_DIGITS, 2, 0},
    NUM("NJOURF", "Calendar day", NULL, NULL, NULL, NULL, S, 2, DIAG),
    NUM("NJOURF+1", "Next calendar day", NULL, NULL, NULL, NULL, S, 2, DIAG),
    FMT("PJOURF+1", "Next day profile", S, TIC_FMT_PROFILE, 98, DIAG),
    FMT("PPOINTE", "Next peak day profile", S, TIC_FMT_PROFILE, 98, DIAG),

    /* VTIC 01 "pilot" meters (hekmon/linkytic #42) name some standard registers differently. */
    NUM("SINST1", "Apparent power phase 1", "VA", "apparent_power", "measurement", "VA", S, 5, 0),
    NUM("SINST2", "Apparent power phase 2", "VA", "apparent_power", "measurement", "VA", S, 5, TRI),
    NUM("SINST3", "Apparent power phase 3", "VA", "apparent_power", "measurement", "VA", S, 5, TRI),
    NUM("SMAXN", "Max power today", "VA", "apparent_power", NULL, "VA", S, 5, HORO),
    NUM("SMAXN1", "Max power today phase 1", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXN2", "Max power today phase 2", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXN3", "Max power today phase 3", "VA", "apparent_power", NULL, "VA", S, 5, HORO | TRI),
    NUM("SMAXN-1", "Max power yesterday", "VA", "apparent_power", NULL, "VA", S, 5, HORO),
    NUM("SMAXN1-1", "Max power yesterday phase 1", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
    NUM("SMAXN2-1", "Max power yesterday phase 2", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
    NUM("SMAXN3-1", "Max power yesterday phase 3", "VA", "apparent_power", NULL, "VA", S, 5,
        HORO | TRI),
};

const size_t tic_labels_count = sizeof(tic_labels) / sizeof(tic_labels[0]);

_Static_assert(sizeof(tic_labels) / sizeof(tic_labels[0]) <= TIC_LABELS_MAX,
               "the parser's duplicate bitmap holds TIC_LABELS_MAX labels");

struct tic_label_slot tic_label_index[TIC_INDEX_SIZE];

/* The index, built once before main() runs. */
__attribute__((constructor)) static void
label_index_build(void)
{
	for (size_t i = 0; i < tic_labels_count; i++) {
		struct tic_label_key k =
		    tic_label_key_of(tic_labels[i].name, strlen(tic_labels[i].name));
		uint32_t h = tic_label_hash(k.w[0], k.w[1]);

		while (tic_label_index[h].key.len != 0)
			h = (h + 1) % TIC_INDEX_SIZE;
		tic_label_index[h] = (struct tic_label_slot){
		    k, (uint8_t) i,
		    tic_label_shape(tic_labels[i].mode, tic_labels[i].flags & TIC_LF_HORODATE)};
	}
}

const struct tic_label *
tic_label_find(const char *name, size_t len)
{
	struct tic_label_key k;
	const struct tic_label_slot *slot;

	if (len > TIC_LABEL_MAX || len == 0)
		return NULL;
	k = tic_label_key_of(name, len);
	slot = tic_label_lookup(k.w[0], k.w[1], k.len);
	return slot ? &tic_labels[slot->label] : NULL;
}
