/* keys.h — the key store: files under DATA/keys/, never in the database.
 *
 *   keys/data.key          32 bytes: master key for personal data. From it
 *                          (libsodium crypto_kdf) come the AEAD key that
 *                          seals names, dates and photos, and the key for
 *                          lookup hashes. Destroying it shreds every record.
 *   keys/signing-NNN.key   64 bytes: Ed25519 secret key with key id NNN.
 *
 * The folder is 0700 and every file 0600; keys readable by others are
 * refused. Public keys and their validity live in the signing_keys table. */
#ifndef CIVICARD_KEYS_H
#define CIVICARD_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "db.h"

#define KEY_MAX_SIGNING 255

struct signing_key {
	uint8_t kid;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	int have_secret;
};

struct keystore {
	uint8_t seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t lookup_key[crypto_generichash_KEYBYTES];
	uint8_t current_kid;
	size_t nsigning;
	struct signing_key signing[KEY_MAX_SIGNING];
};

/* Open the key store of data_dir, creating missing keys when create is set
 * (the data key, and signing key 1 recorded in db). Allocated with
 * sodium_malloc (guarded, locked); free with keystore_free. 0, or -1 with
 * a one-line reason in err. */
int keystore_open(const char *data_dir, struct db *db, int create, struct keystore **ret,
		  char *err, size_t errlen);
void keystore_free(struct keystore *ks);
/* A new signing key (next key id), the previous ones marked retired: they
 * sign nothing more and keep verifying. 0, or -1 with err. */
int keystore_rotate(const char *data_dir, struct db *db, uint8_t *ret_kid, char *err, size_t errlen);
/* Crypto-shredding: overwrite keys/data.key with random bytes, sync,
 * remove it, and write a fresh one. Everything sealed under the old key
 * (rows, WAL, backups) can no longer be opened. 0, or -1 with err. */
int keystore_destroy_data_key(const char *data_dir, char *err, size_t errlen);

/* The key for backups, derived from the data key (so a backup is useless
 * without it, and dies with it). 0 or -1 with err. */
int keystore_backup_key(const char *data_dir, uint8_t out[crypto_secretstream_xchacha20poly1305_KEYBYTES],
			char *err, size_t errlen);

/* The highest signing key id recorded in db, 0 if none, -1 on error. */
int keystore_latest_kid(struct db *db);
const struct signing_key *keystore_signing(const struct keystore *ks, uint8_t kid);

/* ---- sealing personal data ---- */
#define SEAL_OVERHEAD (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + \
		       crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* out (len + SEAL_OVERHEAD bytes, from malloc) = nonce || ciphertext+tag,
 * bound to ad (e.g. "cards.personal:NUMBER:VERSION"). 0 or -1. */
int seal(const struct keystore *ks, const char *ad, const uint8_t *in, size_t len,
	 uint8_t **ret, size_t *ret_len);
/* The reverse; -1 when the data was altered, moved to another row, or
 * sealed under another key. */
int unseal(const struct keystore *ks, const char *ad, const uint8_t *in, size_t len,
	   uint8_t **ret, size_t *ret_len);
/* Keyed BLAKE2b-256 for lookups: label separates uses. */
void lookup_hash(const struct keystore *ks, const char *label, const uint8_t *in, size_t len,
		 uint8_t out[32]);

#endif
