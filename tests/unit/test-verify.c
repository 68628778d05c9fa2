/* test-verify.c — the verification answer: valid, expired, revoked,
 * invalid (unknown key, bad signature), and revoked wins over expired. */
#include "app.h"
#include "card.h"
#include "check.h"
#include "handlers.h"
#include "tmpdir.h"

static struct app app;
static const struct keystore *ks;

static void sign(const char *expires, uint32_t index, uint8_t kid, char *out, size_t cap)
{
	struct token_claims c;
	memset(&c, 0, sizeof c);
	c.kid = kid;
	c.card_version = 1;
	c.status_index = index;
	cardnum_new(c.card_number);
	snprintf(c.date_of_birth, sizeof c.date_of_birth, "1970-01-01");
	snprintf(c.expires_on, sizeof c.expires_on, "%s", expires);
	snprintf(c.given_names, sizeof c.given_names, "Ana");
	snprintf(c.family_name, sizeof c.family_name, "Verifyxyz");
	char tok[TOKEN_MAX_CHARS + 1];
	const struct signing_key *k = keystore_signing(ks, 1);
	CHECK(token_sign(&c, k->sk, tok) == 0);
	snprintf(out, cap, "https://id.example.org/v#%s", tok);
}

static const char *result_of(const char *qr)
{
	static char r[16];
	json_t *o = verify_qr(&app, qr);
	snprintf(r, sizeof r, "%s", json_string_value(json_object_get(o, "result")));
	int has_name = json_object_get(o, "family_name") != NULL;
	if (strcmp(r, "invalid") == 0)
		CHECK(!has_name);
	json_decref(o);
	return r;
}

TEST(answers)
{
	char qr[1024], today[11], yesterday[11];
	card_today(today);
	int y, m, d;
	date_parse(today, &y, &m, &d);
	civil_from_days(days_from_civil(y, m, d) - 1, yesterday);

	sign("2099-12-31", 10, 1, qr, sizeof qr);
	CHECK_STR(result_of(qr), "valid");
	sign(today, 11, 1, qr, sizeof qr);
	CHECK_STR(result_of(qr), "valid");            /* valid through its last day */
	sign(yesterday, 12, 1, qr, sizeof qr);
	CHECK_STR(result_of(qr), "expired");
	status_list_set(app.status, 12);
	CHECK_STR(result_of(qr), "revoked");          /* revoked says more than expired */
	sign("2099-12-31", 13, 7, qr, sizeof qr);     /* a key id the city never had */
	CHECK_STR(result_of(qr), "invalid");
	sign("2099-12-31", 14, 1, qr, sizeof qr);
	qr[strlen(qr) - 5] = qr[strlen(qr) - 5] == 'A' ? 'B' : 'A';
	CHECK_STR(result_of(qr), "invalid");
	CHECK_STR(result_of(""), "invalid");
	CHECK_STR(result_of("#"), "invalid");
}

TEST(status_list_document_changes)
{
	char *doc, etag[32], etag2[32];
	size_t len;
	CHECK(status_list_document(app.status, ks, &doc, &len, etag) == 0);
	json_t *o = json_loadb(doc, len, 0, NULL);
	CHECK(o && json_integer_value(json_object_get(o, "size")) == STATUS_BITS);
	CHECK(json_integer_value(json_object_get(o, "kid")) == 1);
	json_decref(o);
	free(doc);
	CHECK(status_list_document(app.status, ks, &doc, &len, etag2) == 0);
	CHECK_STR(etag, etag2);                       /* unchanged: same document */
	free(doc);
	status_list_set(app.status, 99);
	CHECK(status_list_document(app.status, ks, &doc, &len, etag2) == 0);
	CHECK(strcmp(etag, etag2) != 0);
	free(doc);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	char *dir = test_tmpdir(), path[256], err[256];
	snprintf(path, sizeof path, "%s/civicard.db", dir);
	struct db *db;
	struct keystore *k;
	if (db_open(path, &db) < 0 || db_migrate(db) < 0 ||
	    keystore_open(dir, db, 1, &k, err, sizeof err) < 0 || status_list_load(db, &app.status) < 0)
		return 1;
	atomic_store(&app.keys, k);
	ks = k;
	RUN(answers);
	RUN(status_list_document_changes);
	status_list_free(app.status);
	keystore_free(k);
	db_close(db);
	test_rmdir(dir);
	return CHECK_DONE();
}
