/* router.c — path patterns with {param} segments. */
#include "router.h"

#include <stdio.h>
#include <string.h>

static int param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* 1 when path fits pattern; parameters copied into params. */
static int path_matches(const char *pattern, const char *path, char params[MAX_PATH_PARAMS][65])
{
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || np == MAX_PATH_PARAMS)
				return 0;
			size_t n = 0;
			while (s[n] && s[n] != '/') {
				if (!param_char(s[n]) || n == 64)
					return 0;
				n++;
			}
			if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
				return 0;
			memcpy(params[np], s, n);
			params[np][n] = '\0';
			np++;
			s += n;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

static int method_fits(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

int router_match(const struct route *table, size_t n, const char *method, const char *path,
		 char params[MAX_PATH_PARAMS][65], char *allow, size_t allowlen)
{
	char scratch[MAX_PATH_PARAMS][65];
	int path_seen = 0;
	if (allowlen)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!path_matches(table[i].pattern, path, scratch))
			continue;
		if (method_fits(table[i].method, method)) {
			memcpy(params, scratch, sizeof scratch);
			return (int)i;
		}
		path_seen = 1;
		size_t used = strlen(allow);
		const char *m = table[i].method;
		int is_get = strcmp(m, "GET") == 0;
		if (used + strlen(m) + 12 < allowlen) {
			snprintf(allow + used, allowlen - used, "%s%s%s", used ? ", " : "", m,
				 is_get ? ", HEAD" : "");
		}
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NONE;
}
