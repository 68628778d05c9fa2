/* keys.c — key files, sealing with XChaCha20-Poly1305, lookup hashes. */
#include "keys.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KDF_CONTEXT "civicard"   /* 8 bytes */

/* dir + "/" + name into out; -1 when it does not fit. */
static int join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
	return n > 0 && n < PATH_MAX ? 0 : -1;
}
enum { SUBKEY_SEAL = 1, SUBKEY_LOOKUP = 2, SUBKEY_BACKUP = 3 };

/* Read exactly len bytes from a key file that only its owner may read.
 * 0, -ENOENT, or -1 with err set. */
static int read_key(const char *path, uint8_t *out, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int r = -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
	} else if (st.st_mode & 077) {
		snprintf(err, errlen, "%s can be read by other users (mode %03o): run chmod 600 on it",
			 path, (unsigned)(st.st_mode & 0777));
	} else if ((size_t)st.st_size != len || read(fd, out, len) != (ssize_t)len) {
		snprintf(err, errlen, "%s is not a key of %zu bytes", path, len);
	} else {
		r = 0;
	}
	close(fd);
	return r;
}

/* Write a new key file atomically: temp file, fsync, rename, fsync dir. */
static int write_key(const char *dir, const char *name, const uint8_t *key, size_t len,
		     char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX], tmpname[64];
	snprintf(tmpname, sizeof tmpname, ".%s.tmp", name);
	if (join(tmp, dir, tmpname) < 0 || join(path, dir, name) < 0) {
		snprintf(err, errlen, "the key folder path is too long");
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, key, len) != (ssize_t)len || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* link() refuses to replace an existing key: two starters cannot
	 * overwrite each other's key. */
	if (link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		if (e == EEXIST)
			return -EEXIST;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
		return -1;
	}
	unlink(tmp);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int load_signing(struct keystore *ks, struct db *db, const char *dir, char *err, size_t errlen)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SIGNING_KEYS);
	if (!st) {
		snprintf(err, errlen, "cannot read the signing key table");
		return -1;
	}
	int rc, r = 0;
	ks->nsigning = 0;
	ks->current_kid = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && ks->nsigning < KEY_MAX_SIGNING) {
		struct signing_key *k = &ks->signing[ks->nsigning];
		int kid = sqlite3_column_int(st, 0);
		if (kid < 1 || kid > 255 || sqlite3_column_bytes(st, 1) != crypto_sign_PUBLICKEYBYTES) {
			snprintf(err, errlen, "signing key table holds a malformed key");
			r = -1;
			break;
		}
		k->kid = (uint8_t)kid;
		memcpy(k->pk, sqlite3_column_blob(st, 1), crypto_sign_PUBLICKEYBYTES);
		char path[PATH_MAX], name[32];
		snprintf(name, sizeof name, "signing-%03d.key", kid);
		if (join(path, dir, name) < 0) {
			snprintf(err, errlen, "the key folder path is too long");
			r = -1;
			break;
		}
		int rr = read_key(path, k->sk, sizeof k->sk, err, errlen);
		if (rr == -1) {
			r = -1;
			break;
		}
		k->have_secret = rr == 0;
		if (k->have_secret &&
		    memcmp(k->sk + crypto_sign_SEEDBYTES, k->pk, crypto_sign_PUBLICKEYBYTES) != 0) {
			snprintf(err, errlen, "%s does not match public key %d", path, kid);
			r = -1;
			break;
		}
		if (k->have_secret && sqlite3_column_type(st, 2) == SQLITE_NULL)
			ks->current_kid = k->kid;   /* the newest active key signs */
		ks->nsigning++;
	}
	sqlite3_reset(st);
	return r;
}

