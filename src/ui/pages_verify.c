/* pages_verify.c — the public verification page (GET /v) and its service
 * worker (GET /sw.js).
 *
 * A card's QR code reads <public-url>/v#<token>. The token sits in the URL
 * fragment, which browsers never send, so this page is the same for every
 * card and carries nothing personal: templates/static/verify.js reads the
 * fragment and checks the signature, the status list and the expiry in the
 * browser, with the keys of GET /api/v1/keys and the signed list of
 * GET /api/v1/status-list. The server never learns which card was checked.
 *
 * The page's texts come from the catalogues, for every offered language at
 * once: the counter's phone may be switched to another language, offline,
 * long after the page was loaded. They travel as JSON in a data attribute
 * (HTML-escaped like every value, and read back by the browser's parser),
 * so the page needs no inline script and no raw output. The keys are in
 * texts[] below; ui_verify_check() proves every catalogue has them.
 *
 * The service worker is templates/static/sw.js, served from the root so
 * that it may control /v. Its first line, written here, is a version made
 * from everything it caches (the page as rendered, its script, style and
 * the worker itself): any change to one of them is a new version, hence a
 * new cache, with nothing to bump by hand. */
#include "app.h"
#include "log.h"
#include "pages.h"
#include "template.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Catalogue keys the page's script reads at run time (beyond the {{t:…}}
 * of templates/verify.html, which the template loader checks). */
static const char *const texts[] = {
	"lang.name", "app.name", "nav.language",
	"verify.title", "verify.heading", "verify.noscript", "verify.checking",
	"verify.idle.heading", "verify.idle.text", "verify.idle.private",
	"verify.scan", "verify.scan_next", "verify.scan_stop", "verify.scan_hint",
	"verify.scan_live", "verify.scan_denied", "verify.scan_unavailable",
	"verify.result.valid", "verify.result.valid_sub", "verify.result.valid_compare",
	"verify.result.revoked", "verify.result.revoked_sub",
	"verify.result.expired", "verify.result.expired_sub",
	"verify.result.invalid", "verify.result.invalid_sub",
	"verify.result.unchecked",
	"verify.unchecked.no_keys", "verify.unchecked.new_key", "verify.unchecked.no_status",
	"verify.unchecked.browser", "verify.unchecked.insecure",
	"verify.todo.heading", "verify.todo.reject", "verify.todo.other", "verify.todo.reprint",
	"verify.todo.connect", "verify.todo.meanwhile",
	"verify.label.name", "verify.label.dob", "verify.label.expires", "verify.label.number",
	"verify.fresh.now", "verify.fresh.age", "verify.fresh.stale",
	"verify.offline_ready",
	NULL,
};

/* The files the service worker caches besides the page (templates/static). */
static const char *const cached_files[] = { "verify.js", "ed25519.js", "verify.css", NULL };

/* {"en": {key: text, …}, "fr": {…}, …}: every offered language's texts,
 * as one compact JSON string (from malloc()), or NULL. */
static char *texts_json(const struct tpl_set *tpl)
{
	json_t *all = json_object();
	for (size_t i = 0; all && i < tpl_lang_count(tpl); i++) {
		const char *code = tpl_lang_code(tpl, i);
		json_t *one = json_object();
		for (const char *const *k = texts; *k; k++) {
			const char *t = tpl_text(tpl, code, *k);
			if (!t) {
				log_error("catalogue %s has no %s", code, *k);
				t = *k;
			}
			json_object_set_new(one, *k, json_string(t));
		}
		json_object_set_new(all, code, one);
	}
	char *s = all ? json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(all);
	return s;
}

/* The page's context: the common one plus the texts. NULL on failure. */
static json_t *verify_context(struct request *req)
{
	char *json = texts_json(req->app->tpl);
	if (!json)
		return NULL;
	json_t *ctx = page_context(req);
	json_object_set_new(ctx, "i18n", json_string(json));
	free(json);
	return ctx;
}

