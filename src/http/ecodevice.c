/* SPDX-License-Identifier: MIT */
/*
 * The GCE Eco-Devices API as Domoticz ("Eco Devices" hardware, EcoDevices.cpp) and pyecodevices
 * (Home Assistant's ecodevices integration) read it: /status.xml, then
 * /protect/settings/teleinfo1.xml and teleinfo2.xml, every field of the real device present,
 * in its order, numeric where they parse numbers, ASCII and escaped (docs/ecodevice.md §1-§4).
 *
 * A standard-mode meter has none of the historique labels both consumers know: its values are
 * projected onto them the way Domoticz's own serial driver reads a standard meter
 * (TeleinfoBase.cpp), with the category taken from NGTF or from the meter's optarif setting
 * (docs/ecodevice.md §5):
 *
 *   ADCO            ADSC
 *   OPTARIF         BASE, HC.., EJP. or BBR( from NGTF: TEMPO, EJP, an HC contract with EASF02
 *   BASE            EAST, in every category (the total)
 *   HCHC, HCHP      EASF01, EASF02 (HC)          EJPHN, EJPHPM    EASF01, EASF02 (EJP)
 *   BBRHCJB..HPJR   EASF01..EASF06 (Tempo: HCJB HPJB HCJW HPJW HCJR HPJR)
 *   PTEC            from NTARF by category, else from LTARF's words; never LTARF itself
 *   DEMAIN          STGE bits 26-27 (Tempo), else ----
 *   PAPP, PPAP      SINSTS
 *   ISOUSC          PREF x 5 (mono), round(PREF x 5 / 3) (tri): 6 kVA is 30 A
 *   IINST, IINSTn   IRMS1 (mono: IINST = IINST1, IINST2 = IINST3 = 0), IRMSn (tri: IINST 0)
 *   PPOT            00; PEJP, ADPS, IMAXn 0; HHPHC A; MOTDETAT 000000
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *const eco_names[ECO_FIELDS] = {
    "ADCO",    "OPTARIF", "ISOUSC",  "BASE",    "HCHC",    "HCHP",     "EJPHN", "EJPHPM",
    "BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR",  "PEJP",  "PTEC",
    "DEMAIN",  "IINST",   "IINST1",  "IINST2",  "IINST3",  "ADPS",     "IMAX",  "IMAX1",
    "IMAX2",   "IMAX3",   "PPAP",    "PAPP",    "HHPHC",   "MOTDETAT", "PPOT",
};

/* The fields that are not numbers, and what the real device serves for them with no meter. */
static const struct {
	enum eco_field field;
	const char *empty; /* no meter */
	const char *none;  /* a meter whose frame lacks it */
} texts[] = {
    {ECO_ADCO, "----", "----"},   {ECO_OPTARIF, "----", "BASE"}, {ECO_PTEC, "----", "TH.."},
    {ECO_DEMAIN, "----", "----"}, {ECO_HHPHC, "-", "A"},         {ECO_MOTDETAT, "----", "000000"},
    {ECO_PPOT, "-", "00"},
};

static void
set(struct eco_input *in, enum eco_field f, const char *s)
{
	(void) snprintf(in->v[f], sizeof(in->v[f]), "%s", s);
}

static void
set_number(struct eco_input *in, enum eco_field f, uint64_t n)
{
	(void) snprintf(in->v[f], sizeof(in->v[f]), "%llu", (unsigned long long) n);
}

/* Field f from label of frame, a number; stays "0" without it. */
static void
copy_number(struct eco_input *in, enum eco_field f, const struct tic_frame *frame,
            const char *label)
{
	uint64_t n;

	if (frame_number(frame, label, &n))
		set_number(in, f, n);
}

/* Every field at its value without data: numbers 0, texts as the table says. */
static void
blank(struct eco_input *in, bool empty)
{
	for (int f = 0; f < ECO_FIELDS; f++)
		set(in, (enum eco_field) f, "0");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		set(in, texts[i].field, empty ? texts[i].empty : texts[i].none);
}

/* ---- historique: the meter's own labels ----------------------------------------------------- */

static void
project_historique(const struct tic_frame *frame, struct eco_input *in)
{
	char text[TIC_VALUE_MAX + 1];
	uint64_t n;

	for (int f = 0; f < ECO_FIELDS; f++) {
		bool is_text = false;

		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			is_text |= texts[i].field == (enum eco_field) f;
		if (!is_text)
			copy_number(in, (enum eco_field) f, frame, eco_names[f]);
		else if (frame_text(frame, eco_names[f], text, sizeof(text)) && text[0])
			set(in, (enum eco_field) f, text);
	}
	/* The meter has no PPAP: the device serves the apparent power twice. */
	copy_number(in, ECO_PPAP, frame, "PAPP");
	/* Domoticz takes a meter for three-phase on (IINST == 0 && IINST1 > 0) || IINST2 > 0 ||
	 * IINST3 > 0 (TeleinfoBase.cpp): a mono meter's IINST1 is its IINST, as on the device. */
	if (frame_find(frame, "IINST1"))
		set(in, ECO_IINST, "0");
	else if (frame_number(frame, "IINST", &n))
		set_number(in, ECO_IINST1, n);
}

