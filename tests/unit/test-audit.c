/* test-audit.c — the hash chain: append, verify, detect tampering. */
#include "audit.h"
#include "check.h"
#include "tmpdir.h"

#include <sodium.h>

static struct db *fresh(char *path, size_t cap, const char *dir)
{
	snprintf(path, cap, "%s/t.db", dir);
	struct db *db = NULL;
	if (db_open(path, &db) < 0 || db_migrate(db) < 0)
		return NULL;
	return db;
}

TEST(chain_verifies_and_detects_edits)
{
	char *dir = test_tmpdir(), path[256];
	struct db *db = fresh(path, sizeof path, dir);
	CHECK(db != NULL);
	int64_t n = -1, bad = 0;
	char why[128];
	CHECK(audit_verify(db, &n, &bad, why, sizeof why) == 0 && n == 0);
	for (int i = 0; i < 10; i++)
		CHECK(audit_append(db, "ana", "login", "", "api") == 0);
	CHECK(audit_append(db, "admin", "user.create", "bob", "clerk") == 0);
	CHECK(audit_verify(db, &n, &bad, why, sizeof why) == 0);
	CHECK(n == 11);

	/* The table refuses edits through SQL... */
	sqlite3 *h = db_handle(db);
	CHECK(sqlite3_exec(h, "UPDATE audit_log SET actor = 'eve' WHERE id = 5", NULL, NULL, NULL) != SQLITE_OK);
	CHECK(sqlite3_exec(h, "DELETE FROM audit_log WHERE id = 5", NULL, NULL, NULL) != SQLITE_OK);
	/* ...and someone who drops the guard is caught by the chain. */
	CHECK(sqlite3_exec(h, "DROP TRIGGER audit_log_no_update;"
			      "UPDATE audit_log SET actor = 'eve' WHERE id = 5", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(audit_verify(db, &n, &bad, why, sizeof why) == 1);
	CHECK(bad == 5);
	db_close(db);
	test_rmdir(dir);
}

TEST(deleted_entry_is_found)
{
	char *dir = test_tmpdir(), path[256];
	struct db *db = fresh(path, sizeof path, dir);
	for (int i = 0; i < 5; i++)
		audit_append(db, "ana", "login", "", "");
	sqlite3_exec(db_handle(db), "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 3",
		     NULL, NULL, NULL);
	int64_t n, bad = 0;
	char why[128];
	CHECK(audit_verify(db, &n, &bad, why, sizeof why) == 1);
	CHECK(bad == 4);
	db_close(db);
	test_rmdir(dir);
}

TEST(hash_separates_fields)
{
	uint8_t prev[AUDIT_HASH_BYTES] = { 0 }, a[AUDIT_HASH_BYTES], b[AUDIT_HASH_BYTES];
	audit_hash(prev, 1, 1, "ab", "c", "", "", a);
	audit_hash(prev, 1, 1, "a", "bc", "", "", b);
	CHECK(memcmp(a, b, sizeof a) != 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(chain_verifies_and_detects_edits);
	RUN(deleted_entry_is_found);
	RUN(hash_separates_fields);
	return CHECK_DONE();
}
