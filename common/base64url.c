/* Base64 and base64url codecs (see base64url.h).
 *
 * Both decoders are strict, so that one byte string has exactly one accepted
 * text (besides the optional padding): anything outside the variant's
 * alphabet, misplaced or excess '=', an impossible length (4n+1 characters)
 * or non-zero bits left over in the last character is rejected. Signatures
 * and challenges travel in this encoding, and a lenient decoder would let two
 * different texts stand for the same value. */
#include "base64url.h"

#include <pthread.h>
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

/* Checks the length and padding; *data_len is the text without padding. */
static int check_length(const char *in, size_t in_len, size_t *data_len)
{
	size_t dl = in_len, pad = 0;

	/* Padding, when present, must complete the last group exactly. */
	while (dl > 0 && in[dl - 1] == '=') {
		dl--;
		pad++;
	}
	if (pad > 2 || (pad > 0 && in_len % 4 != 0) || dl % 4 == 1) {
		llv_debug("base64: bad length or padding (%zu characters)", in_len);
		return -1;
	}
	*data_len = dl;
	return 0;
}

/* char_value as two lookup tables (std, url), filled from it once. */
static signed char value_table[2][256];
static pthread_once_t value_once = PTHREAD_ONCE_INIT;

static void value_fill(void)
{
	for (int u = 0; u < 2; u++)
		for (int c = 0; c < 256; c++)
			value_table[u][c] = (signed char)char_value((char)c, u == 1);
}

/* Decodes data_len checked characters into buf (room for data_len * 3 / 4
 * bytes); returns the byte count, or -1 (buf's partial output wiped). */
static long decode_to(const char *in, size_t data_len, bool url, uint8_t *buf)
{
	size_t o = 0, i;
	uint32_t acc = 0;
	int bits = 0;

	const signed char *table;

	pthread_once(&value_once, value_fill);
	table = value_table[url ? 1 : 0];
	for (i = 0; i < data_len; i++) {
		int v = table[(unsigned char)in[i]];

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
	return (long)o;
bad:
	/* The input may be a secret (a key in a JWK); so is its partial decoding. */
	llv_wipe(buf, o);
	return -1;
}

static int decode(const char *in, size_t in_len, bool url,
		  uint8_t **out, size_t *out_len)
{
	size_t data_len;
	uint8_t *buf;

	if (check_length(in, in_len, &data_len) != 0)
		return -1;
	buf = malloc(data_len / 4 * 3 + 3);
	if (buf == NULL)
		return -1;
	long n = decode_to(in, data_len, url, buf);
	if (n < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

int llv_base64_decode_buf(const char *in, size_t in_len, uint8_t *out, size_t cap,
			  size_t *out_len)
{
	size_t data_len;

	if (check_length(in, in_len, &data_len) != 0 || data_len / 4 * 3 + (data_len % 4) * 3 / 4 > cap)
		return -1;
	long n = decode_to(in, data_len, false, out);
	if (n < 0)
		return -1;
	*out_len = (size_t)n;
	return 0;
}

int llv_base64url_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	return decode(in, in_len, true, out, out_len);
}

int llv_base64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	return decode(in, in_len, false, out, out_len);
}
