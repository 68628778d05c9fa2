/* token.c — compact binary payload, Ed25519 signature, base32 text. */
#include "token.h"

#include <stdio.h>
#include <string.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char sig_context[] = "civicard-token-v1";
#define DOB_EPOCH_Y 1900
#define EXP_EPOCH_Y 2000

long base32_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t need = (len * 8 + 4) / 5;
	if (cap < need + 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return (long)o;
}

long base32_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == cap)
				return -1;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
		acc &= (1u << bits) - 1;
	}
	/* Leftover bits must be padding zeros, fewer than a full character:
	 * one byte string has exactly one text form. */
	if (bits >= 5 || acc != 0)
		return -1;
	return (long)o;
}

/* Howard Hinnant's civil-from-days algorithm, proleptic Gregorian. */
int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, char out[11])
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

int date_parse(const char *s, int *ret_y, int *ret_m, int *ret_d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return -1;
	*ret_y = y;
	*ret_m = m;
	*ret_d = d;
	return 0;
}

/* Days since Jan 1 of epoch_y, if it fits in 16 bits. */
static int date_to_u16(const char *s, int epoch_y, uint16_t *ret)
{
	int y, m, d;
	if (date_parse(s, &y, &m, &d) < 0)
		return -1;
	int64_t days = days_from_civil(y, m, d) - days_from_civil(epoch_y, 1, 1);
	if (days < 0 || days > 0xffff)
		return -1;
	*ret = (uint16_t)days;
	return 0;
}

static void u16_to_date(uint16_t v, int epoch_y, char out[11])
{
	civil_from_days(days_from_civil(epoch_y, 1, 1) + v, out);
}

static size_t put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
	return (size_t)n;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The exact bytes the signature covers: context string, then payload. */
static void sign_input(const uint8_t *payload, size_t len, uint8_t *out, size_t *ret_len)
{
	memcpy(out, sig_context, sizeof sig_context - 1);
	memcpy(out + sizeof sig_context - 1, payload, len);
	*ret_len = sizeof sig_context - 1 + len;
}

int token_sign(const struct token_claims *c, const uint8_t sk[crypto_sign_SECRETKEYBYTES],
	       char out[TOKEN_MAX_CHARS + 1])
{
	uint8_t buf[TOKEN_MAX_BYTES], msg[sizeof sig_context + TOKEN_MAX_BYTES];
	char canon[CARDNUM_LEN + 1];
	size_t gl = strlen(c->given_names), fl = strlen(c->family_name), n = 0, mlen;
	uint16_t dob, exp;
	if (c->kid == 0 || c->card_version == 0 || c->status_index >= (1u << 24) ||
	    gl > TOKEN_NAME_MAX || fl > TOKEN_NAME_MAX ||
	    cardnum_parse(c->card_number, canon) < 0 || strcmp(canon, c->card_number) != 0 ||
	    date_to_u16(c->date_of_birth, DOB_EPOCH_Y, &dob) < 0 ||
	    date_to_u16(c->expires_on, EXP_EPOCH_Y, &exp) < 0)
		return -1;

	buf[n++] = TOKEN_VERSION;
	buf[n++] = c->kid;
	n += put_be(buf + n, cardnum_to_int(c->card_number), 7);
	buf[n++] = c->card_version;
	n += put_be(buf + n, c->status_index, 3);
	n += put_be(buf + n, dob, 2);
	n += put_be(buf + n, exp, 2);
	buf[n++] = (uint8_t)gl;
	memcpy(buf + n, c->given_names, gl);
	n += gl;
	buf[n++] = (uint8_t)fl;
	memcpy(buf + n, c->family_name, fl);
	n += fl;

	sign_input(buf, n, msg, &mlen);
	crypto_sign_detached(buf + n, NULL, msg, mlen, sk);
	n += TOKEN_SIG;
	return base32_encode(buf, n, out, TOKEN_MAX_CHARS + 1) < 0 ? -1 : 0;
}

/* A name field: valid UTF-8 without control characters or NUL. */
static int name_ok(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	/* Byte-level UTF-8 check, short: lead/continuation structure. */
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 :
			   c >= 0xf0 && c <= 0xf4 ? 3 : 9;
		if (n == 9 || len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

int token_parse(const char *text, size_t len, struct token_parsed *ret)
{
	struct token_parsed t;
	memset(&t, 0, sizeof t);
	if (len > TOKEN_MAX_CHARS)
		return -1;
	long n = base32_decode(text, len, t.bytes, sizeof t.bytes);
	if (n < TOKEN_FIXED + TOKEN_SIG)
		return -1;
	size_t plen = (size_t)n - TOKEN_SIG, off = 0;
	const uint8_t *b = t.bytes;
	if (b[0] != TOKEN_VERSION || b[1] == 0)
		return -1;
	t.claims.kid = b[1];
	uint64_t num = get_be(b + 2, 7);
	if (num >= 819628286980801ull)           /* 31^10 */
		return -1;
	cardnum_from_int(num, t.claims.card_number);
	t.claims.card_version = b[9];
	if (t.claims.card_version == 0)
		return -1;
	t.claims.status_index = (uint32_t)get_be(b + 10, 3);
	u16_to_date((uint16_t)get_be(b + 13, 2), DOB_EPOCH_Y, t.claims.date_of_birth);
	u16_to_date((uint16_t)get_be(b + 15, 2), EXP_EPOCH_Y, t.claims.expires_on);
	off = 17;
	for (int k = 0; k < 2; k++) {
		if (off >= plen)
			return -1;
		size_t l = b[off++];
		if (l > TOKEN_NAME_MAX || l > plen - off || !name_ok(b + off, l))
			return -1;
		char *dst = k == 0 ? t.claims.given_names : t.claims.family_name;
		memcpy(dst, b + off, l);
		dst[l] = '\0';
		off += l;
	}
	if (off != plen)
		return -1;
	t.len = (size_t)n;
	*ret = t;
	return 0;
}

int token_verify(const struct token_parsed *t, const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	uint8_t msg[sizeof sig_context + TOKEN_MAX_BYTES];
	if (t->len < TOKEN_FIXED + TOKEN_SIG || t->len > TOKEN_MAX_BYTES)
		return 0;
	size_t plen = t->len - TOKEN_SIG, mlen;
	sign_input(t->bytes, plen, msg, &mlen);
	return crypto_sign_verify_detached(t->bytes + plen, msg, mlen, pk) == 0;
}
