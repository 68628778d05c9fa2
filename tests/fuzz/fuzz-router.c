/* fuzz-router.c — matching arbitrary paths and methods against the real
 * route table. Input: METHOD, a space, then the path. */
#include "router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char *space = strchr(s, ' ');
	const char *method = "GET", *path = s;
	if (space) {
		*space = '\0';
		method = s;
		path = space + 1;
	}
	char params[MAX_PATH_PARAMS][65], allow[64];
	int r = router_match(routes, route_count, method, path, params, allow, sizeof allow);
	if (r >= 0 && (size_t)r >= route_count)
		__builtin_trap();
	free(s);
	return 0;
}
