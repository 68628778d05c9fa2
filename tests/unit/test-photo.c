/* test-photo.c — photo_normalize: the happy paths, EXIF handling, and the
 * hostile inputs it must refuse. Every test image is made here (gradients
 * and flat colours, encoded with TurboJPEG or spng) except those in
 * tests/data/photos/ (run from the repository root): cmyk-red.jpg, an
 * ImageMagick CMYK JPEG of a red field, and scans-64.jpg / scans-379.jpg,
 * flat grey progressive JPEGs written by libjpeg with custom scan scripts. */
#include "photo.h"
#include "check.h"

#include <spng.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* Under AddressSanitizer, any allocation above 64 MB is a crash: a header
 * claiming a huge image must be refused before anything that size is
 * asked for. (Ignored in builds without ASan.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=64:allocator_may_return_null=0";
}

/* ---- Helpers: making images ------------------------------------------- */

/* An RGB image: a flat colour, or a gradient when rgb is NULL. From
 * malloc(), caller frees. */
static uint8_t *make_rgb(int w, int h, const uint8_t *rgb)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;
			if (rgb) {
				memcpy(p, rgb, 3);
			} else {
				p[0] = (uint8_t)(x * 255 / w);
				p[1] = (uint8_t)(y * 255 / h);
				p[2] = (uint8_t)((x + y) * 127 / (w + h));
			}
		}
	return px;
}

/* JPEG from pixels (pf: TJPF_RGB, TJPF_GRAY or TJPF_CMYK). From malloc(). */
static uint8_t *make_jpeg_pf(const uint8_t *px, int w, int h, int pf, int samp,
		size_t *ret_len)
{
	tjhandle tj = tjInitCompress();
	unsigned char *buf = NULL;
	unsigned long size = 0;
	uint8_t *out = NULL;
	*ret_len = 0;
	if (tjCompress2(tj, px, w, 0, h, pf, &buf, &size, samp, 90, 0) == 0) {
		out = malloc(size);
		memcpy(out, buf, size);
		*ret_len = size;
	}
	tjFree(buf);
	tjDestroy(tj);
	return out;
}

static uint8_t *make_jpeg(int w, int h, const uint8_t *rgb, size_t *ret_len)
{
	uint8_t *px = make_rgb(w, h, rgb);
	uint8_t *j = make_jpeg_pf(px, w, h, TJPF_RGB, TJSAMP_420, ret_len);
	free(px);
	return j;
}

/* A JPEG whose left half is red and right half blue. */
static uint8_t *make_red_blue_jpeg(int w, int h, size_t *ret_len)
{
	static const uint8_t red[3] = { 255, 0, 0 }, blue[3] = { 0, 0, 255 };
	uint8_t *px = make_rgb(w, h, red);
	for (int y = 0; y < h; y++)
		for (int x = w / 2; x < w; x++)
			memcpy(px + ((size_t)y * w + x) * 3, blue, 3);
	uint8_t *j = make_jpeg_pf(px, w, h, TJPF_RGB, TJSAMP_444, ret_len);
	free(px);
	return j;
}

/* PNG from raw samples in the PNG's own layout (16-bit samples in host
 * order). plte may be NULL. From spng (malloc()), caller frees. */
