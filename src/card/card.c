/* card.c — validating, sealing, storing, finding and showing cards. */
#include "card.h"
#include "card_pdf.h"
#include "audit.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "photo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Document types a clerk may record as inspected: types only, never
 * numbers or copies. A city sets its own with `serve --evidence-types`. */
static const char *const default_evidence[] = {
	"passport", "national_id", "consular_id", "birth_certificate", "driving_licence",
	"residence_proof", "school_record", "community_attestation", "other_photo_id", NULL,
};
const char *const *card_evidence_types = default_evidence;

int card_set_evidence_types(const char *list)
{
	static char storage[EVIDENCE_TYPES_MAX * 33];
	static const char *types[EVIDENCE_TYPES_MAX + 1];
	size_t n = 0, o = 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len > 32 || n == EVIDENCE_TYPES_MAX)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
				return -1;
		memcpy(storage + o, p, len);
		storage[o + len] = '\0';
		types[n++] = storage + o;
		o += len + 1;
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0)
		return -1;
	types[n] = NULL;
	card_evidence_types = types;
	return 0;
}

void card_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

void card_free(struct card *c)
{
	if (!c)
		return;
	free(c->given_names);
	free(c->family_name);
	free(c->address);
	json_decref(c->evidence);
	free(c->photo);
	memset(c, 0, sizeof *c);
}

static int fail_field(struct field_error *e, const char *field, const char *fmt, const char *arg)
{
	e->field = field;
	e->code = "invalid_field";
	snprintf(e->message, sizeof e->message, fmt, arg);
	return -1;
}

static int known_evidence(const char *code)
{
	for (const char *const *t = card_evidence_types; *t; t++)
		if (strcmp(*t, code) == 0)
			return 1;
	return 0;
}

static int language_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 15)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (i >= 2 && (c == '-' || (c >= 'A' && c <= 'Z') ||
							       (c >= '0' && c <= '9')));
		if (!ok)
			return 0;
	}
	return 1;
}

int card_prepare(const struct card_input *in, const struct card_fonts *fonts, struct card *ret,
		 struct field_error *err)
{
	struct card c;
	memset(&c, 0, sizeof c);
	enum name_problem p = NAME_OK;
	char today[11];
	int y, m, d;
	card_today(today);

