/* test-auth.c — passwords, secrets, throttling, log-in rules. */
#include "audit.h"
#include "check.h"
#include "login.h"
#include "tmpdir.h"

#include <errno.h>
#include <time.h>

TEST(password_roundtrip)
{
	char h[crypto_pwhash_STRBYTES];
	CHECK(password_hash("correct horse battery", h) == 0);
	CHECK(strncmp(h, "$argon2id$", 10) == 0);
	CHECK(password_verify("correct horse battery", h) == 1);
	CHECK(password_verify("correct horse batterx", h) == 0);
	CHECK(password_verify("", h) == 0);
}

TEST(password_rules)
{
	CHECK(password_weakness("short") != NULL);
	CHECK(password_weakness("long enough") == NULL);
	CHECK(password_weakness("tab\tinside!") != NULL);
}

TEST(secrets_are_random_and_hashable)
{
	char a[SECRET_CHARS], b[SECRET_CHARS];
	secret_new(a);
	secret_new(b);
	CHECK(strlen(a) == SECRET_CHARS - 1);
	CHECK(strcmp(a, b) != 0);
	uint8_t ha[SESSION_HASH_BYTES], ha2[SESSION_HASH_BYTES];
	secret_hash(a, ha);
	secret_hash(a, ha2);
	CHECK(memcmp(ha, ha2, sizeof ha) == 0);
	char otp[OTP_CHARS];
	otp_new(otp);
	CHECK(strlen(otp) == 23 && otp[5] == '-' && otp[11] == '-' && otp[17] == '-');
	CHECK(strpbrk(otp, "015OIZSL") == NULL);
}

TEST(throttle_blocks_after_limit)
{
	struct throttle *t = throttle_new(3, 60);
	CHECK(throttle_wait(t, "user:ana", 1000) == 0);
	for (int i = 0; i < 3; i++)
		throttle_fail(t, "user:ana", 1000 + i);
	CHECK(throttle_wait(t, "user:ana", 1010) == 50);
	CHECK(throttle_wait(t, "user:bob", 1010) == 0);
	CHECK(throttle_wait(t, "user:ana", 1060) == 0);   /* window over */
	throttle_fail(t, "user:bob", 2000);
	throttle_clear(t, "user:bob");
	CHECK(throttle_wait(t, "user:bob", 2000) == 0);
	/* Many keys: the table stays bounded and keeps working. */
	char key[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "addr:%d", i);
		throttle_fail(t, key, 3000);
	}
	for (int i = 0; i < 3; i++)
		throttle_fail(t, "user:carl", 3000);
	CHECK(throttle_wait(t, "user:carl", 3001) > 0);
	throttle_free(t);
}

TEST(login_rules)
{
	char *dir = test_tmpdir(), path[256];
	snprintf(path, sizeof path, "%s/t.db", dir);
	struct db *db;
	CHECK(db_open(path, &db) == 0 && db_migrate(db) == 0);
	CHECK(account_create(db, "cli", "ana", ROLE_CLERK, "a good password", 0) == 0);
	CHECK(account_create(db, "cli", "ana", ROLE_CLERK, "a good password", 0) == -EEXIST);
	CHECK(account_create(db, "cli", "bob", ROLE_CLERK, "short", 0) == -EINVAL);
	struct throttle *tu = throttle_new(LOGIN_USER_LIMIT, LOGIN_WINDOW);
	struct throttle *ta = throttle_new(LOGIN_ADDR_LIMIT, LOGIN_WINDOW);
	struct login_outcome o;
	CHECK(login_attempt(db, tu, ta, "ana", "a good password", "127.0.0.1", 0, &o) == LOGIN_OK);
	CHECK(o.session.role == ROLE_CLERK && strlen(o.secret) == SECRET_CHARS - 1);
	uint8_t h[SESSION_HASH_BYTES];
	struct session s;
	secret_hash(o.secret, h);
	CHECK(session_lookup(db, h, (int64_t)time(NULL), &s) == 0 && !s.web);
	CHECK(login_attempt(db, tu, ta, "nobody", "whatever!", "127.0.0.1", 0, &o) == LOGIN_BAD);
	for (int i = 0; i < LOGIN_USER_LIMIT; i++)
		CHECK(login_attempt(db, tu, ta, "ana", "wrong password", "127.0.0.2", 0, &o) == LOGIN_BAD);
	/* Locked now, even with the right password. */
	CHECK(login_attempt(db, tu, ta, "ana", "a good password", "127.0.0.3", 0, &o) == LOGIN_THROTTLED);
	CHECK(o.retry_after > 0);

	/* Everything above is in the audit log, and the chain holds. */
	int64_t n, bad;
	char why[64];
	CHECK(audit_verify(db, &n, &bad, why, sizeof why) == 0);
	CHECK(n == 1 + 1 + 1 + LOGIN_USER_LIMIT);   /* create, login, unknown, 5 wrong */
	throttle_free(tu);
	throttle_free(ta);
	db_close(db);
	test_rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(password_roundtrip);
	RUN(password_rules);
	RUN(secrets_are_random_and_hashable);
	RUN(throttle_blocks_after_limit);
	RUN(login_rules);
	return CHECK_DONE();
}
