/* login.c — log-in, log-out, password change and account creation. */
#include "login.h"
#include "audit.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum login_result login_attempt(struct db *db, struct throttle *by_user, struct throttle *by_addr,
				const char *username, const char *password, const char *client_addr,
				int web, struct login_outcome *ret)
{
	int64_t now = (int64_t)time(NULL);
	char ukey[USERNAME_MAX + 8], akey[80];
	snprintf(ukey, sizeof ukey, "user:%s", username);
	snprintf(akey, sizeof akey, "addr:%s", client_addr);

	/* Refused before any Argon2id work: throttling also caps CPU spent. */
	int wait_u = throttle_wait(by_user, ukey, now);
	int wait_a = throttle_wait(by_addr, akey, now);
	if (wait_u || wait_a) {
		ret->retry_after = wait_u > wait_a ? wait_u : wait_a;
		return LOGIN_THROTTLED;
	}

	struct user u;
	int found = username_valid(username) ? user_find(db, username, &u) : -ENOENT;
	if (found == -EIO)
		return LOGIN_ERROR;
	int ok;
	if (found == 0 && !u.disabled) {
		ok = password_verify(password, u.password_hash);
	} else {
		password_verify_dummy(password);
		ok = 0;
	}
	if (!ok) {
		throttle_fail(by_user, ukey, now);
		throttle_fail(by_addr, akey, now);
		/* Only a name that exists is recorded: a password typed into the
		 * name field must not end up in the audit log. */
		if (audit_append(db, found == 0 ? u.username : "-", "login.failed", "",
				 found == 0 ? "wrong password" : "unknown user") < 0)
			return LOGIN_ERROR;
		return LOGIN_BAD;
	}
	throttle_clear(by_user, ukey);

	struct session s = { .user_id = u.id, .role = u.role,
			     .must_change_password = u.must_change_password, .web = web,
			     .expires_at = now + SESSION_SECONDS };
	snprintf(s.username, sizeof s.username, "%s", u.username);
	if (web)
		secret_new(s.csrf);
	uint8_t hash[SESSION_HASH_BYTES];
	secret_new(ret->secret);
	secret_hash(ret->secret, hash);

	if (db_begin(db) < 0)
		return LOGIN_ERROR;
	if (session_insert(db, hash, u.id, web, web ? s.csrf : NULL, now, s.expires_at) < 0 ||
	    audit_append(db, u.username, "login", "", web ? "web" : "api") < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return LOGIN_ERROR;
	}
	ret->session = s;
	return LOGIN_OK;
}

int logout(struct db *db, const struct session *s, const uint8_t hash[SESSION_HASH_BYTES])
{
	if (db_begin(db) < 0)
		return -1;
	if (session_delete(db, hash) < 0 || audit_append(db, s->username, "logout", "", "") < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

enum password_change_result password_change(struct db *db, const struct session *s,
					    const uint8_t keep[SESSION_HASH_BYTES],
					    const char *current, const char *new_password)
{
	struct user u;
	if (user_find(db, s->username, &u) < 0)
		return PW_ERROR;
	if (!password_verify(current, u.password_hash))
		return PW_WRONG_CURRENT;
	if (password_weakness(new_password) || strcmp(current, new_password) == 0)
		return PW_WEAK;
	char hash[crypto_pwhash_STRBYTES];
	if (password_hash(new_password, hash) < 0)
		return PW_ERROR;
	if (db_begin(db) < 0)
		return PW_ERROR;
	if (user_set_password(db, u.id, hash, 0) < 0 || session_delete_others(db, u.id, keep) < 0 ||
	    audit_append(db, u.username, "password.change", u.username, "") < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return PW_ERROR;
	}
	return PW_CHANGED;
}

int account_create(struct db *db, const char *actor, const char *username, enum role role,
		   const char *password, int must_change)
{
	if (!username_valid(username) || !role || password_weakness(password))
		return -EINVAL;
	char hash[crypto_pwhash_STRBYTES];
	if (password_hash(password, hash) < 0)
		return -EIO;
	if (db_begin(db) < 0)
		return -EIO;
	int r = user_insert(db, username, role, hash, must_change, NULL);
	if (r == 0 && audit_append(db, actor, "user.create", username, role_name(role)) < 0)
		r = -EIO;
	if (r < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return r < 0 ? r : -EIO;
	}
	return 0;
}
