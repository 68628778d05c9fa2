/* test-cardnum.c — card numbers catch every single typo and neighbour swap. */
#include "cardnum.h"
#include "check.h"

#include <sodium.h>

TEST(new_numbers_parse)
{
	for (int i = 0; i < 1000; i++) {
		char n[CARDNUM_LEN + 1], back[CARDNUM_LEN + 1];
		cardnum_new(n);
		CHECK(strlen(n) == CARDNUM_LEN);
		CHECK(strpbrk(n, "1ILOU") == NULL);
		CHECK(cardnum_parse(n, back) == 0 && strcmp(n, back) == 0);
		char f[CARDNUM_FORMATTED + 1];
		cardnum_format(n, f);
		CHECK(strlen(f) == 13 && f[4] == '-' && f[9] == '-');
		CHECK(cardnum_parse(f, back) == 0 && strcmp(n, back) == 0);
		char x[CARDNUM_LEN + 1];
		cardnum_from_int(cardnum_to_int(n), x);
		CHECK_STR(x, n);
	}
}

TEST(every_single_substitution_is_caught)
{
	char n[CARDNUM_LEN + 1], out[CARDNUM_LEN + 1];
	int missed = 0, tried = 0;
	for (int k = 0; k < 200; k++) {
		cardnum_new(n);
		for (int pos = 0; pos < CARDNUM_LEN; pos++) {
			for (int a = 0; a < 31; a++) {
				char m[CARDNUM_LEN + 1];
				memcpy(m, n, sizeof m);
				if (cardnum_alphabet[a] == m[pos])
					continue;
				m[pos] = cardnum_alphabet[a];
				tried++;
				missed += cardnum_parse(m, out) == 0;
			}
		}
	}
	CHECK(tried > 0);
	CHECK(missed == 0);
}

TEST(every_neighbour_swap_is_caught)
{
	char n[CARDNUM_LEN + 1], out[CARDNUM_LEN + 1];
	int missed = 0;
	for (int k = 0; k < 2000; k++) {
		cardnum_new(n);
		for (int pos = 0; pos + 1 < CARDNUM_LEN; pos++) {
			if (n[pos] == n[pos + 1])
				continue;
			char m[CARDNUM_LEN + 1];
			memcpy(m, n, sizeof m);
			m[pos] = n[pos + 1];
			m[pos + 1] = n[pos];
			missed += cardnum_parse(m, out) == 0;
		}
	}
	CHECK(missed == 0);
}

TEST(normalises_what_people_type)
{
	char n[CARDNUM_LEN + 1], out[CARDNUM_LEN + 1], typed[32];
	do
		cardnum_new(n);
	while (!strchr(n, '0') || !strpbrk(n, "ABCDEFGHJKMNPQRSTVWXYZ"));
	/* lower case, spaces, and the letter O for zero */
	size_t o = 0;
	for (int i = 0; i < CARDNUM_LEN; i++) {
		char c = n[i];
		typed[o++] = c == '0' ? 'O' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		if (i == 3 || i == 7)
			typed[o++] = ' ';
	}
	typed[o] = '\0';
	CHECK(cardnum_parse(typed, out) == 0);
	CHECK_STR(out, n);
	CHECK(cardnum_parse("", out) == -1);
	CHECK(cardnum_parse("ABCD", out) == -1);
	CHECK(cardnum_parse("AAAAAAAAAAAAAAA", out) == -1);
	CHECK(cardnum_parse("I23456789AB", out) == -1);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(new_numbers_parse);
	RUN(every_single_substitution_is_caught);
	RUN(every_neighbour_swap_is_caught);
	RUN(normalises_what_people_type);
	return CHECK_DONE();
}
