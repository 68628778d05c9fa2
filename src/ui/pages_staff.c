/* pages_staff.c — the clerks' reprint queue, the auditors' log and the
 * administrators' staff accounts.
 *
 * The queue takes the same steps as the reprint API (src/http/api_reprint.c):
 * approving decides the request and makes a new version of the card in one
 * transaction, then marks the earlier versions revoked in the status list;
 * the answer is the "card issued" page of the card pages, with the
 * resident's receipt and new one-time reprint code. Rejecting answers with
 * the queue again and a notice.
 *
 * The audit page reads the log newest first, 100 entries a page (?before=ID
 * for older ones), and walks the whole chain to say whether it is intact.
 * Action codes and the reasons a chain breaks are shown in words from the
 * catalogue (audit.action.CODE, audit.broken.CODE), falling back to the
 * code itself; ui_staff_check() proves every catalogue has the words.
 *
 * The staff accounts page lists every account (never a password hash) and
 * lets an administrator add one with a role, disable or enable one, and
 * reset one's password. A new account and a reset get a one-time password
 * (otp_new, the same kind the first start prints), shown on the answer
 * page once and stored only as its Argon2id hash; its owner must choose a
 * new one at first sign-in. Disabling or resetting ends the account's
 * sessions in the same transaction as the change and its audit entry. An
 * administrator cannot disable or reset their own account from here (so
 * the last active administrator cannot lock everyone out); their own
 * password is changed on /password. */
#include "app.h"
#include "audit.h"
#include "card.h"
#include "handlers.h"
#include "log.h"
#include "login.h"
#include "pages.h"
#include "reprint.h"
#include "status.h"
#include "template.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_PER_PAGE 100
#define DECIDED_SHOWN 10

/* Audit actions shown in words (catalogue: audit.action.CODE). Any other
 * action is shown as its code. */
static const char *const audit_actions[] = {
	"card.issue", "card.view", "card.search", "card.pdf", "card.photo", "card.revoke",
	"card.reissue", "card.renew", "login", "login.failed", "logout", "password.change",
	"user.create", "user.disable", "user.enable", "user.reset", "keys.rotate", "reprint.request", "reprint.approve", "reprint.reject",
	"purge.expired", "purge.everything", "backup", "restore", NULL,
};

/* Why audit_verify() says the chain broke, → catalogue audit.broken.CODE. */
static const struct {
	const char *why, *code;
} broken_reasons[] = {
	{ "an entry is missing before it", "missing" },
	{ "its hash fields are malformed", "malformed" },
	{ "it does not point at the entry before it", "unlinked" },
	{ "its content does not match its hash (altered)", "altered" },
};

/* Queue notices and refusals (catalogue: requests.notice.CODE). */
static const char *const queue_notices[] = { "rejected", "already_decided", NULL };

static const char *const csrf_only[] = { "csrf", NULL };

/* Staff accounts: the roles offered, in this order (catalogue role.CODE
 * and users.role_hint.CODE), the add form's field errors
 * (users.error.CODE) and what the page says after an action
 * (users.notice.CODE). */
static const char *const user_roles[] = { "clerk", "auditor", "admin", NULL };
static const char *const user_errors[] = {
	"username_required", "username_invalid", "username_taken", "role_required", NULL,
};
static const char *const user_notices[] = { "created", "reset", "disabled", "enabled", "self", NULL };
static const char *const user_fields[] = { "csrf", "username", "role", NULL };

/* ---- shared ---- */

/* The catalogue text of PREFIX CODE in the page's language, or fallback. */
static const char *text_or(const struct request *req, const char *prefix, const char *code,
			   const char *fallback)
{
	char key[128];
	const char *t = NULL;
	if ((size_t)snprintf(key, sizeof key, "%s%s", prefix, code) < sizeof key)
		t = tpl_text(req->app->tpl, req->lang, key);
	return t ? t : fallback;
}

/* An ISO 8601 time ("2024-05-01T12:34:56Z") as "2024-05-01 12:34" (UTC),
 * with the seconds when secs. */
static json_t *when_of(const char *iso, int secs)
{
	char out[24];
	snprintf(out, sizeof out, "%.10s %.*s", iso, secs ? 8 : 5, strlen(iso) > 11 ? iso + 11 : "");
	return json_string(out);
}

/* A positive id of the {id} path parameter or a query value: 0 when
 * malformed. */
static int64_t id_of(const char *s)
{
	if (!s || !s[0] || strlen(s) > 18)
		return 0;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return (int64_t)strtoll(s, NULL, 10);
}

/* ---- the reprint queue ---- */

/* Adds to each request of list: the card number formatted, and its date
 * in words ready to show. */
