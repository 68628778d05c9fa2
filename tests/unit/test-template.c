/* test-template.c — the template engine, its load-time checks, and the real
 * pages in templates/ (or the folder given as argv[1]). */
#include "template.h"

#include "card.h"
#include "pages.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const char *templates_dir = "templates";

/* ---- helpers ------------------------------------------------------------ */

static const char EN[] =
	"# test catalogue\n"
	"lang.name = English\n"
	"hello = Hello <b>&\n"
	"two.lines = one\\ntwo\n"
	"back.slash = a\\\\b\n";
static const char FR[] =
	"lang.name = Français\n"
	"hello = Bonjour\n"
	"two.lines = un\\ndeux\n"
	"back.slash = a\\\\b\n";

/* Load templates given as name, text, name, text, ..., NULL with the EN and
 * FR catalogues above. Returns the set, or NULL with the reason in err. */
static struct tpl_set *load(char *err, size_t errlen, ...)
{
	struct tpl_source tpls[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, errlen);
	for (const char *name; n < 16 && (name = va_arg(ap, const char *));) {
		const char *text = va_arg(ap, const char *);
		tpls[n++] = (struct tpl_source){ name, NULL, text, strlen(text) };
	}
	va_end(ap);
	struct tpl_source cats[] = {
		{ "en", "en.txt", EN, strlen(EN) },
		{ "fr", "fr.txt", FR, strlen(FR) },
	};
	struct tpl_set *set = NULL;
	err[0] = '\0';
	if (tpl_set_load_sources(tpls, n, cats, 2, &set, err, errlen) < 0)
		return NULL;
	return set;
}

/* Load a single template "main" and return its load error ("" if none). */
static const char *load_error(const char *text)
{
	static char err[512];
	struct tpl_set *set = load(err, sizeof err, "main", text, "other", "x", NULL);
	if (set) {
		tpl_set_free(set);
		return "";
	}
	return err;
}

/* Render and return the text (from malloc(), caller frees), or NULL with
 * the reason in err. */
static char *render(const struct tpl_set *set, const char *name, const char *lang,
		    const char *json, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *ctx = json_loads(json, 0, &jerr);
	struct buf out = BUF_INIT;
	char *text = NULL;
	if (!ctx) {
		snprintf(err, errlen, "bad test JSON: %s", jerr.text);
		return NULL;
	}
	err[0] = '\0';
	if (tpl_render(set, name, lang, ctx, &out, err, errlen) == 0) {
		buf_puts(&out, "");   /* an empty page is still a string */
		text = buf_steal(&out, NULL);
	}
	buf_free(&out);
	json_decref(ctx);
	return text;
}

/* Render template text once with json; "ERROR: reason" on failure.
 * The result is valid until the next call. */
static const char *run(const char *text, const char *json)
{
	static char result[4096];
	char err[512];
	struct tpl_set *set = load(err, sizeof err, "main", text, NULL);
	if (!set) {
		snprintf(result, sizeof result, "LOAD ERROR: %s", err);
		return result;
	}
	char *out = render(set, "main", "en", json, err, sizeof err);
	if (out)
		snprintf(result, sizeof result, "%s", out);
	else
		snprintf(result, sizeof result, "ERROR: %s", err);
	free(out);
	tpl_set_free(set);
	return result;
}

#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	check_count++; \
	if (!h_ || !strstr(h_, n_)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, \
			n_, h_ ? h_ : "(null)"); \
	} \
} while (0)

#define CHECK_LACKS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	check_count++; \
	if (!h_ || strstr(h_, n_)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: did not expect \"%s\" in \"%s\"\n", __FILE__, __LINE__, \
			n_, h_ ? h_ : "(null)"); \
	} \
} while (0)

/* ---- values and escaping ------------------------------------------------ */

TEST(test_escaping)
{
	CHECK_STR(run("<p>{{s}}</p>", "{\"s\": \"&<>\\\"'\"}"), "<p>&amp;&lt;&gt;&quot;&#39;</p>");
	CHECK_STR(run("<a title=\"{{s}}\">", "{\"s\": \"\\\" onclick='x'\"}"),
		  "<a title=\"&quot; onclick=&#39;x&#39;\">");
	CHECK_STR(run("{{s}}", "{\"s\": \"<script>alert(1)</script>\"}"),
		  "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_STR(run("{{s}}", "{\"s\": \"Nguyễn Thị Ánh\"}"), "Nguyễn Thị Ánh");
	/* The template's own text is written as is. */
	CHECK_STR(run("<b class=\"x\">&amp;</b>", "{}"), "<b class=\"x\">&amp;</b>");
	CHECK_STR(run("", "{}"), "");
}

TEST(test_scalars)
{
	CHECK_STR(run("{{n}}|{{neg}}|{{r}}|{{t}}|{{f}}", "{\"n\": 42, \"neg\": -7, \"r\": 1.5, \"t\": true, \"f\": false}"),
		  "42|-7|1.5|true|false");
	CHECK_STR(run("{{ n }}", "{\"n\": 1}"), "1");   /* spaces inside braces */
	CHECK_STR(run("a}}b{c", "{}"), "a}}b{c");      /* stray braces are text */
	CHECK_STR(run("{{! a comment\n over lines }}x", "{}"), "x");
	CHECK_STR(run("{{a.b.c}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}"), "deep");
}

/* ---- sections ----------------------------------------------------------- */

TEST(test_sections)
{
	/* array of objects: one scope per element, outer names still visible */
	CHECK_STR(run("{{#items}}[{{name}}:{{unit}}]{{/items}}",
		      "{\"unit\": \"kg\", \"items\": [{\"name\": \"a\"}, {\"name\": \"<b>\", \"unit\": \"g\"}]}"),
		  "[a:kg][&lt;b&gt;:g]");
	/* array of scalars: {{.}} is the element */
	CHECK_STR(run("{{#xs}}<{{.}}>{{/xs}}", "{\"xs\": [\"a\", 2, \"&\"]}"), "<a><2><&amp;>");
	/* object: rendered once with it as scope */
	CHECK_STR(run("{{#user}}{{username}} ({{role}}){{/user}}",
		      "{\"user\": {\"username\": \"ana\", \"role\": \"clerk\"}}"), "ana (clerk)");
	/* an inner name shadows an outer one; a.b does not fall back outwards */
	CHECK_STR(run("{{#o}}{{x}}{{/o}}{{x}}", "{\"x\": 1, \"o\": {\"x\": 2}}"), "21");
	CHECK_CONTAINS(run("{{#o}}{{a.b}}{{/o}}", "{\"a\": {\"b\": 1}, \"o\": {\"a\": {}}}"), "ERROR:");
	/* true-ish values: once, with the value as {{.}} */
	CHECK_STR(run("{{#t}}yes{{/t}}", "{\"t\": true}"), "yes");
	CHECK_STR(run("{{#s}}[{{.}}]{{/s}}", "{\"s\": \"ana\"}"), "[ana]");
	CHECK_STR(run("{{#n}}[{{.}}]{{/n}}", "{\"n\": 3}"), "[3]");
	CHECK_STR(run("{{#r}}yes{{/r}}", "{\"r\": 0.5}"), "yes");
	CHECK_STR(run("{{#o}}yes{{/o}}", "{\"o\": {}}"), "yes");
	/* false-ish values and missing names: skipped */
	const char *falsy = "{\"f\": false, \"z\": null, \"e\": \"\", \"zero\": 0, \"rz\": 0.0, \"a\": []}";
	CHECK_STR(run("{{#f}}x{{/f}}{{#z}}x{{/z}}{{#e}}x{{/e}}{{#zero}}x{{/zero}}{{#rz}}x{{/rz}}"
		      "{{#a}}x{{/a}}{{#missing}}x{{/missing}}{{#m.n}}x{{/m.n}}.", falsy), ".");
	/* nested sections */
	CHECK_STR(run("{{#rows}}{{#cells}}{{.}}{{/cells}};{{/rows}}",
		      "{\"rows\": [{\"cells\": [1, 2]}, {\"cells\": []}, {\"cells\": [3]}]}"), "12;;3;");
	/* dotted section names */
	CHECK_STR(run("{{#a.b}}{{c}}{{/a.b}}", "{\"a\": {\"b\": {\"c\": \"in\"}}}"), "in");
	/* a value used as section and as text in the same template */
	CHECK_STR(run("{{#name}}Hi {{name}}{{/name}}", "{\"name\": \"x\"}"), "Hi x");
}

TEST(test_inverted)
{
	const char *ctx = "{\"t\": true, \"f\": false, \"z\": null, \"e\": \"\", \"s\": \"x\", "
			  "\"zero\": 0, \"one\": 1, \"a\": [], \"b\": [1], \"o\": {}}";
	CHECK_STR(run("{{^t}}T{{/t}}{{^f}}F{{/f}}{{^z}}Z{{/z}}{{^e}}E{{/e}}{{^s}}S{{/s}}"
		      "{{^zero}}0{{/zero}}{{^one}}1{{/one}}{{^a}}A{{/a}}{{^b}}B{{/b}}{{^o}}O{{/o}}"
		      "{{^missing}}M{{/missing}}", ctx), "FZE0AM");
	/* an inverted section does not push a scope */
	CHECK_STR(run("{{^f}}{{s}}{{/f}}", ctx), "x");
	/* if / else */
	CHECK_STR(run("{{#user}}in{{/user}}{{^user}}out{{/user}}", "{}"), "out");
	CHECK_STR(run("{{#user}}in{{/user}}{{^user}}out{{/user}}", "{\"user\": {\"u\": 1}}"), "in");
}

TEST(test_partials)
{
	char err[512];
	struct tpl_set *set = load(err, sizeof err,
				   "page", "<{{>head}}|{{#items}}{{>item}}{{/items}}>",
				   "head", "{{title}}",
				   "item", "({{name}}:{{title}})",
				   NULL);
	CHECK(set != NULL);
	if (!set) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	char *out = render(set, "page", "en", "{\"title\": \"T&\", \"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}",
			   err, sizeof err);
	CHECK_STR(out, "<T&amp;|(a:T&amp;)(b:T&amp;)>");
	free(out);
	/* a partial can be rendered by itself too */
	out = render(set, "head", "en", "{\"title\": \"x\"}", err, sizeof err);
	CHECK_STR(out, "x");
	free(out);
	/* an error inside a partial names the partial's file and line */
	out = render(set, "page", "en", "{\"items\": []}", err, sizeof err);
	CHECK(out == NULL);
	CHECK_STR(err, "head:1: {{title}}: no such value in the context");
	free(out);
	tpl_set_free(set);

	/* a diamond (two paths to the same partial) is not a cycle */
	set = load(err, sizeof err, "a", "{{>b}}{{>c}}", "b", "{{>d}}", "c", "{{>d}}", "d", "D", NULL);
	CHECK(set != NULL);
	out = set ? render(set, "a", "en", "{}", err, sizeof err) : NULL;
	CHECK_STR(out, "DD");
	free(out);
	tpl_set_free(set);
}

/* ---- translations and languages ----------------------------------------- */

