/* card_pdf.c — the printed card, drawn with libharu 2.3.0 and libqrencode.
 *
 * Layout and the reasons behind it: docs/card-layout.md. In short:
 *  - fonts: the build-time cut of DejaVu Sans (scripts/prepare-font.py,
 *    every glyph simple), read into memory once by card_fonts_load();
 *  - per PDF, a tiny TrueType font is cut from memory holding only the
 *    characters this card prints (subset_font) and handed to libharu
 *    through a callback stream (font_from_memory), never through a file.
 *    libharu 2.3.0 writes a /W entry for every character the font maps and
 *    copies cmap and hmtx whole: with the whole cut (1708 characters)
 *    loaded from its file a card was 54 KB and 5.6 ms, with the per-card
 *    subset 29 KB and 2.5 ms (13.7 KB of photo; docs/card-layout.md);
 *  - text is measured with the font's own advance widths (the integers
 *    libharu writes into /W), then shrunk, wrapped, condensed and, past
 *    anything a real name needs, cut with "…" — never drawn outside its box;
 *  - one HPDF_Doc per call with its error handler's jmp_buf in a per-call
 *    context (never global): calls on different threads share only the
 *    read-only fonts. */
#include "card_pdf.h"

#include <errno.h>
#include <hpdf.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- units, geometry, colours -------------------------------------------- */

#define PT_PER_MM (72.0 / 25.4)
#define MM(x) ((double)(x) * PT_PER_MM)

#define CARD_W_MM 85.6   /* ISO/IEC 7810 ID-1 (CR80) */
#define CARD_H_MM 54.0

/* 0xRRGGBB. White on C_BRAND: 13.5:1; C_LABEL on white: 7.0:1 (AA: 4.5). */
#define C_BRAND  0x0E2F56
#define C_ACCENT 0xC9A227
#define C_INK    0x111827
#define C_LABEL  0x4A5A70
#define C_TINT   0xEEF2F7
#define C_RULE   0x9AA5B5
#define C_WHITE  0xFFFFFF
#define C_BLACK  0x000000

/* Longest text accepted in one field, bytes (names.h allows 80). */
#define TEXT_MAX 1024
#define MAX_LINES 4
/* Code points the tables cover; the prepared font ends at U+2212. */
#define CP_LIMIT 0x2400
#define PHOTO_MAX_BYTES (2u << 20)
#define QR_TEXT_MAX 2048
#define ELLIPSIS 0x2026

/* ---- the prepared fonts -------------------------------------------------- */

struct tab {
	const uint8_t *p;   /* into struct face.data */
	size_t n;
};

struct face {
	uint8_t *data;                 /* the whole TTF, from malloc() */
	size_t len;
	unsigned upem, nglyphs, nhm;
	int long_loca;
	double cap;                    /* capital height, em */
	double top, descent;           /* highest glyph (stacked accents), descender: em */
	struct tab head, hhea, maxp, os2, name, post, hmtx, loca, glyf;
	int16_t width[CP_LIMIT];       /* advance, 1/1000 em (as in /W); -1: none */
	uint16_t gid[CP_LIMIT];        /* glyph; 0: none */
};

struct card_fonts {
	struct face reg, bold;
};

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int ttf_table(const struct face *f, const char *tag, size_t min, struct tab *ret_tab)
{
	unsigned n = be16(f->data + 4);
	if (12 + (size_t)n * 16 > f->len)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *rec = f->data + 12 + i * 16;
		if (memcmp(rec, tag, 4) != 0)
			continue;
		uint32_t off = be32(rec + 8), len = be32(rec + 12);
		if (off > f->len || len > f->len - off || len < min)
			return -1;
		ret_tab->p = f->data + off;
		ret_tab->n = len;
		return 0;
	}
	return -1;
}

/* Bounds of a glyph's outline within glyf (checked at load). */
static void glyph_span(const struct face *f, unsigned g, uint32_t *ret_off, uint32_t *ret_len)
{
	uint32_t a, b;
	if (f->long_loca) {
		a = be32(f->loca.p + g * 4);
		b = be32(f->loca.p + g * 4 + 4);
	} else {
		a = 2u * be16(f->loca.p + g * 2);
		b = 2u * be16(f->loca.p + g * 2 + 2);
	}
	*ret_off = a;
	*ret_len = b - a;
}

static unsigned advance(const struct face *f, unsigned g)
{
	return be16(f->hmtx.p + (g < f->nhm ? g : f->nhm - 1) * 4);
}

static int lsb(const struct face *f, unsigned g)
{
	if (g < f->nhm)
		return (int16_t)be16(f->hmtx.p + g * 4 + 2);
	return (int16_t)be16(f->hmtx.p + f->nhm * 4 + (g - f->nhm) * 2);
}

/* Read the Windows Unicode BMP cmap (format 4) into f->gid and f->width. */
static int parse_cmap(struct face *f, const struct tab *cmap)
{
	const uint8_t *sub = NULL;
	if (cmap->n < 4)
		return -1;
	unsigned ntab = be16(cmap->p + 2);
	if (4 + (size_t)ntab * 8 > cmap->n)
		return -1;
	for (unsigned i = 0; i < ntab; i++) {
		const uint8_t *rec = cmap->p + 4 + i * 8;
		uint32_t off = be32(rec + 4);
		if (be16(rec) == 3 && be16(rec + 2) == 1 && (size_t)off + 16 <= cmap->n &&
		    be16(cmap->p + off) == 4) {
			sub = cmap->p + off;
			break;
		}
	}
	if (!sub)
		return -1;
	size_t sub_n = cmap->n - (size_t)(sub - cmap->p);
	if (be16(sub + 2) < sub_n)
		sub_n = be16(sub + 2);
	unsigned segs = be16(sub + 6) / 2;
	if (16 + (size_t)segs * 8 > sub_n)
		return -1;
	const uint8_t *ends = sub + 14, *starts = ends + segs * 2 + 2;
	const uint8_t *deltas = starts + segs * 2, *ranges = deltas + segs * 2;
	for (unsigned i = 0; i < segs; i++) {
		unsigned end = be16(ends + i * 2), start = be16(starts + i * 2);
		uint16_t delta = be16(deltas + i * 2), range = be16(ranges + i * 2);
		for (unsigned c = start; c <= end && c < CP_LIMIT; c++) {
			unsigned g;
			if (range == 0) {
				g = (c + delta) & 0xFFFF;
			} else {
				size_t at = (size_t)(ranges + i * 2 - sub) + range + 2 * (c - start);
				if (at + 2 > sub_n)
					return -1;
				g = be16(sub + at);
				if (g)
					g = (g + delta) & 0xFFFF;
			}
			if (g == 0 || g >= f->nglyphs)
				continue;
			f->gid[c] = (uint16_t)g;
			/* The integer libharu computes for the PDF's /W array. */
			f->width[c] = (int16_t)(advance(f, g) * 1000u / f->upem);
		}
	}
	return 0;
}

