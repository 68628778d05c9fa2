/* pages_reprint.c — the residents' page (no login): ask for a new card, or
 * report a card lost or stolen and cancel it at once.
 *
 *   GET  /reprint    the form; ?expired=1 after a refused CSRF token
 *   POST /reprint    urlencoded (ROUTE_FORM | ROUTE_PRELOGIN): card_number,
 *                    date_of_birth, reprint_code, report_lost (yes|no),
 *                    csrf; nothing else is accepted
 *
 * The three facts go to reprint_submit(), the same path as
 * POST /api/v1/reprint-requests (rate limit, record, revocation). The page
 * asks for nothing the service must not keep: no name, no contact
 * details, no free text. The reprint code is never written back, not even
 * into the form after a mistake. A request that does not match a card gets
 * one message that does not say which of the three facts is wrong.
 *
 * Cross-site posts are refused like the log-in form's: a random secret in
 * an HttpOnly, SameSite=Strict cookie (civicard_login, the pre-login
 * cookie the server reads for ROUTE_PRELOGIN routes) scoped to
 * Path=/reprint, so it never meets the log-in form's, and its keyed hash
 * (app_prelogin_token) in the form. The cookie the browser already has is
 * kept, so a second tab or the back button does not expire the form.
 *
 * All text is {{t:…}} in templates/reprint.html and reprint_error.html,
 * checked by the template loader: nothing is looked up here at run time.
 * Flags in the context choose which text shows. */
#include "app.h"
#include "cardnum.h"
#include "handlers.h"
#include "pages.h"
#include "reprint.h"
#include "token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Everything the form may send. */
static const char *const form_fields[] = {
	"csrf", "card_number", "date_of_birth", "reprint_code", "report_lost", NULL,
};

/* Longest value written back into the form (a card number with spaces,
 * a date): anything longer is shown empty, never cut. */
#define ECHO_MAX 40

/* 1 when s is a well-formed pre-login cookie value (URL-safe base64, as
 * secret_new() writes it), safe to send back in a Set-Cookie header. */