TEST(test_translations)
{
	char err[512];
	struct tpl_set *set = load(err, sizeof err, "main", "{{t:hello}}|{{ t:two.lines }}|{{t:back.slash}}", NULL);
	CHECK(set != NULL);
	if (!set)
		return;
	char *out = render(set, "main", "en", "{}", err, sizeof err);
	CHECK_STR(out, "Hello &lt;b&gt;&amp;|one\ntwo|a\\b");
	free(out);
	out = render(set, "main", "fr", "{}", err, sizeof err);
	CHECK_STR(out, "Bonjour|un\ndeux|a\\b");
	free(out);
	/* unknown or missing language: the default one */
	out = render(set, "main", "de", "{}", err, sizeof err);
	CHECK_STR(out, "Hello &lt;b&gt;&amp;|one\ntwo|a\\b");
	free(out);
	out = render(set, "main", NULL, "{}", err, sizeof err);
	CHECK(out && strncmp(out, "Hello", 5) == 0);
	free(out);

	CHECK_STR(tpl_text(set, "fr", "hello"), "Bonjour");
	CHECK_STR(tpl_text(set, "en", "hello"), "Hello <b>&");   /* raw text: callers escape */
	CHECK_STR(tpl_text(set, "xx", "hello"), "Hello <b>&");
	CHECK_STR(tpl_text(set, NULL, "hello"), "Hello <b>&");
	CHECK(tpl_text(set, "fr", "no.such.key") == NULL);
	CHECK(tpl_text(set, "fr", "") == NULL);

	CHECK(tpl_lang_count(set) == 2);
	CHECK_STR(tpl_lang_code(set, 0), "en");
	CHECK_STR(tpl_lang_code(set, 1), "fr");
	CHECK(tpl_lang_code(set, 2) == NULL);
	CHECK_STR(tpl_lang_name(set, 0), "English");
	CHECK_STR(tpl_lang_name(set, 1), "Français");
	CHECK(tpl_lang_name(set, 2) == NULL);
	CHECK(tpl_has_lang(set, "fr") == 1);
	CHECK(tpl_has_lang(set, "de") == 0);
	CHECK(tpl_has_lang(set, NULL) == 0);
	CHECK(tpl_has_lang(set, "") == 0);
	CHECK_STR(tpl_default_lang(set), "en");
	tpl_set_free(set);
}

TEST(test_default_lang_without_english)
{
	static const char de[] = "lang.name = Deutsch\nk = Hallo\n";
	static const char fr[] = "lang.name = Français\nk = Salut\n";
	struct tpl_source cats[] = { { "fr", NULL, fr, strlen(fr) }, { "de", NULL, de, strlen(de) } };
	struct tpl_source tpls[] = { { "main", NULL, "{{t:k}}", 7 } };
	struct tpl_set *set = NULL;
	char err[256];
	CHECK(tpl_set_load_sources(tpls, 1, cats, 2, &set, err, sizeof err) == 0);
	if (!set)
		return;
	CHECK_STR(tpl_default_lang(set), "de");   /* the first, sorted by code */
	CHECK_STR(tpl_text(set, "en", "k"), "Hallo");
	char *out = render(set, "main", "en", "{}", err, sizeof err);
	CHECK_STR(out, "Hallo");
	free(out);
	tpl_set_free(set);
}

/* ---- render errors ------------------------------------------------------ */

