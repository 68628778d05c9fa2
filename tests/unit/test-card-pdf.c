/* test-card-pdf.c — the card PDF, checked by rendering it and looking.
 *
 * Needs the prepared fonts (CIVICARD_FONTS_DIR: CardSans.ttf and
 * CardSans-Bold.ttf from scripts/prepare-font.py) and poppler-utils,
 * zbar-tools and qpdf; exits 77 (skipped) without them. With
 * CIVICARD_CARD_SAMPLES=DIR it also leaves sample PDFs in DIR
 * (tests/card/render-samples.sh turns them into PNGs). */
#include "card_pdf.h"
#include "check.h"
#include "tmpdir.h"

#include <hpdf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <sys/wait.h>
#include <unistd.h>

#define MM_PT (72.0 / 25.4)
#define CARD_W 85.6
#define CARD_H 54.0
#define ISSUED 1767225600LL   /* 2026-01-01T00:00:00Z */
#define RAW_DEJAVU "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

static const char *work;          /* temporary folder */
static const char *fonts_dir;
static const char *samples;       /* CIVICARD_CARD_SAMPLES or NULL */
static struct card_fonts *fonts;
static char qr[256];
static unsigned char *jpeg;
static unsigned long jpeg_len;
static struct card_photo photo;

/* ---- helpers ------------------------------------------------------------ */

static struct card_text text_with(const char *family, const char *given)
{
	struct card_text t = {
		.city_name = "Ville de Montréal / City of Montréal",
		.card_title = "Carte d'identité municipale / Municipal ID card",
		.label_family = "Nom / Family name",
		.label_given = "Prénoms / Given names",
		.label_dob = "Date de naissance / Date of birth",
		.label_number = "N° de carte / Card no.",
		.label_expires = "Expire le / Expires",
		.family_name = family,
		.given_names = given,
		.date_of_birth = "1990-02-14",
		.expires_on = "2030-02-13",
		.card_number = "K7QM-4TXP-9W",
		.verify_line = "Vérifier / Verify: http://127.0.0.1:8080/v",
		.return_line = "Si trouvée, déposez-la dans une boîte aux lettres / "
			       "If found, drop it in any mailbox",
	};
	return t;
}

/* Run a shell command; its standard output into out (NUL-terminated,
 * may be NULL). Returns the exit status, or -1. */
static int run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	if (!p)
		return -1;
	if (out && outlen) {
		size_t k;
		while (n + 1 < outlen && (k = fread(out + n, 1, outlen - 1 - n, p)) > 0)
			n += k;
		out[n] = '\0';
	}
	char sink[4096];
	while (fread(sink, 1, sizeof sink, p) > 0)
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Render into work/NAME.pdf (and, for names starting "sample-", into
 * samples/NAME.pdf if asked); path gets the file name. 0 or -1. */
static int render_to(const struct card_text *t, const struct card_photo *p, enum card_format fmt,
		     const char *name, char *path, size_t pathlen)
{
	struct buf out = BUF_INIT;
	char err[256];
	if (card_pdf_render(fonts, t, p, qr, ISSUED, fmt, &out, err, sizeof err) < 0) {
		fprintf(stderr, "render %s: %s\n", name, err);
		buf_free(&out);
		return -1;
	}
	snprintf(path, pathlen, "%s/%s.pdf", work, name);
	int rc = write_file(path, out.data, out.len);
	if (rc == 0 && samples && strncmp(name, "sample-", 7) == 0) {
		char keep[512];
		snprintf(keep, sizeof keep, "%s/%s.pdf", samples, name);
		rc = write_file(keep, out.data, out.len);
	}
	buf_free(&out);
	return rc;
}

/* Ink in a rectangle of a page rendered at dpi: the sum of darkness
 * (255 - grey) over its pixels, in 1/255 pixel units. Rectangle in mm
 * from the page's top-left. -1 on failure. */
