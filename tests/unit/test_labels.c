/* SPDX-License-Identifier: MIT */
/* Unit tests of the label table: every row accepts a valid value of its format and rejects damaged
 * ones, every label is found by name in its spec mode, and the Home Assistant hints are coherent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "helpers.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Room for any value a row can describe: widths are 8 bits. */
#define VALUE_BUF 300

static const char profile_example[] = "00008002 0210C001 NONUTILE NONUTILE NONUTILE NONUTILE "
                                      "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE";

/* ---- Values per format -------------------------------------------------------------------- */

/* Extra values per format, beyond the generated ones: NULL-terminated. */
struct format_values {
	enum tic_format format;
	const char *valid[12];
	const char *invalid[20];
};

static const struct format_values format_values[] = {
    {TIC_FMT_DIGITS, {NULL}, {"", " ", "-1", "+1"}},
    {TIC_FMT_ID, {NULL}, {"", " ", "-1", "+1"}},
    {TIC_FMT_TEXT,
     {"base", " HC et Week-End ", "   HC  BLANC    ", "~", "a", "PAS DE MESSAGE"},
     {"", "tab\there", "nl\n", "del\x7f", "bell\x07", "caf\xc3\xa9", "\x80",
      /* a space whose bit 6 flipped: no meter sends a backquote */
      "`", "HC  `BLANC", "PAS DE MESSAGE `"}},
    {TIC_FMT_EMPTY, {NULL}, {"0", " ", "\t", "00"}},
    {TIC_FMT_OPTARIF,
     {"BASE", "HC..", "EJP.", "BBR(", "BBRS", "BBR)"},
     {"base", "hc..", "bbr(", "HC.", "HC...", "EJP", "BBR", "BBR(S", "BBR\x01", "BBR\x7f", "TEMPO",
      "HC. ", "HP..", "TH..", "BBR`"}},
    {TIC_FMT_PTEC,
     {"TH..", "HC..", "HP..", "HN..", "PM..", "HCJB", "HCJW", "HCJR", "HPJB", "HPJW", "HPJR"},
     {"hp..", "hpjb", "HP.", "HP...", "HPJX", "HP. ", "HCJb", "XX..", "BASE", "HP,.", "H P."}},
    {TIC_FMT_DEMAIN,
     {"----", "BLEU", "BLAN", "ROUG"},
     {"bleu", "Bleu", "BLE", "BLEUE", "ROUGE", "BLANC", "---", "-----", "BLAN ", "----\x01",
      "VERT"}},
    {TIC_FMT_LETTER, {"A", "C", "D", "E", "Y", "Z"}, {"a", "y", "AB", "1", " ", "@", "[", "\x01"}},
    {TIC_FMT_ALNUM,
     {"000000", "A1B2C3", "ZZZZZZ", "999999"},
     {"00000a", "0000 0", "00000.", "00000-", "a00000"}},
    {TIC_FMT_PPOT, {"00", "07", "0F", "0A"}, {"0a", "0f", "10", "0G", "F0", " 0", "0 ", "0-"}},
    {TIC_FMT_STGE,
     {"003A0000", "463A0800", "003AC701", "FFFFFFFF", "00000000"},
     {"003a0000", "003A000G", " 03A0000", "0x3A0000", "003A000 ", "-03A0000", "ffffffff"}},
    {TIC_FMT_PROFILE,
     {profile_example, "NONUTILE", "2359FFFF", "00004001 06004002 22004001",
      "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
      "NONUTILE NONUTILE"},
     {"2400C001", "0060C001", "9900C001", "0000c001", "0000C00G", "nonutile", "NONUTIL",
      "NONUTILE ", " NONUTILE", "00008002  0210C001", "00008002\t0210C001", "00008002_0210C001",
      "0000+001", " 1000001", "00 0C001",
      /* twelve blocks: one more than a day holds */
      "NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
      "NONUTILE NONUTILE NONUTILE"}},
    {TIC_FMT_RELAIS, {"000", "001", "140", "255"}, {"256", "999", "-01", "+01", "1 0"}},
};

