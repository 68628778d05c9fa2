/* fuzz-photo.c — photo_normalize: JPEG and PNG decoding, the EXIF
 * orientation parser, the PNG chunk filter, and the resampler. */
#include "photo.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = (uint8_t *)&size;        /* must stay as is on failure */
	size_t out_len = 7;
	enum photo_error e = photo_normalize(data, size, &out, &out_len);

	if (e == PHOTO_OK) {
		/* Always a complete JPEG, never empty. */
		if (!out || out_len < 4 || out[0] != 0xFF || out[1] != 0xD8 ||
		    out[out_len - 2] != 0xFF || out[out_len - 1] != 0xD9)
			__builtin_trap();
		free(out);
	} else if (out != (uint8_t *)&size || out_len != 7) {
		__builtin_trap();
	}
	if (!photo_error_code(e) || !photo_error_message(e))
		__builtin_trap();
	return 0;
}
