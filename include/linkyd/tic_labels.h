/* SPDX-License-Identifier: MIT */
/*
 * The label table's rows (docs/tic.md §5 and §7), in spec order, as one list: tic.h makes
 * enum tic_label_id of it and src/tic/labels.c the table, so that a label's identity and its row
 * can never disagree. Each row is
 *
 *   TIC_LABEL(id, kind, "NAME", the rest of the row as kind takes it)
 *
 * where id is the name as a C identifier ('-' and '+' become '_': TIC_L_SMAXSN_1 is
 * "SMAXSN-1"), and kind is one of labels.c's row shorthands: ENERGY (an energy index),
 * NUM (a plain number with its Home Assistant class), FMT (another format), ROW (a whole row).
 *
 * No include guard: an includer defines TIC_LABEL, includes this file, and undefines it.
 */

/* Historique (Enedis 02E, 54E §6.1). */
TIC_LABEL(ADCO, FMT, "ADCO", "Meter address", H, TIC_FMT_ID, 12, DIAG)
TIC_LABEL(OPTARIF, FMT, "OPTARIF", "Tariff option", H, TIC_FMT_OPTARIF, 4, DIAG)
TIC_LABEL(ISOUSC, NUM, "ISOUSC", "Subscribed current", "A", "current", NULL, "A", H, 2, DIAG)
TIC_LABEL(BASE, ENERGY, "BASE", "Index base", H, 0)
TIC_LABEL(HCHC, ENERGY, "HCHC", "Index off-peak", H, 0)
TIC_LABEL(HCHP, ENERGY, "HCHP", "Index peak", H, 0)
TIC_LABEL(EJPHN, ENERGY, "EJPHN", "Index EJP normal", H, 0)
TIC_LABEL(EJPHPM, ENERGY, "EJPHPM", "Index EJP mobile peak", H, 0)
TIC_LABEL(BBRHCJB, ENERGY, "BBRHCJB", "Index Tempo blue off-peak", H, 0)
TIC_LABEL(BBRHPJB, ENERGY, "BBRHPJB", "Index Tempo blue peak", H, 0)
TIC_LABEL(BBRHCJW, ENERGY, "BBRHCJW", "Index Tempo white off-peak", H, 0)
TIC_LABEL(BBRHPJW, ENERGY, "BBRHPJW", "Index Tempo white peak", H, 0)
TIC_LABEL(BBRHCJR, ENERGY, "BBRHCJR", "Index Tempo red off-peak", H, 0)
TIC_LABEL(BBRHPJR, ENERGY, "BBRHPJR", "Index Tempo red peak", H, 0)
TIC_LABEL(PEJP, NUM, "PEJP", "EJP advance notice", "min", "duration", NULL, "min", H, 2, 0)
TIC_LABEL(PTEC, FMT, "PTEC", "Current tariff period", H, TIC_FMT_PTEC, 4, 0)
TIC_LABEL(DEMAIN, FMT, "DEMAIN", "Tomorrow's Tempo colour", H, TIC_FMT_DEMAIN, 4, 0)
TIC_LABEL(IINST, NUM, "IINST", "Current", "A", "current", "measurement", "A", H, 3, 0)
TIC_LABEL(IINST1, NUM, "IINST1", "Current phase 1", "A", "current", "measurement", "A", H, 3, TRI)
TIC_LABEL(IINST2, NUM, "IINST2", "Current phase 2", "A", "current", "measurement", "A", H, 3, TRI)
TIC_LABEL(IINST3, NUM, "IINST3", "Current phase 3", "A", "current", "measurement", "A", H, 3, TRI)
TIC_LABEL(ADPS, NUM, "ADPS", "Overload warning", "A", "current", NULL, "A", H, 3, TIC_LF_ALARM)
TIC_LABEL(ADIR1, NUM, "ADIR1", "Overload warning phase 1", "A", "current", NULL, "A", H, 3,
          TIC_LF_ALARM | TRI)
TIC_LABEL(ADIR2, NUM, "ADIR2", "Overload warning phase 2", "A", "current", NULL, "A", H, 3,
          TIC_LF_ALARM | TRI)
TIC_LABEL(ADIR3, NUM, "ADIR3", "Overload warning phase 3", "A", "current", NULL, "A", H, 3,
          TIC_LF_ALARM | TRI)