TEST(test_render_errors)
{
	CHECK_STR(run("a\n{{missing}}", "{}"), "ERROR: main:2: {{missing}}: no such value in the context");
	CHECK_STR(run("{{a.b}}", "{\"a\": {}}"), "ERROR: main:1: {{a.b}}: no such value in the context");
	CHECK_STR(run("{{a.b}}", "{\"a\": 1}"), "ERROR: main:1: {{a.b}}: no such value in the context");
	CHECK_STR(run("{{z}}", "{\"z\": null}"), "ERROR: main:1: {{z}}: the value is null");
	CHECK_CONTAINS(run("{{o}}", "{\"o\": {}}"), "ERROR: main:1: {{o}}: an object or array");
	CHECK_CONTAINS(run("{{a}}", "{\"a\": [1]}"), "ERROR: main:1: {{a}}: an object or array");
	/* missing inside a section that renders */
	CHECK_STR(run("{{#xs}}\n{{name}}{{/xs}}", "{\"xs\": [{\"name\": 1}, {}]}"),
		  "ERROR: main:2: {{name}}: no such value in the context");
	/* {{.}} at the top is the whole context: an object */
	CHECK_CONTAINS(run("{{.}}", "{}"), "ERROR:");

	/* a failed render leaves the buffer as it was */
	char err[256];
	struct tpl_set *set = load(err, sizeof err, "main", "lots of text before {{missing}}", NULL);
	CHECK(set != NULL);
	if (!set)
		return;
	struct buf out = BUF_INIT;
	buf_puts(&out, "kept");
	json_t *ctx = json_object();
	CHECK(tpl_render(set, "main", "en", ctx, &out, err, sizeof err) == -1);
	CHECK(out.len == 4);
	CHECK_STR(out.data, "kept");
	CHECK(tpl_render(set, "nope", "en", ctx, &out, err, sizeof err) == -1);
	CHECK_STR(err, "no template named 'nope'");
	json_t *arr = json_array();
	CHECK(tpl_render(set, "main", "en", arr, &out, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "must be a JSON object");
	CHECK(tpl_render(set, "main", "en", NULL, &out, err, sizeof err) == -1);
	CHECK(tpl_render(set, "main", "en", ctx, &out, NULL, 0) == -1);   /* err is optional */
	CHECK_STR(out.data, "kept");
	json_decref(arr);
	json_decref(ctx);
	buf_free(&out);
	tpl_set_free(set);
}

/* ---- load errors: templates --------------------------------------------- */

TEST(test_template_load_errors)
{
	CHECK_STR(load_error("{{#a}}x\n{{/a}}"), "");

	/* sections */
	CHECK_STR(load_error("x\n{{#a}}\n"), "main:2: section 'a' is never closed");
	CHECK_STR(load_error("{{#a}}{{#b}}{{/a}}{{/b}}"), "main:1: {{/a}} does not match {{#b}} opened at line 1");
	CHECK_STR(load_error("\n\n{{/a}}"), "main:3: {{/a}}: closes a section that is not open");
	CHECK_STR(load_error("{{#a}}{{/a}}{{/a}}"), "main:1: {{/a}}: closes a section that is not open");
	CHECK_STR(load_error("{{^a}}x{{/b}}"), "main:1: {{/b}} does not match {{#a}} opened at line 1");

	/* tags */
	CHECK_STR(load_error("a\nb {{name"), "main:2: unterminated tag ('{{' without '}}')");
	CHECK_STR(load_error("{{a {{b}}"), "main:1: unterminated tag ('{{' inside a tag)");
	CHECK_STR(load_error("{{! see {{name}} }}"), "main:1: unterminated tag ('{{' inside a tag)");
	CHECK_STR(load_error("{{}}"), "main:1: empty tag {{}}");
	CHECK_STR(load_error("{{  }}"), "main:1: empty tag {{}}");
	CHECK_STR(load_error("{{#}}{{/}}"), "main:1: {{#}}: empty section name");
	CHECK_STR(load_error("{{^ }}"), "main:1: {{^}}: empty section name");
	CHECK_STR(load_error("{{#a}}{{/}}"), "main:1: {{/}}: empty section name");
	CHECK_STR(load_error("{{>}}"), "main:1: {{>}}: empty partial name");
	CHECK_STR(load_error("{{t:}}"), "main:1: {{t:}}: empty translation key");
	CHECK_CONTAINS(load_error("{{a b}}"), "main:1: {{a b}}: invalid name");
	CHECK_CONTAINS(load_error("{{a..b}}"), "invalid name");
	CHECK_CONTAINS(load_error("{{.a}}"), "invalid name");
	CHECK_CONTAINS(load_error("{{a.}}"), "invalid name");
	CHECK_CONTAINS(load_error("{{#a b}}{{/a b}}"), "invalid name");
	CHECK_CONTAINS(load_error("{{>a.b}}"), "invalid partial name");
	CHECK_CONTAINS(load_error("{{t:a b}}"), "invalid translation key");
	CHECK_CONTAINS(load_error("{{{html}}}"), "unescaped output is not supported");
	CHECK_CONTAINS(load_error("{{&html}}"), "unescaped output is not supported");
	CHECK_CONTAINS(load_error("{{=<% %>=}}"), "changing delimiters is not supported");

	/* partials */
	CHECK_STR(load_error("\n{{>nope}}"), "main:2: {{>nope}}: no template named 'nope'");
	CHECK_STR(load_error("{{>main}}"), "main:1: {{>main}}: partial cycle ('main' ends up including itself)");
	char err[256];
	struct tpl_set *set = load(err, sizeof err, "a", "{{>b}}", "b", "{{#x}}{{>c}}{{/x}}", "c", "{{>a}}", NULL);
	CHECK(set == NULL);
	CHECK_STR(err, "c:1: {{>a}}: partial cycle ('a' ends up including itself)");
	tpl_set_free(set);

	/* translation keys must be in the catalogues */
	CHECK_STR(load_error("x\n{{t:nope}}"), "main:2: {{t:nope}}: translation key missing from the catalogues");

	/* UTF-8 */
	CHECK_STR(load_error("ok\nbad \xff"), "main:2: not valid UTF-8 text");
	CHECK_STR(load_error("\xc0\xaf"), "main:1: not valid UTF-8 text");       /* overlong '/' */
	CHECK_STR(load_error("\xed\xa0\x80"), "main:1: not valid UTF-8 text");   /* surrogate */
	CHECK_STR(load_error("\xf4\x90\x80\x80"), "main:1: not valid UTF-8 text"); /* > U+10FFFF */
	CHECK_STR(load_error("\xe2\x82"), "main:1: not valid UTF-8 text");       /* cut short */
	CHECK_STR(load_error("caf\xc3\xa9 \xf0\x9f\x99\x82"), "");               /* é 🙂 */
	struct tpl_source nul = { "main", NULL, "a\0b", 3 };
	struct tpl_source cat = { "en", NULL, EN, strlen(EN) };
	CHECK(tpl_set_load_sources(&nul, 1, &cat, 1, &set, err, sizeof err) == -1);
	CHECK_STR(err, "main:1: not valid UTF-8 text");

	/* names of templates */
	struct tpl_source bad_name = { "a.b", "a.b.html", "x", 1 };
	CHECK(tpl_set_load_sources(&bad_name, 1, &cat, 1, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "a.b.html: template name 'a.b' may only use");
	struct tpl_source twice[] = { { "a", "1/a.html", "x", 1 }, { "a", "2/a.html", "y", 1 } };
	CHECK(tpl_set_load_sources(twice, 2, &cat, 1, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "template 'a' given twice");
}

/* n sections nested, each on its own line, as "{{#a}}\n...{{/a}}" */
static char *nested(int n)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < n; i++)
		buf_puts(&b, "{{#a}}\n");
	buf_puts(&b, "{{.}}");
	for (int i = 0; i < n; i++)
		buf_puts(&b, "{{/a}}");
	return buf_steal(&b, NULL);
}

TEST(test_depth_limit)
{
	char *ok = nested(TPL_MAX_DEPTH);
	char *deep = nested(TPL_MAX_DEPTH + 1);
	CHECK_STR(load_error(ok), "");
	CHECK_STR(load_error(deep), "main:33: {{#a}}: sections nested too deep");
	/* rendering the deepest allowed nesting works: a = [[[...1...]]] */
	struct buf json = BUF_INIT;
	buf_puts(&json, "{\"a\": ");
	for (int i = 0; i < TPL_MAX_DEPTH - 1; i++)
		buf_puts(&json, "{\"a\": ");
	buf_puts(&json, "7");
	for (int i = 0; i < TPL_MAX_DEPTH; i++)
		buf_puts(&json, "}");
	const char *r = run(ok, json.data);   /* a newline per level, then 7 */
	CHECK(strspn(r, "\n") == TPL_MAX_DEPTH && strcmp(r + TPL_MAX_DEPTH, "7") == 0);
	buf_free(&json);

	/* sections and partials count together */
	char err[256];
	char *half = nested(TPL_MAX_DEPTH / 2);   /* 16 sections */
	struct buf outer = BUF_INIT;
	for (int i = 0; i < TPL_MAX_DEPTH / 2; i++)
		buf_puts(&outer, "{{#b}}");
	buf_puts(&outer, "{{>inner}}");
	for (int i = 0; i < TPL_MAX_DEPTH / 2; i++)
		buf_puts(&outer, "{{/b}}");
	/* 16 + 1 (the partial) + 16 = 33 */
	struct tpl_set *set = load(err, sizeof err, "outer", outer.data, "inner", half, NULL);
	CHECK(set == NULL);
	CHECK_CONTAINS(err, "nested more than 32 deep");
	tpl_set_free(set);
	/* a long chain of partials */
	set = load(err, sizeof err, "p0", "{{>p1}}", "p1", "{{>p2}}", "p2", "{{#x}}{{>p3}}{{/x}}", "p3", ok, NULL);
	CHECK(set == NULL);   /* p3 alone is 32 deep; p2 adds a section and a partial */
	CHECK_CONTAINS(err, "nested more than 32 deep");
	tpl_set_free(set);

	buf_free(&outer);
	free(half);
	free(ok);
	free(deep);
}

TEST(test_render_limits)
{
	/* 4^11 = 4 million iterations: stopped, not run for minutes */
	struct buf tpl = BUF_INIT;
	for (int i = 0; i < 11; i++)
		buf_puts(&tpl, "{{#xs}}");
	buf_puts(&tpl, "x");
	for (int i = 0; i < 11; i++)
		buf_puts(&tpl, "{{/xs}}");
	CHECK_CONTAINS(run(tpl.data, "{\"xs\": [1, 2, 3, 4]}"), "ERROR: main:1: render stopped after");
	buf_free(&tpl);

	/* 16 MiB of output at most */
	struct buf big = BUF_INIT;
	buf_puts(&big, "{{#xs}}{{#xs}}");
	for (int i = 0; i < 64; i++)
		buf_puts(&big, "0123456789abcdef");
	buf_puts(&big, "{{/xs}}{{/xs}}");
	struct buf json = BUF_INIT;
	buf_puts(&json, "{\"xs\": [0");
	for (int i = 1; i < 200; i++)
		buf_puts(&json, ", 0");
	buf_puts(&json, "]}");   /* 200 * 200 * 1 KiB = 40 MB */
	CHECK_CONTAINS(run(big.data, json.data), "ERROR: main:1: output larger than");
	buf_free(&big);
	buf_free(&json);
}

/* ---- load errors: catalogues -------------------------------------------- */

/* Load one template {{t:k}} with the given catalogues; "" or the error. */
static const char *cat_error(const char *code1, const char *text1, const char *code2, const char *text2)
{
	static char err[512];
	char p1[64], p2[64];
	snprintf(p1, sizeof p1, "%s.txt", code1);
	snprintf(p2, sizeof p2, "%s.txt", code2 ? code2 : "");
	struct tpl_source cats[] = {
		{ code1, p1, text1, strlen(text1) },
		{ code2, p2, text2, text2 ? strlen(text2) : 0 },
	};
	struct tpl_source tpl = { "main", NULL, "{{t:k}}", 7 };
	struct tpl_set *set = NULL;
	if (tpl_set_load_sources(&tpl, 1, cats, code2 ? 2 : 1, &set, err, sizeof err) == 0) {
		tpl_set_free(set);
		return "";
	}
	return err;
}

TEST(test_catalogue_errors)
{
	const char *en = "lang.name = English\nk = v\n";
	CHECK_STR(cat_error("en", en, NULL, NULL), "");
	CHECK_STR(cat_error("en", "# c\r\n\r\n  lang.name=English  \r\nk=v\r\n", NULL, NULL), "");
	CHECK_STR(cat_error("en", "lang.name = English\nk = a = b\n", NULL, NULL), "");   /* '=' in text */

	/* key sets differ, in both directions: name the key and the file */
	CHECK_STR(cat_error("en", en, "fr", "lang.name = Français\n"),
		  "fr.txt: missing key 'k' (defined in en.txt:2)");
	CHECK_STR(cat_error("en", en, "fr", "lang.name = Français\nk = v\n\nextra = x\n"),
		  "en.txt: missing key 'extra' (defined in fr.txt:4)");
	CHECK_STR(cat_error("en", en, "fr", "k = v\nlang.name = Français\n"), "");   /* order is free */

	/* format */
	CHECK_STR(cat_error("en", "lang.name = English\nk\n", NULL, NULL), "en.txt:2: expected 'key = value'");
	CHECK_STR(cat_error("en", "lang.name = English\n = v\n", NULL, NULL),
		  "en.txt:2: invalid key '' (letters, digits, _ - and .)");
	CHECK_STR(cat_error("en", "lang.name = English\nk k = v\n", NULL, NULL),
		  "en.txt:2: invalid key 'k k' (letters, digits, _ - and .)");
	CHECK_STR(cat_error("en", "lang.name = English\nk =   \n", NULL, NULL), "en.txt:2: empty text for 'k'");
	CHECK_STR(cat_error("en", "lang.name = English\nk = a\\tb\n", NULL, NULL),
		  "en.txt:2: unknown escape after '\\' (use \\n or \\\\)");
	CHECK_STR(cat_error("en", "lang.name = English\nk = a\\\n", NULL, NULL),
		  "en.txt:2: unknown escape after '\\' (use \\n or \\\\)");
	CHECK_STR(cat_error("en", "k = v\nlang.name = English\n\nk = w\n", NULL, NULL),
		  "en.txt:4: key 'k' already defined at line 1");
	CHECK_STR(cat_error("en", "k = v\n", NULL, NULL),
		  "en.txt: missing 'lang.name' (the language's own name, like Français)");
	CHECK_STR(cat_error("en", "lang.name = English\nk = caf\xe9\n", NULL, NULL),
		  "en.txt:2: not valid UTF-8 text");

	/* language codes */
	CHECK_STR(cat_error("e", en, NULL, NULL), "e.txt: language code 'e' must be 2 to 8 characters of a-z and -");
	CHECK_CONTAINS(cat_error("EN", en, NULL, NULL), "language code 'EN' must be");
	CHECK_CONTAINS(cat_error("fr_CA", en, NULL, NULL), "language code 'fr_CA' must be");
	CHECK_CONTAINS(cat_error("abcdefghi", en, NULL, NULL), "must be 2 to 8");
	CHECK_STR(cat_error("fr-ca", en, NULL, NULL), "");
	CHECK_CONTAINS(cat_error("en", en, "en", en), "language 'en' given twice");

	/* no catalogue at all */
	struct tpl_set *set = NULL;
	char err[256];
	CHECK(tpl_set_load_sources(NULL, 0, NULL, 0, &set, err, sizeof err) == -1);
	CHECK_STR(err, "no language catalogue");
	CHECK(set == NULL);
}

/* ---- loading a folder --------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

TEST(test_load_dir)
{
	char dir[] = "/tmp/civicard-tpl-XXXXXX";
	char i18n[64], err[512];
	struct tpl_set *set = NULL;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(i18n, sizeof i18n, "%s/i18n", dir);

	CHECK(tpl_set_load(dir, &set, err, sizeof err) == -1);   /* no i18n folder */
	CHECK_CONTAINS(err, "/i18n: No such file");
	mkdir(i18n, 0700);
	CHECK(tpl_set_load(dir, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "/i18n: no language catalogue (no .txt file)");

	write_file(i18n, "en.txt", "lang.name = English\nhi = Hi\n");
	write_file(i18n, "fr.txt", "lang.name = Français\n");
	write_file(dir, "page.html", "{{t:hi}} {{who}}\n");
	write_file(dir, "notes.md", "{{ignored");        /* other files are ignored */
	write_file(dir, ".page.html.swp", "{{ignored"); /* so are hidden files */
	CHECK(tpl_set_load(dir, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "/i18n/fr.txt: missing key 'hi' (defined in ");
	CHECK_CONTAINS(err, "/i18n/en.txt:2)");

	write_file(i18n, "fr.txt", "lang.name = Français\nhi = Salut\n");
	write_file(i18n, "EN_GB.txt", "lang.name = English\nhi = Hi\n");
	CHECK(tpl_set_load(dir, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "EN_GB.txt: language code 'EN_GB' must be");
	remove_file(i18n, "EN_GB.txt");

	write_file(dir, "broken.html", "ok\n{{#open}}\n");
	CHECK(tpl_set_load(dir, &set, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "/broken.html:2: section 'open' is never closed");
	remove_file(dir, "broken.html");

	CHECK(tpl_set_load(dir, &set, err, sizeof err) == 0);
	if (set) {
		char *out = render(set, "page", "fr", "{\"who\": \"<Zoé>\"}", err, sizeof err);
		CHECK_STR(out, "Salut &lt;Zoé&gt;\n");
		free(out);
		CHECK_STR(tpl_lang_name(set, 1), "Français");
		tpl_set_free(set);
	}
	tpl_set_free(NULL);

	remove_file(dir, "page.html");
	remove_file(dir, "notes.md");
	remove_file(dir, ".page.html.swp");
	remove_file(i18n, "en.txt");
	remove_file(i18n, "fr.txt");
	rmdir(i18n);
	rmdir(dir);
}

/* ---- the real pages ----------------------------------------------------- */

/* Render a real page in a language; returns the HTML (caller frees), or
 * NULL with the reason in page_err. */
static char page_err[512];

static char *page(const struct tpl_set *set, const char *name, const char *lang, const char *extra_json)
{
	char json[4096];
	snprintf(json, sizeof json,
		 "{\"lang\": \"%s\", \"langs\": ["
		 "{\"code\": \"en\", \"name\": \"English\", \"current\": %s},"
		 "{\"code\": \"fr\", \"name\": \"Français\", \"current\": %s}]%s%s}",
		 lang, strcmp(lang, "en") == 0 ? "true" : "false", strcmp(lang, "fr") == 0 ? "true" : "false",
		 extra_json[0] ? ", " : "", extra_json);
	return render(set, name, lang, json, page_err, sizeof page_err);
}

/* How many times needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* 1 when every <script in html is exactly <script src="/static/NAME.js"
 * defer></script>: files of ours, nothing inline (the CSP forbids it). */
static int scripts_are_static_files(const char *html)
{
	for (const char *p = html; (p = strstr(p, "<script")); p++) {
		const char *q = p + strlen("<script");
		if (strncmp(q, " src=\"/static/", 14) != 0)
			return 0;
		q += 14;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-')
			q++;
		if (strncmp(q, ".js\" defer></script>", 20) != 0)
			return 0;
	}
	return 1;
}

/* 1 when html has an attribute like onclick= (letters after " on", then =). */
static int has_event_handler(const char *html)
{
	for (const char *p = html; (p = strstr(p, " on")); p++) {
		const char *q = p + 3;
		while (*q >= 'a' && *q <= 'z')
			q++;
		if (q > p + 3 && *q == '=')
			return 1;
	}
	return 0;
}

/* What every full page must look like, in language lang; allow_url for
 * a page that shows the service's own address (the resident's receipt). */
static void check_page_shape_url(const char *html, const char *lang, int allow_url);

static void check_page_shape(const char *html, const char *lang)
{
	check_page_shape_url(html, lang, 0);
}

static void check_page_shape_url(const char *html, const char *lang, int allow_url)
{
	char want[64];
	snprintf(want, sizeof want, "<html lang=\"%s\">", lang);
	CHECK(html != NULL);
	if (!html) {
		fprintf(stderr, "  render failed: %s\n", page_err);
		return;
	}
	CHECK(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
	CHECK_CONTAINS(html, want);
	CHECK_CONTAINS(html, "<meta name=\"viewport\"");
	CHECK_CONTAINS(html, "<link rel=\"stylesheet\" href=\"/static/style.css\">");
	CHECK_CONTAINS(html, "<title>");
	CHECK_CONTAINS(html, "class=\"skip-link\" href=\"#main\"");
	CHECK_CONTAINS(html, "<main id=\"main\"");
	CHECK_CONTAINS(html, "</main>");
	CHECK_CONTAINS(html, "</html>\n");
	CHECK_CONTAINS(html, strcmp(lang, "en") == 0 ? "<a href=\"?lang=fr\"" : "<a href=\"?lang=en\"");
	CHECK_CONTAINS(html, "aria-current=\"true\"");
	/* the CSP forbids these; nothing may leak through unrendered */
	CHECK(scripts_are_static_files(html));
	CHECK_LACKS(html, "style=");
	CHECK(!has_event_handler(html));   /* no inline event handlers either */
	if (!allow_url) {
		CHECK_LACKS(html, "http:");
		CHECK_LACKS(html, "https:");
	}
	CHECK_LACKS(html, "{{");
	CHECK_LACKS(html, "}}");
}

TEST(test_real_pages)
{
	char err[512];
	struct tpl_set *set = NULL;
	if (tpl_set_load(templates_dir, &set, err, sizeof err) < 0) {
		fprintf(stderr, "  %s\n", err);
		CHECK(!"the real templates load");
		return;
	}
	CHECK(tpl_lang_count(set) >= 2);
	CHECK(tpl_has_lang(set, "en") && tpl_has_lang(set, "fr"));
	CHECK_STR(tpl_default_lang(set), "en");
	CHECK_STR(tpl_text(set, "fr", "lang.name"), "Français");
	CHECK_STR(tpl_text(set, "en", "lang.name"), "English");
	CHECK_STR(tpl_text(set, "en", "app.name"), "civicard");

	const char *user = "\"user\": {\"username\": \"o'<brien>\", \"role\": \"clerk\"}, "
			   "\"csrf\": \"tok&en\"";
	const char *langs[] = { "en", "fr" };
	for (size_t i = 0; i < 2; i++) {
		const char *lang = langs[i];
		int fr = strcmp(lang, "fr") == 0;
		char extra[1024];
		char *html;

		/* login: bare, then with every flag and a refilled user name */
		html = page(set, "login", lang, "\"csrf\": \"t0k\"");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "action=\"/login\"");
		CHECK_CONTAINS(html, "name=\"csrf\" value=\"t0k\"");
		CHECK_CONTAINS(html, "autocomplete=\"username\"");
		CHECK_CONTAINS(html, "autocomplete=\"current-password\"");
		CHECK_CONTAINS(html, "value=\"\"");
		CHECK_LACKS(html, "role=\"alert\"");
		CHECK_LACKS(html, "action=\"/logout\"");
		CHECK_CONTAINS(html, fr ? "Connexion du personnel" : "Staff sign-in");
		free(html);
		html = page(set, "login", lang, "\"csrf\": \"t0k\", \"username\": \"a\\\"b\", "
			    "\"error_invalid\": true, \"error_throttled\": true, \"error_csrf\": true");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "value=\"a&quot;b\"");
		CHECK_CONTAINS(html, "aria-describedby=\"login-error\"");
		CHECK_CONTAINS(html, "id=\"login-error\"");
		CHECK_CONTAINS(html, fr ? "incorrect" : "Wrong user name or password");
		CHECK_CONTAINS(html, fr ? "Trop de tentatives" : "Too many attempts");
		CHECK_CONTAINS(html, fr ? "a expiré" : "expired");
		CHECK_LACKS(html, fr ? "pas disponible" : "not available");
		free(html);
		html = page(set, "login", lang, "\"csrf\": \"t\", \"username\": \"u\", \"error_unavailable\": true");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, fr ? "pas disponible" : "not available");
		free(html);
		html = page(set, "login", lang, "");   /* csrf is required */
		CHECK(html == NULL);
		CHECK_CONTAINS(page_err, "login.html:");
		CHECK_CONTAINS(page_err, ": {{csrf}}: no such value in the context");
		free(html);

		/* password */
		snprintf(extra, sizeof extra, "%s, \"must_change\": true", user);
		html = page(set, "password", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "action=\"/password\"");
		CHECK_CONTAINS(html, "name=\"current_password\"");
		CHECK_CONTAINS(html, "name=\"new_password\"");
		CHECK_CONTAINS(html, "name=\"confirm_password\"");
		CHECK_CONTAINS(html, "autocomplete=\"new-password\"");
		CHECK_CONTAINS(html, "value=\"tok&amp;en\"");
		CHECK_CONTAINS(html, "o&#39;&lt;brien&gt;");
		CHECK_CONTAINS(html, "action=\"/logout\"");
		CHECK_CONTAINS(html, fr ? "usage unique" : "one-time password");
		CHECK_CONTAINS(html, "aria-describedby=\"new_password-hint\"");
		CHECK_LACKS(html, "role=\"alert\"");
		free(html);
		snprintf(extra, sizeof extra, "%s, \"error_wrong_current\": true, \"error_mismatch\": true, "
			 "\"error_weak\": true, \"error_csrf\": true", user);
		html = page(set, "password", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "aria-describedby=\"current_password-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"new_password-hint new_password-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"confirm_password-error\"");
		CHECK_CONTAINS(html, fr ? "au moins 10" : "at least 10");
		CHECK_LACKS(html, fr ? "pas disponible" : "not available");
		free(html);
		snprintf(extra, sizeof extra, "%s, \"error_unavailable\": true", user);
		html = page(set, "password", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, fr ? "pas disponible" : "not available");
		free(html);
		snprintf(extra, sizeof extra, "%s, \"changed\": true", user);
		html = page(set, "password", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "role=\"status\"");
		CHECK_LACKS(html, "action=\"/password\"");
		free(html);

		/* dashboard, per role */
		snprintf(extra, sizeof extra, "%s, \"is_clerk\": true", user);
		html = page(set, "dashboard", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, fr ? "Tableau de bord" : "Dashboard");
		CHECK_CONTAINS(html, fr ? "Guichet" : "Clerk");
		CHECK_CONTAINS(html, "id=\"cards-heading\"");
		CHECK_LACKS(html, "id=\"admin-heading\"");
		CHECK_LACKS(html, "id=\"audit-heading\"");
		CHECK_CONTAINS(html, "href=\"/password\"");
		free(html);
		snprintf(extra, sizeof extra, "%s, \"is_admin\": true", user);
		html = page(set, "dashboard", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "id=\"cards-heading\"");
		CHECK_CONTAINS(html, "id=\"admin-heading\"");
		CHECK_LACKS(html, "id=\"audit-heading\"");
		free(html);
		/* the server's flags are abilities: an admin has all three */
		snprintf(extra, sizeof extra, "%s, \"is_admin\": true, \"is_clerk\": true, \"is_auditor\": true", user);
		html = page(set, "dashboard", lang, extra);
		check_page_shape(html, lang);
		CHECK(count(html, "id=\"cards-heading\"") == 1);
		CHECK_CONTAINS(html, "id=\"admin-heading\"");
		CHECK_CONTAINS(html, "id=\"audit-heading\"");
		CHECK_CONTAINS(html, fr ? "<span class=\"role\">Administration</span>" : "<span class=\"role\">Administrator</span>");
		CHECK_CONTAINS(html, fr ? "<strong>Administration</strong>" : "<strong>Administrator</strong>");
		free(html);
		/* role flags inside user work for every page, not just the dashboard */
		html = page(set, "password", lang, "\"user\": {\"username\": \"a\", \"role\": \"auditor\", "
			    "\"is_auditor\": true}, \"csrf\": \"x\"");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, fr ? "<span class=\"role\">Audit</span>" : "<span class=\"role\">Auditor</span>");
		free(html);
		snprintf(extra, sizeof extra, "%s, \"is_auditor\": true", user);
		html = page(set, "dashboard", lang, extra);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "id=\"audit-heading\"");
		CHECK_LACKS(html, "id=\"cards-heading\"");
		free(html);
		html = page(set, "dashboard", lang, user);   /* no role flags: the raw role */
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<span class=\"role\">clerk</span>");
		free(html);
		html = page(set, "dashboard", lang, "\"user\": {\"username\": \"a\", \"role\": \"clerk\"}");
		CHECK(html == NULL);   /* csrf is required with user */
		CHECK_CONTAINS(page_err, "layout_header.html:");
		CHECK_CONTAINS(page_err, ": {{csrf}}: no such value in the context");
		free(html);

		/* error pages */
		html = page(set, "error", lang, "\"status\": 404, \"is_404\": true");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, fr ? "Erreur 404" : "Error 404");
		CHECK_CONTAINS(html, fr ? "Cette page n’existe pas" : "This page does not exist");
		CHECK_CONTAINS(html, "<a href=\"/\">");
		CHECK_LACKS(html, "action=\"/logout\"");
		free(html);
		const char *statuses[] = { "400", "401", "403", "405", "413", "429", "500", "503" };
		for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++) {
			char key[32];
			snprintf(extra, sizeof extra, "%s, \"status\": %s, \"is_%s\": true", user,
				 statuses[k], statuses[k]);
			snprintf(key, sizeof key, "error.%s", statuses[k]);
			html = page(set, "error", lang, extra);
			check_page_shape(html, lang);
			CHECK_CONTAINS(html, "action=\"/logout\"");
			/* the translated text, escaped as the page writes it */
			struct buf esc = BUF_INIT;
			const char *text = tpl_text(set, lang, key);
			CHECK(text != NULL);
			if (text) {
				buf_html(&esc, text, strlen(text));
				CHECK_CONTAINS(html, esc.data);
			}
			buf_free(&esc);
			free(html);
		}
		html = page(set, "error", lang, "\"status\": 418");   /* no flag: still a page */
		check_page_shape(html, lang);
		free(html);
	}
	tpl_set_free(set);
}

