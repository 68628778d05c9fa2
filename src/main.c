/* main.c — the civicard command line: serve, user add, check, and the
 * sub-commands still to come. Exit status: 0 done, 1 failed, 2 usage. */
#include "app.h"
#include "audit.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "login.h"
#include "pages.h"
#include "card.h"
#include "reprint.h"
#include "backup.h"
#include "sandbox.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CIVICARD_VERSION
#define CIVICARD_VERSION "dev"
#endif
#ifndef CIVICARD_DATADIR
#define CIVICARD_DATADIR "/usr/local/share/civicard"
#endif

/* `usage`, generated from src/usage.txt (also the source of civicard(8)). */
#include "usage.h"

static int usage_error(const char *what)
{
	fprintf(stderr, "civicard: %s\n%s", what, usage);
	return 2;
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "civicard: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* ---- the data folder ---- */

static int db_path(const char *data_dir, char out[PATH_MAX])
{
	return (size_t)snprintf(out, PATH_MAX, "%s/civicard.db", data_dir) < PATH_MAX ? 0 : -1;
}

/* Create (mode 0700) and migrate the data folder; opens the database. */
static int data_open(const char *data_dir, struct db **ret)
{
	char path[PATH_MAX];
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST)
		return fail("cannot create the data folder \"%s\"", data_dir);
	struct stat st;
	if (stat(data_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail("\"%s\" is not a folder", data_dir);
	if (st.st_mode & 077)
		return fail("the data folder \"%s\" is open to other users: run chmod 700 on it",
			    data_dir);
	if (db_path(data_dir, path) < 0)
		return fail("the data folder path \"%s\" is too long", data_dir);
	struct db *db;
	if (db_open(path, &db) < 0)
		return fail("cannot open the database in \"%s\"", data_dir);
	if (db_migrate(db) < 0) {
		db_close(db);
		return fail("cannot bring the database in \"%s\" up to date", data_dir);
	}
	*ret = db;
	return 0;
}

/* ---- the server's lock file: DATA/civicard.pid ---- */

/* serve: take the lock (one server per data folder) and write the pid.
 * The descriptor stays open while serving. -1 when another one runs. */
static int lock_take(const char *data_dir)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/civicard.pid", data_dir) >= sizeof path)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The pid of a server running on data_dir, or 0 when none. */
static pid_t lock_holder(const char *data_dir)
{
	char path[PATH_MAX], buf[32] = "";
	if ((size_t)snprintf(path, sizeof path, "%s/civicard.pid", data_dir) >= sizeof path)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	pid_t pid = 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
		pid = n > 0 ? (pid_t)atoi(buf) : 0;
	}
	close(fd);
	return pid;
}

static int parse_days(const char *s, int *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 36500)
		return -1;
	*ret = (int)v;
	return 0;
}

/* ---- the sandbox ---- */

/* Everything from outside the data folder has been read (templates,
 * fonts, TLS files, the time zone) and the port is bound: give up the
 * rest before the first thread starts, so every thread inherits it. */
static int enter_sandbox(const char *data_dir)
{
	struct sandbox_report r;
	char err[256];
	tzset();
	json_object_seed(0);   /* jansson's hash seed, from /dev/urandom while it can */
	if (sandbox_enter(data_dir, &r, err, sizeof err) < 0) {
		log_error("sandbox: %s", err);
		return -1;
	}
	if (r.files_restricted)
		log_info("sandbox: files only in the data folder (Landlock ABI %d)%s", r.landlock_abi,
			 r.network_restricted ? ", no outgoing connections" : "");
	else
		log_warn("sandbox: this kernel has no Landlock; file access is not restricted");
	if (r.syscalls_filtered)
		log_info("sandbox: system calls filtered (seccomp)%s",
			 r.sanitizer_build ? "; sanitizer build: processes and ptrace allowed" : "");
	else
		log_warn("sandbox: this kernel has no seccomp; system calls are not filtered");
	return 0;
}