static const struct format_values *
values_of(enum tic_format format)
{
	for (size_t i = 0; i < N_ELEM(format_values); i++)
		if (format_values[i].format == format)
			return &format_values[i];
	fail_msg("no values for format %d", format);
	return NULL;
}

/* A valid value of the row's format, at its full width: the base of the generated mutations. */
static void
valid_value(const struct tic_label *def, char *v)
{
	switch ((enum tic_format) def->format) {
	case TIC_FMT_DIGITS:
	case TIC_FMT_RELAIS:
	case TIC_FMT_ID:
		if (def->max)
			snprintf(v, VALUE_BUF, "%0*u", def->width, (unsigned) def->max);
		else
			for (unsigned i = 0; i <= def->width; i++)
				v[i] = i < def->width ? (char) ('0' + (i + 1) % 10) : '\0';
		return;
	case TIC_FMT_TEXT:
		for (unsigned i = 0; i <= def->width; i++)
			v[i] = i < def->width ? " Aa~!09"[i % 7] : '\0';
		return;
	case TIC_FMT_EMPTY:
		v[0] = '\0';
		return;
	case TIC_FMT_OPTARIF:
		strcpy(v, "BBR(");
		return;
	case TIC_FMT_PTEC:
		strcpy(v, "HPJB");
		return;
	case TIC_FMT_DEMAIN:
		strcpy(v, "BLEU");
		return;
	case TIC_FMT_LETTER:
		strcpy(v, "A");
		return;
	case TIC_FMT_ALNUM:
		for (unsigned i = 0; i <= def->width; i++)
			v[i] = i < def->width ? "A1B2C3D4"[i % 8] : '\0';
		return;
	case TIC_FMT_PPOT:
		strcpy(v, "0A");
		return;
	case TIC_FMT_STGE:
		strcpy(v, "003A0000");
		return;
	case TIC_FMT_PROFILE:
		strcpy(v, profile_example);
		return;
	}
	fail_msg("format %d of %s", def->format, def->name);
}

static void
assert_check(const struct tic_label *def, const char *v, size_t len, bool ok)
{
	int r = tic_label_check(def, v, len);

	if (r != (ok ? 0 : TIC_ERR_FORMAT))
		fail_msg("%s \"%.*s\" (%zu bytes): got %d, want %s", def->name, (int) len, v, len,
		         r, ok ? "valid" : "invalid");
}

static void
assert_valid(const struct tic_label *def, const char *v, bool ok)
{
	assert_check(def, v, strlen(v), ok);
}

/* v with position i replaced by c, checked. */
static void
assert_replaced(const struct tic_label *def, const char *v, size_t i, char c, bool ok)
{
	char m[VALUE_BUF];

	strcpy(m, v);
	m[i] = c;
	assert_check(def, m, strlen(v), ok);
}

/* Widths: one character short, one too many, whatever the character. */
static void
check_widths(const struct tic_label *def, const char *v)
{
	size_t len = strlen(v);
	char m[VALUE_BUF];

	if (def->format == TIC_FMT_TEXT) {
		/* Text is "up to width": only overflowing it is wrong. */
		for (const char *pad = " a"; *pad; pad++) {
			memcpy(m, v, len);
			m[len] = *pad;
			assert_check(def, m, len + 1, false);
		}
		return;
	}
	if (len > 0)
		assert_check(def, v, len - 1, false);
	for (const char *extra = "0A "; *extra; extra++) {
		memcpy(m, v, len);
		m[len] = *extra;
		assert_check(def, m, len + 1, false);
		memcpy(m + 1, v, len);
		m[0] = *extra;
		assert_check(def, m, len + 1, false);
	}
}

/* Digits: any other character anywhere, bit-6 flips ('0' -> 'p') included, is caught. */
static void
check_digits(const struct tic_label *def, const char *v)
{
	for (size_t i = 0; v[i]; i++) {
		for (const char *c = "A /:p\x7f"; *c; c++)
			assert_replaced(def, v, i, *c, false);
		assert_replaced(def, v, i, (char) (v[i] ^ 0x40), false);
	}
}