/* Check a prepared font and index what the layout and the subsetter need. */
static int face_parse(struct face *f, const char *path, char *err, size_t errlen)
{
	struct tab cmap;
	for (unsigned c = 0; c < CP_LIMIT; c++)
		f->width[c] = -1;
	if (f->len < 12 || (be32(f->data) != 0x00010000 && memcmp(f->data, "true", 4) != 0)) {
		set_err(err, errlen, "%s: not a TrueType font", path);
		return -1;
	}
	if (ttf_table(f, "head", 54, &f->head) < 0 || ttf_table(f, "hhea", 36, &f->hhea) < 0 ||
	    ttf_table(f, "maxp", 6, &f->maxp) < 0 || ttf_table(f, "OS/2", 78, &f->os2) < 0 ||
	    ttf_table(f, "name", 6, &f->name) < 0 || ttf_table(f, "post", 32, &f->post) < 0 ||
	    ttf_table(f, "hmtx", 4, &f->hmtx) < 0 ||
	    ttf_table(f, "loca", 4, &f->loca) < 0 || ttf_table(f, "glyf", 0, &f->glyf) < 0 ||
	    ttf_table(f, "cmap", 4, &cmap) < 0) {
		set_err(err, errlen, "%s: a TrueType table is missing or short", path);
		return -1;
	}
	f->upem = be16(f->head.p + 18);
	f->long_loca = (int16_t)be16(f->head.p + 50) != 0;
	f->nglyphs = be16(f->maxp.p + 4);
	f->nhm = be16(f->hhea.p + 34);
	if (f->upem < 16 || f->nglyphs == 0 || f->nhm == 0 || f->nhm > f->nglyphs ||
	    (size_t)f->nhm * 4 + (size_t)(f->nglyphs - f->nhm) * 2 > f->hmtx.n ||
	    (size_t)(f->nglyphs + 1) * (f->long_loca ? 4 : 2) > f->loca.n) {
		set_err(err, errlen, "%s: inconsistent glyph tables", path);
		return -1;
	}
	f->descent = -(double)(int16_t)be16(f->hhea.p + 6) / f->upem;
	f->top = (double)(int16_t)be16(f->head.p + 42) / f->upem;   /* head.yMax */
	f->cap = be16(f->os2.p) >= 2 && f->os2.n >= 90 ?
		 (double)(int16_t)be16(f->os2.p + 88) / f->upem : 0.73;

	/* Every glyph must be simple: libharu 2.3.0 drops nested components,
	 * and the subsetter copies outlines as they are. */
	for (unsigned g = 0; g < f->nglyphs; g++) {
		uint32_t off, len;
		glyph_span(f, g, &off, &len);
		if (off > f->glyf.n || len > f->glyf.n - off || (len > 0 && len < 10)) {
			set_err(err, errlen, "%s: glyph %u out of bounds", path, g);
			return -1;
		}
		if (len > 0 && (int16_t)be16(f->glyf.p + off) < 0) {
			set_err(err, errlen, "%s: glyph %u is composite: the font was not "
				"prepared by scripts/prepare-font.py", path, g);
			return -1;
		}
	}
	if (parse_cmap(f, &cmap) < 0) {
		set_err(err, errlen, "%s: no usable Unicode cmap (3,1 format 4)", path);
		return -1;
	}
	if (f->width[' '] < 0 || f->width['A'] < 0 || f->width[ELLIPSIS] < 0) {
		set_err(err, errlen, "%s: lacks space, Latin letters or U+2026 (…)", path);
		return -1;
	}
	return 0;
}

static int face_read(struct face *f, const char *path, char *err, size_t errlen)
{
	int ret = -1;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(fp), &st) < 0 || st.st_size < 12 || st.st_size > (16 << 20)) {
		set_err(err, errlen, "%s: not a plausible font file", path);
		goto done;
	}
	f->len = (size_t)st.st_size;
	f->data = malloc(f->len);
	if (!f->data) {
		set_err(err, errlen, "out of memory");
		goto done;
	}
	if (fread(f->data, 1, f->len, fp) != f->len) {
		set_err(err, errlen, "%s: short read", path);
		goto done;
	}
	ret = face_parse(f, path, err, errlen);
done:
	fclose(fp);
	return ret;
}

/* ---- per-document subset --------------------------------------------------
 *
 * A TrueType font with .notdef plus one glyph per used character, glyph i
 * for the i-th used code point in order, and exactly the 13 tables libharu
 * 2.3.0 requires: head, hhea and maxp copied with their counts fixed; OS/2,
 * name and post copied as they are; cmap rebuilt with few segments (code
 * points closer than CMAP_GAP share one, the gaps mapped to 0 through
 * glyphIdArray) because libharu looks up every one of the 65536 code
 * points by a linear scan of the segments; no hinting: 'cvt ' and 'fpgm'
 * empty, and 'prep' a 3-byte no-op (PUSHB 0, POP) because libharu cannot
 * save a font whose last table is empty when its copy of the font ends on
 * a 4096-byte boundary (a seek to the end of its memory stream fails). */

#define CMAP_GAP 128

