/* photo.c — untrusted upload → 240×300 baseline JPEG with no metadata.
 *
 * Pipeline: sniff the magic bytes; read the dimensions from the header and
 * refuse too many pixels / too small before allocating anything sized by
 * the image; decode (JPEG: TurboJPEG at the smallest DCT scale that still
 * covers the output; PNG: spng, row by row); stream the rows, in display
 * orientation, through a separable resampler that centre-crops to 4:5 and
 * scales to PHOTO_WIDTH × PHOTO_HEIGHT; encode with TurboJPEG; copy the
 * result while dropping every APPn and COM segment.
 *
 * Every buffer here is from malloc() and freed before returning, except
 * the result, which is handed to the caller. */
#include "photo.h"

#include <limits.h>
#include <spng.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

#define OUT_CH 3        /* the resampler works in RGB */

/* ---- Pixel formats of decoded images ---------------------------------- */

enum pix {
	PIX_RGB,        /* 3 bytes */
	PIX_RGBA,       /* 4 bytes, straight alpha: flattened onto white */
	PIX_CMYK,       /* 4 bytes, 0 = no ink */
	PIX_CMYK_INV,   /* 4 bytes, 255 = no ink (Adobe/Photoshop convention) */
};

static unsigned pix_size(enum pix p)
{
	return p == PIX_RGB ? 3 : 4;
}

static inline uint8_t div255(unsigned v)
{
	/* Exact round(v / 255) for v <= 255 * 255. */
	v += 128;
	return (uint8_t)((v + (v >> 8)) >> 8);
}

/* Convert n pixels to RGB. Pixel i is src[i * step]; step may be negative
 * or a row stride (rotated images are read down a column). Only pointers
 * to pixels that exist are ever formed. */
static void pixels_to_rgb(const uint8_t *src, ptrdiff_t step, enum pix fmt,
		size_t n, uint8_t *dst)
{
	for (size_t i = 0; i < n; i++, dst += 3) {
		const uint8_t *p = src + (ptrdiff_t)i * step;
		switch (fmt) {
		case PIX_RGB:
			dst[0] = p[0];
			dst[1] = p[1];
			dst[2] = p[2];
			break;
		case PIX_RGBA: {
			unsigned a = p[3], bg = 255u * (255u - a);
			if (a == 255) {
				memcpy(dst, p, 3);
				break;
			}
			dst[0] = div255(p[0] * a + bg);
			dst[1] = div255(p[1] * a + bg);
			dst[2] = div255(p[2] * a + bg);
			break;
		}
		case PIX_CMYK: {
			unsigned k = 255u - p[3];
			dst[0] = div255((255u - p[0]) * k);
			dst[1] = div255((255u - p[1]) * k);
			dst[2] = div255((255u - p[2]) * k);
			break;
		}
		case PIX_CMYK_INV:
			dst[0] = div255((unsigned)p[0] * p[3]);
			dst[1] = div255((unsigned)p[1] * p[3]);
			dst[2] = div255((unsigned)p[2] * p[3]);
			break;
		}
	}
}

/* ---- Resampler -------------------------------------------------------- */

/* One axis of the crop-and-scale: output sample i is the weighted sum of
 * source samples lo + first[i] ... lo + first[i] + count[i] - 1. */
struct axis {
	int dst;        /* output length */
	int taps;       /* stride of w */
	int lo, hi;     /* source samples read, inclusive */
	int *first;     /* from malloc(), owned by the axis; relative to lo */
	int *count;     /* from malloc(), owned by the axis */
	float *w;       /* from malloc(), owned by the axis; dst × taps */
};

static void axis_free(struct axis *a)
{
	free(a->first);
	free(a->count);
	free(a->w);
	a->first = a->count = NULL;
	a->w = NULL;
}

/* Map the source interval [off, off + len) of an axis src samples long
 * onto dst output samples: area average when shrinking, bilinear (centres
 * aligned, edges clamped) when enlarging. Returns 0 or -1 (no memory). */