/* ---- serve ---- */

/* A resource folder: $ENV, else next to the binary (the build tree:
 * build/fonts, ../templates), else the installed copy. */
static const char *find_resource(const char *env_name, const char *const *relative,
				 const char *installed, char buf[PATH_MAX])
{
	const char *env = getenv(env_name);
	if (env && *env)
		return env;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
	if (slash) {
		*slash = '\0';
		for (; *relative; relative++) {
			int k = snprintf(buf, PATH_MAX, "%s/%s", exe, *relative);
			char real[PATH_MAX];
			if (k <= 0 || k >= PATH_MAX || access(buf, R_OK) != 0)
				continue;
			if (realpath(buf, real))   /* for the log: no "bin/../" */
				memcpy(buf, real, strlen(real) + 1);
			return buf;
		}
	}
	return installed;
}

/* Templates, catalogues, static files and card fonts, from the folders
 * the configuration names or found next to the binary or installed; then
 * what the configuration asks of them. 0, or -1 with the reason said. */
static int load_resources(const struct config *cfg, struct app *app, int announce)
{
	char tdir[PATH_MAX], fdir[PATH_MAX], err[512];
	char regular[PATH_MAX + 32], bold[PATH_MAX + 32];
	static const char *const templates_rel[] = { "../templates", "../share/civicard/templates",
						     NULL };
	static const char *const fonts_rel[] = { "fonts", "../share/civicard/fonts", NULL };
	const char *templates = cfg->templates_dir ? cfg->templates_dir
		: find_resource("CIVICARD_TEMPLATES", templates_rel, CIVICARD_DATADIR "/templates", tdir);
	const char *fonts = cfg->fonts_dir ? cfg->fonts_dir
		: find_resource("CIVICARD_FONTS", fonts_rel, CIVICARD_DATADIR "/fonts", fdir);

	if (tpl_set_load(templates, &app->tpl, err, sizeof err) < 0 ||
	    ui_verify_check(app->tpl, err, sizeof err) < 0 ||
	    ui_cards_check(app->tpl, err, sizeof err) < 0 ||
	    ui_staff_check(app->tpl, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: templates in \"%s\": %s\n", templates, err);
		return -1;
	}
	/* Only the languages the city offers, the first the default. */
	const char *offered[CONFIG_LANGS_MAX];
	for (size_t i = 0; i < cfg->nlanguages; i++)
		offered[i] = cfg->languages[i];
	if (tpl_set_offer(app->tpl, offered, cfg->nlanguages, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: languages: %s in \"%s/i18n\"\n", err, templates);
		return -1;
	}
	if (static_load(app, templates) < 0) {
		fprintf(stderr, "civicard: cannot load the static files in \"%s/static\"\n", templates);
		return -1;
	}
	snprintf(regular, sizeof regular, "%s/CardSans.ttf", fonts);
	snprintf(bold, sizeof bold, "%s/CardSans-Bold.ttf", fonts);
	if (card_fonts_load(regular, bold, &app->fonts, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: card fonts in \"%s\": %s\n", fonts, err);
		return -1;
	}
	if (announce)
		log_info("templates from %s, card fonts from %s", templates, fonts);
	/* Every card text must print: the font has Latin, Greek, Cyrillic. */
	for (size_t l = 0; l < cfg->ncard_text; l++) {
		for (size_t f = 0; f < CF_COUNT; f++) {
			uint32_t cp = 0;
			const char *t = cfg->card_text[l].text[f];
			int r = t ? card_fonts_cover(app->fonts, t, &cp) : 1;
			if (r == 1)
				continue;
			if (r == 0)
				fprintf(stderr, "civicard: %s.%s: the card font has no U+%04X\n",
					card_field_name(f), cfg->card_text[l].lang, (unsigned)cp);
			else
				fprintf(stderr, "civicard: %s.%s: not UTF-8\n", card_field_name(f),
					cfg->card_text[l].lang);
			return -1;
		}
	}
	return 0;
}

