/* SPDX-License-Identifier: MIT */
/*
 * The energy registers of both modes, and the names of the tariff periods they count.
 *
 * Historique labels name their period themselves (HCHC counts the off-peak hours, BBRHPJR the
 * peak hours of red Tempo days). Standard mode counts into EASF01..EASF10, whose meaning depends
 * on the supplier's contract: the meter only says the current index (NTARF, or STGE bits 10-13)
 * and the current period's name (LTARF). So the name of an index is, in this order of trust:
 * the configuration's, the LTARF seen while NTARF was that index (learned, kept in the state
 * file), the well-known contracts' layout for the NGTF in use, and last the label itself.
 */
#include <string.h>
#include <strings.h>

#include "internal.h"

/*
 * The registers, in the state file's order, as one list: the table below and reg_of_label()'s
 * switch are made of it. Each is its label, kind, number (EASF/EASD) and, for a historique
 * index, the tariff period it counts (PTEC's meaning).
 */
#define REGISTERS(X)                                                                               \
	X(BASE, REG_TARIFF, 0, "BASE")                                                             \
	X(HCHC, REG_TARIFF, 0, "HEURES CREUSES")                                                   \
	X(HCHP, REG_TARIFF, 0, "HEURES PLEINES")                                                   \
	X(EJPHN, REG_TARIFF, 0, "HEURES NORMALES")                                                 \
	X(EJPHPM, REG_TARIFF, 0, "POINTE MOBILE")                                                  \
	X(BBRHCJB, REG_TARIFF, 0, "HC BLEU")                                                       \
	X(BBRHPJB, REG_TARIFF, 0, "HP BLEU")                                                       \
	X(BBRHCJW, REG_TARIFF, 0, "HC BLANC")                                                      \
	X(BBRHPJW, REG_TARIFF, 0, "HP BLANC")                                                      \
	X(BBRHCJR, REG_TARIFF, 0, "HC ROUGE")                                                      \
	X(BBRHPJR, REG_TARIFF, 0, "HP ROUGE")                                                      \
	X(EAST, REG_TOTAL, 0, NULL)                                                                \
	X(EASF01, REG_TARIFF, 1, NULL)                                                             \
	X(EASF02, REG_TARIFF, 2, NULL)                                                             \
	X(EASF03, REG_TARIFF, 3, NULL)                                                             \
	X(EASF04, REG_TARIFF, 4, NULL)                                                             \
	X(EASF05, REG_TARIFF, 5, NULL)                                                             \
	X(EASF06, REG_TARIFF, 6, NULL)                                                             \
	X(EASF07, REG_TARIFF, 7, NULL)                                                             \
	X(EASF08, REG_TARIFF, 8, NULL)                                                             \
	X(EASF09, REG_TARIFF, 9, NULL)                                                             \
	X(EASF10, REG_TARIFF, 10, NULL)                                                            \
	X(EASD01, REG_DISTRIBUTOR, 1, NULL)                                                        \
	X(EASD02, REG_DISTRIBUTOR, 2, NULL)                                                        \
	X(EASD03, REG_DISTRIBUTOR, 3, NULL)                                                        \
	X(EASD04, REG_DISTRIBUTOR, 4, NULL)                                                        \
	X(EAIT, REG_INJECTED, 0, NULL)                                                             \
	X(ERQ1, REG_REACTIVE, 0, NULL)                                                             \
	X(ERQ2, REG_REACTIVE, 0, NULL)                                                             \
	X(ERQ3, REG_REACTIVE, 0, NULL)                                                             \
	X(ERQ4, REG_REACTIVE, 0, NULL)

enum {
#define REG_INDEX(label, ...) R_##label,
	REGISTERS(REG_INDEX)
#undef REG_INDEX
};

const struct reg_def reg_defs[] = {
#define REG_ROW(label, kind, number, name) {TIC_L_##label, kind, number, name},
    REGISTERS(REG_ROW)
#undef REG_ROW
};

const size_t reg_count = sizeof(reg_defs) / sizeof(reg_defs[0]);

_Static_assert(sizeof(reg_defs) / sizeof(reg_defs[0]) <= DERIVE_REGISTERS_MAX,
               "DERIVE_REGISTERS_MAX too small");

int
reg_of_label(enum tic_label_id id)
{
	switch (id) {
#define REG_CASE(label, ...)                                                                       \
	case TIC_L_##label:                                                                        \
		return R_##label;
		REGISTERS(REG_CASE)
#undef REG_CASE
	default:
		return -1;
	}
}

int
reg_find(const char *label)
{
	for (size_t r = 0; r < reg_count; r++)
		if (strcmp(reg_label((int) r), label) == 0)
			return (int) r;
	return -1;
}

