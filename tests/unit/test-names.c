/* test-names.c — names as printed, and their lookup form. */
#include "check.h"
#include "names.h"

#include <stdlib.h>

static void expect_clean(const char *in, const char *want)
{
	char *out = NULL;
	enum name_problem p = name_clean(in, NAME_MAX_BYTES, &out);
	CHECK(p == NAME_OK);
	CHECK_STR(out, want);
	free(out);
}

static void expect_refused(const char *in, enum name_problem want)
{
	char *out = NULL;
	enum name_problem p = name_clean(in, NAME_MAX_BYTES, &out);
	if (p != want)
		fprintf(stderr, "  \"%s\": got %d, want %d\n", in, p, want);
	CHECK(p == want);
	CHECK(out == NULL);
}

TEST(names_in_three_scripts)
{
	expect_clean("Nguyễn Thị Ánh", "Nguyễn Thị Ánh");
	expect_clean("Ἀλέξανδρος", "Ἀλέξανδρος");
	expect_clean("Ёлкина-Щербатова", "Ёлкина-Щербатова");
	expect_clean("O’Brien", "O’Brien");
	expect_clean("d'Arcy St. John", "d'Arcy St. John");
	expect_clean("  María   José \t", "María José");
	/* Decomposed input (e + combining marks) becomes NFC. */
	expect_clean("Nguye\xcc\x82\xcc\x83n", "Nguyễn");
}

TEST(refusals)
{
	expect_refused("", NAME_EMPTY);
	expect_refused("   ", NAME_EMPTY);
	expect_refused("李小龍", NAME_UNSUPPORTED);
	expect_refused("Ana<script>", NAME_UNSUPPORTED);
	expect_refused("Ana\x01", NAME_UNSUPPORTED);
	expect_refused("-Ana", NAME_UNSUPPORTED);
	expect_refused("\xff\xfe", NAME_BAD_UTF8);
	expect_refused("Ana 😀", NAME_UNSUPPORTED);
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	expect_refused(longname, NAME_TOO_LONG);
}

TEST(folding_matches_across_case_and_form)
{
	char *a, *b, *c;
	CHECK(name_fold("NGUYỄN", &a) == 0);
	CHECK(name_fold("nguyễn", &b) == 0);
	CHECK(name_fold("Nguye\xcc\x82\xcc\x83n", &c) == 0);
	CHECK_STR(a, b);
	CHECK_STR(b, c);
	free(a);
	free(b);
	free(c);
	CHECK(name_fold("STRASSE", &a) == 0 && name_fold("Straße", &b) == 0);
	CHECK_STR(a, b);
	free(a);
	free(b);
}

TEST(free_text)
{
	char *out = NULL;
	CHECK(text_clean("c/o 12 rue des Érables, app. 3", TEXT_MAX_BYTES, &out) == NAME_OK);
	CHECK_STR(out, "c/o 12 rue des Érables, app. 3");
	free(out);
	out = NULL;
	CHECK(text_clean("line\x7f", TEXT_MAX_BYTES, &out) == NAME_UNSUPPORTED && !out);
}

int main(void)
{
	RUN(names_in_three_scripts);
	RUN(refusals);
	RUN(folding_matches_across_case_and_form);
	RUN(free_text);
	return CHECK_DONE();
}