/* ---- the clerk's card pages ------------------------------------------- */

/* Render a real page with ctx (taken) plus the common members a signed-in
 * clerk's page has; returns the HTML (caller frees) or NULL (page_err). */
static char *card_page(const struct tpl_set *set, const char *name, const char *lang, json_t *ctx)
{
	json_object_set_new(ctx, "lang", json_string(lang));
	json_object_set_new(ctx, "langs", json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}]",
		"code", "en", "name", "English", "current", strcmp(lang, "en") == 0,
		"code", "fr", "name", "Français", "current", strcmp(lang, "fr") == 0));
	json_object_set_new(ctx, "user", json_pack("{s:s, s:s, s:b}", "username", "clerk1", "role",
						   "clerk", "is_clerk", 1));
	json_object_set_new(ctx, "csrf", json_string("tok&en"));
	struct buf out = BUF_INIT;
	char *text = NULL;
	page_err[0] = '\0';
	if (tpl_render(set, name, lang, ctx, &out, page_err, sizeof page_err) == 0) {
		buf_puts(&out, "");
		text = buf_steal(&out, NULL);
	}
	buf_free(&out);
	json_decref(ctx);
	return text;
}

/* The catalogue text of key, HTML-escaped as pages write it. Valid until
 * the next call. */
static const char *esc_text(const struct tpl_set *set, const char *lang, const char *key)
{
	static char out[2048];
	const char *t = tpl_text(set, lang, key);
	struct buf b = BUF_INIT;
	if (!t) {
		snprintf(out, sizeof out, "(no key %s)", key);
		return out;
	}
	buf_html(&b, t, strlen(t));
	snprintf(out, sizeof out, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

/* The name="" attributes a card form may have (the meta viewport too). */
static const char *const issue_fields[] = {
	"viewport", "csrf", "given_names", "family_name", "date_of_birth", "photo", "address",
	"gender", "language", "evidence", NULL,
};

/* 1 when every name="X" in html has X in allowed (NULL-terminated). */
static int only_names(const char *html, const char *const *allowed)
{
	for (const char *p = html; (p = strstr(p, " name=\"")); p++) {
		const char *v = p + 7, *end = strchr(v, '"');
		int ok = 0;
		for (const char *const *a = allowed; end && *a; a++)
			ok |= strlen(*a) == (size_t)(end - v) && strncmp(v, *a, (size_t)(end - v)) == 0;
		if (!ok) {
			fprintf(stderr, "  unexpected field %.*s\n", end ? (int)(end - v) : 20, v);
			return 0;
		}
	}
	return 1;
}

/* The issue form's context as pages_cards.c builds it (the labels are
 * not read from the catalogue here: the page only has to show them). */
static json_t *issue_ctx(void)
{
	json_t *ev = json_array();
	for (const char *const *t = card_evidence_types; *t; t++)
		json_array_append_new(ev, json_pack("{s:s, s:s, s:b}", "code", *t, "label", *t,
						    "checked", strcmp(*t, "passport") == 0));
	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:[{s:s, s:s, s:s, s:b}, {s:s, s:s, s:s, s:b}],"
			 " s:[{s:s, s:s, s:b}, {s:s, s:s, s:b}], s:o, s:i, s:s, s:{}, s:[], s:b}",
		"values", "given_names", "Zoé <b>", "family_name", "N\"guyen", "date_of_birth", "1985-03-27",
			"address", "",
		"genders", "value", "", "id", "gender-none", "label", "GENDER-NONE", "checked", 0,
			"value", "X", "id", "gender-X", "label", "GENDER-X", "checked", 1,
		"languages", "code", "", "name", "LANG-NONE", "selected", 0,
			"code", "fr", "name", "LANG-FR", "selected", 1,
		"evidence_types", ev,
		"photo_max_mb", 8, "today", "2025-06-01",
		"error", "error_list", "has_errors", 0);
}

static void add_field_error(json_t *ctx, const char *field, const char *anchor, const char *msg)
{
	json_object_set_new(json_object_get(ctx, "error"), field, json_string(msg));
	json_array_append_new(json_object_get(ctx, "error_list"),
			      json_pack("{s:s, s:s}", "anchor", anchor, "message", msg));
	json_object_set_new(ctx, "has_errors", json_true());
}

/* A card as card_json() gives it, plus what the card page adds. */
static json_t *card_obj(const char *status)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			 " s:[s], s:n, s:b, s:b, s:b, s:[s, s]}",
		"card_number", "K7QM4TXP9WF", "card_number_formatted", "K7QM-4TXP-9WF", "version", 1,
		"status", status, "given_names", "Thị Ánh <i>", "family_name", "Nguyễn", "date_of_birth",
		"1985-03-27", "issued_on", "2025-06-01", "expires_on", "2030-06-01",
		"pdf_url", "/api/v1/cards/K7QM4TXP9WF/pdf", "photo_url", "/api/v1/cards/K7QM4TXP9WF/photo",
		"qr_text", "https://id.example.org/v#AAAA", "gender", "X", "language", "fr",
		"evidence", "passport", "address",
		"is_active", strcmp(status, "active") == 0, "is_expired", strcmp(status, "expired") == 0,
		"is_revoked", strcmp(status, "revoked") == 0,
		"evidence_labels", "Passport", "Letter & co");
}