int
reg_numbered(enum reg_kind kind, unsigned n)
{
	for (size_t r = 0; r < reg_count; r++)
		if (reg_defs[r].kind == kind && reg_defs[r].number == n && n > 0)
			return (int) r;
	return -1;
}

bool
reg_used(const struct derive *d, int r)
{
	return d->regs[r].counted && d->regs[r].last > 0;
}

int
reg_of_ptec(enum tic_ptec ptec)
{
	/* The index that counts each period: TH.. BASE, HC.. HCHC, ... HPJR BBRHPJR. */
	static const uint8_t index[] = {
	    [TIC_PTEC_TH] = TIC_L_BASE,      [TIC_PTEC_HC] = TIC_L_HCHC,
	    [TIC_PTEC_HP] = TIC_L_HCHP,      [TIC_PTEC_HN] = TIC_L_EJPHN,
	    [TIC_PTEC_PM] = TIC_L_EJPHPM,    [TIC_PTEC_HCJB] = TIC_L_BBRHCJB,
	    [TIC_PTEC_HCJW] = TIC_L_BBRHCJW, [TIC_PTEC_HCJR] = TIC_L_BBRHCJR,
	    [TIC_PTEC_HPJB] = TIC_L_BBRHPJB, [TIC_PTEC_HPJW] = TIC_L_BBRHPJW,
	    [TIC_PTEC_HPJR] = TIC_L_BBRHPJR,
	};

	return (size_t) ptec < sizeof(index) ? reg_of_label((enum tic_label_id) index[ptec]) : -1;
}

void
name_normalise(char *dst, const char *src)
{
	size_t n = 0;

	for (; *src && n + 1 < DERIVE_NAME_MAX; src++) {
		/* Control characters (a configured name) become spaces: JSON stays short. */
		char c = (unsigned char) *src < 0x20 || *src == 0x7f ? ' ' : *src;

		if (c == ' ' && (n == 0 || dst[n - 1] == ' '))
			continue;
		dst[n++] = c;
	}
	/* Cut short, a configured UTF-8 name must not end inside a character: drop a lead byte
	 * whose continuation bytes did not all fit. */
	if (*src) {
		size_t lead = n;

		while (lead > 0 && ((unsigned char) dst[lead - 1] & 0xc0) == 0x80)
			lead--;
		if (lead > 0 && (unsigned char) dst[lead - 1] >= 0xc0) {
			unsigned char b = (unsigned char) dst[lead - 1];
			size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;

			if (n - (lead - 1) < need)
				n = lead - 1;
		}
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Supplier index layouts of contracts whose NGTF is known (normalised, any case). */
struct layout {
	const char *ngtf;
	const char *names[DERIVE_SUPPLIER_INDEXES];
};

static const struct layout layouts[] = {
    {"BASE", {"BASE"}},
    {"H PLEINE/CREUSE", {"HEURE CREUSE", "HEURE PLEINE"}},
    {"TEMPO", {"HC BLEU", "HP BLEU", "HC BLANC", "HP BLANC", "HC ROUGE", "HP ROUGE"}},
};

static const char *
default_name(const char *ngtf, unsigned index)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (strcasecmp(ngtf, layouts[i].ngtf) == 0)
			return layouts[i].names[index - 1];
	return NULL;
}

const char *
reg_name(const struct derive *d, int r)
{
	const struct reg_def *def = &reg_defs[r];
	unsigned n = def->number;
	const char *name;

	if (def->kind == REG_DISTRIBUTOR && d->distributor_override[n - 1][0])
		return d->distributor_override[n - 1];
	if (def->kind != REG_TARIFF)
		return reg_label(r);
	if (def->name)
		return def->name;
	if (d->tariff_override[n - 1][0])
		return d->tariff_override[n - 1];
	if (d->learned[n - 1][0])
		return d->learned[n - 1];
	name = default_name(d->ngtf, n);
	return name ? name : reg_label(r);
}

bool
names_learn(struct derive *d, const char *ngtf, const char *ltarf, unsigned index)
{
	char name[DERIVE_NAME_MAX];
	bool changed = false;

	if (ngtf) {
		name_normalise(name, ngtf);
		if (strcmp(name, d->ngtf) != 0) {
			/* Another contract: its indexes mean other things. */
			if (d->ngtf[0])
				memset(d->learned, 0, sizeof(d->learned));
			memcpy(d->ngtf, name, sizeof(name));
			changed = true;
		}
	}
	if (ltarf && index >= 1 && index <= DERIVE_SUPPLIER_INDEXES) {
		name_normalise(name, ltarf);
		if (name[0] && strcmp(name, d->learned[index - 1]) != 0) {
			memcpy(d->learned[index - 1], name, sizeof(name));
			changed = true;
		}
	}
	return changed;
}
