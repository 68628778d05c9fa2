/* routes.c — every URL the server answers, in one table.
 *
 * Order matters only where two patterns could match the same path: the
 * first wins. A path that matches with another method gets 405. */
#include "handlers.h"
#include "pages.h"
#include "http.h"

#include "photo.h"

#define KB * 1024
#define CLERKS (ROLE_CLERK | ROLE_ADMIN)
/* A photo, plus room for the other fields and multipart framing. */
#define PHOTO_UPLOAD_LIMIT (PHOTO_MAX_BYTES + 256 KB)

const struct route routes[] = {
	/* method  pattern                  handler          roles        flags */
	{ "GET",  "/healthz",               op_healthz,      0,           0, 0 },
	{ "GET",  "/metrics",               op_metrics,      0,           ROUTE_OPT_AUTH, 0 },
	{ "GET",  "/static/{file}",         op_static,       0,           0, 0 },

	/* Staff API (JSON, bearer token). */
	{ "POST", "/api/v1/login",          api_login,       0,           ROUTE_SLOW, 4 KB },
	{ "POST", "/api/v1/logout",         api_logout,      0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "GET",  "/api/v1/me",             api_me,          0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "GET",  "/api/v1/audit",          op_audit,        ROLE_AUDITOR | ROLE_ADMIN, ROUTE_API_AUTH, 0 },
	{ "POST", "/api/v1/password",       api_password,    0,           ROUTE_API_AUTH | ROUTE_FIRST_PASS | ROUTE_SLOW, 4 KB },

	/* Cards (clerks and admins). */
	{ "POST", "/api/v1/cards",          api_card_issue,  CLERKS,      ROUTE_API_AUTH | ROUTE_SLOW, PHOTO_UPLOAD_LIMIT },
	{ "GET",  "/api/v1/cards",          api_card_search, CLERKS,      ROUTE_API_AUTH, 0 },
	{ "GET",  "/api/v1/cards/{n}",      api_card_get,    CLERKS,      ROUTE_API_AUTH, 0 },
	{ "GET",  "/api/v1/cards/{n}/pdf",  api_card_pdf,    CLERKS,      ROUTE_API_AUTH | ROUTE_SLOW, 0 },
	{ "GET",  "/api/v1/cards/{n}/photo", api_card_photo, CLERKS,      ROUTE_API_AUTH, 0 },

	{ "POST", "/api/v1/cards/{n}/revoke", api_card_revoke, CLERKS,    ROUTE_API_AUTH, 4 KB },
	{ "POST", "/api/v1/cards/{n}/reissue", api_card_reissue, CLERKS,  ROUTE_API_AUTH, 4 KB },
	{ "POST", "/api/v1/cards/{n}/renew", api_card_renew,  CLERKS,     ROUTE_API_AUTH, 4 KB },

	/* Reprint requests: residents without login, clerks with. */
	{ "POST", "/api/v1/reprint-requests", api_reprint_request, 0,     0, 4 KB },
	{ "GET",  "/api/v1/reprint-requests", api_reprint_list, CLERKS,   ROUTE_API_AUTH, 0 },
	{ "POST", "/api/v1/reprint-requests/{id}/approve", api_reprint_approve, CLERKS, ROUTE_API_AUTH, 4 KB },
	{ "POST", "/api/v1/reprint-requests/{id}/reject", api_reprint_reject, CLERKS, ROUTE_API_AUTH, 4 KB },

	/* Verification: no login, no trace. */
	{ "POST", "/api/v1/verify",         api_verify,      0,           0, 16 KB },
	{ "GET",  "/api/v1/keys",           api_keys,        0,           0, 0 },
	{ "GET",  "/api/v1/status-list",    api_status_list, 0,           0, 0 },
	{ "GET",  "/v",                     ui_verify_page,  0,           0, 0 },
	{ "GET",  "/sw.js",                 ui_verify_sw,    0,           0, 0 },

	/* Residents: ask for a reprint or report a card lost (no login; CSRF
	 * from the page's own pre-login cookie, Path=/reprint). */
	{ "GET",  "/reprint",               ui_reprint_page, 0,           0, 0 },
	{ "POST", "/reprint",               ui_reprint,      0,           ROUTE_FORM | ROUTE_PRELOGIN, 4 KB },

	/* Staff web pages (cookie session, CSRF token on every form). */
	{ "GET",  "/",                      ui_home,         0,           0, 0 },
	{ "GET",  "/login",                 ui_login_page,   0,           0, 0 },
	{ "POST", "/login",                 ui_login,        0,           ROUTE_FORM | ROUTE_PRELOGIN | ROUTE_SLOW, 4 KB },
	{ "POST", "/logout",                ui_logout,       0,           ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_FIRST_PASS, 4 KB },
	{ "GET",  "/dashboard",             ui_dashboard,    0,           ROUTE_WEB_AUTH, 0 },
	{ "GET",  "/password",              ui_password_page, 0,          ROUTE_WEB_AUTH | ROUTE_FIRST_PASS, 0 },
	{ "POST", "/password",              ui_password,     0,           ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_FIRST_PASS | ROUTE_SLOW, 4 KB },
	{ "GET",  "/cards/new",             ui_card_new_page, CLERKS,     ROUTE_WEB_AUTH, 0 },
	{ "POST", "/cards/new",             ui_card_new,     CLERKS,      ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_SLOW, PHOTO_UPLOAD_LIMIT },
	{ "GET",  "/cards/search",          ui_card_search_page, CLERKS,  ROUTE_WEB_AUTH, 0 },
	{ "POST", "/cards/search",          ui_card_search,  CLERKS,      ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "GET",  "/cards/{n}",             ui_card_view,    CLERKS,      ROUTE_WEB_AUTH, 0 },
	{ "GET",  "/cards/{n}/photo",       ui_card_photo,   CLERKS,      ROUTE_WEB_AUTH, 0 },
	{ "GET",  "/cards/{n}/pdf",         ui_card_pdf,     CLERKS,      ROUTE_WEB_AUTH | ROUTE_SLOW, 0 },
	{ "POST", "/cards/{n}/revoke",      ui_card_revoke,  CLERKS,      ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "POST", "/cards/{n}/reissue",     ui_card_reissue, CLERKS,      ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "POST", "/cards/{n}/renew",       ui_card_renew,   CLERKS,      ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "GET",  "/requests",              ui_requests_page, CLERKS,     ROUTE_WEB_AUTH, 0 },
	{ "POST", "/requests/{id}/approve", ui_request_approve, CLERKS,   ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "POST", "/requests/{id}/reject",  ui_request_reject, CLERKS,    ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "GET",  "/audit",                 ui_audit_page,   ROLE_AUDITOR | ROLE_ADMIN, ROUTE_WEB_AUTH, 0 },
	{ "GET",  "/users",                 ui_users_page,   ROLE_ADMIN,  ROUTE_WEB_AUTH, 0 },
	{ "POST", "/users",                 ui_user_add,     ROLE_ADMIN,  ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_SLOW, 4 KB },
	{ "POST", "/users/{id}/disable",    ui_user_disable, ROLE_ADMIN,  ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "POST", "/users/{id}/enable",     ui_user_enable,  ROLE_ADMIN,  ROUTE_WEB_AUTH | ROUTE_FORM, 4 KB },
	{ "POST", "/users/{id}/reset",      ui_user_reset,   ROLE_ADMIN,  ROUTE_WEB_AUTH | ROUTE_FORM | ROUTE_SLOW, 4 KB },
};

const size_t route_count = sizeof routes / sizeof routes[0];
