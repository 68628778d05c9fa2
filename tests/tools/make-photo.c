/* make-photo.c — invented test photos for the black-box tests.
 *
 *   make-photo OUT.jpg WIDTH HEIGHT [--exif-gps]
 *
 * Draws a gradient with a head-and-shoulders silhouette (no real person)
 * and writes a JPEG. With --exif-gps an EXIF block with a GPS position
 * and the marker "CIVICARD-GPS-MARKER" goes right after SOI, as a phone
 * camera would write it; the service must strip it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static const char marker[] = "CIVICARD-GPS-MARKER";

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: make-photo OUT.jpg WIDTH HEIGHT [--exif-gps]\n");
		return 2;
	}
	int w = atoi(argv[2]), h = atoi(argv[3]);
	int gps = argc > 4 && strcmp(argv[4], "--exif-gps") == 0;
	if (w < 1 || h < 1 || w > 10000 || h > 10000)
		return 2;
	uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
	if (!rgb)
		return 1;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
			double dx = (x - w / 2.0) / (w / 5.0), dy = (y - h * 0.38) / (h / 5.0);
			double sx = (x - w / 2.0) / (w / 2.4), sy = (y - h * 1.05) / (h / 2.2);
			int head = dx * dx + dy * dy < 1.0, shoulders = sx * sx + sy * sy < 1.0;
			if (head) {
				p[0] = 205; p[1] = 160; p[2] = 130;
			} else if (shoulders) {
				p[0] = 40; p[1] = 70; p[2] = 120;
			} else {
				p[0] = (uint8_t)(180 + 60 * y / h);
				p[1] = (uint8_t)(200 + 40 * x / w);
				p[2] = 235;
			}
		}
	}
	tjhandle tj = tjInitCompress();
	unsigned char *jpeg = NULL;
	unsigned long len = 0;
	if (!tj || tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpeg, &len, TJSAMP_420, 90, 0) < 0) {
		fprintf(stderr, "make-photo: %s\n", tjGetErrorStr2(tj));
		return 1;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f)
		return 1;
	fwrite(jpeg, 1, 2, f);   /* SOI */
	if (gps) {
		/* APP1 "Exif\0\0" + a little-endian TIFF header with one IFD entry
		 * pointing at a GPS IFD (latitude as text is enough to grep for). */
		uint8_t tiff[] = {
			'I', 'I', 42, 0, 8, 0, 0, 0,            /* header, IFD0 at 8 */
			1, 0,                                   /* one entry */
			0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, /* GPSInfo → 26 */
			0, 0, 0, 0,                             /* no next IFD */
			1, 0,                                   /* GPS IFD: one entry */
			0x1b, 0x00, 7, 0, 20, 0, 0, 0, 44, 0, 0, 0, /* GPSProcessingMethod */
			0, 0, 0, 0,
		};
		size_t seg = 2 + 6 + sizeof tiff + sizeof marker;
		uint8_t head[4] = { 0xff, 0xe1, (uint8_t)(seg >> 8), (uint8_t)seg };
		fwrite(head, 1, 4, f);
		fwrite("Exif\0\0", 1, 6, f);
		fwrite(tiff, 1, sizeof tiff, f);
		fwrite(marker, 1, sizeof marker, f);
	}
	fwrite(jpeg + 2, 1, len - 2, f);
	fclose(f);
	tjFree(jpeg);
	tjDestroy(tj);
	free(rgb);
	return 0;
}
