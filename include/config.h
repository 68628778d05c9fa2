/* config.h — what the server is told at start-up: built-in defaults, then
 * the configuration file (conf_file.c, docs in dist/civicard.conf), then
 * $CIVICARD_DATA, then command-line flags. */
#ifndef CIVICARD_CONFIG_H
#define CIVICARD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_LANGS_MAX 8    /* languages offered, and texts per language */
#define CONFIG_BANDS_MAX 8    /* card validity by age */

/* The texts printed on the card, one per language in the file
 * (`city_name.fr = …`); the card shows those of `card_languages` joined
 * with " / ". */
enum card_field {
	CF_CITY_NAME, CF_CARD_TITLE, CF_LABEL_FAMILY, CF_LABEL_GIVEN, CF_LABEL_DOB,
	CF_LABEL_NUMBER, CF_LABEL_EXPIRES, CF_VERIFY_LABEL, CF_RETURN_LINE, CF_COUNT
};

/* From age from_age (on the day of issue) on, a card is valid `years`. */
struct validity_band {
	int from_age;
	int years;
};

struct config_string;   /* strings the configuration owns */

struct config {
	const char *data_dir;        /* ./var, `data`, $CIVICARD_DATA or --data */
	const char *config_file;     /* NULL: none was read */
	char listen_host[256];       /* 127.0.0.1 */
	uint16_t listen_port;        /* 8080; 0 = any free port */
	const char *public_url;      /* NULL = http(s)://HOST:PORT */
	const char *templates_dir;   /* NULL = found next to the binary */
	const char *tls_cert;        /* PEM files; both or neither */
	const char *tls_key;
	const char *trusted_proxy;   /* its X-Forwarded-For names the client */
	const char *timezone;        /* NULL = the server's own */
	const char *evidence_types;  /* NULL = the built-in list (card.c) */
	unsigned threads;            /* HTTP polling threads; 0 = one per CPU */
	unsigned workers;            /* threads for slow work (Argon2id, PDFs); 0 = per CPU */
	unsigned connection_timeout; /* seconds of inactivity */
	unsigned connection_limit;   /* total */
	unsigned per_ip_limit;       /* per client address */
	size_t body_limit;           /* bytes, default for JSON and forms */
	int access_log;              /* one line per request */
	int retention_days;          /* erase expired/revoked cards after this */
	const char *fonts_dir;       /* NULL = found next to the binary */

	/* Rate limits: attempts per window (seconds). */
	int login_user_limit;        /* failed log-ins per account */
	int login_addr_limit;        /* failed log-ins per client address */
	int login_window;
	int reprint_addr_limit;      /* reprint requests per client address */
	int reprint_card_limit;      /* reprint requests per card number */
	int reprint_window;

	/* Page languages offered (catalogues in templates/i18n), the first
	 * the default; none = every catalogue found. */
	char languages[CONFIG_LANGS_MAX][4];
	size_t nlanguages;

	/* Card validity by age, sorted by from_age, the first from 0. */
	struct validity_band validity[CONFIG_BANDS_MAX];
	size_t nvalidity;

	/* Card texts per language, and the languages the card prints. */
	struct {
		char lang[4];
		const char *text[CF_COUNT];
	} card_text[CONFIG_LANGS_MAX];
	size_t ncard_text;
	char card_languages[CONFIG_LANGS_MAX][4];
	size_t ncard_languages;

	/* Printed on the card: the texts of card_languages joined by
	 * config_finish(). */
	const char *city_name;
	const char *card_title;
	const char *label_family;
	const char *label_given;
	const char *label_dob;
	const char *label_number;
	const char *label_expires;
	const char *verify_label;
	const char *return_line;

	struct config_string *owned;
};

const char *card_field_name(enum card_field f);   /* "city_name" */

/* Built-in defaults. Every value config_print() shows for a fresh config
 * is documented, with the same value, in dist/civicard.conf. */
void config_defaults(struct config *c);
void config_free(struct config *c);   /* the strings it owns */

/* Set one key from text, as the file or a flag says it. 0, or -1 with
 * "why" in err (without the key's name). The value is copied. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Read a configuration file (conf_file.c). 0, or -1 with one line per
 * problem in err: "FILE:LINE: KEY: why". */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* The same from an open stream; name is used in the messages. */
int config_load_stream(struct config *c, FILE *f, const char *name, char *err, size_t errlen);

/* After the file and the flags: check what keys say together and join the
 * card texts. 0, or -1 with "KEY: why" in err. */
int config_finish(struct config *c, char *err, size_t errlen);

/* Threads and workers left at 0 (auto): one HTTP thread per CPU, 2 workers
 * per CPU + 2. */
void config_resolve_threads(struct config *c);
/* How many Argon2id hashes may run at once: one per CPU, at most workers. */
unsigned config_password_concurrency(const struct config *c);

/* The configuration in effect, as a file with every key. */
void config_print(const struct config *c, FILE *f);

/* Card validity: the years a card issued on `on` (YYYY-MM-DD) to someone
 * born on `dob` is valid, from the bands set at start-up (default 5 for
 * everyone). Read by card.c; set once before any thread starts. */
int card_validity_years(const char *dob, const char *on);
void card_validity_set(const struct validity_band *bands, size_t n);

#endif
