/* pages_cards.c — the clerk's card pages: issue a card, see it, find it.
 *
 * They take the same steps as the cards API (src/http/api_cards.c) with
 * the same rules (card_input_from_form, card_prepare, card_issue,
 * card_json); what differs is the answer: a page in the clerk's language,
 * each field error next to its field, and after issuing, the resident's
 * receipt with the one-time reprint code. That page is the answer to the
 * POST itself, never a redirect, so the code is in no URL; the receipt is
 * written in the resident's preferred language when the service has it.
 * Likewise the search by family name and date of birth is a POST answered
 * with the results, so no name lands in a URL (and the browser's history
 * on a shared counter PC); only a card number may be looked up by GET.
 *
 * The card page also carries the card's actions: revoke (a reason and a
 * ticked confirmation), reissue and renew. They take the steps of the API
 * (card_revoke, card_new_version, then the status list) and answer with
 * the card page: after a reissue or a renewal it is the same "card
 * issued" page, with the receipt and its new one-time reprint code, as
 * after issuing.
 *
 * Most text comes from {{t:…}} in the templates, which the template loader
 * checks. The text chosen here at run time (field errors, evidence types,
 * languages, genders, revocation reasons, the receipt, why a card action
 * was refused) is all named in the tables below, and ui_cards_check()
 * proves every catalogue has it. */
#include "app.h"
#include "card.h"
#include "handlers.h"
#include "log.h"
#include "names.h"
#include "pages.h"
#include "photo.h"
#include "status.h"
#include "template.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Preferred languages a clerk may record (catalogue: card.language.CODE),
 * the city's two first. "" is "not stated". */
static const char *const languages[] = {
	"en", "fr", "es", "pt", "ar", "zh", "ht", "vi", "ru", "uk", "fa", "tl", "pa", "so", NULL,
};

/* Self-declared gender (catalogue: card.gender.CODE; "" is card.gender.none). */
static const char *const genders[] = { "", "F", "M", "X", NULL };

/* Why a card was revoked (catalogue: card.revoke.CODE). */
static const char *const revoke_reasons[] = { "lost", "stolen", "damaged", "error", "other", NULL };

/* The resident's receipt: each becomes a member of the template's
 * `receipt` object, from card.receipt.NAME in the receipt's language. */
static const char *const receipt_texts[] = {
	"title", "keep", "lost", "need", "label_number", "label_dob", "label_code", "once",
	"no_paper", NULL,
};

/* A field error, as (field, problem), → its catalogue key. Problems:
 * required, too_long, invalid, mistyped, not_found, and the photo codes
 * of photo_error_code(). Every field has "invalid" (or "required") as the
 * fallback for a problem not listed. */
static const struct {
	const char *field, *problem, *key;
} error_keys[] = {
	{ "given_names", "required", "card.error.given_names_required" },
	{ "given_names", "too_long", "card.error.given_names_too_long" },
	{ "given_names", "invalid", "card.error.given_names_invalid" },
	{ "family_name", "required", "card.error.family_name_required" },
	{ "family_name", "too_long", "card.error.family_name_too_long" },
	{ "family_name", "invalid", "card.error.family_name_invalid" },
	{ "date_of_birth", "required", "card.error.date_of_birth_required" },
	{ "date_of_birth", "invalid", "card.error.date_of_birth_invalid" },
	{ "photo", "required", "card.error.photo_required" },
	{ "photo", "photo_empty", "card.error.photo_required" },
	{ "photo", "photo_too_large", "card.error.photo_too_large" },
	{ "photo", "photo_not_image", "card.error.photo_not_image" },
	{ "photo", "photo_corrupt", "card.error.photo_corrupt" },
	{ "photo", "photo_too_many_pixels", "card.error.photo_too_many_pixels" },
	{ "photo", "photo_too_small", "card.error.photo_too_small" },
	{ "photo", "invalid", "card.error.photo_failed" },   /* photo_no_memory, and any new code */
	{ "address", "too_long", "card.error.address_too_long" },
	{ "address", "invalid", "card.error.address_invalid" },
	{ "gender", "invalid", "card.error.gender_invalid" },
	{ "language", "invalid", "card.error.language_invalid" },
	{ "evidence", "invalid", "card.error.evidence_invalid" },
	{ "card_number", "required", "card.error.card_number_required" },
	{ "card_number", "mistyped", "card.error.card_number_mistyped" },
	{ "card_number", "not_found", "card.error.card_number_not_found" },
	{ "reason", "required", "card.error.reason_required" },
	{ "reason", "invalid", "card.error.reason_invalid" },
	{ "confirm", "required", "card.error.confirm_required" },
};
#define ERROR_KEY_FALLBACK "card.error.invalid"