static long long ink(const char *pdf, int page, int dpi, double x, double y, double w, double h)
{
	char cmd[1024], pgm[512];
	double px = dpi / 25.4;
	snprintf(pgm, sizeof pgm, "%s/ink", work);
	snprintf(cmd, sizeof cmd,
		 "pdftoppm -q -gray -r %d -f %d -l %d -x %d -y %d -W %d -H %d -singlefile '%s' '%s'",
		 dpi, page, page, (int)(x * px), (int)(y * px), (int)(w * px), (int)(h * px), pdf, pgm);
	if (run(cmd, NULL, 0) != 0)
		return -1;
	snprintf(pgm, sizeof pgm, "%s/ink.pgm", work);
	FILE *f = fopen(pgm, "rb");
	int pw, ph, maxv;
	long long sum = -1;
	if (!f)
		return -1;
	if (fscanf(f, "P5 %d %d %d", &pw, &ph, &maxv) == 3 && fgetc(f) != EOF && maxv == 255) {
		sum = 0;
		for (long i = 0; i < (long)pw * ph; i++) {
			int c = fgetc(f);
			if (c == EOF) {
				sum = -1;
				break;
			}
			sum += 255 - c;
		}
	}
	fclose(f);
	return sum;
}

/* The JPEG a photo encoder of ours would hand over: 240×300, baseline. */
static int make_photo(void)
{
	enum { W = 240, H = 300 };
	unsigned char *px = malloc(W * H * 3);
	tjhandle tj = tjInitCompress();
	int rc = -1;
	if (!px || !tj)
		goto done;
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++) {
			double cx = x - W / 2.0, cy = y - H * 0.42;
			int head = cx * cx / (W * W * 0.045) + cy * cy / (H * H * 0.05) < 1;
			unsigned char *p = px + (y * W + x) * 3;
			p[0] = head ? 196 : (unsigned char)(200 + y * 40 / H);
			p[1] = head ? 160 : (unsigned char)(210 + y * 30 / H);
			p[2] = head ? 140 : 225;
		}
	}
	if (tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpeg, &jpeg_len, TJSAMP_420, 85, 0) == 0) {
		photo = (struct card_photo){ jpeg, jpeg_len, W, H };
		rc = 0;
	}
done:
	if (tj)
		tjDestroy(tj);
	free(px);
	return rc;
}

/* ---- the tests ---------------------------------------------------------- */

TEST(fonts_load_and_bad_fonts_are_refused)
{
	char err[256], reg[512];
	struct card_fonts *f = NULL;
	CHECK(card_fonts_load("/nonexistent/CardSans.ttf", "/nonexistent/b.ttf", &f, err,
			      sizeof err) < 0);
	CHECK(strstr(err, "/nonexistent/CardSans.ttf") != NULL);
	if (access(RAW_DEJAVU, R_OK) == 0) {
		/* The raw DejaVu font has nested composites libharu 2.3.0 drops. */
		CHECK(card_fonts_load(RAW_DEJAVU, RAW_DEJAVU, &f, err, sizeof err) < 0);
		CHECK(strstr(err, "composite") != NULL);
	}
	/* Regular given twice: libharu cannot tell the two apart. */
	snprintf(reg, sizeof reg, "%s/CardSans.ttf", fonts_dir);
	CHECK(card_fonts_load(reg, reg, &f, err, sizeof err) < 0);
	CHECK(f == NULL);
}

TEST(cr80_is_two_clean_pages_of_exact_size)
{
	struct card_text t = text_with("Nguyễn", "Thị Ánh Tuyết");
	char pdf[512], cmd[1024], out[4096];
	CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, "sample-cr80-vi", pdf, sizeof pdf) == 0);
	snprintf(cmd, sizeof cmd, "qpdf --check '%s' 2>&1", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "No syntax or stream encoding errors") != NULL);
	snprintf(cmd, sizeof cmd, "pdfinfo -f 1 -l 9 '%s' 2>/dev/null", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "Pages:           2") != NULL);
	for (int page = 1; page <= 2; page++) {
		char key[32];
		double w = 0, h = 0;
		snprintf(key, sizeof key, "Page    %d size:", page);
		const char *s = strstr(out, key);
		CHECK(s && sscanf(s + strlen(key), "%lf x %lf", &w, &h) == 2);
		/* pdfinfo prints 3 decimals: 242.646 x 153.071 pt. */
		CHECK(w > CARD_W * MM_PT - 0.001 && w < CARD_W * MM_PT + 0.001);
		CHECK(h > CARD_H * MM_PT - 0.001 && h < CARD_H * MM_PT + 0.001);
	}
	/* The creation date is the issue time, in UTC. */
	snprintf(cmd, sizeof cmd, "pdfinfo -isodates '%s' 2>/dev/null", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "2026-01-01T00:00:00") != NULL);
}

