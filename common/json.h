/* Typed accessors over jansson objects, so protocol code says what it expects
 * and gets a clear error for anything else. Each returns 0 on success and -1
 * when the member is absent or of the wrong type (or malformed base64url),
 * leaving *out unchanged. */
#ifndef LLAVERO_COMMON_JSON_H
#define LLAVERO_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>

int llv_json_get_str(const json_t *obj, const char *key, const char **out);
int llv_json_get_int(const json_t *obj, const char *key, long long *out);
int llv_json_get_bool(const json_t *obj, const char *key, bool *out);
/* Decodes a base64url string member into a malloc'd buffer. */
int llv_json_get_b64url(const json_t *obj, const char *key, uint8_t **out, size_t *out_len);
/* Sets key to the base64url text of data; 0 or -1. */
int llv_json_set_b64url(json_t *obj, const char *key, const uint8_t *data, size_t len);
/* Parses at most max_len bytes of JSON text into an object; NULL with a
 * message in err (size errlen) when malformed, too large or not an object. */
json_t *llv_json_parse_object(const char *text, size_t len, size_t max_len, char *err, size_t errlen);

#endif