static int cookie_ok(const char *s)
{
	if (!s || strlen(s) != SECRET_CHARS - 1)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/* The form's CSRF token in ctx, and its cookie in the response. */
static void add_csrf(struct request *req, json_t *ctx)
{
	char cookie[SECRET_CHARS], token[SECRET_CHARS];
	if (cookie_ok(req->cookie_prelogin))
		memcpy(cookie, req->cookie_prelogin, SECRET_CHARS);
	else
		secret_new(cookie);
	app_prelogin_token(req->app, cookie, token);
	json_object_set_new(ctx, "csrf", json_string(token));
	resp_header(req, "Set-Cookie",
		    "civicard_login=%s; Path=/reprint; Max-Age=3600; HttpOnly; SameSite=Strict%s", cookie,
		    req->tls ? "; Secure" : "");
	sodium_memzero(cookie, sizeof cookie);
}

/* What the form shows again: the card number and date as typed (when
 * short enough to be a typing mistake), the choice, and never the code. */
struct typed {
	const char *number, *dob, *lost;   /* may be NULL */
};

static const char *echo(const char *s)
{
	return s && strlen(s) <= ECHO_MAX ? s : "";
}

/* The form page. errors: {field: {flag: true}} (taken; NULL for none);
 * problem: a flag for a message about the whole request, or NULL. */
static void form_page(struct request *req, int status, const struct typed *t, json_t *errors,
		      const char *problem, int retry_after)
{
	json_t *ctx = page_context(req);
	int has_errors = errors && json_object_size(errors) > 0;
	add_csrf(req, ctx);
	json_object_set_new(ctx, "values", json_pack("{s:s, s:s}", "card_number", echo(t ? t->number : NULL),
						     "date_of_birth", echo(t ? t->dob : NULL)));
	json_object_set_new(ctx, "lost_yes", json_boolean(t && t->lost && strcmp(t->lost, "yes") == 0));
	json_object_set_new(ctx, "lost_no", json_boolean(t && t->lost && strcmp(t->lost, "no") == 0));
	json_object_set_new(ctx, "error", errors ? errors : json_object());
	json_object_set_new(ctx, "has_errors", json_boolean(has_errors));
	json_object_set_new(ctx, "has_problem", json_boolean(has_errors || problem));
	if (problem) {
		json_t *p = json_pack("{s:b}", problem, 1);
		if (retry_after > 0)
			json_object_set_new(p, "retry_minutes", json_integer((retry_after + 59) / 60));
		json_object_set_new(ctx, "problem", p);
	}
	resp_page(req, status, "reprint", ctx);
}

void ui_reprint_page(struct request *req)
{
	form_page(req, 200, NULL, NULL, req_query(req, "expired") ? "expired" : NULL, 0);
}

static void field_error(json_t *errors, const char *field, const char *flag)
{
	json_object_set_new(errors, field, json_pack("{s:b}", flag, 1));
}

/* The date as typed, without surrounding blanks (a browser without a date
 * picker lets people type them); "" when it cannot be a date. */
static void trim_date(const char *in, char out[11])
{
	out[0] = '\0';
	if (!in)
		return;
	while (*in == ' ' || *in == '\t')
		in++;
	size_t n = strlen(in);
	while (n && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 10) {
		memcpy(out, in, 10);
		out[10] = '\0';
	}
}

void ui_reprint(struct request *req)
{
	const struct form *f = &req->form;
	const char *unknown = NULL;
	struct typed t = {
		form_get(f, "card_number"), form_get(f, "date_of_birth"), form_get(f, "report_lost"),
	};
	const char *code_typed = form_get(f, "reprint_code");

	if (!form_only(f, form_fields, &unknown) || f->nfiles) {
		form_page(req, 400, &t, NULL, "unknown_field", 0);
		return;
	}

	/* Every field checked at once, so the resident sees every mistake. */
	json_t *errors = json_object();
	char number[CARDNUM_LEN + 1], dob[11], code[13];
	int y, m, d;
	trim_date(t.dob, dob);
	if (!t.number || !t.number[strspn(t.number, " \t-")])
		field_error(errors, "card_number", "number_required");
	else if (cardnum_parse(t.number, number) < 0)
		field_error(errors, "card_number", "number_mistyped");
	if (!t.dob || !t.dob[strspn(t.dob, " \t")])
		field_error(errors, "date_of_birth", "dob_required");
	else if (date_parse(dob, &y, &m, &d) < 0)
		field_error(errors, "date_of_birth", "dob_invalid");
	if (!code_typed || !code_typed[strspn(code_typed, " \t-")])
		field_error(errors, "reprint_code", "code_required");
	else if (reprint_code_parse(code_typed, code) < 0)
		field_error(errors, "reprint_code", "code_invalid");
	sodium_memzero(code, sizeof code);
	int lost = t.lost && strcmp(t.lost, "yes") == 0;
	if (!t.lost || (!lost && strcmp(t.lost, "no") != 0))
		field_error(errors, "report_lost", "choice_required");
	if (json_object_size(errors) > 0) {
		form_page(req, 400, &t, errors, NULL, 0);
		return;
	}

	int64_t id = 0;
	int retry = 0;
	switch (reprint_submit(req, t.number, dob, code_typed, lost, &id, &retry)) {
	case REPRINT_ACCEPTED: {
		json_t *ctx = page_context(req);
		json_object_set_new(ctx, "done", json_pack("{s:I, s:b}", "id", (json_int_t)id, "lost", lost));
		resp_page(req, 200, "reprint", ctx);
		break;
	}
	/* Checked above already; reprint_submit() has the last word. */
	case REPRINT_BAD_NUMBER:
		field_error(errors, "card_number", "number_mistyped");
		form_page(req, 400, &t, errors, NULL, 0);
		return;
	case REPRINT_BAD_DATE:
		field_error(errors, "date_of_birth", "dob_invalid");
		form_page(req, 400, &t, errors, NULL, 0);
		return;
	case REPRINT_BAD_CODE:
		field_error(errors, "reprint_code", "code_invalid");
		form_page(req, 400, &t, errors, NULL, 0);
		return;
	case REPRINT_NOT_VERIFIED:
		form_page(req, 422, &t, NULL, "not_verified", 0);
		break;
	case REPRINT_THROTTLED:
		form_page(req, 429, &t, NULL, "throttled", retry > 0 ? retry : 60);
		resp_header(req, "Retry-After", "%d", retry > 0 ? retry : 60);
		break;
	case REPRINT_ERROR:
		form_page(req, 500, &t, NULL, "failed", 0);
		break;
	}
	json_decref(errors);
}