static int qr_reads_back(const char *pdf, int page)
{
	char cmd[1024], out[1024];
	snprintf(cmd, sizeof cmd,
		 "pdftoppm -q -r 150 -f %d -l %d -png -singlefile '%s' '%s/scan' && "
		 "zbarimg --raw -q '%s/scan.png' 2>/dev/null", page, page, pdf, work, work);
	if (run(cmd, out, sizeof out) != 0)
		return 0;
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	if (strcmp(out, qr) != 0)
		fprintf(stderr, "QR read back \"%s\"\n", out);
	return strcmp(out, qr) == 0;
}

TEST(qr_decodes_from_a_150_dpi_scan)
{
	struct card_text t = text_with("Nguyễn", "Thị Ánh Tuyết");
	char pdf[512];
	CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, "qr", pdf, sizeof pdf) == 0);
	CHECK(qr_reads_back(pdf, 2));
}

TEST(sheets_hold_both_sides_at_true_size)
{
	static const struct { enum card_format fmt; const char *name; double w, h; } f[] = {
		{ CARD_FORMAT_A4, "sample-a4", 595.276, 841.890 },
		{ CARD_FORMAT_LETTER, "sample-letter", 612.0, 792.0 },
	};
	struct card_text t = text_with("Ёлкина-Щербатова", "Анна Мария");
	for (size_t i = 0; i < 2; i++) {
		char pdf[512], cmd[1024], out[4096];
		double w = 0, h = 0;
		CHECK(render_to(&t, &photo, f[i].fmt, f[i].name, pdf, sizeof pdf) == 0);
		snprintf(cmd, sizeof cmd, "qpdf --check '%s' >/dev/null 2>&1", pdf);
		CHECK(run(cmd, NULL, 0) == 0);
		snprintf(cmd, sizeof cmd, "pdfinfo '%s' 2>/dev/null", pdf);
		CHECK(run(cmd, out, sizeof out) == 0);
		CHECK(strstr(out, "Pages:           1") != NULL);
		const char *s = strstr(out, "Page size:");
		CHECK(s && sscanf(s + 10, "%lf x %lf", &w, &h) == 2);
		CHECK(w > f[i].w - 0.01 && w < f[i].w + 0.01 && h > f[i].h - 0.01 && h < f[i].h + 0.01);
		CHECK(qr_reads_back(pdf, 1));
		/* True size: the text of both cards is there. */
		snprintf(cmd, sizeof cmd, "pdftotext -q '%s' -", pdf);
		CHECK(run(cmd, out, sizeof out) == 0);
		CHECK(strstr(out, "Ёлкина-Щербатова") && strstr(out, "Verify"));
	}
}