/* NTARF 01-10, RELAIS 000-255: the bounds and one step past each. */
static void
check_range(const struct tic_label *def)
{
	char v[VALUE_BUF];

	snprintf(v, sizeof(v), "%0*u", def->width, (unsigned) def->min);
	assert_valid(def, v, true);
	snprintf(v, sizeof(v), "%0*u", def->width, (unsigned) def->max);
	assert_valid(def, v, true);
	if (def->min > 0) {
		snprintf(v, sizeof(v), "%0*u", def->width, def->min - 1u);
		assert_valid(def, v, false);
	}
	snprintf(v, sizeof(v), "%0*u", def->width, def->max + 1u);
	if (strlen(v) == def->width)
		assert_valid(def, v, false);
}

static void
test_every_row_checks_its_format(void **state)
{
	unsigned formats_seen = 0;
	size_t rows = 0;

	(void) state;
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		const struct format_values *fv = values_of((enum tic_format) def->format);
		char v[VALUE_BUF];

		valid_value(def, v);
		assert_valid(def, v, true);
		check_widths(def, v);
		if (def->format == TIC_FMT_DIGITS || def->format == TIC_FMT_ID ||
		    def->format == TIC_FMT_RELAIS)
			check_digits(def, v);
		if (def->max)
			check_range(def);
		/* Bit 6 flipped on a letter or digit gives a control character or lower case:
		 * invisible to the checksum, so the format must see it. Text can tell only for a
		 * space, which becomes a backquote (its valid value starts with one). */
		if (def->format != TIC_FMT_EMPTY)
			assert_replaced(def, v, 0, (char) (v[0] ^ 0x40), false);
		for (size_t j = 0; fv->valid[j]; j++)
			assert_valid(def, fv->valid[j], true);
		for (size_t j = 0; fv->invalid[j]; j++)
			assert_valid(def, fv->invalid[j], false);
		formats_seen |= 1u << def->format;
		rows++;
	}
	assert_int_equal(rows, tic_labels_count);
	/* Every format has a row, so none of the cases above went unexercised. */
	assert_int_equal(formats_seen, (1u << N_ELEM(format_values)) - 1);
}

/* Range checks hold for the two bounded labels of the spec. */
static void
test_bounded_labels(void **state)
{
	const struct tic_label *ntarf = tic_label_find("NTARF", 5);
	const struct tic_label *relais = tic_label_find("RELAIS", 6);

	(void) state;
	assert_non_null(ntarf);
	assert_non_null(relais);
	assert_valid(ntarf, "01", true);
	assert_valid(ntarf, "10", true);
	assert_valid(ntarf, "00", false);
	assert_valid(ntarf, "11", false);
	assert_valid(ntarf, "99", false);
	assert_valid(relais, "000", true);
	assert_valid(relais, "255", true);
	assert_valid(relais, "256", false);
	assert_valid(relais, "300", false);
}

/* A value is checked over len bytes, not up to a NUL: the parser passes slices. */
static void
test_check_uses_len(void **state)
{
	const struct tic_label *east = tic_label_find("EAST", 4);
	const struct tic_label *date = tic_label_find("DATE", 4);

	(void) state;
	assert_check(east, "003519702XYZ", 9, true);
	assert_check(east, "003519702", 8, false);
	assert_check(date, "junk", 0, true);
}

/* ---- Lookup and modes --------------------------------------------------------------------- */

/* Every label of the tables of docs/tic.md §5 and §7, and the VTIC 01 names the table also
 * knows. */
static const char *const spec_historique[] = {
    "ADCO",    "OPTARIF", "ISOUSC",  "BASE",    "HCHC",    "HCHP",     "EJPHN", "EJPHPM", "BBRHCJB",
    "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR", "PEJP",     "PTEC",  "DEMAIN", "IINST",
    "IINST1",  "IINST2",  "IINST3",  "ADPS",    "ADIR1",   "ADIR2",    "ADIR3", "IMAX",   "IMAX1",
    "IMAX2",   "IMAX3",   "PMAX",    "PAPP",    "HHPHC",   "MOTDETAT", "PPOT",
};

