/* db.h — the SQLite store: one connection per thread, numbered migrations,
 * and every SQL statement of the service named in one enum.
 *
 * The SQL text itself lives in src/store/sql.c and nowhere else. */
#ifndef CIVICARD_DB_H
#define CIVICARD_DB_H

#include <sqlite3.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct migration db_migrations[];   /* generated from migrations/ */
extern const int db_migration_count;

enum stmt {
	STMT_USER_INSERT,
	STMT_USER_BY_NAME,
	STMT_USER_SET_PASSWORD,
	STMT_ADMIN_COUNT,
	STMT_SESSION_INSERT,
	STMT_SESSION_LOOKUP,
	STMT_SESSION_DELETE,
	STMT_SESSION_DELETE_EXPIRED,
	STMT_SESSION_DELETE_USER_OTHERS,
	STMT_AUDIT_LAST,
	STMT_AUDIT_INSERT,
	STMT_AUDIT_ALL,
	STMT_SIGNING_KEYS,
	STMT_SIGNING_KEY_INSERT,
	STMT_CARD_INSERT,
	STMT_CARD_LATEST,
	STMT_CARD_SEARCH,
	STMT_CARD_NUMBER_USED,
	STMT_STATUS_REVOKED,
	STMT_CARD_REVOKE,
	STMT_SIGNING_KEY_RETIRE,
	STMT_SIGNING_KEYS_FULL,
	STMT_CARD_EARLIER_INDEXES,
	STMT_CARD_REVOKE_EARLIER,
	STMT_CARD_REPRINT_HASH,
	STMT_REPRINT_INSERT,
	STMT_REPRINT_LIST,
	STMT_REPRINT_GET,
	STMT_REPRINT_DECIDE,
	STMT_PURGE_ALL,
	STMT_PURGE_EXPIRED,
	STMT_AUDIT_PAGE,
	STMT_SESSION_DELETE_ALL,
	STMT_USER_LIST,
	STMT_USER_BY_ID,
	STMT_USER_SET_DISABLED,
	STMT_SESSION_DELETE_USER,
	STMT_REPRINT_PENDING_FOR_CARD,
	STMT_REPRINT_MARK_LOST,
	STMT_AUDIT_HASH_AT,
	STMT__COUNT
};
extern const char *const db_sql[STMT__COUNT];

struct db;

/* Open (creating if needed) the database at path and set the connection's
 * pragmas (WAL, busy timeout, foreign keys). 0 or -1 (reason logged). */
int db_open(const char *path, struct db **ret);
void db_close(struct db *db);                  /* accepts NULL */
sqlite3 *db_handle(struct db *db);

/* Apply every pending migration, each in its own transaction with its
 * PRAGMA user_version bump. 0 or -1. */
int db_migrate(struct db *db);
/* The schema version in the file and the one this binary expects. */
int db_schema_version(struct db *db);
int db_latest_version(void);

/* The statement, prepared on first use and then reused; reset and with
 * its bindings cleared. NULL on failure (logged). Owned by the db. */
sqlite3_stmt *db_stmt(struct db *db, enum stmt which);

/* Run a statement that returns no row (INSERT, UPDATE, DELETE) once and
 * reset it for the next use. 0, or -EIO with SQLite's reason logged,
 * `what` naming the step. */
int db_step_done(sqlite3_stmt *st, const char *what);

/* Transactions: BEGIN IMMEDIATE for anything that writes. 0 or -1. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* For functions that may run inside a caller's transaction: join it, or
 * BEGIN IMMEDIATE one. 1 began (this function ends it), 0 joined, -1
 * failed. db_finish commits what db_join began (0 when it joined; -1
 * after a failed commit, rolled back); db_abandon rolls back what it
 * began and leaves a joined transaction to its owner. */
int db_join(struct db *db);
int db_finish(struct db *db, int own);
void db_abandon(struct db *db, int own);

/* Server threads: each gets its own connection to the same file, opened
 * on first use and closed when the thread ends. */
int db_thread_setup(const char *path);        /* once, before threads start */
struct db *db_thread(void);                   /* NULL on failure */

#endif
