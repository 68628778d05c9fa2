/* staff.h — staff accounts and their sessions, as stored. */
#ifndef CIVICARD_STAFF_H
#define CIVICARD_STAFF_H

#include <stdint.h>
#include <sodium.h>

#include "db.h"

enum role { ROLE_ADMIN = 1, ROLE_CLERK = 2, ROLE_AUDITOR = 4 };

#define USERNAME_MAX 64

struct user {
	int64_t id;
	char username[USERNAME_MAX + 1];
	enum role role;
	char password_hash[crypto_pwhash_STRBYTES];
	int must_change_password;
	int disabled;
};

/* "admin" → ROLE_ADMIN; 0 for anything else. */
enum role role_parse(const char *s);
const char *role_name(enum role r);
/* 1 when name is a valid user name: 1–64 of [a-z0-9._-], starting alnum. */
int username_valid(const char *name);

/* 0, -EEXIST when the name is taken, -EIO otherwise. */
int user_insert(struct db *db, const char *username, enum role role,
		const char *password_hash, int must_change, int64_t *ret_id);
/* 0 found, -ENOENT, -EIO. */
int user_find(struct db *db, const char *username, struct user *ret);
int user_find_id(struct db *db, int64_t id, struct user *ret);
/* Every account, by name (at most 1000), as a JSON array of {id, username,
 * role, must_change_password, disabled, created_at (unix seconds)}: never
 * the password hash. New reference, NULL on error. */
struct json_t;
struct json_t *user_list(struct db *db);
/* 0, -ENOENT (no such id), -EIO. Sessions are not touched: the caller
 * ends them (session_delete_user) in the same transaction. */
int user_set_disabled(struct db *db, int64_t id, int disabled);
int user_set_password(struct db *db, int64_t id, const char *password_hash, int must_change);
/* Active admin accounts, -1 on error. */
int64_t admin_count(struct db *db);

#define SESSION_HASH_BYTES 32

struct session {
	int64_t user_id;
	char username[USERNAME_MAX + 1];
	enum role role;
	int must_change_password;
	int web;                        /* cookie session (else bearer) */
	char csrf[64];                  /* web sessions only */
	int64_t expires_at;
};

int session_insert(struct db *db, const uint8_t hash[SESSION_HASH_BYTES], int64_t user_id,
		   int web, const char *csrf, int64_t now, int64_t expires_at);
/* 0 found and current, -ENOENT, -EIO. */
int session_lookup(struct db *db, const uint8_t hash[SESSION_HASH_BYTES], int64_t now,
		   struct session *ret);
int session_delete(struct db *db, const uint8_t hash[SESSION_HASH_BYTES]);
int session_delete_expired(struct db *db, int64_t now);
/* Ends every other session of a user, e.g. after a password change. */
int session_delete_others(struct db *db, int64_t user_id, const uint8_t keep[SESSION_HASH_BYTES]);
/* Ends every session of a user: disabled, or password reset by an admin. */
int session_delete_user(struct db *db, int64_t user_id);

#endif