/* Why a card action was refused or failed, as a whole (not one field):
 * catalogue card.action_error.CODE, shown at the top of the card page. */
static const char *const action_errors[] = {
	"already_revoked", "expired_reissue", "too_many_versions", "unknown_field", "failed", NULL,
};

/* The fields each card action's form may send. */
static const char *const revoke_fields[] = { "csrf", "reason", "confirm", NULL };
static const char *const csrf_only[] = { "csrf", NULL };

#define SEARCH_NAME_MAX 256

/* ---- text ---- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The catalogue text of PREFIX CODE in lang, or NULL. */
static const char *text_of(const struct request *req, const char *lang, const char *prefix,
			   const char *code)
{
	char key[128];
	if ((size_t)snprintf(key, sizeof key, "%s%s", prefix, code) >= sizeof key)
		return NULL;
	return tpl_text(req->app->tpl, lang, key);
}

/* The same, for a key that must exist: a missing one is logged and the
 * code itself shown, rather than failing the whole page. */
static const char *text_must(const struct request *req, const char *lang, const char *prefix,
			     const char *code)
{
	const char *t = text_of(req, lang, prefix, code);
	if (!t) {
		log_error("catalogue %s has no %s%s", or_empty(lang), prefix, code);
		return code;
	}
	return t;
}

static const char *error_key(const char *field, const char *problem)
{
	const char *fallback = NULL;
	for (size_t i = 0; i < sizeof error_keys / sizeof error_keys[0]; i++) {
		if (strcmp(error_keys[i].field, field) != 0)
			continue;
		if (strcmp(error_keys[i].problem, problem) == 0)
			return error_keys[i].key;
		if (strcmp(error_keys[i].problem, "invalid") == 0 ||
		    (!fallback && strcmp(error_keys[i].problem, "required") == 0))
			fallback = error_keys[i].key;
	}
	return fallback ? fallback : ERROR_KEY_FALLBACK;
}

static const char *name_problem_code(enum name_problem p)
{
	switch (p) {
	case NAME_OK:
	case NAME_EMPTY:
		return "required";
	case NAME_TOO_LONG:
		return "too_long";
	case NAME_BAD_UTF8:
	case NAME_UNSUPPORTED:
		break;
	}
	return "invalid";
}

/* ---- pages shared by every handler ---- */

/* A page context with the members every card form reads: no errors yet. */
static json_t *form_context(struct request *req)
{
	json_t *ctx = page_context(req);
	char today[11];
	card_today(today);
	json_object_set_new(ctx, "today", json_string(today));
	json_object_set_new(ctx, "error", json_object());
	json_object_set_new(ctx, "error_list", json_array());
	json_object_set_new(ctx, "has_errors", json_false());
	return ctx;
}

/* Where the error summary's link for field leads: the field's first input. */
static void anchor_of(const char *field, char *out, size_t cap)
{
	if (strcmp(field, "gender") == 0)
		snprintf(out, cap, "gender-none");
	else if (strcmp(field, "evidence") == 0)
		snprintf(out, cap, "evidence-%s", card_evidence_types[0]);
	else if (strcmp(field, "reason") == 0 || strcmp(field, "confirm") == 0)
		snprintf(out, cap, "revoke-%s", field);
	else
		snprintf(out, cap, "%s", field);
}

/* Record a field error in ctx: error.FIELD (the message beside the field)
 * and error_list (the summary at the top). One message per field. */
static void add_error(struct request *req, json_t *ctx, const char *field, const char *problem)
{
	json_t *by_field = json_object_get(ctx, "error");
	if (!by_field || json_object_get(by_field, field))
		return;
	const char *key = error_key(field, problem);
	const char *msg = tpl_text(req->app->tpl, req->lang, key);
	if (!msg) {
		log_error("catalogue %s has no %s", req->lang, key);
		msg = key;
	}
	char anchor[64];
	anchor_of(field, anchor, sizeof anchor);
	json_object_set_new(by_field, field, json_string(msg));
	json_array_append_new(json_object_get(ctx, "error_list"),
			      json_pack("{s:s, s:s}", "anchor", anchor, "message", msg));
	json_object_set_new(ctx, "has_errors", json_true());
}

