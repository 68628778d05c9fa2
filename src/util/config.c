/* config.c — defaults for everything the server can be told, the rules
 * each key's value follows (shared by the file and the flags), and card
 * validity by age. The file itself is read by conf_file.c. */
#include "config.h"
#include "card.h"
#include "login.h"
#include "reprint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct config_string {
	struct config_string *next;
	char text[];
};

static const char *keep(struct config *c, const char *s)
{
	size_t n = strlen(s);
	struct config_string *o = malloc(sizeof *o + n + 1);
	if (!o)
		return NULL;
	memcpy(o->text, s, n + 1);
	o->next = c->owned;
	c->owned = o;
	return o->text;
}

void config_free(struct config *c)
{
	while (c && c->owned) {
		struct config_string *o = c->owned;
		c->owned = o->next;
		free(o);
	}
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- card texts ---- */

static const char *const card_field_names[CF_COUNT] = {
	"city_name", "card_title", "label_family", "label_given", "label_dob",
	"label_number", "label_expires", "verify_label", "return_line",
};

const char *card_field_name(enum card_field f)
{
	return (unsigned)f < CF_COUNT ? card_field_names[f] : "";
}

static const char *const default_texts[2][CF_COUNT + 1] = {
	{ "fr", "Ville d'Exemple", "Carte d'identité municipale", "Nom", "Prénoms",
	  "Date de naissance", "N° de carte", "Expire le", "Vérifier",
	  "Carte trouvée ? Déposez-la dans une boîte aux lettres." },
	{ "en", "City of Example", "Municipal identity card", "Family name", "Given names",
	  "Date of birth", "Card no.", "Expires", "Verify",
	  "Found this card? Drop it in any mailbox." },
};

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->data_dir = "./var";
	snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
	c->listen_port = 8080;
	c->threads = 0;
	c->workers = 0;
	c->connection_timeout = 30;
	c->connection_limit = 1000;
	c->per_ip_limit = 200;
	c->body_limit = 64 * 1024;
	c->access_log = 1;
	c->retention_days = 90;
	c->login_user_limit = LOGIN_USER_LIMIT;
	c->login_addr_limit = LOGIN_ADDR_LIMIT;
	c->login_window = LOGIN_WINDOW;
	c->reprint_addr_limit = REPRINT_ADDR_LIMIT;
	c->reprint_card_limit = REPRINT_CARD_LIMIT;
	c->reprint_window = REPRINT_WINDOW;
	c->validity[0] = (struct validity_band){ 0, 5 };
	c->nvalidity = 1;
	for (size_t l = 0; l < 2; l++) {
		snprintf(c->card_text[l].lang, sizeof c->card_text[l].lang, "%s", default_texts[l][0]);
		for (size_t f = 0; f < CF_COUNT; f++)
			c->card_text[l].text[f] = default_texts[l][f + 1];
		snprintf(c->card_languages[l], sizeof c->card_languages[l], "%s", default_texts[l][0]);
	}
	c->ncard_text = 2;
	c->ncard_languages = 2;
	/* Joined by config_finish(); set here too for code that never calls it. */
	c->city_name = "Ville d'Exemple / City of Example";
	c->card_title = "Carte d'identité municipale / Municipal identity card";
	c->label_family = "Nom / Family name";
	c->label_given = "Prénoms / Given names";
	c->label_dob = "Date de naissance / Date of birth";
	c->label_number = "N° de carte / Card no.";
	c->label_expires = "Expire le / Expires";
	c->verify_label = "Vérifier / Verify:";
	c->return_line = "Carte trouvée ? Déposez-la dans une boîte aux lettres. / "
			 "Found this card? Drop it in any mailbox.";
}

void config_resolve_threads(struct config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
	if (!c->threads)
		c->threads = n;
	/* Workers run Argon2id and the card's database writes; Argon2id
	 * holds at most one per CPU (password_concurrency), so the extra
	 * workers keep issuance and search moving while log-ins hash. */
	if (!c->workers)
		c->workers = 2 * n + 2 < 64 ? 2 * n + 2 : 64;
}

unsigned config_password_concurrency(const struct config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
	return c->workers < n ? c->workers : n;
}

/* ---- value parsers ---- */

static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || s[0] == '+' || s[0] == ' ' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