static uint8_t *make_png(const void *px, size_t pxlen, int w, int h, int color,
		int depth, int interlace, const struct spng_plte *plte,
		const struct spng_trns *trns, size_t *ret_len)
{
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = {
		.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = (uint8_t)depth,
		.color_type = (uint8_t)color, .interlace_method = (uint8_t)interlace,
	};
	int err = 0;
	uint8_t *out = NULL;
	*ret_len = 0;
	spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	spng_set_ihdr(ctx, &ihdr);
	if (plte)
		spng_set_plte(ctx, (struct spng_plte *)plte);
	if (trns)
		spng_set_trns(ctx, (struct spng_trns *)trns);
	if (spng_encode_image(ctx, px, pxlen, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE) == 0)
		out = spng_get_png_buffer(ctx, ret_len, &err);
	spng_ctx_free(ctx);
	return err ? NULL : out;
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return c ^ 0xFFFFFFFFu;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A copy of a PNG with one more chunk right after IHDR. From malloc(). */
static uint8_t *png_add_chunk(const uint8_t *png, size_t len, const char type[4],
		const uint8_t *data, size_t dlen, size_t *ret_len)
{
	size_t at = 8 + 8 + 13 + 4;
	*ret_len = 0;
	if (!png || len < at)
		return NULL;
	uint8_t *out = malloc(len + 12 + dlen);
	memcpy(out, png, at);
	put_be32(out + at, (uint32_t)dlen);
	memcpy(out + at + 4, type, 4);
	if (dlen)
		memcpy(out + at + 8, data, dlen);
	put_be32(out + at + 8 + dlen, crc32_png(out + at + 4, 4 + dlen));
	memcpy(out + at + 12 + dlen, png + at, len - at);
	*ret_len = len + 12 + dlen;
	return out;
}

/* A copy of a JPEG with one more segment right after SOI. From malloc(). */
static uint8_t *jpeg_add_segment(const uint8_t *jpeg, size_t len, uint8_t marker,
		const uint8_t *data, size_t dlen, size_t *ret_len)
{
	*ret_len = 0;
	if (!jpeg || len < 2)
		return NULL;
	uint8_t *out = malloc(len + 4 + dlen);
	out[0] = 0xFF;
	out[1] = 0xD8;
	out[2] = 0xFF;
	out[3] = marker;
	out[4] = (uint8_t)((dlen + 2) >> 8);
	out[5] = (uint8_t)(dlen + 2);
	memcpy(out + 6, data, dlen);
	memcpy(out + 6 + dlen, jpeg + 2, len - 2);
	*ret_len = len + 4 + dlen;
	return out;
}

/* An EXIF APP1 payload, little- or big-endian: IFD0 holds Make, the
 * orientation (if o > 0) and a pointer to a GPS IFD full of recognisable
 * bytes. Returns its length; buf has room for 256. */
#define GPS_SECRET "CIVICARD-GPS-SECRET-52.5200N"
static size_t make_exif(uint8_t *buf, int o, int big)
{
	uint8_t *t = buf + 6;
	size_t n = 0;
	memset(buf, 0, 256);
	memcpy(buf, "Exif\0\0", 6);
#define P16(at, v) do { uint16_t v_ = (uint16_t)(v); if (big) { t[at] = (uint8_t)(v_ >> 8); t[(at) + 1] = (uint8_t)v_; } \
	else { t[at] = (uint8_t)v_; t[(at) + 1] = (uint8_t)(v_ >> 8); } } while (0)
#define P32(at, v) do { uint32_t w_ = (uint32_t)(v); if (big) { P16(at, w_ >> 16); P16((at) + 2, w_); } \
	else { P16(at, w_); P16((at) + 2, w_ >> 16); } } while (0)
	t[0] = t[1] = big ? 'M' : 'I';
	P16(2, 42);
	P32(4, 8);
	int entries = o > 0 ? 3 : 2, e = 10;
	P16(8, entries);
	size_t data_at = 10 + 12 * (size_t)entries + 4;     /* after next-IFD 0 */
	/* Make: ASCII, stored out of line. */
	P16(e, 0x010F); P16(e + 2, 2); P32(e + 4, 17); P32(e + 8, data_at);
	memcpy(t + data_at, "CivicardTestCam!", 17);
	data_at += 18;
	e += 12;
	if (o > 0) {
		P16(e, 0x0112); P16(e + 2, 3); P32(e + 4, 1); P16(e + 8, o);
		e += 12;
	}
	/* GPS IFD pointer. */
	P16(e, 0x8825); P16(e + 2, 4); P32(e + 4, 1); P32(e + 8, data_at);
	size_t gps = data_at;
	P16(gps, 2);
	/* GPSLatitudeRef 'N'; GPSAreaInformation with the secret. */
	P16(gps + 2, 0x0001); P16(gps + 4, 2); P32(gps + 6, 2); t[gps + 10] = 'N';
	P16(gps + 14, 0x001C); P16(gps + 16, 7); P32(gps + 18, sizeof GPS_SECRET);
	P32(gps + 22, gps + 30);
	memcpy(t + gps + 30, GPS_SECRET, sizeof GPS_SECRET);
	n = 6 + gps + 30 + sizeof GPS_SECRET;
#undef P16
#undef P32
	return n;
}

static int has_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