	if (!in->given_names || (p = name_clean(in->given_names, NAME_MAX_BYTES, &c.given_names)) != NAME_OK) {
		fail_field(err, "given_names", "given names %s",
			   in->given_names ? name_problem_message(p) : "are required");
		goto fail;
	}
	if (!in->family_name || (p = name_clean(in->family_name, NAME_MAX_BYTES, &c.family_name)) != NAME_OK) {
		fail_field(err, "family_name", "family name %s",
			   in->family_name ? name_problem_message(p) : "is required");
		goto fail;
	}
	const char *names[2] = { c.given_names, c.family_name };
	const char *fields[2] = { "given_names", "family_name" };
	for (int i = 0; i < 2 && fonts; i++) {
		uint32_t cp = 0;
		if (card_fonts_cover(fonts, names[i], &cp) != 1) {
			char what[64];
			snprintf(what, sizeof what, "U+%04X", (unsigned)cp);
			fail_field(err, fields[i], "the card cannot print the character %s", what);
			goto fail;
		}
	}
	if (!in->date_of_birth || date_parse(in->date_of_birth, &y, &m, &d) < 0 || y < 1900 ||
	    strcmp(in->date_of_birth, today) > 0) {
		fail_field(err, "date_of_birth", "%s", "date of birth must be a real past date, YYYY-MM-DD");
		goto fail;
	}
	memcpy(c.date_of_birth, in->date_of_birth, 11);
	if (in->address && in->address[0]) {
		p = text_clean(in->address, TEXT_MAX_BYTES, &c.address);
		if (p == NAME_EMPTY) {
			c.address = NULL;
		} else if (p != NAME_OK) {
			fail_field(err, "address", "address %s", name_problem_message(p));
			goto fail;
		}
	}
	if (in->gender && in->gender[0]) {
		if (strcmp(in->gender, "F") && strcmp(in->gender, "M") && strcmp(in->gender, "X")) {
			fail_field(err, "gender", "%s", "gender is F, M, X or left empty");
			goto fail;
		}
		c.gender[0] = in->gender[0];
	}
	if (in->language && in->language[0]) {
		if (!language_ok(in->language)) {
			fail_field(err, "language", "%s", "language is a code such as fr, en or es");
			goto fail;
		}
		snprintf(c.language, sizeof c.language, "%s", in->language);
	}
	c.evidence = json_array();
	for (size_t i = 0; i < in->nevidence; i++) {
		if (!known_evidence(in->evidence[i])) {
			fail_field(err, "evidence", "%s", "evidence is a document type code from the list");
			goto fail;
		}
		json_array_append_new(c.evidence, json_string(in->evidence[i]));
	}
	if (!in->photo || in->photo_len == 0) {
		err->field = "photo";
		err->code = "invalid_field";
		snprintf(err->message, sizeof err->message, "a photo is required (JPEG or PNG)");
		goto fail;
	}
	enum photo_error pe = photo_normalize(in->photo, in->photo_len, &c.photo, &c.photo_len);
	if (pe != PHOTO_OK) {
		err->field = "photo";
		err->code = photo_error_code(pe);
		snprintf(err->message, sizeof err->message, "%s", photo_error_message(pe));
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	card_free(&c);
	return -1;
}

/* ---- sealing ---- */

static void seal_ad(char *out, size_t cap, const char *what, const char *number, int version)
{
	snprintf(out, cap, "civicard:cards.%s:%s:%d", what, number, version);
}

static char *personal_json(const struct card *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "given_names", c->given_names,
			      "family_name", c->family_name, "date_of_birth", c->date_of_birth,
			      "gender", c->gender, "language", c->language, "evidence",
			      c->evidence ? c->evidence : json_array());
	if (o && c->address)
		json_object_set_new(o, "address", json_string(c->address));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static void lookup_of(const struct keystore *ks, const char *family, const char *dob, uint8_t out[32])
{
	char *folded = NULL;
	size_t fl;
	uint8_t buf[512];
	if (name_fold(family, &folded) < 0 || (fl = strlen(folded)) + 12 > sizeof buf) {
		/* Unfoldable input cannot match anything stored. */
		randombytes_buf(out, 32);
		free(folded);
		return;
	}
	memcpy(buf, folded, fl);
	buf[fl] = 0;
	memcpy(buf + fl + 1, dob, 10);
	lookup_hash(ks, "cards.lookup", buf, fl + 11, out);
	free(folded);
}

static void add_years(const char *date, int years, char out[11])
{
	int y, m, d;
	date_parse(date, &y, &m, &d);
	y = (y + years) % 10000;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		d = 28;
	civil_from_days(days_from_civil(y, m, d), out);
}

static void reprint_code_new(char out[REPRINT_CODE_CHARS], char canon[13])
{
	for (int i = 0; i < 12; i++)
		canon[i] = cardnum_alphabet[randombytes_uniform(31)];
	canon[12] = '\0';
	snprintf(out, REPRINT_CODE_CHARS, "%.4s-%.4s-%.4s", canon, canon + 4, canon + 8);
}

/* Seal c's personal data and photo under its number and version, and
 * insert the row. 0 done; 1 the status index is taken (pick another and
 * retry); -1 error. Inside the caller's transaction. */
static int insert_version(struct db *db, const struct keystore *ks, struct card *c,
			  const char *personal_text, const uint8_t lookup[32],
			  const uint8_t code_hash[32], const char *actor)
{
	char ad[96];
	uint8_t *personal = NULL, *photo = NULL;
	size_t personal_len = 0, photo_len = 0;
	int r = -1;
	seal_ad(ad, sizeof ad, "personal", c->number, c->version);
	if (seal(ks, ad, (const uint8_t *)personal_text, strlen(personal_text), &personal,
		 &personal_len) < 0)
		goto out;
	if (c->photo) {
		seal_ad(ad, sizeof ad, "photo", c->number, c->version);
		if (seal(ks, ad, c->photo, c->photo_len, &photo, &photo_len) < 0)
			goto out;
	}
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_INSERT);
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, c->number, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, c->version);
	sqlite3_bind_text(st, 3, c->issued_on, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->expires_on, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->status_index);
	sqlite3_bind_int(st, 6, c->kid);
	sqlite3_bind_blob(st, 7, lookup, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, personal, (int)personal_len, SQLITE_STATIC);
	if (photo)
		sqlite3_bind_blob(st, 9, photo, (int)photo_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, code_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)time(NULL));
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		r = 1;
	} else if (rc != SQLITE_DONE) {
		log_error("insert card: %s", sqlite3_errstr(rc));
	} else {
		c->id = sqlite3_last_insert_rowid(db_handle(db));
		r = 0;
	}