static int parse_listen(const char *s, char host[256], uint16_t *port)
{
	const char *colon;
	size_t hostlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		hostlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hostlen = (size_t)(colon - s);
	}
	long p;
	if (hostlen == 0 || hostlen >= 256 || parse_long(colon + 1, 0, 65535, &p) < 0)
		return -1;
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static int lang_code_ok(const char *s, size_t n)
{
	if (n < 2 || n > 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

/* "fr, en": 1 to CONFIG_LANGS_MAX codes, none twice. */
static int parse_langs(const char *s, char out[CONFIG_LANGS_MAX][4], size_t *ret_n)
{
	char tmp[CONFIG_LANGS_MAX][4];
	size_t n = 0;
	while (*s) {
		s += strspn(s, " ");
		size_t len = strcspn(s, ", ");
		if (!lang_code_ok(s, len) || n == CONFIG_LANGS_MAX)
			return -1;
		memcpy(tmp[n], s, len);
		tmp[n][len] = '\0';
		for (size_t i = 0; i < n; i++)
			if (strcmp(tmp[i], tmp[n]) == 0)
				return -1;
		n++;
		s += len;
		s += strspn(s, " ");
		if (*s == ',') {
			s++;
			if (!s[strspn(s, " ")])
				return -1;
		} else if (*s) {
			return -1;
		}
	}
	if (n == 0)
		return -1;
	memcpy(out, tmp, sizeof tmp);
	*ret_n = n;
	return 0;
}

/* "0:3, 18:5, 65:10": ages rising from 0, years 1 to 20. */
static int parse_validity(const char *s, struct validity_band out[CONFIG_BANDS_MAX], size_t *ret_n)
{
	struct validity_band tmp[CONFIG_BANDS_MAX];
	size_t n = 0;
	while (*s) {
		s += strspn(s, " ");
		char item[32];
		size_t len = strcspn(s, ",");
		if (len == 0 || len >= sizeof item || n == CONFIG_BANDS_MAX)
			return -1;
		memcpy(item, s, len);
		item[len] = '\0';
		while (len && item[len - 1] == ' ')
			item[--len] = '\0';
		char *colon = strchr(item, ':');
		long age, years;
		if (!colon)
			return -1;
		*colon = '\0';
		if (parse_long(item, 0, 150, &age) < 0 || parse_long(colon + 1, 1, 20, &years) < 0)
			return -1;
		if ((n == 0 && age != 0) || (n > 0 && age <= tmp[n - 1].from_age))
			return -1;
		tmp[n++] = (struct validity_band){ (int)age, (int)years };
		s += strcspn(s, ",");
		if (*s == ',') {
			s++;
			if (!s[strspn(s, " ")])
				return -1;
		}
	}
	if (n == 0)
		return -1;
	memcpy(out, tmp, sizeof tmp);
	*ret_n = n;
	return 0;
}

/* Evidence codes: what card_set_evidence_types() accepts. */
static int evidence_ok(const char *s)
{
	size_t n = 0;
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len > 32 || ++n > EVIDENCE_TYPES_MAX)
			return 0;
		for (size_t i = 0; i < len; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
				return 0;
		p += len;
		if (!*p)
			return 1;
		p++;
	}
}

static int timezone_ok(const char *v)
{
	char zone[300];
	if (!*v || v[0] == '/' || strstr(v, "..") ||
	    (size_t)snprintf(zone, sizeof zone, "/usr/share/zoneinfo/%s", v) >= sizeof zone)
		return 0;
	/* A zone file, not a folder ("America") or a table ("zone.tab"),
	 * which glibc would take as UTC without a word. */
	FILE *f = fopen(zone, "rb");
	char magic[4] = { 0 };
	int ok = f && fread(magic, 1, sizeof magic, f) == sizeof magic &&
		 memcmp(magic, "TZif", 4) == 0;
	if (f)
		fclose(f);
	return ok;
}

/* ---- the keys ---- */

enum kind { K_STRING, K_PATH, K_URL, K_ADDR, K_LISTEN, K_COUNT, K_AUTO, K_INT, K_BOOL,
	    K_TZ, K_EVIDENCE, K_LANGS, K_CARD_LANGS, K_VALIDITY };

struct key {
	const char *name;
	enum kind kind;
	size_t off;           /* into struct config */
	long min, max;        /* K_COUNT, K_AUTO, K_INT */
	const char *why;      /* what a wrong value is told */
};

#define OFF(f) offsetof(struct config, f)

static const struct key keys[] = {
	{ "data", K_PATH, OFF(data_dir), 0, 0, "must be a folder" },
	{ "listen", K_LISTEN, 0, 0, 0, "must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080" },
	{ "public_url", K_URL, OFF(public_url), 0, 0,
	  "must start with http:// or https:// and have no path, e.g. https://id.example.org" },
	{ "tls_cert", K_PATH, OFF(tls_cert), 0, 0, "must be a PEM file" },
	{ "tls_key", K_PATH, OFF(tls_key), 0, 0, "must be a PEM file" },
	{ "trusted_proxy", K_ADDR, OFF(trusted_proxy), 0, 0,
	  "must be the proxy's IP address, e.g. 127.0.0.1" },
	{ "threads", K_AUTO, OFF(threads), 1, 64, "must be auto or a number from 1 to 64" },
	{ "workers", K_AUTO, OFF(workers), 1, 64, "must be auto or a number from 1 to 64" },
	{ "connection_timeout", K_COUNT, OFF(connection_timeout), 1, 3600,
	  "must be a number of seconds from 1 to 3600" },
	{ "max_connections", K_COUNT, OFF(connection_limit), 1, 100000,
	  "must be a number from 1 to 100000" },
	{ "max_connections_per_address", K_COUNT, OFF(per_ip_limit), 1, 100000,
	  "must be a number from 1 to 100000" },
	{ "access_log", K_BOOL, OFF(access_log), 0, 0, "must be yes or no" },
	{ "templates", K_PATH, OFF(templates_dir), 0, 0, "must be a folder" },
	{ "fonts", K_PATH, OFF(fonts_dir), 0, 0, "must be a folder" },
	{ "timezone", K_TZ, OFF(timezone), 0, 0,
	  "must be a zone of /usr/share/zoneinfo such as America/Montreal" },
	{ "languages", K_LANGS, 0, 0, 0,
	  "must be language codes separated by commas, e.g. fr, en (at most 8)" },
	{ "card_languages", K_CARD_LANGS, 0, 0, 0,
	  "must be language codes separated by commas, e.g. fr, en (at most 8)" },
	{ "validity", K_VALIDITY, 0, 0, 0,
	  "must be AGE:YEARS pairs with ages rising from 0 and 1 to 20 years, e.g. 0:5 or 0:3, 18:10" },
	{ "evidence_types", K_EVIDENCE, OFF(evidence_types), 0, 0,
	  "must be codes of a-z 0-9 _ separated by commas, e.g. passport,lease (at most 32)" },
	{ "retention_days", K_INT, OFF(retention_days), 0, 36500,
	  "must be a number of days from 0 to 36500" },
	{ "login_failures_per_account", K_INT, OFF(login_user_limit), 1, 1000,
	  "must be a number from 1 to 1000" },
	{ "login_failures_per_address", K_INT, OFF(login_addr_limit), 1, 100000,
	  "must be a number from 1 to 100000" },
	{ "login_window", K_INT, OFF(login_window), 60, 86400,
	  "must be a number of seconds from 60 to 86400" },
	{ "reprint_requests_per_address", K_INT, OFF(reprint_addr_limit), 1, 100000,
	  "must be a number from 1 to 100000" },
	{ "reprint_requests_per_card", K_INT, OFF(reprint_card_limit), 1, 1000,
	  "must be a number from 1 to 1000" },
	{ "reprint_window", K_INT, OFF(reprint_window), 60, 86400,
	  "must be a number of seconds from 60 to 86400" },
};

#define FIELD(c, k, type) ((type *)(void *)((char *)(c) + (k)->off))

/* "city_name.fr": the field and the language's slot (added when new). */
static int set_card_text(struct config *c, const char *key, const char *value, char *err,
			 size_t errlen)
{
	const char *dot = strchr(key, '.');
	size_t f;
	if (!dot)
		return 1;
	for (f = 0; f < CF_COUNT; f++)
		if (strlen(card_field_names[f]) == (size_t)(dot - key) &&
		    strncmp(key, card_field_names[f], (size_t)(dot - key)) == 0)
			break;
	if (f == CF_COUNT)
		return 1;
	if (!lang_code_ok(dot + 1, strlen(dot + 1)))
		return fail(err, errlen, "the part after the dot must be a language code such as fr");
	if (!*value)
		return fail(err, errlen, "must not be empty");
	if (strlen(value) > 160)
		return fail(err, errlen, "must be at most 160 bytes");
	size_t l;
	for (l = 0; l < c->ncard_text; l++)
		if (strcmp(c->card_text[l].lang, dot + 1) == 0)
			break;
	if (l == c->ncard_text) {
		if (l == CONFIG_LANGS_MAX)
			return fail(err, errlen, "card texts in more than %d languages", CONFIG_LANGS_MAX);
		memset(&c->card_text[l], 0, sizeof c->card_text[l]);
		snprintf(c->card_text[l].lang, sizeof c->card_text[l].lang, "%s", dot + 1);
		c->ncard_text++;
	}
	const char *v = keep(c, value);
	if (!v)
		return fail(err, errlen, "out of memory");
	c->card_text[l].text[f] = v;
	return 0;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct key *k = NULL;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, key) == 0)
			k = &keys[i];
	if (!k) {
		int r = set_card_text(c, key, value, err, errlen);
		return r <= 0 ? r : fail(err, errlen, "unknown key");
	}
	long v;
	const char *s;
	struct in_addr a4;
	struct in6_addr a6;
	switch (k->kind) {
	case K_STRING:
	case K_PATH:
	case K_URL:
	case K_ADDR:
	case K_TZ:
	case K_EVIDENCE:
		/* Empty: back to the default (K_PATH data cannot be empty). */
		if (!*value) {
			if (k->off == OFF(data_dir))
				return fail(err, errlen, "%s", k->why);
			*FIELD(c, k, const char *) = NULL;
			return 0;
		}
		if (k->kind == K_URL) {
			const char *rest = strncmp(value, "https://", 8) == 0 ? value + 8
				: strncmp(value, "http://", 7) == 0 ? value + 7 : NULL;
			if (!rest || !*rest || strchr(rest, '/') || strchr(value, '#') ||
			    strchr(value, '?') || strlen(value) > 200)
				return fail(err, errlen, "%s", k->why);
		}
		if (k->kind == K_ADDR && inet_pton(AF_INET, value, &a4) != 1 &&
		    inet_pton(AF_INET6, value, &a6) != 1)
			return fail(err, errlen, "%s", k->why);
		if (k->kind == K_TZ && !timezone_ok(value))
			return fail(err, errlen, "%s", k->why);
		if (k->kind == K_EVIDENCE) {
			/* "passport, lease" as card_set_evidence_types() wants it:
			 * without the spaces. */
			char list[EVIDENCE_TYPES_MAX * 34];
			size_t o = 0;
			for (const char *p = value; *p && o + 1 < sizeof list; p++)
				if (*p != ' ')
					list[o++] = *p;
			list[o] = '\0';
			if (!evidence_ok(list) || !(s = keep(c, list)))
				return fail(err, errlen, "%s", k->why);
			*FIELD(c, k, const char *) = s;
			return 0;
		}
		if (!(s = keep(c, value)))
			return fail(err, errlen, "out of memory");
		*FIELD(c, k, const char *) = s;
		return 0;
	case K_LISTEN:
		return parse_listen(value, c->listen_host, &c->listen_port) < 0
			? fail(err, errlen, "%s", k->why) : 0;
	case K_AUTO:
		if (strcmp(value, "auto") == 0) {
			*FIELD(c, k, unsigned) = 0;
			return 0;
		}
		/* fall through */
	case K_COUNT:
		if (parse_long(value, k->min, k->max, &v) < 0)
			return fail(err, errlen, "%s", k->why);
		*FIELD(c, k, unsigned) = (unsigned)v;
		return 0;
	case K_INT:
		if (parse_long(value, k->min, k->max, &v) < 0)
			return fail(err, errlen, "%s", k->why);
		*FIELD(c, k, int) = (int)v;
		return 0;
	case K_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			*FIELD(c, k, int) = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			*FIELD(c, k, int) = 0;
		else
			return fail(err, errlen, "%s", k->why);
		return 0;
	case K_LANGS:
		if (!*value) {
			c->nlanguages = 0;
			return 0;
		}
		return parse_langs(value, c->languages, &c->nlanguages) < 0
			? fail(err, errlen, "%s", k->why) : 0;
	case K_CARD_LANGS:
		return parse_langs(value, c->card_languages, &c->ncard_languages) < 0
			? fail(err, errlen, "%s", k->why) : 0;
	case K_VALIDITY:
		return parse_validity(value, c->validity, &c->nvalidity) < 0
			? fail(err, errlen, "%s", k->why) : 0;
	}
	return fail(err, errlen, "unknown key");
}