static const char *const spec_standard[] = {
    "ADSC",
    "VTIC",
    "DATE",
    "NGTF",
    "LTARF",
    "EAST",
    "EASF01",
    "EASF02",
    "EASF03",
    "EASF04",
    "EASF05",
    "EASF06",
    "EASF07",
    "EASF08",
    "EASF09",
    "EASF10",
    "EASD01",
    "EASD02",
    "EASD03",
    "EASD04",
    "EAIT",
    "ERQ1",
    "ERQ2",
    "ERQ3",
    "ERQ4",
    "IRMS1",
    "IRMS2",
    "IRMS3",
    "URMS1",
    "URMS2",
    "URMS3",
    "PREF",
    "PCOUP",
    "SINSTS",
    "SINSTS1",
    "SINSTS2",
    "SINSTS3",
    "SMAXSN",
    "SMAXSN1",
    "SMAXSN2",
    "SMAXSN3",
    "SMAXSN-1",
    "SMAXSN1-1",
    "SMAXSN2-1",
    "SMAXSN3-1",
    "SINSTI",
    "SMAXIN",
    "SMAXIN-1",
    "CCASN",
    "CCASN-1",
    "CCAIN",
    "CCAIN-1",
    "UMOY1",
    "UMOY2",
    "UMOY3",
    "STGE",
    "DPM1",
    "FPM1",
    "DPM2",
    "FPM2",
    "DPM3",
    "FPM3",
    "MSG1",
    "MSG2",
    "PRM",
    "RELAIS",
    "NTARF",
    "NJOURF",
    "NJOURF+1",
    "PJOURF+1",
    "PPOINTE",
    /* VTIC 01 pilot meters */
    "SINST1",
    "SINST2",
    "SINST3",
    "SMAXN",
    "SMAXN1",
    "SMAXN2",
    "SMAXN3",
    "SMAXN-1",
    "SMAXN1-1",
    "SMAXN2-1",
    "SMAXN3-1",
};

/* The labels with a horodate (docs/tic.md §4), and the pilot meters' names for the same
 * registers. */
static const char *const spec_horodated[] = {
    "DATE",      "SMAXSN", "SMAXSN1",  "SMAXSN2", "SMAXSN3", "SMAXSN-1", "SMAXSN1-1", "SMAXSN2-1",
    "SMAXSN3-1", "SMAXIN", "SMAXIN-1", "CCASN",   "CCASN-1", "CCAIN",    "CCAIN-1",   "UMOY1",
    "UMOY2",     "UMOY3",  "DPM1",     "DPM2",    "DPM3",    "FPM1",     "FPM2",      "FPM3",
    "SMAXN",     "SMAXN1", "SMAXN2",   "SMAXN3",  "SMAXN-1", "SMAXN1-1", "SMAXN2-1",  "SMAXN3-1",
};

static bool
listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static const struct tic_label *
find(const char *name)
{
	return tic_label_find(name, strlen(name));
}

static void
assert_spec_mode(const char *const *list, size_t n, enum tic_mode mode)
{
	for (size_t i = 0; i < n; i++) {
		const struct tic_label *def = find(list[i]);

		if (!def)
			fail_msg("%s not in the table", list[i]);
		assert_int_equal(def->mode, mode);
	}
}

static void
test_spec_labels_in_their_mode(void **state)
{
	(void) state;
	assert_spec_mode(spec_historique, N_ELEM(spec_historique), TIC_MODE_HISTORIQUE);
	assert_spec_mode(spec_standard, N_ELEM(spec_standard), TIC_MODE_STANDARD);
	/* ... and nothing else: the table is exactly the spec. */
	assert_int_equal(tic_labels_count, N_ELEM(spec_historique) + N_ELEM(spec_standard));
	assert_true(tic_labels_count <= TIC_LABELS_MAX);
}

/* Row i's identity is i + 1, the same both ways; its spelling is the name's, with '-' and '+' as
 * '_' (a row and its identity come from one list, but their spellings are typed by hand). */
