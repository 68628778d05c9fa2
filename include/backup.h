/* backup.h — encrypted, consistent copies of the database.
 *
 * A backup is the database as of one moment (SQLite's online backup API,
 * taken while the server runs), serialised in memory and encrypted with
 * crypto_secretstream (XChaCha20-Poly1305) under a key derived from the
 * data key. Without keys/data.key a backup opens neither as a file nor
 * row by row; after `purge --everything` no backup made before can be
 * opened at all. File: "CIVICARD-BACKUP-1\n", the stream header, then
 * chunks of up to 64 KiB, the last one tagged FINAL. Keys are not in the
 * backup: keep keys/ safe separately. */
#ifndef CIVICARD_BACKUP_H
#define CIVICARD_BACKUP_H

#include <stddef.h>

#include "db.h"

/* Write a backup of db to path (mode 0600, written to a temporary file
 * and renamed). 0, or -1 with a reason in err. */
int backup_write(struct db *db, const char *data_dir, const char *path, char *err, size_t errlen);

/* Replace the database of data_dir with the backup at path. The server
 * must not be running. 0, or -1 with a reason in err. */
int backup_restore(const char *data_dir, const char *db_path, const char *path, char *err,
		   size_t errlen);

#endif
