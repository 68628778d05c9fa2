/* test-form.c — urlencoded forms, percent decoding and UTF-8 checks. */
#include "check.h"
#include "form.h"

TEST(parses_fields)
{
	struct form f;
	const char *body = "username=ana.clerk&password=p%40ss+word%21&csrf=abc&empty=";
	CHECK(form_parse(body, strlen(body), &f) == 0);
	CHECK(f.count == 4);
	CHECK_STR(form_get(&f, "username"), "ana.clerk");
	CHECK_STR(form_get(&f, "password"), "p@ss word!");
	CHECK_STR(form_get(&f, "empty"), "");
	CHECK(form_get(&f, "missing") == NULL);
	const char *allowed[] = { "username", "password", "csrf", NULL }, *unknown = NULL;
	CHECK(form_only(&f, allowed, &unknown) == 0);
	CHECK_STR(unknown, "empty");
	form_free(&f);
}

TEST(decodes_utf8)
{
	struct form f;
	const char *body = "name=Nguy%E1%BB%85n";
	CHECK(form_parse(body, strlen(body), &f) == 0);
	CHECK_STR(form_get(&f, "name"), "Nguyễn");
	form_free(&f);
}

TEST(refuses_malformed)
{
	struct form f;
	const char *bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%00", "=value", "a=%C3%28", "a=%ED%A0%80",
		"a=%C0%AF", "a=%01", "%FF=1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = form_parse(bad[i], strlen(bad[i]), &f);
		if (r == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(r == -1);
		CHECK(f.count == 0);
	}
}

TEST(limits_field_count)
{
	char body[1024] = "";
	for (int i = 0; i < FORM_MAX_FIELDS + 1; i++)
		strcat(body, "a=1&");
	struct form f;
	CHECK(form_parse(body, strlen(body), &f) == -1);
}

TEST(utf8_rules)
{
	CHECK(utf8_text_valid("plain", 5));
	CHECK(utf8_text_valid("tab\there\r\n", 10));
	CHECK(utf8_text_valid("\xf0\x9f\x98\x80", 4));      /* U+1F600 */
	CHECK(!utf8_text_valid("\xf0\x9f\x98", 3));         /* truncated */
	CHECK(!utf8_text_valid("\xf4\x90\x80\x80", 4));     /* past U+10FFFF */
	CHECK(!utf8_text_valid("a\0b", 3));
	CHECK(!utf8_text_valid("\x7f", 1));
}

int main(void)
{
	RUN(parses_fields);
	RUN(decodes_utf8);
	RUN(refuses_malformed);
	RUN(limits_field_count);
	RUN(utf8_rules);
	return CHECK_DONE();
}
