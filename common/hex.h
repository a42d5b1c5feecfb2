/* Hexadecimal text <-> bytes. */
#ifndef LLAVERO_COMMON_HEX_H
#define LLAVERO_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase digits and a NUL to out (size >= 2*len+1). */
void llv_hex_encode(const uint8_t *in, size_t len, char *out);
/* Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *llv_hex_encode_alloc(const uint8_t *in, size_t len);
/* Decodes hex text (either case; spaces and ':' between byte pairs are
 * ignored). Returns the number of bytes written, or -1 on a bad digit, an odd
 * digit count or when out (size cap) is too small. */
long llv_hex_decode(const char *in, uint8_t *out, size_t cap);

#endif