TEST(same_input_same_bytes)
{
	struct card_text t = text_with("Ἀλέξανδρος", "Νικόλαος");
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	char err[256];
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &a, err, sizeof err) == 0);
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &b, err, sizeof err) == 0);
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED + 86400, CARD_FORMAT_CR80, &c, err,
			      sizeof err) == 0);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	CHECK(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

/* Ink of the whole front: everything but the family name is the same
 * in the renders compared, so differences come from the name alone. */
static long long family_ink(const char *family, const char *name)
{
	struct card_text t = text_with(family, "Anna");
	char pdf[512];
	if (render_to(&t, &photo, CARD_FORMAT_CR80, name, pdf, sizeof pdf) < 0)
		return -1;
	return ink(pdf, 1, 300, 0, 0, CARD_W, CARD_H);
}

/* Every diacritic must be drawn: accented words have more ink than the
 * same words without accents. Word by word, so one lost accent shows. */
TEST(diacritics_are_drawn)
{
	static const struct { const char *accented, *plain; } pairs[] = {
		{ "Nguyễn", "Nguyen" },            /* stacked: circumflex + tilde */
		{ "Thị", "Thi" },
		{ "Ánh", "Anh" },
		{ "Tuyết", "Tuyet" },
		{ "Ёлкина-Щербатова", "Елкина-Щербатова" },
		{ "Ἀλέξανδρος", "Αλεξανδρος" },
		{ "Nguyễn Thị Ánh", "Nguyen Thi Anh" },
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		long long a = family_ink(pairs[i].accented, "ink-a");
		long long p = family_ink(pairs[i].plain, "ink-p");
		fprintf(stderr, "   ink \"%s\" %lld vs \"%s\" %lld\n", pairs[i].accented, a / 255,
			pairs[i].plain, p / 255);
		/* At least 10 full pixels at 300 dpi per word (the smallest here,
		 * the acute of "Á", is about 30; rendering is deterministic). */
		CHECK(a > 0 && p > 0 && a > p + 10 * 255);
	}
}

/* The test above would catch the libharu 2.3.0 bug: the raw DejaVu font
 * embedded by plain libharu loses the stacked accent of "ễ" (the ink of
 * "Nguyễn" equals that of "Nguyen") and the base of "Ё" (less ink than
 * "Е"). Shown with libharu directly, since card_fonts_load refuses the
 * raw font. */
static long long raw_libharu_ink(const char *font_path, const char *s)
{
	char pdf[512];
	long long sum = -1;
	HPDF_Doc doc = HPDF_New(NULL, NULL);
	if (!doc)
		return -1;
	HPDF_UseUTFEncodings(doc);
	const char *name = HPDF_LoadTTFontFromFile(doc, font_path, HPDF_TRUE);
	HPDF_Font font = name ? HPDF_GetFont(doc, name, "UTF-8") : NULL;
	HPDF_Page page = HPDF_AddPage(doc);
	if (font && page) {
		HPDF_Page_SetWidth(page, 60 * MM_PT);
		HPDF_Page_SetHeight(page, 15 * MM_PT);
		HPDF_Page_BeginText(page);
		HPDF_Page_SetFontAndSize(page, font, 20);
		HPDF_Page_TextOut(page, 10, 12, s);
		HPDF_Page_EndText(page);
		snprintf(pdf, sizeof pdf, "%s/raw.pdf", work);
		if (HPDF_SaveToFile(doc, pdf) == HPDF_OK)
			sum = ink(pdf, 1, 300, 0, 0, 60, 15);
	}
	HPDF_Free(doc);
	return sum;
}

TEST(the_ink_test_catches_libharus_lost_accents)
{
	char prepared[512];
	if (access(RAW_DEJAVU, R_OK) != 0) {
		fprintf(stderr, "   %s not installed: not shown\n", RAW_DEJAVU);
		return;
	}
	snprintf(prepared, sizeof prepared, "%s/CardSans.ttf", fonts_dir);
	long long raw_a = raw_libharu_ink(RAW_DEJAVU, "Nguyễn"), raw_p = raw_libharu_ink(RAW_DEJAVU, "Nguyen");
	long long raw_yo = raw_libharu_ink(RAW_DEJAVU, "Ё"), raw_ye = raw_libharu_ink(RAW_DEJAVU, "Е");
	long long cut_a = raw_libharu_ink(prepared, "Nguyễn"), cut_p = raw_libharu_ink(prepared, "Nguyen");
	long long cut_yo = raw_libharu_ink(prepared, "Ё"), cut_ye = raw_libharu_ink(prepared, "Е");
	fprintf(stderr, "   raw DejaVu: Nguyễn %lld Nguyen %lld, Ё %lld Е %lld\n", raw_a / 255,
		raw_p / 255, raw_yo / 255, raw_ye / 255);
	fprintf(stderr, "   prepared:   Nguyễn %lld Nguyen %lld, Ё %lld Е %lld\n", cut_a / 255,
		cut_p / 255, cut_yo / 255, cut_ye / 255);
	CHECK(raw_a >= 0 && raw_yo >= 0 && cut_a >= 0 && cut_yo >= 0);
	/* With the raw font the ink test fails ... */
	CHECK(!(raw_a > raw_p + 20 * 255));
	CHECK(!(raw_yo > raw_ye + 20 * 255));
	/* ... with the prepared one it passes. */
	CHECK(cut_a > cut_p + 20 * 255);
	CHECK(cut_yo > cut_ye + 20 * 255);
}

/* Word boxes of page 1, from pdftotext -bbox: pt from the top-left. */
struct word {
	double x0, y0, x1, y1;
	char text[256];
};

static int words_of(const char *pdf, struct word *w, int max)
{
	static char out[1 << 16];
	char cmd[1024];
	int n = 0;
	snprintf(cmd, sizeof cmd, "pdftotext -q -bbox -f 1 -l 1 '%s' -", pdf);
	if (run(cmd, out, sizeof out) != 0)
		return -1;
	for (char *s = strstr(out, "<word "); s && n < max; s = strstr(s + 1, "<word ")) {
		if (sscanf(s, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\">%255[^<]",
			   &w[n].x0, &w[n].y0, &w[n].x1, &w[n].y1, w[n].text) != 5)
			return -1;
		n++;
	}
	return n;
}

static int inside(const struct word *w, double x0, double y0, double x1, double y1)
{
	if (w->x0 >= x0 && w->x1 <= x1 && w->y0 >= y0 && w->y1 <= y1)
		return 1;
	fprintf(stderr, "   word \"%s\" at %.1f,%.1f-%.1f,%.1f outside %.1f,%.1f-%.1f,%.1f\n",
		w->text, w->x0, w->y0, w->x1, w->y1, x0, y0, x1, y1);
	return 0;
}

TEST(a_long_name_stays_in_its_box)
{
	/* 122 characters with spaces, and 123 without any. */
	const char *names[] = {
		"Wolfeschlegelsteinhausenbergerdorff Papadopoulou-Konstantinidou "
		"Nguyễn-Trần Ёлкина-Щербатова Delavallée-Poussin Ἀλέξανδρος",
		"Ḁbcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn"
		"opqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs",
	};
	static struct word with[200], without[200];
	char pdf[512], name[32];
	struct card_text t = text_with("", "Anna Maria Magdalena Theodora Konstantina");
	CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, "no-family", pdf, sizeof pdf) == 0);
	int nwithout = words_of(pdf, without, 200);
	CHECK(nwithout > 10);
	/* The family name's box, from the card without one: below its label
	 * ("Nom / Family name"), above the given names' ("Prénoms / ..."),
	 * from the label's left edge to the card's right margin. */
	double left = -1, top = -1, bottom = -1;
	for (int j = 0; j < nwithout; j++) {
		if (strcmp(without[j].text, "Nom") == 0)
			left = without[j].x0;
		if (strcmp(without[j].text, "Family") == 0)
			top = without[j].y1;
		if (strcmp(without[j].text, "Prénoms") == 0)
			bottom = without[j].y0;
	}
	CHECK(left > 25 * MM_PT && top > 10 * MM_PT && bottom > top + 5 * MM_PT);
	for (size_t i = 0; i < 2; i++) {
		t.family_name = names[i];
		snprintf(name, sizeof name, "sample-long-%zu", i);
		CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, name, pdf, sizeof pdf) == 0);
		int nwith = words_of(pdf, with, 200), added = 0;
		CHECK(nwith > nwithout);
		for (int k = 0; k < nwith; k++) {
			/* Nothing on the card crosses its right margin. */
			CHECK(inside(&with[k], 0, 0, (CARD_W - 4.0) * MM_PT + 0.5, CARD_H * MM_PT));
			int same = 0;
			for (int j = 0; j < nwithout && !same; j++)
				same = strcmp(with[k].text, without[j].text) == 0 &&
				       with[k].x0 == without[j].x0 && with[k].y0 == without[j].y0;
			if (same)
				continue;
			/* The name's words (pdftotext's boxes run from the font's
			 * ascent to its descent). */
			added++;
			CHECK(inside(&with[k], left - 0.5, top, (CARD_W - 4.0) * MM_PT + 0.5, bottom));
		}
		CHECK(added >= 2);
		/* The margin strip (below the band, above the footer) has no ink. */
		CHECK(ink(pdf, 1, 300, CARD_W - 3.7, 12.0, 3.5, 38.0) == 0);
	}
}

