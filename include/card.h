/* card.h — cards: what a clerk submits, what is stored, what is printed.
 *
 * The rules both the JSON API (src/http/api_cards.c) and the clerk's pages
 * (src/ui/pages_cards.c) follow: validation with field-level errors,
 * sealing, signing, search, and the card as JSON. */
#ifndef CIVICARD_CARD_H
#define CIVICARD_CARD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cardnum.h"
#include "db.h"
#include "keys.h"
#include "token.h"

#define EVIDENCE_MAX 8
#define REPRINT_CODE_CHARS 15        /* XXXX-XXXX-XXXX + NUL */

/* What a clerk submits. Strings are as received (UTF-8, not yet cleaned);
 * the caller owns everything. */
struct card_input {
	const char *given_names;
	const char *family_name;
	const char *date_of_birth;       /* YYYY-MM-DD */
	const char *address;             /* optional */
	const char *gender;              /* optional: F, M, X or "" */
	const char *language;            /* optional: fr, en, es, ... */
	const char *evidence[EVIDENCE_MAX];
	size_t nevidence;
	const uint8_t *photo;            /* JPEG or PNG as uploaded */
	size_t photo_len;
};

/* A field-level refusal: field name and an English sentence. */
struct field_error {
	const char *field;
	const char *code;                /* "invalid_field" or a photo code */
	char message[160];
};

/* A card version as stored, unsealed. Strings from malloc(); card_free. */
struct card {
	int64_t id;
	char number[CARDNUM_LEN + 1];
	int version;
	int revoked;
	char revoke_reason[16];
	char issued_on[11];
	char expires_on[11];
	uint32_t status_index;
	uint8_t kid;
	char *given_names;
	char *family_name;
	char date_of_birth[11];
	char *address;                   /* NULL when none */
	char gender[2];                  /* "", "F", "M", "X" */
	char language[16];
	json_t *evidence;                /* array of codes */
	uint8_t *photo;                  /* normalised JPEG, NULL when none */
	size_t photo_len;
};

/* The evidence document types this city accepts (codes), NULL-ended. */
extern const char *const *card_evidence_types;
#define EVIDENCE_TYPES_MAX 16
/* Replace them with a comma-separated list of codes ([a-z0-9_], at most
 * 16). At start-up only. Each code needs a label `card.evidence.CODE` in
 * every catalogue (checked at start-up). 0 or -1. */
int card_set_evidence_types(const char *list);

struct card_fonts;
/* Check and clean the input into a card (not stored yet). With fonts,
 * names must also be printable in them. 0, or -1 with *ret_err set and
 * nothing allocated. The photo is decoded and re-encoded here (slow: call
 * from a worker thread). */
int card_prepare(const struct card_input *in, const struct card_fonts *fonts, struct card *ret,
		 struct field_error *ret_err);

/* Store a prepared card as version 1 of a new random number, with a new
 * reprint code (shown once, stored as a keyed hash). Fills number,
 * version, dates, status index and key id in c. Audited. 0 or -1. */
int card_issue(struct db *db, const struct keystore *ks, struct card *c, const char *actor,
	       char ret_reprint_code[REPRINT_CODE_CHARS]);

/* Erase personal data and photos: of every card version (everything), or
 * of versions expired, or revoked, more than retention_days ago. Keeps
 * what verification needs. Audited. 0 with the count, or -1. */
int card_purge(struct db *db, int everything, int retention_days, const char *actor,
	       int64_t *ret_count);

/* The latest version of a card. 0, -ENOENT, -ENODATA (erased), or -EIO. */
int card_load(struct db *db, const struct keystore *ks, const char *number, struct card *ret);

/* Latest versions of the cards whose family name and date of birth match
 * exactly after NFC and case folding. Returns a JSON array of cards
 * (card_json form), or NULL on error. */
json_t *card_search(struct db *db, const struct keystore *ks, const char *family_name,
		    const char *date_of_birth, const char *public_url);

/* The card as the API shows it; qr_text is "<public_url>/v#<token>". */
json_t *card_json(const struct card *c, const struct keystore *ks, const char *public_url);
/* The QR code's text. 0 or -1. */
int card_qr_text(const struct card *c, const struct keystore *ks, const char *public_url,
		 char *out, size_t cap);

/* Revoke the latest version of a card (reason: lost, stolen, damaged,
 * error, other). Audited. On success *ret_index is the version's status
 * index, for the status list. Joins the caller's transaction when one is
 * open. 0, -ENOENT (no such card), -EALREADY
 * (already revoked), -EINVAL (reason), -EIO. */
int card_revoke(struct db *db, const char *number, const char *reason, const char *actor,
		uint32_t *ret_index);
int card_reason_valid(const char *reason);

enum card_change {
	CARD_REISSUE,   /* same expiry; refused (-EKEYEXPIRED) for an expired card */
	CARD_RENEW,     /* new expiry from today */
	CARD_REPLACE,   /* a resident's reprint: reissue, or renew when expired */
};
/* A new version of a card from its latest one: same person, same photo,
 * a new QR code, status index and reprint code. A reissue keeps the
 * expiry date; a renewal runs from today. Every earlier version is
 * revoked ("reissued"/"renewed"); their status indexes are returned in
 * ret_revoked (caller sets their bits; at most 255). Audited. 0, -ENOENT,
 * -ENODATA (erased), -EKEYEXPIRED, -ERANGE (255 versions), -EIO. */
int card_new_version(struct db *db, const struct keystore *ks, const char *number,
		     enum card_change kind, const char *actor, struct card *ret,
		     char ret_code[REPRINT_CODE_CHARS], uint32_t ret_revoked[255], size_t *ret_nrevoked);

/* Today in the server's time zone, YYYY-MM-DD. */
void card_today(char out[11]);

void card_free(struct card *c);      /* accepts a zeroed card */

#endif
