/* audit.h — the append-only, hash-chained audit log of staff actions.
 *
 * Entry n stores hash(n) = BLAKE2b-256(hash(n-1) || fields of n), with
 * hash(0) = 32 zero bytes; see docs/architecture.md. Nothing about a
 * resident beyond a card number ever goes into subject or detail. */
#ifndef CIVICARD_AUDIT_H
#define CIVICARD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define AUDIT_HASH_BYTES 32

/* Append one entry. Joins the caller's transaction if one is open, else
 * runs in its own BEGIN IMMEDIATE. 0 or -1. */
int audit_append(struct db *db, const char *actor, const char *action,
		 const char *subject, const char *detail);

/* Walk the whole chain. 0 when intact (count in *ret_entries); 1 when it
 * breaks, with the first bad entry's id in *ret_bad_id and a reason in
 * why; -1 on a database error. */
int audit_verify(struct db *db, int64_t *ret_entries, int64_t *ret_bad_id,
		 char *why, size_t whylen);

/* The newest entry: its id (0 when the log is empty) and hash. The pair,
 * written down somewhere else, is an anchor: the chain alone proves order
 * and content, not that nothing was cut from its end. 0 or -1. */
int audit_head(struct db *db, int64_t *ret_id, uint8_t ret_hash[AUDIT_HASH_BYTES]);

/* Is entry id still the one with this hash? 0 yes, 1 no (missing or
 * different: the log was cut or rewritten since the anchor), -1 error. */
int audit_anchor_check(struct db *db, int64_t id, const uint8_t hash[AUDIT_HASH_BYTES]);

/* Entries with id < before (0: from the newest), newest first, at most
 * limit, as a JSON array of {id, at, actor, action, subject, detail}.
 * NULL on error. */
struct json_t;
struct json_t *audit_page(struct db *db, int64_t before, int limit);

/* The chain hash of one entry (exposed for tests). */
void audit_hash(const uint8_t prev[AUDIT_HASH_BYTES], int64_t id, int64_t at,
		const char *actor, const char *action, const char *subject,
		const char *detail, uint8_t out[AUDIT_HASH_BYTES]);

#endif
