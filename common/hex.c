/* Hexadecimal text <-> bytes (see hex.h). */
#include "hex.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

static const char hex_digits[] = "0123456789abcdef";

void llv_hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

char *llv_hex_encode_alloc(const uint8_t *in, size_t len)
{
	char *out;

	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	out = malloc(2 * len + 1);
	if (out != NULL)
		llv_hex_encode(in, len, out);
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Separators as people paste them: "3F 00", "3f:00", and dumps that wrap. */
static bool is_separator(char c)
{
	return c == ' ' || c == ':' || c == '\t' || c == '\n' || c == '\r';
}

long llv_hex_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*in != '\0') {
		int hi, lo;

		if (is_separator(*in)) {
			in++;
			continue;
		}
		/* A separator inside a pair ("3 F") is a bad digit. */
		hi = hex_value(in[0]);
		lo = hi >= 0 ? hex_value(in[1]) : -1;
		if (hi < 0 || lo < 0)
			return -1;
		if (n >= cap || n >= (size_t)LONG_MAX)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		in += 2;
	}
	return (long)n;
}