/* A file under tests/data/photos/, from malloc(); NULL if unreadable. */
static uint8_t *read_fixture(const char *name, size_t *ret_len)
{
	char path[256];
	snprintf(path, sizeof path, "tests/data/photos/%s", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(65536);
	size_t n = fread(buf, 1, 65536, f);
	fclose(f);
	*ret_len = n;
	return buf;
}

/* ---- Helpers: checking output ----------------------------------------- */

/* Decode the output; returns RGB pixels (malloc()) only if it is a
 * PHOTO_WIDTH × PHOTO_HEIGHT 4:2:0 JPEG. */
static uint8_t *decode_out(const uint8_t *jpeg, size_t len)
{
	tjhandle tj = tjInitDecompress();
	int w = 0, h = 0, samp = -1, cs = -1;
	uint8_t *px = NULL;
	if (tjDecompressHeader3(tj, jpeg, (unsigned long)len, &w, &h, &samp, &cs) == 0 &&
	    w == PHOTO_WIDTH && h == PHOTO_HEIGHT && samp == TJSAMP_420 && cs == TJCS_YCbCr) {
		px = malloc((size_t)w * h * 3);
		if (tjDecompress2(tj, jpeg, (unsigned long)len, px, w, 0, h, TJPF_RGB,
				  TJFLAG_STOPONWARNING) < 0) {
			free(px);
			px = NULL;
		}
	}
	tjDestroy(tj);
	return px;
}

/* Baseline, and nothing but DQT, SOF0, DHT, DRI before SOS. */
static int markers_clean(const uint8_t *j, size_t len)
{
	size_t pos = 2;
	int sof0 = 0;
	if (len < 4 || j[0] != 0xFF || j[1] != 0xD8)
		return 0;
	while (pos + 4 <= len && j[pos] == 0xFF) {
		uint8_t m = j[pos + 1];
		if (m == 0xDA)
			return sof0 && j[len - 2] == 0xFF && j[len - 1] == 0xD9;
		if (m == 0xC0)
			sof0 = 1;
		else if (m != 0xDB && m != 0xC4 && m != 0xDD)
			return 0;
		pos += 2 + ((size_t)j[pos + 2] << 8 | j[pos + 3]);
	}
	return 0;
}

/* Is the output pixel at (x, y) within tol of (r, g, b)? */
static int near(const uint8_t *px, int x, int y, int r, int g, int b, int tol)
{
	const uint8_t *p = px + ((size_t)y * PHOTO_WIDTH + x) * 3;
	int ok = abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
	if (!ok)
		fprintf(stderr, "  pixel (%d,%d) = %d,%d,%d, wanted %d,%d,%d\n",
			x, y, p[0], p[1], p[2], r, g, b);
	return ok;
}

/* Normalise; on PHOTO_OK check the output's shape and return its pixels
 * (malloc(), caller frees). */
static uint8_t *normalize_ok(const uint8_t *in, size_t len)
{
	uint8_t *out = NULL, *px = NULL;
	size_t out_len = 0;
	enum photo_error e = photo_normalize(in, len, &out, &out_len);
	CHECK(e == PHOTO_OK);
	if (e != PHOTO_OK) {
		fprintf(stderr, "  got %s\n", photo_error_code(e));
		return NULL;
	}
	CHECK(out != NULL && out_len > 0);
	CHECK(markers_clean(out, out_len));
	CHECK(out_len <= PHOTO_TARGET_BYTES);
	px = decode_out(out, out_len);
	CHECK(px != NULL);
	free(out);
	return px;
}

static enum photo_error normalize_err(const uint8_t *in, size_t len)
{
	uint8_t *out = (uint8_t *)"untouched";
	size_t out_len = 12345;
	enum photo_error e = photo_normalize(in, len, &out, &out_len);
	if (e != PHOTO_OK) {
		CHECK(out_len == 12345);
		CHECK_STR((const char *)out, "untouched");
	} else {
		free(out);
	}
	return e;
}

/* ---- Tests ------------------------------------------------------------ */

TEST(valid_jpeg_becomes_240x300_baseline)
{
	size_t len;
	uint8_t *j = make_jpeg(640, 480, NULL, &len);
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK(photo_normalize(j, len, &out, &out_len) == PHOTO_OK);
	CHECK(markers_clean(out, out_len));
	/* No JFIF either: not a single APPn. */
	CHECK(!has_bytes(out, out_len, "JFIF", 4));
	uint8_t *px = decode_out(out, out_len);
	CHECK(px != NULL);
	/* The gradient runs left to right in red: the crop keeps its middle. */
	if (px)
		CHECK(px[3 * 5] < px[3 * (PHOTO_WIDTH - 5)]);
	free(px);
	free(out);
	free(j);
}

TEST(exif_with_gps_is_not_copied)
{
	for (int big = 0; big <= 1; big++) {
		size_t len, len2;
		uint8_t exif[256];
		uint8_t *j = make_jpeg(400, 500, NULL, &len);
		size_t n = make_exif(exif, 1, big);
		uint8_t *in = jpeg_add_segment(j, len, 0xE1, exif, n, &len2);
		CHECK(has_bytes(in, len2, GPS_SECRET, strlen(GPS_SECRET)));
		uint8_t *out = NULL;
		size_t out_len = 0;
		CHECK(photo_normalize(in, len2, &out, &out_len) == PHOTO_OK);
		if (out) {
			CHECK(!has_bytes(out, out_len, "Exif", 4));
			CHECK(!has_bytes(out, out_len, "\xFF\xE1", 2));
			CHECK(!has_bytes(out, out_len, "GPS", 3));
			CHECK(!has_bytes(out, out_len, GPS_SECRET, strlen(GPS_SECRET)));
			CHECK(!has_bytes(out, out_len, "CivicardTestCam", 15));
			CHECK(markers_clean(out, out_len));
		}
		free(out);
		free(in);
		free(j);
	}
}

TEST(comment_and_icc_are_not_copied)
{
	size_t len, len2, len3;
	uint8_t *j = make_jpeg(300, 300, NULL, &len);
	static const uint8_t com[] = "secret comment 4711";
	uint8_t icc[64] = "ICC_PROFILE\0\1\1secret-icc-bytes";
	uint8_t *a = jpeg_add_segment(j, len, 0xFE, com, sizeof com, &len2);
	uint8_t *b = jpeg_add_segment(a, len2, 0xE2, icc, sizeof icc, &len3);
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK(photo_normalize(b, len3, &out, &out_len) == PHOTO_OK);
	if (out) {
		CHECK(!has_bytes(out, out_len, "secret", 6));
		CHECK(!has_bytes(out, out_len, "ICC_PROFILE", 11));
		CHECK(markers_clean(out, out_len));
	}
	free(out);
	free(b);
	free(a);
	free(j);
}

/* Stored 400 × 200, left half red, right half blue. */
static uint8_t *oriented(int o, int big)
{
	size_t len, len2;
	uint8_t exif[256];
	uint8_t *j = make_red_blue_jpeg(400, 200, &len);
	size_t n = make_exif(exif, o, big);
	uint8_t *in = jpeg_add_segment(j, len, 0xE1, exif, n, &len2);
	uint8_t *px = normalize_ok(in, len2);
	free(in);
	free(j);
	return px;
}

TEST(exif_orientation_6_rotates_clockwise)
{
	/* Turned a quarter clockwise, the left (red) half is on top. */
	for (int big = 0; big <= 1; big++) {
		uint8_t *px = oriented(6, big);
		if (!px)
			continue;
		CHECK(near(px, 120, 30, 255, 0, 0, 40));
		CHECK(near(px, 20, 120, 255, 0, 0, 40));
		CHECK(near(px, 120, 270, 0, 0, 255, 40));
		CHECK(near(px, 220, 180, 0, 0, 255, 40));
		free(px);
	}
}

TEST(exif_orientation_8_rotates_counterclockwise)
{
	uint8_t *px = oriented(8, 0);
	if (px) {
		CHECK(near(px, 120, 30, 0, 0, 255, 40));
		CHECK(near(px, 120, 270, 255, 0, 0, 40));
		free(px);
	}
}

TEST(exif_orientations_1_2_3)
{
	uint8_t *px = oriented(1, 0);       /* landscape: the crop keeps both halves */
	if (px) {
		CHECK(near(px, 20, 150, 255, 0, 0, 40));
		CHECK(near(px, 220, 150, 0, 0, 255, 40));
		free(px);
	}
	px = oriented(0, 0);                /* EXIF without orientation */
	if (px) {
		CHECK(near(px, 20, 150, 255, 0, 0, 40));
		free(px);
	}
	px = oriented(2, 0);                /* mirrored */
	if (px) {
		CHECK(near(px, 20, 150, 0, 0, 255, 40));
		CHECK(near(px, 220, 150, 255, 0, 0, 40));
		free(px);
	}
	px = oriented(3, 1);                /* upside down */
	if (px) {
		CHECK(near(px, 20, 150, 0, 0, 255, 40));
		free(px);
	}
}

TEST(malformed_exif_is_ignored)
{
	size_t len, len2;
	uint8_t *j = make_red_blue_jpeg(400, 200, &len);
	uint8_t exif[256];
	size_t n = make_exif(exif, 6, 0);
	/* IFD0 offset far past the end; then an entry count far too large. */
	uint8_t bad1[256], bad2[256];
	memcpy(bad1, exif, n);
	bad1[10] = 0xF0; bad1[11] = 0xFF; bad1[12] = 0xFF; bad1[13] = 0x7F;
	memcpy(bad2, exif, n);
	bad2[14] = 0xFF; bad2[15] = 0xFF;
	const uint8_t *cases[] = { bad1, bad2 };
	for (int i = 0; i < 2; i++) {
		uint8_t *in = jpeg_add_segment(j, len, 0xE1, cases[i], n, &len2);
		uint8_t *px = normalize_ok(in, len2);
		free(px);
		free(in);
	}
	/* An EXIF block cut short in the middle of the orientation entry. */
	uint8_t *in = jpeg_add_segment(j, len, 0xE1, exif, 6 + 10 + 12 + 6, &len2);
	free(normalize_ok(in, len2));
	free(in);
	free(j);
}

TEST(truncated_jpeg_is_corrupt)
{
	size_t len;
	uint8_t *j = make_jpeg(640, 480, NULL, &len);
	CHECK(normalize_err(j, len / 2) == PHOTO_CORRUPT);
	CHECK(normalize_err(j, len * 9 / 10) == PHOTO_CORRUPT);
	CHECK(normalize_err(j, len - 2) == PHOTO_CORRUPT);     /* no EOI */
	CHECK(normalize_err(j, 200) == PHOTO_CORRUPT);         /* headers only */
	CHECK(normalize_err(j, 3) == PHOTO_CORRUPT);
	free(j);
}

TEST(corrupt_data_is_refused)
{
	size_t len;
	uint8_t *j = make_jpeg(640, 480, NULL, &len);
	/* Scribble over the entropy-coded data. */
	for (size_t i = len / 3; i < len / 3 + 64; i++)
		j[i] = (uint8_t)(i * 37);
	CHECK(normalize_err(j, len) == PHOTO_CORRUPT);
	free(j);

	/* A tables-only stream: SOI, the DQT segments, EOI. TurboJPEG reads
	 * its "header" successfully without giving a size. */
	j = make_jpeg(200, 200, NULL, &len);
	uint8_t tables[1024];
	size_t tl = 2, pos = 2;
	tables[0] = 0xFF;
	tables[1] = 0xD8;
	while (pos + 4 < len && j[pos] == 0xFF && j[pos + 1] != 0xDA) {
		size_t seg = 2 + ((size_t)j[pos + 2] << 8 | j[pos + 3]);
		if (j[pos + 1] == 0xDB && tl + seg + 2 < sizeof tables) {
			memcpy(tables + tl, j + pos, seg);
			tl += seg;
		}
		pos += seg;
	}
	tables[tl++] = 0xFF;
	tables[tl++] = 0xD9;
	CHECK(tl > 4 + 67);
	CHECK(normalize_err(tables, tl) == PHOTO_CORRUPT);
	free(j);

	static const uint8_t jpeg_junk[] = { 0xFF, 0xD8, 0xFF, 0x00, 0x01, 0x02, 0x03 };
	CHECK(normalize_err(jpeg_junk, sizeof jpeg_junk) == PHOTO_CORRUPT);
	static const uint8_t png_junk[] = "\x89PNG\r\n\x1a\n"
		"\0\0\0\rIHDR\0\0\1\0\0\0\1\0\x08\x02\0\0\0garbagegarbagegarbage";
	CHECK(normalize_err(png_junk, sizeof png_junk) == PHOTO_CORRUPT);
}

TEST(random_bytes_are_not_an_image)
{
	uint8_t buf[4096];
	uint32_t s = 12345;
	for (size_t i = 0; i < sizeof buf; i++) {
		s = s * 1103515245u + 12345u;
		buf[i] = (uint8_t)(s >> 16);
	}
	buf[0] = 0x42;
	CHECK(normalize_err(buf, sizeof buf) == PHOTO_NOT_IMAGE);
	CHECK(normalize_err((const uint8_t *)"GIF89a......", 12) == PHOTO_NOT_IMAGE);
	CHECK(normalize_err((const uint8_t *)"<svg xmlns=", 11) == PHOTO_NOT_IMAGE);
	CHECK(normalize_err((const uint8_t *)"\xFF\xD8", 2) == PHOTO_NOT_IMAGE);
}

/* A real PNG of w × h, RGB 8-bit, made by spng. */
static uint8_t *make_png_rgb(int w, int h, const uint8_t *rgb, int interlace, size_t *ret_len)
{
	uint8_t *px = make_rgb(w, h, rgb);
	uint8_t *png = make_png(px, (size_t)w * h * 3, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 8,
				interlace, NULL, NULL, ret_len);
	free(px);
	return png;
}

TEST(png_header_claiming_100000_squared_is_refused_before_allocating)
{
	size_t len;
	uint8_t *png = make_png_rgb(120, 150, NULL, 0, &len);
	CHECK(png != NULL);
	if (!png)
		return;
	/* Patch IHDR to 100000 × 100000 with a correct CRC: 30 GB of RGB. */
	put_be32(png + 16, 100000);
	put_be32(png + 20, 100000);
	put_be32(png + 29, crc32_png(png + 12, 17));
	CHECK(normalize_err(png, len) == PHOTO_TOO_MANY_PIXELS);
	/* Just over the limit: 7072 × 7071 > 50 million. */
	put_be32(png + 16, 7072);
	put_be32(png + 20, 7071);
	put_be32(png + 29, crc32_png(png + 12, 17));
	CHECK(normalize_err(png, len) == PHOTO_TOO_MANY_PIXELS);
	/* The largest width spng could ever be asked for. */
	put_be32(png + 16, 0x7FFFFFFF);
	put_be32(png + 20, 0x7FFFFFFF);
	put_be32(png + 29, crc32_png(png + 12, 17));
	CHECK(normalize_err(png, len) == PHOTO_TOO_MANY_PIXELS);
	free(png);
}

TEST(jpeg_header_claiming_65000_squared_is_refused)
{
	size_t len;
	uint8_t *j = make_jpeg(200, 200, NULL, &len);
	/* Find SOF0 and patch height and width. */
	for (size_t i = 2; i + 9 < len; i++) {
		if (j[i] == 0xFF && j[i + 1] == 0xC0) {
			j[i + 5] = 0xFD; j[i + 6] = 0xE8;       /* 65000 */
			j[i + 7] = 0xFD; j[i + 8] = 0xE8;
			break;
		}
	}
	CHECK(normalize_err(j, len) == PHOTO_TOO_MANY_PIXELS);
	free(j);
}

TEST(too_small_is_refused_and_100_is_enough)
{
	size_t len;
	uint8_t *j = make_jpeg(80, 80, NULL, &len);
	CHECK(normalize_err(j, len) == PHOTO_TOO_SMALL);
	free(j);
	j = make_jpeg(99, 400, NULL, &len);
	CHECK(normalize_err(j, len) == PHOTO_TOO_SMALL);
	free(j);
	uint8_t *png = make_png_rgb(400, 99, NULL, 0, &len);
	CHECK(normalize_err(png, len) == PHOTO_TOO_SMALL);
	free(png);

	/* The smallest accepted images are scaled up. */
	static const uint8_t green[3] = { 0, 160, 0 };
	j = make_jpeg(100, 100, green, &len);
	uint8_t *px = normalize_ok(j, len);
	if (px)
		CHECK(near(px, 120, 150, 0, 160, 0, 20));
	free(px);
	free(j);
	png = make_png_rgb(100, 125, green, 0, &len);
	px = normalize_ok(png, len);
	if (px) {
		CHECK(near(px, 0, 0, 0, 160, 0, 20));
		CHECK(near(px, 239, 299, 0, 160, 0, 20));
	}
	free(px);
	free(png);
}

TEST(extreme_aspect_ratios)
{
	size_t len;
	uint8_t *j = make_jpeg(6000, 100, NULL, &len);
	free(normalize_ok(j, len));
	free(j);
	j = make_jpeg(100, 6000, NULL, &len);
	free(normalize_ok(j, len));
	free(j);
	uint8_t *png = make_png_rgb(100, 20000, NULL, 1, &len);
	free(normalize_ok(png, len));
	free(png);
}

TEST(empty_and_too_large)
{
	CHECK(normalize_err(NULL, 0) == PHOTO_EMPTY);
	CHECK(normalize_err((const uint8_t *)"", 0) == PHOTO_EMPTY);
	CHECK(normalize_err(NULL, 10) == PHOTO_EMPTY);
	uint8_t *big = calloc(1, PHOTO_MAX_BYTES + 1);
	big[0] = 0xFF; big[1] = 0xD8; big[2] = 0xFF;
	CHECK(normalize_err(big, PHOTO_MAX_BYTES + 1) == PHOTO_TOO_LARGE);
	free(big);
}

TEST(png_with_alpha_is_flattened_onto_white)
{
	/* Left half opaque black; right half fully transparent red. */
	int w = 300, h = 300;
	uint8_t *px = malloc((size_t)w * h * 4);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 4;
			int left = x < w / 2;
			p[0] = left ? 0 : 255;
			p[1] = p[2] = 0;
			p[3] = left ? 255 : 0;
		}
	for (int interlace = 0; interlace <= 1; interlace++) {
		size_t len;
		uint8_t *png = make_png(px, (size_t)w * h * 4, w, h,
					SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, interlace,
					NULL, NULL, &len);
		uint8_t *out = normalize_ok(png, len);
		if (out) {
			CHECK(near(out, 20, 150, 0, 0, 0, 20));
			CHECK(near(out, 220, 150, 255, 255, 255, 20));
		}
		free(out);
		free(png);
	}
	free(px);
}

