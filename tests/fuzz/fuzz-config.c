/* fuzz-config.c — the configuration file reader (inih and every key's
 * check), from a file in memory. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	struct config c;
	char err[4096];
	config_defaults(&c);
	int r = config_load_stream(&c, f, "fuzz.conf", err, sizeof err);
	fclose(f);
	/* A refusal always says why, on lines naming the file. */
	if (r < 0 && strncmp(err, "fuzz.conf:", 10) != 0)
		__builtin_trap();
	config_free(&c);
	return 0;
}