TIC_LABEL(IMAX, NUM, "IMAX", "Maximum current", "A", "current", NULL, "A", H, 3, DIAG)
TIC_LABEL(IMAX1, NUM, "IMAX1", "Maximum current phase 1", "A", "current", NULL, "A", H, 3,
          DIAG | TRI)
TIC_LABEL(IMAX2, NUM, "IMAX2", "Maximum current phase 2", "A", "current", NULL, "A", H, 3,
          DIAG | TRI)
TIC_LABEL(IMAX3, NUM, "IMAX3", "Maximum current phase 3", "A", "current", NULL, "A", H, 3,
          DIAG | TRI)
TIC_LABEL(PMAX, NUM, "PMAX", "Maximum power", "W", "power", NULL, "W", H, 5, TRI)
TIC_LABEL(PAPP, NUM, "PAPP", "Apparent power", "VA", "apparent_power", "measurement", "VA", H, 5, 0)
TIC_LABEL(HHPHC, FMT, "HHPHC", "Peak/off-peak schedule", H, TIC_FMT_LETTER, 1, DIAG)
TIC_LABEL(MOTDETAT, FMT, "MOTDETAT", "Meter status word", H, TIC_FMT_ALNUM, 6, DIAG)
TIC_LABEL(PPOT, FMT, "PPOT", "Phase potentials", H, TIC_FMT_PPOT, 2, DIAG | TRI)

/* Standard (Enedis 54E §6.2.2). */
TIC_LABEL(ADSC, FMT, "ADSC", "Meter address", S, TIC_FMT_ID, 12, DIAG)
TIC_LABEL(VTIC, NUM, "VTIC", "TIC version", NULL, NULL, NULL, NULL, S, 2, DIAG)
TIC_LABEL(DATE, FMT, "DATE", "Meter clock", S, TIC_FMT_EMPTY, 0, HORO | DIAG)
TIC_LABEL(NGTF, FMT, "NGTF", "Supplier calendar", S, TIC_FMT_TEXT, 16, DIAG)
TIC_LABEL(LTARF, FMT, "LTARF", "Current tariff", S, TIC_FMT_TEXT, 16, 0)
TIC_LABEL(EAST, ENERGY, "EAST", "Energy withdrawn", S, 0)
TIC_LABEL(EASF01, ENERGY, "EASF01", "Energy withdrawn supplier index 1", S, 0)
TIC_LABEL(EASF02, ENERGY, "EASF02", "Energy withdrawn supplier index 2", S, 0)
TIC_LABEL(EASF03, ENERGY, "EASF03", "Energy withdrawn supplier index 3", S, 0)
TIC_LABEL(EASF04, ENERGY, "EASF04", "Energy withdrawn supplier index 4", S, 0)
TIC_LABEL(EASF05, ENERGY, "EASF05", "Energy withdrawn supplier index 5", S, 0)
TIC_LABEL(EASF06, ENERGY, "EASF06", "Energy withdrawn supplier index 6", S, 0)
TIC_LABEL(EASF07, ENERGY, "EASF07", "Energy withdrawn supplier index 7", S, 0)
TIC_LABEL(EASF08, ENERGY, "EASF08", "Energy withdrawn supplier index 8", S, 0)
TIC_LABEL(EASF09, ENERGY, "EASF09", "Energy withdrawn supplier index 9", S, 0)
TIC_LABEL(EASF10, ENERGY, "EASF10", "Energy withdrawn supplier index 10", S, 0)
TIC_LABEL(EASD01, ENERGY, "EASD01", "Energy withdrawn distributor index 1", S, 0)
TIC_LABEL(EASD02, ENERGY, "EASD02", "Energy withdrawn distributor index 2", S, 0)
TIC_LABEL(EASD03, ENERGY, "EASD03", "Energy withdrawn distributor index 3", S, 0)
TIC_LABEL(EASD04, ENERGY, "EASD04", "Energy withdrawn distributor index 4", S, 0)
TIC_LABEL(EAIT, ENERGY, "EAIT", "Energy injected", S, PROD)
TIC_LABEL(ERQ1, NUM, "ERQ1", "Reactive energy Q1", "VArh", "reactive_energy", "total_increasing",
          "varh", S, 9, PROD)
TIC_LABEL(ERQ2, NUM, "ERQ2", "Reactive energy Q2", "VArh", "reactive_energy", "total_increasing",
          "varh", S, 9, PROD)
