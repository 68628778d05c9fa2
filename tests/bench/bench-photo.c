/* bench-photo.c — milliseconds per photo_normalize() call, and output size.
 *
 *   bench-photo [-n runs] [-t threads] [file...]
 *
 * With no files it makes its own inputs in memory: a 12-megapixel and a
 * 1-megapixel JPEG (quality 92, 4:2:0, like a phone's) of a smooth pattern
 * with fine noise, plus PNG versions. Realistic files can be made with
 * ImageMagick (too big to keep in the repository):
 *
 *   convert -size 4000x3000 plasma:fractal -quality 92 /tmp/in12.jpg
 *   convert -size 1155x866  plasma:fractal -quality 92 /tmp/in1.jpg
 *   convert -size 2000x1500 plasma:fractal -depth 8 /tmp/in3.png
 *
 * With -t N, N threads run the same inputs at once and every output is
 * compared with the single-threaded one (photo_normalize is meant to be
 * thread-safe). Also prints what making TurboJPEG handles per call costs. */
#include "photo.h"

#include <pthread.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

struct input {
	char name[64];
	uint8_t *data;          /* from malloc() */
	size_t len;
	uint8_t *ref;           /* from malloc(): the single-threaded output */
	size_t ref_len;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A smooth colour pattern with fine noise: a stand-in for a photo. */
static uint8_t *pattern(int w, int h)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	uint32_t s = 42;
	if (!px)
		return NULL;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;
			s = s * 1664525u + 1013904223u;
			int n = (int)(s >> 28) - 8;
			int cx = x - w / 2, cy = y - h / 3;
			int face = cx * cx / 4 + cy * cy < (h / 4) * (h / 4);
			p[0] = (uint8_t)(face ? 200 + n : (x * 160 / w) + 40 + n);
			p[1] = (uint8_t)(face ? 150 + n : (y * 160 / h) + 40 + n);
			p[2] = (uint8_t)(face ? 120 + n : ((x + y) * 100 / (w + h)) + 80 + n);
		}
	return px;
}

static int add_jpeg(struct input *in, int w, int h)
{
	uint8_t *px = pattern(w, h);
	tjhandle tj = tjInitCompress();
	unsigned char *buf = NULL;
	unsigned long size = 0;
	int ok = px && tj && tjCompress2(tj, px, w, 0, h, TJPF_RGB, &buf, &size,
					 TJSAMP_420, 92, 0) == 0;
	if (ok) {
		in->data = malloc(size);
		memcpy(in->data, buf, size);
		in->len = size;
		snprintf(in->name, sizeof in->name, "generated %dx%d JPEG", w, h);
	}
	tjFree(buf);
	if (tj)
		tjDestroy(tj);
	free(px);
	return ok ? 0 : -1;
}

static int add_png(struct input *in, int w, int h)
{
	uint8_t *px = pattern(w, h);
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = { .width = (uint32_t)w, .height = (uint32_t)h,
				  .bit_depth = 8, .color_type = SPNG_COLOR_TYPE_TRUECOLOR };
	int err = -1;
	if (px && ctx) {
		spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
		spng_set_ihdr(ctx, &ihdr);
		if (spng_encode_image(ctx, px, (size_t)w * h * 3, SPNG_FMT_PNG,
				      SPNG_ENCODE_FINALIZE) == 0)
			in->data = spng_get_png_buffer(ctx, &in->len, &err);
	}
	if (!err)
		snprintf(in->name, sizeof in->name, "generated %dx%d PNG", w, h);
	spng_ctx_free(ctx);
	free(px);
	return err ? -1 : 0;
}

static int add_file(struct input *in, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n;
	if (!f)
		return -1;
	in->data = malloc(cap);
	in->len = 0;
	while (in->data && (n = fread(in->data + in->len, 1, cap - in->len, f)) > 0) {
		in->len += n;
		if (in->len == cap) {
			uint8_t *p = realloc(in->data, cap *= 2);
			if (!p) {
				free(in->data);
				in->data = NULL;
			}
			in->data = p;
		}
	}
	fclose(f);
	const char *base = strrchr(path, '/');
	snprintf(in->name, sizeof in->name, "%s", base ? base + 1 : path);
	return in->data ? 0 : -1;
}