out:
	free(personal);
	free(photo);
	return r;
}

/* A new reprint code and its stored (keyed hash) form. */
static void new_code(const struct keystore *ks, char code[REPRINT_CODE_CHARS], uint8_t hash[32])
{
	char canon[13];
	reprint_code_new(code, canon);
	lookup_hash(ks, "cards.reprint", (const uint8_t *)canon, 12, hash);
	sodium_memzero(canon, sizeof canon);
}

int card_issue(struct db *db, const struct keystore *ks, struct card *c, const char *actor,
	       char ret_code[REPRINT_CODE_CHARS])
{
	char code[REPRINT_CODE_CHARS];
	uint8_t lookup[32], code_hash[32];
	char *pj = personal_json(c);
	int r = -1;
	if (!pj)
		return -1;

	card_today(c->issued_on);
	add_years(c->issued_on, card_validity_years(c->date_of_birth, c->issued_on), c->expires_on);
	c->version = 1;
	c->kid = ks->current_kid;
	lookup_of(ks, c->family_name, c->date_of_birth, lookup);
	new_code(ks, code, code_hash);

	if (db_begin(db) < 0)
		goto out;
	/* A fresh number and status index; collisions are rare and retried. */
	for (int attempt = 0; attempt < 16; attempt++) {
		cardnum_new(c->number);
		c->status_index = randombytes_uniform(1u << 24);
		sqlite3_stmt *st = db_stmt(db, STMT_CARD_NUMBER_USED);
		if (!st)
			goto rollback;
		sqlite3_bind_text(st, 1, c->number, -1, SQLITE_STATIC);
		int used = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (used)
			continue;
		int k = insert_version(db, ks, c, pj, lookup, code_hash, actor);
		if (k == 1)
			continue;
		if (k < 0 || audit_append(db, actor, "card.issue", c->number, "version 1") < 0 ||
		    db_commit(db) < 0)
			goto rollback;
		memcpy(ret_code, code, REPRINT_CODE_CHARS);
		r = 0;
		goto out;
	}
	log_error("no free card number after 16 attempts");
rollback:
	db_rollback(db);
out:
	sodium_memzero(code, sizeof code);
	sodium_memzero(pj, strlen(pj));
	free(pj);
	return r;
}

/* ---- reading ---- */

