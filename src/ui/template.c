/* template.c — parse HTML templates once at start-up, render them many times.
 *
 * How it fits together
 * --------------------
 * tpl_set_load() reads every file, then tpl_set_load_sources() does the
 * real work, in this order:
 *   1. each catalogue (i18n/xx.txt) is parsed into entries sorted by key;
 *      all catalogues must have exactly the same keys, so an entry index
 *      means the same key in every language;
 *   2. each template is parsed into a tree of nodes (struct block);
 *      {{t:key}} is resolved to its entry index right away;
 *   3. {{>partial}} names are resolved to template indexes;
 *   4. partial cycles and nesting depth are checked.
 * Rendering walks the tree; it never looks at template source again.
 *
 * Syntax
 * ------
 *   {{name}}, {{a.b}}  The value of `name` in the innermost scope that has
 *                      it (then .b inside it). Strings are HTML-escaped with
 *                      buf_html(); integers and reals are printed; true and
 *                      false print as "true"/"false". Missing, null, object
 *                      or array: render error.
 *   {{.}}              The current scope itself (an array element inside a
 *                      section over an array of strings, say).
 *   {{t:key}}          The catalogue text of the render language, escaped.
 *   {{#name}}…{{/name}} Array: once per element, the element pushed as the
 *                      innermost scope. Object or other true-ish value
 *                      (true, non-empty string, non-zero number): once, the
 *                      value pushed as scope. Skipped for false, null, "",
 *                      0, [] and a missing name (so optional flags work).
 *   {{^name}}…{{/name}} Inverted: rendered exactly when #name is skipped.
 *   {{>name}}          Another template of the set, with the same scopes.
 *   {{! comment }}     Nothing.
 * Names use letters, digits, '_' and '-', with '.' between parts. Spaces
 * just inside the braces are allowed. There is no syntax for raw output:
 * template text itself is written as-is (it is ours, from disk), every
 * value and translation goes through buf_html().
 *
 * Ownership: a struct tpl_set owns everything reachable from it. Nothing in
 * it changes after tpl_set_load_sources() returns, so renders may run in
 * many threads at once.
 */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_SIZE (1024 * 1024)          /* per template or catalogue */
#define MAX_NAME_LEN 128                     /* names, keys, language codes */
#define MAX_OUTPUT_SIZE (16 * 1024 * 1024)   /* one render */
#define MAX_RENDER_STEPS (1024 * 1024)       /* nodes visited by one render */

/* ---- the parsed form ---------------------------------------------------- */

enum node_kind {
	NODE_TEXT,       /* literal template text */
	NODE_VALUE,      /* {{name}} */
	NODE_TRANSLATE,  /* {{t:key}} */
	NODE_SECTION,    /* {{#name}}…{{/name}} */
	NODE_INVERTED,   /* {{^name}}…{{/name}} */
	NODE_PARTIAL,    /* {{>name}} */
};

struct node;

struct block {
	struct node *nodes;   /* from malloc() */
	size_t count;
	size_t cap;
};

struct node {
	enum node_kind kind;
	unsigned line;        /* line of the tag (or text start), for messages */
	const char *text;     /* TEXT: points into the template's src */
	size_t len;           /* TEXT: length of text */
	char *name;           /* VALUE, SECTION, INVERTED, PARTIAL: the name as
	                       * written, from malloc() */
	char *parts;          /* VALUE, SECTION, INVERTED: name split at '.'
	                       * into NUL-separated parts, from malloc() */
	size_t nparts;        /* number of parts; 0 means "." */
	size_t index;         /* TRANSLATE: entry index (same in every
	                       * catalogue); PARTIAL: template index */
	struct block body;    /* SECTION, INVERTED */
};

struct template {
	char *name;           /* "login" */
	char *path;           /* for messages: "templates/login.html" */
	char *src;            /* the source; TEXT nodes point into it */
	size_t src_len;
	struct block body;
	int visit;            /* load time only: enum visit */
	int depth;            /* load time only: deepest nesting inside */
};

struct entry {
	char *key;            /* "login.title" */
	char *value;          /* unescaped text */
	unsigned line;
};

struct lang {
	char *code;           /* "fr" */
	char *path;           /* for messages: "templates/i18n/fr.txt" */
	struct entry *entries;   /* sorted by key; same keys in every lang */
	size_t count;
};

struct tpl_set {
	struct template *templates;   /* sorted by name */
	size_t ntemplates;
	struct lang *langs;           /* sorted by code */
	size_t nlangs;
	size_t default_lang;          /* index into langs */
	size_t name_entry;            /* index of the `lang.name` entry */
};

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static char *dup_mem(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *dup_str(const char *s)
{
	return dup_mem(s, strlen(s));
}

/* Compare n bytes at a with the C string b, as strcmp() would. */
static int cmp_mem_str(const char *a, size_t n, const char *b)
{
	size_t bn = strlen(b);
	int c = memcmp(a, b, n < bn ? n : bn);
	if (c != 0)
		return c;
	return n < bn ? -1 : n > bn ? 1 : 0;
}

static const char *find_str(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return s + i;
	return NULL;
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0) {
		char c = (*s)[*n - 1];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		(*n)--;
	}
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Template and partial names: letters, digits, _ and -. */
static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n > MAX_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_word_char(s[i]))
			return 0;
	return 1;
}

