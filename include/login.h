/* login.h — staff log-in, log-out and password change: the rules both the
 * API and the web pages follow (throttling, audit, sessions). */
#ifndef CIVICARD_LOGIN_H
#define CIVICARD_LOGIN_H

#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "staff.h"

#define SESSION_SECONDS (12 * 3600)
#define LOGIN_USER_LIMIT 5     /* failures per account per window */
#define LOGIN_ADDR_LIMIT 20    /* failures per client address per window */
#define LOGIN_WINDOW 900       /* seconds */

enum login_result { LOGIN_OK, LOGIN_BAD, LOGIN_THROTTLED, LOGIN_ERROR };

struct login_outcome {
	char secret[SECRET_CHARS];   /* the bearer token or cookie value */
	struct session session;      /* who, role, csrf, expiry */
	int retry_after;             /* LOGIN_THROTTLED: seconds */
};

/* Slow (Argon2id): call from a worker thread. Audits success and failure. */
enum login_result login_attempt(struct db *db, struct throttle *by_user, struct throttle *by_addr,
				const char *username, const char *password, const char *client_addr,
				int web, struct login_outcome *ret);

int logout(struct db *db, const struct session *s, const uint8_t hash[SESSION_HASH_BYTES]);

enum password_change_result { PW_CHANGED, PW_WRONG_CURRENT, PW_WEAK, PW_ERROR };
/* Slow. Verifies the current password, stores the new one, clears the
 * must-change flag and ends the user's other sessions. Audited. */
enum password_change_result password_change(struct db *db, const struct session *s,
					    const uint8_t keep[SESSION_HASH_BYTES],
					    const char *current, const char *new_password);

/* Create an account (CLI and first start). 0, -EEXIST, -EINVAL, -EIO. */
int account_create(struct db *db, const char *actor, const char *username, enum role role,
		   const char *password, int must_change);

#endif
