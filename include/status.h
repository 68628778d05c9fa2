/* status.h — the revocation status list.
 *
 * One bit per possible status index (2^24 of them, most never used): a
 * card version whose bit is set is revoked. Every client fetches the whole
 * list, signed and compressed, so fetching it says nothing about which
 * card is being checked. The bits live in memory, built from the database
 * at start-up and set as cards are revoked; the signed document is remade
 * only when a bit changed. Format: docs/verification.md. */
#ifndef CIVICARD_STATUS_H
#define CIVICARD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "keys.h"

#define STATUS_BITS (1u << 24)

struct status_list;

/* Every revoked card version's bit set. 0 or -1. */
int status_list_load(struct db *db, struct status_list **ret);
void status_list_free(struct status_list *sl);
/* Lock-free read, safe from any thread. */
int status_list_is_set(const struct status_list *sl, uint32_t index);
/* Set a bit (after the revocation is committed). */
void status_list_set(struct status_list *sl, uint32_t index);

/* The current signed document: a copy from malloc() in *ret (caller
 * frees), its length, and its ETag ("\"…\""). 0 or -1. */
int status_list_document(struct status_list *sl, const struct keystore *ks, char **ret,
			 size_t *ret_len, char etag[32]);

#endif
