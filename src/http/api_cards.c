/* api_cards.c — the cards API: issue, show, search, photo, PDF.
 *
 * Every view, search, issue and PDF is written to the audit log with the
 * card number (never a name or a search term). */
#include "app.h"
#include "audit.h"
#include "card.h"
#include "card_pdf.h"
#include "handlers.h"
#include "log.h"
#include "photo.h"
#include "status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const card_fields[] = {
	"given_names", "family_name", "date_of_birth", "photo", "address", "gender", "language",
	"evidence", "csrf", NULL,
};

int card_input_from_form(const struct form *f, struct card_input *ret, const char **ret_unknown)
{
	struct card_input in;
	memset(&in, 0, sizeof in);
	for (size_t i = 0; i < f->count; i++) {
		const char *k = f->names[i], *v = f->values[i];
		if (strcmp(k, "evidence") == 0) {
			if (in.nevidence == EVIDENCE_MAX) {
				*ret_unknown = NULL;
				return -1;
			}
			if (v[0])
				in.evidence[in.nevidence++] = v;
			continue;
		}
		int known = 0;
		for (const char *const *a = card_fields; *a; a++)
			known |= strcmp(k, *a) == 0;
		if (!known || strcmp(k, "photo") == 0) {
			*ret_unknown = k;
			return -1;
		}
	}
	for (size_t i = 0; i < f->nfiles; i++) {
		if (strcmp(f->files[i].name, "photo") != 0) {
			*ret_unknown = f->files[i].name;
			return -1;
		}
	}
	in.given_names = form_get(f, "given_names");
	in.family_name = form_get(f, "family_name");
	in.date_of_birth = form_get(f, "date_of_birth");
	in.address = form_get(f, "address");
	in.gender = form_get(f, "gender");
	in.language = form_get(f, "language");
	const struct form_file *photo = form_file(f, "photo");
	if (photo) {
		in.photo = photo->data;
		in.photo_len = photo->len;
	}
	*ret = in;
	return 0;
}

int audit_card(struct request *req, const char *action, const char *number, const char *detail)
{
	struct db *db = db_thread();
	if (!db || audit_append(db, req->session.username, action, number, detail) < 0) {
		log_error("audit %s failed", action);
		return -1;
	}
	return 0;
}

/* The card of the {card_number} path parameter, with 400/404 answered. */
static int card_of_path(struct request *req, struct card *ret)
{
	char number[CARDNUM_LEN + 1];
	struct db *db = db_thread();
	if (cardnum_parse(req->params[0], number) < 0) {
		resp_error(req, 400, "invalid_card_number",
			   "not a card number: a character is wrong or missing (check digit)");
		return -1;
	}
	int r = db ? card_load(db, app_keys(req->app), number, ret) : -EIO;
	if (r == -ENOENT) {
		resp_error(req, 404, "not_found", "no card with this number");
		return -1;
	}
	if (r == -ENODATA) {
		resp_error(req, 410, "erased", "this card's personal data has been erased");
		return -1;
	}
	if (r < 0) {
		resp_error(req, 500, "internal_error", "the card could not be read");
		return -1;
	}
	return 0;
}

/* 201 with a card just stored and its one-time reprint code (wiped after);
 * frees c. Also used by reprint approval. */
void respond_new_card(struct request *req, struct card *c, char code[15])
{
	_Static_assert(REPRINT_CODE_CHARS == 15, "handlers.h spells the code's size out");
	json_t *o = card_json(c, app_keys(req->app), req->app->public_url);
	json_object_set_new(o, "reprint_code", json_string(code));
	sodium_memzero(code, REPRINT_CODE_CHARS);
	resp_header(req, "Location", "/api/v1/cards/%s", c->number);
	resp_json(req, 201, o);
	card_free(c);
}

