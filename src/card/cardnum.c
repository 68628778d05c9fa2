/* cardnum.c — random card numbers with a mod-31 check character. */
#include "cardnum.h"

#include <sodium.h>
#include <string.h>

const char cardnum_alphabet[32] = "023456789ABCDEFGHJKMNPQRSTVWXYZ";
#define BASE 31

static int value_of(char c)
{
	const char *p = c ? strchr(cardnum_alphabet, c) : NULL;
	return p ? (int)(p - cardnum_alphabet) : -1;
}

/* The value that makes sum(w_i * v_i) ≡ 0 (mod 31), weights 1..11. */
static int check_value(const int v[CARDNUM_DATA])
{
	int sum = 0;
	for (int i = 0; i < CARDNUM_DATA; i++)
		sum = (sum + (i + 1) * v[i]) % BASE;
	/* Find c with sum + 11c ≡ 0: 11 * 17 = 187 = 6*31 + 1, so 11⁻¹ = 17. */
	return ((BASE - sum) % BASE) * 17 % BASE;
}

static void finish(int v[CARDNUM_DATA], char out[CARDNUM_LEN + 1])
{
	for (int i = 0; i < CARDNUM_DATA; i++)
		out[i] = cardnum_alphabet[v[i]];
	out[CARDNUM_DATA] = cardnum_alphabet[check_value(v)];
	out[CARDNUM_LEN] = '\0';
}

void cardnum_new(char out[CARDNUM_LEN + 1])
{
	int v[CARDNUM_DATA];
	for (int i = 0; i < CARDNUM_DATA; i++)
		v[i] = (int)randombytes_uniform(BASE);
	finish(v, out);
}

int cardnum_read(const char *in, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		if (k == n || value_of(c) < 0)
			return -1;
		out[k++] = c;
	}
	if (k != n)
		return -1;
	out[n] = '\0';
	return 0;
}

int cardnum_parse(const char *in, char out[CARDNUM_LEN + 1])
{
	char typed[CARDNUM_LEN + 1];
	int v[CARDNUM_LEN];
	if (cardnum_read(in, typed, CARDNUM_LEN) < 0)
		return -1;
	for (int i = 0; i < CARDNUM_LEN; i++)
		v[i] = value_of(typed[i]);
	if (check_value(v) != v[CARDNUM_DATA])
		return -1;
	finish(v, out);
	return 0;
}

void cardnum_format(const char *c, char out[CARDNUM_FORMATTED + 1])
{
	memcpy(out, c, 4);
	out[4] = '-';
	memcpy(out + 5, c + 4, 4);
	out[9] = '-';
	memcpy(out + 10, c + 8, 3);
	out[13] = '\0';
}

uint64_t cardnum_to_int(const char *c)
{
	uint64_t v = 0;
	for (int i = 0; i < CARDNUM_DATA; i++)
		v = v * BASE + (uint64_t)value_of(c[i]);
	return v;
}

void cardnum_from_int(uint64_t x, char out[CARDNUM_LEN + 1])
{
	int v[CARDNUM_DATA];
	for (int i = CARDNUM_DATA - 1; i >= 0; i--) {
		v[i] = (int)(x % BASE);
		x /= BASE;
	}
	finish(v, out);
}