/* Value names: "." or word parts joined by single dots ("user.name"). */
static int valid_path(const char *s, size_t n)
{
	if (n == 1 && s[0] == '.')
		return 1;
	if (n == 0 || n > MAX_NAME_LEN || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
		if (s[i] != '.' && !is_word_char(s[i]))
			return 0;
	}
	return 1;
}

/* Catalogue keys: word characters and dots ("login.error_invalid"). */
static int valid_key(const char *s, size_t n)
{
	if (n == 0 || n > MAX_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '.' && !is_word_char(s[i]))
			return 0;
	return 1;
}

/* Language codes: 2 to 8 of a-z and -. */
static int valid_lang_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return 0;
	return 1;
}

/* 0 if s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) without NUL bytes; otherwise -1 and the line of the first
 * bad byte in *ret_line. */
static int check_utf8(const char *str, size_t len, unsigned *ret_line)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned line = 1;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xBF;   /* allowed second byte */
		size_t more;                         /* continuation bytes */

		if (c == '\n')
			line++;
		if (c >= 0x01 && c <= 0x7F) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			more = 1;
		else if (c == 0xE0)
			more = 2, lo = 0xA0;
		else if (c == 0xED)
			more = 2, hi = 0x9F;
		else if (c >= 0xE1 && c <= 0xEF)
			more = 2;
		else if (c == 0xF0)
			more = 3, lo = 0x90;
		else if (c == 0xF4)
			more = 3, hi = 0x8F;
		else if (c >= 0xF1 && c <= 0xF3)
			more = 3;
		else
			goto bad;   /* NUL, stray continuation, C0, C1, F5..FF */
		if (more > len - i - 1 || s[i + 1] < lo || s[i + 1] > hi)
			goto bad;
		for (size_t k = 2; k <= more; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
		i += more + 1;
	}
	return 0;
bad:
	*ret_line = line;
	return -1;
}

/* ---- freeing ------------------------------------------------------------ */

static void block_free(struct block *b);

static void node_free(struct node *n)
{
	free(n->name);
	free(n->parts);
	block_free(&n->body);
}

static void block_free(struct block *b)
{
	for (size_t i = 0; i < b->count; i++)
		node_free(&b->nodes[i]);
	free(b->nodes);
	b->nodes = NULL;
	b->count = b->cap = 0;
}

static void lang_free(struct lang *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->entries[i].key);
		free(l->entries[i].value);
	}
	free(l->entries);
	free(l->code);
	free(l->path);
}

void tpl_set_free(struct tpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->ntemplates; i++) {
		struct template *t = &set->templates[i];
		block_free(&t->body);
		free(t->name);
		free(t->path);
		free(t->src);
	}
	free(set->templates);
	for (size_t i = 0; i < set->nlangs; i++)
		lang_free(&set->langs[i]);
	free(set->langs);
	free(set);
}

/* ---- lookups ------------------------------------------------------------ */

