/* auth.h — passwords, session secrets and login throttling. */
#ifndef CIVICARD_AUTH_H
#define CIVICARD_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "staff.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 256

/* Argon2id (libsodium, INTERACTIVE limits). At most `limit` hashes run at
 * once across the process (64 MiB each); callers beyond that wait. */
void password_set_concurrency(int limit);
/* 0, or -1 (out of memory). out receives the encoded hash string. */
int password_hash(const char *password, char out[crypto_pwhash_STRBYTES]);
/* 1 when password matches the stored hash, 0 otherwise. */
int password_verify(const char *password, const char *stored_hash);
/* Spends the same time as a real verification: used when the user does
 * not exist, so response time does not reveal which names exist. */
void password_verify_dummy(const char *password);
/* NULL when acceptable, else a short reason. */
const char *password_weakness(const char *password);

/* A new random secret: 32 bytes, base64url, NUL-terminated. */
#define SECRET_CHARS 44
void secret_new(char out[SECRET_CHARS]);
/* The stored form of a session secret. */
void secret_hash(const char *secret, uint8_t out[SESSION_HASH_BYTES]);
/* A one-time password people can type: 4 groups of 5 from an unambiguous
 * alphabet (about 100 bits). */
#define OTP_CHARS 24
void otp_new(char out[OTP_CHARS]);

/* Login throttling: failures counted per key ("user:NAME", "addr:IP") in a
 * fixed-size table, so an attacker cannot grow memory. */
struct throttle;
struct throttle *throttle_new(int limit, int window_seconds);
void throttle_free(struct throttle *t);
/* Seconds until key may try again, 0 when it may now. */
int throttle_wait(struct throttle *t, const char *key, int64_t now);
void throttle_fail(struct throttle *t, const char *key, int64_t now);
void throttle_clear(struct throttle *t, const char *key);

#endif
