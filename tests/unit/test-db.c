/* test-db.c — opening, pragmas, migrations, statements, staff rows. */
#include "check.h"
#include "db.h"
#include "staff.h"
#include "tmpdir.h"

#include <errno.h>

static int pragma_int(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

TEST(migrates_once_and_sets_pragmas)
{
	char *dir = test_tmpdir(), path[256];
	snprintf(path, sizeof path, "%s/t.db", dir);
	struct db *db;
	CHECK(db_open(path, &db) == 0);
	CHECK(db_schema_version(db) == 0);
	CHECK(db_migrate(db) == 0);
	CHECK(db_schema_version(db) == db_latest_version());
	CHECK(db_migrate(db) == 0);                 /* idempotent */
	CHECK(pragma_int(db, "PRAGMA foreign_keys") == 1);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db_handle(db), "PRAGMA journal_mode", -1, &st, NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	db_close(db);

	/* A file from a newer version is refused, not damaged. */
	CHECK(db_open(path, &db) == 0);
	sqlite3_exec(db_handle(db), "PRAGMA user_version = 999", NULL, NULL, NULL);
	CHECK(db_migrate(db) == -1);
	CHECK(db_schema_version(db) == 999);
	db_close(db);
	test_rmdir(dir);
}

TEST(every_statement_prepares)
{
	char *dir = test_tmpdir(), path[256];
	snprintf(path, sizeof path, "%s/t.db", dir);
	struct db *db;
	CHECK(db_open(path, &db) == 0 && db_migrate(db) == 0);
	for (int i = 0; i < STMT__COUNT; i++) {
		CHECK(db_sql[i] != NULL);
		CHECK(db_stmt(db, (enum stmt)i) != NULL);
	}
	db_close(db);
	test_rmdir(dir);
}

TEST(users_and_sessions)
{
	char *dir = test_tmpdir(), path[256];
	snprintf(path, sizeof path, "%s/t.db", dir);
	struct db *db;
	CHECK(db_open(path, &db) == 0 && db_migrate(db) == 0);
	int64_t id;
	CHECK(admin_count(db) == 0);
	CHECK(user_insert(db, "ana", ROLE_CLERK, "$argon2id$fake", 0, &id) == 0);
	CHECK(user_insert(db, "ana", ROLE_ADMIN, "$argon2id$fake", 0, NULL) == -EEXIST);
	CHECK(admin_count(db) == 0);
	struct user u;
	CHECK(user_find(db, "ana", &u) == 0);
	CHECK(u.id == id && u.role == ROLE_CLERK && !u.must_change_password);
	CHECK(user_find(db, "bob", &u) == -ENOENT);

	uint8_t h1[SESSION_HASH_BYTES] = { 1 }, h2[SESSION_HASH_BYTES] = { 2 };
	struct session s;
	CHECK(session_insert(db, h1, id, 1, "csrf-token", 100, 200) == 0);
	CHECK(session_insert(db, h2, id, 0, NULL, 100, 300) == 0);
	CHECK(session_lookup(db, h1, 150, &s) == 0);
	CHECK(s.web && s.user_id == id && s.role == ROLE_CLERK);
	CHECK_STR(s.csrf, "csrf-token");
	CHECK(session_lookup(db, h1, 200, &s) == -ENOENT);     /* expired */
	CHECK(session_delete_others(db, id, h1) == 0);
	CHECK(session_lookup(db, h2, 150, &s) == -ENOENT);
	CHECK(session_lookup(db, h1, 150, &s) == 0);
	CHECK(session_delete(db, h1) == 0);
	CHECK(session_lookup(db, h1, 150, &s) == -ENOENT);
	db_close(db);
	test_rmdir(dir);
}

TEST(username_rules)
{
	CHECK(username_valid("ana"));
	CHECK(username_valid("clerk.2-b_c"));
	CHECK(!username_valid(""));
	CHECK(!username_valid(".ana"));
	CHECK(!username_valid("Ana"));
	CHECK(!username_valid("ana smith"));
	CHECK(!username_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	CHECK(role_parse("auditor") == ROLE_AUDITOR);
	CHECK(role_parse("root") == 0);
}

int main(void)
{
	RUN(migrates_once_and_sets_pragmas);
	RUN(every_statement_prepares);
	RUN(users_and_sessions);
	RUN(username_rules);
	return CHECK_DONE();
}
