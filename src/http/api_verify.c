/* api_verify.c — verification: POST /api/v1/verify, GET /api/v1/keys,
 * GET /api/v1/status-list, and revocation (POST .../revoke).
 *
 * Verification leaves no trace: it reads the token, the public keys and
 * the in-memory status list, and nothing else. No database, no audit
 * entry, no log line naming the card (the access log names the route). */
#include "app.h"
#include "card.h"
#include "handlers.h"
#include "log.h"
#include "token.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define QR_TEXT_MAX 2048

static json_t *invalid(void)
{
	return json_pack("{s:s}", "result", "invalid");
}

/* The token of a QR text: after the last '#' of a URL, or the text itself. */
static const char *token_of(const char *qr, size_t *ret_len)
{
	const char *hash = strrchr(qr, '#');
	const char *t = hash ? hash + 1 : qr;
	*ret_len = strlen(t);
	return t;
}

json_t *verify_qr(const struct app *app, const char *qr)
{
	size_t len;
	const char *text = token_of(qr, &len);
	struct token_parsed t;
	if (token_parse(text, len, &t) < 0)
		return invalid();
	const struct keystore *ks = app_keys(app);
	const struct signing_key *k = keystore_signing(ks, t.claims.kid);
	if (!k || !token_verify(&t, k->pk))
		return invalid();

	char today[11];
	card_today(today);
	const char *result = "valid";
	if (status_list_is_set(app->status, t.claims.status_index))
		result = "revoked";
	else if (strcmp(t.claims.expires_on, today) < 0)
		result = "expired";
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "result", result, "card_number",
			 t.claims.card_number, "version", t.claims.card_version, "given_names",
			 t.claims.given_names, "family_name", t.claims.family_name, "date_of_birth",
			 t.claims.date_of_birth, "expires_on", t.claims.expires_on);
}

void api_verify(struct request *req)
{
	static const char *const fields[] = { "qr", NULL };
	json_t *body = NULL;
	if (req_json_object(req, fields, &body) < 0)
		return;
	json_t *qr = json_object_get(body, "qr");
	if (!json_is_string(qr)) {
		resp_field_error(req, "qr", "qr is the text of the QR code, a string");
	} else if (json_string_length(qr) > QR_TEXT_MAX) {
		resp_json(req, 200, invalid());
	} else {
		resp_json(req, 200, verify_qr(req->app, json_string_value(qr)));
	}
	json_decref(body);
}

static json_t *iso(int64_t t)
{
	char s[21];
	iso8601(t, s);
	return json_string(s);
}

void api_keys(struct request *req)
{
	struct db *db = db_thread();
	sqlite3_stmt *st = db ? db_stmt(db, STMT_SIGNING_KEYS_FULL) : NULL;
	if (!st) {
		resp_error(req, 503, "unavailable", "the keys could not be read");
		return;
	}
	json_t *keys = json_array();
	const struct keystore *ks = app_keys(req->app);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char pk[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
		if (sqlite3_column_bytes(st, 1) != 32)
			continue;
		sodium_bin2base64(pk, sizeof pk, sqlite3_column_blob(st, 1), 32,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		int kid = sqlite3_column_int(st, 0);
		json_t *k = json_pack("{s:i, s:s, s:s, s:o, s:b}", "kid", kid, "algorithm", "Ed25519",
				      "public_key", pk, "created_at", iso(sqlite3_column_int64(st, 2)),
				      "signing", kid == ks->current_kid);
		json_object_set_new(k, "retired_at", sqlite3_column_type(st, 3) == SQLITE_NULL
				    ? json_null() : iso(sqlite3_column_int64(st, 3)));
		json_array_append_new(keys, k);
	}
	sqlite3_reset(st);
	resp_json(req, 200, json_pack("{s:o}", "keys", keys));
	req->resp.cache_control = "public, max-age=300";
}

void api_status_list(struct request *req)
{
	char *doc, etag[32];
	size_t len;
	if (status_list_document(req->app->status, app_keys(req->app), &doc, &len, etag) < 0) {
		resp_error(req, 503, "unavailable", "the status list could not be made");
		return;
	}
	const char *inm = req_header(req, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		free(doc);
		resp_text(req, 304, NULL, NULL, 0);
	} else {
		resp_text(req, 200, "application/json", doc, len);
	}
	/* Short: a revocation must reach counters quickly; the ETag keeps
	 * refreshing cheap. */
	req->resp.cache_control = "public, max-age=60";
	resp_header(req, "ETag", "%s", etag);
}

void api_card_revoke(struct request *req)
{
	static const char *const fields[] = { "reason", NULL };
	json_t *body = NULL;
	char number[CARDNUM_LEN + 1];
	struct db *db = db_thread();
	int bad = 0;
	if (cardnum_parse(req->params[0], number) < 0) {
		resp_error(req, 400, "invalid_card_number",
			   "not a card number: a character is wrong or missing (check digit)");
		return;
	}
	if (req_json_object(req, fields, &body) < 0)
		return;
	const char *reason = req_json_string(req, body, "reason", 1, 16, &bad);
	if (bad)
		goto out;
	if (!card_reason_valid(reason)) {
		resp_field_error(req, "reason", "reason is lost, stolen, damaged, error or other");
		goto out;
	}
	uint32_t index;
	int r = db ? card_revoke(db, number, reason, req->session.username, &index) : -EIO;
	if (r == -ENOENT) {
		resp_error(req, 404, "not_found", "no card with this number");
	} else if (r == -EALREADY) {
		resp_error(req, 409, "already_revoked", "this card is already revoked");
	} else if (r < 0) {
		resp_error(req, 500, "internal_error", "the card could not be revoked");
	} else {
		status_list_set(req->app->status, index);
		struct card c;
		if (card_load(db, app_keys(req->app), number, &c) == 0) {
			resp_json(req, 200, card_json(&c, app_keys(req->app), req->app->public_url));
			card_free(&c);
		} else {
			resp_json(req, 200, json_pack("{s:s, s:s}", "card_number", number, "status", "revoked"));
		}
	}
out:
	json_decref(body);
}
