/* api_auth.c — POST /api/v1/login, /logout, /password and GET /me. */
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "login.h"

#include <stdio.h>
#include <time.h>

static json_t *iso_time(int64_t t)
{
	char s[21];
	iso8601(t, s);
	return json_string(s);
}

void api_login(struct request *req)
{
	static const char *const fields[] = { "username", "password", NULL };
	json_t *body = NULL;
	struct db *db = db_thread();
	int bad = 0;
	if (!db) {
		resp_error(req, 503, "unavailable", "the database is unavailable");
		return;
	}
	if (req_json_object(req, fields, &body) < 0)
		return;
	const char *username = req_json_string(req, body, "username", 1, 256, &bad);
	const char *password = bad ? NULL : req_json_string(req, body, "password", 1, PASSWORD_MAX, &bad);
	if (bad)
		goto out;

	struct login_outcome o;
	switch (login_attempt(db, app_throttle_user(req->app), app_throttle_addr(req->app), username,
			      password, req->client_addr, 0, &o)) {
	case LOGIN_OK:
		resp_json(req, 200, json_pack("{s:s, s:s, s:o, s:b}", "token", o.secret,
					      "role", role_name(o.session.role),
					      "expires_at", iso_time(o.session.expires_at),
					      "must_change_password", o.session.must_change_password));
		sodium_memzero(&o, sizeof o);
		break;
	case LOGIN_BAD:
		resp_error(req, 401, "invalid_credentials", "wrong user name or password");
		break;
	case LOGIN_THROTTLED:
		resp_error(req, 429, "too_many_attempts", "too many failed log-ins; try again later");
		resp_header(req, "Retry-After", "%d", o.retry_after);
		break;
	case LOGIN_ERROR:
		resp_error(req, 500, "internal_error", "the log-in could not be recorded");
		break;
	}
out:
	json_decref(body);
}

void api_logout(struct request *req)
{
	struct db *db = db_thread();
	if (!db || logout(db, &req->session, req->session_hash) < 0) {
		resp_error(req, 500, "internal_error", "the session could not be ended");
		return;
	}
	resp_json(req, 200, json_pack("{s:s}", "status", "logged_out"));
}

void api_me(struct request *req)
{
	resp_json(req, 200, json_pack("{s:s, s:s, s:b, s:o}", "username", req->session.username,
				      "role", role_name(req->session.role), "must_change_password",
				      req->session.must_change_password, "expires_at",
				      iso_time(req->session.expires_at)));
}

void api_password(struct request *req)
{
	static const char *const fields[] = { "current_password", "new_password", NULL };
	json_t *body = NULL;
	struct db *db = db_thread();
	int bad = 0;
	if (!db) {
		resp_error(req, 503, "unavailable", "the database is unavailable");
		return;
	}
	if (req_json_object(req, fields, &body) < 0)
		return;
	const char *cur = req_json_string(req, body, "current_password", 1, PASSWORD_MAX, &bad);
	const char *new = bad ? NULL : req_json_string(req, body, "new_password", 1, 4096, &bad);
	if (bad)
		goto out;
	const char *weak = password_weakness(new);
	if (weak) {
		char msg[96];
		snprintf(msg, sizeof msg, "the new password is %s", weak);
		resp_field_error(req, "new_password", msg);
		goto out;
	}
	switch (password_change(db, &req->session, req->session_hash, cur, new)) {
	case PW_CHANGED:
		resp_json(req, 200, json_pack("{s:s}", "status", "changed"));
		break;
	case PW_WRONG_CURRENT:
		resp_error(req, 401, "invalid_credentials", "the current password is wrong");
		break;
	case PW_WEAK:
		resp_field_error(req, "new_password", "the new password must differ from the current one");
		break;
	case PW_ERROR:
		resp_error(req, 500, "internal_error", "the password could not be changed");
		break;
	}
out:
	json_decref(body);
}
