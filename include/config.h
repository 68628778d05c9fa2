/* config.h — what the server is told at start-up (flags for now). */
#ifndef CIVICARD_CONFIG_H
#define CIVICARD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config {
	const char *data_dir;        /* ./var, $CIVICARD_DATA or --data */
	char listen_host[256];       /* 127.0.0.1 */
	uint16_t listen_port;        /* 8080; 0 = any free port */
	const char *public_url;      /* NULL = http(s)://HOST:PORT */
	const char *templates_dir;   /* NULL = found next to the binary */
	const char *tls_cert;        /* PEM files; both or neither */
	const char *tls_key;
	const char *trusted_proxy;   /* its X-Forwarded-For names the client */
	unsigned threads;            /* HTTP polling threads */
	unsigned workers;            /* threads for slow work (Argon2id, PDFs) */
	unsigned connection_timeout; /* seconds of inactivity */
	unsigned connection_limit;   /* total */
	unsigned per_ip_limit;       /* per client address */
	size_t body_limit;           /* bytes, default for JSON and forms */
	int access_log;              /* one line per request */
	int retention_days;          /* erase expired/revoked cards after this */
	const char *fonts_dir;       /* NULL = found next to the binary */
	/* Printed on the card; bilingual by default. */
	const char *city_name;
	const char *card_title;
	const char *label_family;
	const char *label_given;
	const char *label_dob;
	const char *label_number;
	const char *label_expires;
	const char *verify_label;
	const char *return_line;
};

void config_defaults(struct config *c);

#endif