/* First start, or no administrator left: an "admin" account with a
 * one-time password, shown once. */
static int bootstrap_admin(struct db *db)
{
	struct user u;
	int64_t admins = admin_count(db);
	if (admins < 0)
		return -1;
	if (admins > 0)
		return 0;
	int r = user_find(db, "admin", &u);
	if (r == 0) {
		fprintf(stderr, "civicard: no active administrator; add one with "
				"\"civicard user add NAME --role admin\"\n");
		return 0;
	}
	if (r != -ENOENT)
		return -1;
	char otp[OTP_CHARS];
	otp_new(otp);
	if (account_create(db, "system", "admin", ROLE_ADMIN, otp, 1) < 0)
		return -1;
	printf("civicard: first start: created account \"admin\" with one-time password: %s\n"
	       "civicard: it is shown only this once and must be changed at the first log-in\n",
	       otp);
	fflush(stdout);
	sodium_memzero(otp, sizeof otp);
	return 0;
}

/* ---- the configuration ---- */

/* After the file and the flags: what keys say together, then what the
 * configuration sets outside struct config. 0, or 1 with the reason said. */
static int finish_config(struct config *cfg)
{
	char err[512];
	if (config_finish(cfg, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: %s%s%s\n", cfg->config_file ? cfg->config_file : "",
			cfg->config_file ? ": " : "", err);
		return 1;
	}
	if (cfg->evidence_types && card_set_evidence_types(cfg->evidence_types) < 0)
		return fail("%s", "evidence_types: must be codes of a-z 0-9 _ separated by commas");
	if (cfg->timezone) {
		/* Dates (issue, expiry, "today" for verification) are the
		 * city's, whatever the server's clock zone is. */
		setenv("TZ", cfg->timezone, 1);
	}
	tzset();
	return 0;
}

/* serve's flags: --some-key VALUE sets the configuration key some_key. */
static const char *const serve_flags[] = {
	"listen", "public_url", "tls_cert", "tls_key", "threads", "workers", "templates", "fonts",
	"evidence_types", "timezone", "retention_days", "trusted_proxy", "connection_timeout", NULL,
};

static int serve_flag(struct config *cfg, const char *flag, const char *value)
{
	char key[64], why[256], msg[400];
	size_t n = strlen(flag);
	if (strncmp(flag, "--", 2) != 0 || n - 2 >= sizeof key)
		return usage_error("unknown option for serve");
	for (size_t i = 2; i <= n; i++)
		key[i - 2] = flag[i] == '-' ? '_' : flag[i];
	const char *const *k;
	for (k = serve_flags; *k && strcmp(*k, key) != 0; k++)
		;
	if (!*k)
		return usage_error("unknown option for serve");
	if (config_set(cfg, key, value, why, sizeof why) < 0) {
		snprintf(msg, sizeof msg, "%s %s", flag, why);
		return usage_error(msg);
	}
	return 0;
}