/* ---- the issue form ---- */

/* The form, filled with what was sent (in may be NULL: empty). The photo
 * is never sent back: a browser cannot be given a file. */
static json_t *issue_context(struct request *req, const struct card_input *in)
{
	static const struct card_input none;
	if (!in)
		in = &none;
	json_t *ctx = form_context(req);
	json_object_set_new(ctx, "values",
			    json_pack("{s:s, s:s, s:s, s:s}", "given_names", or_empty(in->given_names),
				      "family_name", or_empty(in->family_name), "date_of_birth",
				      or_empty(in->date_of_birth), "address", or_empty(in->address)));
	const char *gender = or_empty(in->gender), *language = or_empty(in->language);

	json_t *list = json_array();
	for (const char *const *g = genders; *g; g++) {
		char id[32];
		snprintf(id, sizeof id, "gender-%s", (*g)[0] ? *g : "none");
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}", "value", *g, "id", id, "label",
						      text_must(req, req->lang, "card.gender.",
								(*g)[0] ? *g : "none"),
						      "checked", strcmp(gender, *g) == 0));
	}
	json_object_set_new(ctx, "genders", list);

	list = json_array();
	json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", "", "name",
					      text_must(req, req->lang, "card.language.", "none"),
					      "selected", language[0] == '\0'));
	for (const char *const *l = languages; *l; l++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", *l, "name",
						      text_must(req, req->lang, "card.language.", *l),
						      "selected", strcmp(language, *l) == 0));
	json_object_set_new(ctx, "languages", list);

	list = json_array();
	for (const char *const *t = card_evidence_types; *t; t++) {
		int checked = 0;
		for (size_t i = 0; i < in->nevidence; i++)
			checked |= strcmp(in->evidence[i], *t) == 0;
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", *t, "label",
						      text_must(req, req->lang, "card.evidence.", *t),
						      "checked", checked));
	}
	json_object_set_new(ctx, "evidence_types", list);
	json_object_set_new(ctx, "photo_max_mb", json_integer(PHOTO_MAX_BYTES / (1024 * 1024)));
	return ctx;
}

/* What was typed, for refilling the form when card_input_from_form()
 * refused it (and so filled nothing). */
static void echo_input(const struct form *f, struct card_input *in)
{
	memset(in, 0, sizeof *in);
	in->given_names = form_get(f, "given_names");
	in->family_name = form_get(f, "family_name");
	in->date_of_birth = form_get(f, "date_of_birth");
	in->address = form_get(f, "address");
	in->gender = form_get(f, "gender");
	in->language = form_get(f, "language");
	for (size_t i = 0; i < f->count && in->nevidence < EVIDENCE_MAX; i++)
		if (strcmp(f->names[i], "evidence") == 0)
			in->evidence[in->nevidence++] = f->values[i];
}

/* Every missing or unprintable required field at once, so a clerk fixes
 * them in one go; card_prepare() then checks everything, one at a time.
 * Returns how many errors were added. */
static int precheck(struct request *req, json_t *ctx, const struct card_input *in)
{
	const char *fields[2] = { "given_names", "family_name" };
	const char *values[2] = { in->given_names, in->family_name };
	int n = 0;
	for (int i = 0; i < 2; i++) {
		char *clean = NULL;
		enum name_problem p = name_clean(or_empty(values[i]), NAME_MAX_BYTES, &clean);
		free(clean);
		if (p != NAME_OK) {
			add_error(req, ctx, fields[i], name_problem_code(p));
			n++;
		}
	}
	if (!in->date_of_birth || !in->date_of_birth[0]) {
		add_error(req, ctx, "date_of_birth", "required");
		n++;
	}
	if (!in->photo || in->photo_len == 0) {
		add_error(req, ctx, "photo", "required");
		n++;
	}
	return n;
}