TIC_LABEL(ERQ3, NUM, "ERQ3", "Reactive energy Q3", "VArh", "reactive_energy", "total_increasing",
          "varh", S, 9, PROD)
TIC_LABEL(ERQ4, NUM, "ERQ4", "Reactive energy Q4", "VArh", "reactive_energy", "total_increasing",
          "varh", S, 9, PROD)
TIC_LABEL(IRMS1, NUM, "IRMS1", "Current phase 1", "A", "current", "measurement", "A", S, 3, 0)
TIC_LABEL(IRMS2, NUM, "IRMS2", "Current phase 2", "A", "current", "measurement", "A", S, 3, TRI)
TIC_LABEL(IRMS3, NUM, "IRMS3", "Current phase 3", "A", "current", "measurement", "A", S, 3, TRI)
TIC_LABEL(URMS1, NUM, "URMS1", "Voltage phase 1", "V", "voltage", "measurement", "V", S, 3, 0)
TIC_LABEL(URMS2, NUM, "URMS2", "Voltage phase 2", "V", "voltage", "measurement", "V", S, 3, TRI)
TIC_LABEL(URMS3, NUM, "URMS3", "Voltage phase 3", "V", "voltage", "measurement", "V", S, 3, TRI)
TIC_LABEL(PREF, ROW, "PREF", "Reference power", "kVA", "apparent_power", NULL, "VA", 1000, 0, 0, S,
          TIC_FMT_DIGITS, 2, DIAG)
TIC_LABEL(PCOUP, ROW, "PCOUP", "Cut-off power", "kVA", "apparent_power", NULL, "VA", 1000, 0, 0, S,
          TIC_FMT_DIGITS, 2, DIAG)
TIC_LABEL(SINSTS, NUM, "SINSTS", "Apparent power", "VA", "apparent_power", "measurement", "VA", S,
          5, 0)
TIC_LABEL(SINSTS1, NUM, "SINSTS1", "Apparent power phase 1", "VA", "apparent_power", "measurement",
          "VA", S, 5, TRI)
TIC_LABEL(SINSTS2, NUM, "SINSTS2", "Apparent power phase 2", "VA", "apparent_power", "measurement",
          "VA", S, 5, TRI)
TIC_LABEL(SINSTS3, NUM, "SINSTS3", "Apparent power phase 3", "VA", "apparent_power", "measurement",
          "VA", S, 5, TRI)
TIC_LABEL(SMAXSN, NUM, "SMAXSN", "Max power today", "VA", "apparent_power", NULL, "VA", S, 5, HORO)
TIC_LABEL(SMAXSN1, NUM, "SMAXSN1", "Max power today phase 1", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXSN2, NUM, "SMAXSN2", "Max power today phase 2", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXSN3, NUM, "SMAXSN3", "Max power today phase 3", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXSN_1, NUM, "SMAXSN-1", "Max power yesterday", "VA", "apparent_power", NULL, "VA", S,
          5, HORO)