static int cmd_serve(struct config *cfg, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--quiet") == 0) {
			cfg->access_log = 0;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			return usage_error("unknown option for serve");
		if (!v)
			return usage_error("an option is missing its value");
		i++;
		int r = serve_flag(cfg, a, v);
		if (r)
			return r;
	}
	if (finish_config(cfg) != 0)
		return 1;
	config_resolve_threads(cfg);

	struct app app = { .cfg = *cfg, .listen_fd = -1 };
	struct db *db = NULL;
	char path[PATH_MAX], err[512];
	int lock_fd = -1;
	int status = 1;
	if (load_resources(cfg, &app, 1) < 0)
		goto out;
	if (data_open(cfg->data_dir, &db) != 0)
		goto out;
	lock_fd = lock_take(cfg->data_dir);
	if (lock_fd < 0) {
		fprintf(stderr, "civicard: another civicard is serving \"%s\"\n", cfg->data_dir);
		goto out;
	}
	struct keystore *ks;
	if (keystore_open(cfg->data_dir, db, 1, &ks, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: keys: %s\n", err);
		goto out;
	}
	atomic_store(&app.keys, ks);
	if (status_list_load(db, &app.status) < 0) {
		fprintf(stderr, "civicard: cannot read the revocation status list\n");
		goto out;
	}
	if (bootstrap_admin(db) < 0) {
		fprintf(stderr, "civicard: cannot create the first admin account\n");
		goto out;
	}
	db_close(db);
	db = NULL;
	db_path(cfg->data_dir, path);
	if (db_thread_setup(path) < 0)
		goto out;

	app.metrics = metrics_new(route_count);
	app.route_methods = calloc(route_count, sizeof *app.route_methods);
	app.route_patterns = calloc(route_count, sizeof *app.route_patterns);
	app.throttle_user = throttle_new(cfg->login_user_limit, cfg->login_window);
	app.throttle_addr = throttle_new(cfg->login_addr_limit, cfg->login_window);
	app.throttle_reprint_addr = throttle_new(cfg->reprint_addr_limit, cfg->reprint_window);
	app.throttle_reprint_card = throttle_new(cfg->reprint_card_limit, cfg->reprint_window);
	if (!app.metrics || !app.route_methods || !app.route_patterns || !app.throttle_user ||
	    !app.throttle_addr || !app.throttle_reprint_addr || !app.throttle_reprint_card)
		goto out;
	for (size_t i = 0; i < route_count; i++) {
		app.route_methods[i] = routes[i].method;
		app.route_patterns[i] = routes[i].pattern;
	}
	randombytes_buf(app.prelogin_key, sizeof app.prelogin_key);
	password_set_concurrency((int)config_password_concurrency(cfg));
	if (cfg->public_url)
		snprintf(app.public_url, sizeof app.public_url, "%s", cfg->public_url);

	/* Signals are taken by sigwait in server_run; every thread inherits
	 * this mask, so none of them is interrupted. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (server_prepare(&app) < 0 || enter_sandbox(cfg->data_dir) < 0)
		goto out;
	if (pool_start(cfg->workers, 256, &app.pool) < 0)
		goto out;
	if (server_run(&app) == 0)
		status = 0;
out:
	pool_stop(app.pool);
	server_release(&app);
	db_close(db);
	throttle_free(app.throttle_user);
	throttle_free(app.throttle_addr);
	throttle_free(app.throttle_reprint_addr);
	throttle_free(app.throttle_reprint_card);
	metrics_free(app.metrics);
	free(app.route_methods);
	free(app.route_patterns);
	static_free(&app);
	tpl_set_free(app.tpl);
	keystore_free(atomic_load(&app.keys));
	for (size_t i = 0; i < app.nold_keys; i++)
		keystore_free(app.old_keys[i]);
	status_list_free(app.status);
	if (lock_fd >= 0) {
		char pidfile[PATH_MAX + 16];
		snprintf(pidfile, sizeof pidfile, "%s/civicard.pid", cfg->data_dir);
		unlink(pidfile);
		close(lock_fd);
	}
	card_fonts_free(app.fonts);
	return status;
}

/* ---- user add ---- */

static int cmd_user(struct config *cfg, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[0], "add") != 0)
		return usage_error("usage: civicard user add NAME --role admin|clerk|auditor");
	const char *name = argv[1], *role_s = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role_s = argv[++i];
		else
			return usage_error("unknown option for user add");
	}
	enum role role = role_parse(role_s);
	if (!role)
		return usage_error("--role must be admin, clerk or auditor");
	if (!username_valid(name))
		return usage_error("a user name is 1-64 of a-z 0-9 . _ - and starts with a letter or digit");

	char line[PASSWORD_MAX + 3];
	if (!fgets(line, sizeof line, stdin))
		return fail("%s", "no password on standard input");
	size_t n = strlen(line);
	if (n && line[n - 1] != '\n' && !feof(stdin))
		return fail("%s", "the password is longer than 256 bytes");
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	const char *weak = password_weakness(line);
	if (weak) {
		sodium_memzero(line, sizeof line);
		return fail("the password is %s", weak);
	}

	struct db *db;
	if (data_open(cfg->data_dir, &db) != 0)
		return 1;
	int r = account_create(db, "cli", name, role, line, 0);
	sodium_memzero(line, sizeof line);
	db_close(db);
	if (r == -EEXIST)
		return fail("user \"%s\" already exists", name);
	if (r < 0)
		return fail("cannot create user \"%s\"", name);
	printf("civicard: user \"%s\" created with role %s\n", name, role_name(role));
	return 0;
}

