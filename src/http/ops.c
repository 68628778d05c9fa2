/* ops.c — /healthz, /metrics and the static files under /static/. */
#include "app.h"
#include "db.h"
#include "handlers.h"

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
	size_t len;
	char *body = buf_steal(&out, &len);
	resp_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
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