/* ---- after the file and the flags ---- */

int config_finish(struct config *c, char *err, size_t errlen)
{
	if (!c->tls_cert != !c->tls_key)
		return fail(err, errlen, "%s: tls_cert and tls_key go together",
			    c->tls_cert ? "tls_key" : "tls_cert");
	if (c->ncard_languages > 3)
		return fail(err, errlen, "card_languages: at most 3 fit on a card");
	const char **joined[CF_COUNT] = {
		&c->city_name, &c->card_title, &c->label_family, &c->label_given, &c->label_dob,
		&c->label_number, &c->label_expires, &c->verify_label, &c->return_line,
	};
	for (size_t f = 0; f < CF_COUNT; f++) {
		char buf[4 * 170 + 8];
		size_t o = 0;
		for (size_t i = 0; i < c->ncard_languages; i++) {
			const char *text = NULL;
			for (size_t l = 0; l < c->ncard_text; l++)
				if (strcmp(c->card_text[l].lang, c->card_languages[i]) == 0)
					text = c->card_text[l].text[f];
			if (!text)
				return fail(err, errlen, "%s.%s: not set (card_languages lists %s)",
					    card_field_names[f], c->card_languages[i], c->card_languages[i]);
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " / " : "", text);
		}
		if (f == CF_VERIFY_LABEL)
			o += (size_t)snprintf(buf + o, sizeof buf - o, ":");
		if (o >= sizeof buf)
			return fail(err, errlen, "%s: too long", card_field_names[f]);
		const char *s = keep(c, buf);
		if (!s)
			return fail(err, errlen, "out of memory");
		*joined[f] = s;
	}
	card_validity_set(c->validity, c->nvalidity);
	return 0;
}