/* The problem behind a card_prepare() refusal. */
static const char *problem_of(const struct field_error *fe, const struct card_input *in)
{
	if (strcmp(fe->field, "photo") == 0)
		return strcmp(fe->code, "invalid_field") == 0 ? "required" : fe->code;
	if (strcmp(fe->field, "given_names") == 0 || strcmp(fe->field, "family_name") == 0) {
		char *clean = NULL;
		const char *v = strcmp(fe->field, "given_names") == 0 ? in->given_names : in->family_name;
		enum name_problem p = name_clean(or_empty(v), NAME_MAX_BYTES, &clean);
		free(clean);
		return name_problem_code(p);
	}
	if (strcmp(fe->field, "date_of_birth") == 0)
		return in->date_of_birth && in->date_of_birth[0] ? "invalid" : "required";
	if (strcmp(fe->field, "address") == 0) {
		char *clean = NULL;
		enum name_problem p = text_clean(or_empty(in->address), TEXT_MAX_BYTES, &clean);
		free(clean);
		return p == NAME_TOO_LONG ? "too_long" : "invalid";
	}
	return "invalid";
}

void ui_card_new_page(struct request *req)
{
	resp_page(req, 200, "card_new", issue_context(req, NULL));
}

/* ---- one card ---- */

/* What the card page offers to do with c, as ctx.actions: revoke a card
 * that still works; reissue (same expiry) one that has not expired, even
 * when revoked, for that is how a lost card is replaced; renew any. An
 * expired card is not revoked: no check accepts it anyway. reason: the
 * reason to preselect (as sent with a refused revocation), or NULL. */
static void add_actions(struct request *req, json_t *ctx, const struct card *c, const char *reason)
{
	char today[11];
	card_today(today);
	int expired = strcmp(c->expires_on, today) < 0;
	json_t *reasons = json_array();
	for (const char *const *r = revoke_reasons; *r; r++)
		json_array_append_new(reasons, json_pack("{s:s, s:s, s:b}", "code", *r, "label",
							 text_must(req, req->lang, "card.revoke.", *r),
							 "selected", reason && strcmp(reason, *r) == 0));
	json_object_set_new(ctx, "actions",
			    json_pack("{s:b, s:b, s:b, s:o}", "can_revoke", !c->revoked && !expired,
				      "can_reissue", !expired, "can_renew", 1, "reasons", reasons));
}

/* The card page's context: the card as card_json() shows it, plus its
 * status, gender, language, evidence and revocation reason in words, its
 * actions (reason: see add_actions), and no field errors yet. */
static json_t *view_context(struct request *req, const struct card *c, const char *reason)
{
	json_t *card = card_json(c, app_keys(req->app), req->app->public_url);
	if (!card)
		return NULL;
	const char *status = or_empty(json_string_value(json_object_get(card, "status")));
	json_object_set_new(card, "is_active", json_boolean(strcmp(status, "active") == 0));
	json_object_set_new(card, "is_expired", json_boolean(strcmp(status, "expired") == 0));
	json_object_set_new(card, "is_revoked", json_boolean(strcmp(status, "revoked") == 0));
	if (c->gender[0])
		json_object_set_new(card, "gender_text",
				    json_string(text_must(req, req->lang, "card.gender.", c->gender)));
	if (c->language[0]) {
		const char *name = text_of(req, req->lang, "card.language.", c->language);
		json_object_set_new(card, "language_text", json_string(name ? name : c->language));
	}
	json_t *labels = json_array();
	size_t i;
	json_t *code;
	json_array_foreach(c->evidence, i, code) {
		const char *s = json_string_value(code);
		const char *label = s ? text_of(req, req->lang, "card.evidence.", s) : NULL;
		if (s)
			json_array_append_new(labels, json_string(label ? label : s));
	}
	json_object_set_new(card, "evidence_labels", labels);
	if (c->revoked) {
		const char *reason = text_of(req, req->lang, "card.revoke.", c->revoke_reason);
		json_object_set_new(card, "revoke_reason_text",
				    json_string(reason ? reason : c->revoke_reason));
	}
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "card", card);
	json_object_set_new(ctx, "error", json_object());
	json_object_set_new(ctx, "error_list", json_array());
	json_object_set_new(ctx, "has_errors", json_false());
	add_actions(req, ctx, c, reason);
	return ctx;
}

