/* http.h — what a request handler sees: the request, its caller, and the
 * calls that build the response.
 *
 * A handler assumes failure: the response starts as 500 and becomes
 * something else only when the handler says so. Handlers of routes marked
 * ROUTE_SLOW run on a worker thread while the connection is suspended;
 * everything they need is already in struct request. */
#ifndef CIVICARD_HTTP_H
#define CIVICARD_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "form.h"
#include "auth.h"
#include "staff.h"

struct app;
struct request;

typedef void (*handler_fn)(struct request *req);

/* Route flags. */
enum {
	ROUTE_API_AUTH   = 1 << 0,  /* bearer token required (401 without) */
	ROUTE_WEB_AUTH   = 1 << 1,  /* cookie session required (303 to /login) */
	ROUTE_SLOW       = 1 << 2,  /* run on a worker thread */
	ROUTE_FORM       = 1 << 3,  /* urlencoded body, parsed; CSRF checked */
	ROUTE_PRELOGIN   = 1 << 4,  /* CSRF from the login page's cookie */
	ROUTE_FIRST_PASS = 1 << 5,  /* usable before the one-time password is changed */
	ROUTE_OPT_AUTH   = 1 << 6,  /* identify a bearer if given, never required */
};

struct route {
	const char *method;          /* "GET", "POST"; GET also answers HEAD */
	const char *pattern;         /* "/api/v1/cards/{n}": {x} is one segment */
	handler_fn handler;
	unsigned roles;              /* mask of enum role; 0 = anyone */
	unsigned flags;
	size_t body_limit;           /* 0 = the configured default */
};

extern const struct route routes[];
extern const size_t route_count;

#define MAX_PATH_PARAMS 2
#define QUERY_MAX 16
#define HEADER_MAX 8

struct response {
	int status;
	const char *content_type;
	char *body;                  /* from malloc(), or static when body_static */
	size_t len;
	int body_static;
	const char *cache_control;   /* NULL = no-store */
	int nheaders;
	struct { const char *name; char *value; } headers[HEADER_MAX];
};

struct request {
	struct app *app;
	const struct route *route;   /* NULL when nothing matched */
	int route_index;
	char method[8];
	char *path;                  /* from malloc() */
	char params[MAX_PATH_PARAMS][65];
	struct buf body;
	struct form form;            /* ROUTE_FORM routes */
	char client_addr[64];
	int client_loopback;
	int tls;
	const char *lang;            /* chosen language code, owned by the app */
	const char *set_lang;        /* non-NULL: remember this choice in a cookie */
	/* Identity, when a session was presented and is valid. */
	int authenticated;
	struct session session;
	uint8_t session_hash[SESSION_HASH_BYTES];
	/* Captured on the polling thread, so slow handlers may read them. */
	char *authorization;
	char *content_type;
	/* The query string, copied on the polling thread (req_query). */
	size_t nquery;
	struct { char *name, *value; } query[QUERY_MAX];
	char *cookie_session;
	char *cookie_prelogin;
	struct response resp;
	uint64_t start_ns;
	int state;
	void *conn;                  /* struct MHD_Connection, for the server only */
};

/* ---- the response ---- */
/* Takes ownership of obj. */
void resp_json(struct request *req, int status, json_t *obj);
/* {"error": code, "message": message}; field added when non-NULL. */
void resp_error(struct request *req, int status, const char *code, const char *message);
void resp_field_error(struct request *req, const char *field, const char *message);
/* Renders templates/<name>.html with ctx (taken) in the request's language. */
void resp_page(struct request *req, int status, const char *name, json_t *ctx);
/* The HTML error page (templates/error.html) for status. */
void resp_error_page(struct request *req, int status);
void resp_redirect(struct request *req, const char *location);
void resp_text(struct request *req, int status, const char *content_type, char *body, size_t len);
/* The buffer's contents as the body (taken; 500 if it ran out of memory). */
void resp_buf(struct request *req, int status, const char *content_type, struct buf *b);
void resp_header(struct request *req, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reading the request ---- */
/* Parse the body as a JSON object whose keys are all in allowed (NULL-
 * terminated). On failure the error response is set and -1 returned. */
int req_json_object(struct request *req, const char *const *allowed, json_t **ret);
/* A string member: required or optional (NULL if absent), at most maxlen
 * bytes. On a wrong type or length the 400 invalid_field response is set
 * and *ret_bad is 1. */
const char *req_json_string(struct request *req, json_t *obj, const char *name,
			    int required, size_t maxlen, int *ret_bad);
/* A query-string argument, or NULL. Safe in every handler. */
const char *req_query(struct request *req, const char *name);
/* A request header. Only on the polling thread: not in ROUTE_SLOW handlers. */
const char *req_header(struct request *req, const char *name);

/* The common context every page gets: lang, langs, user, csrf. */
json_t *page_context(struct request *req);

/* ---- application-wide state handlers may use ---- */
const struct config *app_config(const struct app *app);
struct throttle *app_throttle_user(const struct app *app);
struct throttle *app_throttle_addr(const struct app *app);
/* Keyed hash binding the login form to its cookie (see ui_auth.c). */
void app_prelogin_token(const struct app *app, const char *cookie, char out[SECRET_CHARS]);

#endif
