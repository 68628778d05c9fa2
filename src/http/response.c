/* response.c — building responses, reading JSON bodies, page context and
 * the choice of language. */
#include "app.h"
#include "http.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_body(struct request *req, int status, const char *type, char *body, size_t len)
{
	struct response *rs = &req->resp;
	if (!rs->body_static)
		free(rs->body);
	rs->status = status;
	rs->content_type = type;
	rs->body = body;
	rs->len = len;
	rs->body_static = 0;
}

void resp_text(struct request *req, int status, const char *content_type, char *body, size_t len)
{
	set_body(req, status, content_type, body, len);
}

void resp_buf(struct request *req, int status, const char *content_type, struct buf *b)
{
	size_t len;
	char *body = buf_steal(b, &len);
	if (!body) {
		buf_free(b);
		resp_error(req, 500, "internal_error", "out of memory");
		return;
	}
	set_body(req, status, content_type, body, len);
}

void resp_json(struct request *req, int status, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!s) {
		static char oom[] = "{\"error\":\"internal_error\",\"message\":\"out of memory\"}";
		set_body(req, 500, "application/json", oom, sizeof oom - 1);
		req->resp.body_static = 1;
		return;
	}
	set_body(req, status, "application/json", s, strlen(s));
}

void resp_error(struct request *req, int status, const char *code, const char *message)
{
	resp_json(req, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

void resp_field_error(struct request *req, const char *field, const char *message)
{
	resp_json(req, 400, json_pack("{s:s, s:s, s:s}", "error", "invalid_field", "field", field,
				      "message", message));
}

void resp_header(struct request *req, const char *name, const char *fmt, ...)
{
	struct response *rs = &req->resp;
	if (rs->nheaders == HEADER_MAX) {
		log_error("too many response headers (%s)", name);
		return;
	}
	char *value = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	rs->headers[rs->nheaders].name = name;
	rs->headers[rs->nheaders].value = value;
	rs->nheaders++;
}

void resp_redirect(struct request *req, const char *location)
{
	set_body(req, 303, "text/plain; charset=utf-8", strdup("See Other\n"), 10);
	if (!req->resp.body)
		req->resp.len = 0;
	resp_header(req, "Location", "%s", location);
}

void resp_page(struct request *req, int status, const char *name, json_t *ctx)
{
	struct buf out = BUF_INIT;
	char err[256];
	if (!ctx || tpl_render(req->app->tpl, name, req->lang, ctx, &out, err, sizeof err) < 0) {
		log_error("template %s: %s", name, ctx ? err : "no context");
		buf_free(&out);
		json_decref(ctx);
		static char body[] = "<!doctype html><title>Error</title><p>Internal error.</p>\n";
		set_body(req, 500, "text/html; charset=utf-8", body, sizeof body - 1);
		req->resp.body_static = 1;
		return;
	}
	json_decref(ctx);
	size_t len;
	char *body = buf_steal(&out, &len);
	set_body(req, status, "text/html; charset=utf-8", body, body ? len : 0);
}

void resp_error_page(struct request *req, int status)
{
	json_t *ctx = page_context(req);
	char flag[16];
	snprintf(flag, sizeof flag, "is_%d", status);
	json_object_set_new(ctx, "status", json_integer(status));
	json_object_set_new(ctx, flag, json_true());
	resp_page(req, status, "error", ctx);
}

int req_json_object(struct request *req, const char *const *allowed, json_t **ret)
{
	json_error_t jerr;
	json_t *obj = json_loadb(req->body.data ? req->body.data : "", req->body.len,
				 JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		resp_error(req, 400, "invalid_json", "the body is not valid JSON");
		return -1;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		resp_error(req, 400, "invalid_json", "the body must be a JSON object");
		return -1;
	}
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		int known = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(key, *a) == 0)
				known = 1;
		if (!known) {
			/* Echoed only inside JSON, which escapes it; never logged. */
			resp_json(req, 400, json_pack("{s:s, s:s, s:s}", "error", "unknown_field",
						      "field", key, "message",
						      "this service does not collect that field"));
			json_decref(obj);
			return -1;
		}
	}
	*ret = obj;
	return 0;
}