static int axis_init(struct axis *a, int dst, int src, double off, double len)
{
	double scale = len / dst;
	int taps = scale > 1.0 ? (int)scale + 3 : 2;

	memset(a, 0, sizeof *a);
	if (dst <= 0 || src <= 0)
		return -1;
	a->dst = dst;
	a->taps = taps;
	a->first = calloc((size_t)dst, sizeof(int));
	a->count = calloc((size_t)dst, sizeof(int));
	a->w = calloc((size_t)dst * (size_t)taps, sizeof(float));
	if (!a->first || !a->count || !a->w) {
		axis_free(a);
		return -1;
	}
	for (int i = 0; i < dst; i++) {
		float *w = a->w + (size_t)i * (size_t)taps;
		int f, n;
		if (scale > 1.0) {
			double lo = off + i * scale, hi = lo + scale, sum = 0;
			if (hi > src)
				hi = src;
			f = (int)lo;
			int l = (int)hi;
			if ((double)l >= hi)
				l--;
			if (f > src - 1)
				f = src - 1;
			if (l > src - 1)
				l = src - 1;
			if (l < f)
				l = f;
			n = l - f + 1;
			if (n > taps)
				n = taps;
			for (int k = 0; k < n; k++) {
				double a0 = f + k > lo ? f + k : lo;
				double a1 = f + k + 1 < hi ? f + k + 1 : hi;
				double c = a1 > a0 ? a1 - a0 : 0;
				w[k] = (float)c;
				sum += c;
			}
			if (sum > 0) {
				for (int k = 0; k < n; k++)
					w[k] = (float)(w[k] / sum);
			} else {
				n = 1;
				w[0] = 1.0f;
			}
		} else {
			double c = off + (i + 0.5) * scale - 0.5;
			if (c < 0)
				c = 0;
			f = (int)c;
			if (f >= src - 1) {
				f = src - 1;
				n = 1;
				w[0] = 1.0f;
			} else {
				double fr = c - f;
				n = 2;
				w[0] = (float)(1.0 - fr);
				w[1] = (float)fr;
			}
		}
		a->first[i] = f;
		a->count[i] = n;
	}
	/* Both first[] and first[] + count[] never decrease with i. */
	a->lo = a->first[0];
	a->hi = a->first[0] + a->count[0] - 1;
	for (int i = 0; i < dst; i++) {
		if (a->first[i] + a->count[i] - 1 > a->hi)
			a->hi = a->first[i] + a->count[i] - 1;
		a->first[i] -= a->lo;
	}
	return 0;
}

/* Rows of an image (already in display orientation, RGB) go in top to
 * bottom; the cropped, scaled PHOTO_WIDTH × PHOTO_HEIGHT image comes out.
 * Only rows v.lo..v.hi and, of each, columns h.lo..h.hi are ever needed. */
struct resampler {
	struct axis h, v;
	float *acc;     /* from malloc(): PHOTO_HEIGHT × PHOTO_WIDTH × 3 sums */
	float *tmp;     /* from malloc(): one horizontally scaled row */
	int jlo;        /* first output row still open */
	int next_y;     /* rows must arrive in increasing order */
};

static void resampler_free(struct resampler *r)
{
	axis_free(&r->h);
	axis_free(&r->v);
	free(r->acc);
	free(r->tmp);
	r->acc = r->tmp = NULL;
}

/* Set up for a source image of w × h (display orientation): the largest
 * centred 4:5 rectangle, scaled to the output. Returns 0 or -1. */
static int resampler_init(struct resampler *r, int w, int h)
{
	double cx = 0, cy = 0, cw = w, ch = h;

	memset(r, 0, sizeof *r);
	if ((int64_t)w * PHOTO_HEIGHT > (int64_t)h * PHOTO_WIDTH) {
		cw = (double)h * PHOTO_WIDTH / PHOTO_HEIGHT;
		cx = (w - cw) / 2;
	} else {
		ch = (double)w * PHOTO_HEIGHT / PHOTO_WIDTH;
		cy = (h - ch) / 2;
	}
	if (axis_init(&r->h, PHOTO_WIDTH, w, cx, cw) < 0 ||
	    axis_init(&r->v, PHOTO_HEIGHT, h, cy, ch) < 0)
		goto fail;
	r->acc = calloc((size_t)PHOTO_WIDTH * PHOTO_HEIGHT * OUT_CH, sizeof(float));
	r->tmp = malloc(sizeof(float) * PHOTO_WIDTH * OUT_CH);
	if (!r->acc || !r->tmp)
		goto fail;
	return 0;
fail:
	resampler_free(r);
	return -1;
}

/* Width, in pixels, of the part of each row the resampler reads. */
static size_t resampler_row_width(const struct resampler *r)
{
	return (size_t)(r->h.hi - r->h.lo + 1);
}

