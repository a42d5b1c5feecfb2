/* Base64 and base64url codecs (see base64url.h).
 *
 * Both decoders are strict, so that one byte string has exactly one accepted
 * text (besides the optional padding): anything outside the variant's
 * alphabet, misplaced or excess '=', an impossible length (4n+1 characters)
 * or non-zero bits left over in the last character is rejected. Signatures
 * and challenges travel in this encoding, and a lenient decoder would let two
 * different texts stand for the same value. */
#include "base64url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secmem.h"

static const char alphabet_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alphabet_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const uint8_t *in, size_t len, const char *alphabet, bool pad)
{
	size_t groups = len / 3 + (len % 3 != 0);
	size_t i, o = 0;
	char *out;

	if (groups > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(groups * 4 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3f];
		out[o++] = alphabet[(v >> 6) & 0x3f];
		out[o++] = alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3f];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3f];
		out[o++] = alphabet[(v >> 6) & 0x3f];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

char *llv_base64url_encode(const uint8_t *in, size_t len)
{
	return encode(in, len, alphabet_url, false);
}

char *llv_base64_encode(const uint8_t *in, size_t len)
{
	return encode(in, len, alphabet_std, true);
}

/* Value of c in the variant's alphabet, or -1. Written out instead of a
 * lookup table so that both variants share one obviously correct mapping. */
static int char_value(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int decode(const char *in, size_t in_len, bool url,
		  uint8_t **out, size_t *out_len)
{
	size_t data_len = in_len, pad = 0, o = 0, i;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *buf;

	/* Padding, when present, must complete the last group exactly. */
	while (data_len > 0 && in[data_len - 1] == '=') {
		data_len--;
		pad++;
	}
	if (pad > 2 || (pad > 0 && in_len % 4 != 0) || data_len % 4 == 1) {
		llv_debug("base64: bad length or padding (%zu characters)", in_len);
		return -1;
	}

	buf = malloc(data_len / 4 * 3 + 3);
	if (buf == NULL)
		return -1;
	for (i = 0; i < data_len; i++) {
		int v = char_value(in[i], url);

		if (v < 0) {
			llv_debug("base64: bad character at offset %zu", i);
			goto bad;
		}
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* The bits below the last whole byte must be zero, or a second text
	 * would decode to the same bytes. */
	if ((acc & ((1u << bits) - 1)) != 0) {
		llv_debug("base64: non-zero trailing bits");
		goto bad;
	}
	*out = buf;
	*out_len = o;
	return 0;
bad:
	/* The input may be a secret (a key in a JWK); so is its partial decoding. */
	llv_wipe(buf, o);
	free(buf);
	return -1;
}

int llv_base64url_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	return decode(in, in_len, true, out, out_len);
}

int llv_base64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	return decode(in, in_len, false, out, out_len);
}
