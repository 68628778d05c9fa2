/* api_reprint.c — residents ask for a reprint or report a card lost
 * (no login), clerks see the queue and approve or reject.
 *
 * A resident's request is checked against the card's number, date of birth
 * and reprint code; every attempt counts against the client address and
 * the card number, so the three facts cannot be guessed by trying. */
#include "app.h"
#include "audit.h"
#include "card.h"
#include "handlers.h"
#include "log.h"
#include "reprint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum reprint_outcome reprint_submit(struct request *req, const char *card_number, const char *dob,
				    const char *code_typed, int report_lost, int64_t *ret_id,
				    int *ret_retry_after)
{
	struct db *db = db_thread();
	char number[CARDNUM_LEN + 1], code[13], akey[80], ckey[32];
	int y, m, d;
	enum reprint_outcome out = REPRINT_ERROR;
	if (!card_number || cardnum_parse(card_number, number) < 0)
		return REPRINT_BAD_NUMBER;
	if (!dob || date_parse(dob, &y, &m, &d) < 0)
		return REPRINT_BAD_DATE;
	if (!code_typed || reprint_code_parse(code_typed, code) < 0)
		return REPRINT_BAD_CODE;

	int64_t now = (int64_t)time(NULL);
	snprintf(akey, sizeof akey, "addr:%s", req->client_addr);
	snprintf(ckey, sizeof ckey, "card:%s", number);
	/* Every attempt counts against the client address. Against the card
	 * only wrong ones do, and the right facts always pass: otherwise
	 * anyone who has seen a card number could stop its holder from
	 * reporting it lost. Guessing is hopeless anyway (a 60-bit code). */
	int wait = throttle_wait(req->app->throttle_reprint_addr, akey, now);
	if (wait) {
		*ret_retry_after = wait;
		out = REPRINT_THROTTLED;
		goto done;
	}
	throttle_fail(req->app->throttle_reprint_addr, akey, now);

	int ok = db ? reprint_check(db, app_keys(req->app), number, dob, code) : -1;
	if (ok < 0)
		goto done;
	if (ok == 0) {
		wait = throttle_wait(req->app->throttle_reprint_card, ckey, now);
		if (wait) {
			*ret_retry_after = wait;
			out = REPRINT_THROTTLED;
		} else {
			throttle_fail(req->app->throttle_reprint_card, ckey, now);
			out = REPRINT_NOT_VERIFIED;
		}
		goto done;
	}
	uint32_t index;
	if (db_begin(db) < 0)
		goto done;
	int rv = report_lost ? card_revoke(db, number, "lost", "resident", &index) : 0;
	if ((rv < 0 && rv != -EALREADY) || reprint_request_add(db, number, report_lost, ret_id) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		goto done;
	}
	if (report_lost && rv == 0)
		status_list_set(req->app->status, index);
	out = REPRINT_ACCEPTED;
done:
	sodium_memzero(code, sizeof code);
	return out;
}

void api_reprint_request(struct request *req)
{
	static const char *const fields[] = { "card_number", "date_of_birth", "reprint_code",
					      "report_lost", NULL };
	json_t *body = NULL;
	int bad = 0, retry = 0;
	int64_t id = 0;
	if (req_json_object(req, fields, &body) < 0)
		return;
	const char *n = req_json_string(req, body, "card_number", 1, 32, &bad);
	const char *dob = bad ? NULL : req_json_string(req, body, "date_of_birth", 1, 10, &bad);
	const char *c = bad ? NULL : req_json_string(req, body, "reprint_code", 1, 32, &bad);
	json_t *lost = json_object_get(body, "report_lost");
	if (bad)
		goto out;
	if (lost && !json_is_boolean(lost)) {
		resp_field_error(req, "report_lost", "report_lost is true or false");
		goto out;
	}
	switch (reprint_submit(req, n, dob, c, json_is_true(lost), &id, &retry)) {
	case REPRINT_ACCEPTED:
		resp_json(req, 202, json_pack("{s:I, s:s, s:b}", "id", (json_int_t)id, "status", "pending",
					      "report_lost", json_is_true(lost)));
		break;
	case REPRINT_BAD_NUMBER:
		resp_field_error(req, "card_number", "not a card number: a character is wrong or missing");
		break;
	case REPRINT_BAD_DATE:
		resp_field_error(req, "date_of_birth", "date of birth is YYYY-MM-DD");
		break;
	case REPRINT_BAD_CODE:
		resp_field_error(req, "reprint_code", "the reprint code has 12 characters, as on the receipt");
		break;
	case REPRINT_THROTTLED:
		resp_error(req, 429, "too_many_requests", "too many requests; try again later");
		resp_header(req, "Retry-After", "%d", retry);
		break;
	case REPRINT_NOT_VERIFIED:
		resp_error(req, 422, "not_verified",
			   "the card number, date of birth and reprint code do not match");
		break;
	case REPRINT_ERROR:
		resp_error(req, 500, "internal_error", "the request could not be stored");
		break;
	}
out:
	json_decref(body);
}

