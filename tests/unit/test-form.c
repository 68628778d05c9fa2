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

TEST(multipart_fields_and_files)
{
	const char ct[] = "multipart/form-data; boundary=----XyZ";
	const char body[] =
		"------XyZ\r\n"
		"Content-Disposition: form-data; name=\"given_names\"\r\n\r\n"
		"Thị Ánh\r\n"
		"------XyZ\r\n"
		"Content-Disposition: form-data; name=\"evidence\"\r\n\r\n"
		"passport\r\n"
		"------XyZ\r\n"
		"Content-Disposition: form-data; name=\"evidence\"\r\n\r\n"
		"school_record\r\n"
		"------XyZ\r\n"
		"Content-Disposition: form-data; name=\"photo\"; filename=\"Ana Lopez.jpg\"\r\n"
		"Content-Type: image/jpeg\r\n\r\n"
		"\xff\xd8\x00\r\n--not-the-boundary\xff\xd9\r\n"
		"------XyZ--\r\n";
	struct form f;
	CHECK(form_parse_multipart(body, sizeof body - 1, ct, &f) == 0);
	CHECK(f.count == 3 && f.nfiles == 1);
	CHECK_STR(form_get(&f, "given_names"), "Thị Ánh");
	CHECK_STR(f.values[2], "school_record");
	const struct form_file *photo = form_file(&f, "photo");
	CHECK(photo && photo->len == 25);
	CHECK(photo && memcmp(photo->data, "\xff\xd8\x00\r\n--not-the-boundary\xff\xd9", 25) == 0);
	form_free(&f);

	/* Quoted boundary, preamble, empty value. */
	const char ct2[] = "multipart/form-data; boundary=\"a b\"";
	const char body2[] = "preamble\r\n--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--a b--";
	CHECK(form_parse_multipart(body2, sizeof body2 - 1, ct2, &f) == 0);
	CHECK_STR(form_get(&f, "x"), "");
	form_free(&f);
}

TEST(multipart_refusals)
{
	struct form f;
	const char ct[] = "multipart/form-data; boundary=B";
	const char *bad[] = {
		"--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end",
		"--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--",
		"--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\xff\r\n--B--",
		"--B\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nv\r\n--B--",
		"--B\r\nContent-Disposition: form-data; name=\"x\"\r\nContent-Disposition: form-data; name=\"y\"\r\n\r\nv\r\n--B--",
		"--B",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(form_parse_multipart(bad[i], strlen(bad[i]), ct, &f) == -1);
		CHECK(f.count == 0 && f.nfiles == 0);
	}
	CHECK(form_parse_multipart("--B--", 5, "text/plain", &f) == -1);
	CHECK(form_parse_multipart("--B--", 5, "multipart/form-data", &f) == -1);
	CHECK(form_parse_multipart("--B--", 5, ct, &f) == 0 && f.count == 0);
}

int main(void)
{
	RUN(parses_fields);
	RUN(decodes_utf8);
	RUN(refuses_malformed);
	RUN(limits_field_count);
	RUN(utf8_rules);
	RUN(multipart_fields_and_files);
	RUN(multipart_refusals);
	return CHECK_DONE();
}