/* The receipt the resident takes home: how to ask for a reprint, and the
 * three things it needs, in the resident's language when we have it. */
static void add_receipt(struct request *req, json_t *ctx, const struct card *c, const char *code)
{
	const struct tpl_set *tpl = req->app->tpl;
	const char *lang = c->language[0] && tpl_has_lang(tpl, c->language) ? c->language : req->lang;
	json_t *r = json_object();
	for (const char *const *t = receipt_texts; *t; t++)
		json_object_set_new(r, *t, json_string(text_must(req, lang, "card.receipt.", *t)));
	char number[CARDNUM_FORMATTED + 1], url[600];
	cardnum_format(c->number, number);
	snprintf(url, sizeof url, "%s/reprint", req->app->public_url);
	json_object_set_new(r, "lang", json_string(lang));
	json_object_set_new(r, "city", json_string(or_empty(req->app->cfg.city_name)));
	json_object_set_new(r, "url", json_string(url));
	json_object_set_new(r, "number", json_string(number));
	json_object_set_new(r, "dob", json_string(c->date_of_birth));
	json_object_set_new(r, "code", json_string(code));
	json_object_set_new(ctx, "receipt", r);
}

/* The answer to issuing a card, or a new version of one (replaced: the
 * earlier versions no longer work): 201, the card, and the resident's
 * receipt with the one-time reprint code, which is then wiped. Shared
 * with the reprint queue (pages_staff.c), whose approval is a reissue. */
void ui_card_issued_page(struct request *req, const struct card *c, char code[REPRINT_CODE_CHARS],
			 int replaced)
{
	json_t *ctx = view_context(req, c, NULL);
	if (!ctx) {
		/* Stored, but the page cannot be drawn: the code is lost; the
		 * card can be reissued. */
		log_error("card version stored but its page failed");
		resp_error_page(req, 500);
	} else {
		add_receipt(req, ctx, c, code);
		json_object_set_new(ctx, "issued", json_true());
		if (replaced)
			json_object_set_new(ctx, "replaced", json_true());
		resp_page(req, 201, "card_view", ctx);
	}
	sodium_memzero(code, REPRINT_CODE_CHARS);
}

void ui_card_new(struct request *req)
{
	struct card_input in;
	const char *unknown = NULL;
	json_t *ctx;
	if (card_input_from_form(&req->form, &in, &unknown) < 0) {
		echo_input(&req->form, &in);
		ctx = issue_context(req, &in);
		if (unknown)
			json_object_set_new(ctx, "form_error_unknown", json_true());
		else
			add_error(req, ctx, "evidence", "invalid");
		resp_page(req, 400, "card_new", ctx);
		return;
	}
	ctx = issue_context(req, &in);
	if (precheck(req, ctx, &in) > 0) {
		resp_page(req, 400, "card_new", ctx);
		return;
	}
	struct card c;
	struct field_error fe;
	if (card_prepare(&in, req->app->fonts, &c, &fe) < 0) {
		add_error(req, ctx, fe.field, problem_of(&fe, &in));
		resp_page(req, strcmp(fe.code, "invalid_field") == 0 ? 400 : 422, "card_new", ctx);
		return;
	}
	char code[REPRINT_CODE_CHARS];
	struct db *db = db_thread();
	if (!db || card_issue(db, app_keys(req->app), &c, req->session.username, code) < 0) {
		card_free(&c);
		json_object_set_new(ctx, "form_error_stored", json_true());
		resp_page(req, 500, "card_new", ctx);
		return;
	}
	json_decref(ctx);
	ui_card_issued_page(req, &c, code, 0);
	card_free(&c);
}

/* ---- finding a card ---- */

/* The search page: both forms, refilled with what was typed (NULL: an
 * empty field). */
static json_t *search_context(struct request *req, const char *family, const char *dob,
			      const char *number)
{
	json_t *ctx = form_context(req);
	json_object_set_new(ctx, "values",
			    json_pack("{s:s, s:s, s:s}", "family_name", or_empty(family), "date_of_birth",
				      or_empty(dob), "card_number", or_empty(number)));
	json_object_set_new(ctx, "searched", json_false());
	return ctx;
}

/* The search page answering for a card number that is mistyped or
 * unknown, with the number as typed in its field. */
