/* form.c — urlencoded form bodies and UTF-8 validation. */
#include "form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long url_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (len - i < 3)
				return -1;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}

int utf8_text_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

void form_free(struct form *f)
{
	for (size_t i = 0; i < f->count; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	for (size_t i = 0; i < f->nfiles; i++)
		free(f->files[i].name);
	f->count = 0;
	f->nfiles = 0;
}

static char *decode_part(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	if (!out)
		return NULL;
	long n = url_decode(s, len, out, len + 1);
	if (n < 0 || !utf8_text_valid(out, (size_t)n)) {
		free(out);
		return NULL;
	}
	return out;
}

int form_parse(const char *body, size_t len, struct form *ret)
{
	struct form f = { 0 };
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		if (end > i) {
			const char *eq = memchr(body + i, '=', end - i);
			size_t name_end = eq ? (size_t)(eq - body) : end;
			if (f.count == FORM_MAX_FIELDS)
				goto fail;
			char *name = decode_part(body + i, name_end - i);
			char *value = eq ? decode_part(eq + 1, end - name_end - 1) : strdup("");
			if (!name || !value || !name[0]) {
				free(name);
				free(value);
				goto fail;
			}
			f.names[f.count] = name;
			f.values[f.count] = value;
			f.count++;
		}
		i = end + 1;
	}
	*ret = f;
	return 0;
fail:
	form_free(&f);
	memset(ret, 0, sizeof *ret);
	return -1;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

int form_only(const struct form *f, const char *const *allowed, const char **ret_unknown)
{
	for (size_t i = 0; i < f->count; i++) {
		int known = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(f->names[i], *a) == 0)
				known = 1;
		if (!known) {
			*ret_unknown = f->names[i];
			return 0;
		}
	}
	return 1;
}
