/* check.h — the tiny test macros every tests/unit/test-*.c uses. */
#ifndef CIVICARD_CHECK_H
#define CIVICARD_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *check_a_ = (a), *check_b_ = (b); \
	check_count++; \
	if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
	} \
} while (0)

#define TEST(name) static void name(void)
#define RUN(name) do { fprintf(stderr, "-- %s\n", #name); name(); } while (0)

/* One closing line in the form CI reads: "N passed, N failed". */
#define CHECK_DONE() ( \
	printf("%d passed, %d failed\n", check_count - check_failures, check_failures), \
	check_failures ? 1 : 0)

#endif
