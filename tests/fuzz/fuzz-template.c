/* fuzz-template.c — libFuzzer target for the template parser and renderer.
 *
 * The input is split at NUL bytes (which no valid template contains):
 *   part 1  the template "main"
 *   part 2  optional: the template "part", so {{>part}} and cycles work
 *   part 3  optional: a third catalogue, "de" (exercises its parser and
 *           the key-set comparison with the fixed ones below)
 * If the set loads, "main" is rendered in every language against a small
 * fixed context that has one value of every JSON type. Load and render
 * errors are expected; crashes, leaks and sanitizer reports are not.
 * The build provides main() when no fuzzing engine is used. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char EN[] =
	"lang.name = English\n"
	"hello = Hello <b>&\n"
	"two = one\\ntwo\n";
static const char FR[] =
	"lang.name = Français\n"
	"hello = Bonjour\n"
	"two = un\\ndeux\n";
static const char CONTEXT[] =
	"{\"s\": \"<a href='x'>&\\\"\", \"n\": 42, \"r\": 1.5, \"t\": true, \"f\": false,"
	" \"z\": null, \"e\": \"\", \"zero\": 0, \"empty\": [],"
	" \"list\": [1, \"two\", {\"s\": \"three\"}, [4], null],"
	" \"obj\": {\"s\": \"inner\", \"list\": [{\"n\": 1}, {\"n\": 2}], \"obj\": {\"t\": true}},"
	" \"users\": [{\"username\": \"ana\", \"role\": \"clerk\"}, {\"username\": \"<b>\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct tpl_source tpls[2] = { { "main", "main.html", text, size } };
	struct tpl_source cats[3] = {
		{ "en", "en.txt", EN, sizeof EN - 1 },
		{ "fr", "fr.txt", FR, sizeof FR - 1 },
	};
	size_t ntpls = 1, ncats = 2;

	/* Split at the first two NUL bytes. */
	const char *nul = memchr(text, '\0', size);
	if (nul) {
		size_t first = (size_t)(nul - text);
		const char *rest = nul + 1;
		size_t rest_len = size - first - 1;
		tpls[0].len = first;
		tpls[1] = (struct tpl_source){ "part", "part.html", rest, rest_len };
		ntpls = 2;
		nul = memchr(rest, '\0', rest_len);
		if (nul) {
			size_t second = (size_t)(nul - rest);
			tpls[1].len = second;
			cats[2] = (struct tpl_source){ "de", "de.txt", nul + 1, rest_len - second - 1 };
			ncats = 3;
		}
	}

	struct tpl_set *set = NULL;
	char err[256];
	if (tpl_set_load_sources(tpls, ntpls, cats, ncats, &set, err, sizeof err) < 0)
		return 0;

	json_t *ctx = json_loads(CONTEXT, 0, NULL);
	struct buf out = BUF_INIT;
	if (ctx) {
		for (size_t i = 0; i < tpl_lang_count(set); i++) {
			tpl_render(set, "main", tpl_lang_code(set, i), ctx, &out, err, sizeof err);
			buf_reset(&out);
		}
		tpl_render(set, "part", "xx", ctx, &out, err, sizeof err);
	}
	(void)tpl_text(set, "fr", "hello");
	(void)tpl_default_lang(set);
	buf_free(&out);
	json_decref(ctx);
	tpl_set_free(set);
	return 0;
}