static void number_problem(struct request *req, int status, const char *typed, const char *problem)
{
	json_t *ctx = search_context(req, NULL, NULL, typed);
	add_error(req, ctx, "card_number", problem);
	resp_page(req, status, "card_search", ctx);
}

/* The card of the {n} path parameter; on failure the answer is set and
 * -1 returned. as_page: answer a mistyped or unknown number with the
 * search page (for the card page itself) rather than a bare error page
 * (for its photo and PDF). */
static int card_of_path(struct request *req, struct card *ret, int as_page)
{
	char number[CARDNUM_LEN + 1];
	struct db *db = db_thread();
	const char *typed = req->params[0];
	int r = cardnum_parse(typed, number) < 0 ? -EINVAL
		: db ? card_load(db, app_keys(req->app), number, ret) : -EIO;
	if (r == 0)
		return 0;
	if (r == -EINVAL || r == -ENOENT) {
		int status = r == -EINVAL ? 400 : 404;
		if (as_page)
			number_problem(req, status, typed, r == -EINVAL ? "mistyped" : "not_found");
		else
			resp_error_page(req, status);
		return -1;
	}
	resp_error_page(req, r == -ENODATA ? 410 : 500);
	return -1;
}

/* GET: the empty search page, or the card-number search, which leads to
 * the card's page. A card number may sit in a URL (and so in the browser's
 * history); a name or a date of birth may not, so those are searched for
 * only by POST, and a GET carrying them is answered with the empty form:
 * they are neither searched for nor written back into the page. */
void ui_card_search_page(struct request *req)
{
	const char *number = req_query(req, "card_number");
	if (!number) {
		resp_page(req, 200, "card_search", search_context(req, NULL, NULL, NULL));
		return;
	}
	char canonical[CARDNUM_LEN + 1], location[64];
	if (!number[0]) {
		number_problem(req, 400, number, "required");
	} else if (cardnum_parse(number, canonical) < 0) {
		number_problem(req, 400, number, "mistyped");
	} else {
		/* The card page says whether it exists (and audits the view). */
		snprintf(location, sizeof location, "/cards/%s", canonical);
		resp_redirect(req, location);
	}
}

/* POST (urlencoded, CSRF checked by the server): by family name and date
 * of birth. The results are this response itself, never a redirect, so
 * the name is in no URL; like every page, it is sent no-store. The audit
 * log records how many cards were found, never what was searched for. */
void ui_card_search(struct request *req)
{
	const char *family = form_get(&req->form, "family_name");
	const char *dob = form_get(&req->form, "date_of_birth");
	json_t *ctx = search_context(req, family, dob, NULL);
	int y, m, d;
	if (!family || !family[0])
		add_error(req, ctx, "family_name", "required");
	else if (strlen(family) > SEARCH_NAME_MAX)
		add_error(req, ctx, "family_name", "too_long");
	if (!dob || !dob[0])
		add_error(req, ctx, "date_of_birth", "required");
	else if (date_parse(dob, &y, &m, &d) < 0)
		add_error(req, ctx, "date_of_birth", "invalid");
	if (json_is_true(json_object_get(ctx, "has_errors"))) {
		resp_page(req, 400, "card_search", ctx);
		return;
	}
	struct db *db = db_thread();
	json_t *cards = db ? card_search(db, app_keys(req->app), family, dob, req->app->public_url) : NULL;
	if (!cards) {
		json_object_set_new(ctx, "form_error_search", json_true());
		resp_page(req, 500, "card_search", ctx);
		return;
	}
	char detail[32];
	snprintf(detail, sizeof detail, "%zu found", json_array_size(cards));
	audit_card(req, "card.search", "", detail);
	size_t i;
	json_t *card;
	json_array_foreach(cards, i, card) {
		const char *status = or_empty(json_string_value(json_object_get(card, "status")));
		json_object_set_new(card, "is_active", json_boolean(strcmp(status, "active") == 0));
		json_object_set_new(card, "is_expired", json_boolean(strcmp(status, "expired") == 0));
		json_object_set_new(card, "is_revoked", json_boolean(strcmp(status, "revoked") == 0));
	}
	json_object_set_new(ctx, "searched", json_true());
	json_object_set_new(ctx, "count", json_integer((json_int_t)json_array_size(cards)));
	json_object_set_new(ctx, "no_results", json_boolean(json_array_size(cards) == 0));
	json_object_set_new(ctx, "results", cards);
	resp_page(req, 200, "card_search", ctx);
}

