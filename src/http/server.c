/* server.c — libmicrohttpd set-up and the life of one request.
 *
 * A request goes: on_access (first call) → begin(): header checks, route,
 * body limit, identity → body collected → dispatch(): form/CSRF, then the
 * handler, inline or on a worker thread (ROUTE_SLOW, connection suspended)
 * → send_response(): security headers, metrics, access log → on_completed(): freed.
 * Route table: routes.c. Handlers: api_*.c, ui_*.c. */
#include "app.h"
#include "card.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "router.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { ST_NEW, ST_BODY, ST_DISCARD, ST_QUEUED, ST_READY, ST_SENT };

/* An over-long body up to this size is read and dropped before the 413. */
#define DISCARD_MAX (16u * 1024 * 1024)

static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
	"connect-src 'self'; font-src 'self'; media-src 'self' blob:; manifest-src 'self'; "
	"worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- reading the request ---- */

const char *req_query(struct request *req, const char *name)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

static enum MHD_Result copy_query(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct request *req = cls;
	(void)kind;
	if (req->nquery == QUERY_MAX)
		return MHD_NO;
	char *k = strdup(key), *v = strdup(value ? value : "");
	if (!k || !v) {
		free(k);
		free(v);
		return MHD_NO;
	}
	req->query[req->nquery].name = k;
	req->query[req->nquery].value = v;
	req->nquery++;
	return MHD_YES;
}

const char *req_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct header_count {
	int content_length;
	int transfer_encoding;
	int host;
	int bad_name;
	const char *te;         /* the last Transfer-Encoding value */
};

/* A field name is a token (RFC 9110 5.1, 5.6.2). libmicrohttpd 0.9.75
 * keeps "Content-Length : 5" as a field named "Content-Length " and
 * glues a folded line (obs-fold) onto the previous field's *name*
 * ("X-A: b\r\n Content-Length: 5" gives "X-AContent-Length: 5",
 * "Content-Length:\r\n 5" gives "Content-Length5"). A proxy in front
 * may read those lines as a real Content-Length, so refuse them all:
 * names with anything but token characters, and names that only start
 * with Content-Length or Transfer-Encoding. */
static int bad_field_name(const char *key)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	if (!*key)
		return 1;
	for (const char *p = key; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || strchr(tchar, *p)))
			return 1;
	return (strncasecmp(key, "Content-Length", 14) == 0 && key[14]) ||
	       (strncasecmp(key, "Transfer-Encoding", 17) == 0 && key[17]);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_count *c = cls;
	(void)kind;
	if (strcasecmp(key, "Content-Length") == 0)
		c->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		c->transfer_encoding++;
		c->te = value;
	} else if (strcasecmp(key, "Host") == 0)
		c->host++;
	else if (bad_field_name(key))
		c->bad_name++;
	return MHD_YES;
}

static void client_address(struct request *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(req->client_addr, sizeof req->client_addr, "unknown");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, req->client_addr, sizeof req->client_addr);
		req->client_loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, req->client_addr, sizeof req->client_addr);
		req->client_loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
				       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
					in6->sin6_addr.s6_addr[12] == 127);
	}
}

/* Behind a proxy named with --trusted-proxy, the client is the last
 * address that proxy added to X-Forwarded-For (earlier ones are whatever
 * the client claimed). Throttling and the /metrics loopback rule then see
 * the real client, not the proxy. */
static void forwarded_client(struct request *req)
{
	const char *proxy = req->app->cfg.trusted_proxy;
	if (!proxy || strcmp(req->client_addr, proxy) != 0)
		return;
	const char *xff = req_header(req, "X-Forwarded-For");
	if (!xff)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ')
		last++;
	char addr[64];
	size_t n = strcspn(last, " ");
	if (n == 0 || n >= sizeof addr)
		return;
	memcpy(addr, last, n);
	addr[n] = '\0';
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		req->client_loopback = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		req->client_loopback = IN6_IS_ADDR_LOOPBACK(&a6);
	else
		return;
	snprintf(req->client_addr, sizeof req->client_addr, "%s", addr);
}

