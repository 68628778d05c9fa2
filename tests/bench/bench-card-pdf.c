/* bench-card-pdf.c — how long a card PDF takes and how big it is.
 *
 *   CIVICARD_FONTS_DIR=build bench-card-pdf [cards] [threads]
 *
 * Renders `cards` CR80 PDFs (default 2000) on each of `threads` threads
 * (default 1) with a generated 240×300 photo (TurboJPEG, quality 85, with
 * fine texture so it weighs about what a real face does), then the A4
 * sheet, and prints milliseconds and bytes per PDF. Exit 77 (skip) when
 * the fonts are not found. */
#include "card_pdf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

#define PHOTO_W 240
#define PHOTO_H 300

/* A head-and-shoulders silhouette on a gradient, with deterministic
 * grain. *ret_len bytes from tjAlloc: tjFree(). NULL on failure. */
static unsigned char *make_photo(unsigned long *ret_len)
{
	unsigned char *px = malloc((size_t)PHOTO_W * PHOTO_H * 3), *jpeg = NULL;
	tjhandle tj = tjInitCompress();
	uint32_t seed = 12345;
	if (!px || !tj)
		goto done;
	for (int y = 0; y < PHOTO_H; y++) {
		for (int x = 0; x < PHOTO_W; x++) {
			double cx = x - PHOTO_W / 2.0, cy = y - PHOTO_H * 0.42, sy = y - PHOTO_H * 1.05;
			int head = cx * cx / (PHOTO_W * PHOTO_W * 0.045) + cy * cy / (PHOTO_H * PHOTO_H * 0.05) < 1;
			int body = cx * cx / (PHOTO_W * PHOTO_W * 0.16) + sy * sy / (PHOTO_H * PHOTO_H * 0.16) < 1;
			seed = seed * 1103515245u + 12345u;
			int grain = (int)(seed >> 28) - 8;
			unsigned char *p = px + ((size_t)y * PHOTO_W + x) * 3;
			int base[3] = { 200 + y * 40 / PHOTO_H, 210 + y * 30 / PHOTO_H, 225 };
			if (head) {
				base[0] = 196; base[1] = 160; base[2] = 140;
			} else if (body) {
				base[0] = 60; base[1] = 72; base[2] = 96;
			}
			for (int k = 0; k < 3; k++) {
				int v = base[k] + grain;
				p[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
		}
	}
	if (tjCompress2(tj, px, PHOTO_W, 0, PHOTO_H, TJPF_RGB, &jpeg, ret_len, TJSAMP_420, 85, 0) < 0) {
		fprintf(stderr, "tjCompress2: %s\n", tjGetErrorStr2(tj));
		jpeg = NULL;
	}
done:
	if (tj)
		tjDestroy(tj);
	free(px);
	return jpeg;
}

struct job {
	const struct card_fonts *fonts;
	const struct card_text *text;
	const struct card_photo *photo;
	const char *qr;
	enum card_format fmt;
	int n;
	size_t bytes;   /* of the last PDF */
	int failed;
};

static void *run(void *arg)
{
	struct job *j = arg;
	char err[256];
	for (int i = 0; i < j->n; i++) {
		struct buf out = BUF_INIT;
		if (card_pdf_render(j->fonts, j->text, j->photo, j->qr, 1767225600, j->fmt, &out, err,
				    sizeof err) < 0) {
			fprintf(stderr, "render: %s\n", err);
			j->failed = 1;
			buf_free(&out);
			return NULL;
		}
		j->bytes = out.len;
		buf_free(&out);
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench(const char *what, struct job *proto, int threads)
{
	struct job jobs[64];
	pthread_t tid[64];
	double t0 = now_ms();
	for (int i = 0; i < threads; i++) {
		jobs[i] = *proto;
		if (pthread_create(&tid[i], NULL, run, &jobs[i]) != 0)
			return -1;
	}
	int failed = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		failed |= jobs[i].failed;
	}
	double ms = now_ms() - t0;
	if (failed)
		return -1;
	int total = proto->n * threads;
	printf("%-5s %d PDFs on %d thread%s: %.3f ms/PDF wall (%.3f ms/PDF per thread), %zu bytes/PDF\n",
	       what, total, threads, threads == 1 ? "" : "s", ms / total, ms / proto->n,
	       jobs[0].bytes);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	const char *dir = getenv("CIVICARD_FONTS_DIR");
	char reg[512], bold[512], err[256], qr[256];
	struct card_fonts *fonts = NULL;
	if (!dir || !*dir) {
		fprintf(stderr, "CIVICARD_FONTS_DIR not set: skipped\n");
		return 77;
	}
	if (n < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench-card-pdf [cards] [threads 1-64]\n");
		return 2;
	}
	snprintf(reg, sizeof reg, "%s/CardSans.ttf", dir);
	snprintf(bold, sizeof bold, "%s/CardSans-Bold.ttf", dir);
	double t0 = now_ms();
	if (card_fonts_load(reg, bold, &fonts, err, sizeof err) < 0) {
		fprintf(stderr, "fonts: %s\n", err);
		return 1;
	}
	printf("fonts loaded once in %.2f ms\n", now_ms() - t0);

	unsigned long jpeg_len = 0;
	unsigned char *jpeg = make_photo(&jpeg_len);
	if (!jpeg)
		return 1;
	struct card_photo photo = { jpeg, jpeg_len, PHOTO_W, PHOTO_H };
	/* A realistic token: the verification address and ~205 Base32 characters. */
	int len = snprintf(qr, sizeof qr, "http://127.0.0.1:8080/v#");
	for (int i = 0; i < 205; i++)
		qr[len++] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(i * 7 + 3) % 32];
	qr[len] = '\0';
	struct card_text t = {
		.city_name = "Ville de Montréal / City of Montréal",
		.card_title = "Carte d'identité municipale / Municipal ID card",
		.label_family = "Nom / Family name",
		.label_given = "Prénoms / Given names",
		.label_dob = "Date de naissance / Date of birth",
		.label_number = "N° de carte / Card no.",
		.label_expires = "Expire le / Expires",
		.family_name = "Nguyễn",
		.given_names = "Thị Ánh Tuyết",
		.date_of_birth = "1990-02-14",
		.expires_on = "2030-02-13",
		.card_number = "K7QM-4TXP-9W",
		.verify_line = "Vérifier / Verify: https://id.example.org/v",
		.return_line = "Si trouvée, déposez-la dans une boîte aux lettres / "
			       "If found, drop it in any mailbox",
	};
	printf("photo: %lu bytes JPEG, %dx%d\n", jpeg_len, PHOTO_W, PHOTO_H);
	struct job proto = { fonts, &t, &photo, qr, CARD_FORMAT_CR80, n, 0, 0 };
	int rc = bench("CR80", &proto, threads);
	proto.fmt = CARD_FORMAT_A4;
	proto.n = n / 4 > 0 ? n / 4 : 1;
	if (rc == 0)
		rc = bench("A4", &proto, threads);
	tjFree(jpeg);
	card_fonts_free(fonts);
	return rc < 0 ? 1 : 0;
}