/* ---- standard: projected -------------------------------------------------------------------- */

/* Whether s holds the word w (letters and digits around it are other words). */
static bool
has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w))
		if ((p == s || !isalnum((unsigned char) p[-1])) && !isalnum((unsigned char) p[n]))
			return true;
	return false;
}

static void
upper(char *s)
{
	for (; *s; s++)
		*s = (char) toupper((unsigned char) *s);
}

/* The category of a contract from its name (NGTF), as Domoticz's list and the words of the
 * suppliers' names have it. */
static enum http_optarif
guess_optarif(const struct tic_frame *frame)
{
	char ngtf[TIC_VALUE_MAX + 1];

	if (!frame_text(frame, "NGTF", ngtf, sizeof(ngtf)))
		return HTTP_OPTARIF_BASE;
	upper(ngtf);
	if (strstr(ngtf, "TEMPO"))
		return HTTP_OPTARIF_TEMPO;
	if (strstr(ngtf, "EJP"))
		return HTTP_OPTARIF_EJP;
	if ((strstr(ngtf, "H PLEINE/CREUSE") || strstr(ngtf, "H SUPER CREUSES") ||
	     strstr(ngtf, "HC SEM ET HC WE") || strstr(ngtf, "CREUSE") || has_word(ngtf, "HC") ||
	     has_word(ngtf, "HP")) &&
	    frame_find(frame, "EASF02"))
		return HTTP_OPTARIF_HC;
	return HTTP_OPTARIF_BASE;
}

/* The current period from LTARF's words, when NTARF says nothing the category knows. */
static const char *
ptec_from_ltarf(const struct tic_frame *frame, enum http_optarif cat)
{
	static const char *const tempo[2][3] = {{"HPJB", "HPJW", "HPJR"}, {"HCJB", "HCJW", "HCJR"}};
	char ltarf[TIC_VALUE_MAX + 1] = "";
	struct tic_stge stge;
	bool hc;
	int colour = -1;

	if (frame_text(frame, "LTARF", ltarf, sizeof(ltarf)))
		upper(ltarf);
	hc = strstr(ltarf, "CREUSE") || has_word(ltarf, "HC");
	switch (cat) {
	case HTTP_OPTARIF_EJP:
		return strstr(ltarf, "POINTE") || has_word(ltarf, "PM") ? "PM.." : "HN..";
	case HTTP_OPTARIF_HC:
		return hc ? "HC.." : "HP..";
	case HTTP_OPTARIF_TEMPO:
		if (strstr(ltarf, "BLEU"))
			colour = 0;
		else if (strstr(ltarf, "BLANC"))
			colour = 1;
		else if (strstr(ltarf, "ROUGE"))
			colour = 2;
		else if (frame_stge(frame, &stge) && stge.tempo_today)
			colour = stge.tempo_today - 1;
		return colour < 0 ? (hc ? "HC.." : "HP..") : tempo[hc][colour];
	default:
		return "TH..";
	}
}

static const char *
ptec_standard(const struct tic_frame *frame, enum http_optarif cat)
{
	static const char *const tempo[] = {"HCJB", "HPJB", "HCJW", "HPJW", "HCJR", "HPJR"};
	uint64_t n = 0;

	(void) frame_number(frame, "NTARF", &n);
	if (cat == HTTP_OPTARIF_BASE)
		return "TH..";
	if (cat == HTTP_OPTARIF_HC && (n == 1 || n == 2))
		return n == 1 ? "HC.." : "HP..";
	if (cat == HTTP_OPTARIF_EJP && (n == 1 || n == 2))
		return n == 1 ? "HN.." : "PM..";
	if (cat == HTTP_OPTARIF_TEMPO && n >= 1 && n <= 6)
		return tempo[n - 1];
	return ptec_from_ltarf(frame, cat);
}