static const char *text_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* One row (columns of CARD_COLUMNS in sql.c) into c. 0 or -1. */
static int card_from_row(sqlite3_stmt *st, const struct keystore *ks, struct card *ret)
{
	struct card c;
	memset(&c, 0, sizeof c);
	char ad[96];
	uint8_t *plain = NULL;
	size_t plen;
	json_t *o = NULL;

	c.id = sqlite3_column_int64(st, 0);
	snprintf(c.number, sizeof c.number, "%s", text_col(st, 1));
	c.version = sqlite3_column_int(st, 2);
	c.revoked = strcmp(text_col(st, 3), "revoked") == 0;
	snprintf(c.revoke_reason, sizeof c.revoke_reason, "%s", text_col(st, 4));
	snprintf(c.issued_on, sizeof c.issued_on, "%s", text_col(st, 5));
	snprintf(c.expires_on, sizeof c.expires_on, "%s", text_col(st, 6));
	c.status_index = (uint32_t)sqlite3_column_int64(st, 7);
	c.kid = (uint8_t)sqlite3_column_int(st, 8);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL)
		return -ENODATA;            /* erased: only what verification needs is left */

	seal_ad(ad, sizeof ad, "personal", c.number, c.version);
	if (unseal(ks, ad, sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9), &plain,
		   &plen) < 0) {
		log_error("card row %lld: personal data does not open (key or row changed)",
			  (long long)c.id);
		return -1;
	}
	o = json_loadb((const char *)plain, plen, 0, NULL);
	sodium_memzero(plain, plen);
	free(plain);
	const char *gn, *fn, *dob, *gender = "", *lang = "", *addr = NULL;
	json_t *ev = NULL;
	if (!o || json_unpack(o, "{s:s, s:s, s:s, s?s, s?s, s?s, s?o}", "given_names", &gn,
			      "family_name", &fn, "date_of_birth", &dob, "gender", &gender,
			      "language", &lang, "address", &addr, "evidence", &ev) < 0) {
		json_decref(o);
		return -1;
	}
	c.given_names = strdup(gn);
	c.family_name = strdup(fn);
	c.address = addr ? strdup(addr) : NULL;
	snprintf(c.date_of_birth, sizeof c.date_of_birth, "%s", dob);
	snprintf(c.gender, sizeof c.gender, "%s", gender);
	snprintf(c.language, sizeof c.language, "%s", lang);
	c.evidence = ev ? json_incref(ev) : json_array();
	json_decref(o);

	if (sqlite3_column_type(st, 10) == SQLITE_BLOB) {
		seal_ad(ad, sizeof ad, "photo", c.number, c.version);
		if (unseal(ks, ad, sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10),
			   &c.photo, &c.photo_len) < 0) {
			card_free(&c);
			return -1;
		}
	}
	if (!c.given_names || !c.family_name) {
		card_free(&c);
		return -1;
	}
	*ret = c;
	return 0;
}

int card_load(struct db *db, const struct keystore *ks, const char *number, struct card *ret)
{
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_LATEST);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), r;
	if (rc == SQLITE_ROW) {
		r = card_from_row(st, ks, ret);
		r = r == 0 || r == -ENODATA ? r : -EIO;
	}
	else
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_reset(st);
	return r;
}

json_t *card_search(struct db *db, const struct keystore *ks, const char *family_name,
		    const char *date_of_birth, const char *public_url)
{
	uint8_t lookup[32];
	lookup_of(ks, family_name, date_of_birth, lookup);
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_SEARCH);
	if (!st)
		return NULL;
	sqlite3_bind_blob(st, 1, lookup, sizeof lookup, SQLITE_STATIC);
	json_t *arr = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct card c;
		if (card_from_row(st, ks, &c) < 0)
			continue;
		json_array_append_new(arr, card_json(&c, ks, public_url));
		card_free(&c);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* ---- showing ---- */

