/* fuzz-form.c — the urlencoded form parser. */
#include "form.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	if (form_parse((const char *)data, size, &f) == 0) {
		for (size_t i = 0; i < f.count; i++) {
			/* Every field that parsed is NUL-terminated valid text. */
			if (!utf8_text_valid(f.values[i], strlen(f.values[i])))
				__builtin_trap();
			(void)form_get(&f, f.names[i]);
		}
		form_free(&f);
	}
	return 0;
}