const char *req_json_string(struct request *req, json_t *obj, const char *name, int required,
			    size_t maxlen, int *ret_bad)
{
	json_t *v = json_object_get(obj, name);
	char msg[96];
	if (!v || json_is_null(v)) {
		if (!required)
			return NULL;
		snprintf(msg, sizeof msg, "%s is required", name);
	} else if (!json_is_string(v)) {
		snprintf(msg, sizeof msg, "%s must be a string", name);
	} else if (json_string_length(v) > maxlen) {
		snprintf(msg, sizeof msg, "%s is longer than %zu bytes", name, maxlen);
	} else if (required && json_string_length(v) == 0) {
		snprintf(msg, sizeof msg, "%s is required", name);
	} else {
		return json_string_value(v);
	}
	resp_field_error(req, name, msg);
	*ret_bad = 1;
	return NULL;
}

json_t *page_context(struct request *req)
{
	const struct tpl_set *tpl = req->app->tpl;
	json_t *ctx = json_object();
	json_t *langs = json_array();
	for (size_t i = 0; i < tpl_lang_count(tpl); i++) {
		const char *code = tpl_lang_code(tpl, i);
		json_array_append_new(langs, json_pack("{s:s, s:s, s:b}", "code", code, "name",
						       tpl_text(tpl, code, "lang.name"), "current",
						       strcmp(code, req->lang) == 0));
	}
	json_object_set_new(ctx, "lang", json_string(req->lang));
	json_object_set_new(ctx, "langs", langs);
	if (req->authenticated) {
		enum role r = req->session.role;
		json_object_set_new(ctx, "user", json_pack("{s:s, s:s, s:b, s:b, s:b}",
							   "username", req->session.username,
							   "role", role_name(r),
							   "is_admin", r == ROLE_ADMIN,
							   "is_clerk", r == ROLE_CLERK,
							   "is_auditor", r == ROLE_AUDITOR));
		json_object_set_new(ctx, "csrf", json_string(req->session.csrf));
	}
	return ctx;
}

/* The primary subtag of the best-ranked offered language in an
 * Accept-Language header, or NULL. */
static const char *accept_language(const struct app *app, const char *header)
{
	const char *best = NULL;
	double best_q = 0;
	const char *p = header;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		char tag[16];
		size_t n = 0;
		while (p[n] && p[n] != ',' && p[n] != ';' && p[n] != ' ' && p[n] != '-')
			n++;
		int fits = n > 0 && n < sizeof tag;
		if (fits) {
			for (size_t i = 0; i < n; i++)
				tag[i] = (char)(p[i] | 0x20);
			tag[n] = '\0';
		}
		double q = 1.0;
		const char *end = strchr(p, ',');
		const char *qs = strstr(p, ";q=");
		if (qs && (!end || qs < end))
			q = strtod(qs + 3, NULL);
		if (fits && q > best_q) {
			for (size_t i = 0; i < tpl_lang_count(app->tpl); i++) {
				if (strcmp(tpl_lang_code(app->tpl, i), tag) == 0) {
					best = tpl_lang_code(app->tpl, i);
					best_q = q;
				}
			}
		}
		p = end;
	}
	return best;
}

const char *choose_language(const struct app *app, const char *query, const char *cookie,
			    const char *accept)
{
	const char *pick[] = { query, cookie };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; pick[k] && i < tpl_lang_count(app->tpl); i++)
			if (strcmp(tpl_lang_code(app->tpl, i), pick[k]) == 0)
				return tpl_lang_code(app->tpl, i);
	const char *a = accept ? accept_language(app, accept) : NULL;
	return a ? a : tpl_default_lang(app->tpl);
}

const struct config *app_config(const struct app *app)
{
	return &app->cfg;
}

struct throttle *app_throttle_user(const struct app *app)
{
	return app->throttle_user;
}

struct throttle *app_throttle_addr(const struct app *app)
{
	return app->throttle_addr;
}

void app_prelogin_token(const struct app *app, const char *cookie, char out[SECRET_CHARS])
{
	uint8_t mac[32];
	crypto_generichash(mac, sizeof mac, (const uint8_t *)cookie, strlen(cookie),
			   app->prelogin_key, sizeof app->prelogin_key);
	sodium_bin2base64(out, SECRET_CHARS, mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