void api_card_issue(struct request *req)
{
	struct db *db = db_thread();
	if (!req->content_type || strncasecmp(req->content_type, "multipart/form-data", 19) != 0) {
		resp_error(req, 415, "unsupported_media_type", "send multipart/form-data");
		return;
	}
	if (form_parse_multipart(req->body.data ? req->body.data : "", req->body.len,
				 req->content_type, &req->form) < 0) {
		resp_error(req, 400, "bad_request", "the multipart body could not be read");
		return;
	}
	struct card_input in;
	const char *unknown = NULL;
	if (card_input_from_form(&req->form, &in, &unknown) < 0) {
		if (unknown)
			resp_json(req, 400, json_pack("{s:s, s:s, s:s}", "error", "unknown_field", "field",
						      unknown, "message",
						      "this service does not collect that field"));
		else
			resp_field_error(req, "evidence", "too many evidence entries");
		return;
	}
	struct card c;
	struct field_error fe;
	if (card_prepare(&in, req->app->fonts, &c, &fe) < 0) {
		resp_json(req, strcmp(fe.code, "invalid_field") == 0 ? 400 : 422,
			  json_pack("{s:s, s:s, s:s}", "error", strcmp(fe.code, "invalid_field") == 0
								? "invalid_field" : fe.code,
				    "field", fe.field, "message", fe.message));
		return;
	}
	char code[REPRINT_CODE_CHARS];
	if (!db || card_issue(db, app_keys(req->app), &c, req->session.username, code) < 0) {
		card_free(&c);
		resp_error(req, 500, "internal_error", "the card could not be stored");
		return;
	}
	respond_new_card(req, &c, code);
}

void api_card_get(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c) < 0)
		return;
	/* No audit entry, no personal data. */
	if (audit_card(req, "card.view", c.number, "") < 0)
		resp_error(req, 503, "unavailable", "the view could not be recorded; try again");
	else
		resp_json(req, 200, card_json(&c, app_keys(req->app), req->app->public_url));
	card_free(&c);
}

void api_card_search(struct request *req)
{
	const char *family = req_query(req, "family_name");
	const char *dob = req_query(req, "date_of_birth");
	struct db *db = db_thread();
	int y, m, d;
	if (!family || !family[0] || strlen(family) > 256) {
		resp_field_error(req, "family_name", "family_name is required");
		return;
	}
	if (!dob || date_parse(dob, &y, &m, &d) < 0) {
		resp_field_error(req, "date_of_birth", "date_of_birth is required, YYYY-MM-DD");
		return;
	}
	json_t *cards = db ? card_search(db, app_keys(req->app), family, dob, req->app->public_url) : NULL;
	if (!cards) {
		resp_error(req, 500, "internal_error", "the search failed");
		return;
	}
	char detail[32];
	snprintf(detail, sizeof detail, "%zu found", json_array_size(cards));
	audit_card(req, "card.search", "", detail);
	resp_json(req, 200, json_pack("{s:o}", "cards", cards));
}

void card_send_photo(struct request *req, const struct card *c)
{
	if (!c->photo) {
		resp_error(req, 404, "not_found", "this card has no photo");
		return;
	}
	uint8_t *copy = malloc(c->photo_len);
	if (!copy) {
		resp_error(req, 500, "internal_error", "out of memory");
		return;
	}
	memcpy(copy, c->photo, c->photo_len);
	resp_text(req, 200, "image/jpeg", (char *)copy, c->photo_len);
	req->resp.cache_control = "private, no-store";
}

void api_card_photo(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c) < 0)
		return;
	if (audit_card(req, "card.photo", c.number, "") < 0)
		resp_error(req, 503, "unavailable", "the view could not be recorded; try again");
	else
		card_send_photo(req, &c);
	card_free(&c);
}

