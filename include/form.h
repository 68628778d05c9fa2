/* form.h — application/x-www-form-urlencoded bodies.
 *
 * The parser copies and percent-decodes every field; names and values must
 * be valid UTF-8 without NUL or control characters other than tab, CR, LF. */
#ifndef CIVICARD_FORM_H
#define CIVICARD_FORM_H

#include <stddef.h>
#include <stdint.h>

#define FORM_MAX_FIELDS 64
#define FORM_MAX_FILES 4

struct form_file {
	char *name;                      /* field name, from malloc() */
	const uint8_t *data;             /* points into the request body */
	size_t len;
};

struct form {
	size_t count;
	char *names[FORM_MAX_FIELDS];    /* from malloc() */
	char *values[FORM_MAX_FIELDS];
	size_t nfiles;
	struct form_file files[FORM_MAX_FILES];
};

/* 0, or -1 (malformed, too many fields, bad UTF-8, out of memory); on -1
 * ret is left empty. Free with form_free. */
int form_parse(const char *body, size_t len, struct form *ret);
/* multipart/form-data (RFC 7578): text parts become fields like the
 * above, parts with a filename become files (the file name itself is
 * dropped: it may name a person). content_type is the request header,
 * which carries the boundary. The body must outlive the form. 0 or -1. */
int form_parse_multipart(const char *body, size_t len, const char *content_type,
			 struct form *ret);
void form_free(struct form *f);
/* First file of name, or NULL. */
const struct form_file *form_file(const struct form *f, const char *name);
/* First value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);
/* 1 when every field name is in allowed (NULL-terminated); else 0 and the
 * first unknown name in *ret_unknown. */
int form_only(const struct form *f, const char *const *allowed, const char **ret_unknown);

/* Decode one %-encoded component into out (cap bytes incl. NUL); '+' is a
 * space. Returns the decoded length or -1. */
long url_decode(const char *s, size_t len, char *out, size_t cap);
/* 1 when s[0..len) is valid UTF-8 with no NUL and no C0 control except
 * tab, CR and LF. */
int utf8_text_valid(const char *s, size_t len);

#endif
