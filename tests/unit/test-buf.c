/* test-buf.c — the growable buffer and the HTML-escaping writer. */
#include "buf.h"
#include "check.h"

#include <stdlib.h>

TEST(escapes_every_special_character)
{
	struct buf b = BUF_INIT;
	const char *s = "<a href=\"x\" title='y'>Tom & Jerry</a>";
	buf_html(&b, s, strlen(s));
	CHECK_STR(b.data, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
	buf_free(&b);
}

TEST(raw_is_unchanged)
{
	struct buf b = BUF_INIT;
	buf_html_raw(&b, "<b>", 3);
	CHECK_STR(b.data, "<b>");
	buf_free(&b);
}

TEST(utf8_passes_through_escaping)
{
	struct buf b = BUF_INIT;
	const char *s = "Nguyễn Thị Ánh & Ольга";
	buf_html(&b, s, strlen(s));
	CHECK_STR(b.data, "Nguyễn Thị Ánh &amp; Ольга");
	buf_free(&b);
}

TEST(grows_and_formats)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "%d,", i % 10);
	CHECK(b.len == 20000);
	CHECK(b.data[b.len] == '\0');
	CHECK(!b.failed);
	size_t len;
	char *p = buf_steal(&b, &len);
	CHECK(len == 20000);
	CHECK(b.data == NULL && b.len == 0);
	free(p);
}

int main(void)
{
	RUN(escapes_every_special_character);
	RUN(raw_is_unchanged);
	RUN(utf8_passes_through_escaping);
	RUN(grows_and_formats);
	return CHECK_DONE();
}