/* Index of key (n bytes) in l's sorted entries, or -1. */
static long find_entry(const struct lang *l, const char *key, size_t n)
{
	size_t lo = 0, hi = l->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_mem_str(key, n, l->entries[mid].key);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static const struct template *find_template(const struct tpl_set *set, const char *name, size_t n)
{
	size_t lo = 0, hi = set->ntemplates;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_mem_str(name, n, set->templates[mid].name);
		if (c == 0)
			return &set->templates[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The catalogue for lang, or the default one when lang is NULL or unknown. */
static const struct lang *pick_lang(const struct tpl_set *set, const char *lang)
{
	if (lang)
		for (size_t i = 0; i < set->nlangs; i++)
			if (strcmp(set->langs[i].code, lang) == 0)
				return &set->langs[i];
	return &set->langs[set->default_lang];
}

/* ---- catalogues --------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* Copy value (n bytes) turning \n into a newline and \\ into a backslash. */
static int unescape_value(const char *v, size_t n, char **ret, const char *path, unsigned line,
			  char *err, size_t errlen)
{
	char *out = malloc(n + 1);
	size_t o = 0;
	if (!out)
		return fail(err, errlen, "%s:%u: out of memory", path, line);
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '\\') {
			out[o++] = v[i];
			continue;
		}
		if (i + 1 < n && v[i + 1] == 'n')
			out[o++] = '\n';
		else if (i + 1 < n && v[i + 1] == '\\')
			out[o++] = '\\';
		else {
			free(out);
			return fail(err, errlen, "%s:%u: unknown escape after '\\' (use \\n or \\\\)",
				    path, line);
		}
		i++;
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

/* Parse one catalogue of `key = value` lines into l (code and path set). */
static int parse_catalogue(struct lang *l, const char *text, size_t len, char *err, size_t errlen)
{
	size_t cap = 0;
	unsigned line = 0;

	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos;
		const char *eol = memchr(s, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - s) : len - pos;
		pos += n + 1;
		line++;

		trim(&s, &n);
		if (n == 0 || s[0] == '#')
			continue;
		const char *eq = memchr(s, '=', n);
		if (!eq)
			return fail(err, errlen, "%s:%u: expected 'key = value'", l->path, line);
		const char *key = s, *value = eq + 1;
		size_t keylen = (size_t)(eq - s), valuelen = n - keylen - 1;
		trim(&key, &keylen);
		trim(&value, &valuelen);
		if (!valid_key(key, keylen))
			return fail(err, errlen, "%s:%u: invalid key '%.*s' (letters, digits, _ - and .)",
				    l->path, line, (int)(keylen > 60 ? 60 : keylen), key);
		if (valuelen == 0)
			return fail(err, errlen, "%s:%u: empty text for '%.*s'", l->path, line,
				    (int)keylen, key);

		if (l->count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct entry *p = realloc(l->entries, ncap * sizeof *p);
			if (!p)
				return fail(err, errlen, "%s: out of memory", l->path);
			l->entries = p;
			cap = ncap;
		}
		struct entry *e = &l->entries[l->count];
		*e = (struct entry){ .line = line };
		if (unescape_value(value, valuelen, &e->value, l->path, line, err, errlen) < 0)
			return -1;
		e->key = dup_mem(key, keylen);
		l->count++;   /* counted now so that lang_free() frees it */
		if (!e->key)
			return fail(err, errlen, "%s: out of memory", l->path);
	}

	if (l->count > 0)
		qsort(l->entries, l->count, sizeof *l->entries, entry_cmp);
	for (size_t i = 1; i < l->count; i++) {
		const struct entry *a = &l->entries[i - 1], *b = &l->entries[i];
		if (strcmp(a->key, b->key) == 0) {
			unsigned first = a->line < b->line ? a->line : b->line;
			unsigned second = a->line < b->line ? b->line : a->line;
			return fail(err, errlen, "%s:%u: key '%s' already defined at line %u",
				    l->path, second, a->key, first);
		}
	}
	if (find_entry(l, "lang.name", strlen("lang.name")) < 0)
		return fail(err, errlen, "%s: missing 'lang.name' (the language's own name, like Français)",
			    l->path);
	return 0;
}

/* Both catalogues must have the same keys; name the first one missing. */
static int compare_keys(const struct lang *a, const struct lang *b, char *err, size_t errlen)
{
	size_t i = 0, j = 0;
	while (i < a->count || j < b->count) {
		int c = i == a->count ? 1 : j == b->count ? -1 :
			strcmp(a->entries[i].key, b->entries[j].key);
		if (c < 0)
			return fail(err, errlen, "%s: missing key '%s' (defined in %s:%u)",
				    b->path, a->entries[i].key, a->path, a->entries[i].line);
		if (c > 0)
			return fail(err, errlen, "%s: missing key '%s' (defined in %s:%u)",
				    a->path, b->entries[j].key, b->path, b->entries[j].line);
		i++;
		j++;
	}
	return 0;
}

static int lang_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lang *)a)->code, ((const struct lang *)b)->code);
}

static int load_catalogues(struct tpl_set *set, const struct tpl_source *src, size_t n,
			   char *err, size_t errlen)
{
	if (n == 0)
		return fail(err, errlen, "no language catalogue");
	set->langs = calloc(n, sizeof *set->langs);
	if (!set->langs)
		return fail(err, errlen, "out of memory");

	for (size_t i = 0; i < n; i++) {
		struct lang *l = &set->langs[i];
		const char *path = src[i].path ? src[i].path : src[i].name;
		unsigned line;
		set->nlangs++;   /* counted now so that tpl_set_free() frees it */
		l->code = dup_str(src[i].name);
		l->path = dup_str(path);
		if (!l->code || !l->path)
			return fail(err, errlen, "out of memory");
		if (!valid_lang_code(l->code))
			return fail(err, errlen, "%s: language code '%.40s' must be 2 to 8 characters of a-z and -",
				    path, l->code);
		if (check_utf8(src[i].text, src[i].len, &line) < 0)
			return fail(err, errlen, "%s:%u: not valid UTF-8 text", path, line);
		if (parse_catalogue(l, src[i].text, src[i].len, err, errlen) < 0)
			return -1;
	}

	qsort(set->langs, set->nlangs, sizeof *set->langs, lang_cmp);
	for (size_t i = 1; i < set->nlangs; i++)
		if (strcmp(set->langs[i - 1].code, set->langs[i].code) == 0)
			return fail(err, errlen, "%s: language '%s' given twice", set->langs[i].path,
				    set->langs[i].code);

	set->default_lang = 0;
	for (size_t i = 0; i < set->nlangs; i++)
		if (strcmp(set->langs[i].code, "en") == 0)
			set->default_lang = i;
	const struct lang *def = &set->langs[set->default_lang];
	for (size_t i = 0; i < set->nlangs; i++)
		if (i != set->default_lang && compare_keys(def, &set->langs[i], err, errlen) < 0)
			return -1;
	set->name_entry = (size_t)find_entry(def, "lang.name", strlen("lang.name"));
	return 0;
}

/* ---- template parser ---------------------------------------------------- */

struct parser {
	const struct tpl_set *set;   /* catalogues, for {{t:key}} */
	const char *path;            /* for messages */
	const char *src;
	size_t len;
	size_t pos;                  /* next byte to read */
	unsigned line;               /* line of src[pos] */
	char *err;
	size_t errlen;
};