void ui_verify_page(struct request *req)
{
	resp_page(req, 200, "verify", verify_context(req));
	if (req->resp.status != 200)
		return;
	/* Nothing personal in it: the same page for every card. Its language
	 * follows the request's, though verify.js chooses again. */
	req->resp.cache_control = "public, max-age=300";
	resp_header(req, "Vary", "Accept-Language, Cookie");
}

/* The worker's version: a hash of the page (rendered in the default
 * language, which has every text of every language in it) and of every
 * file the worker caches, itself included. Nothing in it changes while
 * the server runs, so it is made once, by the first request that asks. */
static int sw_version(struct request *req, const struct static_file *sw, char out[17])
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char version[17];
	int r = 0;
	pthread_mutex_lock(&lock);
	if (!version[0]) {
		struct buf page = BUF_INIT;
		char err[256];
		/* As anyone would get it: default language, nobody signed in. */
		const char *lang = req->lang;
		const char *set_lang = req->set_lang;
		int authenticated = req->authenticated;
		req->lang = tpl_default_lang(req->app->tpl);
		req->set_lang = NULL;
		req->authenticated = 0;
		json_t *ctx = verify_context(req);
		r = ctx ? tpl_render(req->app->tpl, "verify", req->lang, ctx, &page, err, sizeof err) : -1;
		json_decref(ctx);
		req->lang = lang;
		req->set_lang = set_lang;
		req->authenticated = authenticated;
		if (r < 0) {
			log_error("template verify: %s", ctx ? err : "no context");
		} else {
			crypto_generichash_state st;
			uint8_t h[8];
			crypto_generichash_init(&st, NULL, 0, sizeof h);
			crypto_generichash_update(&st, (const uint8_t *)page.data, page.len);
			crypto_generichash_update(&st, (const uint8_t *)sw->etag, strlen(sw->etag));
			for (const char *const *f = cached_files; *f; f++) {
				const struct static_file *sf = static_find(req->app, *f);
				if (sf)
					crypto_generichash_update(&st, (const uint8_t *)sf->etag,
								  strlen(sf->etag));
			}
			crypto_generichash_final(&st, h, sizeof h);
			sodium_bin2hex(version, sizeof version, h, sizeof h);
		}
		buf_free(&page);
	}
	memcpy(out, version, sizeof version);
	pthread_mutex_unlock(&lock);
	return r;
}

void ui_verify_sw(struct request *req)
{
	const struct static_file *sw = static_find(req->app, "sw.js");
	if (!sw) {
		resp_error(req, 404, "not_found", "no such file");
		return;
	}
	char version[17], etag[20];
	if (sw_version(req, sw, version) < 0) {
		resp_error(req, 500, "internal_error", "the service worker could not be made");
		return;
	}
	snprintf(etag, sizeof etag, "\"%s\"", version);

	const char *inm = req_header(req, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		resp_text(req, 304, NULL, NULL, 0);
	} else {
		struct buf out = BUF_INIT;
		buf_printf(&out, "self.CIVICARD_VERSION = '%s';\n", version);
		buf_append(&out, sw->data, sw->len);
		resp_buf(req, 200, "text/javascript; charset=utf-8", &out);
		if (req->resp.status != 200)
			return;
	}
	/* Always asked again (the browser's own update check, too), cheap
	 * with the ETag. */
	req->resp.cache_control = "no-cache";
	resp_header(req, "ETag", "%s", etag);
}

int ui_verify_check(const struct tpl_set *set, char *err, size_t errlen)
{
	/* Every catalogue has the same keys (the loader insists), so the
	 * default language stands for all of them. */
	for (const char *const *k = texts; *k; k++) {
		if (!tpl_text(set, tpl_default_lang(set), *k)) {
			snprintf(err, errlen, "the catalogues have no key '%s' (used by src/ui/pages_verify.c)", *k);
			return -1;
		}
	}
	return 0;
}