/* Add source row y; rgb holds its columns h.lo..h.hi. Rows outside
 * v.lo..v.hi and rows out of order are ignored. */
static void resampler_push(struct resampler *r, int y, const uint8_t *rgb)
{
	const struct axis *h = &r->h, *v = &r->v;

	if (y < v->lo || y > v->hi || y < r->next_y)
		return;
	r->next_y = y + 1;

	for (int i = 0; i < h->dst; i++) {
		const float *w = h->w + (size_t)i * (size_t)h->taps;
		const uint8_t *p = rgb + (size_t)h->first[i] * 3;
		float s0 = 0, s1 = 0, s2 = 0;
		for (int k = 0; k < h->count[i]; k++, p += 3) {
			s0 += w[k] * p[0];
			s1 += w[k] * p[1];
			s2 += w[k] * p[2];
		}
		r->tmp[i * 3] = s0;
		r->tmp[i * 3 + 1] = s1;
		r->tmp[i * 3 + 2] = s2;
	}

	int yr = y - v->lo;
	while (r->jlo < v->dst && v->first[r->jlo] + v->count[r->jlo] <= yr)
		r->jlo++;
	for (int j = r->jlo; j < v->dst && v->first[j] <= yr; j++) {
		if (yr - v->first[j] >= v->count[j])
			continue;       /* cannot happen (see axis_init); cheap to check */
		float wv = v->w[(size_t)j * (size_t)v->taps + (size_t)(yr - v->first[j])];
		float *acc = r->acc + (size_t)j * PHOTO_WIDTH * OUT_CH;
		for (int i = 0; i < PHOTO_WIDTH * OUT_CH; i++)
			acc[i] += wv * r->tmp[i];
	}
}

static void resampler_finish(const struct resampler *r, uint8_t *out)
{
	for (size_t i = 0; i < (size_t)PHOTO_WIDTH * PHOTO_HEIGHT * OUT_CH; i++) {
		float f = r->acc[i] + 0.5f;
		out[i] = f <= 0 ? 0 : f >= 255 ? 255 : (uint8_t)f;
	}
}

/* ---- JPEG markers: EXIF orientation and the Adobe segment ------------- */

/* Each scan of a progressive JPEG is a pass over every block of the
 * image: a 300 KB file of 379 scans of 50 megapixels takes 2.5 s to
 * decode. Encoders write about 10; TJFLAG_LIMITSCANS would allow 500. */
#define JPEG_MAX_SCANS 64

struct jpeg_meta {
	int orientation;        /* 1..8, EXIF tag 0x0112; 1 when absent */
	int adobe;              /* an Adobe APP14 segment is present */
	size_t scans;           /* SOS markers, counted up to JPEG_MAX_SCANS + 1 */
};