TEST(long_texts_elsewhere_shrink_and_stay_inside)
{
	struct card_text t = text_with("Lee", "Jo");
	char pdf[512];
	t.city_name = "Ville de Saint-Jean-sur-Richelieu-et-des-Environs-Immédiats / "
		      "City of Saint-Jean-sur-Richelieu and Surroundings";
	t.given_names = "Maximiliano Bartholomäus Chrysostomos Evangelista Wenceslas Théophile "
			"Hieronymus Aurelio";
	CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, "sample-long-texts", pdf, sizeof pdf) == 0);
	static struct word w[200];
	int n = words_of(pdf, w, 200);
	CHECK(n > 10);
	for (int k = 0; k < n; k++)
		CHECK(inside(&w[k], 0, 0, (CARD_W - 4.0) * MM_PT + 0.5, CARD_H * MM_PT));
	CHECK(ink(pdf, 1, 300, CARD_W - 3.7, 12.0, 3.5, 38.0) == 0);
}

TEST(text_extracts_as_typed)
{
	struct card_text t = text_with("Ёлкина-Щербатова", "Ἀλέξανδρος Nguyễn");
	char pdf[512], cmd[1024], out[8192];
	t.verify_line = "Vérifiez / Verify";   /* no address: printed whole */
	CHECK(render_to(&t, NULL, CARD_FORMAT_CR80, "sample-no-photo", pdf, sizeof pdf) == 0);
	snprintf(cmd, sizeof cmd, "pdftotext '%s' - 2>&1", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "Ёлкина-Щербатова") != NULL);
	CHECK(strstr(out, "Ἀλέξανδρος Nguyễn") != NULL);
	CHECK(strstr(out, "K7QM-4TXP-9W") != NULL);
	snprintf(cmd, sizeof cmd, "pdftotext -f 2 -l 2 '%s' - 2>&1", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "Vérifiez / Verify") != NULL);
	CHECK(strstr(out, "Si trouvée") != NULL);
	snprintf(cmd, sizeof cmd, "pdftotext '%s' - 2>&1", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	/* libharu's own ToUnicode map made poppler complain; ours does not. */
	CHECK(strstr(out, "Warning") == NULL);
}