static int new_signing_key(struct keystore *ks, struct db *db, const char *dir, uint8_t kid,
			   char *err, size_t errlen)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char name[32];
	crypto_sign_keypair(pk, sk);
	snprintf(name, sizeof name, "signing-%03d.key", kid);
	int r = write_key(dir, name, sk, sizeof sk, err, errlen);
	if (r == -EEXIST) {
		/* Callers hold the write lock and no row names this kid: most
		 * likely a process was killed between writing the file and
		 * committing its row. But a restore from an older backup also
		 * leaves such a file, one that did sign cards: put it aside,
		 * never delete it. */
		char path[PATH_MAX], aside[PATH_MAX + 32];
		if (join(path, dir, name) == 0 &&
		    (size_t)snprintf(aside, sizeof aside, "%s.orphan-%lld", path,
				     (long long)time(NULL)) < sizeof aside &&
		    rename(path, aside) == 0) {
			log_warn("signing key file %s had no record; kept as %s", name, aside);
			r = write_key(dir, name, sk, sizeof sk, err, errlen);
		}
		if (r == -EEXIST)
			snprintf(err, errlen, "%s/%s is in the way of a new key", dir, name);
	}
	sodium_memzero(sk, sizeof sk);
	if (r < 0)
		return r;
	sqlite3_stmt *st = db_stmt(db, STMT_SIGNING_KEY_INSERT);
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, kid);
	sqlite3_bind_blob(st, 2, pk, sizeof pk, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (db_step_done(st, "record signing key") < 0) {
		snprintf(err, errlen, "cannot record signing key %d", kid);
		return -1;
	}
	(void)ks;
	return 0;
}

int keystore_open(const char *data_dir, struct db *db, int create, struct keystore **ret,
		  char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	uint8_t master[crypto_kdf_KEYBYTES];
	struct keystore *ks = sodium_malloc(sizeof *ks);
	if (!ks) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(ks, 0, sizeof *ks);
	if (join(dir, data_dir, "keys") < 0 || join(path, dir, "data.key") < 0) {
		snprintf(err, errlen, "the data folder path is too long");
		goto fail;
	}
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no key folder %s", dir);
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s can be opened by other users: run chmod 700 on it", dir);
		goto fail;
	}

	int r = read_key(path, master, sizeof master, err, errlen);
	if (r == -ENOENT && create) {
		crypto_kdf_keygen(master);
		r = write_key(dir, "data.key", master, sizeof master, err, errlen);
		if (r == -EEXIST)   /* someone else made it first: use theirs */
			r = read_key(path, master, sizeof master, err, errlen);
	}
	if (r == -ENOENT) {
		snprintf(err, errlen, "%s is missing: personal data cannot be read", path);
		goto fail;
	}
	if (r < 0)
		goto fail;
	crypto_kdf_derive_from_key(ks->seal_key, sizeof ks->seal_key, SUBKEY_SEAL, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(ks->lookup_key, sizeof ks->lookup_key, SUBKEY_LOOKUP, KDF_CONTEXT,
				   master);
	sodium_memzero(master, sizeof master);

	if (load_signing(ks, db, dir, err, errlen) < 0)
		goto fail;
	if (ks->current_kid == 0 && create) {
		/* Under the write lock, looking again: another starter may
		 * have made the key meanwhile. */
		if (db_begin(db) < 0 || load_signing(ks, db, dir, err, errlen) < 0) {
			db_rollback(db);
			goto fail;
		}
		uint8_t kid = 1;
		for (size_t i = 0; i < ks->nsigning; i++)
			if (ks->signing[i].kid >= kid)
				kid = (uint8_t)(ks->signing[i].kid + 1);
		if (ks->current_kid == 0 && kid == 0) {
			snprintf(err, errlen, "all 255 signing key ids are used");
			db_rollback(db);
			goto fail;
		}
		if ((ks->current_kid == 0 && new_signing_key(ks, db, dir, kid, err, errlen) < 0) ||
		    db_commit(db) < 0) {
			db_rollback(db);
			goto fail;
		}
		if (load_signing(ks, db, dir, err, errlen) < 0)
			goto fail;
	}
	if (ks->current_kid == 0) {
		snprintf(err, errlen, "no signing key in %s", dir);
		goto fail;
	}
	*ret = ks;
	return 0;
fail:
	sodium_memzero(master, sizeof master);
	sodium_free(ks);
	return -1;
}

void keystore_free(struct keystore *ks)
{
	if (ks)
		sodium_free(ks);   /* zeroes before freeing */
}

const struct signing_key *keystore_signing(const struct keystore *ks, uint8_t kid)
{
	for (size_t i = 0; i < ks->nsigning; i++)
		if (ks->signing[i].kid == kid)
			return &ks->signing[i];
	return NULL;
}

