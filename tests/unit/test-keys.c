/* test-keys.c — the key store: files and modes, sealing, lookup hashes. */
#include "check.h"
#include "keys.h"
#include "tmpdir.h"

#include <stdlib.h>
#include <sys/stat.h>

static struct db *open_db(const char *dir)
{
	char path[256];
	snprintf(path, sizeof path, "%s/civicard.db", dir);
	struct db *db = NULL;
	if (db_open(path, &db) < 0 || db_migrate(db) < 0)
		return NULL;
	return db;
}

TEST(creates_and_reopens)
{
	char *dir = test_tmpdir(), err[256], path[300];
	struct db *db = open_db(dir);
	struct keystore *ks = NULL, *ks2 = NULL;
	CHECK(keystore_open(dir, db, 0, &ks, err, sizeof err) == -1);   /* nothing yet */
	CHECK(keystore_open(dir, db, 1, &ks, err, sizeof err) == 0);
	CHECK(ks->current_kid == 1 && ks->nsigning == 1);
	snprintf(path, sizeof path, "%s/keys/data.key", dir);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
	snprintf(path, sizeof path, "%s/keys/signing-001.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 64);

	CHECK(keystore_open(dir, db, 0, &ks2, err, sizeof err) == 0);
	CHECK(memcmp(ks->seal_key, ks2->seal_key, sizeof ks->seal_key) == 0);
	CHECK(memcmp(ks->signing[0].pk, ks2->signing[0].pk, 32) == 0);
	keystore_free(ks2);

	/* A key others can read is refused, with the reason. */
	snprintf(path, sizeof path, "%s/keys/data.key", dir);
	chmod(path, 0644);
	CHECK(keystore_open(dir, db, 0, &ks2, err, sizeof err) == -1);
	CHECK(strstr(err, "chmod 600") != NULL);
	chmod(path, 0600);
	keystore_free(ks);
	db_close(db);
	test_rmdir(dir);
}

TEST(seal_binds_to_row)
{
	char *dir = test_tmpdir(), err[256];
	struct db *db = open_db(dir);
	struct keystore *ks = NULL;
	CHECK(keystore_open(dir, db, 1, &ks, err, sizeof err) == 0);
	const char *secret = "{\"family_name\":\"Nguyễn\"}";
	uint8_t *box = NULL, *plain = NULL;
	size_t blen, plen;
	CHECK(seal(ks, "cards.personal:A:1", (const uint8_t *)secret, strlen(secret), &box, &blen) == 0);
	CHECK(blen == strlen(secret) + SEAL_OVERHEAD);
	CHECK(memmem(box, blen, "Nguy", 4) == NULL);
	CHECK(unseal(ks, "cards.personal:A:1", box, blen, &plain, &plen) == 0);
	CHECK(plen == strlen(secret) && memcmp(plain, secret, plen) == 0);
	free(plain);
	/* Moved to another row, or altered: refused. */
	CHECK(unseal(ks, "cards.personal:B:1", box, blen, &plain, &plen) == -1);
	box[blen - 1] ^= 1;
	CHECK(unseal(ks, "cards.personal:A:1", box, blen, &plain, &plen) == -1);
	CHECK(unseal(ks, "x", box, 3, &plain, &plen) == -1);
	free(box);

	uint8_t h1[32], h2[32], h3[32];
	lookup_hash(ks, "a", (const uint8_t *)"x", 1, h1);
	lookup_hash(ks, "a", (const uint8_t *)"x", 1, h2);
	lookup_hash(ks, "b", (const uint8_t *)"x", 1, h3);
	CHECK(memcmp(h1, h2, 32) == 0 && memcmp(h1, h3, 32) != 0);
	keystore_free(ks);
	db_close(db);
	test_rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(creates_and_reopens);
	RUN(seal_binds_to_row);
	return CHECK_DONE();
}
