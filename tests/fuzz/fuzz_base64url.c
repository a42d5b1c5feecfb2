/* libFuzzer target for common/base64url.c: decodes any input with both
 * variants and checks that what decodes is canonical, i.e. encoding the
 * bytes again gives back the input (less optional padding). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* in without its trailing '=' equals enc without its trailing '='. */
static int same_but_padding(const char *in, size_t in_len, const char *enc)
{
	size_t enc_len = strlen(enc);

	while (in_len > 0 && in[in_len - 1] == '=')
		in_len--;
	while (enc_len > 0 && enc[enc_len - 1] == '=')
		enc_len--;
	return in_len == enc_len && memcmp(in, enc, in_len) == 0;
}

static void check(const char *text, size_t len,
		  int (*decode)(const char *, size_t, uint8_t **, size_t *),
		  char *(*encode)(const uint8_t *, size_t))
{
	uint8_t *out;
	size_t out_len;
	char *again;

	if (decode(text, len, &out, &out_len) != 0)
		return;
	again = encode(out, out_len);
	if (again == NULL || !same_but_padding(text, len, again))
		abort();
	free(again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	check(text, size, llv_base64url_decode, llv_base64url_encode);
	check(text, size, llv_base64_decode, llv_base64_encode);
	return 0;
}
