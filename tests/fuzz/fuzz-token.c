/* fuzz-token.c — the QR token decoder: any text, parsed and verified. */
#include "token.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	struct token_parsed t;
	if (token_parse((const char *)data, size, &t) == 0) {
		/* What parses is well-formed: valid number, bounded names. */
		char check[CARDNUM_LEN + 1];
		if (cardnum_parse(t.claims.card_number, check) != 0 ||
		    strlen(t.claims.given_names) > TOKEN_NAME_MAX)
			__builtin_trap();
		(void)token_verify(&t, pk);
	}
	return 0;
}