int seal(const struct keystore *ks, const char *ad, const uint8_t *in, size_t len, uint8_t **ret,
	 size_t *ret_len)
{
	size_t n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	uint8_t *out = malloc(len + SEAL_OVERHEAD);
	if (!out)
		return -1;
	randombytes_buf(out, n);
	unsigned long long clen;
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + n, &clen, in, len, (const uint8_t *)ad,
						   strlen(ad), NULL, out, ks->seal_key);
	*ret = out;
	*ret_len = n + (size_t)clen;
	return 0;
}

int unseal(const struct keystore *ks, const char *ad, const uint8_t *in, size_t len, uint8_t **ret,
	   size_t *ret_len)
{
	size_t n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	if (len < SEAL_OVERHEAD)
		return -1;
	uint8_t *out = malloc(len - SEAL_OVERHEAD + 1);
	if (!out)
		return -1;
	unsigned long long mlen;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, in + n, len - n,
						       (const uint8_t *)ad, strlen(ad), in,
						       ks->seal_key) != 0) {
		free(out);
		return -1;
	}
	out[mlen] = 0;   /* convenient for text */
	*ret = out;
	*ret_len = (size_t)mlen;
	return 0;
}

void lookup_hash(const struct keystore *ks, const char *label, const uint8_t *in, size_t len,
		 uint8_t out[32])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, ks->lookup_key, sizeof ks->lookup_key, 32);
	crypto_generichash_update(&h, (const uint8_t *)label, strlen(label) + 1);
	crypto_generichash_update(&h, in, len);
	crypto_generichash_final(&h, out, 32);
}

int keystore_latest_kid(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, STMT_SIGNING_KEYS);
	if (!st)
		return -1;
	int kid = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		kid = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? kid : -1;
}

int keystore_rotate(const char *data_dir, struct db *db, uint8_t *ret_kid, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (join(dir, data_dir, "keys") < 0) {
		snprintf(err, errlen, "the data folder path is too long");
		return -1;
	}
	if (db_begin(db) < 0) {
		snprintf(err, errlen, "the database is busy");
		return -1;
	}
	/* Under the write lock: no other rotation picks the same kid. */
	int latest = keystore_latest_kid(db);
	if (latest < 0) {
		snprintf(err, errlen, "cannot read the signing keys");
		goto fail;
	}
	if (latest >= 255) {
		snprintf(err, errlen, "all 255 signing key ids are used");
		goto fail;
	}
	uint8_t kid = (uint8_t)(latest + 1);
	if (new_signing_key(NULL, db, dir, kid, err, errlen) < 0)
		goto fail;
	sqlite3_stmt *st = db_stmt(db, STMT_SIGNING_KEY_RETIRE);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 2, kid);
	if (db_step_done(st, "retire signing keys") < 0 || db_commit(db) < 0)
		goto fail;
	*ret_kid = kid;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int keystore_destroy_data_key(const char *data_dir, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	uint8_t noise[crypto_kdf_KEYBYTES], key[crypto_kdf_KEYBYTES];
	if (join(dir, data_dir, "keys") < 0 || join(path, dir, "data.key") < 0) {
		snprintf(err, errlen, "the data folder path is too long");
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		for (int pass = 0; pass < 3; pass++) {
			randombytes_buf(noise, sizeof noise);
			if (pwrite(fd, noise, sizeof noise, 0) != (ssize_t)sizeof noise || fsync(fd) < 0) {
				snprintf(err, errlen, "cannot overwrite %s: %s", path, strerror(errno));
				close(fd);
				return -1;
			}
		}
		close(fd);
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	crypto_kdf_keygen(key);
	int r = write_key(dir, "data.key", key, sizeof key, err, errlen);
	sodium_memzero(key, sizeof key);
	return r < 0 ? -1 : 0;
}

int keystore_backup_key(const char *data_dir, uint8_t out[crypto_secretstream_xchacha20poly1305_KEYBYTES],
			char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	uint8_t master[crypto_kdf_KEYBYTES];
	if (join(dir, data_dir, "keys") < 0 || join(path, dir, "data.key") < 0) {
		snprintf(err, errlen, "the data folder path is too long");
		return -1;
	}
	int r = read_key(path, master, sizeof master, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "%s is missing", path);
	if (r < 0)
		return -1;
	crypto_kdf_derive_from_key(out, crypto_secretstream_xchacha20poly1305_KEYBYTES, SUBKEY_BACKUP,
				   KDF_CONTEXT, master);
	sodium_memzero(master, sizeof master);
	return 0;
}