static void
test_identities(void **state)
{
	static const struct {
		enum tic_label_id id;
		const char *spelt, *name;
	} rows[] = {
#define TIC_LABEL(id, kind, name, ...) {TIC_L_##id, #id, name},
#include "linkyd/tic_labels.h"
#undef TIC_LABEL
	};

	(void) state;
	assert_int_equal(N_ELEM(rows), tic_labels_count);
	assert_int_equal(TIC_L_COUNT, tic_labels_count + 1);
	assert_int_equal(tic_label_id(NULL), TIC_L_UNKNOWN);
	assert_null(tic_label_of(TIC_L_UNKNOWN));
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		char spelt[TIC_LABEL_MAX + 1];
		size_t n = strlen(def->name);

		assert_int_equal(rows[i].id, i + 1);
		assert_int_equal(tic_label_id(def), rows[i].id);
		assert_ptr_equal(tic_label_of(rows[i].id), def);
		assert_string_equal(rows[i].name, def->name);
		assert_int_equal(def->name_len, n);
		for (size_t j = 0; j <= n; j++)
			spelt[j] = def->name[j] == '-' || def->name[j] == '+' ? '_' : def->name[j];
		assert_string_equal(rows[i].spelt, spelt);
	}
}

/* The typed numbers (num) of tic.h: every number format fits the conversion, 16 digits at most
 * (tic_digits_value() in src/tic/tic-internal.h), and every PTEC and DEMAIN value has its code. */
static void
test_typed_formats(void **state)
{
	static const char *const ptec[] = {"TH..", "HC..", "HP..", "HN..", "PM..", "HCJB",
	                                   "HCJW", "HCJR", "HPJB", "HPJW", "HPJR"};
	static const char *const demain[] = {"----", "BLEU", "BLAN", "ROUG"};
	static const struct {
		const char *label;
		const char *const *values;
		size_t n;
	} codes[] = {{"PTEC", ptec, N_ELEM(ptec)}, {"DEMAIN", demain, N_ELEM(demain)}};

	(void) state;
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];

		if (def->format == TIC_FMT_DIGITS || def->format == TIC_FMT_RELAIS)
			assert_true(def->width >= 1 && def->width <= 16);
	}
	assert_int_equal(TIC_PTEC_HPJR + 1, N_ELEM(ptec));
	assert_int_equal(TIC_TEMPO_ROUGE + 1, N_ELEM(demain));
	for (size_t k = 0; k < N_ELEM(codes); k++)
		for (size_t i = 0; i < codes[k].n; i++) {
			struct tic_group g = {
			    .label = codes[k].label,
			    .value = codes[k].values[i],
			    .def = tic_label_find(codes[k].label, strlen(codes[k].label)),
			    .label_len = (uint8_t) strlen(codes[k].label),
			    .value_len = 4};

			assert_int_equal(tic_group_type(&g), 0);
			assert_int_equal(g.code, i);
		}
}

/* Each row is found by its own name, also when the name is a slice of a longer buffer. */
static void
test_every_row_findable(void **state)
{
	(void) state;
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		size_t len = strlen(def->name);
		char buf[TIC_LABEL_MAX + 8];

		assert_true(len >= 1 && len <= TIC_LABEL_MAX);
		for (size_t j = 0; j < len; j++)
			assert_non_null(
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-", def->name[j]));
		assert_ptr_equal(tic_label_find(def->name, len), def);
		memcpy(buf, def->name, len);
		memcpy(buf + len, "1-X\t", 4);
		assert_ptr_equal(tic_label_find(buf, len), def);
		assert_true(def->mode == TIC_MODE_HISTORIQUE || def->mode == TIC_MODE_STANDARD);
		assert_true(def->width <= TIC_VALUE_MAX);
		assert_non_null(def->description);
		assert_true(def->description[0] != '\0');
		if (def->flags & TIC_LF_HORODATE)
			assert_int_equal(def->mode, TIC_MODE_STANDARD);
		assert_int_equal(!!(def->flags & TIC_LF_HORODATE),
		                 listed(spec_horodated, N_ELEM(spec_horodated), def->name));
	}
}

/*
 * No value format accepts an HT, wherever it sits: the parser relies on it to find a horodate by
 * its HT at offset 13 alone (an HT anywhere else must make the group a format error). Every row
 * is tried with a valid value of each format, one byte replaced by HT or an HT inserted.
 */
