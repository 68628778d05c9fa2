/* names.c — Unicode clean-up (utf8proc) for names and short text. */
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Scripts the card's font carries (see scripts/prepare-font.py). */
static int printable_letter(utf8proc_int32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= 0x00c0 && c <= 0x024f && c != 0xd7 && c != 0xf7) ||   /* Latin-1, Ext-A/B */
	       (c >= 0x0300 && c <= 0x036f) ||                           /* combining marks */
	       (c >= 0x0370 && c <= 0x03ff) ||                           /* Greek */
	       (c >= 0x0400 && c <= 0x052f) ||                           /* Cyrillic + supplement */
	       (c >= 0x1e00 && c <= 0x1eff) ||                           /* Latin Ext. Additional */
	       (c >= 0x1f00 && c <= 0x1fff);                             /* Greek Extended */
}

static int name_punct(utf8proc_int32_t c)
{
	return c == '-' || c == '\'' || c == '.' || c == 0x2019 || c == 0x02bc || c == 0x02bb;
}

/* NFC-normalise, refusing invalid UTF-8. *ret from malloc(). */
static int nfc(const char *in, int fold, uint8_t **ret)
{
	utf8proc_option_t opt = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE;
	if (fold)
		opt |= UTF8PROC_CASEFOLD;
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)in, 0, &out, opt);
	if (n < 0)
		return -1;
	*ret = out;
	return 0;
}

/* Walk NFC text, keeping characters accept() allows, collapsing spaces. */
static enum name_problem clean(const char *in, size_t maxlen, int is_name, char **ret)
{
	uint8_t *norm = NULL;
	if (nfc(in, 0, &norm) < 0)
		return NAME_BAD_UTF8;
	size_t len = strlen((char *)norm);
	char *out = malloc(len + 1);
	if (!out) {
		free(norm);
		return NAME_BAD_UTF8;
	}
	size_t o = 0;
	int pending_space = 0;
	enum name_problem p = NAME_OK;
	utf8proc_ssize_t i = 0;
	while ((size_t)i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(norm + i, (utf8proc_ssize_t)len - i, &c);
		if (n < 0) {
			p = NAME_BAD_UTF8;
			break;
		}
		utf8proc_category_t cat = utf8proc_category(c);
		int space = cat == UTF8PROC_CATEGORY_ZS || c == '\t' || c == '\n' || c == '\r';
		if (space) {
			pending_space = o > 0;
		} else {
			int ok;
			if (is_name)
				ok = printable_letter(c) ? (o > 0 || cat <= UTF8PROC_CATEGORY_LO)
							 : (name_punct(c) && o > 0);
			else
				ok = cat != UTF8PROC_CATEGORY_CC && cat != UTF8PROC_CATEGORY_CF &&
				     cat != UTF8PROC_CATEGORY_CS && cat != UTF8PROC_CATEGORY_CO &&
				     cat != UTF8PROC_CATEGORY_CN && cat != UTF8PROC_CATEGORY_ZL &&
				     cat != UTF8PROC_CATEGORY_ZP;
			if (!ok) {
				p = NAME_UNSUPPORTED;
				break;
			}
			if (pending_space)
				out[o++] = ' ';
			pending_space = 0;
			memcpy(out + o, norm + i, (size_t)n);
			o += (size_t)n;
		}
		i += n;
	}
	free(norm);
	out[o] = '\0';
	if (p == NAME_OK && o == 0)
		p = NAME_EMPTY;
	if (p == NAME_OK && o > maxlen)
		p = NAME_TOO_LONG;
	if (p != NAME_OK) {
		free(out);
		return p;
	}
	*ret = out;
	return NAME_OK;
}

enum name_problem name_clean(const char *in, size_t maxlen, char **ret)
{
	return clean(in, maxlen, 1, ret);
}

enum name_problem text_clean(const char *in, size_t maxlen, char **ret)
{
	return clean(in, maxlen, 0, ret);
}

int name_fold(const char *clean_name, char **ret)
{
	uint8_t *out;
	if (nfc(clean_name, 1, &out) < 0)
		return -1;
	*ret = (char *)out;
	return 0;
}

const char *name_problem_message(enum name_problem p)
{
	switch (p) {
	case NAME_OK: return "ok";
	case NAME_EMPTY: return "is required";
	case NAME_TOO_LONG: return "is too long";
	case NAME_BAD_UTF8: return "is not valid text";
	case NAME_UNSUPPORTED: return "contains a character the card cannot print";
	}
	return "is not valid";
}