static uint16_t get16(const uint8_t *p, int big)
{
	return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(const uint8_t *p, int big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The orientation in an APP1 payload: -1 if it is not EXIF, 0 if it is
 * but has no valid orientation, else 1..8. Untrusted: every offset is
 * checked against len before it is read. */
static int exif_orientation(const uint8_t *p, size_t len)
{
	static const uint8_t exif_id[6] = { 'E', 'x', 'i', 'f', 0, 0 };
	const uint8_t *t;
	size_t tlen;
	int big;

	if (len < sizeof exif_id || memcmp(p, exif_id, sizeof exif_id) != 0)
		return -1;
	t = p + sizeof exif_id;
	tlen = len - sizeof exif_id;
	if (tlen < 8)
		return 0;
	if (t[0] == 'I' && t[1] == 'I')
		big = 0;
	else if (t[0] == 'M' && t[1] == 'M')
		big = 1;
	else
		return 0;
	if (get16(t + 2, big) != 42)
		return 0;
	uint32_t ifd = get32(t + 4, big);
	if (ifd > tlen || tlen - ifd < 2)
		return 0;
	size_t n = get16(t + ifd, big);
	size_t room = (tlen - ifd - 2) / 12;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = t + ifd + 2 + 12 * i;
		if (get16(e, big) != 0x0112)
			continue;
		/* SHORT, one value, stored in the first two value bytes. */
		if (get16(e + 2, big) != 3 || get32(e + 4, big) != 1)
			return 0;
		int o = get16(e + 8, big);
		return o >= 1 && o <= 8 ? o : 0;
	}
	return 0;
}

/* Count FF DA (SOS) in d, stopping at JPEG_MAX_SCANS + 1. Entropy-coded
 * data stuffs a 00 after every FF, so it never holds a false one. */
static size_t count_scans(const uint8_t *d, size_t len)
{
	size_t n = 0;
	const uint8_t *p = d, *end = d + len;

	while (n <= JPEG_MAX_SCANS && p < end) {
		const uint8_t *ff = memchr(p, 0xFF, (size_t)(end - p));
		if (!ff || end - ff < 2)
			break;
		if (ff[1] == 0xDA)
			n++;
		p = ff + 1;
	}
	return n;
}

/* Walk the segments before the first SOS, then count the scans from
 * there. Stops walking quietly on anything odd (the decoder, not this
 * walk, decides whether the file is valid) and then counts SOS markers
 * in the whole file instead, which may count too many, never too few. */
static void jpeg_scan(const uint8_t *d, size_t len, struct jpeg_meta *m)
{
	static const uint8_t adobe_id[5] = { 'A', 'd', 'o', 'b', 'e' };
	size_t pos = 2;         /* after SOI */
	int have_exif = 0;

	m->orientation = 1;
	m->adobe = 0;
	m->scans = 0;
	while (pos + 1 < len) {
		if (d[pos] != 0xFF)
			break;
		uint8_t marker = d[pos + 1];
		if (marker == 0xFF) {   /* fill byte */
			pos++;
			continue;
		}
		if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
			pos += 2;       /* no payload */
			continue;
		}
		if (marker == 0xDA) {
			m->scans = count_scans(d + pos, len - pos);
			return;
		}
		if (marker == 0xD9 || len - pos < 4)
			break;
		size_t seg = (size_t)d[pos + 2] << 8 | d[pos + 3];
		if (seg < 2 || seg > len - pos - 2)
			break;
		const uint8_t *p = d + pos + 4;
		size_t plen = seg - 2;
		if (marker == 0xE1 && !have_exif) {
			/* The first EXIF block counts, even without orientation. */
			int o = exif_orientation(p, plen);
			if (o >= 0)
				have_exif = 1;
			if (o > 0)
				m->orientation = o;
		} else if (marker == 0xEE && plen >= 12 &&
			   memcmp(p, adobe_id, sizeof adobe_id) == 0) {
			m->adobe = 1;
		}
		pos += 2 + seg;
	}
	m->scans = count_scans(d, len);
}

/* ---- JPEG decoding ---------------------------------------------------- */

/* The smallest scale ≤ 1 at which the image, in display orientation,
 * still covers the output; 1/1 if none does. */
static tjscalingfactor jpeg_pick_scale(int w, int h, int swap)
{
	tjscalingfactor best = { 1, 1 };
	int n = 0;
	tjscalingfactor *sf = tjGetScalingFactors(&n);

	for (int i = 0; sf && i < n; i++) {
		if (sf[i].num <= 0 || sf[i].denom <= 0 || sf[i].num > sf[i].denom)
			continue;
		int sw = TJSCALED(w, sf[i]), sh = TJSCALED(h, sf[i]);
		int ow = swap ? sh : sw, oh = swap ? sw : sh;
		if (ow < PHOTO_WIDTH || oh < PHOTO_HEIGHT)
			continue;
		if ((int64_t)sf[i].num * best.denom < (int64_t)best.num * sf[i].denom)
			best = sf[i];
	}
	return best;
}

/* Feed the decoded image (w × h stored, pixels in fmt) to a resampler in
 * display orientation (EXIF 1..8). */
static enum photo_error feed_oriented(const uint8_t *px, int w, int h,
		enum pix fmt, int orientation, uint8_t *ret_rgb)
{
	const int swap = orientation >= 5;
	const int ow = swap ? h : w, oh = swap ? w : h;
	const ptrdiff_t bpp = pix_size(fmt), stride = (ptrdiff_t)w * bpp;
	struct resampler r;
	uint8_t *row = NULL;