static void
test_no_format_takes_ht(void **state)
{
	static const char *const bases[] = {
	    "",
	    "A",
	    "0A",
	    "01",
	    "001",
	    "00001",
	    "000000000",
	    "012345678910",
	    "00000000000000",
	    "BASE",
	    "HC..",
	    "BBRS",
	    "TH..",
	    "HCJB",
	    "BLEU",
	    "----",
	    "003A0000",
	    "000000",
	    "base",
	    "PAS DE          MESSAGE         ",
	    "0000C001 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
	    "NONUTILE NONUTILE",
	};

	(void) state;
	for (size_t i = 0; i < tic_labels_count; i++)
		for (size_t b = 0; b < N_ELEM(bases); b++) {
			size_t len = strlen(bases[b]);
			char v[TIC_VALUE_MAX + 2];

			for (size_t at = 0; at <= len; at++) {
				memcpy(v, bases[b], at);
				v[at] = '\t';
				memcpy(v + at + 1, bases[b] + at, len - at);
				assert_check(&tic_labels[i], v, len + 1, false);
				if (at < len) {
					memcpy(v, bases[b], len);
					v[at] = '\t';
					assert_check(&tic_labels[i], v, len, false);
				}
			}
		}
}

static void
test_unknown_names(void **state)
{
	static const char *const unknown[] = {
	    "EAS",      "EASF0",      "EASF011", "EASF1",     "EASF00", "east",  "East",
	    "SMAXSN1-", "SMAXSN1-11", "SMAXSN4", "SMAXSN-2",  "ADC",    "ADCOX", "HCHC ",
	    " HCHC",    "PJOURF+",    "PJOURF",  "NJOURF-1",  "PTEC\t", "A",     "BBRHCJ",
	    "IINST4",   "ADIR4",      "EJPHP",   "MOTDETAT0",
	};

	(void) state;
	for (size_t i = 0; i < N_ELEM(unknown); i++)
		if (find(unknown[i]))
			fail_msg("\"%s\" found", unknown[i]);
	assert_null(tic_label_find("ADCO", 0));
	assert_null(tic_label_find("ADCO\0", 5));
}

/* The 9-character labels the spec's "8 characters" text forgets. */
static void
test_nine_character_labels(void **state)
{
	(void) state;
	for (const char *const *n =
	         (const char *const[]){"SMAXSN1-1", "SMAXSN2-1", "SMAXSN3-1", NULL};
	     *n; n++) {
		const struct tic_label *def = find(*n);

		assert_non_null(def);
		assert_string_equal(def->name, *n);
		assert_int_equal(strlen(def->name), 9);
		assert_int_equal(def->format, TIC_FMT_DIGITS);
		assert_int_equal(def->width, 5);
		assert_int_equal(def->flags & (TIC_LF_HORODATE | TIC_LF_TRI),
		                 TIC_LF_HORODATE | TIC_LF_TRI);
		assert_valid(def, "03129", true);
	}
}

/* ---- Home Assistant hints ----------------------------------------------------------------- */

static bool
eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void
assert_hints(const char *name, const char *unit, const char *cls, const char *st, const char *hu,
             unsigned scale)
{
	const struct tic_label *def = find(name);

	assert_non_null(def);
	assert_true(eq(def->unit, unit));
	assert_true(eq(def->ha_class, cls));
	if (st)
		assert_true(eq(def->ha_state, st));
	else
		assert_null(def->ha_state);
	assert_true(eq(def->ha_unit, hu));
	assert_int_equal(def->ha_scale, scale);
}

static void
test_energy_indexes(void **state)
{
	static const char *const indexes[] = {
	    "BASE",    "HCHC",    "HCHP",    "EJPHN",   "EJPHPM", "BBRHCJB", "BBRHPJB",
	    "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR", "EAST",   "EASF01",  "EASF02",
	    "EASF03",  "EASF04",  "EASF05",  "EASF06",  "EASF07", "EASF08",  "EASF09",
	    "EASF10",  "EASD01",  "EASD02",  "EASD03",  "EASD04", "EAIT",
	};
	size_t energy_rows = 0;

	(void) state;
	for (size_t i = 0; i < N_ELEM(indexes); i++) {
		print_message("%s\n", indexes[i]);
		assert_hints(indexes[i], "Wh", "energy", "total_increasing", "Wh", 1);
		assert_int_equal(find(indexes[i])->format, TIC_FMT_DIGITS);
		assert_int_equal(find(indexes[i])->width, 9);
	}
	for (size_t i = 0; i < tic_labels_count; i++)
		energy_rows += eq(tic_labels[i].ha_class, "energy");
	assert_int_equal(energy_rows, N_ELEM(indexes));
}