/* The card page's actions as pages_cards.c builds them (reason labels
 * "R-code"; selected: the reason to preselect, or NULL). */
static json_t *actions_obj(int can_revoke, int can_reissue, const char *selected)
{
	static const char *const reasons[] = { "lost", "stolen", "damaged", "error", "other" };
	json_t *list = json_array();
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		char label[32];
		snprintf(label, sizeof label, "R-%s", reasons[i]);
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", reasons[i], "label", label,
						      "selected", selected && strcmp(selected, reasons[i]) == 0));
	}
	return json_pack("{s:b, s:b, s:b, s:o}", "can_revoke", can_revoke, "can_reissue", can_reissue,
			 "can_renew", 1, "reasons", list);
}

TEST(test_card_pages)
{
	char err[512];
	struct tpl_set *set = NULL;
	if (tpl_set_load(templates_dir, &set, err, sizeof err) < 0) {
		fprintf(stderr, "  %s\n", err);
		CHECK(!"the real templates load");
		return;
	}
	/* Every key pages_cards.c looks up at run time is in the catalogues. */
	err[0] = '\0';
	CHECK(ui_cards_check(set, err, sizeof err) == 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);

	const char *langs[] = { "en", "fr" };
	for (size_t i = 0; i < 2; i++) {
		const char *lang = langs[i], *other = i == 0 ? "fr" : "en";
		char *html;
		json_t *ctx;

		/* the issue form, fresh */
		html = card_page(set, "card_new", lang, issue_ctx());
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<script src=\"/static/card-form.js\" defer></script>");
		CHECK_CONTAINS(html, "action=\"/cards/new\" enctype=\"multipart/form-data\"");
		CHECK_CONTAINS(html, "name=\"csrf\" value=\"tok&amp;en\"");
		CHECK_CONTAINS(html, "accept=\"image/jpeg,image/png\" capture=\"user\"");
		CHECK_CONTAINS(html, "type=\"date\"");
		CHECK_CONTAINS(html, "max=\"2025-06-01\"");
		CHECK_CONTAINS(html, "value=\"Zoé &lt;b&gt;\"");
		CHECK_CONTAINS(html, "value=\"N&quot;guyen\"");
		CHECK_CONTAINS(html, "value=\"1985-03-27\"");
		CHECK(count(html, "autofocus") == 1);
		CHECK_CONTAINS(html, "required autofocus value=\"Zoé");   /* on the first field */
		CHECK_CONTAINS(html, "id=\"gender-X\" name=\"gender\" value=\"X\" checked");
		CHECK_CONTAINS(html, "<option value=\"fr\" selected>LANG-FR</option>");
		CHECK_CONTAINS(html, "id=\"evidence-passport\" name=\"evidence\" value=\"passport\" checked");
		CHECK_CONTAINS(html, "id=\"evidence-school_record\" name=\"evidence\" value=\"school_record\">");
		CHECK_CONTAINS(html, "id=\"camera\" hidden");
		CHECK_CONTAINS(html, "id=\"photo-preview\" hidden");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.new.title"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.camera.start"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.camera.denied"));
		CHECK_CONTAINS(html, "aria-describedby=\"given_names-hint\"");
		CHECK_LACKS(html, "aria-invalid");
		CHECK_LACKS(html, "error-summary");
		CHECK_LACKS(html, "role=\"alert\"");
		/* only the fields the service collects: nothing else, no free text */
		CHECK(only_names(html, issue_fields));
		CHECK_LACKS(html, "<textarea");
		free(html);

		/* the issue form, refused: summary at the top, messages at the fields */
		ctx = issue_ctx();
		add_field_error(ctx, "given_names", "given_names", "GN-ERROR");
		add_field_error(ctx, "photo", "photo", "PHOTO-ERROR");
		add_field_error(ctx, "gender", "gender-none", "GENDER-ERROR");
		add_field_error(ctx, "evidence", "evidence-passport", "EV-ERROR");
		html = card_page(set, "card_new", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "class=\"error-summary\" role=\"alert\"");
		CHECK_CONTAINS(html, "<a href=\"#given_names\">GN-ERROR</a>");
		CHECK_CONTAINS(html, "<a href=\"#photo\">PHOTO-ERROR</a>");
		CHECK_CONTAINS(html, "<a href=\"#gender-none\">GENDER-ERROR</a>");
		CHECK_CONTAINS(html, "<a href=\"#evidence-passport\">EV-ERROR</a>");
		CHECK_CONTAINS(html, "id=\"given_names-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"given_names-hint given_names-error\" aria-invalid=\"true\"");
		CHECK_CONTAINS(html, "aria-describedby=\"photo-hint photo-again photo-error\" aria-invalid=\"true\"");
		CHECK_CONTAINS(html, "aria-describedby=\"gender-hint gender-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"evidence-hint evidence-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"family_name-hint\"");   /* fine fields stay plain */
		CHECK(count(html, "aria-invalid=\"true\"") == 2);
		CHECK(count(html, "GN-ERROR") == 2);   /* summary + field */
		CHECK(count(html, "autofocus") == 1);  /* the summary, not the first field */
		CHECK_CONTAINS(html, "tabindex=\"-1\" autofocus");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.field.photo_again"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.errors.title"));
		CHECK_CONTAINS(html, "value=\"Zoé &lt;b&gt;\"");   /* what was typed is kept */
		CHECK_CONTAINS(html, "value=\"passport\" checked");
		CHECK(strstr(html, "<title>") && strstr(strstr(html, "<title>"), esc_text(set, lang, "card.errors.prefix")));
		free(html);

		/* the issue form, refused as a whole */
		ctx = issue_ctx();
		json_object_set_new(ctx, "form_error_unknown", json_true());
		json_object_set_new(ctx, "form_error_stored", json_true());
		html = card_page(set, "card_new", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.error.unknown_field"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.error.not_stored"));
		free(html);
		ctx = issue_ctx();
		json_object_del(ctx, "values");   /* a missing member is a render error */
		html = card_page(set, "card_new", lang, ctx);
		CHECK(html == NULL);
		free(html);

		/* one card */
		ctx = json_pack("{s:o}", "card", card_obj("active"));
		json_object_set_new(json_object_get(ctx, "card"), "gender_text", json_string("GENDER-X"));
		json_object_set_new(json_object_get(ctx, "card"), "language_text", json_string("LANG-FR"));
		html = card_page(set, "card_view", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<script src=\"/static/card-view.js\" defer></script>");
		CHECK_CONTAINS(html, "<img class=\"card-photo\" src=\"/cards/K7QM4TXP9WF/photo\"");
		CHECK_CONTAINS(html, "href=\"/cards/K7QM4TXP9WF/pdf\"");
		CHECK_CONTAINS(html, "href=\"/cards/K7QM4TXP9WF/pdf?format=sheet\"");
		CHECK_CONTAINS(html, "href=\"/cards/K7QM4TXP9WF/pdf?format=letter\"");
		CHECK_LACKS(html, "/api/v1/");   /* the page's own routes, with the session */
		CHECK_CONTAINS(html, "<button type=\"button\" class=\"button button-outline\" data-print=\"page\" hidden>");
		CHECK_CONTAINS(html, "K7QM-4TXP-9WF");
		CHECK_CONTAINS(html, "Thị Ánh &lt;i&gt;");
		CHECK_CONTAINS(html, "Nguyễn");
		CHECK_CONTAINS(html, "2030-06-01");
		CHECK_CONTAINS(html, "GENDER-X");
		CHECK_CONTAINS(html, "LANG-FR");
		CHECK_CONTAINS(html, "Letter &amp; co");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.status.active"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.pdf_card"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.pdf_a4"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.pdf_letter"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.none"));   /* no address */
		CHECK_LACKS(html, esc_text(set, lang, "card.status.expired"));
		CHECK_LACKS(html, "class=\"receipt\"");
		CHECK_LACKS(html, "data-card-url");
		CHECK_LACKS(html, "data-print=\"receipt\"");
		free(html);

		/* expired, revoked, no photo, nothing optional recorded */
		json_t *card = card_obj("revoked");
		json_object_del(card, "photo_url");
		json_object_set_new(card, "evidence_labels", json_array());
		json_object_set_new(card, "revoke_reason_text", json_string("REASON"));
		html = card_page(set, "card_view", lang, json_pack("{s:o}", "card", card));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.status.revoked"));
		CHECK_CONTAINS(html, "(REASON)");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.no_photo"));
		CHECK_LACKS(html, "<img");
		CHECK(count(html, esc_text(set, lang, "card.view.none")) >= 3);
		free(html);
		html = card_page(set, "card_view", lang, json_pack("{s:o}", "card", card_obj("expired")));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "class=\"status status-expired\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.status.expired"));
		free(html);

		/* the card's actions: revoke (reason + confirmation), reissue, renew */
		ctx = json_pack("{s:o, s:o}", "card", card_obj("active"), "actions", actions_obj(1, 1, NULL));
		html = card_page(set, "card_view", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.heading"));
		CHECK_CONTAINS(html, "<form method=\"post\" action=\"/cards/K7QM4TXP9WF/revoke\"");
		CHECK_CONTAINS(html, "<form method=\"post\" action=\"/cards/K7QM4TXP9WF/reissue\"");
		CHECK_CONTAINS(html, "<form method=\"post\" action=\"/cards/K7QM4TXP9WF/renew\"");
		CHECK(count(html, "<input type=\"hidden\" name=\"csrf\" value=\"tok&amp;en\">") >= 3);
		CHECK_CONTAINS(html, "<select id=\"revoke-reason\" name=\"reason\" required");
		CHECK_CONTAINS(html, "<option value=\"\">");
		CHECK_CONTAINS(html, "<option value=\"stolen\">R-stolen</option>");
		CHECK_CONTAINS(html, "<input type=\"checkbox\" id=\"revoke-confirm\" name=\"confirm\" value=\"yes\" required>");
		CHECK_CONTAINS(html, "<label for=\"revoke-confirm\">");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.revoke_confirm"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.reissue_submit"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.renew_submit"));
		CHECK_LACKS(html, esc_text(set, lang, "card.actions.reissue_expired"));
		CHECK_LACKS(html, "aria-invalid");
		CHECK_LACKS(html, "error-summary");
		CHECK_LACKS(html, "role=\"alert\"");
		CHECK_LACKS(html, "autofocus");
		CHECK_LACKS(html, "data-card-url");
		free(html);

		/* revoked: no revoke form; expired: nor a reissue, and why */
		ctx = json_pack("{s:o, s:o}", "card", card_obj("revoked"), "actions", actions_obj(0, 1, NULL));
		html = card_page(set, "card_view", lang, ctx);
		CHECK_LACKS(html, "/revoke\"");
		CHECK_CONTAINS(html, "action=\"/cards/K7QM4TXP9WF/reissue\"");
		CHECK_CONTAINS(html, "action=\"/cards/K7QM4TXP9WF/renew\"");
		free(html);
		ctx = json_pack("{s:o, s:o}", "card", card_obj("expired"), "actions", actions_obj(0, 0, NULL));
		html = card_page(set, "card_view", lang, ctx);
		CHECK_LACKS(html, "/revoke\"");
		CHECK_LACKS(html, "/reissue\"");
		CHECK_CONTAINS(html, "action=\"/cards/K7QM4TXP9WF/renew\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.reissue_expired"));
		free(html);

		/* a refused revocation: the messages beside the fields, the reason kept */
		ctx = json_pack("{s:o, s:o, s:{}, s:[], s:b}", "card", card_obj("active"), "actions",
				actions_obj(1, 1, "lost"), "error", "error_list", "has_errors", 0);
		add_field_error(ctx, "reason", "revoke-reason", "REASON-ERROR");
		add_field_error(ctx, "confirm", "revoke-confirm", "CONFIRM-ERROR");
		html = card_page(set, "card_view", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "class=\"error-summary\" role=\"alert\"");
		CHECK_CONTAINS(html, "<a href=\"#revoke-reason\">REASON-ERROR</a>");
		CHECK_CONTAINS(html, "<a href=\"#revoke-confirm\">CONFIRM-ERROR</a>");
		CHECK_CONTAINS(html, "id=\"revoke-reason-error\"");
		CHECK_CONTAINS(html, "aria-describedby=\"revoke-hint revoke-reason-error\" aria-invalid=\"true\"");
		CHECK_CONTAINS(html, "id=\"revoke-confirm-error\"");
		CHECK_CONTAINS(html, "value=\"yes\" required aria-describedby=\"revoke-confirm-error\" aria-invalid=\"true\">");
		CHECK_CONTAINS(html, "<option value=\"lost\" selected>R-lost</option>");
		CHECK(count(html, "aria-invalid=\"true\"") == 2);
		CHECK(count(html, "autofocus") == 1);
		CHECK(strstr(html, "<title>") && strstr(strstr(html, "<title>"), esc_text(set, lang, "card.errors.prefix")));
		free(html);

		/* just revoked; refused as a whole; a new version issued */
		ctx = json_pack("{s:o, s:o, s:b}", "card", card_obj("revoked"), "actions", actions_obj(0, 1, NULL),
				"revoked_now", 1);
		html = card_page(set, "card_view", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.revoked_now"));
		CHECK_CONTAINS(html, "role=\"status\" data-card-url=\"/cards/K7QM4TXP9WF\"");
		free(html);
		ctx = json_pack("{s:o, s:o, s:s}", "card", card_obj("revoked"), "actions", actions_obj(0, 1, NULL),
				"action_error", "ALREADY <b>");
		html = card_page(set, "card_view", lang, ctx);
		CHECK_CONTAINS(html, "<p class=\"alert no-print\" role=\"alert\">ALREADY &lt;b&gt;</p>");
		CHECK_LACKS(html, esc_text(set, lang, "card.actions.revoked_now"));
		free(html);
		ctx = json_pack("{s:o, s:b, s:b}", "card", card_obj("active"), "issued", 1, "replaced", 1);
		html = card_page(set, "card_view", lang, ctx);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.issued"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.actions.replaced"));
		free(html);

		/* just issued: the receipt, in the resident's language */
		json_t *receipt = json_object();
		const char *texts[] = { "title", "keep", "lost", "need", "label_number", "label_dob",
					"label_code", "once", "no_paper" };
		for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
			char key[64];
			snprintf(key, sizeof key, "card.receipt.%s", texts[k]);
			json_object_set_new(receipt, texts[k], json_string(tpl_text(set, other, key)));
		}
		json_object_set_new(receipt, "lang", json_string(other));
		json_object_set_new(receipt, "city", json_string("Ville d'Exemple / City of Example"));
		json_object_set_new(receipt, "url", json_string("https://id.example.org/reprint"));
		json_object_set_new(receipt, "number", json_string("K7QM-4TXP-9WF"));
		json_object_set_new(receipt, "dob", json_string("1985-03-27"));
		json_object_set_new(receipt, "code", json_string("ABCD-EFGH-JKMN"));
		ctx = json_pack("{s:o, s:o, s:b}", "card", card_obj("active"), "receipt", receipt, "issued", 1);
		html = card_page(set, "card_view", lang, ctx);
		check_page_shape_url(html, lang, 1);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.view.issued"));
		CHECK_CONTAINS(html, "role=\"status\" data-card-url=\"/cards/K7QM4TXP9WF\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.receipt.screen_heading"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.receipt.screen_note"));
		CHECK_CONTAINS(html, "data-print=\"receipt\" hidden");
		char want[64];
		snprintf(want, sizeof want, "<section class=\"receipt\" lang=\"%s\"", other);
		CHECK_CONTAINS(html, want);
		CHECK_CONTAINS(html, esc_text(set, other, "card.receipt.title"));
		CHECK_CONTAINS(html, esc_text(set, other, "card.receipt.once"));
		CHECK_CONTAINS(html, "https://id.example.org/reprint");
		CHECK_CONTAINS(html, "class=\"reprint-code\">ABCD-EFGH-JKMN<");
		CHECK_CONTAINS(html, "Ville d&#39;Exemple");
		CHECK(count(html, "ABCD-EFGH-JKMN") == 1);   /* only in the receipt, never in a link */
		CHECK_LACKS(html, "href=\"https://id.example.org");
		free(html);

		/* search: the empty forms */
		const char *empty_search = "{\"values\": {\"family_name\": \"\", \"date_of_birth\": \"\", "
			"\"card_number\": \"\"}, \"today\": \"2025-06-01\", \"error\": {}, \"error_list\": [], "
			"\"has_errors\": false, \"searched\": false}";
		html = card_page(set, "card_search", lang, json_loads(empty_search, 0, NULL));
		check_page_shape(html, lang);
		/* by name: POST with the CSRF token, so no name is in a URL;
		 * by number: GET (a card number may be in a URL) */
		CHECK(count(html, "method=\"post\" action=\"/cards/search\"") == 1);
		CHECK(count(html, "method=\"get\" action=\"/cards/search\"") == 1);
		CHECK_CONTAINS(html, "<form method=\"post\" action=\"/cards/search\" class=\"form\" "
			       "aria-labelledby=\"by-name-heading\">\n<input type=\"hidden\" name=\"csrf\" "
			       "value=\"tok&amp;en\">");
		CHECK(strstr(html, "method=\"get\" action=\"/cards/search\"") >
		      strstr(html, "name=\"date_of_birth\""));   /* the names are in the POST form */
		CHECK_CONTAINS(html, "name=\"family_name\"");
		CHECK_CONTAINS(html, "name=\"date_of_birth\" type=\"date\"");
		CHECK_CONTAINS(html, "name=\"card_number\"");
		CHECK(count(html, "autofocus") == 1);
		CHECK_CONTAINS(html, "required autofocus value=\"\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "card.search.title"));
		CHECK_LACKS(html, "result-list");
		CHECK_LACKS(html, "aria-invalid");
		free(html);

		/* search: a field missing */
		ctx = json_loads(empty_search, 0, NULL);
		json_object_set_new(json_object_get(ctx, "values"), "family_name", json_string("Nguyễn"));
		add_field_error(ctx, "date_of_birth", "date_of_birth", "DOB-ERROR");
		html = card_page(set, "card_search", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<a href=\"#date_of_birth\">DOB-ERROR</a>");
		CHECK_CONTAINS(html, "aria-invalid=\"true\" aria-describedby=\"date_of_birth-error\"");
		CHECK_CONTAINS(html, "value=\"Nguyễn\"");
		free(html);

		/* search: results, and none */
		ctx = json_loads(empty_search, 0, NULL);
		json_object_set_new(ctx, "searched", json_true());
		json_object_set_new(ctx, "count", json_integer(2));
		json_object_set_new(ctx, "no_results", json_false());
		json_object_set_new(ctx, "results", json_pack("[o, o]", card_obj("active"), card_obj("revoked")));
		html = card_page(set, "card_search", lang, ctx);
		check_page_shape(html, lang);
		CHECK(count(html, "<a class=\"result-name\" href=\"/cards/K7QM4TXP9WF\">Nguyễn, Thị Ánh &lt;i&gt;</a>") == 2);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.status.active"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.status.revoked"));
		CHECK_CONTAINS(html, "id=\"results-heading\" tabindex=\"-1\" autofocus");
		CHECK(count(html, "autofocus") == 1);
		CHECK_LACKS(html, esc_text(set, lang, "card.search.none"));
		free(html);
		ctx = json_loads(empty_search, 0, NULL);
		json_object_set_new(ctx, "searched", json_true());
		json_object_set_new(ctx, "count", json_integer(0));
		json_object_set_new(ctx, "no_results", json_true());
		json_object_set_new(ctx, "results", json_array());
		json_object_set_new(ctx, "form_error_search", json_true());
		html = card_page(set, "card_search", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "card.search.none"));
		CHECK_CONTAINS(html, esc_text(set, lang, "card.error.search_failed"));
		CHECK_LACKS(html, "result-list");
		free(html);

		/* search: a mistyped card number */
		ctx = json_loads(empty_search, 0, NULL);
		json_object_set_new(json_object_get(ctx, "values"), "card_number", json_string("K7QM-4TXP-9WX\""));
		add_field_error(ctx, "card_number", "card_number", "NUM-ERROR");
		html = card_page(set, "card_search", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "value=\"K7QM-4TXP-9WX&quot;\"");
		CHECK_CONTAINS(html, "<a href=\"#card_number\">NUM-ERROR</a>");
		CHECK_CONTAINS(html, "aria-describedby=\"card_number-hint card_number-error\" aria-invalid=\"true\"");
		free(html);

		/* the dashboard links to both */
		html = card_page(set, "dashboard", lang, json_pack("{s:b}", "is_clerk", 1));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "href=\"/cards/new\"");
		CHECK_CONTAINS(html, "href=\"/cards/search\"");
		free(html);
		html = card_page(set, "dashboard", lang, json_pack("{s:b}", "is_auditor", 1));
		CHECK_LACKS(html, "href=\"/cards/new\"");
		free(html);
	}
	tpl_set_free(set);

	/* A catalogue without the run-time keys is caught. */
	set = load(err, sizeof err, "main", "x", NULL);
	CHECK(set != NULL);
	if (set) {
		err[0] = '\0';
		CHECK(ui_cards_check(set, err, sizeof err) == -1);
		CHECK_CONTAINS(err, "the catalogues have no key 'card.error.");
		tpl_set_free(set);
	}
}