void api_reprint_list(struct request *req)
{
	const char *status = req_query(req, "status");
	struct db *db = db_thread();
	if (status && strcmp(status, "pending") && strcmp(status, "approved") &&
	    strcmp(status, "rejected")) {
		resp_field_error(req, "status", "status is pending, approved or rejected");
		return;
	}
	json_t *list = db ? reprint_request_list(db, status ? status : "") : NULL;
	if (!list) {
		resp_error(req, 500, "internal_error", "the requests could not be read");
		return;
	}
	resp_json(req, 200, json_pack("{s:o}", "requests", list));
}

static int request_id(struct request *req, int64_t *ret)
{
	char *end;
	long long v = strtoll(req->params[0], &end, 10);
	if (*end || v <= 0) {
		resp_error(req, 404, "not_found", "no such request");
		return -1;
	}
	*ret = v;
	return 0;
}

int reprint_approve(struct request *req, int64_t id, struct card *ret,
		    char ret_code[REPRINT_CODE_CHARS])
{
	struct db *db = db_thread();
	struct reprint_request r;
	int res = db ? reprint_request_get(db, id, &r) : -EIO;
	if (res < 0)
		return res;
	if (db_begin(db) < 0)
		return -EIO;
	/* The decision and the new version commit together. */
	uint32_t revoked[255];
	size_t nrevoked = 0;
	res = reprint_request_decide(db, id, 1, req->session.username);
	if (res == 0)
		res = card_new_version(db, app_keys(req->app), r.card_number, CARD_REPLACE,
				       req->session.username, ret, ret_code, revoked, &nrevoked);
	if (res < 0 || db_commit(db) < 0) {
		db_rollback(db);
		if (res == 0) {
			card_free(ret);
			sodium_memzero(ret_code, REPRINT_CODE_CHARS);
		}
		return res < 0 ? res : -EIO;
	}
	for (size_t i = 0; i < nrevoked; i++)
		status_list_set(req->app->status, revoked[i]);
	return 0;
}

void api_reprint_approve(struct request *req)
{
	int64_t id;
	struct card c;
	char code[REPRINT_CODE_CHARS];
	if (request_id(req, &id) < 0)
		return;
	int res = reprint_approve(req, id, &c, code);
	if (res == -ENOENT)
		resp_error(req, 404, "not_found", "no such request");
	else if (res == -EALREADY)
		resp_error(req, 409, "already_decided", "this request was already decided");
	else if (res < 0)
		resp_error(req, 500, "internal_error", "the new version could not be stored");
	else
		respond_new_card(req, &c, code);
}

void api_reprint_reject(struct request *req)
{
	int64_t id;
	struct db *db = db_thread();
	if (request_id(req, &id) < 0)
		return;
	int res = db ? reprint_request_decide(db, id, 0, req->session.username) : -EIO;
	if (res == -ENOENT)
		resp_error(req, 404, "not_found", "no such request");
	else if (res == -EALREADY)
		resp_error(req, 409, "already_decided", "this request was already decided");
	else if (res < 0)
		resp_error(req, 500, "internal_error", "the request could not be updated");
	else
		resp_json(req, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "rejected"));
}
