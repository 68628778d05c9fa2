/* photo.h — turn an untrusted uploaded image into a safe, small card photo.
 *
 * The uploaded bytes are only ever read by TurboJPEG or spng, both of which
 * report errors instead of aborting, with every size bounded before a pixel
 * buffer is allocated. What comes out is a freshly encoded baseline JPEG
 * made from pixels alone: no byte of the upload's metadata survives, and it
 * is the only form of a photo that may be handed to libharu.
 *
 * Thread-safe: no global mutable state; every call makes its own decoder
 * and encoder handles. Never prints, never aborts. */
#ifndef CIVICARD_PHOTO_H
#define CIVICARD_PHOTO_H

#include <stddef.h>
#include <stdint.h>

#define PHOTO_MAX_BYTES (8u * 1024 * 1024)     /* upload size limit */
#define PHOTO_MAX_PIXELS (50u * 1000 * 1000)   /* refused before any pixel buffer is allocated */
#define PHOTO_MIN_SIDE 100                      /* smaller images are refused */
#define PHOTO_WIDTH 240                          /* output: 4:5 portrait, fits the card's photo box */
#define PHOTO_HEIGHT 300
/* Output size aimed at: the quality steps down from 80 (to 70, 60, 50) only
 * while an encoding is larger than this. Typical photos stay at 80. */
#define PHOTO_TARGET_BYTES (20u * 1024)

enum photo_error {
	PHOTO_OK = 0,
	PHOTO_EMPTY,            /* no bytes at all */
	PHOTO_TOO_LARGE,        /* more than PHOTO_MAX_BYTES */
	PHOTO_NOT_IMAGE,        /* neither JPEG nor PNG magic bytes */
	PHOTO_CORRUPT,          /* JPEG/PNG magic, but undecodable, truncated, or unsupported */
	PHOTO_TOO_MANY_PIXELS,  /* width × height above PHOTO_MAX_PIXELS */
	PHOTO_TOO_SMALL,        /* a side below PHOTO_MIN_SIDE */
	PHOTO_NO_MEMORY,        /* an allocation failed (or ret_jpeg/ret_len was NULL) */
};

/* Decode a JPEG or PNG (detected by magic bytes, not by name or content
 * type), apply the EXIF orientation of a JPEG, centre-crop to 4:5, scale to
 * PHOTO_WIDTH × PHOTO_HEIGHT (area average when downscaling, bilinear when
 * upscaling), flatten any alpha onto white, and encode a baseline JPEG
 * (quality 80, 4:2:0) that carries no metadata at all: the output is SOI,
 * DQT, SOF0, DHT, SOS, entropy-coded data, EOI — no APPn (not even JFIF),
 * no COM.
 *
 * CMYK/YCCK JPEGs are converted with a naive formula (inverted CMYK when an
 * Adobe marker is present, as Photoshop writes them). Grayscale, palette,
 * 16-bit, interlaced and transparent PNGs are all accepted; PNG text and
 * other ancillary chunks are bounded and dropped.
 *
 * data/len: the upload, only read, may be freed after the call.
 * On success returns PHOTO_OK, *ret_jpeg is from malloc() (caller frees)
 * and *ret_len its size. On failure *ret_jpeg and *ret_len are untouched. */
enum photo_error photo_normalize(const uint8_t *data, size_t len,
		uint8_t **ret_jpeg, size_t *ret_len);

/* A short English sentence for a clerk, e.g. "the photo is not a JPEG or
 * PNG image". Static storage, never NULL. */
const char *photo_error_message(enum photo_error e);

/* The field-error code for the API, e.g. "photo_corrupt". Static storage,
 * never NULL. */
const char *photo_error_code(enum photo_error e);

#endif