/* ---- the staff pages: reprint queue and audit log --------------------- */

static json_t *request_obj(int id, int lost, const char *status)
{
	return json_pack("{s:i, s:s, s:s, s:b, s:s, s:s, s:s, s:b}", "id", id, "card_number",
			 "K7QM4TXP9WX", "card_number_formatted", "K7QM-4TXP-9WX", "report_lost", lost,
			 "status", status, "created_at", "2024-05-01T12:34:56Z", "when", "2024-05-01 12:34",
			 "is_approved", strcmp(status, "approved") == 0);
}

static json_t *queue_ctx(int empty)
{
	json_t *pending = json_array(), *decided = json_array();
	if (!empty) {
		json_array_append_new(pending, request_obj(7, 1, "pending"));
		json_array_append_new(pending, request_obj(6, 0, "pending"));
		json_array_append_new(decided, request_obj(5, 0, "approved"));
		json_array_append_new(decided, request_obj(4, 0, "rejected"));
	}
	return json_pack("{s:i, s:b, s:o, s:b, s:o}", "pending_count", (int)json_array_size(pending),
			 "no_pending", empty, "pending", pending, "no_decided", empty, "decided", decided);
}

static json_t *audit_entry(int id, const char *action, const char *text, const char *subject,
			   const char *detail)
{
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "at",
			 "2024-05-01T12:34:56Z", "when", "2024-05-01 12:34:56", "actor", "clerk<1>",
			 "action", action, "action_text", text, "subject", subject, "detail", detail);
}

