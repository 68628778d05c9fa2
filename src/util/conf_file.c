/* conf_file.c — reading the configuration file with inih (libinih):
 * `key = value` lines, `#` comments, no sections. Every problem is
 * reported as "FILE:LINE: KEY: why", all of them, not only the first. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_KEYS 256

struct reader {
	FILE *f;
	const char *path;
	struct config *cfg;
	int line;             /* lines read so far: the handler's line */
	int problems;
	char seen[MAX_KEYS][48];
	int seen_line[MAX_KEYS];
	size_t nseen;
	char *err;
	size_t errlen, used;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct reader *r, int line, const char *fmt, ...)
{
	r->problems++;
	if (r->used + 1 >= r->errlen)
		return;
	int n = snprintf(r->err + r->used, r->errlen - r->used, "%s%s:%d: ", r->used ? "\n" : "",
			 r->path, line);
	if (n < 0 || (size_t)n >= r->errlen - r->used) {
		r->used = r->errlen;
		return;
	}
	r->used += (size_t)n;
	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(r->err + r->used, r->errlen - r->used, fmt, ap);
	va_end(ap);
	r->used = n < 0 || (size_t)n >= r->errlen - r->used ? r->errlen : r->used + (size_t)n;
}

/* fgets for inih, counting lines and refusing what inih would misread:
 * lines longer than its buffer (it would cut them in two) and indented
 * lines (it would take them as the previous value's continuation). A
 * refused line reaches inih as a comment. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	if (!fgets(str, num, r->f))
		return NULL;
	r->line++;
	size_t n = strlen(str);
	if (n && str[n - 1] != '\n' && !feof(r->f)) {
		problem(r, r->line, "the line is longer than %d characters", num - 2);
		int c;
		while ((c = fgetc(r->f)) != EOF && c != '\n')
			;
		snprintf(str, (size_t)num, "#\n");
		return str;
	}
	if ((str[0] == ' ' || str[0] == '\t') && str[strspn(str, " \t\r\n")] != '\0' &&
	    str[strspn(str, " \t")] != '#' && str[strspn(str, " \t")] != ';') {
		problem(r, r->line, "a line must not start with a space");
		snprintf(str, (size_t)num, "#\n");
		return str;
	}
	const char *p = str + strspn(str, " \t\r\n");
	if (*p && *p != '#' && *p != ';' && *p != '[' && !strpbrk(p, "=:")) {
		problem(r, r->line, "not a \"key = value\" line");
		snprintf(str, (size_t)num, "#\n");
		return str;
	}
	/* inih ends a value at " ;" (an inline comment): "Saint-Jean ; Québec"
	 * would silently print as "Saint-Jean" on every card. */
	const char *eq = *p && *p != '#' && *p != ';' ? strpbrk(p, "=:") : NULL;
	if (eq && (strstr(eq, " ;") || strstr(eq, "\t;"))) {
		problem(r, r->line, "a space before \";\" would cut the value there (\";\" starts a "
			"comment): remove the space");
		snprintf(str, (size_t)num, "#\n");
	}
	return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	char why[256];
	if (section[0]) {
		problem(r, r->line, "%s: keys go outside any [section] (found [%s])", name, section);
		return 1;
	}
	for (size_t i = 0; i < r->nseen; i++) {
		if (strcmp(r->seen[i], name) == 0) {
			problem(r, r->line, "%s: given twice (also on line %d)", name, r->seen_line[i]);
				return 1;
		}
	}
	if (r->nseen < MAX_KEYS && strlen(name) < sizeof r->seen[0]) {
		snprintf(r->seen[r->nseen], sizeof r->seen[0], "%s", name);
		r->seen_line[r->nseen++] = r->line;
	}
	if (config_set(r->cfg, name, value, why, sizeof why) < 0) {
		problem(r, r->line, "%s: %s", name, why);
	}
	return 1;   /* the errors are ours: inih's own are syntax only */
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	err[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a file", path);
		fclose(f);
		return -1;
	}
	if (st.st_mode & 002) {
		snprintf(err, errlen, "%s: anyone may change it: run chmod o-w on it", path);
		fclose(f);
		return -1;
	}
	int rc = config_load_stream(c, f, path, err, errlen);
	fclose(f);
	if (rc == 0)
		c->config_file = path;
	return rc;
}

int config_load_stream(struct config *c, FILE *f, const char *name, char *err, size_t errlen)
{
	struct reader r = { .f = f, .path = name, .cfg = c, .err = err, .errlen = errlen };
	err[0] = '\0';
	/* read_line() reports lines without "=" itself; inih returns the
	 * first line it still could not parse (a broken [section]). */
	int rc = ini_parse_stream(read_line, &r, on_key, &r);
	if (rc > 0)
		problem(&r, rc, "not a \"key = value\" line");
	else if (rc < 0)
		problem(&r, r.line, "cannot be read");
	return r.problems ? -1 : 0;
}
