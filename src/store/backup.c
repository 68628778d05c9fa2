/* backup.c — encrypted online backups and their restoration. */
#include "backup.h"
#include "keys.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "CIVICARD-BACKUP-1\n"
#define CHUNK 65536

/* The database as one byte string: backup API into a memory database,
 * then sqlite3_serialize. *ret from sqlite3_malloc (sqlite3_free). */
static int snapshot(struct db *db, unsigned char **ret, sqlite3_int64 *ret_len)
{
	sqlite3 *mem = NULL;
	int r = -1;
	if (sqlite3_open(":memory:", &mem) != SQLITE_OK)
		goto out;
	sqlite3_backup *b = sqlite3_backup_init(mem, "main", db_handle(db), "main");
	if (!b)
		goto out;
	int rc = sqlite3_backup_step(b, -1);   /* all pages, one read transaction */
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		goto out;
	*ret = sqlite3_serialize(mem, "main", ret_len, 0);
	r = *ret ? 0 : -1;
out:
	sqlite3_close(mem);
	return r;
}

int backup_write(struct db *db, const char *data_dir, const char *path, char *err, size_t errlen)
{
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	uint8_t out[CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *data = NULL;
	sqlite3_int64 len = 0;
	char tmp[PATH_MAX];
	int fd = -1, r = -1;

	if (keystore_backup_key(data_dir, key, err, errlen) < 0)
		return -1;
	if (snapshot(db, &data, &len) < 0) {
		snprintf(err, errlen, "cannot read the database for a backup");
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid()) >= sizeof tmp) {
		snprintf(err, errlen, "the backup path is too long");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	if (write(fd, MAGIC, sizeof MAGIC - 1) != (ssize_t)(sizeof MAGIC - 1) ||
	    write(fd, header, sizeof header) != (ssize_t)sizeof header)
		goto io;
	for (sqlite3_int64 off = 0;; off += CHUNK) {
		size_t n = len - off > CHUNK ? CHUNK : (size_t)(len - off);
		int last = off + (sqlite3_int64)n >= len;
		unsigned long long olen;
		crypto_secretstream_xchacha20poly1305_push(&st, out, &olen, data + off, n, NULL, 0,
			last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		if (write(fd, out, olen) != (ssize_t)olen)
			goto io;
		if (last)
			break;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto io;
	r = 0;
	goto out;
io:
	snprintf(err, errlen, "cannot write the backup: %s", strerror(errno));
	unlink(tmp);
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (data) {
		sodium_memzero(data, (size_t)len);
		sqlite3_free(data);
	}
	sodium_memzero(key, sizeof key);
	return r;
}

/* Decrypt a backup file into memory. *ret from sqlite3_malloc64. */
static int open_backup(const char *data_dir, const char *path, unsigned char **ret, size_t *ret_len,
		       char *err, size_t errlen)
{
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	uint8_t in[CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	char magic[sizeof MAGIC - 1];
	unsigned char *data = NULL;
	size_t len = 0, cap = 0;
	int r = -1, final = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (keystore_backup_key(data_dir, key, err, errlen) < 0)
		goto out;
	if (fread(magic, 1, sizeof magic, f) != sizeof magic || memcmp(magic, MAGIC, sizeof magic) ||
	    fread(header, 1, sizeof header, f) != sizeof header) {
		snprintf(err, errlen, "%s is not a civicard backup", path);
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, header, key) != 0)
		goto wrong;
	size_t n;
	while (!final && (n = fread(in, 1, sizeof in, f)) > 0) {
		if (cap - len < n) {
			cap = (len + n) * 2;
			unsigned char *p = sqlite3_realloc64(data, cap);
			if (!p) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			data = p;
		}
		unsigned long long mlen;
		unsigned char tag;
		if (crypto_secretstream_xchacha20poly1305_pull(&st, data + len, &mlen, &tag, in, n, NULL, 0) != 0)
			goto wrong;
		len += mlen;
		final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	}
	if (!final || fgetc(f) != EOF)
		goto wrong;
	*ret = data;
	*ret_len = len;
	data = NULL;
	r = 0;
	goto out;
wrong:
	snprintf(err, errlen, "%s cannot be opened with this data folder's key "
			      "(made under another data key, or damaged)", path);
out:
	if (data) {
		sodium_memzero(data, len);
		sqlite3_free(data);
	}
	sodium_memzero(key, sizeof key);
	fclose(f);
	return r;
}

int backup_restore(const char *data_dir, const char *db_path, const char *path, char *err,
		   size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0;
	sqlite3 *mem = NULL;
	struct db *live = NULL;
	int r = -1;
	if (open_backup(data_dir, path, &data, &len, err, errlen) < 0)
		return -1;
	/* A WAL-mode header (file format bytes 18-19 = 2) cannot be opened
	 * in memory: mark it as a rollback-journal database. */
	if (len > 100) {
		data[18] = 1;
		data[19] = 1;
	}
	if (sqlite3_open(":memory:", &mem) != SQLITE_OK ||
	    sqlite3_deserialize(mem, "main", data, (sqlite3_int64)len, (sqlite3_int64)len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) != SQLITE_OK) {
		data = NULL;    /* owned by SQLite now, even on failure */
		snprintf(err, errlen, "the backup does not hold a database");
		goto out;
	}
	data = NULL;
	sqlite3_stmt *st;
	const unsigned char *ic = NULL;
	int ok = sqlite3_prepare_v2(mem, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
		 sqlite3_step(st) == SQLITE_ROW && (ic = sqlite3_column_text(st, 0)) &&
		 strcmp((const char *)ic, "ok") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		snprintf(err, errlen, "the database in the backup is damaged");
		goto out;
	}
	/* Sessions in the backup may have ended since (log-out, password
	 * change): none comes back. Done in the copy, so that the restored
	 * database never holds them, even if this process dies next. */
	if (sqlite3_exec(mem, db_sql[STMT_SESSION_DELETE_ALL], NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "the database in the backup is damaged (sessions)");
		goto out;
	}
	if (db_open(db_path, &live) < 0) {
		snprintf(err, errlen, "cannot open %s", db_path);
		goto out;
	}
	/* Copy page by page into the live file (WAL-aware), then checkpoint. */
	sqlite3_backup *b = sqlite3_backup_init(db_handle(live), "main", mem, "main");
	int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
	if (b)
		sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot write %s: %s", db_path, sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_exec(db_handle(live), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	r = 0;
out:
	if (data)
		sqlite3_free(data);
	sqlite3_close(mem);
	db_close(live);
	return r;
}