/* Move to `to`, counting the newlines passed. */
static void advance(struct parser *ps, size_t to)
{
	for (; ps->pos < to; ps->pos++)
		if (ps->src[ps->pos] == '\n')
			ps->line++;
}

/* "file:line: {{tag}}: what" */
static int tag_error(const struct parser *ps, unsigned line, const char *tag, size_t n, const char *what)
{
	return fail(ps->err, ps->errlen, "%s:%u: {{%.*s}}: %s", ps->path, line,
		    (int)(n > 60 ? 60 : n), tag, what);
}

static int block_push(struct block *b, const struct node *n)
{
	if (b->count == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 8;
		struct node *p = realloc(b->nodes, ncap * sizeof *p);
		if (!p)
			return -1;
		b->nodes = p;
		b->cap = ncap;
	}
	b->nodes[b->count++] = *n;
	return 0;
}

/* Fill name, parts and nparts of n from a valid path. */
static int set_path(struct node *n, const char *s, size_t len)
{
	n->name = dup_mem(s, len);
	n->parts = dup_mem(s, len);
	if (!n->name || !n->parts)
		return -1;
	if (len == 1 && s[0] == '.') {
		n->nparts = 0;
		return 0;
	}
	n->nparts = 1;
	for (size_t i = 0; i < len; i++) {
		if (n->parts[i] == '.') {
			n->parts[i] = '\0';
			n->nparts++;
		}
	}
	return 0;
}

/* The section whose body is being parsed, so that {{/name}} can be checked. */
struct open_section {
	const char *name;   /* points into the source */
	size_t len;
	unsigned line;
};

static int parse_block(struct parser *ps, struct block *into, const struct open_section *open, int depth);

/* One tag, found at `line`, whose inside (between the braces, trimmed) is
 * tag[0..n). Adds its node to `into`, or sets *ret_closed when it is the
 * {{/name}} that closes `open` (NULL at the top of a template). */
static int parse_tag(struct parser *ps, struct block *into, const char *tag, size_t n, unsigned line,
		     const struct open_section *open, int depth, int *ret_closed)
{
	struct node node = { .line = line };
	const char *name = tag + 1;
	size_t namelen = n - 1;

	trim(&name, &namelen);
	switch (tag[0]) {
	case '#':
	case '^':
		if (namelen == 0)
			return tag_error(ps, line, tag, n, "empty section name");
		if (!valid_path(name, namelen))
			return tag_error(ps, line, tag, n, "invalid name (letters, digits, _ and -, parts joined by .)");
		if (depth >= TPL_MAX_DEPTH)
			return tag_error(ps, line, tag, n, "sections nested too deep");
		node.kind = tag[0] == '#' ? NODE_SECTION : NODE_INVERTED;
		if (set_path(&node, name, namelen) < 0)
			goto oom;
		struct open_section section = { name, namelen, line };
		if (parse_block(ps, &node.body, &section, depth + 1) < 0) {
			node_free(&node);
			return -1;
		}
		break;

	case '/':
		if (namelen == 0)
			return tag_error(ps, line, tag, n, "empty section name");
		if (!open)
			return tag_error(ps, line, tag, n, "closes a section that is not open");
		if (namelen != open->len || memcmp(name, open->name, open->len) != 0)
			return fail(ps->err, ps->errlen, "%s:%u: {{/%.*s}} does not match {{#%.*s}} opened at line %u",
				    ps->path, line, (int)(namelen > 60 ? 60 : namelen), name,
				    (int)open->len, open->name, open->line);
		*ret_closed = 1;
		return 0;

	case '>':
		if (namelen == 0)
			return tag_error(ps, line, tag, n, "empty partial name");
		if (!valid_name(name, namelen))
			return tag_error(ps, line, tag, n, "invalid partial name (letters, digits, _ and -)");
		node.kind = NODE_PARTIAL;
		node.name = dup_mem(name, namelen);   /* resolved once all are parsed */
		if (!node.name)
			goto oom;
		break;

	case '{':
	case '&':
		return tag_error(ps, line, tag, n, "unescaped output is not supported; values are always escaped");

	case '=':
		return tag_error(ps, line, tag, n, "changing delimiters is not supported");

	default:
		if (n >= 2 && tag[0] == 't' && tag[1] == ':') {
			const char *key = tag + 2;
			size_t keylen = n - 2;
			trim(&key, &keylen);
			if (keylen == 0)
				return tag_error(ps, line, tag, n, "empty translation key");
			if (!valid_key(key, keylen))
				return tag_error(ps, line, tag, n, "invalid translation key");
			long idx = find_entry(&ps->set->langs[ps->set->default_lang], key, keylen);
			if (idx < 0)
				return tag_error(ps, line, tag, n, "translation key missing from the catalogues");
			node.kind = NODE_TRANSLATE;
			node.index = (size_t)idx;
			break;
		}
		if (!valid_path(tag, n))
			return tag_error(ps, line, tag, n, "invalid name (letters, digits, _ and -, parts joined by .)");
		node.kind = NODE_VALUE;
		if (set_path(&node, tag, n) < 0)
			goto oom;
		break;
	}

	if (block_push(into, &node) < 0)
		goto oom;
	return 0;
oom:
	node_free(&node);
	return fail(ps->err, ps->errlen, "%s:%u: out of memory", ps->path, line);
}

