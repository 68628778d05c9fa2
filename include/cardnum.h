/* cardnum.h — card numbers: 10 random characters and a check character.
 *
 * Alphabet: 31 characters, no I, L, O, U or 1 ("0123456789…" minus the
 * look-alikes), so a number read aloud or copied by hand has no doubtful
 * letter. The check character makes the weighted sum of all eleven values
 * (weights 1..11) divisible by 31: since 31 is prime, any single wrong
 * character and any swap of two different neighbours changes the sum and
 * is caught. Printed as XXXX-XXXX-XXX. */
#ifndef CIVICARD_CARDNUM_H
#define CIVICARD_CARDNUM_H

#include <stddef.h>
#include <stdint.h>

#define CARDNUM_DATA 10
#define CARDNUM_LEN 11               /* characters, without dashes */
#define CARDNUM_FORMATTED 14         /* XXXX-XXXX-XXX */

extern const char cardnum_alphabet[32];   /* 31 characters + NUL */

/* A fresh random number, NUL-terminated. */
void cardnum_new(char out[CARDNUM_LEN + 1]);
/* What a person typed, as exactly n characters of the alphabet: spaces
 * and dashes dropped, upper-cased, O read as 0. 0 with the result (and a
 * NUL) in out, or -1. Card numbers and reprint codes both use it. */
int cardnum_read(const char *in, char *out, size_t n);
/* Normalise what a person typed: drop spaces and dashes, upper-case, read
 * O as 0. 0 with the canonical form in out when it is a well-formed number
 * whose check character matches; -1 otherwise. */
int cardnum_parse(const char *in, char out[CARDNUM_LEN + 1]);
/* "K7QM4TXP9WF" → "K7QM-4TXP-9WF". */
void cardnum_format(const char *canonical, char out[CARDNUM_FORMATTED + 1]);
/* The 10 data characters as one number (< 31^10 < 2^50), and back. */
uint64_t cardnum_to_int(const char *canonical);
void cardnum_from_int(uint64_t v, char out[CARDNUM_LEN + 1]);

#endif