int card_qr_text(const struct card *c, const struct keystore *ks, const char *public_url,
		 char *out, size_t cap)
{
	const struct signing_key *k = keystore_signing(ks, c->kid);
	if (!k || !k->have_secret)
		return -1;
	struct token_claims cl;
	memset(&cl, 0, sizeof cl);
	cl.kid = c->kid;
	memcpy(cl.card_number, c->number, sizeof cl.card_number);
	cl.card_version = (uint8_t)c->version;
	cl.status_index = c->status_index;
	memcpy(cl.date_of_birth, c->date_of_birth, 11);
	memcpy(cl.expires_on, c->expires_on, 11);
	snprintf(cl.given_names, sizeof cl.given_names, "%s", c->given_names);
	snprintf(cl.family_name, sizeof cl.family_name, "%s", c->family_name);
	char token[TOKEN_MAX_CHARS + 1];
	if (token_sign(&cl, k->sk, token) < 0)
		return -1;
	int n = snprintf(out, cap, "%s/v#%s", public_url, token);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

json_t *card_json(const struct card *c, const struct keystore *ks, const char *public_url)
{
	char today[11], pdf_url[64], photo_url[64], qr[1024];
	card_today(today);
	const char *status = c->revoked ? "revoked" : strcmp(c->expires_on, today) < 0 ? "expired"
										    : "active";
	snprintf(pdf_url, sizeof pdf_url, "/api/v1/cards/%s/pdf", c->number);
	snprintf(photo_url, sizeof photo_url, "/api/v1/cards/%s/photo", c->number);
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s}",
			      "card_number", c->number, "version", c->version, "status", status,
			      "given_names", c->given_names, "family_name", c->family_name,
			      "date_of_birth", c->date_of_birth, "issued_on", c->issued_on,
			      "expires_on", c->expires_on, "pdf_url", pdf_url, "evidence",
			      c->evidence ? c->evidence : json_array(), "gender", c->gender,
			      "language", c->language);
	if (!o)
		return NULL;
	char formatted[CARDNUM_FORMATTED + 1];
	cardnum_format(c->number, formatted);
	json_object_set_new(o, "card_number_formatted", json_string(formatted));
	json_object_set_new(o, "address", c->address ? json_string(c->address) : json_null());
	if (c->photo)
		json_object_set_new(o, "photo_url", json_string(photo_url));
	if (c->revoked)
		json_object_set_new(o, "revoke_reason", json_string(c->revoke_reason));
	if (card_qr_text(c, ks, public_url, qr, sizeof qr) == 0)
		json_object_set_new(o, "qr_text", json_string(qr));
	return o;
}

int card_reason_valid(const char *reason)
{
	static const char *const reasons[] = { "lost", "stolen", "damaged", "error", "other", NULL };
	for (const char *const *r = reasons; reason && *r; r++)
		if (strcmp(*r, reason) == 0)
			return 1;
	return 0;
}

int card_revoke(struct db *db, const char *number, const char *reason, const char *actor,
		uint32_t *ret_index)
{
	if (!card_reason_valid(reason))
		return -EINVAL;
	int own = db_join(db);
	if (own < 0)
		return -EIO;
	int r = -EIO, version = 0;
	uint32_t index = 0;
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_LATEST);
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		version = sqlite3_column_int(st, 2);
		index = (uint32_t)sqlite3_column_int64(st, 7);
		if (strcmp(text_col(st, 3), "revoked") == 0)
			r = -EALREADY;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	}
	sqlite3_reset(st);
	if (!version || r == -EALREADY) {
		if (!version && r != -ENOENT)
			r = -EIO;
		goto rollback;
	}
	st = db_stmt(db, STMT_CARD_REVOKE);
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, number, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, version);
	char detail[48];
	snprintf(detail, sizeof detail, "version %d: %s", version, reason);
	if (db_step_done(st, "revoke") < 0 || audit_append(db, actor, "card.revoke", number, detail) < 0 ||
	    db_finish(db, own) < 0) {
		r = -EIO;
		goto rollback;
	}
	*ret_index = index;
	return 0;
rollback:
	db_abandon(db, own);
	return r;
}