/* Parse nodes into `into` until the end of the source (when open is NULL)
 * or until the {{/name}} that closes `open`. depth = sections around. */
static int parse_block(struct parser *ps, struct block *into, const struct open_section *open, int depth)
{
	for (;;) {
		const char *start = find_str(ps->src + ps->pos, ps->len - ps->pos, "{{");
		size_t text_end = start ? (size_t)(start - ps->src) : ps->len;

		if (text_end > ps->pos) {
			struct node text = { .kind = NODE_TEXT, .line = ps->line,
					     .text = ps->src + ps->pos, .len = text_end - ps->pos };
			if (block_push(into, &text) < 0)
				return fail(ps->err, ps->errlen, "%s:%u: out of memory", ps->path, ps->line);
		}
		advance(ps, text_end);
		if (!start) {
			if (open)
				return fail(ps->err, ps->errlen, "%s:%u: section '%.*s' is never closed",
					    ps->path, open->line, (int)open->len, open->name);
			return 0;
		}

		unsigned line = ps->line;
		size_t inner = ps->pos + 2;
		const char *end = find_str(ps->src + inner, ps->len - inner, "}}");
		if (!end)
			return fail(ps->err, ps->errlen, "%s:%u: unterminated tag ('{{' without '}}')",
				    ps->path, line);
		const char *tag = ps->src + inner;
		size_t n = (size_t)(end - tag);
		advance(ps, (size_t)(end - ps->src) + 2);

		trim(&tag, &n);
		if (find_str(tag, n, "{{"))
			return fail(ps->err, ps->errlen, "%s:%u: unterminated tag ('{{' inside a tag)",
				    ps->path, line);
		if (n == 0)
			return fail(ps->err, ps->errlen, "%s:%u: empty tag {{}}", ps->path, line);
		if (tag[0] == '!')
			continue;   /* comment */

		int closed = 0;
		if (parse_tag(ps, into, tag, n, line, open, depth, &closed) < 0)
			return -1;
		if (closed)
			return 0;
	}
}

static int parse_template(const struct tpl_set *set, struct template *t, char *err, size_t errlen)
{
	struct parser ps = {
		.set = set, .path = t->path, .src = t->src, .len = t->src_len, .line = 1,
		.err = err, .errlen = errlen,
	};
	return parse_block(&ps, &t->body, NULL, 0);
}

/* ---- partials: resolve names, refuse cycles and deep nesting ------------ */