/* ---- the card, its photo, its PDF ---- */

void ui_card_view(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c, 1) < 0)
		return;
	json_t *ctx = view_context(req, &c, NULL);
	if (!ctx) {
		resp_error_page(req, 500);
	} else {
		audit_card(req, "card.view", c.number, "");
		resp_page(req, 200, "card_view", ctx);
	}
	card_free(&c);
}

void ui_card_photo(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c, 0) < 0)
		return;
	if (audit_card(req, "card.photo", c.number, "") < 0)
		resp_error_page(req, 503);
	else
		card_send_photo(req, &c);
	card_free(&c);
}

void ui_card_pdf(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c, 0) < 0)
		return;
	card_send_pdf(req, &c, req_query(req, "format"));
	card_free(&c);
}

/* ---- revoke, reissue, renew ---- */

/* The card page again, for an action refused or failed as a whole:
 * status, and the message card.action_error.CODE at the top. */
static void action_refused(struct request *req, const struct card *c, int status, const char *code)
{
	json_t *ctx = view_context(req, c, NULL);
	if (!ctx) {
		resp_error_page(req, 500);
		return;
	}
	json_object_set_new(ctx, "action_error",
			    json_string(text_must(req, req->lang, "card.action_error.", code)));
	resp_page(req, status, "card_view", ctx);
}

/* POST (urlencoded, CSRF checked by the server): reason and confirm=yes.
 * The answer is the card page: revoked, or the form's errors beside its
 * fields (400); 409 when the card was already revoked. Nothing is changed
 * unless everything was right. */
void ui_card_revoke(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c, 1) < 0)
		return;
	const char *unknown = NULL;
	const char *reason = form_get(&req->form, "reason");
	const char *confirm = form_get(&req->form, "confirm");
	if (!form_only(&req->form, revoke_fields, &unknown) || req->form.nfiles) {
		action_refused(req, &c, 400, "unknown_field");
		goto out;
	}
	if (c.revoked) {
		action_refused(req, &c, 409, "already_revoked");
		goto out;
	}
	int valid = card_reason_valid(reason);
	if (!valid || !confirm || strcmp(confirm, "yes") != 0) {
		json_t *ctx = view_context(req, &c, valid ? reason : NULL);
		if (!ctx) {
			resp_error_page(req, 500);
			goto out;
		}
		if (!valid)
			add_error(req, ctx, "reason", reason && reason[0] ? "invalid" : "required");
		if (!confirm || strcmp(confirm, "yes") != 0)
			add_error(req, ctx, "confirm", "required");
		resp_page(req, 400, "card_view", ctx);
		goto out;
	}
	struct db *db = db_thread();
	uint32_t index;
	int r = db ? card_revoke(db, c.number, reason, req->session.username, &index) : -EIO;
	if (r == -EALREADY) {
		action_refused(req, &c, 409, "already_revoked");
	} else if (r == -ENOENT) {
		number_problem(req, 404, req->params[0], "not_found");
	} else if (r < 0) {
		action_refused(req, &c, 500, "failed");
	} else {
		status_list_set(req->app->status, index);
		/* The card as it is now; should it not be readable, the one
		 * read before, revoked as it now is. */
		struct card now;
		if (card_load(db, app_keys(req->app), c.number, &now) == 0) {
			card_free(&c);
			c = now;
		} else {
			c.revoked = 1;
			snprintf(c.revoke_reason, sizeof c.revoke_reason, "%s", reason);
		}
		json_t *ctx = view_context(req, &c, NULL);
		if (!ctx) {
			resp_error_page(req, 500);
		} else {
			json_object_set_new(ctx, "revoked_now", json_true());
			resp_page(req, 200, "card_view", ctx);
		}
	}
out:
	card_free(&c);
}

/* POST (urlencoded, CSRF checked by the server; no other field): a new
 * version of the card, answered like issuing, with the resident's receipt
 * and new reprint code. Every earlier version now verifies as revoked. A
 * reissue keeps the expiry date, so an expired card is renewed instead. */