TEST(test_staff_pages)
{
	char err[512];
	struct tpl_set *set = NULL;
	if (tpl_set_load(templates_dir, &set, err, sizeof err) < 0) {
		fprintf(stderr, "  %s\n", err);
		CHECK(!"the real templates load");
		return;
	}
	CHECK(ui_staff_check(set, err, sizeof err) == 0);
	const char *langs[] = { "en", "fr" };
	for (size_t l = 0; l < 2; l++) {
		const char *lang = langs[l];
		char *html;

		/* the queue: each pending request with its two forms and token */
		html = card_page(set, "reprint_queue", lang, queue_ctx(0));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.title"));
		CHECK_CONTAINS(html, "action=\"/requests/7/approve\"");
		CHECK_CONTAINS(html, "action=\"/requests/7/reject\"");
		CHECK_CONTAINS(html, "action=\"/requests/6/approve\"");
		CHECK(count(html, "name=\"csrf\" value=\"tok&amp;en\"") == 5);   /* 4 + sign-out */
		CHECK_CONTAINS(html, "href=\"/cards/K7QM4TXP9WX\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.kind.lost"));
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.kind.reprint"));
		CHECK_CONTAINS(html, "<time datetime=\"2024-05-01T12:34:56Z\">2024-05-01 12:34</time>");
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.approved"));
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.rejected"));
		CHECK_LACKS(html, "action=\"/requests/5/");   /* decided: no forms */
		CHECK_LACKS(html, "role=\"alert\"");
		CHECK(strstr(html, "/requests/7/") < strstr(html, "/requests/6/"));   /* order kept */
		free(html);

		/* empty, with a notice; and with a refusal */
		json_t *ctx = queue_ctx(1);
		json_object_set_new(ctx, "notice", json_pack("{s:s, s:i}", "text", "NOTICE<", "id", 9));
		html = card_page(set, "reprint_queue", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.none"));
		CHECK_CONTAINS(html, esc_text(set, lang, "requests.none_decided"));
		CHECK_CONTAINS(html, "role=\"status\"");
		CHECK_CONTAINS(html, "NOTICE&lt;");
		CHECK_LACKS(html, "<table");
		free(html);
		ctx = queue_ctx(0);
		json_object_set_new(ctx, "alert", json_pack("{s:s, s:i}", "text", "TWICE", "id", 9));
		html = card_page(set, "reprint_queue", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "role=\"alert\"");
		CHECK_CONTAINS(html, " 9 · TWICE");
		free(html);

		/* the audit log, intact: words and an icon, not colour alone */
		json_t *entries = json_array();
		json_array_append_new(entries, audit_entry(12, "card.view", "VIEWED", "K7QM-4TXP-9WX", ""));
		json_array_append_new(entries, audit_entry(11, "odd.action", "odd.action", "", "a<b"));
		ctx = json_pack("{s:o, s:b, s:{s:i}, s:i, s:b}", "entries", entries, "no_entries", 0,
				"intact", "count", 1234, "older", 11, "not_newest", 1);
		html = card_page(set, "audit_log", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "audit.intact"));
		CHECK_CONTAINS(html, " (1234 ");
		CHECK_CONTAINS(html, "<span aria-hidden=\"true\">✓ </span>");
		CHECK_CONTAINS(html, "VIEWED");
		CHECK_CONTAINS(html, "clerk&lt;1&gt;");
		CHECK_CONTAINS(html, "a&lt;b");
		CHECK_CONTAINS(html, "K7QM-4TXP-9WX");
		CHECK_CONTAINS(html, "href=\"/audit?before=11\"");
		CHECK_CONTAINS(html, "href=\"/audit\"");
		CHECK_LACKS(html, esc_text(set, lang, "audit.broken_at"));
		CHECK(strstr(html, "<td>12</td>") < strstr(html, "<td>11</td>"));
		free(html);

		/* broken; the first page, no older one */
		ctx = json_pack("{s:[], s:b, s:{s:i, s:s}}", "entries", "no_entries", 1, "broken", "at", 3,
				"reason", "REASON");
		html = card_page(set, "audit_log", lang, ctx);
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "role=\"alert\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "audit.broken_at"));
		CHECK_CONTAINS(html, " 3: REASON");
		CHECK_CONTAINS(html, "<span aria-hidden=\"true\">✕ </span>");
		CHECK_LACKS(html, esc_text(set, lang, "audit.intact"));
		CHECK_LACKS(html, "href=\"/audit");
		CHECK_LACKS(html, "<table");
		free(html);

		/* the dashboard links to each, with the pending count */
		html = card_page(set, "dashboard", lang,
				 json_pack("{s:b, s:{s:i}}", "is_clerk", 1, "requests", "count", 3));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "href=\"/requests\"");
		CHECK_CONTAINS(html, "<strong class=\"count\">3</strong>");
		CHECK_LACKS(html, "href=\"/audit\"");
		free(html);
		html = card_page(set, "dashboard", lang, json_pack("{s:b}", "is_clerk", 1));   /* no count */
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "href=\"/requests\"");
		CHECK_LACKS(html, "class=\"count\"");
		free(html);
		html = card_page(set, "dashboard", lang, json_pack("{s:b}", "is_auditor", 1));
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "href=\"/audit\"");
		CHECK_LACKS(html, "href=\"/requests\"");
		free(html);
	}
	tpl_set_free(set);

	/* A catalogue without the run-time keys is caught. */
	set = load(err, sizeof err, "main", "x", NULL);
	CHECK(set != NULL);
	if (set) {
		err[0] = '\0';
		CHECK(ui_staff_check(set, err, sizeof err) == -1);
		CHECK_CONTAINS(err, "the catalogues have no key 'audit.action.card.issue'");
		tpl_set_free(set);
	}
}

/* ---- the public verification page ------------------------------------ */

