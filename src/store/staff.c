/* staff.c — staff accounts and sessions in SQLite. */
#include "staff.h"
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const role_names[] = {
	[ROLE_ADMIN] = "admin", [ROLE_CLERK] = "clerk", [ROLE_AUDITOR] = "auditor",
};

enum role role_parse(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(s, "clerk") == 0)
		return ROLE_CLERK;
	if (strcmp(s, "auditor") == 0)
		return ROLE_AUDITOR;
	return 0;
}

const char *role_name(enum role r)
{
	if (r == ROLE_ADMIN || r == ROLE_CLERK || r == ROLE_AUDITOR)
		return role_names[r];
	return "none";
}

int username_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > USERNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && !(i > 0 && (c == '.' || c == '_' || c == '-')))
			return 0;
	}
	return 1;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

int user_insert(struct db *db, const char *username, enum role role,
		const char *password_hash, int must_change, int64_t *ret_id)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_INSERT);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, must_change ? 1 : 0);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -EEXIST;
	if (rc != SQLITE_DONE) {
		log_error("insert user: %s", sqlite3_errstr(rc));
		return -EIO;
	}
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

/* Reads the row st stands on (SELECT id, username, role, password_hash,
 * must_change_password, disabled) into *ret. */
static void user_of_row(sqlite3_stmt *st, struct user *ret)
{
	struct user u = { 0 };
	u.id = sqlite3_column_int64(st, 0);
	copy_text(u.username, sizeof u.username, sqlite3_column_text(st, 1));
	u.role = role_parse((const char *)sqlite3_column_text(st, 2));
	copy_text(u.password_hash, sizeof u.password_hash, sqlite3_column_text(st, 3));
	u.must_change_password = sqlite3_column_int(st, 4);
	u.disabled = sqlite3_column_int(st, 5);
	*ret = u;
}

/* Steps st (a user query, bound) once: 0 with *ret filled, -ENOENT, -EIO. */
static int user_fetch(sqlite3_stmt *st, struct user *ret)
{
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		user_of_row(st, ret);
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		log_error("find user: %s", sqlite3_errstr(rc));
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

int user_find(struct db *db, const char *username, struct user *ret)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_BY_NAME);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	return user_fetch(st, ret);
}

int user_find_id(struct db *db, int64_t id, struct user *ret)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_BY_ID);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	return user_fetch(st, ret);
}

json_t *user_list(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_LIST);
	if (!st)
		return NULL;
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *role = (const char *)sqlite3_column_text(st, 2);
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:b, s:b, s:I}",
			"id", (json_int_t)sqlite3_column_int64(st, 0),
			"username", name ? name : "",
			"role", role ? role : "",
			"must_change_password", sqlite3_column_int(st, 3) != 0,
			"disabled", sqlite3_column_int(st, 4) != 0,
			"created_at", (json_int_t)sqlite3_column_int64(st, 5)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_error("list users: %s", sqlite3_errstr(rc));
		json_decref(list);
		return NULL;
	}
	return list;
}

int user_set_disabled(struct db *db, int64_t id, int disabled)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_SET_DISABLED);
	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 1, disabled ? 1 : 0);
	sqlite3_bind_int64(st, 2, id);
	if (db_step_done(st, "disable user") < 0)
		return -EIO;
	return sqlite3_changes(db_handle(db)) == 1 ? 0 : -ENOENT;
}

int user_set_password(struct db *db, int64_t id, const char *password_hash, int must_change)
{
	sqlite3_stmt *st = db_stmt(db, STMT_USER_SET_PASSWORD);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, must_change ? 1 : 0);
	sqlite3_bind_int64(st, 3, id);
	return db_step_done(st, "set password");
}

int64_t admin_count(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, STMT_ADMIN_COUNT);
	if (!st)
		return -1;
	int64_t n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

int session_insert(struct db *db, const uint8_t hash[SESSION_HASH_BYTES], int64_t user_id,
		   int web, const char *csrf, int64_t now, int64_t expires_at)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SESSION_INSERT);
	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, hash, SESSION_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, web ? "web" : "api", -1, SQLITE_STATIC);
	if (csrf)
		sqlite3_bind_text(st, 4, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, expires_at);
	return db_step_done(st, "insert session");
}

int session_lookup(struct db *db, const uint8_t hash[SESSION_HASH_BYTES], int64_t now,
		   struct session *ret)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SESSION_LOOKUP);
	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, hash, SESSION_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	int r = 0;
	if (rc == SQLITE_ROW) {
		struct session s = { 0 };
		s.user_id = sqlite3_column_int64(st, 0);
		copy_text(s.username, sizeof s.username, sqlite3_column_text(st, 1));
		s.role = role_parse((const char *)sqlite3_column_text(st, 2));
		s.must_change_password = sqlite3_column_int(st, 3);
		s.web = strcmp((const char *)sqlite3_column_text(st, 4), "web") == 0;
		copy_text(s.csrf, sizeof s.csrf, sqlite3_column_text(st, 5));
		s.expires_at = sqlite3_column_int64(st, 6);
		*ret = s;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		log_error("lookup session: %s", sqlite3_errstr(rc));
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

static int run_hash_stmt(struct db *db, enum stmt which, const uint8_t *hash, int64_t arg)
{
	sqlite3_stmt *st = db_stmt(db, which);
	if (!st)
		return -EIO;
	int i = 1;
	if (which == STMT_SESSION_DELETE_USER_OTHERS)
		sqlite3_bind_int64(st, i++, arg);
	if (hash)
		sqlite3_bind_blob(st, i, hash, SESSION_HASH_BYTES, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, i, arg);
	return db_step_done(st, "delete sessions");
}

int session_delete(struct db *db, const uint8_t hash[SESSION_HASH_BYTES])
{
	return run_hash_stmt(db, STMT_SESSION_DELETE, hash, 0);
}

int session_delete_expired(struct db *db, int64_t now)
{
	return run_hash_stmt(db, STMT_SESSION_DELETE_EXPIRED, NULL, now);
}

int session_delete_others(struct db *db, int64_t user_id, const uint8_t keep[SESSION_HASH_BYTES])
{
	return run_hash_stmt(db, STMT_SESSION_DELETE_USER_OTHERS, keep, user_id);
}

int session_delete_user(struct db *db, int64_t user_id)
{
	return run_hash_stmt(db, STMT_SESSION_DELETE_USER, NULL, user_id);
}
