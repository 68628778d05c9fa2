/* ops.c — /healthz, /metrics and the static files under /static/. */
#include "app.h"
#include "audit.h"
#include "db.h"
#include "handlers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void op_healthz(struct request *req)
{
	struct db *db = db_thread();
	if (!db || db_schema_version(db) != db_latest_version()) {
		resp_error(req, 503, "unavailable", "the database is unavailable");
		return;
	}
	resp_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void op_metrics(struct request *req)
{
	if (!req->client_loopback && !(req->authenticated && req->session.role == ROLE_ADMIN)) {
		if (req->authenticated)
			resp_error(req, 403, "forbidden", "metrics are for administrators");
		else
			resp_error(req, 401, "unauthorized", "metrics are for administrators or loopback");
		return;
	}
	struct app *app = req->app;
	struct buf out = BUF_INIT;
	if (metrics_render(app->metrics, app->route_methods, app->route_patterns, &out) < 0) {
		buf_free(&out);
		resp_error(req, 500, "internal_error", "out of memory");
		return;
	}
	resp_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}

void op_static(struct request *req)
{
	const struct static_file *f = static_find(req->app, req->params[0]);
	if (!f) {
		resp_error(req, 404, "not_found", "no such file");
		return;
	}
	const char *inm = req_header(req, "If-None-Match");
	if (inm && strcmp(inm, f->etag) == 0) {
		resp_text(req, 304, NULL, NULL, 0);
	} else {
		resp_text(req, 200, f->type, f->data, f->len);
		req->resp.body_static = 1;
	}
	req->resp.cache_control = "public, max-age=3600";
	resp_header(req, "ETag", "%s", f->etag);
}

/* GET /api/v1/audit?before=ID&limit=N: the audit log, newest first, and
 * whether the whole chain still verifies. Auditors and admins. */
void op_audit(struct request *req)
{
	struct db *db = db_thread();
	const char *b = req_query(req, "before"), *l = req_query(req, "limit");
	long long before = b ? atoll(b) : 0;
	int limit = l ? atoi(l) : 100;
	if (limit < 1 || limit > 1000 || before < 0) {
		resp_field_error(req, l && (limit < 1 || limit > 1000) ? "limit" : "before",
				 "limit is 1 to 1000, before an entry id");
		return;
	}
	json_t *entries = db ? audit_page(db, before, limit) : NULL;
	int64_t n = 0, bad = 0;
	char why[128] = "";
	int chain = db ? audit_verify(db, &n, &bad, why, sizeof why) : -1;
	if (!entries || chain < 0) {
		json_decref(entries);
		resp_error(req, 500, "internal_error", "the audit log could not be read");
		return;
	}
	json_t *o = json_pack("{s:o, s:s, s:I}", "entries", entries, "chain",
			      chain == 0 ? "intact" : "broken", "count", (json_int_t)n);
	if (chain > 0) {
		json_object_set_new(o, "broken_at", json_integer(bad));
		json_object_set_new(o, "reason", json_string(why));
	}
	resp_json(req, 200, o);
}
