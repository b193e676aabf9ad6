/* SPDX-License-Identifier: MIT */
/*
 * Value validation per label format. The checksum has only 6 bits, so a digit whose bit 6 flips
 * ('0' -> 'p') or two added spaces pass it; checking width and character set here is what keeps
 * such values from ever being published.
 */
#include <string.h>

#include "linkyd/tic.h"
#include "tic-internal.h"

static bool
all_in(const char *v, size_t len, bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < len; i++)
		if (!ok((unsigned char) v[i]))
			return false;
	return true;
}

static bool
is_upper_hex(unsigned char c)
{
	return tic_is_digit(c) || (c >= 'A' && c <= 'F');
}

static bool
is_upper_alnum(unsigned char c)
{
	return tic_is_digit(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* One of the 4-character codes strung together in set ("BASEHC.."): a whole code compared at once.
 */
static bool
one_of4(const char *v, size_t len, const char *set)
{
	uint32_t x, code;

	if (len != 4)
		return false;
	memcpy(&x, v, 4);
	for (; *set; set += 4) {
		memcpy(&code, set, 4);
		if (code == x)
			return true;
	}
	return false;
}

static bool
digits_ok(const struct tic_label *def, const char *v, size_t len)
{
	unsigned long n = 0;

	if (len != def->width || !tic_all_digits(v, len))
		return false;
	if (def->max == 0)
		return true;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (unsigned) (v[i] - '0');
	return n >= def->min && n <= def->max;
}

int
tic_label_check_other(const struct tic_label *def, const char *v, size_t len)
{
	static const char optarif[] = "BASEHC..EJP.";
	static const char ptec[] = "TH..HC..HP..HN..PM..HCJBHCJWHCJRHPJBHPJWHPJR";
	static const char demain[] = "----BLEUBLANROUG";
	bool ok = false;

	switch ((enum tic_format) def->format) {
	case TIC_FMT_DIGITS:
	case TIC_FMT_RELAIS:
		ok = digits_ok(def, v, len);
		break;
	case TIC_FMT_ID:
		ok = len == def->width && tic_all_digits(v, len);
		break;
	case TIC_FMT_TEXT:
		ok = len >= 1 && len <= def->width &&
		     tic_all_bytes(v, len, swar_printable, is_printable);
		break;
	case TIC_FMT_EMPTY:
		ok = len == 0;
		break;
	case TIC_FMT_OPTARIF:
		/* Tempo's 4th character encodes the output circuits: BBR(, BBRS ... never a SP,
		 * which separates historique fields. */
		ok =
		    one_of4(v, len, optarif) || (len == 4 && memcmp(v, "BBR", 3) == 0 &&
		                                 v[3] != ' ' && is_printable((unsigned char) v[3]));
		break;
	case TIC_FMT_PTEC:
		ok = one_of4(v, len, ptec);
		break;
	case TIC_FMT_DEMAIN:
		ok = one_of4(v, len, demain);
		break;
	case TIC_FMT_LETTER:
		ok = len == 1 && v[0] >= 'A' && v[0] <= 'Z';
		break;
	case TIC_FMT_ALNUM:
		ok = len == def->width && all_in(v, len, is_upper_alnum);
		break;
	case TIC_FMT_PPOT:
		ok = len == 2 && v[0] == '0' && is_upper_hex((unsigned char) v[1]);
		break;
	case TIC_FMT_STGE:
		ok = len == 8 && all_in(v, len, is_upper_hex);
		break;
	case TIC_FMT_PROFILE:
		ok = tic_profile_decode(v, len, NULL) >= 0;
		break;
	}
	return ok ? 0 : TIC_ERR_FORMAT;
}

int
tic_label_check(const struct tic_label *def, const char *v, size_t len)
{
	/* A copy with the bytes tic_label_check_padded() may read after the value (zeros: no
	 * format takes a NUL). No format takes more than TIC_VALUE_MAX bytes. */
	char buf[TIC_VALUE_MAX + 8] = {0};

	if (len > TIC_VALUE_MAX)
		return TIC_ERR_FORMAT;
	memcpy(buf, v, len);
	return tic_label_check_padded(def, buf, len);
}