/* ---- printing ---- */

void config_print(const struct config *c, FILE *f)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		fprintf(f, "%s =", k->name);
		const char *s;
		switch (k->kind) {
		case K_STRING:
		case K_PATH:
		case K_URL:
		case K_ADDR:
		case K_TZ:
		case K_EVIDENCE:
			s = *FIELD(c, k, const char *const);
			if (s)
				fprintf(f, " %s", s);
			break;
		case K_LISTEN:
			fprintf(f, strchr(c->listen_host, ':') ? " [%s]:%u" : " %s:%u", c->listen_host,
				c->listen_port);
			break;
		case K_AUTO:
			if (!*FIELD(c, k, const unsigned)) {
				fputs(" auto", f);
				break;
			}
			/* fall through */
		case K_COUNT:
			fprintf(f, " %u", *FIELD(c, k, const unsigned));
			break;
		case K_INT:
			fprintf(f, " %d", *FIELD(c, k, const int));
			break;
		case K_BOOL:
			fputs(*FIELD(c, k, const int) ? " yes" : " no", f);
			break;
		case K_LANGS:
			for (size_t l = 0; l < c->nlanguages; l++)
				fprintf(f, "%s%s", l ? ", " : " ", c->languages[l]);
			break;
		case K_CARD_LANGS:
			for (size_t l = 0; l < c->ncard_languages; l++)
				fprintf(f, "%s%s", l ? ", " : " ", c->card_languages[l]);
			break;
		case K_VALIDITY:
			for (size_t b = 0; b < c->nvalidity; b++)
				fprintf(f, "%s%d:%d", b ? ", " : " ", c->validity[b].from_age,
					c->validity[b].years);
			break;
		}
		fputc('\n', f);
	}
	for (size_t l = 0; l < c->ncard_text; l++)
		for (size_t t = 0; t < CF_COUNT; t++)
			if (c->card_text[l].text[t])
				fprintf(f, "%s.%s = %s\n", card_field_names[t], c->card_text[l].lang,
					c->card_text[l].text[t]);
}

/* ---- card validity by age ---- */

static struct validity_band bands[CONFIG_BANDS_MAX] = { { 0, 5 } };
static size_t nbands = 1;

void card_validity_set(const struct validity_band *b, size_t n)
{
	if (n == 0 || n > CONFIG_BANDS_MAX)
		return;
	memcpy(bands, b, n * sizeof *b);
	nbands = n;
}

int card_validity_years(const char *dob, const char *on)
{
	int by, bm, bd, y, m, d;
	int years = bands[0].years;
	if (sscanf(dob, "%4d-%2d-%2d", &by, &bm, &bd) != 3 || sscanf(on, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return years;
	int age = y - by - (m < bm || (m == bm && d < bd));
	for (size_t i = 0; i < nbands; i++)
		if (age >= bands[i].from_age)
			years = bands[i].years;
	return years;
}
