/* reprint.h — residents' reprint requests and lost-card reports.
 *
 * A resident proves they hold the card with three facts: its number, the
 * date of birth on it, and the one-time reprint code from the receipt
 * (stored only as a keyed hash). A request keeps only the card number and
 * whether the card was reported lost: no free text, no contact details. */
#ifndef CIVICARD_REPRINT_H
#define CIVICARD_REPRINT_H

#include <jansson.h>
#include <stdint.h>

#include "cardnum.h"
#include "db.h"
#include "keys.h"

/* Attempts allowed per window, whatever their outcome. */
#define REPRINT_ADDR_LIMIT 30      /* a library computer serves many residents */
#define REPRINT_CARD_LIMIT 5
#define REPRINT_WINDOW 3600

struct reprint_request {
	int64_t id;
	char card_number[CARDNUM_LEN + 1];
	int report_lost;
	char status[12];                /* pending, approved, rejected */
	int64_t created_at;
};

/* Normalise a typed reprint code (dashes, spaces, lower case, O for 0):
 * 0 with the 12 canonical characters in out, -1 when malformed. */
int reprint_code_parse(const char *in, char out[13]);

/* 1 when number, date of birth and code belong together (latest version
 * of the card), 0 when not (or no such card), -1 on error. Constant-time
 * comparison of the code. */
int reprint_check(struct db *db, const struct keystore *ks, const char *number, const char *dob,
		  const char *code_canonical);

/* Record a request (audited as by "resident"). 0 or -1. */
int reprint_request_add(struct db *db, const char *number, int report_lost, int64_t *ret_id);
/* Requests, newest first; status "" for all. JSON array, or NULL. */
json_t *reprint_request_list(struct db *db, const char *status);
/* 0, -ENOENT, -EIO. */
int reprint_request_get(struct db *db, int64_t id, struct reprint_request *ret);
/* pending → approved/rejected, inside the caller's transaction when one
 * is open. 0, -EALREADY (not pending), -EIO. Audited. */
int reprint_request_decide(struct db *db, int64_t id, int approve, const char *actor);

json_t *reprint_request_json(const struct reprint_request *r);

#endif