static void decorate(json_t *list)
{
	size_t i;
	json_t *r;
	json_array_foreach(list, i, r) {
		const char *n = json_string_value(json_object_get(r, "card_number"));
		const char *at = json_string_value(json_object_get(r, "created_at"));
		char formatted[CARDNUM_FORMATTED + 1] = "";
		if (n && strlen(n) == CARDNUM_LEN)
			cardnum_format(n, formatted);
		json_object_set_new(r, "card_number_formatted", json_string(formatted[0] ? formatted : n ? n : ""));
		json_object_set_new(r, "when", when_of(at ? at : "", 0));
		const char *status = json_string_value(json_object_get(r, "status"));
		json_object_set_new(r, "is_approved", json_boolean(status && strcmp(status, "approved") == 0));
	}
}

/* The most recent decided requests (by request number), at most
 * DECIDED_SHOWN, from the approved and the rejected lists (taken). */
static json_t *recent_decided(json_t *approved, json_t *rejected)
{
	json_t *out = json_array();
	size_t a = 0, r = 0;
	while (json_array_size(out) < DECIDED_SHOWN &&
	       (a < json_array_size(approved) || r < json_array_size(rejected))) {
		json_t *x = json_array_get(approved, a), *y = json_array_get(rejected, r);
		json_int_t ix = x ? json_integer_value(json_object_get(x, "id")) : -1;
		json_int_t iy = y ? json_integer_value(json_object_get(y, "id")) : -1;
		if (ix > iy) {
			json_array_append(out, x);
			a++;
		} else {
			json_array_append(out, y);
			r++;
		}
	}
	json_decref(approved);
	json_decref(rejected);
	return out;
}

/* The queue page with status, and the notice requests.notice.CODE at the
 * top (NULL: none); alert: shown as a refusal rather than a confirmation. */
static void queue_page(struct request *req, int status, const char *notice, int alert, int64_t id)
{
	struct db *db = db_thread();
	json_t *pending = db ? reprint_request_list(db, "pending") : NULL;
	json_t *approved = db ? reprint_request_list(db, "approved") : NULL;
	json_t *rejected = db ? reprint_request_list(db, "rejected") : NULL;
	if (!pending || !approved || !rejected) {
		json_decref(pending);
		json_decref(approved);
		json_decref(rejected);
		resp_error_page(req, 500);
		return;
	}
	json_t *decided = recent_decided(approved, rejected);
	decorate(pending);
	decorate(decided);
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "pending_count", json_integer((json_int_t)json_array_size(pending)));
	json_object_set_new(ctx, "no_pending", json_boolean(json_array_size(pending) == 0));
	json_object_set_new(ctx, "pending", pending);
	json_object_set_new(ctx, "no_decided", json_boolean(json_array_size(decided) == 0));
	json_object_set_new(ctx, "decided", decided);
	if (notice) {
		json_object_set_new(ctx, alert ? "alert" : "notice",
				    json_pack("{s:s, s:I}", "text",
					      text_or(req, "requests.notice.", notice, notice), "id",
					      (json_int_t)id));
	}
	resp_page(req, status, "reprint_queue", ctx);
}

void ui_requests_page(struct request *req)
{
	queue_page(req, 200, NULL, 0, 0);
}

/* The request of the {id} path parameter, with a form of nothing but the
 * CSRF token; on failure the answer is set and 0 returned. */
static int64_t request_of_path(struct request *req)
{
	const char *unknown = NULL;
	int64_t id = id_of(req->params[0]);
	if (!id) {
		resp_error_page(req, 404);
		return 0;
	}
	if (!form_only(&req->form, csrf_only, &unknown) || req->form.nfiles) {
		resp_error_page(req, 400);
		return 0;
	}
	return id;
}

/* POST (urlencoded, CSRF checked by the server): as api_reprint_approve. */
void ui_request_approve(struct request *req)
{
	int64_t id = request_of_path(req);
	if (!id)
		return;
	struct card c;
	char code[REPRINT_CODE_CHARS];
	int res = reprint_approve(req, id, &c, code);
	if (res == -ENOENT) {
		resp_error_page(req, 404);
	} else if (res == -EALREADY) {
		queue_page(req, 409, "already_decided", 1, id);
	} else if (res < 0) {
		resp_error_page(req, 500);
	} else {
		ui_card_issued_page(req, &c, code, 1);
		card_free(&c);
	}
}

