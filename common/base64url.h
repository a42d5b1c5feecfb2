/* Base64 (RFC 4648 section 4) and base64url (section 5) codecs.
 * base64url output has no padding (as WebAuthn and JOSE use it); the decoder
 * accepts input with or without padding but nothing else outside the alphabet. */
#ifndef LLAVERO_COMMON_BASE64URL_H
#define LLAVERO_COMMON_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

/* Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *llv_base64url_encode(const uint8_t *in, size_t len);
char *llv_base64_encode(const uint8_t *in, size_t len);
/* Decode into a malloc'd buffer; returns 0 and sets *out and *out_len, or -1 on
 * malformed input (bad character, bad length, non-zero trailing bits). */
int llv_base64url_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len);
int llv_base64_decode(const char *in, size_t in_len, uint8_t **out, size_t *out_len);
/* The same strict base64 decoding into out (cap bytes): -1 also when the
 * decoded bytes would not fit (no allocation; for bounded values such as
 * signatures). */
int llv_base64_decode_buf(const char *in, size_t in_len, uint8_t *out, size_t cap,
			  size_t *out_len);

#endif
