/* multipart.c — multipart/form-data bodies, parsed from a complete buffer.
 *
 * body := [preamble] "--B" CRLF part ( CRLF "--B" CRLF part )* CRLF "--B--" [epilogue]
 * part := header-lines CRLF data          (headers end with an empty line)
 * Only Content-Disposition (name, filename) is read; other part headers
 * are skipped. Everything is bounded by the body length. */
#include "form.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70        /* RFC 2046 */
#define PART_HEADERS_MAX 2048

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return nlen <= hlen ? memmem(hay, hlen, needle, nlen) : NULL;
}

/* The boundary parameter of a multipart/form-data Content-Type. */
static int boundary_of(const char *ct, char out[BOUNDARY_MAX + 1])
{
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -1;
	const char *p = strcasestr(ct, "boundary=");
	if (!p)
		return -1;
	p += 9;
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (p[n] && p[n] != '"')
			n++;
		if (p[n] != '"')
			return -1;
	} else {
		while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
			n++;
	}
	if (n == 0 || n > BOUNDARY_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* A parameter value of a Content-Disposition line: name="x". Returns a
 * malloc()ed copy, or NULL when absent or malformed. *present tells which. */
static char *disposition_param(const char *line, size_t len, const char *param, int *present)
{
	size_t plen = strlen(param);
	*present = 0;
	for (size_t i = 0; i + plen + 2 <= len; i++) {
		/* A parameter starts after ';' and optional spaces. */
		if (line[i] != ';')
			continue;
		size_t j = i + 1;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (len - j < plen + 2 || strncasecmp(line + j, param, plen) != 0 || line[j + plen] != '=')
			continue;
		j += plen + 1;
		*present = 1;
		if (line[j] != '"')
			return NULL;
		const char *end = memchr(line + j + 1, '"', len - j - 1);
		if (!end)
			return NULL;
		size_t n = (size_t)(end - (line + j + 1));
		char *v = malloc(n + 1);
		if (!v)
			return NULL;
		memcpy(v, line + j + 1, n);
		v[n] = '\0';
		if (!utf8_text_valid(v, n)) {
			free(v);
			return NULL;
		}
		return v;
	}
	return NULL;
}

/* Read one part's headers; name and whether it is a file. 0 or -1. */
static int part_headers(const char *h, size_t len, char **ret_name, int *ret_is_file)
{
	char *name = NULL;
	int is_file = 0, seen = 0;
	size_t i = 0;
	while (i < len) {
		const char *eol = find(h + i, len - i, "\r\n", 2);
		size_t n = eol ? (size_t)(eol - (h + i)) : len - i;
		const char *line = h + i;
		if (n > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
			if (seen++)
				goto fail;
			const char *v = line + 20;
			size_t vl = n - 20;
			while (vl && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			if (vl < 9 || strncasecmp(v, "form-data", 9) != 0)
				goto fail;
			int present;
			name = disposition_param(v, vl, "name", &present);
			if (!name || !name[0])
				goto fail;
			char *filename = disposition_param(v, vl, "filename", &present);
			free(filename);
			is_file = present;
		}
		i += n + 2;
	}
	if (!name)
		return -1;
	*ret_name = name;
	*ret_is_file = is_file;
	return 0;
fail:
	free(name);
	return -1;
}

int form_parse_multipart(const char *body, size_t len, const char *content_type, struct form *ret)
{
	struct form f;
	memset(&f, 0, sizeof f);
	char boundary[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5];
	if (boundary_of(content_type, boundary) < 0)
		goto fail;
	/* Every delimiter after the first is preceded by CRLF. */
	size_t dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);

	const char *p = NULL;
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((p = find(body, len, delim, dlen)))
		p += dlen;
	else
		goto fail;
	const char *end = body + len;
	for (;;) {
		/* After a delimiter: "--" closes, CRLF opens a part. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			goto fail;
		p += 2;
		size_t rest = (size_t)(end - p);
		const char *hend = find(p, rest < PART_HEADERS_MAX ? rest : PART_HEADERS_MAX, "\r\n\r\n", 4);
		const char *data;
		size_t hlen;
		if (rest >= 2 && p[0] == '\r' && p[1] == '\n') {   /* no headers at all */
			hlen = 0;
			data = p + 2;
		} else if (hend) {
			hlen = (size_t)(hend - p);
			data = hend + 4;
		} else {
			goto fail;
		}
		const char *next = find(data, (size_t)(end - data), delim, dlen);
		if (!next)
			goto fail;
		char *name = NULL;
		int is_file = 0;
		if (part_headers(p, hlen, &name, &is_file) < 0)
			goto fail;
		size_t dl = (size_t)(next - data);
		if (is_file) {
			if (f.nfiles == FORM_MAX_FILES) {
				free(name);
				goto fail;
			}
			f.files[f.nfiles++] = (struct form_file){ name, (const uint8_t *)data, dl };
		} else {
			char *value = malloc(dl + 1);
			if (f.count == FORM_MAX_FIELDS || !value || !utf8_text_valid(data, dl)) {
				free(name);
				free(value);
				goto fail;
			}
			memcpy(value, data, dl);
			value[dl] = '\0';
			f.names[f.count] = name;
			f.values[f.count] = value;
			f.count++;
		}
		p = next + dlen;
	}
	*ret = f;
	return 0;
fail:
	form_free(&f);
	memset(ret, 0, sizeof *ret);
	return -1;
}

const struct form_file *form_file(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->nfiles; i++)
		if (strcmp(f->files[i].name, name) == 0)
			return &f->files[i];
	return NULL;
}
