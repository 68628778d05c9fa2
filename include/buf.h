/* buf.h — a growable byte buffer, and the HTML-escaping writer.
 *
 * Every byte of HTML the service sends goes through buf_html() (escapes
 * & < > " ') unless a caller deliberately uses buf_html_raw(), the one
 * explicit, easily grepped way to emit unescaped markup. */
#ifndef CIVICARD_BUF_H
#define CIVICARD_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;     /* from malloc(), NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	int failed;     /* set once an allocation failed; later appends are no-ops */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* All appends return 0 or -ENOMEM (and then set b->failed). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Escaped text for HTML element content and quoted attribute values. */
int buf_html(struct buf *b, const char *s, size_t len);
/* Unescaped markup. Rare on purpose: grep for it when auditing. */
int buf_html_raw(struct buf *b, const char *s, size_t len);
/* Hand the bytes over: returns the data (caller frees), resets b. */
char *buf_steal(struct buf *b, size_t *ret_len);

#endif
