/* bench-card.c — what one card costs: the photo (decode, crop, scale,
 * re-encode), the signed token, and the CR80 PDF.
 *
 *   bench-card FONTS_DIR PHOTO.jpg [N]
 *
 * Prints milliseconds per card for each step and the PDF size. */
#include "buf.h"
#include "card_pdf.h"
#include "photo.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint8_t *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return (uint8_t *)buf_steal(&b, ret_len);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench-card FONTS_DIR PHOTO.jpg [N]\n");
		return 2;
	}
	int n = argc > 3 ? atoi(argv[3]) : 200;
	if (sodium_init() < 0 || n < 1)
		return 1;
	char regular[4096], bold[4096], err[256];
	snprintf(regular, sizeof regular, "%s/CardSans.ttf", argv[1]);
	snprintf(bold, sizeof bold, "%s/CardSans-Bold.ttf", argv[1]);
	struct card_fonts *fonts;
	if (card_fonts_load(regular, bold, &fonts, err, sizeof err) < 0) {
		fprintf(stderr, "fonts: %s\n", err);
		return 1;
	}
	size_t in_len;
	uint8_t *in = slurp(argv[2], &in_len);
	if (!in) {
		fprintf(stderr, "cannot read %s\n", argv[2]);
		return 1;
	}
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);

	double t_photo = 0, t_token = 0, t_pdf = 0;
	size_t pdf_bytes = 0, photo_bytes = 0;
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();
		uint8_t *jpeg;
		size_t jlen;
		if (photo_normalize(in, in_len, &jpeg, &jlen) != PHOTO_OK) {
			fprintf(stderr, "photo refused\n");
			return 1;
		}
		double t1 = now_ms();
		struct token_claims c = { .kid = 1, .card_version = 1, .status_index = (uint32_t)i };
		cardnum_new(c.card_number);
		snprintf(c.date_of_birth, sizeof c.date_of_birth, "1990-02-14");
		snprintf(c.expires_on, sizeof c.expires_on, "2031-11-23");
		snprintf(c.given_names, sizeof c.given_names, "Thị Ánh Tuyết");
		snprintf(c.family_name, sizeof c.family_name, "Nguyễn-Quỳnh");
		char tok[TOKEN_MAX_CHARS + 1], qr[1024], number[CARDNUM_FORMATTED + 1];
		token_sign(&c, sk, tok);
		snprintf(qr, sizeof qr, "https://id.example.org/v#%s", tok);
		cardnum_format(c.card_number, number);
		double t2 = now_ms();
		struct card_text t = {
			"Ville d'Exemple / City of Example", "Carte d'identité municipale / Municipal identity card",
			"Nom / Family name", "Prénoms / Given names", "Date de naissance / Date of birth",
			"N° de carte / Card no.", "Expire le / Expires", c.family_name, c.given_names,
			c.date_of_birth, c.expires_on, number, "Vérifier / Verify: https://id.example.org/v",
			"Carte trouvée ? Déposez-la dans une boîte aux lettres. / Found this card? Drop it in any mailbox.",
		};
		struct card_photo p = { jpeg, jlen, PHOTO_WIDTH, PHOTO_HEIGHT };
		struct buf out = BUF_INIT;
		if (card_pdf_render(fonts, &t, &p, qr, 1700000000, CARD_FORMAT_CR80, &out, err, sizeof err) < 0) {
			fprintf(stderr, "pdf: %s\n", err);
			return 1;
		}
		double t3 = now_ms();
		t_photo += t1 - t0;
		t_token += t2 - t1;
		t_pdf += t3 - t2;
		pdf_bytes = out.len;
		photo_bytes = jlen;
		buf_free(&out);
		free(jpeg);
	}
	printf("input photo        %zu bytes\n", in_len);
	printf("photo (normalise)  %.3f ms per card, %zu bytes out\n", t_photo / n, photo_bytes);
	printf("token (Ed25519)    %.3f ms per card\n", t_token / n);
	printf("PDF (CR80)         %.3f ms per card, %zu bytes\n", t_pdf / n, pdf_bytes);
	printf("total              %.3f ms per card over %d cards\n", (t_photo + t_token + t_pdf) / n, n);
	free(in);
	card_fonts_free(fonts);
	return 0;
}