static void
project_standard(const struct tic_frame *frame, enum http_optarif cat, struct eco_input *in)
{
	static const char *const optarif[] = {
	    [HTTP_OPTARIF_BASE] = "BASE",
	    [HTTP_OPTARIF_HC] = "HC..",
	    [HTTP_OPTARIF_EJP] = "EJP.",
	    [HTTP_OPTARIF_TEMPO] = "BBR(",
	};
	static const char *const demain[] = {"----", "BLEU", "BLAN", "ROUG"};
	static const char *const easf[] = {"EASF01", "EASF02", "EASF03",
	                                   "EASF04", "EASF05", "EASF06"};
	char text[TIC_VALUE_MAX + 1];
	struct tic_stge stge;
	bool tri = frame_find(frame, "IRMS2") || frame_find(frame, "IRMS3");
	uint64_t n;

	if (cat == HTTP_OPTARIF_AUTO)
		cat = guess_optarif(frame);
	if (frame_text(frame, "ADSC", text, sizeof(text)))
		set(in, ECO_ADCO, text);
	set(in, ECO_OPTARIF, optarif[cat]);
	copy_number(in, ECO_BASE, frame, "EAST");
	if (cat == HTTP_OPTARIF_HC || cat == HTTP_OPTARIF_EJP) {
		enum eco_field first = cat == HTTP_OPTARIF_HC ? ECO_HCHC : ECO_EJPHN;

		copy_number(in, first, frame, easf[0]);
		copy_number(in, first + 1, frame, easf[1]);
	}
	for (int i = 0; cat == HTTP_OPTARIF_TEMPO && i < 6; i++)
		copy_number(in, ECO_BBRHCJB + i, frame, easf[i]);
	set(in, ECO_PTEC, ptec_standard(frame, cat));
	if (cat == HTTP_OPTARIF_TEMPO && frame_stge(frame, &stge))
		set(in, ECO_DEMAIN, demain[stge.tempo_tomorrow & 3]);
	copy_number(in, ECO_PAPP, frame, "SINSTS");
	copy_number(in, ECO_PPAP, frame, "SINSTS");
	if (frame_number(frame, "PREF", &n))
		set_number(in, ECO_ISOUSC, tri ? (n * 5 + 1) / 3 : n * 5);
	copy_number(in, ECO_IINST1, frame, "IRMS1");
	if (tri) {
		copy_number(in, ECO_IINST2, frame, "IRMS2");
		copy_number(in, ECO_IINST3, frame, "IRMS3");
	} else {
		copy_number(in, ECO_IINST, frame, "IRMS1");
	}
}

void
eco_project(const struct state_meter *m, enum http_optarif optarif, struct eco_input *ret)
{
	if (!m || !m->has_complete) {
		blank(ret, true);
		return;
	}
	blank(ret, false);
	if (m->complete.frame.mode == TIC_MODE_STANDARD)
		project_standard(&m->complete.frame, optarif, ret);
	else
		project_historique(&m->complete.frame, ret);
}

/* ---- which meter is which input ------------------------------------------------------------- */

const struct state_meter *
eco_meter(const struct http_site *site, int n, const struct meter_config **ret_cfg)
{
	const struct linkyd_config *c = site->cfg;
	const char *name[2] = {c->http.teleinfo1, c->http.teleinfo2};

	/* The inputs not set are the meters not named, in the configuration's order. */
	for (size_t i = 0; i < c->n_meters && (!name[0] || !name[1]); i++) {
		const char *m = c->meters[i].name;

		if ((name[0] && strcmp(m, name[0]) == 0) || (name[1] && strcmp(m, name[1]) == 0))
			continue;
		name[name[0] ? 1 : 0] = m;
	}
	*ret_cfg = NULL;
	for (size_t i = 0; name[n - 1] && i < c->n_meters; i++)
		if (strcmp(c->meters[i].name, name[n - 1]) == 0)
			*ret_cfg = &c->meters[i];
	return *ret_cfg ? state_store_find(site->store, name[n - 1]) : NULL;
}

static void
input(const struct http_site *site, int n, struct eco_input *ret)
{
	const struct meter_config *mc;
	const struct state_meter *m = eco_meter(site, n, &mc);

	eco_project(m, mc ? mc->optarif : HTTP_OPTARIF_AUTO, ret);
}

/* ---- the documents -------------------------------------------------------------------------- */

static const char xml_head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n";

static void
element(struct http_buf *b, int n, const char *name, const char *value)
{
	if (n)
		buf_printf(b, "<T%d_%s>", n, name);
	else
		buf_printf(b, "<%s>", name);
	buf_xml(b, value);
	if (n)
		buf_printf(b, "</T%d_%s>\n", n, name);
	else
		buf_printf(b, "</%s>\n", name);
}

void
eco_status_xml(const struct http_site *site, struct http_buf *b)
{
	static const enum eco_field summary[] = {ECO_PTEC, ECO_PAPP,  ECO_PPAP,  ECO_ISOUSC,
	                                         ECO_IMAX, ECO_IMAX1, ECO_IMAX2, ECO_IMAX3};
	/* Counters and meters the device also has: 0 creates no water or gas device in Domoticz,
	 * and the integration finds every key it may read. */
	static const char *const zero[] = {"count0", "count1", "meter2",  "meter3",
	                                   "c0day",  "c1day",  "c0_fuel", "c1_fuel"};
	struct eco_input in;

	buf_puts(b, xml_head);
	element(b, 0, "version", HTTP_VERSION_XML);
	element(b, 0, "config_hostname", site->hostname);
	element(b, 0, "config_mac", site->mac);
	for (int n = 1; n <= 2; n++) {
		input(site, n, &in);
		for (size_t i = 0; i < sizeof(summary) / sizeof(summary[0]); i++)
			element(b, n, eco_names[summary[i]], in.v[summary[i]]);
	}
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		element(b, 0, zero[i], "0");
	buf_puts(b, "</response>\n");
}

void
eco_teleinfo_xml(const struct http_site *site, int n, struct http_buf *b)
{
	struct eco_input in;

	input(site, n, &in);
	buf_puts(b, xml_head);
	for (int f = 0; f < ECO_FIELDS; f++)
		element(b, n, eco_names[f], in.v[f]);
	buf_puts(b, "</response>\n");
}
