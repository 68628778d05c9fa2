/* db.c — SQLite connections, pragmas, migrations, statement cache. */
#include "db.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct db {
	sqlite3 *conn;
	sqlite3_stmt *stmts[STMT__COUNT];
};

sqlite3 *db_handle(struct db *db)
{
	return db->conn;
}

static int exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s", msg ? msg : sqlite3_errmsg(db->conn));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_open(const char *path, struct db **ret)
{
	struct db *db = calloc(1, sizeof *db);
	if (!db)
		return -1;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
		log_error("cannot open database: %s", db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->conn, 1);
	/* Busy waits first: the journal_mode change itself may need the lock. */
	sqlite3_busy_timeout(db->conn, 5000);
	if (exec(db, "PRAGMA journal_mode = WAL;"
		     "PRAGMA synchronous = FULL;"
		     "PRAGMA foreign_keys = ON;"
		     "PRAGMA secure_delete = ON;"
		     "PRAGMA trusted_schema = OFF;"
		     /* Statement journals and sort files in memory: the server
		      * may not write outside its data folder (sandbox.c), and
		      * a purge of many cards outgrows the 64 KiB in-memory
		      * spill limit. */
		     "PRAGMA temp_store = MEMORY;") < 0)
		goto fail;
	*ret = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->conn);
	free(db);
}

int db_latest_version(void)
{
	return db_migration_count;
}

int db_schema_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db_migrate(struct db *db)
{
	for (int i = 0; i < db_migration_count; i++) {
		const struct migration *m = &db_migrations[i];
		if (db_begin(db) < 0)
			return -1;
		/* Read the version inside the write transaction: two processes
		 * starting at once cannot both apply the same migration. */
		int current = db_schema_version(db);
		if (current < 0)
			goto fail;
		if (current > db_migration_count) {
			log_error("database schema %d is newer than this binary (%d)",
				  current, db_migration_count);
			goto fail;
		}
		if (current >= m->version) {
			db_rollback(db);
			continue;
		}
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
		if (exec(db, m->sql) < 0 || exec(db, bump) < 0)
			goto fail;
		if (db_commit(db) < 0)
			return -1;
		log_info("applied migration %s", m->name);
		continue;
fail:
		db_rollback(db);
		log_error("migration %s failed", m->name);
		return -1;
	}
	return 0;
}

sqlite3_stmt *db_stmt(struct db *db, enum stmt which)
{
	sqlite3_stmt *st = db->stmts[which];
	if (!st) {
		if (sqlite3_prepare_v3(db->conn, db_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
				       &st, NULL) != SQLITE_OK) {
			log_error("prepare %d: %s", (int)which, sqlite3_errmsg(db->conn));
			return NULL;
		}
		db->stmts[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int db_step_done(sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	log_error("%s: %s", what, sqlite3_errstr(rc));
	return -EIO;
}

int db_begin(struct db *db)
{
	return exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
	if (exec(db, "COMMIT") < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

int db_join(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		return 0;
	return db_begin(db) < 0 ? -1 : 1;
}

int db_finish(struct db *db, int own)
{
	return own ? db_commit(db) : 0;
}

void db_abandon(struct db *db, int own)
{
	if (own)
		db_rollback(db);
}

/* ---- one connection per thread ---- */

static pthread_key_t thread_key;
static char *thread_path;

static void thread_db_free(void *p)
{
	db_close(p);
}

int db_thread_setup(const char *path)
{
	thread_path = strdup(path);
	if (!thread_path)
		return -1;
	if (pthread_key_create(&thread_key, thread_db_free) != 0)
		return -1;
	return 0;
}

struct db *db_thread(void)
{
	struct db *db = pthread_getspecific(thread_key);
	if (db)
		return db;
	if (db_open(thread_path, &db) < 0)
		return NULL;
	if (pthread_setspecific(thread_key, db) != 0) {
		db_close(db);
		return NULL;
	}
	return db;
}