	if (orientation < 1 || orientation > 8)
		return PHOTO_CORRUPT;
	if (resampler_init(&r, ow, oh) < 0)
		return PHOTO_NO_MEMORY;
	size_t rw = resampler_row_width(&r);
	row = malloc(rw * 3);
	if (!row) {
		resampler_free(&r);
		return PHOTO_NO_MEMORY;
	}
	/* Display pixel (x, y) is stored pixel (sx, sy); along a display row
	 * the stored position moves by (dx, dy). */
	static const int dxs[9] = { 0, 1, -1, -1, 1, 0, 0, 0, 0 };
	static const int dys[9] = { 0, 0, 0, 0, 0, 1, -1, -1, 1 };
	const ptrdiff_t step = dxs[orientation] * bpp + dys[orientation] * stride;
	for (int y = r.v.lo; y <= r.v.hi; y++) {
		int x = r.h.lo, sx, sy;
		switch (orientation) {
		default:
		case 1: sx = x;         sy = y;         break;
		case 2: sx = w - 1 - x; sy = y;         break;
		case 3: sx = w - 1 - x; sy = h - 1 - y; break;
		case 4: sx = x;         sy = h - 1 - y; break;
		case 5: sx = y;         sy = x;         break;
		case 6: sx = y;         sy = h - 1 - x; break;
		case 7: sx = w - 1 - y; sy = h - 1 - x; break;
		case 8: sx = w - 1 - y; sy = x;         break;
		}
		pixels_to_rgb(px + (ptrdiff_t)sy * stride + (ptrdiff_t)sx * bpp,
			      step, fmt, rw, row);
		resampler_push(&r, y, row);
	}
	resampler_finish(&r, ret_rgb);
	free(row);
	resampler_free(&r);
	return PHOTO_OK;
}

static enum photo_error decode_jpeg(const uint8_t *data, size_t len, uint8_t *ret_rgb)
{
	const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
	enum photo_error err = PHOTO_CORRUPT;
	struct jpeg_meta meta;
	tjhandle tj = NULL;
	uint8_t *px = NULL;
	/* Left as is for a tables-only stream, which TurboJPEG 2.1 accepts. */
	int w = 0, h = 0, subsamp = -1, cs = -1;

	jpeg_scan(data, len, &meta);
	if (meta.scans > JPEG_MAX_SCANS)
		return PHOTO_CORRUPT;
	tj = tjInitDecompress();
	if (!tj)
		return PHOTO_NO_MEMORY;
	if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &subsamp, &cs) < 0)
		goto out;
	if (w <= 0 || h <= 0)
		goto out;
	if ((uint64_t)w * (uint64_t)h > PHOTO_MAX_PIXELS) {
		err = PHOTO_TOO_MANY_PIXELS;
		goto out;
	}
	if (w < PHOTO_MIN_SIDE || h < PHOTO_MIN_SIDE) {
		err = PHOTO_TOO_SMALL;
		goto out;
	}

	enum pix fmt = PIX_RGB;
	int pf = TJPF_RGB;
	if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
		fmt = meta.adobe ? PIX_CMYK_INV : PIX_CMYK;
		pf = TJPF_CMYK;
	}
	tjscalingfactor sf = jpeg_pick_scale(w, h, meta.orientation >= 5);
	int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
	if (sw <= 0 || sh <= 0)
		goto out;
	/* At most PHOTO_MAX_PIXELS × 4 bytes, but check anyway. */
	if ((size_t)sw > SIZE_MAX / pix_size(fmt) / (size_t)sh) {
		err = PHOTO_TOO_MANY_PIXELS;
		goto out;
	}
	px = malloc((size_t)sw * (size_t)sh * pix_size(fmt));
	if (!px) {
		err = PHOTO_NO_MEMORY;
		goto out;
	}
	if (tjDecompress2(tj, data, (unsigned long)len, px, sw, 0, sh, pf, flags) < 0)
		goto out;
	err = feed_oriented(px, sw, sh, fmt, meta.orientation, ret_rgb);
out:
	free(px);
	tjDestroy(tj);
	return err;
}

/* ---- PNG decoding ----------------------------------------------------- */

static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

/* Limits for spng: no side can exceed this without the image being too
 * small or having too many pixels, which were checked already. */
#define PNG_MAX_SIDE (PHOTO_MAX_PIXELS / PHOTO_MIN_SIDE)
/* Largest ancillary chunk and all ancillary chunk data kept together.
 * Only PLTE and tRNS reach spng (png_filter), so these are a second line. */
#define PNG_CHUNK_LIMIT (1u * 1024 * 1024)
#define PNG_CACHE_LIMIT (2u * 1024 * 1024)