TEST(test_verify_page)
{
	char err[512];
	struct tpl_set *set = NULL;
	if (tpl_set_load(templates_dir, &set, err, sizeof err) < 0) {
		fprintf(stderr, "  %s\n", err);
		CHECK(!"the real templates load");
		return;
	}
	/* French, English and Spanish, each complete (the loader insists that
	 * every catalogue has every key). */
	CHECK(tpl_has_lang(set, "es"));
	CHECK_STR(tpl_text(set, "es", "lang.name"), "Español");
	CHECK_STR(tpl_text(set, "es", "verify.result.valid"), "Válida");
	CHECK_STR(tpl_text(set, "fr", "verify.result.invalid"), "Non authentique");
	err[0] = '\0';
	CHECK(ui_verify_check(set, err, sizeof err) == 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);
	CHECK(ui_cards_check(set, err, sizeof err) == 0);   /* es is a card language too */

	const char *langs[] = { "en", "fr", "es" };
	const char *idle[] = { "Check a card", "Vérifier une carte", "Verificar una tarjeta" };
	for (size_t i = 0; i < 3; i++) {
		const char *lang = langs[i];
		json_t *ctx = json_pack("{s:s, s:[{s:s, s:s, s:b}, {s:s, s:s, s:b}, {s:s, s:s, s:b}], s:s}",
			"lang", lang, "langs",
			"code", "en", "name", "English", "current", i == 0,
			"code", "es", "name", "Español", "current", i == 2,
			"code", "fr", "name", "Français", "current", i == 1,
			"i18n", "{\"en\":{\"verify.title\":\"Check <a> \\\"card\\\"\"}}");
		struct buf out = BUF_INIT;
		page_err[0] = '\0';
		int r = tpl_render(set, "verify", lang, ctx, &out, page_err, sizeof page_err);
		json_decref(ctx);
		CHECK(r == 0);
		if (r < 0) {
			fprintf(stderr, "  %s\n", page_err);
			buf_free(&out);
			continue;
		}
		buf_puts(&out, "");
		const char *html = out.data;
		char want[64];
		snprintf(want, sizeof want, "<html lang=\"%s\">", lang);
		CHECK(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
		CHECK_CONTAINS(html, want);
		CHECK_CONTAINS(html, "<meta name=\"viewport\"");
		CHECK_CONTAINS(html, "<link rel=\"stylesheet\" href=\"/static/verify.css\">");
		CHECK_CONTAINS(html, "<script src=\"/static/ed25519.js\" defer></script>");
		CHECK_CONTAINS(html, "<script src=\"/static/verify.js\" defer></script>");
		CHECK(count(html, "<script") == 2);
		CHECK(scripts_are_static_files(html));   /* the CSP: nothing inline */
		CHECK_LACKS(html, "style=");
		CHECK(!has_event_handler(html));
		/* The texts travel HTML-escaped in an attribute, never as script. */
		CHECK_CONTAINS(html, "<div id=\"i18n\" hidden data-texts=\"{&quot;en&quot;:{&quot;verify.title&quot;:"
				     "&quot;Check &lt;a&gt; \\&quot;card\\&quot;&quot;}}\"></div>");
		/* The fragment is the card's token: no in-page link may change it. */
		CHECK_LACKS(html, "href=\"#");
		CHECK_LACKS(html, "http:");
		CHECK_LACKS(html, "https:");
		CHECK_LACKS(html, "{{");
		/* Every result state is there for the script, and no card data. */
		CHECK_CONTAINS(html, "id=\"result\" class=\"result\" hidden");
		CHECK_CONTAINS(html, "<dd id=\"d-name\" dir=\"auto\"></dd>");
		CHECK_CONTAINS(html, "<h1 id=\"result-word\" class=\"result-word\" tabindex=\"-1\"></h1>");
		const char *icons[] = { "valid", "revoked", "expired", "invalid", "unchecked" };
		for (size_t k = 0; k < 5; k++) {
			char id[64];
			snprintf(id, sizeof id, "id=\"icon-%s\"", icons[k]);
			CHECK_CONTAINS(html, id);
		}
		CHECK_CONTAINS(html, "id=\"scan\" type=\"button\" class=\"button\" hidden");
		CHECK_CONTAINS(html, idle[i]);
		/* The language switch: every language, the current one marked. */
		CHECK_CONTAINS(html, "data-lang=\"es\"");
		CHECK_CONTAINS(html, "data-lang=\"fr\"");
		CHECK_CONTAINS(html, "data-lang=\"en\"");
		CHECK(count(html, "aria-current=\"true\"") == 1);
		buf_free(&out);
	}
	tpl_set_free(set);

	/* A catalogue without the page's keys is caught. */
	set = load(err, sizeof err, "main", "x", NULL);
	CHECK(set != NULL);
	if (set) {
		err[0] = '\0';
		CHECK(ui_verify_check(set, err, sizeof err) == -1);
		CHECK_CONTAINS(err, "the catalogues have no key '");
		CHECK_CONTAINS(err, "pages_verify.c");
		tpl_set_free(set);
	}
}

/* ---- the residents' reprint page -------------------------------------- */

/* The name="" attributes the residents' form may have (the meta viewport
 * too): the three facts, the choice and the token, nothing else. */
static const char *const reprint_fields[] = {
	"viewport", "csrf", "card_number", "date_of_birth", "reprint_code", "report_lost", NULL,
};

/* Render templates/reprint.html as pages_reprint.c does: the common
 * members of a public page (no user) plus extra (JSON members, may be ""),
 * or the form's members when form is set. HTML (caller frees) or NULL. */
static char *reprint_page(const struct tpl_set *set, const char *lang, int form, const char *extra)
{
	char json[4096];
	snprintf(json, sizeof json,
		 "{\"lang\": \"%s\", \"langs\": ["
		 "{\"code\": \"en\", \"name\": \"English\", \"current\": %s},"
		 "{\"code\": \"es\", \"name\": \"Español\", \"current\": %s},"
		 "{\"code\": \"fr\", \"name\": \"Français\", \"current\": %s}]%s%s%s%s}",
		 lang, strcmp(lang, "en") == 0 ? "true" : "false", strcmp(lang, "es") == 0 ? "true" : "false",
		 strcmp(lang, "fr") == 0 ? "true" : "false",
		 form ? ", \"csrf\": \"tok&en\", \"lost_yes\": false, \"lost_no\": false" : "",
		 form && !strstr(extra, "\"values\"") ? ", \"values\": {\"card_number\": \"\", \"date_of_birth\": \"\"}" : "",
		 extra[0] ? ", " : "", extra);
	return render(set, "reprint", lang, json, page_err, sizeof page_err);
}

TEST(test_reprint_page)
{
	char err[512];
	struct tpl_set *set = NULL;
	if (tpl_set_load(templates_dir, &set, err, sizeof err) < 0) {
		fprintf(stderr, "  %s\n", err);
		CHECK(!"the real templates load");
		return;
	}
	const char *langs[] = { "en", "fr", "es" };
	for (size_t i = 0; i < 3; i++) {
		const char *lang = langs[i];
		char *html;

		/* the form, fresh */
		html = reprint_page(set, lang, 1, "\"error\": {}, \"has_errors\": false, \"has_problem\": false");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<form method=\"post\" action=\"/reprint\"");
		CHECK_CONTAINS(html, "<input type=\"hidden\" name=\"csrf\" value=\"tok&amp;en\">");
		CHECK_CONTAINS(html, "name=\"date_of_birth\" type=\"date\"");
		CHECK_CONTAINS(html, "name=\"reprint_code\" type=\"text\"");
		CHECK_CONTAINS(html, "id=\"report_lost-no\" name=\"report_lost\" value=\"no\" required aria-describedby=\"report_lost-no-hint\">");
		CHECK_CONTAINS(html, "id=\"report_lost-yes\" name=\"report_lost\" value=\"yes\" aria-describedby=\"report_lost-yes-hint\">");
		CHECK_CONTAINS(html, "<label for=\"card_number\">");
		CHECK_CONTAINS(html, "<label for=\"date_of_birth\">");
		CHECK_CONTAINS(html, "<label for=\"reprint_code\">");
		CHECK_CONTAINS(html, "<label for=\"report_lost-no\">");
		CHECK_CONTAINS(html, "<label for=\"report_lost-yes\">");
		CHECK(count(html, "aria-describedby=\"card_number-hint\"") == 1);
		CHECK(count(html, "value=\"\"") == 3);   /* number, date, code: empty */
		CHECK(count(html, "autocomplete=\"off\"") == 3);
		CHECK(only_names(html, reprint_fields));   /* no name, no contact, no free text */
		CHECK_LACKS(html, "<textarea");
		CHECK_LACKS(html, "<select");
		CHECK_LACKS(html, "<script");             /* no script needed at all */
		CHECK_LACKS(html, "checked");
		CHECK_LACKS(html, "aria-invalid");
		CHECK_LACKS(html, "error-summary");
		CHECK_LACKS(html, "role=\"alert\"");
		CHECK_LACKS(html, "autofocus");
		CHECK_LACKS(html, "action=\"/logout\"");
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.heading"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.privacy"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.field.number_hint"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.choice.reprint"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.choice.lost"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.choice.lost_hint"));
		CHECK_LACKS(html, esc_text(set, lang, "reprint.field.code_again"));
		CHECK_CONTAINS(html, strcmp(lang, "es") ? "href=\"?lang=es\"" : "href=\"?lang=fr\"");
		free(html);

		/* every field wrong: the summary first, each message at its field,
		 * what was typed kept (escaped), the code never */
		html = reprint_page(set, lang, 1,
			"\"values\": {\"card_number\": \"K7QM\\\"<b>\", \"date_of_birth\": \"1979-02-30\"}, "
			"\"error\": {\"card_number\": {\"number_mistyped\": true}, "
			"\"date_of_birth\": {\"dob_invalid\": true}, \"reprint_code\": {\"code_required\": true}, "
			"\"report_lost\": {\"choice_required\": true}}, \"has_errors\": true, \"has_problem\": true");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\" autofocus>");
		CHECK(count(html, "autofocus") == 1);
		char want[512];
		snprintf(want, sizeof want, "<li><a href=\"#card_number\">%s</a></li>",
			 esc_text(set, lang, "reprint.error.number_mistyped"));
		CHECK_CONTAINS(html, want);
		snprintf(want, sizeof want, "<li><a href=\"#report_lost-no\">%s</a></li>",
			 esc_text(set, lang, "reprint.error.choice_required"));
		CHECK_CONTAINS(html, want);
		const char *keys[] = { "reprint.error.number_mistyped", "reprint.error.dob_invalid",
				       "reprint.error.code_required", "reprint.error.choice_required" };
		for (size_t k = 0; k < 4; k++)
			CHECK(count(html, esc_text(set, lang, keys[k])) == 2);   /* summary + field */
		CHECK_LACKS(html, esc_text(set, lang, "reprint.error.number_required"));
		CHECK_LACKS(html, esc_text(set, lang, "reprint.error.code_invalid"));
		CHECK_CONTAINS(html, "value=\"K7QM&quot;&lt;b&gt;\" aria-describedby=\"card_number-hint card_number-error\" aria-invalid=\"true\">");
		CHECK_CONTAINS(html, "value=\"1979-02-30\" aria-describedby=\"date_of_birth-hint date_of_birth-error\" aria-invalid=\"true\">");
		CHECK_CONTAINS(html, "required value=\"\" aria-describedby=\"reprint_code-hint reprint_code-again reprint_code-error\" aria-invalid=\"true\">");
		CHECK_CONTAINS(html, "<fieldset class=\"field choices reprint-choices\" aria-describedby=\"report_lost-error\">");
		CHECK(count(html, "aria-invalid=\"true\"") == 5);   /* 3 fields + 2 radio buttons */
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.field.code_again"));
		CHECK(strstr(html, "<title>") &&
		      strncmp(strstr(html, "<title>") + 7, esc_text(set, lang, "reprint.errors.prefix"),
			      strlen(esc_text(set, lang, "reprint.errors.prefix"))) == 0);
		free(html);

		/* a choice kept */
		html = reprint_page(set, lang, 1, "\"lost_yes\": true, \"error\": {}, \"has_errors\": false, "
				    "\"has_problem\": false");
		CHECK(html != NULL);
		CHECK_CONTAINS(html, "value=\"yes\" checked");
		CHECK(count(html, "checked") == 1);
		free(html);

		/* problems with the request as a whole: no field singled out */
		const char *problems[][2] = {
			{ "\"not_verified\": true", "reprint.problem.not_verified" },
			{ "\"failed\": true", "reprint.problem.failed" },
			{ "\"unknown_field\": true", "reprint.problem.unknown_field" },
			{ "\"expired\": true", "form.error_csrf" },
			{ "\"throttled\": true, \"retry_minutes\": 42", "reprint.problem.throttled" },
		};
		for (size_t k = 0; k < sizeof problems / sizeof problems[0]; k++) {
			char extra[256];
			snprintf(extra, sizeof extra, "\"error\": {}, \"has_errors\": false, \"has_problem\": true, "
				 "\"problem\": {%s}", problems[k][0]);
			html = reprint_page(set, lang, 1, extra);
			check_page_shape(html, lang);
			CHECK_CONTAINS(html, "class=\"error-summary\" role=\"alert\"");
			CHECK_CONTAINS(html, esc_text(set, lang, problems[k][1]));
			CHECK_LACKS(html, "aria-invalid");
			CHECK_LACKS(html, "<ul>\n<li><a href=\"#");
			if (k == 0)
				CHECK_CONTAINS(html, esc_text(set, lang, "reprint.problem.no_receipt"));
			else
				CHECK_LACKS(html, esc_text(set, lang, "reprint.problem.not_verified"));
			if (k == 4) {
				/* esc_text() has one buffer: one call at a time */
				snprintf(want, sizeof want, "%s 42 ", esc_text(set, lang, "reprint.problem.throttled"));
				snprintf(want + strlen(want), sizeof want - strlen(want), "%s",
					 esc_text(set, lang, "reprint.problem.minutes"));
				CHECK_CONTAINS(html, want);
			}
			free(html);
		}

		/* done: a new card asked for */
		html = reprint_page(set, lang, 0, "\"done\": {\"id\": 17, \"lost\": false}");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.heading"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.received"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.next_old"));
		CHECK_CONTAINS(html, "<strong class=\"request-id\">17</strong>");
		CHECK_LACKS(html, esc_text(set, lang, "reprint.done.lost_heading"));
		CHECK_LACKS(html, esc_text(set, lang, "reprint.done.next_found"));
		CHECK_LACKS(html, "<form");
		CHECK_LACKS(html, "error-summary");
		free(html);

		/* done: a lost card, cancelled now, with the word a check shows */
		html = reprint_page(set, lang, 0, "\"done\": {\"id\": 18, \"lost\": true}");
		check_page_shape(html, lang);
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.lost_heading"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.cancelled"));
		CHECK_CONTAINS(html, esc_text(set, lang, "reprint.done.next_found"));
		snprintf(want, sizeof want, "<strong class=\"status status-revoked\">%s</strong>",
			 esc_text(set, lang, "verify.result.revoked"));
		CHECK_CONTAINS(html, want);
		CHECK_CONTAINS(html, "<strong class=\"request-id\">18</strong>");
		CHECK_LACKS(html, esc_text(set, lang, "reprint.done.next_old"));
		CHECK_LACKS(html, "<form");
		free(html);

		/* the form without its token cannot be rendered */
		html = render(set, "reprint", lang, "{\"lang\": \"en\", \"langs\": [], \"error\": {}}", page_err,
			      sizeof page_err);
		CHECK(html == NULL);
		CHECK_CONTAINS(page_err, "{{csrf}}: no such value in the context");
		free(html);
	}
	tpl_set_free(set);
}

int main(int argc, char **argv)
{
	/* The folder: argv[1], else $CIVICARD_TEMPLATES (meson sets it), else
	 * ./templates (tests run from the repository root). */
	const char *env = getenv("CIVICARD_TEMPLATES");
	if (argc > 1)
		templates_dir = argv[1];
	else if (env && env[0])
		templates_dir = env;
	RUN(test_escaping);
	RUN(test_scalars);
	RUN(test_sections);
	RUN(test_inverted);
	RUN(test_partials);
	RUN(test_translations);
	RUN(test_default_lang_without_english);
	RUN(test_render_errors);
	RUN(test_render_limits);
	RUN(test_template_load_errors);
	RUN(test_depth_limit);
	RUN(test_catalogue_errors);
	RUN(test_load_dir);
	RUN(test_real_pages);
	RUN(test_card_pages);
	RUN(test_staff_pages);
	RUN(test_verify_page);
	RUN(test_reprint_page);
	return CHECK_DONE();
}