static void
test_power_and_reactive_hints(void **state)
{
	(void) state;
	assert_hints("PREF", "kVA", "apparent_power", NULL, "VA", 1000);
	assert_hints("PCOUP", "kVA", "apparent_power", NULL, "VA", 1000);
	for (const char *const *n = (const char *const[]){"ERQ1", "ERQ2", "ERQ3", "ERQ4", NULL}; *n;
	     n++)
		assert_hints(*n, "VArh", "reactive_energy", "total_increasing", "varh", 1);
	assert_hints("PAPP", "VA", "apparent_power", "measurement", "VA", 1);
	assert_hints("SINSTS", "VA", "apparent_power", "measurement", "VA", 1);
	assert_hints("URMS1", "V", "voltage", "measurement", "V", 1);
	assert_hints("IINST", "A", "current", "measurement", "A", 1);
	assert_hints("CCASN", "W", "power", "measurement", "W", 1);
}

/* The unit Home Assistant accepts for each device class this table uses. */
static const char *const class_units[][2] = {
    {"energy", "Wh"}, {"reactive_energy", "varh"}, {"current", "A"},    {"voltage", "V"},
    {"power", "W"},   {"apparent_power", "VA"},    {"duration", "min"},
};

static void
test_hints_sane(void **state)
{
	(void) state;
	for (size_t i = 0; i < tic_labels_count; i++) {
		const struct tic_label *def = &tic_labels[i];
		bool class_known = false;

		print_message("%s\n", def->name);
		assert_true(def->ha_scale >= 1);
		if (!def->ha_class) {
			/* No class, no state or unit for Home Assistant to misread. */
			assert_null(def->ha_state);
			assert_null(def->ha_unit);
			assert_int_equal(def->ha_scale, 1);
			continue;
		}
		/* Only integers can be scaled and graphed. */
		assert_int_equal(def->format, TIC_FMT_DIGITS);
		assert_non_null(def->unit);
		for (size_t j = 0; j < N_ELEM(class_units); j++)
			if (eq(def->ha_class, class_units[j][0])) {
				assert_true(eq(def->ha_unit, class_units[j][1]));
				class_known = true;
			}
		assert_true(class_known);
		/* The scale is what converts the meter's unit into Home Assistant's. */
		assert_int_equal(def->ha_scale == 1, eq(def->unit, def->ha_unit) ||
		                                         strcasecmp(def->unit, def->ha_unit) == 0);
		if (def->ha_state) {
			assert_true(eq(def->ha_state, "measurement") ||
			            eq(def->ha_state, "total_increasing"));
			/* Monotonic counters are energies; momentary values are not. */
			assert_int_equal(eq(def->ha_state, "total_increasing"),
			                 eq(def->ha_class, "energy") ||
			                     eq(def->ha_class, "reactive_energy"));
		}
		/* Alarms and day maxima are not samples of a continuous measurement. */
		if (def->flags & (TIC_LF_ALARM | TIC_LF_HORODATE))
			assert_false(eq(def->ha_state, "total_increasing"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_row_checks_its_format),
	    cmocka_unit_test(test_bounded_labels),
	    cmocka_unit_test(test_check_uses_len),
	    cmocka_unit_test(test_spec_labels_in_their_mode),
	    cmocka_unit_test(test_every_row_findable),
	    cmocka_unit_test(test_identities),
	    cmocka_unit_test(test_typed_formats),
	    cmocka_unit_test(test_unknown_names),
	    cmocka_unit_test(test_no_format_takes_ht),
	    cmocka_unit_test(test_nine_character_labels),
	    cmocka_unit_test(test_energy_indexes),
	    cmocka_unit_test(test_power_and_reactive_hints),
	    cmocka_unit_test(test_hints_sane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