struct job {
	struct input *inputs;
	int n_inputs, runs, mismatches, failures;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	for (int r = 0; r < j->runs; r++)
		for (int i = 0; i < j->n_inputs; i++) {
			struct input *in = &j->inputs[i];
			uint8_t *out = NULL;
			size_t out_len = 0;
			if (photo_normalize(in->data, in->len, &out, &out_len) != PHOTO_OK) {
				j->failures++;
				continue;
			}
			if (out_len != in->ref_len || memcmp(out, in->ref, out_len) != 0)
				j->mismatches++;
			free(out);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	struct input inputs[16];
	int n = 0, runs = 20, threads = 0, status = 0;

	memset(inputs, 0, sizeof inputs);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			threads = atoi(argv[++i]);
		} else if (n < 16) {
			if (add_file(&inputs[n], argv[i]) < 0) {
				fprintf(stderr, "cannot read %s\n", argv[i]);
				return 1;
			}
			n++;
		}
	}
	if (runs < 1)
		runs = 1;
	if (n == 0) {
		if (add_jpeg(&inputs[n++], 4000, 3000) < 0 || add_jpeg(&inputs[n++], 1155, 866) < 0 ||
		    add_png(&inputs[n++], 2000, 1500) < 0 || add_png(&inputs[n++], 1155, 866) < 0) {
			fprintf(stderr, "cannot make the inputs\n");
			return 1;
		}
	}

	printf("%-34s %10s %10s %10s\n", "input", "in bytes", "ms/photo", "out bytes");
	for (int i = 0; i < n; i++) {
		struct input *in = &inputs[i];
		enum photo_error e = photo_normalize(in->data, in->len, &in->ref, &in->ref_len);
		if (e != PHOTO_OK) {
			printf("%-34s %10zu %s\n", in->name, in->len, photo_error_code(e));
			status = 1;
			continue;
		}
		double t0 = now_ms();
		for (int r = 0; r < runs; r++) {
			uint8_t *out;
			size_t out_len;
			if (photo_normalize(in->data, in->len, &out, &out_len) == PHOTO_OK)
				free(out);
		}
		double ms = (now_ms() - t0) / runs;
		printf("%-34s %10zu %10.2f %10zu\n", in->name, in->len, ms, in->ref_len);
	}

	/* What a handle per call costs. */
	double t0 = now_ms();
	for (int r = 0; r < 1000; r++) {
		tjhandle d = tjInitDecompress(), c = tjInitCompress();
		tjDestroy(d);
		tjDestroy(c);
	}
	printf("TurboJPEG decompress+compress handle create/destroy: %.1f us\n",
	       (now_ms() - t0) * 1000 / 1000);

	if (threads > 0 && status == 0) {
		pthread_t tid[64];
		struct job jobs[64];
		if (threads > 64)
			threads = 64;
		t0 = now_ms();
		for (int t = 0; t < threads; t++) {
			jobs[t] = (struct job){ inputs, n, runs, 0, 0 };
			pthread_create(&tid[t], NULL, worker, &jobs[t]);
		}
		int mismatches = 0, failures = 0;
		for (int t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			mismatches += jobs[t].mismatches;
			failures += jobs[t].failures;
		}
		double ms = now_ms() - t0;
		printf("%d threads: %d photos in %.0f ms (%.1f photos/s), %d failures, "
		       "%d outputs differing from single-threaded\n",
		       threads, threads * runs * n, ms, threads * runs * n * 1000.0 / ms,
		       failures, mismatches);
		if (mismatches || failures)
			status = 1;
	}
	for (int i = 0; i < n; i++) {
		free(inputs[i].data);
		free(inputs[i].ref);
	}
	return status;
}