void card_send_pdf(struct request *req, const struct card *c, const char *format)
{
	enum card_format fmt = CARD_FORMAT_CR80;
	if (format && strcmp(format, "sheet") == 0)
		fmt = CARD_FORMAT_A4;
	else if (format && strcmp(format, "letter") == 0)
		fmt = CARD_FORMAT_LETTER;
	else if (format && strcmp(format, "cr80") != 0 && format[0]) {
		resp_error(req, 400, "invalid_format", "format is cr80, sheet (A4) or letter");
		return;
	}
	char qr[1024], number[CARDNUM_FORMATTED + 1], verify[600], err[256];
	if (card_qr_text(c, app_keys(req->app), req->app->public_url, qr, sizeof qr) < 0) {
		resp_error(req, 500, "internal_error", "the card could not be signed");
		return;
	}
	cardnum_format(c->number, number);
	const struct config *cfg = &req->app->cfg;
	snprintf(verify, sizeof verify, "%s %s/v", cfg->verify_label, req->app->public_url);
	struct card_text t = {
		.city_name = cfg->city_name,
		.card_title = cfg->card_title,
		.label_family = cfg->label_family,
		.label_given = cfg->label_given,
		.label_dob = cfg->label_dob,
		.label_number = cfg->label_number,
		.label_expires = cfg->label_expires,
		.family_name = c->family_name,
		.given_names = c->given_names,
		.date_of_birth = c->date_of_birth,
		.expires_on = c->expires_on,
		.card_number = number,
		.verify_line = verify,
		.return_line = cfg->return_line,
	};
	struct card_photo photo = { c->photo, c->photo_len, PHOTO_WIDTH, PHOTO_HEIGHT };
	int y, m, d;
	date_parse(c->issued_on, &y, &m, &d);
	long long issued = (long long)days_from_civil(y, m, d) * 86400;
	struct buf out = BUF_INIT;
	if (card_pdf_render(req->app->fonts, &t, c->photo ? &photo : NULL, qr, issued, fmt, &out, err,
			    sizeof err) < 0) {
		log_error("card PDF: %s", err);
		buf_free(&out);
		resp_error(req, 500, "internal_error", "the card PDF could not be drawn");
		return;
	}
	resp_buf(req, 200, "application/pdf", &out);
	if (req->resp.status != 200)
		return;
	resp_header(req, "Content-Disposition", "inline; filename=\"card-%s-v%d%s.pdf\"", c->number,
		    c->version, fmt == CARD_FORMAT_CR80 ? "" : "-sheet");
	audit_card(req, "card.pdf", c->number, format && format[0] ? format : "cr80");
}

void api_card_pdf(struct request *req)
{
	struct card c;
	if (card_of_path(req, &c) < 0)
		return;
	card_send_pdf(req, &c, req_query(req, "format"));
	card_free(&c);
}

static void new_version(struct request *req, enum card_change kind)
{
	static const char *const no_fields[] = { NULL };
	char number[CARDNUM_LEN + 1], code[REPRINT_CODE_CHARS];
	struct db *db = db_thread();
	json_t *body = NULL;
	if (cardnum_parse(req->params[0], number) < 0) {
		resp_error(req, 400, "invalid_card_number",
			   "not a card number: a character is wrong or missing (check digit)");
		return;
	}
	/* No body, or an empty JSON object. */
	if (req->body.len && req_json_object(req, no_fields, &body) < 0)
		return;
	json_decref(body);
	struct card c;
	uint32_t revoked[255];
	size_t nrevoked = 0;
	int r = db ? card_new_version(db, app_keys(req->app), number, kind, req->session.username, &c,
				      code, revoked, &nrevoked)
		   : -EIO;
	if (r == -ENOENT) {
		resp_error(req, 404, "not_found", "no card with this number");
		return;
	}
	if (r == -EKEYEXPIRED) {
		resp_error(req, 409, "expired", "this card has expired: renew it instead");
		return;
	}
	if (r == -ENODATA) {
		resp_error(req, 410, "erased", "this card's personal data has been erased");
		return;
	}
	if (r == -ERANGE) {
		resp_error(req, 409, "too_many_versions", "this card number has 255 versions; issue a new card");
		return;
	}
	if (r < 0) {
		resp_error(req, 500, "internal_error", "the new version could not be stored");
		return;
	}
	for (size_t i = 0; i < nrevoked; i++)
		status_list_set(req->app->status, revoked[i]);
	respond_new_card(req, &c, code);
}

void api_card_reissue(struct request *req)
{
	new_version(req, CARD_REISSUE);
}

void api_card_renew(struct request *req)
{
	new_version(req, CARD_RENEW);
}
