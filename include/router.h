/* router.h — match a method and path against the route table. */
#ifndef CIVICARD_ROUTER_H
#define CIVICARD_ROUTER_H

#include <stddef.h>

#include "http.h"

#define ROUTE_NONE (-1)        /* no pattern matches the path: 404 */
#define ROUTE_BAD_METHOD (-2)  /* a pattern matches, not with this method: 405 */

/* Index of the matching route, or one of the codes above. Path parameters
 * ({x}: one segment of 1–64 characters from [A-Za-z0-9._~-]) are copied to
 * params in order. For ROUTE_BAD_METHOD, allow receives "GET, HEAD, POST". */
int router_match(const struct route *table, size_t n, const char *method, const char *path,
		 char params[MAX_PATH_PARAMS][65], char *allow, size_t allowlen);

#endif
