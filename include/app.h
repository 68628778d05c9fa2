/* app.h — the server's shared state. Built once at start-up, read-only
 * afterwards except for the counters, which are atomic or locked. */
#ifndef CIVICARD_APP_H
#define CIVICARD_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "auth.h"
#include "card_pdf.h"
#include "keys.h"
#include "config.h"
#include "metrics.h"
#include "pool.h"
#include "status.h"
#include "template.h"

struct static_file {
	char *name;                  /* "style.css" */
	char *data;
	size_t len;
	const char *type;
	char etag[40];
};

struct app {
	struct config cfg;
	char public_url[512];
	struct tpl_set *tpl;
	struct static_file *statics;
	size_t nstatics;
	struct metrics *metrics;
	const char **route_methods;  /* for metrics labels */
	const char **route_patterns;
	struct throttle *throttle_user;
	struct throttle *throttle_addr;
	struct throttle *throttle_reprint_addr;   /* resident requests per address */
	struct throttle *throttle_reprint_card;   /* and per card number */
	struct pool *pool;
	struct keystore *_Atomic keys; /* swapped on SIGHUP (keys rotate); old ones kept */
	struct keystore *old_keys[64]; /* replaced ones: requests may still read them */
	size_t nold_keys;
	struct status_list *status;
	struct card_fonts *fonts;
	uint8_t prelogin_key[32];
	void *daemon;                /* struct MHD_Daemon */
	int listen_fd;               /* bound before the sandbox; -1 once the daemon has it */
	int listen_family;
	unsigned listen_port;        /* the port really bound (for --listen HOST:0) */
	char *tls_cert_pem;          /* read before the sandbox */
	char *tls_key_pem;
	atomic_int inflight;
};

/* Load templates/static/ into memory. 0 or -1 (reason logged). */
int static_load(struct app *app, const char *templates_dir);
void static_free(struct app *app);
const struct static_file *static_find(const struct app *app, const char *name);

/* The key store in force (reloaded after `civicard keys rotate`). */
static inline const struct keystore *app_keys(const struct app *app)
{
	return atomic_load_explicit(&((struct app *)app)->keys, memory_order_acquire);
}

/* Bind the listening socket and read the TLS files. 0 or -1 (logged). */
int server_prepare(struct app *app);
/* Close what server_prepare opened and the daemon did not take. */
void server_release(struct app *app);

/* Start serving; returns when SIGINT or SIGTERM arrives and every request
 * in flight is answered. 0 on a clean stop, -1 when it could not start. */
int server_run(struct app *app);

/* Language for a page: ?lang=, then the lang cookie, then Accept-Language. */
const char *choose_language(const struct app *app, const char *query, const char *cookie,
			    const char *accept_language);

#endif
