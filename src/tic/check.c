/* SPDX-License-Identifier: MIT */
/*
 * Value validation per label format. The checksum has only 6 bits, so a byte whose bit 6 flips
 * ('0' -> 'p', ' ' -> '`') or two added spaces pass it; checking width and character set
 * here is what keeps such values from ever being published.
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

/* A 4-character code as one number, the same on any host, for a switch. */
#define CODE4(a, b, c, d)                                                                          \
	((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (uint32_t) (d))

int
tic_value_code(enum tic_format format, const char *v, size_t len)
{
	const unsigned char *u = (const unsigned char *) v;
	uint32_t x;

	if (len != 4)
		return -1;
	x = CODE4(u[0], u[1], u[2], u[3]);
	switch (format) {
	case TIC_FMT_OPTARIF:
		switch (x) {
		case CODE4('B', 'A', 'S', 'E'):
			return 0;
		case CODE4('H', 'C', '.', '.'):
			return 1;
		case CODE4('E', 'J', 'P', '.'):
			return 2;
		}
		/* Tempo's 4th character encodes the output circuits: BBR(, BBRS ... never a SP,
		 * which separates historique fields. */
		return x >> 8 == CODE4(0, 'B', 'B', 'R') && u[3] != ' ' && tic_is_text(u[3]) ? 3
		                                                                             : -1;
	case TIC_FMT_PTEC:
		switch (x) {
		case CODE4('T', 'H', '.', '.'):
			return TIC_PTEC_TH;
		case CODE4('H', 'C', '.', '.'):
			return TIC_PTEC_HC;
		case CODE4('H', 'P', '.', '.'):
			return TIC_PTEC_HP;
		case CODE4('H', 'N', '.', '.'):
			return TIC_PTEC_HN;
		case CODE4('P', 'M', '.', '.'):
			return TIC_PTEC_PM;
		case CODE4('H', 'C', 'J', 'B'):
			return TIC_PTEC_HCJB;
		case CODE4('H', 'C', 'J', 'W'):
			return TIC_PTEC_HCJW;
		case CODE4('H', 'C', 'J', 'R'):
			return TIC_PTEC_HCJR;
		case CODE4('H', 'P', 'J', 'B'):
			return TIC_PTEC_HPJB;
		case CODE4('H', 'P', 'J', 'W'):
			return TIC_PTEC_HPJW;
		case CODE4('H', 'P', 'J', 'R'):
			return TIC_PTEC_HPJR;
		}
		return -1;
	case TIC_FMT_DEMAIN:
		switch (x) {
		case CODE4('-', '-', '-', '-'):
			return TIC_TEMPO_NONE;
		case CODE4('B', 'L', 'E', 'U'):
			return TIC_TEMPO_BLEU;
		case CODE4('B', 'L', 'A', 'N'):
			return TIC_TEMPO_BLANC;
		case CODE4('R', 'O', 'U', 'G'):
			return TIC_TEMPO_ROUGE;
		}
		return -1;
	default:
		return -1;
	}
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
		ok = len >= 1 && len <= def->width && tic_all_bytes(v, len, swar_text, tic_is_text);
		break;
	case TIC_FMT_EMPTY:
		ok = len == 0;
		break;
	case TIC_FMT_OPTARIF:
	case TIC_FMT_PTEC:
	case TIC_FMT_DEMAIN:
		ok = tic_value_code((enum tic_format) def->format, v, len) >= 0;
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
