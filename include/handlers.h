/* handlers.h — every request handler, named in routes.c. */
#ifndef CIVICARD_HANDLERS_H
#define CIVICARD_HANDLERS_H

#include "http.h"

/* Operations: src/http/ops.c */
void op_healthz(struct request *req);
void op_metrics(struct request *req);
void op_static(struct request *req);
void op_audit(struct request *req);

/* Staff API: src/http/api_auth.c */
void api_login(struct request *req);
void api_logout(struct request *req);
void api_me(struct request *req);
void api_password(struct request *req);

/* Cards API: src/http/api_cards.c */
void api_card_issue(struct request *req);
void api_card_get(struct request *req);
void api_card_search(struct request *req);
void api_card_photo(struct request *req);
void api_card_pdf(struct request *req);
void api_card_reissue(struct request *req);
void api_card_renew(struct request *req);
/* Shared with the clerk's pages. */
struct card;
struct card_input;
/* Read the card fields of a form (multipart or urlencoded) into in. 0, or
 * -1 with *ret_unknown naming a field the service does not collect (NULL
 * for too many evidence entries). Strings point into the form. */
int card_input_from_form(const struct form *f, struct card_input *in, const char **ret_unknown);
void card_send_pdf(struct request *req, const struct card *c, const char *format);
void card_send_photo(struct request *req, const struct card *c);
/* 201 with a card just stored and its one-time reprint code (wiped
 * afterwards); frees c. */
void respond_new_card(struct request *req, struct card *c, char code[15]);
/* One audit entry by the logged-in user about a card number. 0, or -1
 * (logged): then show no personal data. */
int audit_card(struct request *req, const char *action, const char *number, const char *detail);

/* Verification and revocation: src/http/api_verify.c */
void api_verify(struct request *req);
void api_keys(struct request *req);
void api_status_list(struct request *req);
void api_card_revoke(struct request *req);
struct app;
/* The verification answer for a QR text (JSON, caller owns). */
json_t *verify_qr(const struct app *app, const char *qr);

/* Reprint requests: src/http/api_reprint.c */
void api_reprint_request(struct request *req);
void api_reprint_list(struct request *req);
void api_reprint_approve(struct request *req);
void api_reprint_reject(struct request *req);
/* Approve request id: the decision and a new card version (reissue, or
 * renewal when expired) in one transaction, then the status bits. 0 with
 * the card (card_free) and its new reprint code; -ENOENT, -EALREADY,
 * -EIO. Shared by the API and the clerk's queue page. */
int reprint_approve(struct request *req, int64_t id, struct card *ret, char ret_code[15]);
enum reprint_outcome {
	REPRINT_ACCEPTED, REPRINT_BAD_NUMBER, REPRINT_BAD_DATE, REPRINT_BAD_CODE,
	REPRINT_THROTTLED, REPRINT_NOT_VERIFIED, REPRINT_ERROR,
};
/* A resident's request, as the API and the /reprint page take it: checks
 * the three facts (rate limited per address and card), records it, and
 * revokes at once when report_lost. *ret_id on REPRINT_ACCEPTED,
 * *ret_retry_after (seconds) on REPRINT_THROTTLED. */
enum reprint_outcome reprint_submit(struct request *req, const char *card_number, const char *dob,
				    const char *code, int report_lost, int64_t *ret_id,
				    int *ret_retry_after);

/* Staff pages: src/ui/pages_auth.c */
void ui_home(struct request *req);
void ui_login_page(struct request *req);
void ui_login(struct request *req);
void ui_logout(struct request *req);
void ui_dashboard(struct request *req);
void ui_password_page(struct request *req);
void ui_password(struct request *req);

#endif