/* More than 100 separate runs of code points: the ToUnicode map is
 * written in blocks of 100. */
TEST(many_distinct_characters)
{
	char given[1024], pdf[512], cmd[1024], out[8192];
	size_t n = 0;
	for (unsigned c = 0x0100; c < 0x0180; c += 2)           /* Latin Extended-A */
		n += (size_t)snprintf(given + n, sizeof given - n, "%c%c", 0xC0 | c >> 6, 0x80 | (c & 0x3F));
	for (unsigned c = 0x0410; c < 0x0450; c += 2)           /* Cyrillic */
		n += (size_t)snprintf(given + n, sizeof given - n, "%c%c", 0xC0 | c >> 6, 0x80 | (c & 0x3F));
	for (unsigned c = 0x1EA0; c < 0x1EFA; c += 2)           /* Vietnamese */
		n += (size_t)snprintf(given + n, sizeof given - n, "%c%c%c", 0xE0 | c >> 12,
				      0x80 | (c >> 6 & 0x3F), 0x80 | (c & 0x3F));
	struct card_text t = text_with("Ŀŀ", given);
	CHECK(render_to(&t, &photo, CARD_FORMAT_CR80, "many", pdf, sizeof pdf) == 0);
	snprintf(cmd, sizeof cmd, "qpdf --check '%s' >/dev/null 2>&1", pdf);
	CHECK(run(cmd, NULL, 0) == 0);
	snprintf(cmd, sizeof cmd, "pdftotext '%s' - 2>&1", pdf);
	CHECK(run(cmd, out, sizeof out) == 0);
	CHECK(strstr(out, "Warning") == NULL && strstr(out, "Error") == NULL);
	CHECK(strstr(out, "ĀĂĄĆĈ") != NULL);   /* the start of the given names */
}

