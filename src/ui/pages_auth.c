/* pages_auth.c — the staff web pages: log-in, log-out, password change and
 * the (for now empty) dashboard. */
#include "app.h"
#include "db.h"
#include "handlers.h"
#include "login.h"
#include "pages.h"

#include <string.h>

static void set_session_cookie(struct request *req, const char *value, int max_age)
{
	resp_header(req, "Set-Cookie", "civicard_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
		    value, max_age, req->tls ? "; Secure" : "");
}

void ui_home(struct request *req)
{
	resp_redirect(req, req->cookie_session ? "/dashboard" : "/login");
}

/* The log-in form, with a fresh pre-login cookie and its CSRF token. */
static void login_form(struct request *req, int status, const char *flag, const char *username)
{
	char cookie[SECRET_CHARS], token[SECRET_CHARS];
	secret_new(cookie);
	app_prelogin_token(req->app, cookie, token);
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "csrf", json_string(token));
	if (flag)
		json_object_set_new(ctx, flag, json_true());
	if (username)
		json_object_set_new(ctx, "username", json_string(username));
	resp_page(req, status, "login", ctx);
	resp_header(req, "Set-Cookie", "civicard_login=%s; Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict%s",
		    cookie, req->tls ? "; Secure" : "");
}

void ui_login_page(struct request *req)
{
	const char *expired = req_query(req, "expired");
	login_form(req, 200, expired ? "error_csrf" : NULL, NULL);
}

void ui_login(struct request *req)
{
	const char *username = form_get(&req->form, "username");
	const char *password = form_get(&req->form, "password");
	struct db *db = db_thread();
	if (!username || !password || strlen(username) > 256 || strlen(password) > PASSWORD_MAX) {
		login_form(req, 400, "error_invalid", NULL);
		return;
	}
	if (!db) {
		login_form(req, 503, "error_unavailable", username);
		return;
	}
	struct login_outcome o;
	switch (login_attempt(db, app_throttle_user(req->app), app_throttle_addr(req->app), username,
			      password, req->client_addr, 1, &o)) {
	case LOGIN_OK:
		set_session_cookie(req, o.secret, SESSION_SECONDS);
		resp_redirect(req, o.session.must_change_password ? "/password" : "/dashboard");
		sodium_memzero(&o, sizeof o);
		break;
	case LOGIN_BAD:
		login_form(req, 401, "error_invalid", username);
		break;
	case LOGIN_THROTTLED:
		login_form(req, 429, "error_throttled", username);
		resp_header(req, "Retry-After", "%d", o.retry_after);
		break;
	case LOGIN_ERROR:
		login_form(req, 500, "error_unavailable", username);
		break;
	}
}

void ui_logout(struct request *req)
{
	struct db *db = db_thread();
	if (db)
		logout(db, &req->session, req->session_hash);
	set_session_cookie(req, "", 0);
	resp_redirect(req, "/login");
}

void ui_dashboard(struct request *req)
{
	json_t *ctx = page_context(req);
	enum role r = req->session.role;
	json_object_set_new(ctx, "is_admin", json_boolean(r == ROLE_ADMIN));
	json_object_set_new(ctx, "is_clerk", json_boolean(r == ROLE_CLERK || r == ROLE_ADMIN));
	json_object_set_new(ctx, "is_auditor", json_boolean(r == ROLE_AUDITOR || r == ROLE_ADMIN));
	ui_dashboard_staff(req, ctx);
	resp_page(req, 200, "dashboard", ctx);
}

static void password_form(struct request *req, int status, const char *flag)
{
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "must_change", json_boolean(req->session.must_change_password));
	if (flag)
		json_object_set_new(ctx, flag, json_true());
	resp_page(req, status, "password", ctx);
}

void ui_password_page(struct request *req)
{
	password_form(req, 200, NULL);
}

void ui_password(struct request *req)
{
	const char *cur = form_get(&req->form, "current_password");
	const char *new = form_get(&req->form, "new_password");
	const char *confirm = form_get(&req->form, "confirm_password");
	struct db *db = db_thread();
	if (!cur || !new || !confirm || strlen(cur) > PASSWORD_MAX) {
		password_form(req, 400, "error_wrong_current");
		return;
	}
	if (strcmp(new, confirm) != 0) {
		password_form(req, 400, "error_mismatch");
		return;
	}
	if (password_weakness(new)) {
		password_form(req, 400, "error_weak");
		return;
	}
	if (!db) {
		password_form(req, 503, "error_unavailable");
		return;
	}
	switch (password_change(db, &req->session, req->session_hash, cur, new)) {
	case PW_CHANGED:
		req->session.must_change_password = 0;
		password_form(req, 200, "changed");
		break;
	case PW_WRONG_CURRENT:
		password_form(req, 401, "error_wrong_current");
		break;
	case PW_WEAK:
		password_form(req, 400, "error_weak");
		break;
	case PW_ERROR:
		password_form(req, 500, "error_unavailable");
		break;
	}
}