/* POST (urlencoded, CSRF checked by the server): answered with the queue. */
void ui_request_reject(struct request *req)
{
	int64_t id = request_of_path(req);
	if (!id)
		return;
	struct db *db = db_thread();
	int res = db ? reprint_request_decide(db, id, 0, req->session.username) : -EIO;
	if (res == -ENOENT)
		resp_error_page(req, 404);
	else if (res == -EALREADY)
		queue_page(req, 409, "already_decided", 1, id);
	else if (res < 0)
		resp_error_page(req, 500);
	else
		queue_page(req, 200, "rejected", 0, id);
}

void ui_dashboard_staff(struct request *req, json_t *ctx)
{
	enum role role = req->session.role;
	if (role != ROLE_CLERK && role != ROLE_ADMIN)
		return;
	struct db *db = db_thread();
	json_t *pending = db ? reprint_request_list(db, "pending") : NULL;
	if (!pending)
		return;   /* the dashboard still works, without the count */
	json_object_set_new(ctx, "requests",
			    json_pack("{s:I}", "count", (json_int_t)json_array_size(pending)));
	json_decref(pending);
}

/* ---- the audit log ---- */

void ui_audit_page(struct request *req)
{
	const char *b = req_query(req, "before");
	int64_t before = 0;
	if (b && !(before = id_of(b))) {
		resp_error_page(req, 400);
		return;
	}
	struct db *db = db_thread();
	/* One more than shown, to know whether there are older ones. */
	json_t *entries = db ? audit_page(db, before, AUDIT_PER_PAGE + 1) : NULL;
	int64_t n = 0, bad = 0;
	char why[128] = "";
	int chain = db ? audit_verify(db, &n, &bad, why, sizeof why) : -1;
	if (!entries || chain < 0) {
		json_decref(entries);
		resp_error_page(req, 500);
		return;
	}
	json_int_t older = 0;
	if (json_array_size(entries) > AUDIT_PER_PAGE) {
		json_array_remove(entries, AUDIT_PER_PAGE);
		older = json_integer_value(json_object_get(json_array_get(entries, AUDIT_PER_PAGE - 1), "id"));
	}
	size_t i;
	json_t *e;
	json_array_foreach(entries, i, e) {
		const char *action = json_string_value(json_object_get(e, "action"));
		const char *at = json_string_value(json_object_get(e, "at"));
		const char *subject = json_string_value(json_object_get(e, "subject"));
		char formatted[CARDNUM_FORMATTED + 1], canonical[CARDNUM_LEN + 1];
		action = action ? action : "";
		json_object_set_new(e, "action_text", json_string(text_or(req, "audit.action.", action, action)));
		json_object_set_new(e, "when", when_of(at ? at : "", 1));
		/* A card number, as printed; any other subject as it is. */
		if (subject && strlen(subject) == CARDNUM_LEN && cardnum_parse(subject, canonical) == 0 &&
		    strcmp(subject, canonical) == 0) {
			cardnum_format(canonical, formatted);
			json_object_set_new(e, "subject", json_string(formatted));
		}
	}
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "entries", entries);
	json_object_set_new(ctx, "no_entries", json_boolean(json_array_size(entries) == 0));
	if (older)
		json_object_set_new(ctx, "older", json_integer(older));
	if (before)
		json_object_set_new(ctx, "not_newest", json_true());
	if (chain == 0) {
		json_object_set_new(ctx, "intact", json_pack("{s:I}", "count", (json_int_t)n));
	} else {
		const char *reason = why;
		for (size_t k = 0; k < sizeof broken_reasons / sizeof broken_reasons[0]; k++)
			if (strcmp(why, broken_reasons[k].why) == 0)
				reason = text_or(req, "audit.broken.", broken_reasons[k].code, why);
		json_object_set_new(ctx, "broken",
				    json_pack("{s:I, s:s}", "at", (json_int_t)bad, "reason", reason));
	}
	resp_page(req, 200, "audit_log", ctx);
}

/* ---- staff accounts (administrators) ---- */

/* What the staff accounts page shows besides the list. Every string is
 * borrowed. */
struct users_view {
	const char *username;       /* the add form's user name, refilled */
	const char *role;           /* the add form's role, refilled */
	const char *err_username;   /* users.error.CODE beside the field */
	const char *err_role;
	const char *notice;         /* users.notice.CODE: what was done */
	int alert;                  /* the notice is a refusal */
	const char *subject;        /* the account it is about */
	const char *otp;            /* its new one-time password */
};

static void field_error(struct request *req, json_t *error, json_t *list, const char *field,
			const char *anchor, const char *code)
{
	const char *msg = text_or(req, "users.error.", code, code);
	json_object_set_new(error, field, json_string(msg));
	json_array_append_new(list, json_pack("{s:s, s:s}", "anchor", anchor, "message", msg));
}