static int bit_get(const uint8_t *bits, unsigned c) { return bits[c >> 3] >> (c & 7) & 1; }
static void bit_set(uint8_t *bits, unsigned c) { bits[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static uint32_t checksum(const uint8_t *p, size_t n)   /* n: multiple of 4 */
{
	uint32_t sum = 0;
	for (size_t i = 0; i < n; i += 4)
		sum += be32(p + i);
	return sum;
}

/* Whether the subset maps code point c: used, and in the font. */
static int mapped(const struct face *f, const uint8_t *used, unsigned c)
{
	return bit_get(used, c) && f->gid[c];
}

/* The tables, in the (sorted) order of the table directory. */
enum { T_OS2, T_CMAP, T_CVT, T_FPGM, T_GLYF, T_HEAD, T_HHEA, T_HMTX, T_LOCA, T_MAXP,
       T_NAME, T_POST, T_PREP, NTABLES };
static const char TAGS[NTABLES][5] = {
	"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp",
	"name", "post", "prep",
};
static const uint8_t PREP[] = { 0xB0, 0x00, 0x21 };   /* PUSHB[0] 0; POP */

/* cmap: one (3,1) format 4 subtable of nseg segments (the last the 0xFFFF
 * one); every segment maps through glyphIdArray, idDelta 0. */
static void write_cmap(uint8_t *t, size_t len, const struct face *f, const uint8_t *used,
		       unsigned nseg)
{
	unsigned lg = 0;
	while ((1u << (lg + 1)) <= nseg)
		lg++;
	put16(t, 0);
	put16(t + 2, 1);
	put16(t + 4, 3);
	put16(t + 6, 1);
	put32(t + 8, 12);
	uint8_t *s = t + 12;
	put16(s, 4);
	put16(s + 2, (unsigned)(len - 12));
	put16(s + 4, 0);
	put16(s + 6, nseg * 2);
	put16(s + 8, 2u << lg);
	put16(s + 10, lg);
	put16(s + 12, nseg * 2 - (2u << lg));
	uint8_t *ends = s + 14, *starts = ends + nseg * 2 + 2;
	uint8_t *deltas = starts + nseg * 2, *ranges = deltas + nseg * 2;
	uint8_t *glyphs = ranges + nseg * 2;
	unsigned seg = 0, g = 0, gi = 0;
	int last = -1;
	for (unsigned c = 0; c < CP_LIMIT; c++) {
		if (!mapped(f, used, c))
			continue;
		g++;
		if (last < 0 || c - (unsigned)last > CMAP_GAP) {
			if (last >= 0)
				seg++;
			put16(starts + seg * 2, c);
			/* From this idRangeOffset to glyphIdArray[gi]. */
			put16(ranges + seg * 2, (nseg - seg) * 2 + gi * 2);
		} else {
			gi += c - (unsigned)last - 1;   /* the gap: zeros */
		}
		put16(ends + seg * 2, c);
		put16(glyphs + gi * 2, g);
		gi++;
		last = (int)c;
	}
	seg = nseg - 1;
	put16(ends + seg * 2, 0xFFFF);
	put16(starts + seg * 2, 0xFFFF);
	put16(deltas + seg * 2, 1);
}

/* glyf, loca (long) and hmtx: .notdef, then the used code points' glyphs. */
static void write_glyphs(uint8_t *glyf, uint8_t *loca, uint8_t *hmtx, const struct face *f,
			 const uint8_t *used)
{
	size_t at = 0;
	unsigned k = 0;
	for (unsigned c = 0; c <= CP_LIMIT; c++) {
		/* c == 0: .notdef; c > 0: code point c - 1. */
		if (c > 0 && !mapped(f, used, c - 1))
			continue;
		unsigned src = c ? f->gid[c - 1] : 0;
		uint32_t off, len;
		glyph_span(f, src, &off, &len);
		put32(loca + k * 4, (uint32_t)at);
		memcpy(glyf + at, f->glyf.p + off, len);
		at += pad4(len);
		put16(hmtx + k * 4, advance(f, src));
		put16(hmtx + k * 4 + 2, (unsigned)lsb(f, src) & 0xFFFF);
		k++;
	}
	put32(loca + k * 4, (uint32_t)at);
}

/* *ret_font from malloc(), caller frees. 0 or -1 (out of memory). */
static int subset_font(const struct face *f, const uint8_t *used, uint8_t **ret_font,
		       size_t *ret_len)
{
	unsigned ncp = 0, nseg = 1, garr = 0;   /* nseg: the 0xFFFF segment */
	uint32_t off, len;
	size_t glyf_n;
	int last = -1;

	glyph_span(f, 0, &off, &len);
	glyf_n = pad4(len);
	for (unsigned c = 0; c < CP_LIMIT; c++) {
		if (!mapped(f, used, c))
			continue;
		glyph_span(f, f->gid[c], &off, &len);
		glyf_n += pad4(len);
		if (last < 0 || c - (unsigned)last > CMAP_GAP) {
			nseg++;
			garr += 1;
		} else {
			garr += c - (unsigned)last;
		}
		last = (int)c;
		ncp++;
	}
	const unsigned n = ncp + 1;   /* glyphs, with .notdef */
	const size_t size[NTABLES] = {
		[T_OS2] = f->os2.n, [T_CMAP] = 12 + 16 + (size_t)nseg * 8 + (size_t)garr * 2,
		[T_CVT] = 0, [T_FPGM] = 0, [T_GLYF] = glyf_n, [T_HEAD] = f->head.n,
		[T_HHEA] = f->hhea.n, [T_HMTX] = (size_t)n * 4, [T_LOCA] = (size_t)(n + 1) * 4,
		[T_MAXP] = f->maxp.n, [T_NAME] = f->name.n, [T_POST] = f->post.n,
		[T_PREP] = sizeof PREP,
	};
	size_t at[NTABLES], total = 12 + NTABLES * 16;
	for (int i = 0; i < NTABLES; i++) {
		at[i] = total;
		total += pad4(size[i]);
	}
	uint8_t *out = calloc(1, total);
	if (!out)
		return -1;

	/* Offset table: 13 tables, searchRange 128, entrySelector 3. */
	put32(out, 0x00010000);
	put16(out + 4, NTABLES);
	put16(out + 6, 128);
	put16(out + 8, 3);
	put16(out + 10, NTABLES * 16 - 128);
	memcpy(out + at[T_OS2], f->os2.p, size[T_OS2]);
	memcpy(out + at[T_NAME], f->name.p, size[T_NAME]);
	memcpy(out + at[T_POST], f->post.p, size[T_POST]);
	memcpy(out + at[T_PREP], PREP, sizeof PREP);
	memcpy(out + at[T_HEAD], f->head.p, size[T_HEAD]);
	put32(out + at[T_HEAD] + 8, 0);             /* checkSumAdjustment, below */
	put16(out + at[T_HEAD] + 50, 1);            /* indexToLocFormat: long */
	memcpy(out + at[T_HHEA], f->hhea.p, size[T_HHEA]);
	put16(out + at[T_HHEA] + 34, n);            /* numberOfHMetrics */
	memcpy(out + at[T_MAXP], f->maxp.p, size[T_MAXP]);
	put16(out + at[T_MAXP] + 4, n);             /* numGlyphs */
	write_cmap(out + at[T_CMAP], size[T_CMAP], f, used, nseg);
	write_glyphs(out + at[T_GLYF], out + at[T_LOCA], out + at[T_HMTX], f, used);
	for (int i = 0; i < NTABLES; i++) {
		uint8_t *rec = out + 12 + i * 16;
		memcpy(rec, TAGS[i], 4);
		put32(rec + 4, checksum(out + at[i], pad4(size[i])));
		put32(rec + 8, (uint32_t)at[i]);
		put32(rec + 12, (uint32_t)size[i]);
	}
	put32(out + at[T_HEAD] + 8, 0xB1B0AFBAu - checksum(out, total));
	*ret_font = out;
	*ret_len = total;
	return 0;
}

/* ---- handing a font to libharu from memory --------------------------------
 *
 * libharu 2.3.0 loads a TrueType font only from a file
 * (HPDF_LoadTTFontFromFile; HPDF_LoadTTFontFromMemory came with 2.4). Its
 * stream layer is exported with installed headers, though: a callback
 * reader over our bytes, parsed by HPDF_TTFontDef_Load and registered
 * with HPDF_Doc_RegisterFontDef, is exactly what HPDF_LoadTTFontFromFile
 * does once it has opened the file. */

struct mem_reader {
	const uint8_t *data;
	size_t len, pos;
};

static HPDF_STATUS mem_read(HPDF_Stream stream, HPDF_BYTE *ptr, HPDF_UINT *siz)
{
	struct mem_reader *r = stream->attr;
	size_t want = *siz, avail = r->len - r->pos;
	if (want > avail) {
		memcpy(ptr, r->data + r->pos, avail);
		r->pos += avail;
		*siz = (HPDF_UINT)avail;
		return HPDF_STREAM_EOF;
	}
	memcpy(ptr, r->data + r->pos, want);
	r->pos += want;
	return HPDF_OK;
}

static HPDF_STATUS mem_seek(HPDF_Stream stream, HPDF_INT pos, HPDF_WhenceMode mode)
{
	struct mem_reader *r = stream->attr;
	long long base = mode == HPDF_SEEK_CUR ? (long long)r->pos :
			 mode == HPDF_SEEK_END ? (long long)r->len : 0;
	long long to = base + pos;
	if (to < 0 || to > (long long)r->len)
		return HPDF_SetError(stream->error, HPDF_FILE_IO_ERROR, 0);
	r->pos = (size_t)to;
	return HPDF_OK;
}

static HPDF_INT32 mem_tell(HPDF_Stream stream)
{
	const struct mem_reader *r = stream->attr;
	return (HPDF_INT32)r->pos;
}

static HPDF_UINT32 mem_size(HPDF_Stream stream)
{
	const struct mem_reader *r = stream->attr;
	return (HPDF_UINT32)r->len;
}

/* Register the font in data/len with pdf. r and the bytes must outlive
 * pdf: libharu reads glyphs from them when the PDF is saved. tag: six
 * capitals, the subset prefix, distinct per font of a document. Returns
 * the font, or NULL (HPDF_GetError(pdf) says why). */
static HPDF_Font font_from_memory(HPDF_Doc pdf, const uint8_t *data, size_t len,
				  struct mem_reader *r, const char *tag)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	HPDF_Stream s = HPDF_CallbackReader_New(pdf->mmgr, mem_read, mem_seek, mem_tell, mem_size, r);
	if (!s)
		return NULL;
	/* Takes the stream: frees it on failure, keeps it in the font def. */
	HPDF_FontDef def = HPDF_TTFontDef_Load(pdf->mmgr, s, HPDF_TRUE);
	if (!def)
		return NULL;
	/* Takes def: frees it on failure (a font of that name exists already),
	 * otherwise pdf owns it. */
	if (HPDF_Doc_RegisterFontDef(pdf, def) != HPDF_OK)
		return NULL;
	HPDF_TTFontDef_SetTagName(def, (char *)tag);
	return HPDF_GetFont(pdf, def->base_font, "UTF-8");
}

/* libharu's UTF-8 encoder maps every BMP code point to a CID equal to
 * it, so each font gets a CIDToGIDMap of 65536 entries (128 KB, written,
 * read back and deflated at every save). Only the code points this card
 * prints can occur in its text: cut the map after the last of them
 * (CIDs past the end of the map mean glyph 0, which none of ours use).
 * Glyph i belongs to the i-th used code point, as in subset_font. The map
 * stream is reached through libharu's installed internal headers
 * (HPDF_FontAttr.map_stream); if it is not where 2.3.0 keeps it, the full
 * map stays: correct, only bigger and slower. */
static void trim_cid_map(HPDF_Font font, const struct face *f, const uint8_t *used,
			 uint8_t *map /* CP_LIMIT * 2 bytes of scratch */)
{
	HPDF_FontAttr attr = font->attr;
	if (!attr || !attr->map_stream || !attr->map_stream->stream ||
	    attr->map_stream->stream->type != HPDF_STREAM_MEMORY)
		return;
	unsigned g = 0, end = 0;
	for (unsigned c = 0; c < CP_LIMIT; c++) {
		if (mapped(f, used, c)) {
			g++;
			put16(map + c * 2, g);
			end = c + 1;
		} else {
			put16(map + c * 2, 0);
		}
	}
	HPDF_Stream s = attr->map_stream->stream;
	HPDF_MemStream_FreeData(s);
	HPDF_Stream_Write(s, map, end * 2);
}

/* The next run of mapped code points from *c on, within one high byte:
 * [*ret_from, *ret_to]; *c moves past it. 0 when there is none. */
static int next_run(const struct face *f, const uint8_t *used, unsigned *c, unsigned *ret_from,
		    unsigned *ret_to)
{
	while (*c < CP_LIMIT && !mapped(f, used, *c))
		(*c)++;
	if (*c >= CP_LIMIT)
		return 0;
	*ret_from = *c;
	do
		(*c)++;
	while (*c < CP_LIMIT && (*c & 0xFF) != 0 && mapped(f, used, *c));
	*ret_to = *c - 1;
	return 1;
}

/* libharu 2.3.0 gives a UTF-8 font a /ToUnicode stream that is a copy of
 * its encoding CMap ("begincidrange"): not a ToUnicode CMap, so readers
 * warn and copy-and-paste depends on their guesswork. Replace its content
 * with an identity map (CID = Unicode for the UTF-8 encoder) over the
 * code points this font prints. Guarded like trim_cid_map: only when the
 * stream is where 2.3.0 keeps it. */
static void fix_to_unicode(HPDF_Doc pdf, HPDF_Font font, const struct face *f,
			   const uint8_t *used)
{
	HPDF_FontAttr attr = font->attr;
	if (!attr || !attr->cmap_stream || !attr->cmap_stream->stream ||
	    attr->cmap_stream->stream->type != HPDF_STREAM_MEMORY)
		return;
	if (HPDF_Dict_GetItem(font, "ToUnicode", HPDF_OCLASS_DICT) != attr->cmap_stream) {
		HPDF_ResetError(pdf);
		return;
	}
	/* Runs of used code points, none crossing a high byte (the bfrange
	 * rule), at most 100 to a block: count them, then write them. */
	unsigned runs = 0, c = 0, from, to;
	while (next_run(f, used, &c, &from, &to))
		runs++;
	HPDF_Stream s = attr->cmap_stream->stream;
	char line[64];
	HPDF_MemStream_FreeData(s);
	HPDF_Stream_WriteStr(s, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
			     "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
			     "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
			     "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	c = 0;
	for (unsigned i = 0; i < runs; i++) {
		if (i % 100 == 0) {
			snprintf(line, sizeof line, "%u beginbfrange\n", runs - i < 100 ? runs - i : 100);
			HPDF_Stream_WriteStr(s, line);
		}
		next_run(f, used, &c, &from, &to);
		snprintf(line, sizeof line, "<%04X> <%04X> <%04X>\n", from, to, from);
		HPDF_Stream_WriteStr(s, line);
		if (i % 100 == 99 || i == runs - 1)
			HPDF_Stream_WriteStr(s, "endbfrange\n");
	}
	HPDF_Stream_WriteStr(s, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

/* ---- rendering context ----------------------------------------------------- */

#define BITS_BYTES (CP_LIMIT / 8)

/* One text, decoded and measured in one face. */
struct runs {
	const char *s;
	size_t n;                       /* code points */
	uint32_t cp[TEXT_MAX];
	uint16_t w[TEXT_MAX];           /* advance, 1/1000 em */
	uint16_t off[TEXT_MAX + 1];     /* byte offset of each; off[n] = length */
};

/* Per call, on the heap: the jmp_buf, the font cursors and subsets (live
 * until HPDF_Free), and scratch space (about 30 KB, kept off the stack). */
struct render {
	jmp_buf jb;                 /* the error handler jumps here */
	HPDF_STATUS code, detail;   /* libharu's error */
	const char *stage;          /* what was being done, for the message */
	int status;                 /* render_pdf's result */
	int collect;                /* 1: only note the characters used */
	uint8_t used[2][BITS_BYTES];   /* [0] regular, [1] bold */
	const struct card_fonts *fonts;
	HPDF_Doc pdf;
	HPDF_Page page;
	HPDF_Font font[2];
	uint8_t *sub[2];            /* subset fonts, from malloc() */
	size_t sub_len[2];
	struct mem_reader rd[2];
	uint8_t cid_map[CP_LIMIT * 2];
	double ox, oy;              /* card's bottom-left corner on the page, pt */
	struct runs u;
};

static void on_hpdf_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
	struct render *r = user;
	r->code = code;
	r->detail = detail;
	longjmp(r->jb, 1);
}

/* Card coordinates: millimetres from the card's top-left corner. */
static double px(const struct render *r, double x_mm) { return r->ox + MM(x_mm); }
static double py(const struct render *r, double y_mm) { return r->oy + MM(CARD_H_MM - y_mm); }

static void set_fill(HPDF_Page page, unsigned rgb)
{
	HPDF_Page_SetRGBFill(page, (float)((rgb >> 16) & 0xFF) / 255.0f,
			     (float)((rgb >> 8) & 0xFF) / 255.0f, (float)(rgb & 0xFF) / 255.0f);
}

static void set_stroke(HPDF_Page page, unsigned rgb)
{
	HPDF_Page_SetRGBStroke(page, (float)((rgb >> 16) & 0xFF) / 255.0f,
			       (float)((rgb >> 8) & 0xFF) / 255.0f, (float)(rgb & 0xFF) / 255.0f);
}

/* A filled rectangle in card millimetres (top-left x, y). */
static void box_fill(struct render *r, double x, double y, double w, double h, unsigned rgb)
{
	if (r->collect)
		return;
	set_fill(r->page, rgb);
	HPDF_Page_Rectangle(r->page, (float)px(r, x), (float)py(r, y + h), (float)MM(w), (float)MM(h));
	HPDF_Page_Fill(r->page);
}

/* ---- text: decode, measure, fit, draw ---------------------------------------- */

/* Next code point of UTF-8 s[*i..len) (strict: no overlongs, surrogates or
 * values above U+10FFFF). 0, or -1 on invalid input. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *ret_cp)
{
	unsigned c = s[*i];
	uint32_t cp, min;
	size_t n;
	if (c < 0x80) {
		*ret_cp = c;
		*i += 1;
		return 0;
	} else if ((c & 0xE0) == 0xC0) {
		cp = c & 0x1F; n = 1; min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		cp = c & 0x0F; n = 2; min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		cp = c & 0x07; n = 3; min = 0x10000;
	} else {
		return -1;
	}
	if (*i + n >= len)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		unsigned cc = s[*i + k];
		if ((cc & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (cc & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*ret_cp = cp;
	*i += n + 1;
	return 0;
}

static int glyph_width(const struct face *f, uint32_t cp)
{
	return cp < CP_LIMIT ? f->width[cp] : -1;
}

int card_fonts_cover(const struct card_fonts *f, const char *s, uint32_t *ret_cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	while (i < len) {
		uint32_t cp;
		if (utf8_next(u, len, &i, &cp) < 0)
			return -1;
		if (glyph_width(&f->reg, cp) < 0 || glyph_width(&f->bold, cp) < 0) {
			if (ret_cp)
				*ret_cp = cp;
			return 0;
		}
	}
	return 1;
}

struct line {
	size_t first, end;   /* code points [first, end) */
	uint32_t width;      /* 1/1000 em */
};

struct layout {
	double size, hscale;   /* pt; percent */
	int n;
	struct line lines[MAX_LINES];
	int cut;               /* the last line ends with "…" */
};

/* How a field may adapt to its box. */
struct fit {
	double max_size;     /* preferred size, pt */
	double min_single;   /* smallest size tried on one line before wrapping */
	double min_size;     /* absolute minimum */
	int max_lines;
	double box_w, box_h; /* mm; box_h from the highest accent of line 1 to
			      * the descenders of the last line */
};

#define LEADING 1.15         /* em between lines (DejaVu: 1.164) */
#define MIN_HSCALE 75.0      /* narrowest condensing, percent */

static int runs_load(struct runs *u, const struct face *f, const char *s, const char *what,
		     char *err, size_t errlen)
{
	size_t len = strlen(s), i = 0;
	if (len > TEXT_MAX) {
		set_err(err, errlen, "%s: longer than %d bytes", what, TEXT_MAX);
		return -1;
	}
	u->s = s;
	u->n = 0;
	while (i < len) {
		uint32_t cp;
		u->off[u->n] = (uint16_t)i;
		if (utf8_next((const unsigned char *)s, len, &i, &cp) < 0) {
			set_err(err, errlen, "%s: not valid UTF-8", what);
			return -1;
		}
		int w = glyph_width(f, cp);
		if (w < 0) {
			set_err(err, errlen, "%s: character U+%04X is not in the card font", what,
				(unsigned)cp);
			return -1;
		}
		u->cp[u->n] = cp;
		u->w[u->n] = (uint16_t)w;
		u->n++;
	}
	u->off[u->n] = (uint16_t)len;
	return 0;
}

static int is_mark(uint32_t cp)
{
	return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) ||
	       (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF);
}

static int is_space(uint32_t cp) { return cp == ' '; }   /* not U+00A0: it binds */
static int is_hyphen(uint32_t cp) { return cp == '-' || cp == 0x2010; }

/* Greedy line breaking: at spaces (dropped) and after hyphens (kept); a
 * word longer than the line breaks between characters, never before a
 * combining mark. maxw in 1/1000 em. Returns the number of lines, or
 * max_lines + 1 if the text needs more. */
static int wrap(const struct runs *u, double maxw, struct line *lines, int max_lines)
{
	size_t i = 0;
	int nl = 0;
	while (i < u->n) {
		while (i < u->n && is_space(u->cp[i]))
			i++;
		if (i >= u->n)
			break;
		if (nl == max_lines)
			return max_lines + 1;
		size_t start = i, end = u->n, brk = 0;
		uint32_t width = 0, endw = 0, brkw = 0;
		int broke = 0;
		while (i < u->n) {
			uint32_t w = u->w[i];
			if (width + w > maxw && i > start && !is_mark(u->cp[i])) {
				end = brk > start ? brk : i;
				endw = brk > start ? brkw : width;
				broke = 1;
				break;
			}
			width += w;
			i++;
			if (is_space(u->cp[i - 1])) {
				brk = i - 1;
				brkw = width - w;
			} else if (is_hyphen(u->cp[i - 1]) && i < u->n && !is_space(u->cp[i])) {
				brk = i;
				brkw = width;
			}
		}
		if (!broke)
			endw = width;
		while (end > start && is_space(u->cp[end - 1]))
			endw -= u->w[--end];
		lines[nl].first = start;
		lines[nl].end = end;
		lines[nl].width = endw;
		nl++;
		i = end;
	}
	return nl;
}

/* How many lines of this size fit the box's height. */
static int lines_fitting(const struct face *f, const struct fit *spec, double size)
{
	double room = MM(spec->box_h) / size - f->top - f->descent;
	int n = room < 0 ? 0 : (int)(room / LEADING) + 1;
	return n > spec->max_lines ? spec->max_lines : n;
}

/* Fit a measured text into its box: one line from max_size down to
 * min_single; then as many lines as the box holds, down to min_size; then
 * condensed down to MIN_HSCALE; then cut with "…". Always succeeds. */
static void fit_text(const struct runs *u, const struct face *f, const struct fit *spec,
		     struct layout *ret)
{
	const double box_w = MM(spec->box_w);
	memset(ret, 0, sizeof *ret);
	ret->hscale = 100.0;
	for (double size = spec->max_size; size >= spec->min_single - 1e-9; size -= 0.25) {
		if (lines_fitting(f, spec, size) >= 1 &&
		    wrap(u, box_w * 1000.0 / size, ret->lines, 1) <= 1) {
			ret->size = size;
			ret->n = u->n ? 1 : 0;
			return;
		}
	}
	for (double hs = 100.0; hs >= MIN_HSCALE - 1e-9; hs -= 5.0) {
		for (double size = hs < 100.0 ? spec->min_size : spec->max_size;
		     size >= spec->min_size - 1e-9; size -= 0.25) {
			int lines = lines_fitting(f, spec, size);
			if (lines < 1)
				continue;
			int n = wrap(u, box_w * 1000.0 * 100.0 / (size * hs), ret->lines, lines);
			if (n <= lines) {
				ret->size = size;
				ret->hscale = hs;
				ret->n = n;
				return;
			}
		}
	}
	/* Cut: fill the lines the box holds, end the last one with "…". */
	double size = spec->min_size, hs = MIN_HSCALE;
	double maxw = box_w * 1000.0 * 100.0 / (size * hs);
	int lines = lines_fitting(f, spec, size);
	if (lines < 1)
		lines = 1;
	int n = wrap(u, maxw, ret->lines, lines - 1);
	if (n > lines - 1)
		n = lines - 1;
	size_t i = n ? ret->lines[n - 1].end : 0;
	while (i < u->n && is_space(u->cp[i]))
		i++;
	size_t first = i;
	uint32_t width = (uint32_t)glyph_width(f, ELLIPSIS);
	while (i < u->n && (width + u->w[i] <= maxw || is_mark(u->cp[i])))
		width += u->w[i++];
	/* Do not end on a space, nor split a letter from its marks. */
	while (i > first && (is_space(u->cp[i - 1]) || (i < u->n && is_mark(u->cp[i]))))
		width -= u->w[--i];
	ret->lines[n].first = first;
	ret->lines[n].end = i;
	ret->lines[n].width = width;
	ret->n = n + 1;
	ret->size = size;
	ret->hscale = hs;
	ret->cut = 1;
}

/* Stroke width of synthetic bold, in ems: about what DejaVu Sans Bold's
 * stems add to the regular ones. */
#define BOLD_STROKE 0.045

/* Draw a fitted text, left-aligned; top: its box's top (room for the
 * highest stacked accent), card millimetres. */
static void draw_layout(struct render *r, HPDF_Font font, const struct face *f,
			const struct runs *u, const struct layout *l, double x, double top,
			unsigned rgb)
{
	char line[TEXT_MAX + 4];
	if (l->n == 0)
		return;
	int bold = f == &r->fonts->bold;
	HPDF_Page_GSave(r->page);
	set_fill(r->page, rgb);
	if (bold) {
		/* Bold: regular glyphs, stroked in the fill colour. The layout
		 * was measured with the real bold font's wider advances, so the
		 * text stays inside its box. */
		set_stroke(r->page, rgb);
		HPDF_Page_SetLineWidth(r->page, (float)(l->size * BOLD_STROKE));
		HPDF_Page_SetLineJoin(r->page, HPDF_ROUND_JOIN);
	}
	HPDF_Page_BeginText(r->page);
	if (bold)
		HPDF_Page_SetTextRenderingMode(r->page, HPDF_FILL_THEN_STROKE);
	HPDF_Page_SetFontAndSize(r->page, font, (float)l->size);
	HPDF_Page_SetHorizontalScalling(r->page, (float)l->hscale);
	for (int i = 0; i < l->n; i++) {
		size_t a = u->off[l->lines[i].first], b = u->off[l->lines[i].end];
		size_t len = b - a;
		memcpy(line, u->s + a, len);
		if (l->cut && i == l->n - 1) {
			memcpy(line + len, "\xE2\x80\xA6", 3);   /* … */
			len += 3;
		}
		line[len] = '\0';
		double base = MM(top) + (f->top + i * LEADING) * l->size;
		HPDF_Page_TextOut(r->page, (float)px(r, x), (float)(py(r, 0) - base), line);
	}
	HPDF_Page_SetHorizontalScalling(r->page, 100.0f);
	if (bold)
		HPDF_Page_SetTextRenderingMode(r->page, HPDF_FILL);
	HPDF_Page_EndText(r->page);
	HPDF_Page_GRestore(r->page);
}

/* Measure and fit one field: 0 or -1 (text not printable). */
static int fit_field(struct render *r, int bold, const char *s, const char *what,
		     const struct fit *spec, struct layout *ret, char *err, size_t errlen)
{
	const struct face *f = bold ? &r->fonts->bold : &r->fonts->reg;
	if (runs_load(&r->u, f, s, what, err, errlen) < 0)
		return -1;
	fit_text(&r->u, f, spec, ret);
	return 0;
}

/* Height a fitted text takes, mm: highest accent of line 1 to descenders. */
static double layout_height(const struct face *f, const struct layout *l)
{
	return l->n ? (f->top + (l->n - 1) * LEADING + f->descent) * l->size / PT_PER_MM : 0;
}

/* From a box's top to where the capitals of its first line start, mm. */
static double cap_offset(const struct face *f, double size)
{
	return (f->top - f->cap) * size / PT_PER_MM;
}

/* Fit and draw one field (or, collecting, note its characters). top: where
 * the capitals of its first line start. 0 or -1. */
static int field(struct render *r, int bold, const char *s, const char *what,
		 const struct fit *spec, double x, double top, unsigned rgb, char *err,
		 size_t errlen)
{
	struct layout l;
	if (fit_field(r, bold, s, what, spec, &l, err, errlen) < 0)
		return -1;
	if (r->collect) {
		for (int i = 0; i < l.n; i++)
			for (size_t k = l.lines[i].first; k < l.lines[i].end; k++)
				bit_set(r->used[0], r->u.cp[k]);
		if (l.cut)
			bit_set(r->used[0], ELLIPSIS);
		return 0;
	}
	draw_layout(r, r->font[bold], bold ? &r->fonts->bold : &r->fonts->reg, &r->u, &l, x, top,
		    rgb);
	return 0;
}

/* ---- the card ---------------------------------------------------------------
 *
 * Positions in millimetres from the card's top-left corner. */

#define MARGIN 4.0
#define BAND_H 11.0
#define RULE_H 0.6
#define FOOTER_H 2.6
#define PHOTO_X MARGIN
#define PHOTO_Y 16.0
#define PHOTO_W 23.0
#define PHOTO_H 28.75                       /* 4:5 */
#define COL_X (PHOTO_X + PHOTO_W + 3.8)     /* right column */
#define COL_W (CARD_W_MM - MARGIN - COL_X)
#define DOB_W 30.0                          /* date of birth; expiry beside it */
#define LABEL_PT 5.0
#define LABEL_GAP 0.1                       /* label's box to its value's box */
#define ROW_GAP 0.2                         /* value's box to the next label's */

/* Boxes run from the highest stacked accent of the first line (head.yMax:
 * 1.07 em regular, 1.12 em bold for Vietnamese capitals) to the last
 * line's descenders, so no accent ever touches the label above it. */
static const struct fit FIT_CITY   = { 8.0, 5.5, 5.5, 1, CARD_W_MM - 2 * MARGIN, 3.9 };
static const struct fit FIT_TITLE  = { 6.5, 4.5, 4.5, 1, CARD_W_MM - 2 * MARGIN, 3.0 };
static const struct fit FIT_LABEL  = { LABEL_PT, 4.0, 4.0, 1, COL_W, 2.35 };
static const struct fit FIT_FAMILY = { 11.0, 8.0, 5.5, 3, COL_W, 7.1 };   /* 3 lines at 5.5 pt */
static const struct fit FIT_GIVEN  = { 9.0, 7.0, 5.5, 2, COL_W, 4.8 };    /* 2 lines at 5.5 pt */
static const struct fit FIT_DATE   = { 8.0, 6.0, 5.0, 1, DOB_W - 1.0, 3.7 };
static const struct fit FIT_NUMBER = { 8.5, 6.0, 5.0, 1, COL_W, 4.1 };

/* A label and its value below it, from top (mm); *ret_next: where the
 * next label may start. */
static int labelled(struct render *r, const char *label, const char *value, int bold,
		    const struct fit *vfit, double x, double top, const char *what,
		    double *ret_next, char *err, size_t errlen)
{
	struct fit lf = FIT_LABEL;
	lf.box_w = vfit->box_w;
	if (field(r, 0, label, "label", &lf, x, top, C_LABEL, err, errlen) < 0)
		return -1;
	double vtop = top + lf.box_h + LABEL_GAP;
	if (ret_next)
		*ret_next = vtop + vfit->box_h + ROW_GAP;
	return field(r, bold, value, what, vfit, x, vtop, C_INK, err, errlen);
}

static int draw_photo(struct render *r, const struct card_photo *photo, char *err, size_t errlen)
{
	HPDF_Page page = r->page;
	double x = px(r, PHOTO_X), y = py(r, PHOTO_Y + PHOTO_H);
	double w = MM(PHOTO_W), h = MM(PHOTO_H);
	int have = photo && photo->jpeg && photo->len;
	if (have && (photo->len > PHOTO_MAX_BYTES || photo->len < 4 || photo->jpeg[0] != 0xFF ||
		     photo->jpeg[1] != 0xD8 || !photo->width || !photo->height)) {
		set_err(err, errlen, "photo: not a JPEG of at most %u bytes", PHOTO_MAX_BYTES);
		return -1;
	}
	if (r->collect)
		return 0;
	if (!have) {
		box_fill(r, PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H, C_TINT);
	} else {
		r->stage = "embedding the photo";
		HPDF_Image img = HPDF_LoadJpegImageFromMem(r->pdf, photo->jpeg, (HPDF_UINT)photo->len);
		r->stage = "drawing";
		unsigned iw = HPDF_Image_GetWidth(img), ih = HPDF_Image_GetHeight(img);
		if (iw != photo->width || ih != photo->height) {
			set_err(err, errlen, "photo: the JPEG is %ux%u, expected %ux%u", iw, ih,
				photo->width, photo->height);
			return -1;
		}
		/* Cover the box, centred; what sticks out is clipped. */
		double s = w / iw > h / ih ? w / iw : h / ih;
		double dw = iw * s, dh = ih * s;
		HPDF_Page_GSave(page);
		HPDF_Page_Rectangle(page, (float)x, (float)y, (float)w, (float)h);
		HPDF_Page_Clip(page);
		HPDF_Page_EndPath(page);
		HPDF_Page_DrawImage(page, img, (float)(x + (w - dw) / 2), (float)(y + (h - dh) / 2),
				    (float)dw, (float)dh);
		HPDF_Page_GRestore(page);
	}
	set_stroke(page, C_RULE);
	HPDF_Page_SetLineWidth(page, 0.4f);
	HPDF_Page_Rectangle(page, (float)x, (float)y, (float)w, (float)h);
	HPDF_Page_Stroke(page);
	return 0;
}

static int draw_front(struct render *r, const struct card_text *t, const struct card_photo *photo,
		      char *err, size_t errlen)
{
	const struct face *reg = &r->fonts->reg;
	box_fill(r, 0, 0, CARD_W_MM, BAND_H, C_BRAND);
	box_fill(r, 0, BAND_H, CARD_W_MM, RULE_H, C_ACCENT);
	box_fill(r, 0, CARD_H_MM - FOOTER_H - RULE_H, CARD_W_MM, RULE_H, C_ACCENT);
	box_fill(r, 0, CARD_H_MM - FOOTER_H, CARD_W_MM, FOOTER_H, C_BRAND);
	if (field(r, 1, t->city_name, "city_name", &FIT_CITY, MARGIN, 1.5, C_WHITE, err,
		  errlen) < 0 ||
	    field(r, 0, t->card_title, "card_title", &FIT_TITLE, MARGIN, 6.0, C_WHITE, err,
		  errlen) < 0 ||
	    draw_photo(r, photo, err, errlen) < 0)
		return -1;
	/* The right column, rows stacked from their boxes' heights; the first
	 * label's capitals level with the photo's top edge. */
	struct fit exp = FIT_DATE;
	exp.box_w = COL_W - DOB_W;
	double y = PHOTO_Y - cap_offset(reg, LABEL_PT), next;
	if (labelled(r, t->label_family, t->family_name, 1, &FIT_FAMILY, COL_X, y, "family_name",
		     &y, err, errlen) < 0 ||
	    labelled(r, t->label_given, t->given_names, 0, &FIT_GIVEN, COL_X, y, "given_names", &y,
		     err, errlen) < 0 ||
	    labelled(r, t->label_dob, t->date_of_birth, 0, &FIT_DATE, COL_X, y, "date_of_birth",
		     &next, err, errlen) < 0 ||
	    labelled(r, t->label_expires, t->expires_on, 0, &exp, COL_X + DOB_W, y, "expires_on",
		     NULL, err, errlen) < 0 ||
	    labelled(r, t->label_number, t->card_number, 1, &FIT_NUMBER, COL_X, next, "card_number",
		     NULL, err, errlen) < 0)
		return -1;
	return 0;
}

/* Whether row has exactly the run [col, col + len) of dark modules. */
static int same_run(const QRcode *qr, int row, int col, int len)
{
	const unsigned char *d = qr->data + (size_t)row * qr->width;
	if ((col > 0 && (d[col - 1] & 1)) || (col + len < qr->width && (d[col + len] & 1)))
		return 0;
	for (int i = col; i < col + len; i++)
		if (!(d[i] & 1))
			return 0;
	return 1;
}

/* The QR code as filled rectangles: runs of dark modules, each stretched
 * down over the rows that repeat it exactly, all in one path filled once
 * (no seams between modules), in a coordinate system of modules (small
 * integers, which compress well). side includes the 4-module quiet zone
 * on every side. */
static void draw_qr(struct render *r, const QRcode *qr, double x, double y, double side)
{
	enum { MAX_W = 17 + 4 * CARD_QR_MAX_VERSION };
	unsigned char done[MAX_W * MAX_W];
	int n = qr->width;
	if (r->collect || n > MAX_W)
		return;
	HPDF_Page page = r->page;
	double m = MM(side) / (n + 8);
	box_fill(r, x, y, side, side, C_WHITE);
	HPDF_Page_GSave(page);
	/* Module (col, row) at (x0 + m col, y0 - m row): rows go down. */
	HPDF_Page_Concat(page, (float)m, 0, 0, (float)-m, (float)(px(r, x) + 4 * m),
			 (float)(py(r, y) - 4 * m));
	set_fill(page, C_BLACK);
	memset(done, 0, sizeof done);
	for (int row = 0; row < n; row++) {
		const unsigned char *d = qr->data + (size_t)row * n;
		for (int col = 0; col < n;) {
			if (!(d[col] & 1) || done[row * n + col]) {
				col++;
				continue;
			}
			int len = 1, h = 1;
			while (col + len < n && (d[col + len] & 1))
				len++;
			while (row + h < n && same_run(qr, row + h, col, len)) {
				memset(done + (row + h) * n + col, 1, (size_t)len);
				h++;
			}
			HPDF_Page_Rectangle(page, (float)col, (float)row, (float)len, (float)h);
			col += len;
		}
	}
	HPDF_Page_Fill(page);
	HPDF_Page_GRestore(page);
}

#define BACK_BAND_H 6.0
#define QR_SIDE 45.0          /* with the quiet zone; SPEC: at least 38 mm */
#define QR_X 1.5
#define QR_Y (BACK_BAND_H + RULE_H + (CARD_H_MM - BACK_BAND_H - RULE_H - QR_SIDE) / 2)
#define BACK_COL_X (QR_X + QR_SIDE + 1.0)
#define BACK_COL_W (CARD_W_MM - MARGIN - BACK_COL_X)

static const struct fit FIT_BACK_CITY = { 6.5, 5.0, 5.0, 1, CARD_W_MM - 2 * MARGIN, 3.2 };
static const struct fit FIT_VERIFY    = { 6.5, 6.5, 5.0, 3, BACK_COL_W, 8.4 };
static const struct fit FIT_ADDRESS   = { 7.0, 6.0, 5.0, 2, BACK_COL_W, 6.1 };
static const struct fit FIT_RETURN    = { 6.0, 6.0, 4.5, 4, BACK_COL_W, 16.0 };

/* "Vérifier / Verify: https://id.example.org/v": the words as a label,
 * the address below them in ink. A line whose last word is not an address
 * prints as it is. */
static int draw_verify(struct render *r, const char *v, double top, char *err, size_t errlen)
{
	const char *sp = strrchr(v, ' ');
	char label[TEXT_MAX + 1];
	if (!sp || sp == v || !strstr(sp, "://") || (size_t)(sp - v) > TEXT_MAX)
		return field(r, 0, v, "verify_line", &FIT_VERIFY, BACK_COL_X, top, C_INK, err,
			     errlen);
	memcpy(label, v, (size_t)(sp - v));
	label[sp - v] = '\0';
	struct fit lf = FIT_LABEL;
	lf.box_w = BACK_COL_W;
	if (field(r, 0, label, "verify_line", &lf, BACK_COL_X, top, C_LABEL, err, errlen) < 0)
		return -1;
	double vtop = top + lf.box_h + LABEL_GAP;
	return field(r, 0, sp + 1, "verify_line", &FIT_ADDRESS, BACK_COL_X, vtop, C_INK, err,
		     errlen);
}

static int draw_back(struct render *r, const struct card_text *t, const QRcode *qr,
		     char *err, size_t errlen)
{
	box_fill(r, 0, 0, CARD_W_MM, BACK_BAND_H, C_BRAND);
	box_fill(r, 0, BACK_BAND_H, CARD_W_MM, RULE_H, C_ACCENT);
	if (field(r, 1, t->city_name, "city_name", &FIT_BACK_CITY, MARGIN, 1.3, C_WHITE, err,
		  errlen) < 0)
		return -1;
	draw_qr(r, qr, QR_X, QR_Y, QR_SIDE);
	/* The text column spans the code's dark modules: the verification
	 * address at the top, the finder's line at the bottom. */
	double quiet = QR_SIDE * 4 / (qr->width + 8);
	double top = QR_Y + quiet - cap_offset(&r->fonts->reg, LABEL_PT);
	double bottom = QR_Y + QR_SIDE - quiet;
	struct layout l;
	if (draw_verify(r, t->verify_line, top, err, errlen) < 0 ||
	    fit_field(r, 0, t->return_line, "return_line", &FIT_RETURN, &l, err, errlen) < 0)
		return -1;
	double h = layout_height(&r->fonts->reg, &l);
	return field(r, 0, t->return_line, "return_line", &FIT_RETURN, BACK_COL_X, bottom - h,
		     C_LABEL, err, errlen);
}

/* ---- pages ---------------------------------------------------------------- */

static void new_page(struct render *r, double w_mm, double h_mm)
{
	if (r->collect)
		return;
	r->page = HPDF_AddPage(r->pdf);
	HPDF_Page_SetWidth(r->page, (float)MM(w_mm));
	HPDF_Page_SetHeight(r->page, (float)MM(h_mm));
}

/* Thin cut marks just outside the corners of the card at (ox, oy). */
static void cut_marks(struct render *r)
{
	if (r->collect)
		return;
	const double gap = MM(1.5), len = MM(3.5);
	const double xs[2] = { r->ox, r->ox + MM(CARD_W_MM) };
	const double ys[2] = { r->oy, r->oy + MM(CARD_H_MM) };
	HPDF_Page page = r->page;
	set_stroke(page, C_BLACK);
	HPDF_Page_SetLineWidth(page, 0.25f);
	for (int i = 0; i < 2; i++) {
		double dx = i ? 1 : -1;
		for (int j = 0; j < 2; j++) {
			double dy = j ? 1 : -1;
			HPDF_Page_MoveTo(page, (float)(xs[i] + dx * gap), (float)ys[j]);
			HPDF_Page_LineTo(page, (float)(xs[i] + dx * (gap + len)), (float)ys[j]);
			HPDF_Page_MoveTo(page, (float)xs[i], (float)(ys[j] + dy * gap));
			HPDF_Page_LineTo(page, (float)xs[i], (float)(ys[j] + dy * (gap + len)));
		}
	}
	HPDF_Page_Stroke(page);
}

/* Every page of the document; run twice: collecting, then drawing. */
static int draw_all(struct render *r, const struct card_text *t, const struct card_photo *photo,
		    const QRcode *qr, enum card_format fmt, char *err, size_t errlen)
{
	if (fmt == CARD_FORMAT_CR80) {
		r->ox = r->oy = 0;
		new_page(r, CARD_W_MM, CARD_H_MM);
		if (draw_front(r, t, photo, err, errlen) < 0)
			return -1;
		new_page(r, CARD_W_MM, CARD_H_MM);
		return draw_back(r, t, qr, err, errlen);
	}
	double pw = fmt == CARD_FORMAT_A4 ? 210.0 : 215.9;
	double ph = fmt == CARD_FORMAT_A4 ? 297.0 : 279.4;
	const double gap = 12.0, top = 25.0;
	double left = (pw - 2 * CARD_W_MM - gap) / 2;
	new_page(r, pw, ph);
	r->ox = MM(left);
	r->oy = MM(ph - top - CARD_H_MM);
	if (draw_front(r, t, photo, err, errlen) < 0)
		return -1;
	cut_marks(r);
	r->ox = MM(left + CARD_W_MM + gap);
	if (draw_back(r, t, qr, err, errlen) < 0)
		return -1;
	cut_marks(r);
	return 0;
}

static int check_text(const struct card_text *t, char *err, size_t errlen)
{
	const struct { const char *v, *name; } f[] = {
		{ t->city_name, "city_name" }, { t->card_title, "card_title" },
		{ t->label_family, "label_family" }, { t->label_given, "label_given" },
		{ t->label_dob, "label_dob" }, { t->label_number, "label_number" },
		{ t->label_expires, "label_expires" }, { t->family_name, "family_name" },
		{ t->given_names, "given_names" }, { t->date_of_birth, "date_of_birth" },
		{ t->expires_on, "expires_on" }, { t->card_number, "card_number" },
		{ t->verify_line, "verify_line" }, { t->return_line, "return_line" },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (!f[i].v) {
			set_err(err, errlen, "%s: not set", f[i].name);
			return -1;
		}
	}
	return 0;
}

/* Append libharu's saved document to out. */
static int copy_out(struct render *r, struct buf *out, char *err, size_t errlen)
{
	HPDF_BYTE chunk[8192];
	for (;;) {
		HPDF_UINT32 n = sizeof chunk;
		HPDF_STATUS st = HPDF_ReadFromStream(r->pdf, chunk, &n);
		if (n && buf_append(out, chunk, n) < 0) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
		if (st == HPDF_STREAM_EOF)
			return 0;
		if (st != HPDF_OK) {
			set_err(err, errlen, "libharu error 0x%04X reading the PDF", (unsigned)st);
			return -1;
		}
	}
}

/* Everything libharu draws; errors in libharu jump out of it. */
static int pdf_body(struct render *r, const struct card_text *t, const struct card_photo *photo,
		    const QRcode *qr, enum card_format fmt, const struct tm *tm, struct buf *out,
		    char *err, size_t errlen)
{
	r->stage = "loading the fonts";
	HPDF_SetCompressionMode(r->pdf, HPDF_COMP_ALL);
	HPDF_UseUTFEncodings(r->pdf);
	/* One embedded font: bold text is the regular glyphs filled and
	 * stroked (draw_layout). libharu's set-up of each font walks all
	 * 65,536 code points, so a second font costs a quarter of the PDF. */
	r->font[0] = font_from_memory(r->pdf, r->sub[0], r->sub_len[0], &r->rd[0], "CCARDA");
	r->font[1] = r->font[0];
	if (!r->font[0]) {
		set_err(err, errlen, "card font rejected by libharu (error 0x%04X)",
			(unsigned)HPDF_GetError(r->pdf));
		return -1;
	}
	trim_cid_map(r->font[0], &r->fonts->reg, r->used[0], r->cid_map);
	fix_to_unicode(r->pdf, r->font[0], &r->fonts->reg, r->used[0]);
	HPDF_Date date = {
		.year = tm->tm_year + 1900, .month = tm->tm_mon + 1, .day = tm->tm_mday,
		.hour = tm->tm_hour, .minutes = tm->tm_min, .seconds = tm->tm_sec,
		.ind = 'Z',
	};
	HPDF_SetInfoDateAttr(r->pdf, HPDF_INFO_CREATION_DATE, date);
	HPDF_SetInfoAttr(r->pdf, HPDF_INFO_CREATOR, "civicard");
	r->stage = "drawing";
	if (draw_all(r, t, photo, qr, fmt, err, errlen) < 0)
		return -1;
	r->stage = "saving";
	HPDF_SaveToStream(r->pdf);
	return copy_out(r, out, err, errlen);
}

/* One document from HPDF_New to HPDF_Free. The jmp_buf lives in r and is
 * only jumped to while pdf_body runs; nothing in this frame changes
 * after setjmp, so nothing can be clobbered. */
static int render_pdf(struct render *r, const struct card_text *t, const struct card_photo *photo,
		      const QRcode *qr, enum card_format fmt, const struct tm *tm, struct buf *out,
		      char *err, size_t errlen)
{
	r->status = -1;
	r->stage = "starting";
	r->pdf = HPDF_New(on_hpdf_error, r);
	if (!r->pdf) {
		set_err(err, errlen, "HPDF_New failed");
		return -1;
	}
	if (setjmp(r->jb) == 0)
		r->status = pdf_body(r, t, photo, qr, fmt, tm, out, err, errlen);
	else
		set_err(err, errlen, "libharu error 0x%04X (detail %u) %s", (unsigned)r->code,
			(unsigned)r->detail, r->stage);
	HPDF_Free(r->pdf);
	r->pdf = NULL;
	return r->status;
}

int card_pdf_render(const struct card_fonts *fonts, const struct card_text *t,
		    const struct card_photo *photo, const char *qr_text, long long issued_unix,
		    enum card_format fmt, struct buf *out, char *err, size_t errlen)
{
	int ret = -1;
	QRcode *qr = NULL;
	struct render *r = NULL;
	struct tm tm;
	time_t when = (time_t)issued_unix;

	if (!fonts || !t || !qr_text || !out) {
		set_err(err, errlen, "missing argument");
		return -1;
	}
	const size_t out_len0 = out->len;
	if (check_text(t, err, errlen) < 0)
		return -1;
	if (fmt != CARD_FORMAT_CR80 && fmt != CARD_FORMAT_A4 && fmt != CARD_FORMAT_LETTER) {
		set_err(err, errlen, "unknown card format %d", (int)fmt);
		return -1;
	}
	if (issued_unix < 0 || issued_unix > 253402300799LL || !gmtime_r(&when, &tm)) {
		set_err(err, errlen, "issue time out of range");
		return -1;
	}
	size_t qlen = strlen(qr_text);
	if (qlen == 0 || qlen > QR_TEXT_MAX) {
		set_err(err, errlen, "QR text: empty or longer than %d bytes", QR_TEXT_MAX);
		return -1;
	}
	/* 8-bit mode, case-sensitive (last argument 1: lower case is kept);
	 * libqrencode still switches to alphanumeric mode for upper-case runs. */
	qr = QRcode_encodeString(qr_text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr) {
		set_err(err, errlen, "QR text could not be encoded: %s", strerror(errno));
		return -1;
	}
	if (qr->version > CARD_QR_MAX_VERSION) {
		set_err(err, errlen, "QR code would be version %d (at most %d)", qr->version,
			CARD_QR_MAX_VERSION);
		goto done;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		set_err(err, errlen, "out of memory");
		goto done;
	}
	r->fonts = fonts;

	/* Pass 1: check every text, note the characters each face prints. */
	r->collect = 1;
	if (draw_all(r, t, photo, qr, fmt, err, errlen) < 0)
		goto done;
	for (int i = 0; i < 1; i++) {
		bit_set(r->used[i], ' ');
		if (subset_font(&fonts->reg, r->used[i], &r->sub[i], &r->sub_len[i]) < 0) {
			set_err(err, errlen, "out of memory");
			goto done;
		}
	}
	/* Pass 2: draw. */
	r->collect = 0;
	ret = render_pdf(r, t, photo, qr, fmt, &tm, out, err, errlen);
done:
	if (r) {
		free(r->sub[0]);
		free(r->sub[1]);
		free(r);
	}
	QRcode_free(qr);
	if (ret < 0 && out->len > out_len0) {
		out->len = out_len0;
		out->data[out->len] = '\0';
	}
	return ret;
}

/* ---- loading ---------------------------------------------------------------- */

void card_fonts_free(struct card_fonts *f)
{
	if (!f)
		return;
	free(f->reg.data);
	free(f->bold.data);
	free(f);
}

static void on_check_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
	(void)code;
	(void)detail;
	(void)user;   /* read back with HPDF_GetError */
}

