/* test-router.c — matching the real route table and patterns. */
#include "check.h"
#include "router.h"

static void dummy(struct request *req)
{
	(void)req;
}

static const struct route table[] = {
	{ "GET", "/api/v1/cards/{n}", dummy, 0, 0, 0 },
	{ "POST", "/api/v1/cards/{n}/revoke", dummy, 0, 0, 0 },
	{ "POST", "/api/v1/cards", dummy, 0, 0, 0 },
	{ "GET", "/api/v1/cards", dummy, 0, 0, 0 },
};
#define N (sizeof table / sizeof table[0])

TEST(matches_with_params)
{
	char params[MAX_PATH_PARAMS][65], allow[64];
	CHECK(router_match(table, N, "GET", "/api/v1/cards/AB12-CD34", params, allow, sizeof allow) == 0);
	CHECK_STR(params[0], "AB12-CD34");
	CHECK(router_match(table, N, "POST", "/api/v1/cards/X/revoke", params, allow, sizeof allow) == 1);
	CHECK(router_match(table, N, "HEAD", "/api/v1/cards", params, allow, sizeof allow) == 3);
}

TEST(not_found_and_bad_method)
{
	char params[MAX_PATH_PARAMS][65], allow[64];
	CHECK(router_match(table, N, "GET", "/api/v1/card", params, allow, sizeof allow) == ROUTE_NONE);
	CHECK(router_match(table, N, "GET", "/api/v1/cards/", params, allow, sizeof allow) == ROUTE_NONE);
	CHECK(router_match(table, N, "GET", "/api/v1/cards/a/b", params, allow, sizeof allow) == ROUTE_NONE);
	CHECK(router_match(table, N, "GET", "/api/v1/cards/..", params, allow, sizeof allow) == ROUTE_NONE);
	CHECK(router_match(table, N, "GET", "/api/v1/cards/a%2Fb", params, allow, sizeof allow) == ROUTE_NONE);
	CHECK(router_match(table, N, "DELETE", "/api/v1/cards", params, allow, sizeof allow) == ROUTE_BAD_METHOD);
	CHECK_STR(allow, "POST, GET, HEAD");
	CHECK(router_match(table, N, "GET", "/api/v1/cards/x/revoke", params, allow, sizeof allow) == ROUTE_BAD_METHOD);
	CHECK_STR(allow, "POST");
}

TEST(long_segment_refused)
{
	char params[MAX_PATH_PARAMS][65], allow[64], path[200] = "/api/v1/cards/";
	for (int i = 0; i < 65; i++)
		strcat(path, "a");
	CHECK(router_match(table, N, "GET", path, params, allow, sizeof allow) == ROUTE_NONE);
}

TEST(real_table_is_consistent)
{
	/* Every route of the server: a known method, a pattern starting with
	 * '/', a handler, and no exact duplicate. */
	for (size_t i = 0; i < route_count; i++) {
		CHECK(routes[i].handler != NULL);
		CHECK(routes[i].pattern[0] == '/');
		CHECK(strcmp(routes[i].method, "GET") == 0 || strcmp(routes[i].method, "POST") == 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(routes[i].pattern, routes[j].pattern) != 0 ||
			      strcmp(routes[i].method, routes[j].method) != 0);
		/* A route that requires a login says which kind. */
		if (routes[i].roles)
			CHECK(routes[i].flags & (ROUTE_API_AUTH | ROUTE_WEB_AUTH));
	}
	char params[MAX_PATH_PARAMS][65], allow[64];
	CHECK(router_match(routes, route_count, "POST", "/api/v1/login", params, allow, sizeof allow) >= 0);
	CHECK(router_match(routes, route_count, "GET", "/api/v1/login", params, allow, sizeof allow) == ROUTE_BAD_METHOD);
}

int main(void)
{
	RUN(matches_with_params);
	RUN(not_found_and_bad_method);
	RUN(long_segment_refused);
	RUN(real_table_is_consistent);
	return CHECK_DONE();
}