static void users_page(struct request *req, int status, const struct users_view *v)
{
	struct db *db = db_thread();
	json_t *users = db ? user_list(db) : NULL;
	if (!users) {
		resp_error_page(req, 500);
		return;
	}
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u) {
		const char *name = json_string_value(json_object_get(u, "username"));
		const char *role = json_string_value(json_object_get(u, "role"));
		time_t t = (time_t)json_integer_value(json_object_get(u, "created_at"));
		struct tm tm;
		char day[16] = "";
		if (gmtime_r(&t, &tm))
			strftime(day, sizeof day, "%Y-%m-%d", &tm);
		role = role ? role : "";
		json_object_set_new(u, "created", json_string(day));
		json_object_set_new(u, "role_text", json_string(text_or(req, "role.", role, role)));
		json_object_set_new(u, "is_self",
				    json_boolean(name && strcmp(name, req->session.username) == 0));
	}
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "count", json_integer((json_int_t)json_array_size(users)));
	json_object_set_new(ctx, "users", users);
	json_object_set_new(ctx, "values", json_pack("{s:s}", "username",
						     v && v->username ? v->username : ""));
	json_t *roles = json_array();
	for (const char *const *r = user_roles; *r; r++) {
		char id[32];
		snprintf(id, sizeof id, "role-%s", *r);
		json_array_append_new(roles, json_pack("{s:s, s:s, s:s, s:s, s:b}", "value", *r, "id", id,
			"label", text_or(req, "role.", *r, *r),
			"hint", text_or(req, "users.role_hint.", *r, ""),
			"checked", v && v->role && strcmp(v->role, *r) == 0));
	}
	json_object_set_new(ctx, "roles", roles);
	json_t *error = json_object(), *list = json_array();
	if (v && v->err_username)
		field_error(req, error, list, "username", "username", v->err_username);
	if (v && v->err_role)
		field_error(req, error, list, "role", "role-clerk", v->err_role);
	json_object_set_new(ctx, "has_errors", json_boolean(json_array_size(list) > 0));
	json_object_set_new(ctx, "error", error);
	json_object_set_new(ctx, "error_list", list);
	if (v && v->notice) {
		json_t *n = json_pack("{s:s, s:s}", "text", text_or(req, "users.notice.", v->notice, v->notice),
				      "username", v->subject ? v->subject : "");
		if (v->otp)
			json_object_set_new(n, "otp", json_string(v->otp));
		json_object_set_new(ctx, v->alert ? "alert" : "notice", n);
	}
	resp_page(req, status, "users", ctx);
}

void ui_users_page(struct request *req)
{
	users_page(req, 200, NULL);
}

/* POST /users (urlencoded, CSRF checked by the server; slow: Argon2id). */
void ui_user_add(struct request *req)
{
	const char *unknown = NULL;
	if (!form_only(&req->form, user_fields, &unknown) || req->form.nfiles) {
		resp_error_page(req, 400);
		return;
	}
	const char *typed = form_get(&req->form, "username");
	const char *role_s = form_get(&req->form, "role");
	struct users_view v = { .username = typed, .role = role_s };

	/* The name as the sign-in form wants it: no surrounding spaces, and
	 * lower case (ASCII; anything else is refused below). */
	char name[USERNAME_MAX + 1] = "";
	size_t n = 0;
	const char *p = typed ? typed : "";
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len == 0)
		v.err_username = "username_required";
	else if (len > USERNAME_MAX)
		v.err_username = "username_invalid";
	else {
		for (n = 0; n < len; n++)
			name[n] = (char)(p[n] >= 'A' && p[n] <= 'Z' ? p[n] + ('a' - 'A') : p[n]);
		name[n] = '\0';
		if (!username_valid(name))
			v.err_username = "username_invalid";
	}
	enum role role = role_parse(role_s);
	if (!role)
		v.err_role = "role_required";
	if (v.err_username || v.err_role) {
		users_page(req, 400, &v);
		return;
	}
	struct db *db = db_thread();
	char otp[OTP_CHARS];
	otp_new(otp);
	int r = db ? account_create(db, req->session.username, name, role, otp, 1) : -EIO;
	if (r == -EEXIST) {
		v.err_username = "username_taken";
		users_page(req, 409, &v);
	} else if (r == -EINVAL) {
		v.err_username = "username_invalid";
		users_page(req, 400, &v);
	} else if (r < 0) {
		resp_error_page(req, 500);
	} else {
		struct users_view done = { .notice = "created", .subject = name, .otp = otp };
		users_page(req, 201, &done);
	}
	sodium_memzero(otp, sizeof otp);
}