/* Copy a PNG keeping only the chunks that make its pixels (IHDR, PLTE,
 * tRNS, IDAT, IEND), so spng never parses text, zTXt (a decompression
 * bomb of its own), iCCP, eXIf or anything else. Each kept chunk's CRC is
 * checked here: spng stops reading at the last row and would not notice
 * damage to the end of the last IDAT. Anything after IEND is ignored.
 * On PHOTO_OK *ret_png is from malloc() (caller frees). */
static enum photo_error png_filter(const uint8_t *d, size_t len,
		uint8_t **ret_png, size_t *ret_len, int *ret_trns)
{
	enum { IHDR, PLTE, TRNS, IDAT, IEND, N_KEEP };
	static const char keep[N_KEEP][4] = { "IHDR", "PLTE", "tRNS", "IDAT", "IEND" };
	size_t pos = sizeof png_magic, o = sizeof png_magic;
	uint8_t *out = malloc(len);
	int trns = 0;

	if (!out)
		return PHOTO_NO_MEMORY;
	memcpy(out, d, sizeof png_magic);
	for (;;) {
		if (len - pos < 12)
			goto corrupt;   /* truncated before IEND */
		uint32_t clen = get32(d + pos, 1);
		const uint8_t *type = d + pos + 4;
		if (clen > INT32_MAX || clen > len - pos - 12)
			goto corrupt;
		size_t k;
		for (k = 0; k < N_KEEP; k++)
			if (memcmp(type, keep[k], 4) == 0)
				break;
		if (k < N_KEEP) {
			if (crc32(crc32(0, NULL, 0), type, 4 + clen) != get32(type + 4 + clen, 1))
				goto corrupt;
			if (k == TRNS)
				trns = 1;
			memcpy(out + o, d + pos, 12 + (size_t)clen);
			o += 12 + (size_t)clen;
			if (k == IEND)
				break;
		} else if (!(type[0] & 0x20)) {
			goto corrupt;   /* an unknown critical chunk */
		}
		pos += 12 + (size_t)clen;
	}
	*ret_png = out;
	*ret_len = o;
	*ret_trns = trns;
	return PHOTO_OK;
corrupt:
	free(out);
	return PHOTO_CORRUPT;
}

static enum photo_error png_error(int e)
{
	switch (e) {
	case SPNG_EMEM:
		return PHOTO_NO_MEMORY;
	case SPNG_EUSER_WIDTH:
	case SPNG_EUSER_HEIGHT:
		return PHOTO_TOO_MANY_PIXELS;
	default:
		return PHOTO_CORRUPT;
	}
}

static enum photo_error decode_png(const uint8_t *data, size_t len, uint8_t *ret_rgb)
{
	enum photo_error err = PHOTO_CORRUPT;
	struct resampler r;
	int have_r = 0;
	spng_ctx *ctx = NULL;
	uint8_t *row = NULL, *keep = NULL, *rgb = NULL, *png = NULL;
	size_t png_len = 0;
	struct spng_ihdr ihdr;
	int e, trns = 0;

	/* IHDR must come first: read the size before anything sized by it is
	 * allocated. Its CRC is checked by png_filter(). */
	if (len < 8 + 8 + 13 + 4 || memcmp(data + 12, "IHDR", 4) != 0)
		return PHOTO_CORRUPT;
	uint32_t w = get32(data + 16, 1), h = get32(data + 20, 1);
	if (w == 0 || h == 0)
		return PHOTO_CORRUPT;
	if ((uint64_t)w * h > PHOTO_MAX_PIXELS)
		return PHOTO_TOO_MANY_PIXELS;
	if (w < PHOTO_MIN_SIDE || h < PHOTO_MIN_SIDE)
		return PHOTO_TOO_SMALL;

	err = png_filter(data, len, &png, &png_len, &trns);
	if (err != PHOTO_OK)
		return err;
	err = PHOTO_CORRUPT;
	ctx = spng_ctx_new(0);
	if (!ctx) {
		err = PHOTO_NO_MEMORY;
		goto out;
	}
	if ((e = spng_set_image_limits(ctx, PNG_MAX_SIDE, PNG_MAX_SIDE)) ||
	    (e = spng_set_chunk_limits(ctx, PNG_CHUNK_LIMIT, PNG_CACHE_LIMIT)) ||
	    (e = spng_set_png_buffer(ctx, png, png_len)) ||
	    (e = spng_get_ihdr(ctx, &ihdr))) {
		err = png_error(e);
		goto out;
	}
	if (ihdr.width != w || ihdr.height != h)
		goto out;