TEST(bad_input_is_refused_and_out_kept)
{
	struct card_text t = text_with("Nguyễn", "Thị");
	struct buf out = BUF_INIT;
	char err[256], big[600];
	buf_puts(&out, "previous");
	/* Not in the card font (CJK), and not UTF-8. */
	t.family_name = "李";
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	CHECK(strstr(err, "U+674E") != NULL);
	t.family_name = "Nguy\xC3\x28n";
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	CHECK(strstr(err, "UTF-8") != NULL);
	t.family_name = "Tab\there";
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	t.family_name = NULL;
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	CHECK(strstr(err, "family_name") != NULL);
	t.family_name = "Nguyễn";
	/* A QR code above CARD_QR_MAX_VERSION: 400 bytes of lower case. */
	memset(big, 'q', 400);
	big[400] = '\0';
	CHECK(card_pdf_render(fonts, &t, &photo, big, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	CHECK(strstr(err, "version") != NULL);
	/* A photo whose header disagrees with what the caller says. */
	struct card_photo wrong = photo;
	wrong.width = 100;
	CHECK(card_pdf_render(fonts, &t, &wrong, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	wrong = photo;
	wrong.jpeg = (const uint8_t *)"GIF89a";
	wrong.len = 6;
	CHECK(card_pdf_render(fonts, &t, &wrong, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	/* A JPEG libharu cannot parse: its error handler jumps out, and
	 * everything is released (the sanitizer run checks). */
	wrong.jpeg = (const uint8_t *)"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00garbage-garbage";
	wrong.len = 28;
	wrong.width = 240;
	CHECK(card_pdf_render(fonts, &t, &wrong, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	CHECK(strstr(err, "libharu error") != NULL);
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, (enum card_format)7, &out, err, sizeof err) < 0);
	CHECK(card_pdf_render(fonts, &t, &photo, qr, -1, CARD_FORMAT_CR80, &out, err, sizeof err) < 0);
	/* Whatever failed, out is as it was. */
	CHECK(out.len == 8 && strcmp(out.data, "previous") == 0);
	/* And a success appends. */
	CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err, sizeof err) == 0);
	CHECK(out.len > 1000 && memcmp(out.data, "previous%PDF-", 13) == 0);
	buf_free(&out);
}

TEST(cover_tells_what_can_be_printed)
{
	uint32_t cp = 0;
	CHECK(card_fonts_cover(fonts, "Nguyễn Thị Ánh Ἀλέξανδρος Ёлкина-Щербатова Ǿ ʻ’", &cp) == 1);
	CHECK(card_fonts_cover(fonts, "Wang 王", &cp) == 0 && cp == 0x738B);
	CHECK(card_fonts_cover(fonts, "😀", &cp) == 0 && cp == 0x1F600);
	CHECK(card_fonts_cover(fonts, "\xE2\x82", &cp) == -1);
	CHECK(card_fonts_cover(fonts, "\xC0\xAF", &cp) == -1);   /* overlong '/' */
	CHECK(card_fonts_cover(fonts, "\xED\xA0\x80", &cp) == -1); /* surrogate */
}

/* Names of every script and length render; this found a libharu bug (a
 * font whose copy ends on a 4096-byte boundary could not be saved). */
TEST(random_names_always_render)
{
	static const char *const pieces[] = {
		"a", "e", "o", "n", "K", "Z", "é", "ü", "ß", "ø", "Ł", "ș", "ễ", "ậ", "ơ", "ư", "Đ",
		"ά", "Ω", "ῶ", "Ἀ", "ж", "Щ", "ё", "ї", "Ґ", " ", "-", "'", "’", "ʻ", "Ǿ", "ḁ",
	};
	const size_t np = sizeof pieces / sizeof pieces[0];
	uint32_t seed = 42;
	int failures = 0;
	char family[128], given[128], err[256];
	for (int i = 0; i < 300; i++) {
		char *dst[2] = { family, given };
		for (int k = 0; k < 2; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t len = 0, want = 1 + (seed >> 16) % 78;
			while (len < want) {
				seed = seed * 1103515245u + 12345u;
				const char *p = pieces[(seed >> 16) % np];
				size_t n = strlen(p);
				if (len + n > want && len > 0)
					break;
				memcpy(dst[k] + len, p, n);
				len += n;
			}
			dst[k][len] = '\0';
		}
		struct card_text t = text_with(family, given);
		struct buf out = BUF_INIT;
		if (card_pdf_render(fonts, &t, i % 3 ? &photo : NULL, qr, ISSUED, (enum card_format)(i % 3),
				    &out, err, sizeof err) < 0) {
			fprintf(stderr, "   \"%s\" / \"%s\": %s\n", family, given, err);
			failures++;
		} else if (i % 50 == 0) {
			char path[512], cmd[1024];
			snprintf(path, sizeof path, "%s/random.pdf", work);
			write_file(path, out.data, out.len);
			snprintf(cmd, sizeof cmd, "qpdf --check '%s' >/dev/null 2>&1", path);
			CHECK(run(cmd, NULL, 0) == 0);
		}
		buf_free(&out);
	}
	CHECK(failures == 0);
}

struct thread_job {
	const char *family;
	struct buf expect;
	int mismatches;
};

static void *render_many(void *arg)
{
	struct thread_job *j = arg;
	char err[256];
	struct card_text t = text_with(j->family, "Anna");
	for (int i = 0; i < 25; i++) {
		struct buf out = BUF_INIT;
		if (card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &out, err,
				    sizeof err) < 0 || out.len != j->expect.len ||
		    memcmp(out.data, j->expect.data, out.len) != 0)
			j->mismatches++;
		buf_free(&out);
	}
	return NULL;
}

TEST(threads_render_independently)
{
	struct thread_job jobs[3] = { { "Nguyễn", BUF_INIT, 0 }, { "Ёлкина", BUF_INIT, 0 },
				      { "Ἀλέξανδρος", BUF_INIT, 0 } };
	pthread_t tid[3];
	char err[256];
	for (int i = 0; i < 3; i++) {
		struct card_text t = text_with(jobs[i].family, "Anna");
		CHECK(card_pdf_render(fonts, &t, &photo, qr, ISSUED, CARD_FORMAT_CR80, &jobs[i].expect,
				      err, sizeof err) == 0);
	}
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&tid[i], NULL, render_many, &jobs[i]) == 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(tid[i], NULL);
		CHECK(jobs[i].mismatches == 0);
		buf_free(&jobs[i].expect);
	}
}

int main(void)
{
	char reg[512], bold[512], err[256];
	fonts_dir = getenv("CIVICARD_FONTS_DIR");
	if (!fonts_dir || !*fonts_dir) {
		fprintf(stderr, "CIVICARD_FONTS_DIR not set: skipped\n");
		return 77;
	}
	if (run("command -v pdftoppm && command -v pdfinfo && command -v pdftotext && "
		"command -v zbarimg && command -v qpdf", NULL, 0) != 0) {
		fprintf(stderr, "poppler-utils, zbar-tools or qpdf missing: skipped\n");
		return 77;
	}
	samples = getenv("CIVICARD_CARD_SAMPLES");
	if (samples && !*samples)
		samples = NULL;
	snprintf(reg, sizeof reg, "%s/CardSans.ttf", fonts_dir);
	snprintf(bold, sizeof bold, "%s/CardSans-Bold.ttf", fonts_dir);
	work = test_tmpdir();
	if (!work || make_photo() < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	if (card_fonts_load(reg, bold, &fonts, err, sizeof err) < 0) {
		fprintf(stderr, "card_fonts_load: %s\n", err);
		return 1;
	}
	/* A realistic token: the verification address, then 205 Base32 characters. */
	int n = snprintf(qr, sizeof qr, "http://127.0.0.1:8080/v#");
	for (int i = 0; i < 205; i++)
		qr[n++] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(i * 7 + 3) % 32];
	qr[n] = '\0';

	RUN(fonts_load_and_bad_fonts_are_refused);
	RUN(cr80_is_two_clean_pages_of_exact_size);
	RUN(qr_decodes_from_a_150_dpi_scan);
	RUN(sheets_hold_both_sides_at_true_size);
	RUN(same_input_same_bytes);
	RUN(diacritics_are_drawn);
	RUN(the_ink_test_catches_libharus_lost_accents);
	RUN(a_long_name_stays_in_its_box);
	RUN(long_texts_elsewhere_shrink_and_stay_inside);
	RUN(text_extracts_as_typed);
	RUN(many_distinct_characters);
	RUN(bad_input_is_refused_and_out_kept);
	RUN(cover_tells_what_can_be_printed);
	RUN(random_names_always_render);
	RUN(threads_render_independently);

	card_fonts_free(fonts);
	tjFree(jpeg);
	test_rmdir(work);
	return CHECK_DONE();
}