int card_new_version(struct db *db, const struct keystore *ks, const char *number,
		     enum card_change kind, const char *actor, struct card *ret,
		     char ret_code[REPRINT_CODE_CHARS], uint32_t ret_revoked[255], size_t *ret_nrevoked)
{
	struct card c;
	char code[REPRINT_CODE_CHARS], *pj = NULL;
	uint8_t lookup[32], code_hash[32];
	const char *why = kind == CARD_RENEW ? "renewed" : "reissued";
	size_t nrev = 0;
	int r = -EIO;
	memset(&c, 0, sizeof c);

	/* Joins the caller's transaction when one is open (reprint approval). */
	int own = db_join(db);
	if (own < 0)
		return -EIO;
	sqlite3_stmt *st = db_stmt(db, STMT_CARD_LATEST);
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int loaded = rc == SQLITE_ROW ? card_from_row(st, ks, &c) : -1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto rollback;
	}
	if (loaded < 0) {
		r = loaded == -ENODATA ? -ENODATA : -EIO;
		goto rollback;
	}
	char today[11];
	card_today(today);
	int expired = strcmp(c.expires_on, today) < 0;
	if (kind == CARD_REPLACE)
		kind = expired ? CARD_RENEW : CARD_REISSUE;
	if (kind == CARD_REISSUE && expired) {
		r = -EKEYEXPIRED;   /* a reissue would print an expired card */
		goto rollback;
	}
	if (c.version >= 255) {
		r = -ERANGE;
		goto rollback;
	}
	int previous = c.version;
	c.version++;
	c.revoked = 0;
	c.revoke_reason[0] = '\0';
	c.kid = ks->current_kid;
	card_today(c.issued_on);
	if (kind == CARD_RENEW)
		add_years(c.issued_on, card_validity_years(c.date_of_birth, c.issued_on),
			  c.expires_on);
	if (!(pj = personal_json(&c)))
		goto rollback;
	lookup_of(ks, c.family_name, c.date_of_birth, lookup);
	new_code(ks, code, code_hash);

	/* Earlier versions: their bits go up once this commits. */
	st = db_stmt(db, STMT_CARD_EARLIER_INDEXES);
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, c.version);
	while (sqlite3_step(st) == SQLITE_ROW && nrev < 255)
		ret_revoked[nrev++] = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = db_stmt(db, STMT_CARD_REVOKE_EARLIER);
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, number, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, c.version);
	if (db_step_done(st, "revoke earlier versions") < 0)
		goto rollback;

	int k = 1;
	for (int attempt = 0; attempt < 16 && k == 1; attempt++) {
		c.status_index = randombytes_uniform(1u << 24);
		k = insert_version(db, ks, &c, pj, lookup, code_hash, actor);
	}
	char detail[48];
	snprintf(detail, sizeof detail, "version %d (version %d %s)", c.version, previous, why);
	if (k != 0 || audit_append(db, actor, kind == CARD_RENEW ? "card.renew" : "card.reissue",
				   number, detail) < 0 || db_finish(db, own) < 0)
		goto rollback;
	memcpy(ret_code, code, REPRINT_CODE_CHARS);
	*ret_nrevoked = nrev;
	*ret = c;
	r = 0;
	goto out;
rollback:
	db_abandon(db, own);
	card_free(&c);
out:
	sodium_memzero(code, sizeof code);
	if (pj) {
		sodium_memzero(pj, strlen(pj));
		free(pj);
	}
	return r;
}

int card_purge(struct db *db, int everything, int retention_days, const char *actor,
	       int64_t *ret_count)
{
	int own = db_join(db);
	if (own < 0)
		return -1;
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *st = db_stmt(db, everything ? STMT_PURGE_ALL : STMT_PURGE_EXPIRED);
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if (!everything) {
		char today[11], limit[11];
		int y, m, d;
		card_today(today);
		date_parse(today, &y, &m, &d);
		civil_from_days(days_from_civil(y, m, d) - retention_days, limit);
		sqlite3_bind_text(st, 2, limit, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now - (int64_t)retention_days * 86400);
	}
	if (db_step_done(st, "purge") < 0)
		goto fail;
	int64_t n = sqlite3_changes64(db_handle(db));
	char detail[64];
	snprintf(detail, sizeof detail, "%lld card versions erased%s", (long long)n,
		 everything ? "; data key destroyed" : "");
	if (audit_append(db, actor, everything ? "purge.everything" : "purge.expired", "", detail) < 0)
		goto fail;
	if (db_finish(db, own) < 0)
		return -1;
	*ret_count = n;
	return 0;
fail:
	db_abandon(db, own);
	return -1;
}