	/* Decode to RGBA only if there is transparency to flatten. */
	int alpha = trns || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
		    ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
	const int sfmt = alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
	const enum pix fmt = alpha ? PIX_RGBA : PIX_RGB;
	const size_t bpp = pix_size(fmt);
	size_t rowlen = (size_t)w * bpp, image;
	if ((e = spng_decoded_image_size(ctx, sfmt, &image))) {
		err = png_error(e);
		goto out;
	}
	if (image / h != rowlen)
		goto out;
	if (resampler_init(&r, (int)w, (int)h) < 0) {
		err = PHOTO_NO_MEMORY;
		goto out;
	}
	have_r = 1;

	const int lo = r.h.lo, vlo = r.v.lo, vhi = r.v.hi;
	const size_t rw = resampler_row_width(&r);
	row = malloc(rowlen);
	rgb = malloc(rw * 3);
	if (!row || !rgb) {
		err = PHOTO_NO_MEMORY;
		goto out;
	}
	/* Interlaced rows come back several times, a pass at a time: keep the
	 * rows the crop needs, as spng fills them in, until the end. */
	if (ihdr.interlace_method) {
		size_t n = (size_t)(vhi - vlo + 1);
		if (n > SIZE_MAX / rowlen) {
			err = PHOTO_TOO_MANY_PIXELS;
			goto out;
		}
		keep = calloc(n, rowlen);
		if (!keep) {
			err = PHOTO_NO_MEMORY;
			goto out;
		}
	}

