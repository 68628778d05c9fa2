/* routes.c — every URL the server answers, in one table.
 *
 * Order matters only where two patterns could match the same path: the
 * first wins. A path that matches with another method gets 405. */
#include "handlers.h"
#include "http.h"

#define KB * 1024

const struct route routes[] = {
	/* method  pattern                  handler          roles        flags */
	{ "GET",  "/healthz",               op_healthz,      0,           0, 0 },
	{ "GET",  "/metrics",               op_metrics,      0,           ROUTE_OPT_AUTH, 0 },
	{ "GET",  "/static/{file}",         op_static,       0,           0, 0 },

	/* Staff API (JSON, bearer token). */
	{ "POST", "/api/v1/login",          api_login,       0,           ROUTE_SLOW, 4 KB },
	{ "POST", "/api/v1/logout",         api_logout,      0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "GET",  "/api/v1/me",             api_me,          0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "POST", "/api/v1/password",       api_password,    0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS | ROUTE_SLOW, 4 KB },

	/* Staff web pages (cookie session, CSRF token on every form). */
	{ "GET",  "/",                      ui_home,         0,           0, 0 },
	{ "GET",  "/login",                 ui_login_page,   0,           0, 0 },
	{ "POST", "/login",                 ui_login,        0,           ROUTE_FORM | ROUTE_PRELOGIN | ROUTE_SLOW, 4 KB },
	{ "POST", "/logout",                ui_logout,       0,           ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_FIRST_PASS, 4 KB },
	{ "GET",  "/dashboard",             ui_dashboard,    0,           ROUTE_WEB_AUTH, 0 },
	{ "GET",  "/password",              ui_password_page, 0,          ROUTE_WEB_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "POST", "/password",              ui_password,     0,           ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_FIRST_PASS | ROUTE_SLOW, 4 KB },
};

const size_t route_count = sizeof routes / sizeof routes[0];