/* The account of the {id} path parameter, for a form of nothing but the
 * CSRF token; not the caller's own. On failure the answer is set and -1
 * returned. */
static int user_of_path(struct request *req, struct user *ret)
{
	int64_t id = request_of_path(req);
	if (!id)
		return -1;
	struct db *db = db_thread();
	int r = db ? user_find_id(db, id, ret) : -EIO;
	if (r == -ENOENT) {
		resp_error_page(req, 404);
		return -1;
	}
	if (r < 0) {
		resp_error_page(req, 500);
		return -1;
	}
	if (ret->id == req->session.user_id) {
		struct users_view v = { .notice = "self", .alert = 1, .subject = ret->username };
		users_page(req, 409, &v);
		return -1;
	}
	return 0;
}

static void user_switch(struct request *req, int disabled)
{
	struct user u;
	if (user_of_path(req, &u) < 0)
		return;
	struct db *db = db_thread();
	if (db_begin(db) < 0) {
		resp_error_page(req, 500);
		return;
	}
	/* Under the write lock, the caller again: two admins disabling each
	 * other at the same moment must not leave no admin at all. */
	struct user me;
	int found = user_find_id(db, req->session.user_id, &me);
	if (found < 0 || me.disabled) {
		db_rollback(db);
		resp_error_page(req, found == -EIO ? 500 : 403);
		return;
	}
	if (user_set_disabled(db, u.id, disabled) < 0 ||
	    (disabled && session_delete_user(db, u.id) < 0) ||
	    audit_append(db, req->session.username, disabled ? "user.disable" : "user.enable",
			 u.username, role_name(u.role)) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		resp_error_page(req, 500);
		return;
	}
	struct users_view v = { .notice = disabled ? "disabled" : "enabled", .subject = u.username };
	users_page(req, 200, &v);
}

void ui_user_disable(struct request *req)
{
	user_switch(req, 1);
}

void ui_user_enable(struct request *req)
{
	user_switch(req, 0);
}

/* POST /users/{id}/reset (slow: Argon2id): a new one-time password. */
void ui_user_reset(struct request *req)
{
	struct user u;
	if (user_of_path(req, &u) < 0)
		return;
	struct db *db = db_thread();
	char otp[OTP_CHARS], hash[crypto_pwhash_STRBYTES];
	otp_new(otp);
	if (password_hash(otp, hash) < 0 || db_begin(db) < 0) {
		sodium_memzero(otp, sizeof otp);
		resp_error_page(req, 500);
		return;
	}
	if (user_set_password(db, u.id, hash, 1) < 0 || session_delete_user(db, u.id) < 0 ||
	    audit_append(db, req->session.username, "user.reset", u.username, "") < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		sodium_memzero(otp, sizeof otp);
		resp_error_page(req, 500);
		return;
	}
	/* Whoever was locked out by failed attempts may sign in at once. */
	char key[USERNAME_MAX + 8];
	snprintf(key, sizeof key, "user:%s", u.username);
	throttle_clear(app_throttle_user(req->app), key);
	struct users_view v = { .notice = "reset", .subject = u.username, .otp = otp };
	users_page(req, 200, &v);
	sodium_memzero(otp, sizeof otp);
}

/* ---- start-up check ---- */

static int check_key(const struct tpl_set *set, const char *prefix, const char *code, char *err,
		     size_t errlen)
{
	return tpl_require_key(set, prefix, code, "src/ui/pages_staff.c", err, errlen);
}

int ui_staff_check(const struct tpl_set *set, char *err, size_t errlen)
{
	/* Every catalogue has the same keys (the loader insists). */
	for (const char *const *a = audit_actions; *a; a++)
		if (check_key(set, "audit.action.", *a, err, errlen) < 0)
			return -1;
	for (size_t k = 0; k < sizeof broken_reasons / sizeof broken_reasons[0]; k++)
		if (check_key(set, "audit.broken.", broken_reasons[k].code, err, errlen) < 0)
			return -1;
	for (const char *const *t = queue_notices; *t; t++)
		if (check_key(set, "requests.notice.", *t, err, errlen) < 0)
			return -1;
	for (const char *const *r = user_roles; *r; r++)
		if (check_key(set, "role.", *r, err, errlen) < 0 ||
		    check_key(set, "users.role_hint.", *r, err, errlen) < 0)
			return -1;
	for (const char *const *e = user_errors; *e; e++)
		if (check_key(set, "users.error.", *e, err, errlen) < 0)
			return -1;
	for (const char *const *t = user_notices; *t; t++)
		if (check_key(set, "users.notice.", *t, err, errlen) < 0)
			return -1;
	return 0;
}
