/* static.c — templates/static/ read once at start-up, served from memory. */
#include "app.h"
#include "log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *ext, *type; } types[] = {
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

int static_load(struct app *app, const char *templates_dir)
{
	char dir[4096];
	if ((size_t)snprintf(dir, sizeof dir, "%s/static", templates_dir) >= sizeof dir)
		return -1;
	DIR *d = opendir(dir);
	if (!d) {
		log_error("cannot open %s", dir);
		return -1;
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		const char *type = type_of(e->d_name);
		if (!type) {
			log_error("%s/%s: unknown file type; refusing to serve it", dir, e->d_name);
			r = -1;
			break;
		}
		char path[4352];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		struct buf b = BUF_INIT;
		char chunk[8192];
		size_t n;
		while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, n);
		if (!f || ferror(f) || b.failed) {
			log_error("cannot read %s", path);
			if (f)
				fclose(f);
			buf_free(&b);
			r = -1;
			break;
		}
		fclose(f);
		struct static_file *grown = realloc(app->statics, (app->nstatics + 1) * sizeof *grown);
		if (!grown) {
			buf_free(&b);
			r = -1;
			break;
		}
		app->statics = grown;
		struct static_file *sf = &app->statics[app->nstatics++];
		sf->name = strdup(e->d_name);
		sf->type = type;
		sf->data = buf_steal(&b, &sf->len);
		uint8_t h[8];
		crypto_generichash(h, sizeof h, (const uint8_t *)sf->data, sf->len, NULL, 0);
		snprintf(sf->etag, sizeof sf->etag, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1],
			 h[2], h[3], h[4], h[5], h[6], h[7]);
	}
	closedir(d);
	return r;
}

void static_free(struct app *app)
{
	for (size_t i = 0; i < app->nstatics; i++) {
		free(app->statics[i].name);
		free(app->statics[i].data);
	}
	free(app->statics);
	app->statics = NULL;
	app->nstatics = 0;
}

const struct static_file *static_find(const struct app *app, const char *name)
{
	for (size_t i = 0; i < app->nstatics; i++)
		if (strcmp(app->statics[i].name, name) == 0)
			return &app->statics[i];
	return NULL;
}
