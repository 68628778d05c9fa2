/* config.c — defaults for everything the server can be told. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	const char *env = getenv("CIVICARD_DATA");
	c->data_dir = env && *env ? env : "./var";
	snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
	c->listen_port = 8080;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	c->threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 2;
	c->workers = c->threads;
	c->connection_timeout = 30;
	c->connection_limit = 1000;
	c->per_ip_limit = 200;
	c->body_limit = 64 * 1024;
	c->access_log = 1;
	c->retention_days = 90;
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
