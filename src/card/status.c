/* status.c — the revocation bitstring and its signed, compressed form. */
#include "status.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

struct status_list {
	_Atomic uint8_t *bits;           /* STATUS_BITS / 8 bytes; bit i of byte i/8, MSB first */
	atomic_uint_fast64_t changes;    /* bumped by every set */
	pthread_mutex_t lock;            /* guards the cached document */
	uint64_t doc_changes;            /* changes the cached document reflects */
	uint8_t doc_kid;
	char *doc;
	size_t doc_len;
	char etag[32];
};

int status_list_load(struct db *db, struct status_list **ret)
{
	struct status_list *sl = calloc(1, sizeof *sl);
	if (!sl)
		return -1;
	sl->bits = calloc(STATUS_BITS / 8, 1);
	if (!sl->bits) {
		free(sl);
		return -1;
	}
	pthread_mutex_init(&sl->lock, NULL);
	sl->doc_changes = UINT64_MAX;
	sqlite3_stmt *st = db_stmt(db, STMT_STATUS_REVOKED);
	if (!st)
		goto fail;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 i = sqlite3_column_int64(st, 0);
		if (i >= 0 && i < STATUS_BITS)
			status_list_set(sl, (uint32_t)i);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	*ret = sl;
	return 0;
fail:
	status_list_free(sl);
	return -1;
}

void status_list_free(struct status_list *sl)
{
	if (!sl)
		return;
	pthread_mutex_destroy(&sl->lock);
	free((void *)sl->bits);
	free(sl->doc);
	free(sl);
}

int status_list_is_set(const struct status_list *sl, uint32_t index)
{
	if (index >= STATUS_BITS)
		return 0;
	uint8_t byte = atomic_load_explicit(&sl->bits[index / 8], memory_order_relaxed);
	return (byte >> (7 - index % 8)) & 1;
}

void status_list_set(struct status_list *sl, uint32_t index)
{
	if (index >= STATUS_BITS)
		return;
	atomic_fetch_or(&sl->bits[index / 8], (uint8_t)(0x80u >> (index % 8)));
	atomic_fetch_add(&sl->changes, 1);
}

/* deflate (zlib format) of the bits. *ret from malloc(). */
static int compress_bits(const struct status_list *sl, uint8_t **ret, size_t *ret_len)
{
	uLongf cap = compressBound(STATUS_BITS / 8);
	uint8_t *raw = malloc(STATUS_BITS / 8), *out = malloc(cap);
	int r = -1;
	if (!raw || !out)
		goto done;
	for (size_t i = 0; i < STATUS_BITS / 8; i++)
		raw[i] = atomic_load_explicit(&sl->bits[i], memory_order_relaxed);
	if (compress2(out, &cap, raw, STATUS_BITS / 8, 9) != Z_OK)
		goto done;
	*ret = out;
	*ret_len = cap;
	out = NULL;
	r = 0;
done:
	free(raw);
	free(out);
	return r;
}

/* Remake the signed document. Called with the lock held. */
static int rebuild(struct status_list *sl, const struct keystore *ks, uint64_t changes)
{
	const struct signing_key *k = keystore_signing(ks, ks->current_kid);
	uint8_t *z = NULL, sig[crypto_sign_BYTES];
	size_t zlen;
	char *b64 = NULL, *signed_text = NULL, sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
						  sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char issued[32];
	int r = -1;
	if (!k || !k->have_secret || compress_bits(sl, &z, &zlen) < 0)
		goto done;
	size_t b64cap = sodium_base64_ENCODED_LEN(zlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	b64 = malloc(b64cap);
	if (!b64)
		goto done;
	sodium_bin2base64(b64, b64cap, z, zlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(issued, sizeof issued, "%Y-%m-%dT%H:%M:%SZ", &tm);

	/* Signed: these lines, exactly (docs/verification.md). */
	if (asprintf(&signed_text, "civicard-status-list-v1\n%u\n%s\n%u\n%s", k->kid, issued,
		     STATUS_BITS, b64) < 0) {
		signed_text = NULL;
		goto done;
	}
	crypto_sign_detached(sig, NULL, (const uint8_t *)signed_text, strlen(signed_text), k->sk);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	char *doc;
	int n = asprintf(&doc, "{\"format\":\"civicard-status-list-v1\",\"kid\":%u,\"issued_at\":\"%s\","
			       "\"size\":%u,\"encoding\":\"zlib\",\"bits\":\"%s\",\"signature\":\"%s\"}",
			 k->kid, issued, STATUS_BITS, b64, sig64);
	if (n < 0)
		goto done;
	free(sl->doc);
	sl->doc = doc;
	sl->doc_len = (size_t)n;
	sl->doc_changes = changes;
	sl->doc_kid = k->kid;
	uint8_t h[8];
	crypto_generichash(h, sizeof h, (const uint8_t *)doc, (size_t)n, NULL, 0);
	snprintf(sl->etag, sizeof sl->etag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7]);
	r = 0;
done:
	free(z);
	free(b64);
	free(signed_text);
	return r;
}

int status_list_document(struct status_list *sl, const struct keystore *ks, char **ret,
			 size_t *ret_len, char etag[32])
{
	int r = 0;
	pthread_mutex_lock(&sl->lock);
	uint64_t changes = atomic_load(&sl->changes);
	if (!sl->doc || sl->doc_changes != changes || sl->doc_kid != ks->current_kid)
		r = rebuild(sl, ks, changes);
	char *copy = r == 0 ? malloc(sl->doc_len) : NULL;
	if (copy) {
		memcpy(copy, sl->doc, sl->doc_len);
		*ret = copy;
		*ret_len = sl->doc_len;
		memcpy(etag, sl->etag, sizeof sl->etag);
	} else {
		r = -1;
	}
	pthread_mutex_unlock(&sl->lock);
	return r;
}
