/* fuzz-multipart.c — multipart/form-data bodies. Input: a Content-Type
 * line, a newline, then the body. */
#include "form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl)
		return 0;
	size_t ctlen = (size_t)(nl - data);
	char *ct = malloc(ctlen + 1);
	if (!ct)
		return 0;
	memcpy(ct, data, ctlen);
	ct[ctlen] = '\0';
	const char *body = (const char *)nl + 1;
	size_t blen = size - ctlen - 1;
	struct form f;
	if (form_parse_multipart(body, blen, ct, &f) == 0) {
		for (size_t i = 0; i < f.nfiles; i++) {
			const struct form_file *ff = &f.files[i];
			if (ff->data < (const uint8_t *)body || ff->data + ff->len > (const uint8_t *)body + blen)
				__builtin_trap();
		}
		form_free(&f);
	}
	free(ct);
	return 0;
}