TEST(png_colour_types_and_depths)
{
	const int w = 260, h = 320;
	size_t len;

	/* 16-bit RGB, interlaced: a mid grey. */
	uint16_t *p16 = malloc((size_t)w * h * 3 * 2);
	for (size_t i = 0; i < (size_t)w * h * 3; i++)
		p16[i] = 0x8080;
	uint8_t *png = make_png(p16, (size_t)w * h * 6, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 16,
				1, NULL, NULL, &len);
	uint8_t *out = normalize_ok(png, len);
	if (out)
		CHECK(near(out, 100, 100, 128, 128, 128, 6));
	free(out);
	free(png);
	free(p16);

	/* 1-bit grayscale: white. */
	size_t row = (size_t)(w + 7) / 8;
	uint8_t *p1 = malloc(row * h);
	memset(p1, 0xFF, row * h);
	png = make_png(p1, row * h, w, h, SPNG_COLOR_TYPE_GRAYSCALE, 1, 0, NULL, NULL, &len);
	out = normalize_ok(png, len);
	if (out)
		CHECK(near(out, 100, 100, 255, 255, 255, 4));
	free(out);
	free(png);
	free(p1);

	/* 8-bit palette with tRNS: index 1 opaque green, index 0 transparent. */
	struct spng_plte plte = { .n_entries = 2 };
	plte.entries[0] = (struct spng_plte_entry){ 200, 0, 0, 255 };
	plte.entries[1] = (struct spng_plte_entry){ 0, 150, 0, 255 };
	struct spng_trns trns = { .n_type3_entries = 1 };
	trns.type3_alpha[0] = 0;
	uint8_t *pi = malloc((size_t)w * h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			pi[(size_t)y * w + x] = y < h / 2;
	png = make_png(pi, (size_t)w * h, w, h, SPNG_COLOR_TYPE_INDEXED, 8, 0, &plte, &trns, &len);
	out = normalize_ok(png, len);
	if (out) {
		CHECK(near(out, 120, 30, 0, 150, 0, 20));
		CHECK(near(out, 120, 270, 255, 255, 255, 20));  /* transparent: white, not red */
	}
	free(out);
	free(png);
	free(pi);

	/* 16-bit gray + alpha, interlaced: half-transparent black gives grey. */
	uint16_t *ga = malloc((size_t)w * h * 4);
	for (size_t i = 0; i < (size_t)w * h; i++) {
		ga[2 * i] = 0;
		ga[2 * i + 1] = 0x8000;
	}
	png = make_png(ga, (size_t)w * h * 4, w, h, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 16, 1,
		       NULL, NULL, &len);
	out = normalize_ok(png, len);
	if (out)
		CHECK(near(out, 120, 150, 127, 127, 127, 8));
	free(out);
	free(png);
	free(ga);
}

TEST(png_with_huge_text_chunks_is_bounded)
{
	size_t len, len2, len3;
	uint8_t *png = make_png_rgb(300, 300, NULL, 0, &len);
	/* 3 MB of tEXt: more than any ancillary chunk is allowed to be. */
	size_t n = 3u * 1024 * 1024;
	uint8_t *text = malloc(n);
	memset(text, 'A', n);
	memcpy(text, "Comment\0", 8);
	uint8_t *in = png_add_chunk(png, len, "tEXt", text, n, &len2);
	/* Ancillary chunks never reach spng: the image is fine. */
	free(normalize_ok(in, len2));
	free(in);
	/* Many 500 KB ones: more than all of them are allowed to be together. */
	uint8_t *cur = malloc(len);
	memcpy(cur, png, len);
	len3 = len;
	for (int i = 0; i < 12; i++) {
		uint8_t *next = png_add_chunk(cur, len3, "tEXt", text, 500u * 1024, &len2);
		free(cur);
		cur = next;
		len3 = len2;
	}
	free(normalize_ok(cur, len3));
	free(cur);
	/* zTXt whose "compressed" text is junk, and an unknown ancillary
	 * chunk: both dropped unread. */
	in = png_add_chunk(png, len, "zTXt", (const uint8_t *)"Comment\0\0\x78\x9c\xff\xff\xff", 13, &len2);
	free(normalize_ok(in, len2));
	free(in);
	in = png_add_chunk(png, len, "quUx", text, 1000, &len2);
	free(normalize_ok(in, len2));
	free(in);
	/* An unknown critical chunk is refused, as the PNG spec asks. */
	in = png_add_chunk(png, len, "QUUX", text, 10, &len2);
	CHECK(normalize_err(in, len2) == PHOTO_CORRUPT);
	free(in);
	/* A kept chunk with a bad CRC is refused. */
	in = png_add_chunk(png, len, "tRNS", (const uint8_t *)"\0\0\0\0\0\0", 6, &len2);
	in[len2 - len - 1] ^= 1;
	CHECK(normalize_err(in, len2) == PHOTO_CORRUPT);
	free(in);
	/* A small one, as real files carry, is fine and not copied. */
	in = png_add_chunk(png, len, "tEXt", (const uint8_t *)"Author\0Secret Person", 20, &len2);
	uint8_t *out = NULL;
	size_t out_len;
	CHECK(photo_normalize(in, len2, &out, &out_len) == PHOTO_OK);
	if (out)
		CHECK(!has_bytes(out, out_len, "Secret", 6));
	free(out);
	free(in);
	free(text);
	free(png);
}

TEST(truncated_png_is_corrupt)
{
	size_t len;
	uint8_t *png = make_png_rgb(300, 300, NULL, 0, &len);
	CHECK(normalize_err(png, len / 2) == PHOTO_CORRUPT);
	CHECK(normalize_err(png, 40) == PHOTO_CORRUPT);
	CHECK(normalize_err(png, 20) == PHOTO_CORRUPT);
	/* No IEND. */
	CHECK(normalize_err(png, len - 12) == PHOTO_CORRUPT);
	/* A flipped bit anywhere in IDAT, even in its last bytes. */
	png[len / 2] ^= 0x10;
	CHECK(normalize_err(png, len) == PHOTO_CORRUPT);
	png[len / 2] ^= 0x10;
	png[len - 12 - 5] ^= 0x01;
	CHECK(normalize_err(png, len) == PHOTO_CORRUPT);
	png[len - 12 - 5] ^= 0x01;
	free(normalize_ok(png, len));
	free(png);
}

TEST(grayscale_and_cmyk_jpeg)
{
	size_t len;
	const int w = 300, h = 400;
	uint8_t *g = malloc((size_t)w * h);
	memset(g, 90, (size_t)w * h);
	uint8_t *j = make_jpeg_pf(g, w, h, TJPF_GRAY, TJSAMP_GRAY, &len);
	uint8_t *out = normalize_ok(j, len);
	if (out)
		CHECK(near(out, 120, 150, 90, 90, 90, 4));
	free(out);
	free(j);
	free(g);

	/* TurboJPEG writes YCCK with an Adobe marker; samples are stored the
	 * Adobe way (255 = no ink). Red: no cyan, full magenta and yellow. */
	uint8_t *c = malloc((size_t)w * h * 4);
	for (size_t i = 0; i < (size_t)w * h; i++) {
		c[4 * i] = 255;
		c[4 * i + 1] = 0;
		c[4 * i + 2] = 0;
		c[4 * i + 3] = 255;
	}
	j = make_jpeg_pf(c, w, h, TJPF_CMYK, TJSAMP_420, &len);
	out = normalize_ok(j, len);
	if (out)
		CHECK(near(out, 120, 150, 255, 0, 0, 30));
	free(out);
	free(j);
	free(c);

	/* An ImageMagick CMYK JPEG of a red field. */
	uint8_t *buf = read_fixture("cmyk-red.jpg", &len);
	CHECK(buf != NULL);
	if (buf) {
		out = normalize_ok(buf, len);
		if (out)
			CHECK(near(out, 120, 150, 255, 0, 0, 30));
		free(out);
	}
	free(buf);
}

TEST(progressive_jpeg_scan_limit)
{
	/* Both made with libjpeg's own scan scripts: 64 scans is accepted,
	 * 379 (a CPU bomb at 50 megapixels) is refused before decoding. */
	size_t len;
	uint8_t *buf = read_fixture("scans-64.jpg", &len);
	CHECK(buf != NULL);
	if (buf)
		free(normalize_ok(buf, len));
	free(buf);
	buf = read_fixture("scans-379.jpg", &len);
	CHECK(buf != NULL);
	if (buf)
		CHECK(normalize_err(buf, len) == PHOTO_CORRUPT);
	free(buf);

	/* TurboJPEG's own progressive output is fine. */
	uint8_t *px = make_rgb(500, 400, NULL);
	tjhandle tj = tjInitCompress();
	unsigned char *j = NULL;
	unsigned long size = 0;
	CHECK(tjCompress2(tj, px, 500, 0, 400, TJPF_RGB, &j, &size, TJSAMP_420, 85,
			  TJFLAG_PROGRESSIVE) == 0);
	free(normalize_ok(j, size));
	tjFree(j);
	tjDestroy(tj);
	free(px);
}

TEST(output_is_small_for_a_busy_image)
{
	/* Noise is the worst case for size: the quality steps down. */
	int w = 800, h = 1000;
	uint8_t *px = malloc((size_t)w * h * 3);
	uint32_t s = 1;
	for (size_t i = 0; i < (size_t)w * h * 3; i++) {
		s = s * 1664525u + 1013904223u;
		px[i] = (uint8_t)(s >> 24);
	}
	size_t len;
	uint8_t *j = make_jpeg_pf(px, w, h, TJPF_RGB, TJSAMP_444, &len);
	uint8_t *out = NULL;
	size_t out_len = 0;
	CHECK(photo_normalize(j, len, &out, &out_len) == PHOTO_OK);
	fprintf(stderr, "  noise: %zu bytes\n", out_len);
	free(out);
	free(j);
	free(px);
}

TEST(messages_and_codes)
{
	CHECK_STR(photo_error_code(PHOTO_CORRUPT), "photo_corrupt");
	CHECK_STR(photo_error_code(PHOTO_NOT_IMAGE), "photo_not_image");
	CHECK_STR(photo_error_message(PHOTO_NOT_IMAGE), "the photo is not a JPEG or PNG image");
	for (int e = PHOTO_OK; e <= PHOTO_NO_MEMORY + 1; e++) {
		CHECK(photo_error_code((enum photo_error)e) != NULL);
		CHECK(photo_error_message((enum photo_error)e) != NULL);
	}
	CHECK(photo_normalize((const uint8_t *)"\xFF\xD8\xFF", 3, NULL, NULL) == PHOTO_NO_MEMORY);
}

int main(void)
{
	RUN(valid_jpeg_becomes_240x300_baseline);
	RUN(exif_with_gps_is_not_copied);
	RUN(comment_and_icc_are_not_copied);
	RUN(exif_orientation_6_rotates_clockwise);
	RUN(exif_orientation_8_rotates_counterclockwise);
	RUN(exif_orientations_1_2_3);
	RUN(malformed_exif_is_ignored);
	RUN(truncated_jpeg_is_corrupt);
	RUN(corrupt_data_is_refused);
	RUN(random_bytes_are_not_an_image);
	RUN(png_header_claiming_100000_squared_is_refused_before_allocating);
	RUN(jpeg_header_claiming_65000_squared_is_refused);
	RUN(too_small_is_refused_and_100_is_enough);
	RUN(extreme_aspect_ratios);
	RUN(empty_and_too_large);
	RUN(png_with_alpha_is_flattened_onto_white);
	RUN(png_colour_types_and_depths);
	RUN(png_with_huge_text_chunks_is_bounded);
	RUN(truncated_png_is_corrupt);
	RUN(grayscale_and_cmyk_jpeg);
	RUN(progressive_jpeg_scan_limit);
	RUN(output_is_small_for_a_busy_image);
	RUN(messages_and_codes);
	return CHECK_DONE();
}
