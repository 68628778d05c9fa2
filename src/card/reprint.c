/* reprint.c — residents' reprint requests, checked and stored. */
#include "reprint.h"
#include "audit.h"
#include "card.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int reprint_code_parse(const char *in, char out[13])
{
	return cardnum_read(in, out, 12);
}

int reprint_check(struct db *db, const struct keystore *ks, const char *number, const char *dob,
		  const char *code)
{
	uint8_t want[32], have[32];
	int has_hash = 0;
	lookup_hash(ks, "cards.reprint", (const uint8_t *)code, strlen(code), want);
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_REPRINT_HASH);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
		memcpy(have, sqlite3_column_blob(st, 0), 32);
		has_hash = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (!has_hash)
		return 0;
	int code_ok = sodium_memcmp(want, have, 32) == 0;

	/* The date of birth is sealed: open the card to compare it. */
	struct card c;
	int r = card_load(db, ks, number, &c);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return -1;
	int dob_ok = strcmp(c.date_of_birth, dob) == 0;
	card_free(&c);
	return code_ok && dob_ok;
}

/* The card's request still waiting for a clerk, if any: 1 (id and
 * report_lost set), 0 none, -1 error. */
static int pending_for_card(struct db *db, const char *number, int64_t *id, int *report_lost)
{
	sqlite3_stmt *st = db_stmt(db, STMT_REPRINT_PENDING_FOR_CARD);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*report_lost = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A resident who asks twice (a double click, or asking again the next
 * day) gets the request already waiting, so a clerk approves one reprint,
 * not two; a lost report added later marks it. */
int reprint_request_add(struct db *db, const char *number, int report_lost, int64_t *ret_id)
{
	int own = db_join(db);
	if (own < 0)
		return -1;
	int64_t id = 0;
	int was_lost = 0, again = pending_for_card(db, number, &id, &was_lost);
	sqlite3_stmt *st;
	if (again < 0)
		goto fail;
	if (again && report_lost && !was_lost) {
		st = db_stmt(db, STMT_REPRINT_MARK_LOST);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		if (db_step_done(st, "reprint request: mark lost") < 0)
			goto fail;
	} else if (!again) {
		st = db_stmt(db, STMT_REPRINT_INSERT);
		if (!st)
			goto fail;
		sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, report_lost ? 1 : 0);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
		if (db_step_done(st, "reprint request: insert") < 0)
			goto fail;
		id = sqlite3_last_insert_rowid(db_handle(db));
	}
	*ret_id = id;
	char detail[64];
	snprintf(detail, sizeof detail, "request %lld%s%s", (long long)id,
		 again ? " asked again" : "", report_lost ? ", reported lost" : "");
	if (audit_append(db, "resident", "reprint.request", number, detail) < 0)
		goto fail;
	if (db_finish(db, own) < 0)
		return -1;
	return 0;
fail:
	db_abandon(db, own);
	return -1;
}

static void from_row(sqlite3_stmt *st, struct reprint_request *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->card_number, sizeof r->card_number, "%s", (const char *)sqlite3_column_text(st, 1));
	r->report_lost = sqlite3_column_int(st, 2);
	snprintf(r->status, sizeof r->status, "%s", (const char *)sqlite3_column_text(st, 3));
	r->created_at = sqlite3_column_int64(st, 4);
}

json_t *reprint_request_json(const struct reprint_request *r)
{
	char at[21];
	iso8601(r->created_at, at);
	return json_pack("{s:I, s:s, s:b, s:s, s:s}", "id", (json_int_t)r->id, "card_number",
			 r->card_number, "report_lost", r->report_lost, "status", r->status,
			 "created_at", at);
}

json_t *reprint_request_list(struct db *db, const char *status)
{
	sqlite3_stmt *st = db_stmt(db, STMT_REPRINT_LIST);
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reprint_request r;
		from_row(st, &r);
		json_array_append_new(arr, reprint_request_json(&r));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int reprint_request_get(struct db *db, int64_t id, struct reprint_request *ret)
{
	sqlite3_stmt *st = db_stmt(db, STMT_REPRINT_GET);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r = 0;
	if (rc == SQLITE_ROW)
		from_row(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_reset(st);
	return r;
}

int reprint_request_decide(struct db *db, int64_t id, int approve, const char *actor)
{
	int own = db_join(db);
	if (own < 0)
		return -EIO;
	struct reprint_request r;
	int res = reprint_request_get(db, id, &r);
	if (res < 0)
		goto fail;
	if (strcmp(r.status, "pending") != 0) {
		res = -EALREADY;
		goto fail;
	}
	res = -EIO;
	sqlite3_stmt *st = db_stmt(db, STMT_REPRINT_DECIDE);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, approve ? "approved" : "rejected", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, id);
	char detail[32];
	snprintf(detail, sizeof detail, "request %lld", (long long)id);
	if (db_step_done(st, "decide reprint request") < 0 ||
	    audit_append(db, actor, approve ? "reprint.approve" : "reprint.reject", r.card_number,
			 detail) < 0)
		goto fail;
	if (db_finish(db, own) < 0)
		return -EIO;
	return 0;
fail:
	db_abandon(db, own);
	return res;
}