static void new_version_page(struct request *req, enum card_change kind)
{
	struct card c, nc;
	if (card_of_path(req, &c, 1) < 0)
		return;
	const char *unknown = NULL;
	char today[11];
	card_today(today);
	if (!form_only(&req->form, csrf_only, &unknown) || req->form.nfiles) {
		action_refused(req, &c, 400, "unknown_field");
		goto out;
	}
	if (kind == CARD_REISSUE && strcmp(c.expires_on, today) < 0) {
		action_refused(req, &c, 409, "expired_reissue");
		goto out;
	}
	char code[REPRINT_CODE_CHARS];
	uint32_t revoked[255];
	size_t nrevoked = 0;
	struct db *db = db_thread();
	int r = db ? card_new_version(db, app_keys(req->app), c.number, kind, req->session.username,
				      &nc, code, revoked, &nrevoked)
		   : -EIO;
	if (r == -ENOENT) {
		number_problem(req, 404, req->params[0], "not_found");
	} else if (r == -ERANGE) {
		action_refused(req, &c, 409, "too_many_versions");
	} else if (r < 0) {
		action_refused(req, &c, 500, "failed");
	} else {
		for (size_t i = 0; i < nrevoked; i++)
			status_list_set(req->app->status, revoked[i]);
		ui_card_issued_page(req, &nc, code, 1);
		card_free(&nc);
	}
out:
	card_free(&c);
}

void ui_card_reissue(struct request *req)
{
	new_version_page(req, CARD_REISSUE);
}

void ui_card_renew(struct request *req)
{
	new_version_page(req, CARD_RENEW);
}

/* ---- start-up check ---- */

static int check_key(const struct tpl_set *set, const char *prefix, const char *code, char *err,
		     size_t errlen)
{
	return tpl_require_key(set, prefix, code, "src/ui/pages_cards.c", err, errlen);
}

int ui_cards_check(const struct tpl_set *set, char *err, size_t errlen)
{
	/* Every catalogue has the same keys (the loader insists), so the
	 * default language stands for all of them. */
	for (size_t i = 0; i < sizeof error_keys / sizeof error_keys[0]; i++)
		if (check_key(set, "", error_keys[i].key, err, errlen) < 0)
			return -1;
	if (check_key(set, "", ERROR_KEY_FALLBACK, err, errlen) < 0)
		return -1;
	/* Each photo refusal has its own message (or the deliberate
	 * "could not be processed" for running out of memory). */
	for (int e = PHOTO_EMPTY; e <= PHOTO_NO_MEMORY; e++) {
		const char *code = photo_error_code((enum photo_error)e);
		const char *key = error_key("photo", code);
		if (strcmp(key, "card.error.photo_failed") == 0 && e != PHOTO_NO_MEMORY) {
			snprintf(err, errlen, "photo error '%s' has no message of its own in pages_cards.c", code);
			return -1;
		}
	}
	for (const char *const *t = card_evidence_types; *t; t++)
		if (check_key(set, "card.evidence.", *t, err, errlen) < 0)
			return -1;
	if (check_key(set, "card.language.", "none", err, errlen) < 0)
		return -1;
	for (const char *const *t = languages; *t; t++)
		if (check_key(set, "card.language.", *t, err, errlen) < 0)
			return -1;
	for (const char *const *t = genders; *t; t++)
		if (check_key(set, "card.gender.", (*t)[0] ? *t : "none", err, errlen) < 0)
			return -1;
	for (const char *const *t = revoke_reasons; *t; t++)
		if (check_key(set, "card.revoke.", *t, err, errlen) < 0)
			return -1;
	for (const char *const *t = receipt_texts; *t; t++)
		if (check_key(set, "card.receipt.", *t, err, errlen) < 0)
			return -1;
	for (const char *const *t = action_errors; *t; t++)
		if (check_key(set, "card.action_error.", *t, err, errlen) < 0)
			return -1;
	/* The city's languages should all be offered as preferred languages. */
	for (size_t i = 0; i < tpl_lang_count(set); i++) {
		const char *code = tpl_lang_code(set, i);
		int found = 0;
		for (const char *const *t = languages; *t; t++)
			found |= strcmp(*t, code) == 0;
		if (!found) {
			snprintf(err, errlen, "language '%s' has a catalogue but is not in pages_cards.c's list", code);
			return -1;
		}
	}
	return 0;
}
