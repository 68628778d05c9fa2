/* fuzz-json-request.c — a request body through the JSON reading every API
 * handler uses: parse, refuse unknown fields, read typed members. */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = { "username", "password", "qr", "reason", NULL };
	struct request req;
	memset(&req, 0, sizeof req);
	req.resp.status = 500;
	req.body.data = (char *)data;
	req.body.len = size;
	json_t *obj = NULL;
	if (req_json_object(&req, allowed, &obj) == 0) {
		int bad = 0;
		for (const char *const *f = allowed; *f && !bad; f++)
			(void)req_json_string(&req, obj, *f, 0, 256, &bad);
		json_decref(obj);
	} else if (req.resp.status != 400) {
		__builtin_trap();       /* every refusal is a 400 */
	}
	free(req.resp.body);
	for (int i = 0; i < req.resp.nheaders; i++)
		free(req.resp.headers[i].value);
	return 0;
}
