/* Small strict helpers over libcbor items for the WebAuthn parsers (COSE
 * keys, attestation objects). Internal to libllavero-verify. */
#ifndef LLAVERO_VERIFY_CBOR_H
#define LLAVERO_VERIFY_CBOR_H

#include <cbor.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Not part of libllavero-verify.so's exported API. */
#pragma GCC visibility push(hidden)

/* Decodes exactly one item at data; *consumed gets its size. NULL when
 * malformed, nested deeper than 16 or (with exact) followed by more bytes. */
cbor_item_t *verify_cbor_load(const uint8_t *data, size_t len, bool exact, size_t *consumed);
/* Integer value of an unsigned or negative integer item; -1 otherwise. */
int verify_cbor_int(const cbor_item_t *item, int64_t *out);
/* Map members by integer or text key; NULL when absent. A map with a
 * duplicated key is refused by verify_cbor_map_ok. */
cbor_item_t *verify_cbor_map_int(const cbor_item_t *map, int64_t key);
cbor_item_t *verify_cbor_map_str(const cbor_item_t *map, const char *key);
bool verify_cbor_map_ok(const cbor_item_t *map);
/* Definite byte string / text string contents; -1 otherwise. */
int verify_cbor_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len);
bool verify_cbor_text_is(const cbor_item_t *item, const char *s);

#pragma GCC visibility pop

#endif