	e = spng_decode_image(ctx, NULL, 0, sfmt,
			      SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
	if (e) {
		err = png_error(e);
		goto out;
	}
	do {
		struct spng_row_info ri;
		if ((e = spng_get_row_info(ctx, &ri)))
			break;
		int y = (int)ri.row_num;
		int in_crop = y >= vlo && y <= vhi && ri.row_num < h;
		uint8_t *dst = keep && in_crop ? keep + (size_t)(y - vlo) * rowlen : row;
		e = spng_decode_row(ctx, dst, rowlen);
		if ((e == 0 || e == SPNG_EOI) && !keep && in_crop) {
			pixels_to_rgb(row + (size_t)lo * bpp, (ptrdiff_t)bpp, fmt, rw, rgb);
			resampler_push(&r, y, rgb);
		}
	} while (e == 0);
	if (e != SPNG_EOI) {
		err = png_error(e);
		goto out;
	}
	if (keep) {
		for (int y = vlo; y <= vhi; y++) {
			pixels_to_rgb(keep + (size_t)(y - vlo) * rowlen + (size_t)lo * bpp,
				      (ptrdiff_t)bpp, fmt, rw, rgb);
			resampler_push(&r, y, rgb);
		}
	}
	resampler_finish(&r, ret_rgb);
	err = PHOTO_OK;
out:
	if (have_r)
		resampler_free(&r);
	free(keep);
	free(rgb);
	free(row);
	if (ctx)
		spng_ctx_free(ctx);
	free(png);
	return err;
}

/* ---- Output ----------------------------------------------------------- */

/* Copy a JPEG that TurboJPEG just wrote, leaving out every APPn (JFIF
 * included) and COM segment. out has room for len bytes. Returns 0 and
 * the new length, or -1 if the stream is not as expected. */
static int strip_metadata(const uint8_t *in, size_t len, uint8_t *out, size_t *ret_len)
{
	size_t pos = 2, o = 2;

	if (len < 4 || in[0] != 0xFF || in[1] != 0xD8)
		return -1;
	out[0] = 0xFF;
	out[1] = 0xD8;
	for (;;) {
		if (len - pos < 4 || in[pos] != 0xFF)
			return -1;
		uint8_t marker = in[pos + 1];
		size_t seg = (size_t)in[pos + 2] << 8 | in[pos + 3];
		if (seg < 2 || seg > len - pos - 2)
			return -1;
		if (marker == 0xDA) {   /* SOS: the rest is image data */
			memcpy(out + o, in + pos, len - pos);
			o += len - pos;
			break;
		}
		if (!((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE)) {
			memcpy(out + o, in + pos, 2 + seg);
			o += 2 + seg;
		}
		pos += 2 + seg;
	}
	*ret_len = o;
	return 0;
}

static enum photo_error encode_jpeg(const uint8_t *rgb, uint8_t **ret_jpeg, size_t *ret_len)
{
	static const int qualities[] = { 80, 70, 60, 50 };
	const unsigned long cap = tjBufSize(PHOTO_WIDTH, PHOTO_HEIGHT, TJSAMP_420);
	enum photo_error err = PHOTO_NO_MEMORY;
	tjhandle tj = NULL;
	unsigned char *jpeg = NULL;
	unsigned long size = 0;
	uint8_t *out = NULL;
	size_t out_len;

	/* jpeg is from tjAlloc() (tjFree() below), the worst-case size, so
	 * TurboJPEG never has to grow it (TJFLAG_NOREALLOC). */
	if (cap == (unsigned long)-1 || cap > INT_MAX)
		return PHOTO_NO_MEMORY;
	tj = tjInitCompress();
	jpeg = tjAlloc((int)cap);
	if (!tj || !jpeg)
		goto out;
	for (size_t i = 0; i < sizeof qualities / sizeof qualities[0]; i++) {
		size = cap;
		if (tjCompress2(tj, rgb, PHOTO_WIDTH, 0, PHOTO_HEIGHT, TJPF_RGB,
				&jpeg, &size, TJSAMP_420, qualities[i],
				TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC) < 0)
			goto out;
		if (size <= PHOTO_TARGET_BYTES)
			break;
	}
	out = malloc(size);
	if (!out)
		goto out;
	if (strip_metadata(jpeg, size, out, &out_len) < 0) {
		free(out);
		goto out;
	}
	*ret_jpeg = out;
	*ret_len = out_len;
	err = PHOTO_OK;
out:
	tjFree(jpeg);
	if (tj)
		tjDestroy(tj);
	return err;
}

/* ---- Entry points ----------------------------------------------------- */

enum photo_error photo_normalize(const uint8_t *data, size_t len,
		uint8_t **ret_jpeg, size_t *ret_len)
{
	enum photo_error err;
	uint8_t *rgb;

	if (!data || len == 0)
		return PHOTO_EMPTY;
	if (len > PHOTO_MAX_BYTES)
		return PHOTO_TOO_LARGE;
	if (!ret_jpeg || !ret_len)
		return PHOTO_NO_MEMORY;

	int is_jpeg = len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
	int is_png = len >= sizeof png_magic && memcmp(data, png_magic, sizeof png_magic) == 0;
	if (!is_jpeg && !is_png)
		return PHOTO_NOT_IMAGE;

	rgb = malloc((size_t)PHOTO_WIDTH * PHOTO_HEIGHT * 3);
	if (!rgb)
		return PHOTO_NO_MEMORY;
	err = is_jpeg ? decode_jpeg(data, len, rgb) : decode_png(data, len, rgb);
	if (err == PHOTO_OK)
		err = encode_jpeg(rgb, ret_jpeg, ret_len);
	free(rgb);
	return err;
}

const char *photo_error_message(enum photo_error e)
{
	switch (e) {
	case PHOTO_OK:
		return "the photo was accepted";
	case PHOTO_EMPTY:
		return "no photo was uploaded";
	case PHOTO_TOO_LARGE:
		return "the photo file is larger than 8 MB";
	case PHOTO_NOT_IMAGE:
		return "the photo is not a JPEG or PNG image";
	case PHOTO_CORRUPT:
		return "the photo file is damaged or incomplete";
	case PHOTO_TOO_MANY_PIXELS:
		return "the photo has more than 50 million pixels";
	case PHOTO_TOO_SMALL:
		return "the photo is too small: it needs at least 100 by 100 pixels";
	case PHOTO_NO_MEMORY:
		return "the server could not process the photo right now; please try again";
	}
	return "the photo could not be processed";
}

const char *photo_error_code(enum photo_error e)
{
	switch (e) {
	case PHOTO_OK:
		return "ok";
	case PHOTO_EMPTY:
		return "photo_empty";
	case PHOTO_TOO_LARGE:
		return "photo_too_large";
	case PHOTO_NOT_IMAGE:
		return "photo_not_image";
	case PHOTO_CORRUPT:
		return "photo_corrupt";
	case PHOTO_TOO_MANY_PIXELS:
		return "photo_too_many_pixels";
	case PHOTO_TOO_SMALL:
		return "photo_too_small";
	case PHOTO_NO_MEMORY:
		return "photo_no_memory";
	}
	return "photo_error";
}
