/* template.h — HTML templates and language catalogues.
 *
 * A struct tpl_set holds every page template of a folder and every language
 * catalogue, parsed and cross-checked once at start-up. After loading it is
 * read-only: many threads may render from the same set at once.
 *
 * Template syntax (a small mustache subset; the comment at the top of
 * src/ui/template.c has the full rules):
 *   {{name}} {{a.b}} {{.}}   a value from the context, always HTML-escaped
 *   {{t:some.key}}           the catalogue text for the render language
 *   {{#name}}...{{/name}}    section: repeat per array element, enter an
 *                            object, or show once for a true-ish value
 *   {{^name}}...{{/name}}    inverted section: show when #name would not
 *   {{>other}}               include template other.html
 *   {{! comment }}
 * There is deliberately no way to write a value unescaped. Values belong in
 * element content or in double-quoted attribute values, never in unquoted
 * attributes, URLs' scheme position, <script> or <style>.
 *
 * Errors: functions return 0, or -1 with a one-line reason written to
 * err (if err is not NULL and errlen > 0), like "templates/login.html:12:
 * section 'user' is never closed".
 */
#ifndef CIVICARD_TEMPLATE_H
#define CIVICARD_TEMPLATE_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"

/* Deepest nesting of sections and partials, counted together. */
#define TPL_MAX_DEPTH 32

struct tpl_set;   /* every template of a folder + every language catalogue */

/* Load the templates (files ending in ".html" directly in dir, each named
 * by its file name without ".html") and the language catalogues (files
 * ending in ".txt" in dir/i18n, each named by its language code).
 * Files whose name starts with "." are ignored.
 * On success *ret_set is a new set the caller frees with tpl_set_free().
 * On failure returns -1, leaves *ret_set untouched and writes the reason
 * (file:line: what) to err. */
int tpl_set_load(const char *dir, struct tpl_set **ret_set, char *err, size_t errlen);

/* One template or catalogue held in memory, for tpl_set_load_sources().
 * Nothing here is kept: the loader copies what it needs. */
struct tpl_source {
	const char *name;   /* template name ("login") or language code ("fr") */
	const char *path;   /* shown in error messages; NULL means use name */
	const char *text;   /* the file's bytes, need not be NUL-terminated */
	size_t len;
};

/* The same as tpl_set_load(), from memory: used by tpl_set_load() itself,
 * the unit test and the fuzz target. */
int tpl_set_load_sources(const struct tpl_source *templates, size_t ntemplates,
			 const struct tpl_source *catalogues, size_t ncatalogues,
			 struct tpl_set **ret_set, char *err, size_t errlen);

void tpl_set_free(struct tpl_set *set);   /* accepts NULL */

/* Offer only the n languages in codes, the first the default; the other
 * catalogues are dropped. At start-up only. n = 0 keeps them all. 0, or -1
 * with the reason in err when a code has no catalogue. */
int tpl_set_offer(struct tpl_set *set, const char *const *codes, size_t n, char *err,
		  size_t errlen);

/* Render template `name` in language `lang` (unknown or NULL: the default
 * language) with the JSON object ctx, appending to out. ctx is borrowed and
 * not modified. Returns 0, or -1 with the reason in err; on failure out is
 * left exactly as it was before the call. */
int tpl_render(const struct tpl_set *set, const char *name, const char *lang,
	       json_t *ctx, struct buf *out, char *err, size_t errlen);

/* Translated text for key in lang (unknown or NULL lang: the default
 * language), or NULL for an unknown key. The string belongs to the set. */
const char *tpl_text(const struct tpl_set *set, const char *lang, const char *key);

/* Languages, sorted by code. Strings belong to the set. */
size_t tpl_lang_count(const struct tpl_set *set);
const char *tpl_lang_code(const struct tpl_set *set, size_t i);   /* "en"; NULL if i out of range */
const char *tpl_lang_name(const struct tpl_set *set, size_t i);   /* its `lang.name`: "Français" */
int tpl_has_lang(const struct tpl_set *set, const char *lang);   /* 1 if offered, else 0 */
const char *tpl_default_lang(const struct tpl_set *set);   /* "en" if present, else the first */

/* For keys C code looks up at run time (not through {{t:...}}, which the
 * loader checks): 0 when prefix+code is in the catalogues, else -1 with
 * "the catalogues have no key '...' (used by <user>)" in err. */
int tpl_require_key(const struct tpl_set *set, const char *prefix, const char *code,
		    const char *user, char *err, size_t errlen);

#endif