/* Start-up check: libharu must accept a subset of each face. */
static int check_with_libharu(const struct card_fonts *f, char *err, size_t errlen)
{
	int ret = -1;
	uint8_t used[BITS_BYTES] = { 0 };
	uint8_t *sub[2] = { NULL, NULL };
	size_t len[2];
	struct mem_reader rd[2];
	HPDF_Doc pdf = NULL;
	for (const char *s = "Hx Aa"; *s; s++)
		bit_set(used, (unsigned char)*s);
	bit_set(used, ELLIPSIS);
	if (subset_font(&f->reg, used, &sub[0], &len[0]) < 0 ||
	    subset_font(&f->bold, used, &sub[1], &len[1]) < 0) {
		set_err(err, errlen, "out of memory");
		goto done;
	}
	pdf = HPDF_New(on_check_error, NULL);
	if (!pdf) {
		set_err(err, errlen, "HPDF_New failed");
		goto done;
	}
	HPDF_UseUTFEncodings(pdf);
	for (int i = 0; i < 2; i++) {
		if (!font_from_memory(pdf, sub[i], len[i], &rd[i], i ? "CCARDB" : "CCARDA")) {
			set_err(err, errlen, "libharu rejects the %s card font (error 0x%04X%s)",
				i ? "bold" : "regular", (unsigned)HPDF_GetError(pdf),
				i ? "; the same font as the regular one?" : "");
			goto done;
		}
	}
	ret = 0;
done:
	if (pdf)
		HPDF_Free(pdf);
	free(sub[0]);
	free(sub[1]);
	return ret;
}

int card_fonts_load(const char *regular_ttf, const char *bold_ttf, struct card_fonts **ret,
		    char *err, size_t errlen)
{
	struct card_fonts *f = calloc(1, sizeof *f);
	if (!f) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (face_read(&f->reg, regular_ttf, err, errlen) < 0 ||
	    face_read(&f->bold, bold_ttf, err, errlen) < 0 ||
	    check_with_libharu(f, err, errlen) < 0) {
		card_fonts_free(f);
		return -1;
	}
	*ret = f;
	return 0;
}