static int wants_html(struct request *req)
{
	if (strncmp(req->path, "/api/", 5) == 0)
		return 0;
	const char *accept = req_header(req, MHD_HTTP_HEADER_ACCEPT);
	return accept && strstr(accept, "text/html");
}

/* An error in the shape the client reads: JSON for the API and for
 * programs, a page for browsers. */
static void fail(struct request *req, int status, const char *code, const char *message)
{
	if (req->conn && wants_html(req)) {
		resp_error_page(req, status);
		return;
	}
	resp_error(req, status, code, message);
}

/* ---- identity ---- */

static void identify(struct request *req, const char *secret, int web)
{
	struct db *db;
	if (!secret || strlen(secret) != SECRET_CHARS - 1 || !(db = db_thread()))
		return;
	secret_hash(secret, req->session_hash);
	struct session s;
	if (session_lookup(db, req->session_hash, (int64_t)time(NULL), &s) == 0 && s.web == web) {
		req->session = s;
		req->authenticated = 1;
	}
}

static const char *bearer(const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	return authorization + 7;
}

/* 1 when a response has been decided. */
static int check_identity(struct request *req)
{
	const struct route *r = req->route;
	unsigned f = r->flags;
	if (f & (ROUTE_API_AUTH | ROUTE_OPT_AUTH)) {
		identify(req, bearer(req->authorization), 0);
		if ((f & ROUTE_API_AUTH) && !req->authenticated) {
			resp_error(req, 401, "unauthorized", "log in and send Authorization: Bearer <token>");
			resp_header(req, "WWW-Authenticate", "Bearer");
			return 1;
		}
		if (!req->authenticated)
			return 0;
		if (r->roles && !(req->session.role & r->roles)) {
			resp_error(req, 403, "forbidden", "your role may not do this");
			return 1;
		}
		if (req->session.must_change_password && !(f & ROUTE_FIRST_PASS)) {
			resp_error(req, 403, "password_change_required",
				   "change the one-time password first: POST /api/v1/password");
			return 1;
		}
	}
	if (f & ROUTE_WEB_AUTH) {
		identify(req, req->cookie_session, 1);
		if (!req->authenticated) {
			resp_redirect(req, "/login");
			return 1;
		}
		if (req->session.must_change_password && !(f & ROUTE_FIRST_PASS)) {
			resp_redirect(req, "/password");
			return 1;
		}
		if (r->roles && !(req->session.role & r->roles)) {
			fail(req, 403, "forbidden", "your role may not do this");
			return 1;
		}
	}
	return 0;
}

/* ---- the life of a request ---- */

static size_t body_limit(const struct request *req)
{
	if (req->route && req->route->body_limit)
		return req->route->body_limit;
	return req->app->cfg.body_limit;
}

/* First call: everything that can be decided from the headers.
 * Returns 1 when a response has been decided. */
