/* test-token.c — the QR token: the documented test vector, round trips,
 * tampering, malformed input. The vector is the one in docs/token-format.md. */
#include "check.h"
#include "token.h"

#include <stdio.h>

/* docs/token-format.md, "Test vector 1" */
static const char vector_token[] =
	"AEAQDNQPQ7AK54YBCLLIPAEUFWAQUVDI4G5YWIGDQFXGQCCOM52XTYN3QVXPTZY7VGSHYIESZPDRHKDJFO4BJHSHYN"
	"6BBDEUV4ZJJAEF5AHU66T2FT4AUMLVNBDIFRD7I6XXASYQM44R5LYYXTTO753BLMTG2CUAAE";
static const char vector_pk[] = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
static const char vector_payload[] =
	"010101b60f87c0aef30112d68780942d810a5468e1bb8b20c3816e68084e677579e1bb856e";

static uint8_t pk[32], sk[64];

static struct token_claims vector_claims(void)
{
	struct token_claims c;
	memset(&c, 0, sizeof c);
	c.kid = 1;
	c.card_version = 1;
	c.status_index = 1234567;
	snprintf(c.card_number, sizeof c.card_number, "K7QM4TXP9W2");
	snprintf(c.date_of_birth, sizeof c.date_of_birth, "1990-02-14");
	snprintf(c.expires_on, sizeof c.expires_on, "2031-11-23");
	snprintf(c.given_names, sizeof c.given_names, "Thị Ánh");
	snprintf(c.family_name, sizeof c.family_name, "Nguyễn");
	return c;
}

TEST(vector_signs_and_parses)
{
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
	CHECK_STR(hex, vector_pk);

	struct token_claims c = vector_claims();
	char tok[TOKEN_MAX_CHARS + 1];
	CHECK(token_sign(&c, sk, tok) == 0);
	CHECK_STR(tok, vector_token);

	struct token_parsed p;
	CHECK(token_parse(tok, strlen(tok), &p) == 0);
	CHECK(token_verify(&p, pk) == 1);
	char phex[256];
	sodium_bin2hex(phex, sizeof phex, p.bytes, p.len - TOKEN_SIG);
	CHECK_STR(phex, vector_payload);
	CHECK_STR(p.claims.card_number, "K7QM4TXP9W2");
	CHECK_STR(p.claims.given_names, "Thị Ánh");
	CHECK_STR(p.claims.family_name, "Nguyễn");
	CHECK_STR(p.claims.date_of_birth, "1990-02-14");
	CHECK_STR(p.claims.expires_on, "2031-11-23");
	CHECK(p.claims.status_index == 1234567 && p.claims.kid == 1 && p.claims.card_version == 1);
}

TEST(any_changed_character_is_caught)
{
	size_t n = strlen(vector_token);
	int accepted = 0;
	for (size_t i = 0; i < n; i++) {
		for (const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; *a; a++) {
			char t[TOKEN_MAX_CHARS + 1];
			memcpy(t, vector_token, n + 1);
			if (t[i] == *a)
				continue;
			t[i] = *a;
			struct token_parsed p;
			if (token_parse(t, n, &p) == 0 && token_verify(&p, pk))
				accepted++;
		}
	}
	CHECK(accepted == 0);
}

TEST(malformed_tokens_refused)
{
	struct token_parsed p;
	size_t n = strlen(vector_token);
	CHECK(token_parse("", 0, &p) == -1);
	CHECK(token_parse(vector_token, n - 1, &p) == -1);           /* truncated */
	CHECK(token_parse("abc", 3, &p) == -1);                       /* lower case */
	CHECK(token_parse("AEAQ DNQ", 8, &p) == -1);
	char big[TOKEN_MAX_CHARS + 10];
	memset(big, 'A', sizeof big);
	CHECK(token_parse(big, sizeof big, &p) == -1);
	/* Valid base32 of a payload with a name length past the end. */
	uint8_t raw[TOKEN_FIXED + TOKEN_SIG] = { 1, 1 };
	raw[9] = 1;
	raw[17] = 200;
	char t[256];
	CHECK(base32_encode(raw, sizeof raw, t, sizeof t) > 0);
	CHECK(token_parse(t, strlen(t), &p) == -1);
}

TEST(out_of_range_claims_refused)
{
	char tok[TOKEN_MAX_CHARS + 1];
	struct token_claims c = vector_claims();
	c.status_index = 1u << 24;
	CHECK(token_sign(&c, sk, tok) == -1);
	c = vector_claims();
	snprintf(c.date_of_birth, sizeof c.date_of_birth, "1899-12-31");
	CHECK(token_sign(&c, sk, tok) == -1);
	c = vector_claims();
	snprintf(c.card_number, sizeof c.card_number, "K7QM4TXP9W3");   /* bad check */
	CHECK(token_sign(&c, sk, tok) == -1);
	c = vector_claims();
	memset(c.family_name, 'a', TOKEN_NAME_MAX);
	c.family_name[TOKEN_NAME_MAX] = '\0';
	CHECK(token_sign(&c, sk, tok) == 0);
	struct token_parsed p;
	CHECK(token_parse(tok, strlen(tok), &p) == 0 && token_verify(&p, pk));
	CHECK(strlen(p.claims.family_name) == TOKEN_NAME_MAX);
}

TEST(base32_and_dates)
{
	char out[64];
	uint8_t back[32];
	CHECK(base32_encode((const uint8_t *)"foobar", 6, out, sizeof out) == 10);
	CHECK_STR(out, "MZXW6YTBOI");                                /* RFC 4648 */
	CHECK(base32_decode("MZXW6YTBOI", 10, back, sizeof back) == 6 && memcmp(back, "foobar", 6) == 0);
	CHECK(base32_decode("MZXW6YTBOJ", 10, back, sizeof back) == -1);  /* non-zero padding bits */
	char d[11];
	civil_from_days(days_from_civil(2024, 2, 29), d);
	CHECK_STR(d, "2024-02-29");
	int y, m, dd;
	CHECK(date_parse("2023-02-29", &y, &m, &dd) == -1);
	CHECK(date_parse("2024-13-01", &y, &m, &dd) == -1);
	CHECK(date_parse("2024-1-01", &y, &m, &dd) == -1);
	CHECK(date_parse("1990-02-14", &y, &m, &dd) == 0 && y == 1990 && m == 2 && dd == 14);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	RUN(vector_signs_and_parses);
	RUN(any_changed_character_is_caught);
	RUN(malformed_tokens_refused);
	RUN(out_of_range_claims_refused);
	RUN(base32_and_dates);
	return CHECK_DONE();
}
