/* pages_staff.c — the clerks' reprint queue and the auditors' log.
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
 * code itself; ui_staff_check() proves every catalogue has the words. */
#include "app.h"
#include "audit.h"
#include "card.h"
#include "handlers.h"
#include "log.h"
#include "pages.h"
#include "reprint.h"
#include "status.h"
#include "template.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_PER_PAGE 100
#define DECIDED_SHOWN 10

/* Audit actions shown in words (catalogue: audit.action.CODE). Any other
 * action is shown as its code. */
static const char *const audit_actions[] = {
	"card.issue", "card.view", "card.search", "card.pdf", "card.photo", "card.revoke",
	"card.reissue", "card.renew", "login", "login.failed", "logout", "password.change",
	"user.create", "keys.rotate", "reprint.request", "reprint.approve", "reprint.reject",
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
	return 0;
}
