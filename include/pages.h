/* pages.h — the clerk's card pages (src/ui/pages_cards.c) and the public
 * verification page (src/ui/pages_verify.c).
 *
 * Routes (all for clerks and administrators, cookie session):
 *   GET  /cards/new           the issue form
 *   POST /cards/new           issue (multipart, CSRF; slow: the photo is
 *                             decoded); the answer shows the card and the
 *                             resident's one-time reprint code, never a
 *                             redirect, so the code is in no URL
 *   GET  /cards/search        the search forms; ?card_number=… leads to the
 *                             card's page. A name or date of birth in the
 *                             query is ignored: never searched for, never
 *                             shown (it would sit in the browser's history)
 *   POST /cards/search        by family name + date of birth (urlencoded,
 *                             CSRF); the answer lists the cards, never a
 *                             redirect, so the name is in no URL
 *   GET  /cards/{n}           one card
 *   GET  /cards/{n}/photo     its photo (JPEG)
 *   GET  /cards/{n}/pdf       its PDF; ?format=sheet (A4) or letter (slow)
 *   POST /cards/{n}/revoke    revoke it (urlencoded, CSRF; reason, and
 *                             confirm=yes from a ticked box); the answer is
 *                             the card page, revoked (or 400 with the
 *                             form's errors, 409 if already revoked)
 *   POST /cards/{n}/reissue   a new version, same expiry (urlencoded, CSRF,
 *                             no other field); 201, answered like POST
 *                             /cards/new, with the new one-time reprint
 *                             code; earlier versions verify as revoked.
 *                             409 for an expired card: renew it instead
 *   POST /cards/{n}/renew     the same, with a new expiry from today
 *
 * And the public verification page (src/ui/pages_verify.c), no login:
 *   GET  /v                   the page a card's QR code opens; the token is
 *                             in the URL fragment and never reaches the
 *                             server: the page checks it in the browser
 *   GET  /sw.js               its service worker (offline checking), from
 *                             the root so that it may control /v
 */
#ifndef CIVICARD_PAGES_H
#define CIVICARD_PAGES_H

#include <stddef.h>

#include "http.h"

struct tpl_set;

void ui_card_new_page(struct request *req);
void ui_card_new(struct request *req);
void ui_card_search_page(struct request *req);
void ui_card_search(struct request *req);
void ui_card_view(struct request *req);
void ui_card_photo(struct request *req);
void ui_card_pdf(struct request *req);
void ui_card_revoke(struct request *req);
void ui_card_reissue(struct request *req);
void ui_card_renew(struct request *req);

/* The catalogue keys these pages look up at run time (field errors,
 * evidence types, languages, genders, revocation reasons, the resident's
 * receipt, why a card action was refused) rather than through {{t:…}} in
 * a template, which the template loader already checks. 0 when set has
 * them all; -1 with the first missing key named in err. For start-up and the unit test. */
int ui_cards_check(const struct tpl_set *set, char *err, size_t errlen);

void ui_verify_page(struct request *req);
void ui_verify_sw(struct request *req);

/* The catalogue keys the verification page's script reads (sent to it
 * for every language). 0 when set has them all; -1 with the first missing
 * key named in err. For start-up and the unit test. */
int ui_verify_check(const struct tpl_set *set, char *err, size_t errlen);

/* The residents' page (src/ui/pages_reprint.c), no login:
 *   GET  /reprint             the form: card number, date of birth, reprint
 *                             code, and "new card" or "lost: cancel it
 *                             now"; ?expired=1 says the form expired
 *   POST /reprint             urlencoded (ROUTE_FORM | ROUTE_PRELOGIN: CSRF
 *                             from its own civicard_login cookie, Path=
 *                             /reprint); reprint_submit(), answered with the
 *                             confirmation (200) or the form again: 400
 *                             field errors, 422 not verified, 429 with
 *                             Retry-After, 500. Never echoes the code. */
void ui_reprint_page(struct request *req);
void ui_reprint(struct request *req);

/* The "card issued" page (src/ui/pages_cards.c): 201, the card c and the
 * resident's receipt with the one-time reprint code (REPRINT_CODE_CHARS, 15),
 * which is wiped afterwards; replaced: a new version of an existing card.
 * Also the answer to approving a reprint request (pages_staff.c). */
struct card;
void ui_card_issued_page(struct request *req, const struct card *c, char code[15], int replaced);

/* The staff pages (src/ui/pages_staff.c), cookie session:
 *   GET  /requests            the reprint queue, clerks and admins: pending
 *                             requests, newest first, each with approve and
 *                             reject forms, and the ones recently decided
 *   POST /requests/{id}/approve  (urlencoded, CSRF, no other field) as the
 *                             API: the decision and a reissue in one
 *                             transaction; answered with the "card issued"
 *                             page (201) and the new reprint code. 409 when
 *                             already decided, 404 for no such request
 *   POST /requests/{id}/reject   the same; answered with the queue and a
 *                             notice (200), or 409/404
 *   GET  /audit               the audit log, auditors and admins: 100
 *                             entries a page, newest first, ?before=ID for
 *                             older ones, and whether the chain is intact */
/* The staff accounts (src/ui/pages_staff.c), administrators only:
 *   GET  /users               every account: name, role, active or
 *                             disabled, created; the add form
 *   POST /users               add one (urlencoded, CSRF; username, role;
 *                             slow: Argon2id): 201 with its one-time
 *                             password shown once; 400 field errors beside
 *                             the fields, 409 the name is taken
 *   POST /users/{id}/disable  (CSRF only) ends its sessions; 200 the page
 *   POST /users/{id}/enable   (CSRF only)
 *   POST /users/{id}/reset    (CSRF only; slow) a new one-time password,
 *                             its sessions ended, its sign-in throttle
 *                             cleared
 * For the caller's own account these three answer 409 and change nothing;
 * 404 for no such account. Each change is audited (user.create,
 * user.disable, user.enable, user.reset) with the account's name. */
void ui_users_page(struct request *req);
void ui_user_add(struct request *req);
void ui_user_disable(struct request *req);
void ui_user_enable(struct request *req);
void ui_user_reset(struct request *req);

void ui_requests_page(struct request *req);
void ui_request_approve(struct request *req);
void ui_request_reject(struct request *req);
void ui_audit_page(struct request *req);

/* For ui_dashboard (pages_auth.c): adds ctx.requests = {count} (pending
 * reprint requests) when the user is a clerk or an admin. */
void ui_dashboard_staff(struct request *req, json_t *ctx);

/* The catalogue keys the staff pages look up at run time (audit action
 * names, why the chain broke, the staff accounts' roles, field errors and
 * notices). 0, or -1 with the missing key in err. */
int ui_staff_check(const struct tpl_set *set, char *err, size_t errlen);

#endif