static int begin(struct request *req, const char *method, const char *version)
{
	struct app *app = req->app;
	struct header_count hc = { 0 };
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &hc);
	/* Where a request ends must be beyond doubt (RFC 9112 6.1, 6.3):
	 * one Content-Length, or Transfer-Encoding exactly "chunked" in
	 * HTTP/1.1 (libmicrohttpd reads any other coding until the client
	 * closes). Otherwise 400, and close the connection so that nothing
	 * after this request is read as another one. */
	const char *framing = NULL;
	if (hc.bad_name)
		framing = "malformed header field name";
	else if (hc.content_length > 1 || (hc.content_length && hc.transfer_encoding) ||
		 hc.transfer_encoding > 1)
		framing = "conflicting Content-Length or Transfer-Encoding";
	else if (hc.transfer_encoding &&
		 (strcasecmp(hc.te, "chunked") != 0 || strcmp(version, MHD_HTTP_VERSION_1_1) != 0))
		framing = "unsupported Transfer-Encoding";
	if (framing) {
		resp_error(req, 400, "bad_request", framing);
		resp_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
		return 1;
	}

	/* The page language, before anything can fail: a 404 or 405 page
	 * speaks it too. */
	if (strncmp(req->path, "/api/", 5) != 0) {
		const char *q = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "lang");
		req->lang = choose_language(app, q,
					    MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, "lang"),
					    req_header(req, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
		if (q && strcmp(q, req->lang) == 0)
			req->set_lang = req->lang;
	}

	char allow[64];
	int idx = router_match(routes, route_count, method, req->path, req->params, allow, sizeof allow);
	if (idx == ROUTE_NONE) {
		fail(req, 404, "not_found", "no such resource");
		return 1;
	}
	if (idx == ROUTE_BAD_METHOD) {
		fail(req, 405, "method_not_allowed", "this resource does not accept that method");
		resp_header(req, "Allow", "%s", allow);
		return 1;
	}
	req->route = &routes[idx];
	req->route_index = idx;

	/* The API takes no orders from other web sites: a page elsewhere can
	 * make a browser POST a text/plain "JSON" body without asking first.
	 * Browsers say where a request comes from; curl and counters' systems
	 * send no Sec-Fetch-Site and are not affected. (Pages have CSRF
	 * tokens.) */
	const char *site = req_header(req, "Sec-Fetch-Site");
	if (strncmp(req->path, "/api/", 5) == 0 && strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0 && site && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0) {
		resp_error(req, 403, "cross_site", "requests from other web sites are refused");
		return 1;
	}

	const char *cl = req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || *end || end == cl) {
			resp_error(req, 400, "bad_request", "malformed Content-Length");
			return 1;
		}
		if (n > body_limit(req)) {
			resp_error(req, 413, "payload_too_large", "the request body is too large");
			/* Answer at once when the client waits for 100 Continue or
			 * the body is huge; otherwise read and drop it first, so a
			 * client that sends everything before reading still gets
			 * the 413 rather than a reset connection. */
			const char *expect = req_header(req, MHD_HTTP_HEADER_EXPECT);
			if ((expect && strcasecmp(expect, "100-continue") == 0) || n > DISCARD_MAX)
				return 1;
			req->state = ST_DISCARD;
			return 0;
		}
	}

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, copy_query, req);
	req->authorization = dup_or_null(req_header(req, MHD_HTTP_HEADER_AUTHORIZATION));
	req->content_type = dup_or_null(req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE));
	req->cookie_session = dup_or_null(MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND,
								      "civicard_session"));
	req->cookie_prelogin = dup_or_null(MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND,
								       "civicard_login"));
	return check_identity(req);
}

static int csrf_ok(struct request *req)
{
	const char *sent = form_get(&req->form, "csrf");
	if (!sent)
		return 0;
	char expect[sizeof req->session.csrf];
	if (req->route->flags & ROUTE_PRELOGIN) {
		if (!req->cookie_prelogin || strlen(req->cookie_prelogin) != SECRET_CHARS - 1)
			return 0;
		app_prelogin_token(req->app, req->cookie_prelogin, expect);
	} else {
		if (!req->authenticated || !req->session.csrf[0])
			return 0;
		snprintf(expect, sizeof expect, "%s", req->session.csrf);
	}
	size_t n = strlen(expect);
	return strlen(sent) == n && sodium_memcmp(sent, expect, n) == 0;
}

static void run_handler(void *arg)
{
	struct request *req = arg;
	req->route->handler(req);
	req->state = ST_READY;
	if (req->route->flags & ROUTE_SLOW)
		MHD_resume_connection(req->conn);
}

/* The whole body is here: parse forms, check CSRF, run the handler.
 * Returns 1 when the handler went to a worker (connection suspended): the
 * caller must then not touch req until libmicrohttpd calls again after
 * the resume, which orders the worker's writes before that call. */
static int dispatch(struct request *req)
{
	const struct route *r = req->route;
	if (r->flags & ROUTE_FORM) {
		const char *body = req->body.data ? req->body.data : "";
		int parsed = req->content_type && strncasecmp(req->content_type, "multipart/", 10) == 0
			? form_parse_multipart(body, req->body.len, req->content_type, &req->form)
			: form_parse(body, req->body.len, &req->form);
		if (parsed < 0) {
			fail(req, 400, "bad_request", "the form could not be read");
			req->state = ST_READY;
			return 0;
		}
		if (!csrf_ok(req)) {
			if (r->flags & ROUTE_PRELOGIN) {
				/* Back to the form's own page (/login, /reprint:
				 * patterns without {parameters}). */
				char to[128];
				snprintf(to, sizeof to, "%s?expired=1", r->pattern);
				resp_redirect(req, to);
			} else
				fail(req, 403, "csrf_failed", "the form expired; reload the page and try again");
			req->state = ST_READY;
			return 0;
		}
	}
	if (!(r->flags & ROUTE_SLOW)) {
		run_handler(req);
		return 0;
	}
	req->state = ST_QUEUED;
	MHD_suspend_connection(req->conn);
	if (pool_submit(req->app->pool, run_handler, req) < 0) {
		resp_error(req, 503, "busy", "the server is busy; try again in a moment");
		resp_header(req, "Retry-After", "2");
		req->state = ST_READY;
		MHD_resume_connection(req->conn);
	}
	return 1;
}

