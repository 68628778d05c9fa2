/* audit.c — append to and verify the hash-chained audit log. */
#include "audit.h"
#include "log.h"

#include <jansson.h>

#include <sodium.h>
#include <string.h>
#include <time.h>

static void put64(crypto_generichash_state *h, int64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * i));
	crypto_generichash_update(h, b, sizeof b);
}

/* Length-prefixed, so ("ab","c") and ("a","bc") hash differently. */
static void put_str(crypto_generichash_state *h, const char *s)
{
	size_t n = strlen(s);
	put64(h, (int64_t)n);
	crypto_generichash_update(h, (const uint8_t *)s, n);
}

void audit_hash(const uint8_t prev[AUDIT_HASH_BYTES], int64_t id, int64_t at,
		const char *actor, const char *action, const char *subject,
		const char *detail, uint8_t out[AUDIT_HASH_BYTES])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, (const uint8_t *)"civicard-audit-v1", 17);
	crypto_generichash_update(&h, prev, AUDIT_HASH_BYTES);
	put64(&h, id);
	put64(&h, at);
	put_str(&h, actor);
	put_str(&h, action);
	put_str(&h, subject);
	put_str(&h, detail);
	crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

int audit_append(struct db *db, const char *actor, const char *action,
		 const char *subject, const char *detail)
{
	int own = db_join(db);
	if (own < 0)
		return -1;

	uint8_t prev[AUDIT_HASH_BYTES] = { 0 }, hash[AUDIT_HASH_BYTES];
	int64_t id = 1;
	int64_t at = (int64_t)time(NULL);
	sqlite3_stmt *st = db_stmt(db, STMT_AUDIT_LAST);
	if (!st)
		goto fail;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0) + 1;
		if (sqlite3_column_bytes(st, 1) != AUDIT_HASH_BYTES) {
			sqlite3_reset(st);
			log_error("audit log: last entry has a malformed hash");
			goto fail;
		}
		memcpy(prev, sqlite3_column_blob(st, 1), AUDIT_HASH_BYTES);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);

	subject = subject ? subject : "";
	detail = detail ? detail : "";
	audit_hash(prev, id, at, actor, action, subject, detail, hash);

	st = db_stmt(db, STMT_AUDIT_INSERT);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, prev, sizeof prev, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, hash, sizeof hash, SQLITE_STATIC);
	if (db_step_done(st, "audit log insert") < 0)
		goto fail;
	if (db_finish(db, own) < 0)
		return -1;
	return 0;
fail:
	db_abandon(db, own);
	return -1;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

int audit_verify(struct db *db, int64_t *ret_entries, int64_t *ret_bad_id,
		 char *why, size_t whylen)
{
	uint8_t prev[AUDIT_HASH_BYTES] = { 0 }, expect[AUDIT_HASH_BYTES];
	int64_t n = 0, last_id = 0;
	int result = 0, rc;
	sqlite3_stmt *st = db_stmt(db, STMT_AUDIT_ALL);
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *problem = NULL;
		if (id != last_id + 1)
			problem = "an entry is missing before it";
		else if (sqlite3_column_bytes(st, 6) != AUDIT_HASH_BYTES ||
			 sqlite3_column_bytes(st, 7) != AUDIT_HASH_BYTES)
			problem = "its hash fields are malformed";
		else if (memcmp(sqlite3_column_blob(st, 6), prev, AUDIT_HASH_BYTES) != 0)
			problem = "it does not point at the entry before it";
		if (!problem) {
			audit_hash(prev, id, sqlite3_column_int64(st, 1), col_text(st, 2),
				   col_text(st, 3), col_text(st, 4), col_text(st, 5), expect);
			if (memcmp(sqlite3_column_blob(st, 7), expect, AUDIT_HASH_BYTES) != 0)
				problem = "its content does not match its hash (altered)";
		}
		if (problem) {
			*ret_bad_id = id;
			snprintf(why, whylen, "%s", problem);
			result = 1;
			break;
		}
		memcpy(prev, expect, AUDIT_HASH_BYTES);
		last_id = id;
		n++;
	}
	if (result == 0 && rc != SQLITE_DONE)
		result = -1;
	sqlite3_reset(st);
	*ret_entries = n;
	return result;
}

int audit_head(struct db *db, int64_t *ret_id, uint8_t ret_hash[AUDIT_HASH_BYTES])
{
	sqlite3_stmt *st = db_stmt(db, STMT_AUDIT_LAST);
	if (!st)
		return -1;
	int rc = sqlite3_step(st), r = 0;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == AUDIT_HASH_BYTES) {
		*ret_id = sqlite3_column_int64(st, 0);
		memcpy(ret_hash, sqlite3_column_blob(st, 1), AUDIT_HASH_BYTES);
	} else if (rc == SQLITE_DONE) {
		*ret_id = 0;
		memset(ret_hash, 0, AUDIT_HASH_BYTES);
	} else {
		r = -1;
	}
	sqlite3_reset(st);
	return r;
}

int audit_anchor_check(struct db *db, int64_t id, const uint8_t hash[AUDIT_HASH_BYTES])
{
	sqlite3_stmt *st = db_stmt(db, STMT_AUDIT_HASH_AT);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st), r;
	if (rc == SQLITE_ROW)
		r = sqlite3_column_bytes(st, 0) == AUDIT_HASH_BYTES &&
		    sodium_memcmp(sqlite3_column_blob(st, 0), hash, AUDIT_HASH_BYTES) == 0 ? 0 : 1;
	else
		r = rc == SQLITE_DONE ? 1 : -1;
	sqlite3_reset(st);
	return r;
}

json_t *audit_page(struct db *db, int64_t before, int limit)
{
	sqlite3_stmt *st = db_stmt(db, STMT_AUDIT_PAGE);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 2, limit);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char at[21];
		iso8601(sqlite3_column_int64(st, 1), at);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}",
			"id", (json_int_t)sqlite3_column_int64(st, 0), "at", at,
			"actor", col_text(st, 2), "action", col_text(st, 3),
			"subject", col_text(st, 4), "detail", col_text(st, 5)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
