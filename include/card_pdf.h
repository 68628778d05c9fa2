/* card_pdf.h — the printed card: a CR80 PDF (front and back) or a sheet.
 *
 * Layout, sizes and the reasons behind them: docs/card-layout.md.
 *
 * The fonts are the build-time cut of DejaVu Sans made by
 * scripts/prepare-font.py (CardSans.ttf, CardSans-Bold.ttf): composite
 * glyphs decomposed (libharu 2.3.0 drops nested ones), Latin, Greek and
 * Cyrillic only. card_fonts_load() reads them into memory once; each PDF
 * then embeds a subset cut from memory, holding only the glyphs that card
 * prints. No file is opened while serving. card_pdf_render() is
 * thread-safe: it shares only the read-only fonts. */
#ifndef CIVICARD_CARD_PDF_H
#define CIVICARD_CARD_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Everything printed, UTF-8 (NFC: a name in decomposed form prints its
 * accents as separate, unstacked marks). The caller owns all strings. */
struct card_text {
	const char *city_name;    /* "Ville de Montréal / City of Montréal" */
	const char *card_title;   /* "Carte d'identité municipale / Municipal ID card" */
	const char *label_family, *label_given, *label_dob, *label_number, *label_expires;
	const char *family_name, *given_names;
	const char *date_of_birth, *expires_on;   /* formatted for print: "1990-02-14" */
	const char *card_number;  /* formatted: "K7QM-4TXP-9W" */
	const char *verify_line;  /* back: "Vérifier / Verify: https://id.example.org/v" */
	const char *return_line;  /* back: how a finder returns the card */
};

/* A clean baseline JPEG made by our own encoder (never an upload as-is:
 * libharu embeds a JPEG without decoding it). NULL or len 0: an empty
 * photo box. width/height must match the JPEG's own header. */
struct card_photo {
	const uint8_t *jpeg;
	size_t len;
	unsigned width, height;
};

enum card_format {
	CARD_FORMAT_CR80,    /* 2 pages, 85.6 × 54 mm each: front, back */
	CARD_FORMAT_A4,      /* 1 page: front and back at true size, cut marks */
	CARD_FORMAT_LETTER,  /* same on US Letter */
};

/* The prepared fonts, in memory, plus the advance widths the layout
 * measures with. Immutable after card_fonts_load(): share it freely. */
struct card_fonts;

/* Read both prepared fonts once (at start-up), check that they parse, that
 * libharu accepts them and that they contain no composite glyph. *ret from
 * malloc(): card_fonts_free(). 0, or -1 with the reason in err. */
int card_fonts_load(const char *regular_ttf, const char *bold_ttf, struct card_fonts **ret,
		    char *err, size_t errlen);
void card_fonts_free(struct card_fonts *f);   /* NULL is fine */

/* Whether every character of the UTF-8 string s can be printed (present
 * in both fonts). 1 yes; 0 no, with the first missing code point in
 * *ret_cp (if not NULL); -1 if s is not valid UTF-8. For validating a
 * name before it is stored; card_pdf_render() refuses the same text. */
int card_fonts_cover(const struct card_fonts *f, const char *s, uint32_t *ret_cp);

/* QR codes above this version are refused. Names up to 40 bytes each keep
 * the code at version 10 or below (SPEC §6, checked on the rendered card by
 * tests/http/test_cards.py); the longest names the service accepts (80
 * bytes each) need version 13 with a long public URL, still read from a
 * 150 dpi render. */
#define CARD_QR_MAX_VERSION 14

/* Draw the card and append the PDF to out.
 *  - every text field of t must be set (an empty string prints nothing);
 *  - qr_text is encoded as-is (8-bit mode, case kept) at error correction
 *    level M; -1 if that needs a version above CARD_QR_MAX_VERSION;
 *  - issued_unix becomes the PDF's creation date (UTC): the same inputs
 *    give the same bytes;
 *  - a text that does not fit shrinks, then wraps, then is condensed, and
 *    only past what any real name needs is cut with "…"; nothing is drawn
 *    outside its box; a character the fonts lack is an error.
 * 0, or -1 with the reason in err (out is then left as it was). About
 * 2.5 ms and 15 KB plus the photo. Thread-safe. */
int card_pdf_render(const struct card_fonts *fonts, const struct card_text *t,
		    const struct card_photo *photo, const char *qr_text, long long issued_unix,
		    enum card_format fmt, struct buf *out, char *err, size_t errlen);

#endif