static void add_security_headers(struct MHD_Response *mr, const struct request *req)
{
	MHD_add_response_header(mr, "Content-Security-Policy", csp);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	MHD_add_response_header(mr, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(mr, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(mr, "Permissions-Policy", "camera=(self), microphone=(), geolocation=()");
	if (req->tls)
		MHD_add_response_header(mr, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_response(struct request *req)
{
	struct response *rs = &req->resp;
	struct MHD_Response *mr = MHD_create_response_from_buffer(
		rs->len, rs->body, rs->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
	if (!mr)
		return MHD_NO;
	if (!rs->body_static)
		rs->body = NULL;        /* MHD owns it now */
	if (rs->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL,
				rs->cache_control ? rs->cache_control : "no-store");
	add_security_headers(mr, req);
	if (req->set_lang) {
		char c[64];
		snprintf(c, sizeof c, "lang=%s; Path=/; Max-Age=31536000; SameSite=Lax", req->set_lang);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_SET_COOKIE, c);
	}
	for (int i = 0; i < rs->nheaders; i++)
		MHD_add_response_header(mr, rs->headers[i].name, rs->headers[i].value);
	enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)rs->status, mr);
	MHD_destroy_response(mr);
	req->state = ST_SENT;

	uint64_t ns = now_ns() - req->start_ns;
	metrics_observe(req->app->metrics, req->route ? req->route_index : -1, rs->status, ns);
	if (req->app->cfg.access_log)
		log_msg(LOG_INFO, "http", "%s %s %d %.2fms", req->method,
			req->route ? req->route->pattern : "-", rs->status, (double)ns / 1e6);
	return r;
}

static void request_free(struct request *req)
{
	if (!req)
		return;
	free(req->path);
	buf_free(&req->body);
	form_free(&req->form);
	free(req->resp.body && !req->resp.body_static ? req->resp.body : NULL);
	for (int i = 0; i < req->resp.nheaders; i++)
		free(req->resp.headers[i].value);
	free(req->authorization);
	for (size_t i = 0; i < req->nquery; i++) {
		free(req->query[i].name);
		free(req->query[i].value);
	}
	free(req->content_type);
	free(req->cookie_session);
	free(req->cookie_prelogin);
	sodium_memzero(&req->session, sizeof req->session);
	free(req);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct app *app = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = calloc(1, sizeof *req);
		if (!req)
			return MHD_NO;
		req->app = app;
		req->conn = conn;
		req->start_ns = now_ns();
		req->resp.status = 500;
		req->route_index = -1;
		req->lang = tpl_default_lang(app->tpl);
		snprintf(req->method, sizeof req->method, "%s", strlen(method) < 8 ? method : "OTHER");
		req->path = strdup(url);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL);
		/* Behind the city's TLS terminator the socket is plain, but the
		 * public address is https: cookies must still be Secure. */
		req->tls = (ci && ci->protocol != 0 && app->cfg.tls_cert) ||
			   strncmp(app->public_url, "https://", 8) == 0;
		*con_cls = req;
		atomic_fetch_add(&app->inflight, 1);
		if (!req->path)
			return MHD_NO;
		client_address(req);
		forwarded_client(req);
		req->state = ST_BODY;   /* begin() may make it ST_DISCARD */
		if (begin(req, method, version))
			return send_response(req);
		return MHD_YES;
	}

	switch (req->state) {
	case ST_READY:
		return send_response(req);
	case ST_QUEUED:
	case ST_SENT:
		return MHD_YES;
	default:
		break;
	}

	if (req->state == ST_DISCARD) {
		if (*upload_data_size) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return send_response(req);
	}

	if (*upload_data_size) {
		if (req->body.len + *upload_data_size > body_limit(req)) {
			/* Only a chunked body gets here (Content-Length was checked):
			 * a response cannot be queued mid-body, so hang up. */
			log_warn("request body over %zu bytes without Content-Length: closing",
				 body_limit(req));
			return MHD_NO;
		}
		if (buf_append(&req->body, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (dispatch(req))
		return MHD_YES;         /* answered after the worker resumes us */
	return send_response(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct app *app = cls;
	(void)conn;
	(void)toe;
	struct request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	request_free(req);
	atomic_fetch_sub(&app->inflight, 1);
}

/* libmicrohttpd logs a line for every connection over the limits and
 * every bad request, so one client could fill the disk: at most
 * MHD_LOG_PER_SECOND lines a second, then a count of those dropped. */
#define MHD_LOG_PER_SECOND 20

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t second;
	static unsigned lines, dropped;
	char line[512];
	(void)cls;
	time_t now = time(NULL);
	pthread_mutex_lock(&lock);
	unsigned was_dropped = 0;
	if (now != second) {
		was_dropped = dropped;
		second = now;
		lines = dropped = 0;
	}
	int keep = lines < MHD_LOG_PER_SECOND;
	if (keep)
		lines++;
	else
		dropped++;
	pthread_mutex_unlock(&lock);
	if (was_dropped)
		log_msg(LOG_WARN, "microhttpd", "%u more messages dropped", was_dropped);
	if (!keep)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_msg(LOG_WARN, "microhttpd", "%s", line);
}

/* ---- starting and stopping ---- */

/* A PEM file, whole. A private one (the TLS key) must not be open to
 * other users. Returns NULL with errno set (EPERM: open to others). */
static char *read_file(const char *path, int private)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	int e = fstat(fileno(f), &st) < 0 ? errno : private && (st.st_mode & S_IRWXO) ? EPERM : 0;
	if (e) {
		fclose(f);
		errno = e;
		return NULL;
	}
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	int bad = ferror(f) || b.failed;
	fclose(f);
	sodium_memzero(chunk, sizeof chunk);
	if (bad) {
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* Swap in a freshly read key store when the signing keys changed. The old
 * one stays allocated until exit: a request may still be reading it. */
static void reload_keys(struct app *app, struct db *db, int force)
{
	const struct keystore *cur = app_keys(app);
	int latest = keystore_latest_kid(db);
	if (latest < 0 || (!force && latest == cur->signing[cur->nsigning - 1].kid))
		return;
	if (app->nold_keys == sizeof app->old_keys / sizeof app->old_keys[0]) {
		log_warn("too many key reloads; restart the server to use the new key");
		return;
	}
	struct keystore *ks;
	char err[256];
	if (keystore_open(app->cfg.data_dir, db, 0, &ks, err, sizeof err) < 0) {
		log_error("key reload: %s", err);
		return;
	}
	app->old_keys[app->nold_keys++] = atomic_exchange(&app->keys, ks);
	log_info("signing key %u in use (%zu keys verify)", ks->current_kid, ks->nsigning);
}

/* Retention: once a day, erase cards expired or revoked longer ago than
 * the retention period (also `civicard purge --expired`). */
static void daily_purge(struct app *app, struct db *db)
{
	static int64_t last;
	int64_t now = (int64_t)time(NULL), n = 0;
	if (now - last < 86400)
		return;
	last = now;
	if (card_purge(db, 0, app->cfg.retention_days, "system", &n) < 0) {
		log_error("retention purge failed");
		return;
	}
	if (n > 0) {
		sqlite3_exec(db_handle(db), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		log_info("retention: erased %lld card versions", (long long)n);
	}
}

/* Bind the listening socket and read the TLS files: everything serving
 * needs from outside the data folder, done before the sandbox closes it. */
int server_prepare(struct app *app)
{
	const struct config *cfg = &app->cfg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
	char port[8];
	snprintf(port, sizeof port, "%u", cfg->listen_port);
	int gai = getaddrinfo(cfg->listen_host, port, &hints, &ai);
	if (gai != 0) {
		log_error("cannot listen on \"%s\": %s", cfg->listen_host, gai_strerror(gai));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		log_error("cannot listen on %s:%u (%s)", cfg->listen_host, cfg->listen_port,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	app->listen_family = ai->ai_family;
	freeaddrinfo(ai);

	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	app->listen_port = cfg->listen_port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		app->listen_port = ntohs(ss.ss_family == AF_INET6
					 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					 : ((struct sockaddr_in *)&ss)->sin_port);
	app->listen_fd = fd;

	if (cfg->tls_cert) {
		app->tls_cert_pem = read_file(cfg->tls_cert, 0);
		if (!app->tls_cert_pem) {
			log_error("cannot read the TLS certificate \"%s\": %s", cfg->tls_cert,
				  strerror(errno));
			return -1;
		}
		app->tls_key_pem = read_file(cfg->tls_key, 1);
		if (!app->tls_key_pem) {
			if (errno == EPERM)
				log_error("the TLS key \"%s\" is open to other users: chmod o-rwx it",
					  cfg->tls_key);
			else
				log_error("cannot read the TLS key \"%s\": %s", cfg->tls_key,
					  strerror(errno));
			return -1;
		}
	}
	return 0;
}

void server_release(struct app *app)
{
	if (app->listen_fd >= 0)
		close(app->listen_fd);
	app->listen_fd = -1;
	free(app->tls_cert_pem);
	if (app->tls_key_pem)
		sodium_memzero(app->tls_key_pem, strlen(app->tls_key_pem));
	free(app->tls_key_pem);
	app->tls_cert_pem = app->tls_key_pem = NULL;
}

int server_run(struct app *app)
{
	const struct config *cfg = &app->cfg;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (app->listen_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert)
		flags |= MHD_USE_TLS;

	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, app->tls_cert_pem },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, app->tls_key_pem },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		  (void *)"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE" },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* The daemon owns the listening socket from here on. */
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, app,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)app->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, app,
		MHD_OPTION_ARRAY, cfg->tls_cert ? tls_opts : &tls_opts[3],
		MHD_OPTION_END);
	if (!d) {
		log_error("cannot start serving on %s:%u", cfg->listen_host, app->listen_port);
		return -1;
	}
	app->listen_fd = -1;
	app->daemon = d;

	unsigned bound = app->listen_port;
	int v6 = strchr(cfg->listen_host, ':') != NULL;
	if (!cfg->public_url)
		snprintf(app->public_url, sizeof app->public_url, "%s://%s%s%s:%u",
			 cfg->tls_cert ? "https" : "http", v6 ? "[" : "", cfg->listen_host,
			 v6 ? "]" : "", bound);
	printf("civicard: listening on %s://%s%s%s:%u\n", cfg->tls_cert ? "https" : "http",
	       v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", bound);
	fflush(stdout);
	log_info("listening on port %u with %u threads and %u workers", bound, cfg->threads,
		 cfg->workers);

	/* Wait for a signal. Once a minute meanwhile: tidy expired sessions,
	 * and pick up a key rotated by `civicard keys rotate` (SIGHUP: now). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	struct timespec minute = { 60, 0 };
	int sig;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &minute);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		struct db *db = db_thread();
		if (!db)
			continue;
		session_delete_expired(db, (int64_t)time(NULL));
		reload_keys(app, db, sig == SIGHUP);
		daily_purge(app, db);
	}
	log_info("signal %d: no new connections; finishing requests in flight", sig);

	MHD_socket lfd = MHD_quiesce_daemon(d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	for (int i = 0; i < 300 && atomic_load(&app->inflight) > 0; i++) {
		struct timespec tenth = { 0, 100000000 };
		nanosleep(&tenth, NULL);
	}
	if (atomic_load(&app->inflight) > 0)
		log_warn("%d requests still open after 30 s; closing them", atomic_load(&app->inflight));
	pool_stop(app->pool);    /* runs what is queued, resuming its connections */
	app->pool = NULL;
	MHD_stop_daemon(d);
	app->daemon = NULL;
	log_info("stopped");
	return 0;
}