/* ---- keys rotate ---- */

static int cmd_keys(struct config *cfg, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "rotate") != 0)
		return usage_error("usage: civicard keys rotate");
	struct db *db;
	char err[512];
	if (data_open(cfg->data_dir, &db) != 0)
		return 1;
	struct keystore *ks = NULL;
	int status = 1;
	if (keystore_open(cfg->data_dir, db, 1, &ks, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: keys: %s\n", err);
		goto out;
	}
	uint8_t old = ks->current_kid, kid;
	if (keystore_rotate(cfg->data_dir, db, &kid, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: keys: %s\n", err);
		goto out;
	}
	char detail[48];
	snprintf(detail, sizeof detail, "key %u replaces key %u", kid, old);
	if (audit_append(db, "cli", "keys.rotate", "", detail) < 0) {
		fprintf(stderr, "civicard: the rotation could not be audited\n");
		goto out;
	}
	printf("civicard: new signing key %u; key %u is retired and keeps verifying its cards.\n"
	       "civicard: a running server picks the new key up within a minute (or at once on SIGHUP).\n",
	       kid, old);
	status = 0;
out:
	keystore_free(ks);
	db_close(db);
	return status;
}

/* ---- purge, backup, restore ---- */

static int checkpoint_and_shrink(struct db *db)
{
	/* Freed pages are zeroed (secure_delete); VACUUM rebuilds the file,
	 * TRUNCATE empties the WAL that still held the old rows. */
	return sqlite3_exec(db_handle(db), "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;"
			    " PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}


static int cmd_purge(struct config *cfg, int argc, char **argv)
{
	int everything = 0, expired = 0, yes = 0, days = cfg->retention_days;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--everything") == 0)
			everything = 1;
		else if (strcmp(argv[i], "--expired") == 0)
			expired = 1;
		else if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (strcmp(argv[i], "--retention-days") == 0 && i + 1 < argc) {
			if (parse_days(argv[++i], &days) < 0)
				return usage_error("--retention-days takes a number of days");
		} else
			return usage_error("usage: civicard purge --expired | --everything --yes");
	}
	if (everything == expired)
		return usage_error("say --expired or --everything");
	if (everything && !yes)
		return usage_error("--everything destroys every cardholder's data: add --yes");

	struct db *db;
	char err[512];
	int64_t n = 0;
	if (data_open(cfg->data_dir, &db) != 0)
		return 1;
	int status = 1;
	if (card_purge(db, everything, days, "cli", &n) < 0) {
		fprintf(stderr, "civicard: the purge failed; nothing was erased\n");
		goto out;
	}
	if (everything && keystore_destroy_data_key(cfg->data_dir, err, sizeof err) < 0) {
		fprintf(stderr, "civicard: rows erased, but the data key could not be destroyed: %s\n", err);
		goto out;
	}
	if (checkpoint_and_shrink(db) < 0) {
		fprintf(stderr, "civicard: rows erased, but the database file could not be compacted\n");
		goto out;
	}
	pid_t server = lock_holder(cfg->data_dir);
	if (everything && server > 0)
		kill(server, SIGHUP);       /* the server reads the new data key */
	if (everything)
		printf("civicard: erased the personal data of %lld card versions and destroyed the data key;"
		       " backups made before can no longer be opened. Issued cards still verify.\n",
		       (long long)n);
	else
		printf("civicard: erased the personal data of %lld card versions expired or revoked"
		       " more than %d days ago\n", (long long)n, days);
	status = 0;
out:
	db_close(db);
	return status;
}

static int cmd_backup(struct config *cfg, int argc, char **argv)
{
	if (argc != 1)
		return usage_error("usage: civicard backup FILE");
	struct db *db;
	char err[512];
	if (data_open(cfg->data_dir, &db) != 0)
		return 1;
	int r = backup_write(db, cfg->data_dir, argv[0], err, sizeof err);
	if (r == 0 && audit_append(db, "cli", "backup", "", "") < 0)
		r = -1;
	db_close(db);
	if (r < 0)
		return fail("%s", err);
	printf("civicard: encrypted backup written to %s (it opens only with this data folder's keys/data.key)\n",
	       argv[0]);
	return 0;
}

static int cmd_restore(struct config *cfg, int argc, char **argv)
{
	if (argc != 1)
		return usage_error("usage: civicard restore FILE");
	char path[PATH_MAX], err[512];
	if (lock_holder(cfg->data_dir) > 0)
		return fail("a server is running on \"%s\": stop it first", cfg->data_dir);
	struct db *db;
	if (data_open(cfg->data_dir, &db) != 0)
		return 1;
	db_close(db);
	db_path(cfg->data_dir, path);
	if (backup_restore(cfg->data_dir, path, argv[0], err, sizeof err) < 0)
		return fail("%s", err);
	if (data_open(cfg->data_dir, &db) != 0)   /* migrates an older backup */
		return 1;
	/* backup_restore left every session out. */
	int r = audit_append(db, "cli", "restore", "", "");
	db_close(db);
	if (r < 0)
		return fail("%s", "restored, but the audit entry could not be written");
	printf("civicard: restored %s into %s\n", argv[0], cfg->data_dir);
	return 0;
}

/* ---- check ---- */

static int check_resources(const struct config *cfg)
{
	struct app app = { .cfg = *cfg, .listen_fd = -1 };
	int r = load_resources(cfg, &app, 0);
	static_free(&app);
	tpl_set_free(app.tpl);
	card_fonts_free(app.fonts);
	return r;
}

/* The key folder and files: only their owner may read them (keys.c
 * refuses them otherwise); then whether they open. Keys not made yet
 * (no server started) are not a fault. */
static int check_keys(const char *data_dir, struct db *db)
{
	char dir[PATH_MAX], err[512];
	struct stat st;
	if ((size_t)snprintf(dir, sizeof dir, "%s/keys", data_dir) >= sizeof dir) {
		fail("%s", "the data folder path is too long");
		return -1;
	}
	if (stat(dir, &st) < 0) {
		printf("keys: none yet (the server makes them at its first start)\n");
		return 0;
	}
	struct keystore *ks = NULL;
	if (keystore_open(data_dir, db, 0, &ks, err, sizeof err) < 0) {
		fail("keys: %s", err);
		return -1;
	}
	printf("keys: ok (%zu signing keys, current %u; only their owner can read them)\n",
	       ks->nsigning, (unsigned)ks->current_kid);
	keystore_free(ks);
	return 0;
}

/* ---- config ---- */

static int cmd_config(struct config *cfg, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return usage_error("config takes no arguments");
	printf("# the configuration in effect%s%s\n", cfg->config_file ? ", from " : "",
	       cfg->config_file ? cfg->config_file : " (built-in defaults)");
	config_print(cfg, stdout);
	return 0;
}

/* "1234:3fa2…" (what `check` prints as the anchor): 0 or -1. */
static int parse_anchor(const char *s, int64_t *id, uint8_t hash[AUDIT_HASH_BYTES])
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	size_t hexlen;
	if (errno || end == s || *end != ':' || v < 1)
		return -1;
	*id = v;
	return sodium_hex2bin(hash, AUDIT_HASH_BYTES, end + 1, strlen(end + 1), NULL, &hexlen,
			      NULL) == 0 && hexlen == AUDIT_HASH_BYTES ? 0 : -1;
}

static int cmd_check(struct config *cfg, int argc, char **argv)
{
	int64_t anchor_id = 0;
	uint8_t anchor[AUDIT_HASH_BYTES];
	if (argc == 2 && strcmp(argv[0], "--audit-anchor") == 0) {
		if (parse_anchor(argv[1], &anchor_id, anchor) < 0)
			return usage_error("--audit-anchor takes ENTRY:HASH as check printed it");
	} else if (argc) {
		return usage_error("check takes only --audit-anchor ENTRY:HASH");
	}
	struct stat st;
	char path[PATH_MAX];
	if (cfg->config_file)
		printf("configuration %s: ok\n", cfg->config_file);
	if (check_resources(cfg) < 0)
		return 1;
	printf("templates, catalogues and card fonts: ok\n");
	if (cfg->tls_cert && (access(cfg->tls_cert, R_OK) < 0 || access(cfg->tls_key, R_OK) < 0))
		return fail("tls_cert or tls_key \"%s\" cannot be read", access(cfg->tls_cert, R_OK) < 0
			    ? cfg->tls_cert : cfg->tls_key);
	/* As serve refuses it (server.c, read_file). */
	if (cfg->tls_key && stat(cfg->tls_key, &st) == 0 && (st.st_mode & S_IRWXO))
		return fail("the TLS key \"%s\" is open to other users: chmod o-rwx it",
			    cfg->tls_key);
	if (stat(cfg->data_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail("the data folder \"%s\" does not exist", cfg->data_dir);
	if (st.st_mode & 077)
		return fail("the data folder \"%s\" is open to other users: run chmod 700 on it",
			    cfg->data_dir);
	printf("data folder %s: ok\n", cfg->data_dir);
	if (db_path(cfg->data_dir, path) < 0 || access(path, R_OK | W_OK) < 0)
		return fail("no readable database in \"%s\"", cfg->data_dir);

	struct db *db;
	if (db_open(path, &db) < 0)
		return fail("cannot open the database in \"%s\"", cfg->data_dir);
	int status = 1;
	int v = db_schema_version(db);
	sqlite3_stmt *st_ic = NULL;
	const unsigned char *ic = NULL;
	if (v != db_latest_version()) {
		fprintf(stderr, "civicard: database schema is %d, this version expects %d "
				"(start the server once to migrate)\n", v, db_latest_version());
		goto out;
	}
	if (sqlite3_prepare_v2(db_handle(db), "PRAGMA integrity_check", -1, &st_ic, NULL) != SQLITE_OK ||
	    sqlite3_step(st_ic) != SQLITE_ROW || !(ic = sqlite3_column_text(st_ic, 0)) ||
	    strcmp((const char *)ic, "ok") != 0) {
		fprintf(stderr, "civicard: database integrity check failed: %s\n",
			ic ? (const char *)ic : sqlite3_errmsg(db_handle(db)));
		goto out;
	}
	printf("database: ok (schema %d, integrity ok)\n", v);

	int64_t entries = 0, bad = 0;
	char why[128];
	int r = audit_verify(db, &entries, &bad, why, sizeof why);
	if (r < 0) {
		fprintf(stderr, "civicard: cannot read the audit log\n");
		goto out;
	}
	if (r > 0) {
		fprintf(stderr, "civicard: audit log broken at entry %lld: %s\n", (long long)bad, why);
		goto out;
	}
	if (anchor_id) {
		r = audit_anchor_check(db, anchor_id, anchor);
		if (r != 0) {
			fprintf(stderr, r < 0 ? "civicard: cannot read the audit log\n"
				: "civicard: audit log: entry %lld is not the one anchored: the log was "
				  "cut or rewritten since\n", (long long)anchor_id);
			goto out;
		}
	}
	int64_t head_id;
	uint8_t head[AUDIT_HASH_BYTES];
	char head_hex[2 * AUDIT_HASH_BYTES + 1];
	if (audit_head(db, &head_id, head) < 0) {
		fprintf(stderr, "civicard: cannot read the audit log\n");
		goto out;
	}
	sodium_bin2hex(head_hex, sizeof head_hex, head, sizeof head);
	printf("audit log: ok (%lld entries, chain intact%s)\n", (long long)entries,
	       anchor_id ? ", anchor still there" : "");
	/* Written down elsewhere (a ticket, a daily mail), it lets a later
	 * check prove nothing was cut from the end: --audit-anchor. */
	if (head_id)
		printf("audit anchor: %lld:%s\n", (long long)head_id, head_hex);
	if (check_keys(cfg->data_dir, db) < 0)
		goto out;
	status = 0;
out:
	sqlite3_finalize(st_ic);
	db_close(db);
	return status;
}

int main(int argc, char **argv)
{
	umask(077);
	if (sodium_init() < 0) {
		fprintf(stderr, "civicard: libsodium failed to start\n");
		return 1;
	}

	/* --config and --data may stand anywhere; take them out before the
	 * command sees argv. */
	const char *config_file = getenv("CIVICARD_CONFIG"), *data = NULL;
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return usage_error(argv[i][2] == 'd' ? "--data needs a folder"
								      : "--config needs a file");
			*(argv[i][2] == 'd' ? &data : &config_file) = argv[i + 1];
			i++;
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			data = argv[i] + 7;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_file = argv[i] + 9;
		} else {
			argv[++n] = argv[i];
		}
	}
	argc = n + 1;
	if (argc < 2)
		return usage_error("a command is needed");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("civicard %s\n", CIVICARD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "routes") == 0) {
		/* The route table, for docs/openapi.yaml's test and for operators. */
		for (size_t i = 0; i < route_count; i++)
			printf("%s %s\n", routes[i].method, routes[i].pattern);
		return 0;
	}

	/* Defaults, then the file, then $CIVICARD_DATA, then flags. */
	struct config cfg;
	config_defaults(&cfg);
	int status = 2;
	if (config_file && *config_file) {
		char err[4096];
		if (config_load_file(&cfg, config_file, err, sizeof err) < 0) {
			/* Every problem, one line each. */
			for (char *line = err, *next; line && *line; line = next) {
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				fprintf(stderr, "civicard: %s\n", line);
			}
			status = 1;
			goto out;
		}
	}
	const char *env = getenv("CIVICARD_DATA");
	if (env && *env)
		cfg.data_dir = env;
	if (data)
		cfg.data_dir = data;
	if (!cfg.data_dir[0]) {
		status = usage_error("--data needs a folder");
		goto out;
	}

	if (strcmp(cmd, "serve") == 0) {
		status = cmd_serve(&cfg, argc - 2, argv + 2);   /* its flags, then finish */
		goto out;
	}
	static const struct {
		const char *name;
		int (*run)(struct config *, int, char **);
	} commands[] = {
		{ "user", cmd_user }, { "check", cmd_check }, { "config", cmd_config },
		{ "keys", cmd_keys }, { "purge", cmd_purge }, { "backup", cmd_backup },
		{ "restore", cmd_restore },
	};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			status = finish_config(&cfg);
			if (status == 0)
				status = commands[i].run(&cfg, argc - 2, argv + 2);
			goto out;
		}
	}
	status = usage_error("unknown command");
out:
	config_free(&cfg);
	return status;
}
