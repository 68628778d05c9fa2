/* names.h — cleaning what a clerk typed, and folding it for lookups. */
#ifndef CIVICARD_NAMES_H
#define CIVICARD_NAMES_H

#include <stddef.h>

#define NAME_MAX_BYTES 80
#define TEXT_MAX_BYTES 200

enum name_problem {
	NAME_OK = 0,
	NAME_EMPTY,
	NAME_TOO_LONG,
	NAME_BAD_UTF8,
	NAME_UNSUPPORTED,   /* a character the card cannot print */
};

/* A person's name as it will be printed: NFC, spaces trimmed and runs of
 * white space made one space. Letters and marks of the Latin, Greek and
 * Cyrillic scripts, and space - ' ’ ʼ ʻ . only; it must start with a
 * letter. On NAME_OK *ret is from malloc() (caller frees). */
enum name_problem name_clean(const char *in, size_t maxlen, char **ret);
/* A line of free text such as an address: NFC, trimmed, no control
 * characters. Same returns. */
enum name_problem text_clean(const char *in, size_t maxlen, char **ret);
/* The lookup form: NFC + case folding of an already cleaned name. *ret
 * from malloc(); -1 on failure. */
int name_fold(const char *clean, char **ret);
const char *name_problem_message(enum name_problem p);

#endif