TIC_LABEL(SMAXSN1_1, NUM, "SMAXSN1-1", "Max power yesterday phase 1", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
TIC_LABEL(SMAXSN2_1, NUM, "SMAXSN2-1", "Max power yesterday phase 2", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
TIC_LABEL(SMAXSN3_1, NUM, "SMAXSN3-1", "Max power yesterday phase 3", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
TIC_LABEL(SINSTI, NUM, "SINSTI", "Apparent power injected", "VA", "apparent_power", "measurement",
          "VA", S, 5, PROD)
TIC_LABEL(SMAXIN, NUM, "SMAXIN", "Max power injected today", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | PROD)
TIC_LABEL(SMAXIN_1, NUM, "SMAXIN-1", "Max power injected yesterday", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | PROD)
TIC_LABEL(CCASN, NUM, "CCASN", "Load curve point", "W", "power", "measurement", "W", S, 5, HORO)
TIC_LABEL(CCASN_1, NUM, "CCASN-1", "Previous load curve point", "W", "power", "measurement", "W", S,
          5, HORO)
TIC_LABEL(CCAIN, NUM, "CCAIN", "Injection curve point", "W", "power", "measurement", "W", S, 5,
          HORO | PROD)
TIC_LABEL(CCAIN_1, NUM, "CCAIN-1", "Previous injection curve point", "W", "power", "measurement",
          "W", S, 5, HORO | PROD)
TIC_LABEL(UMOY1, NUM, "UMOY1", "Mean voltage phase 1", "V", "voltage", "measurement", "V", S, 3,
          HORO)
TIC_LABEL(UMOY2, NUM, "UMOY2", "Mean voltage phase 2", "V", "voltage", "measurement", "V", S, 3,
          HORO | TRI)
TIC_LABEL(UMOY3, NUM, "UMOY3", "Mean voltage phase 3", "V", "voltage", "measurement", "V", S, 3,
          HORO | TRI)
TIC_LABEL(STGE, FMT, "STGE", "Status register", S, TIC_FMT_STGE, 8, 0)
TIC_LABEL(DPM1, NUM, "DPM1", "Mobile peak 1 start", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(FPM1, NUM, "FPM1", "Mobile peak 1 end", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(DPM2, NUM, "DPM2", "Mobile peak 2 start", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(FPM2, NUM, "FPM2", "Mobile peak 2 end", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(DPM3, NUM, "DPM3", "Mobile peak 3 start", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(FPM3, NUM, "FPM3", "Mobile peak 3 end", NULL, NULL, NULL, NULL, S, 2, HORO)
TIC_LABEL(MSG1, FMT, "MSG1", "Message", S, TIC_FMT_TEXT, 32, 0)
TIC_LABEL(MSG2, FMT, "MSG2", "Short message", S, TIC_FMT_TEXT, 16, 0)
TIC_LABEL(PRM, FMT, "PRM", "Delivery point", S, TIC_FMT_ID, 14, DIAG)
TIC_LABEL(RELAIS, ROW, "RELAIS", "Relays", NULL, NULL, NULL, NULL, 1, 255, 0, S, TIC_FMT_RELAIS, 3,
          0)
TIC_LABEL(NTARF, ROW, "NTARF", "Supplier tariff index", NULL, NULL, NULL, NULL, 1, 10, 1, S,
          TIC_FMT_DIGITS, 2, 0)
TIC_LABEL(NJOURF, NUM, "NJOURF", "Calendar day", NULL, NULL, NULL, NULL, S, 2, DIAG)
TIC_LABEL(NJOURF_1, NUM, "NJOURF+1", "Next calendar day", NULL, NULL, NULL, NULL, S, 2, DIAG)
TIC_LABEL(PJOURF_1, FMT, "PJOURF+1", "Next day profile", S, TIC_FMT_PROFILE, 98, DIAG)
TIC_LABEL(PPOINTE, FMT, "PPOINTE", "Next peak day profile", S, TIC_FMT_PROFILE, 98, DIAG)

/* VTIC 01 "pilot" meters (hekmon/linkytic #42) name some standard registers differently. */
TIC_LABEL(SINST1, NUM, "SINST1", "Apparent power phase 1", "VA", "apparent_power", "measurement",
          "VA", S, 5, 0)
TIC_LABEL(SINST2, NUM, "SINST2", "Apparent power phase 2", "VA", "apparent_power", "measurement",
          "VA", S, 5, TRI)
TIC_LABEL(SINST3, NUM, "SINST3", "Apparent power phase 3", "VA", "apparent_power", "measurement",
          "VA", S, 5, TRI)
TIC_LABEL(SMAXN, NUM, "SMAXN", "Max power today", "VA", "apparent_power", NULL, "VA", S, 5, HORO)
TIC_LABEL(SMAXN1, NUM, "SMAXN1", "Max power today phase 1", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXN2, NUM, "SMAXN2", "Max power today phase 2", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXN3, NUM, "SMAXN3", "Max power today phase 3", "VA", "apparent_power", NULL, "VA", S,
          5, HORO | TRI)
TIC_LABEL(SMAXN_1, NUM, "SMAXN-1", "Max power yesterday", "VA", "apparent_power", NULL, "VA", S, 5,
          HORO)
TIC_LABEL(SMAXN1_1, NUM, "SMAXN1-1", "Max power yesterday phase 1", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
TIC_LABEL(SMAXN2_1, NUM, "SMAXN2-1", "Max power yesterday phase 2", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
TIC_LABEL(SMAXN3_1, NUM, "SMAXN3-1", "Max power yesterday phase 3", "VA", "apparent_power", NULL,
          "VA", S, 5, HORO | TRI)