static int resolve_partials(const struct tpl_set *set, const struct template *t, struct block *b,
			    char *err, size_t errlen)
{
	for (size_t i = 0; i < b->count; i++) {
		struct node *n = &b->nodes[i];
		if (n->kind == NODE_PARTIAL) {
			const struct template *target = find_template(set, n->name, strlen(n->name));
			if (!target)
				return fail(err, errlen, "%s:%u: {{>%s}}: no template named '%s'",
					    t->path, n->line, n->name, n->name);
			n->index = (size_t)(target - set->templates);
		} else if (n->kind == NODE_SECTION || n->kind == NODE_INVERTED) {
			if (resolve_partials(set, t, &n->body, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

enum visit { VISIT_NEW, VISIT_ACTIVE, VISIT_DONE };

static int template_depth(struct tpl_set *set, struct template *t, int level, char *err, size_t errlen);

/* The deepest nesting of sections and partials inside b, in *ret_depth.
 * `level` is how deeply b itself sits below the template being checked:
 * checking it on the way down keeps this recursion bounded too. */
static int block_depth(struct tpl_set *set, const struct template *t, const struct block *b,
		       int level, int *ret_depth, char *err, size_t errlen)
{
	int deepest = 0;

	for (size_t i = 0; i < b->count; i++) {
		const struct node *n = &b->nodes[i];
		int d;

		if (n->kind != NODE_SECTION && n->kind != NODE_INVERTED && n->kind != NODE_PARTIAL)
			continue;
		if (level + 1 > TPL_MAX_DEPTH)
			return fail(err, errlen, "%s:%u: sections and partials nested more than %d deep",
				    t->path, n->line, TPL_MAX_DEPTH);
		if (n->kind == NODE_PARTIAL) {
			struct template *target = &set->templates[n->index];
			if (target->visit == VISIT_ACTIVE)
				return fail(err, errlen, "%s:%u: {{>%s}}: partial cycle ('%s' ends up including itself)",
					    t->path, n->line, n->name, n->name);
			if (target->visit == VISIT_NEW &&
			    template_depth(set, target, level + 1, err, errlen) < 0)
				return -1;
			d = target->depth;
		} else if (block_depth(set, t, &n->body, level + 1, &d, err, errlen) < 0) {
			return -1;
		}
		if (level + 1 + d > TPL_MAX_DEPTH)
			return fail(err, errlen, "%s:%u: sections and partials nested more than %d deep",
				    t->path, n->line, TPL_MAX_DEPTH);
		if (d + 1 > deepest)
			deepest = d + 1;
	}
	*ret_depth = deepest;
	return 0;
}

static int template_depth(struct tpl_set *set, struct template *t, int level, char *err, size_t errlen)
{
	t->visit = VISIT_ACTIVE;
	if (block_depth(set, t, &t->body, level, &t->depth, err, errlen) < 0)
		return -1;
	t->visit = VISIT_DONE;
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

static int template_cmp(const void *a, const void *b)
{
	return strcmp(((const struct template *)a)->name, ((const struct template *)b)->name);
}

static int load_templates(struct tpl_set *set, const struct tpl_source *src, size_t n,
			  char *err, size_t errlen)
{
	if (n > 0) {
		set->templates = calloc(n, sizeof *set->templates);
		if (!set->templates)
			return fail(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct template *t = &set->templates[i];
		const char *path = src[i].path ? src[i].path : src[i].name;
		unsigned line;
		set->ntemplates++;   /* counted now so that tpl_set_free() frees it */
		t->name = dup_str(src[i].name);
		t->path = dup_str(path);
		t->src = dup_mem(src[i].text, src[i].len);
		t->src_len = src[i].len;
		if (!t->name || !t->path || !t->src)
			return fail(err, errlen, "out of memory");
		if (!valid_name(t->name, strlen(t->name)))
			return fail(err, errlen, "%s: template name '%.40s' may only use letters, digits, _ and -",
				    path, t->name);
		if (check_utf8(t->src, t->src_len, &line) < 0)
			return fail(err, errlen, "%s:%u: not valid UTF-8 text", path, line);
	}

	/* Sorted first: parsed in a fixed order, and found by bsearch. */
	if (n > 0)
		qsort(set->templates, n, sizeof *set->templates, template_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(set->templates[i - 1].name, set->templates[i].name) == 0)
			return fail(err, errlen, "%s: template '%s' given twice", set->templates[i].path,
				    set->templates[i].name);

	for (size_t i = 0; i < n; i++)
		if (parse_template(set, &set->templates[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (resolve_partials(set, &set->templates[i], &set->templates[i].body, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (set->templates[i].visit == VISIT_NEW &&
		    template_depth(set, &set->templates[i], 0, err, errlen) < 0)
			return -1;
	return 0;
}

int tpl_set_load_sources(const struct tpl_source *templates, size_t ntemplates,
			 const struct tpl_source *catalogues, size_t ncatalogues,
			 struct tpl_set **ret_set, char *err, size_t errlen)
{
	struct tpl_set *set = calloc(1, sizeof *set);
	if (!set)
		return fail(err, errlen, "out of memory");
	/* Catalogues first: the template parser checks {{t:key}} against them. */
	if (load_catalogues(set, catalogues, ncatalogues, err, errlen) < 0)
		goto fail;
	if (load_templates(set, templates, ntemplates, err, errlen) < 0)
		goto fail;
	*ret_set = set;
	return 0;
fail:
	tpl_set_free(set);
	return -1;
}

/* ---- loading from a folder ---------------------------------------------- */

struct file {
	char *name;   /* file name without its suffix */
	char *path;
	char *text;
	size_t len;
};

struct file_list {
	struct file *files;
	size_t count;
};

static void file_list_free(struct file_list *fl)
{
	for (size_t i = 0; i < fl->count; i++) {
		free(fl->files[i].name);
		free(fl->files[i].path);
		free(fl->files[i].text);
	}
	free(fl->files);
	fl->files = NULL;
	fl->count = 0;
}

/* Read the whole file at path (at most MAX_FILE_SIZE bytes). */
static int read_file(const char *path, char **ret_text, size_t *ret_len, char *err, size_t errlen)
{
	int r = -1;
	char *text = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));

	text = malloc(MAX_FILE_SIZE + 1);
	if (!text) {
		fail(err, errlen, "%s: out of memory", path);
		goto done;
	}
	size_t len = fread(text, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		fail(err, errlen, "%s: read error", path);
		goto done;
	}
	if (len > MAX_FILE_SIZE) {
		fail(err, errlen, "%s: larger than %d bytes", path, MAX_FILE_SIZE);
		goto done;
	}
	*ret_text = text;
	*ret_len = len;
	text = NULL;
	r = 0;
done:
	free(text);
	fclose(f);
	return r;
}

/* Read every regular file of dir whose name ends in suffix. */
static int read_dir(const char *dir, const char *suffix, struct file_list *fl, char *err, size_t errlen)
{
	int r = -1;
	size_t cap = 0;
	size_t slen = strlen(suffix);
	DIR *d = opendir(dir);
	if (!d)
		return fail(err, errlen, "%s: %s", dir, strerror(errno));

	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				fail(err, errlen, "%s: %s", dir, strerror(errno));
				goto done;
			}
			break;
		}
		size_t nlen = strlen(de->d_name);
		if (de->d_name[0] == '.' || nlen <= slen || strcmp(de->d_name + nlen - slen, suffix) != 0)
			continue;

		char path[PATH_MAX];
		int pn = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (pn < 0 || (size_t)pn >= sizeof path) {
			fail(err, errlen, "%s/%s: path too long", dir, de->d_name);
			goto done;
		}
		struct stat st;
		if (stat(path, &st) < 0) {
			fail(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (!S_ISREG(st.st_mode)) {
			fail(err, errlen, "%s: not a regular file", path);
			goto done;
		}

		if (fl->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct file *p = realloc(fl->files, ncap * sizeof *p);
			if (!p) {
				fail(err, errlen, "%s: out of memory", dir);
				goto done;
			}
			fl->files = p;
			cap = ncap;
		}
		struct file *f = &fl->files[fl->count];
		*f = (struct file){ 0 };
		fl->count++;   /* counted now so that file_list_free() frees it */
		f->name = dup_mem(de->d_name, nlen - slen);
		f->path = dup_str(path);
		if (!f->name || !f->path) {
			fail(err, errlen, "%s: out of memory", dir);
			goto done;
		}
		if (read_file(path, &f->text, &f->len, err, errlen) < 0)
			goto done;
	}
	r = 0;
done:
	closedir(d);
	return r;
}

/* tpl_source views of the files; the files keep owning the bytes. */
static struct tpl_source *sources_of(const struct file_list *fl)
{
	struct tpl_source *s = calloc(fl->count ? fl->count : 1, sizeof *s);
	if (!s)
		return NULL;
	for (size_t i = 0; i < fl->count; i++)
		s[i] = (struct tpl_source){ fl->files[i].name, fl->files[i].path,
					    fl->files[i].text, fl->files[i].len };
	return s;
}

int tpl_set_load(const char *dir, struct tpl_set **ret_set, char *err, size_t errlen)
{
	int r = -1;
	struct file_list pages = { 0 }, cats = { 0 };
	struct tpl_source *page_src = NULL, *cat_src = NULL;
	char i18n[PATH_MAX];

	int n = snprintf(i18n, sizeof i18n, "%s/i18n", dir);
	if (n < 0 || (size_t)n >= sizeof i18n)
		return fail(err, errlen, "%s: path too long", dir);
	if (read_dir(dir, ".html", &pages, err, errlen) < 0)
		goto done;
	if (read_dir(i18n, ".txt", &cats, err, errlen) < 0)
		goto done;
	if (cats.count == 0) {
		fail(err, errlen, "%s: no language catalogue (no .txt file)", i18n);
		goto done;
	}
	page_src = sources_of(&pages);
	cat_src = sources_of(&cats);
	if (!page_src || !cat_src) {
		fail(err, errlen, "%s: out of memory", dir);
		goto done;
	}
	r = tpl_set_load_sources(page_src, pages.count, cat_src, cats.count, ret_set, err, errlen);
done:
	free(page_src);
	free(cat_src);
	file_list_free(&pages);
	file_list_free(&cats);
	return r;
}

/* ---- rendering ---------------------------------------------------------- */

struct render {
	const struct tpl_set *set;
	const struct lang *lang;
	struct buf *out;
	size_t out_start;                      /* out->len before this render */
	json_t *scopes[TPL_MAX_DEPTH + 1];     /* borrowed; [0] is the context */
	size_t nscopes;
	size_t steps;
	char *err;
	size_t errlen;
};

/* The value n names, or NULL. The first part is looked up from the
 * innermost scope outwards; the next parts inside what it found. */
static json_t *lookup(const struct render *r, const struct node *n)
{
	if (n->nparts == 0)
		return r->scopes[r->nscopes - 1];

	const char *part = n->parts;
	json_t *v = NULL;
	for (size_t i = r->nscopes; i-- > 0 && !v;)
		if (json_is_object(r->scopes[i]))
			v = json_object_get(r->scopes[i], part);
	for (size_t k = 1; k < n->nparts && v; k++) {
		part += strlen(part) + 1;
		v = json_is_object(v) ? json_object_get(v, part) : NULL;
	}
	return v;
}

/* Whether {{#name}} renders its body. */
static int is_truthy(const json_t *v)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: return 1;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0.0;
	case JSON_TRUE: return 1;
	case JSON_FALSE: return 0;
	case JSON_NULL: return 0;
	}
	return 0;
}

static int write_value(struct render *r, const struct template *t, const struct node *n, json_t *v)
{
	const char *problem;

	if (!v) {
		problem = "no such value in the context";
		goto bad;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_html(r->out, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		buf_printf(r->out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		buf_printf(r->out, "%.15g", json_real_value(v));
		return 0;
	case JSON_TRUE:
		buf_puts(r->out, "true");
		return 0;
	case JSON_FALSE:
		buf_puts(r->out, "false");
		return 0;
	case JSON_NULL:
		problem = "the value is null";
		goto bad;
	case JSON_OBJECT:
	case JSON_ARRAY:
		problem = "an object or array cannot be printed (use a section)";
		goto bad;
	}
	problem = "unknown JSON type";
bad:
	return fail(r->err, r->errlen, "%s:%u: {{%s}}: %s", t->path, n->line, n->name, problem);
}

static int render_block(struct render *r, const struct template *t, const struct block *b);

/* The body of a section once, with v as the innermost scope. */
static int render_with_scope(struct render *r, const struct template *t, const struct node *n, json_t *v)
{
	if (r->nscopes == sizeof r->scopes / sizeof r->scopes[0])   /* prevented at load */
		return fail(r->err, r->errlen, "%s:%u: nested too deep", t->path, n->line);
	r->scopes[r->nscopes++] = v;
	int rc = render_block(r, t, &n->body);
	r->nscopes--;
	return rc;
}

static int render_block(struct render *r, const struct template *t, const struct block *b)
{
	for (size_t i = 0; i < b->count; i++) {
		const struct node *n = &b->nodes[i];
		json_t *v;

		if (++r->steps > MAX_RENDER_STEPS)
			return fail(r->err, r->errlen, "%s:%u: render stopped after %d steps",
				    t->path, n->line, MAX_RENDER_STEPS);
		switch (n->kind) {
		case NODE_TEXT:
			/* Template markup, from our own files: the one raw write. */
			buf_html_raw(r->out, n->text, n->len);
			break;
		case NODE_VALUE:
			if (write_value(r, t, n, lookup(r, n)) < 0)
				return -1;
			break;
		case NODE_TRANSLATE: {
			const char *s = r->lang->entries[n->index].value;
			buf_html(r->out, s, strlen(s));
			break;
		}
		case NODE_SECTION:
			v = lookup(r, n);
			if (!is_truthy(v))
				break;
			if (json_is_array(v)) {
				for (size_t k = 0; k < json_array_size(v); k++)
					if (render_with_scope(r, t, n, json_array_get(v, k)) < 0)
						return -1;
			} else if (render_with_scope(r, t, n, v) < 0) {
				return -1;
			}
			break;
		case NODE_INVERTED:
			if (!is_truthy(lookup(r, n)) && render_block(r, t, &n->body) < 0)
				return -1;
			break;
		case NODE_PARTIAL: {
			const struct template *p = &r->set->templates[n->index];
			if (render_block(r, p, &p->body) < 0)
				return -1;
			break;
		}
		}
		if (r->out->failed)
			return fail(r->err, r->errlen, "%s: out of memory", t->path);
		if (r->out->len - r->out_start > MAX_OUTPUT_SIZE)
			return fail(r->err, r->errlen, "%s:%u: output larger than %d bytes",
				    t->path, n->line, MAX_OUTPUT_SIZE);
	}
	return 0;
}

int tpl_render(const struct tpl_set *set, const char *name, const char *lang,
	       json_t *ctx, struct buf *out, char *err, size_t errlen)
{
	if (!set || !name || !out)
		return fail(err, errlen, "tpl_render: missing argument");
	const struct template *t = find_template(set, name, strlen(name));
	if (!t)
		return fail(err, errlen, "no template named '%.60s'", name);
	if (!json_is_object(ctx))
		return fail(err, errlen, "%s: the context must be a JSON object", t->path);
	if (out->failed)
		return fail(err, errlen, "%s: out of memory", t->path);

	struct render r = {
		.set = set, .lang = pick_lang(set, lang), .out = out, .out_start = out->len,
		.nscopes = 1, .err = err, .errlen = errlen,
	};
	r.scopes[0] = ctx;
	if (render_block(&r, t, &t->body) < 0) {
		/* Take back the half-written page. */
		out->len = r.out_start;
		if (out->data)
			out->data[out->len] = '\0';
		return -1;
	}
	return 0;
}

/* ---- catalogue queries -------------------------------------------------- */

const char *tpl_text(const struct tpl_set *set, const char *lang, const char *key)
{
	if (!set || !key)
		return NULL;
	const struct lang *l = pick_lang(set, lang);
	long i = find_entry(l, key, strlen(key));
	return i < 0 ? NULL : l->entries[i].value;
}

size_t tpl_lang_count(const struct tpl_set *set)
{
	return set ? set->nlangs : 0;
}

const char *tpl_lang_code(const struct tpl_set *set, size_t i)
{
	return set && i < set->nlangs ? set->langs[i].code : NULL;
}

const char *tpl_lang_name(const struct tpl_set *set, size_t i)
{
	return set && i < set->nlangs ? set->langs[i].entries[set->name_entry].value : NULL;
}

int tpl_has_lang(const struct tpl_set *set, const char *lang)
{
	if (!set || !lang)
		return 0;
	for (size_t i = 0; i < set->nlangs; i++)
		if (strcmp(set->langs[i].code, lang) == 0)
			return 1;
	return 0;
}

const char *tpl_default_lang(const struct tpl_set *set)
{
	return set ? set->langs[set->default_lang].code : NULL;
}

int tpl_set_offer(struct tpl_set *set, const char *const *codes, size_t n, char *err,
		  size_t errlen)
{
	if (n == 0)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!tpl_has_lang(set, codes[k]))
			return fail(err, errlen, "no catalogue for language '%s'", codes[k]);
	size_t kept = 0;
	for (size_t i = 0; i < set->nlangs; i++) {
		int offered = 0;
		for (size_t k = 0; k < n; k++)
			offered |= strcmp(set->langs[i].code, codes[k]) == 0;
		if (!offered) {
			lang_free(&set->langs[i]);
			continue;
		}
		set->langs[kept] = set->langs[i];
		if (strcmp(set->langs[kept].code, codes[0]) == 0)
			set->default_lang = kept;
		kept++;
	}
	set->nlangs = kept;   /* still sorted by code */
	return 0;
}

int tpl_require_key(const struct tpl_set *set, const char *prefix, const char *code,
		    const char *user, char *err, size_t errlen)
{
	char key[128];
	snprintf(key, sizeof key, "%s%s", prefix, code);
	/* Every catalogue has the same keys (the loader insists), so the
	 * default language stands for all of them. */
	if (tpl_text(set, tpl_default_lang(set), key))
		return 0;
	snprintf(err, errlen, "the catalogues have no key '%s' (used by %s)", key, user);
	return -1;
}
