/* token.h — the signed token carried by a card's QR code.
 *
 * Layout (docs/token-format.md has the byte table and test vectors):
 *   payload = version(1) kid(1) number(7, BE) card_version(1)
 *             status_index(3, BE) dob_days(2, BE) expiry_days(2, BE)
 *             len(1) given_names  len(1) family_name
 *   token   = BASE32( payload || Ed25519(sk, "civicard-token-v1" || payload) )
 * BASE32 is RFC 4648 upper case without padding, so the QR code's token
 * part is encoded in alphanumeric mode. */
#ifndef CIVICARD_TOKEN_H
#define CIVICARD_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "cardnum.h"

#define TOKEN_VERSION 1
#define TOKEN_NAME_MAX 120                   /* bytes of each name */
#define TOKEN_FIXED 19                       /* payload bytes besides the names */
#define TOKEN_SIG crypto_sign_BYTES          /* 64 */
#define TOKEN_MAX_BYTES (TOKEN_FIXED + 2 * TOKEN_NAME_MAX + TOKEN_SIG)
#define TOKEN_MAX_CHARS ((TOKEN_MAX_BYTES * 8 + 4) / 5)

struct token_claims {
	uint8_t kid;                             /* signing key id, 1..255 */
	char card_number[CARDNUM_LEN + 1];       /* canonical */
	uint8_t card_version;                    /* 1..255 */
	uint32_t status_index;                   /* < 2^24 */
	char date_of_birth[11];                  /* YYYY-MM-DD, 1900-01-01 … 2079 */
	char expires_on[11];                     /* YYYY-MM-DD, 2000-01-01 … 2179 */
	char given_names[TOKEN_NAME_MAX + 1];    /* UTF-8 as printed */
	char family_name[TOKEN_NAME_MAX + 1];
};

/* Sign claims into a token string (NUL-terminated, upper-case base32).
 * 0, or -1 when a field is out of range. */
int token_sign(const struct token_claims *c, const uint8_t sk[crypto_sign_SECRETKEYBYTES],
	       char out[TOKEN_MAX_CHARS + 1]);

/* Parse a token without checking its signature: 0 with the claims, the
 * signed bytes (for token_verify) and their length; -1 when malformed. */
struct token_parsed {
	struct token_claims claims;
	uint8_t bytes[TOKEN_MAX_BYTES];
	size_t len;                              /* payload + signature */
};
int token_parse(const char *text, size_t len, struct token_parsed *ret);
/* 1 when the signature is good under pk, else 0. */
int token_verify(const struct token_parsed *t, const uint8_t pk[crypto_sign_PUBLICKEYBYTES]);

/* Dates as days: 0 or -1 for a date outside YYYY-MM-DD / the calendar. */
int date_parse(const char *s, int *ret_y, int *ret_m, int *ret_d);
int64_t days_from_civil(int y, int m, int d);
void civil_from_days(int64_t days, char out[11]);

/* RFC 4648 base32, upper case, no padding. Returns chars written (plus a
 * NUL), or -1 when out is too small / the text is not base32. */
long base32_encode(const uint8_t *in, size_t len, char *out, size_t cap);
long base32_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
