/* Strict libcbor helpers. */
#include "verify_cbor.h"

#include <string.h>

#define CBOR_MAX_DEPTH 16

static bool depth_ok(const cbor_item_t *it, int depth)
{
	if (depth > CBOR_MAX_DEPTH)
		return false;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_ARRAY: {
		cbor_item_t **h = cbor_array_handle(it);
		for (size_t i = 0; i < cbor_array_size(it); i++)
			if (!depth_ok(h[i], depth + 1))
				return false;
		return true;
	}
	case CBOR_TYPE_MAP: {
		struct cbor_pair *h = cbor_map_handle(it);
		for (size_t i = 0; i < cbor_map_size(it); i++)
			if (!depth_ok(h[i].key, depth + 1) || !depth_ok(h[i].value, depth + 1))
				return false;
		return true;
	}
	case CBOR_TYPE_TAG:
		return false;   /* no WebAuthn structure uses tags */
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_is_definite(it);
	case CBOR_TYPE_STRING:
		return cbor_string_is_definite(it);
	default:
		return true;
	}
}

/* Well-formedness scan before libcbor sees the bytes: definite lengths only,
 * no tags, depth bounded, and every declared length or item count fits in
 * what is left (libcbor 0.8 allocates a container of the declared size before
 * reading it, so a 5-byte map header could ask for gigabytes). */
static bool scan(const uint8_t *p, size_t len, size_t *pos, int depth)
{
	if (depth > CBOR_MAX_DEPTH || *pos >= len)
		return false;
	uint8_t ib = p[(*pos)++];
	unsigned major = ib >> 5, ai = ib & 31;
	uint64_t v = ai;
	if (ai >= 24 && ai <= 27) {
		size_t n = (size_t)1 << (ai - 24);
		if (len - *pos < n)
			return false;
		v = 0;
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | p[(*pos)++];
	} else if (ai > 27) {
		return false;   /* reserved, or indefinite length */
	}
	size_t left = len - *pos;
	switch (major) {
	case 0:
	case 1:
	case 7:
		return true;
	case 2:
	case 3:
		if (v > left)
			return false;
		*pos += (size_t)v;
		return true;
	case 4:
	case 5:
		if (v > left || (major == 5 && v > left / 2))
			return false;
		for (uint64_t i = 0; i < (major == 5 ? 2 * v : v); i++)
			if (!scan(p, len, pos, depth + 1))
				return false;
		return true;
	default:
		return false;   /* tags */
	}
}

cbor_item_t *verify_cbor_load(const uint8_t *data, size_t len, bool exact, size_t *consumed)
{
	if (!data || len == 0)
		return NULL;
	size_t pos = 0;
	if (!scan(data, len, &pos, 0) || (exact && pos != len))
		return NULL;
	len = pos;
	struct cbor_load_result res;
	cbor_item_t *it = cbor_load(data, len, &res);
	if (!it || res.error.code != CBOR_ERR_NONE) {
		if (it)
			cbor_decref(&it);
		return NULL;
	}
	if ((exact && res.read != len) || !depth_ok(it, 0)) {
		cbor_decref(&it);
		return NULL;
	}
	if (consumed)
		*consumed = res.read;
	return it;
}

int verify_cbor_int(const cbor_item_t *item, int64_t *out)
{
	if (!item || !cbor_is_int(item))
		return -1;
	uint64_t v = cbor_get_int(item);
	if (v > INT64_MAX)
		return -1;
	*out = cbor_isa_uint(item) ? (int64_t)v : -1 - (int64_t)v;
	return 0;
}

static bool key_is_int(const cbor_item_t *k, int64_t key)
{
	int64_t v;
	return verify_cbor_int(k, &v) == 0 && v == key;
}

cbor_item_t *verify_cbor_map_int(const cbor_item_t *map, int64_t key)
{
	if (!map || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (key_is_int(h[i].key, key))
			return h[i].value;
	return NULL;
}

cbor_item_t *verify_cbor_map_str(const cbor_item_t *map, const char *key)
{
	if (!map || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (verify_cbor_text_is(h[i].key, key))
			return h[i].value;
	return NULL;
}

static bool same_key(const cbor_item_t *a, const cbor_item_t *b)
{
	int64_t x, y;
	if (verify_cbor_int(a, &x) == 0 && verify_cbor_int(b, &y) == 0)
		return x == y;
	if (cbor_isa_string(a) && cbor_isa_string(b) && cbor_string_is_definite(a) &&
	    cbor_string_is_definite(b))
		return cbor_string_length(a) == cbor_string_length(b) &&
		       memcmp(cbor_string_handle(a), cbor_string_handle(b),
			      cbor_string_length(a)) == 0;
	return false;
}

bool verify_cbor_map_ok(const cbor_item_t *map)
{
	if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return false;
	struct cbor_pair *h = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (same_key(h[i].key, h[j].key))
				return false;
	return true;
}

int verify_cbor_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
	if (!item || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
		return -1;
	*p = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	if (!*p && *len == 0)
		*p = (const uint8_t *)"";
	return 0;
}

bool verify_cbor_text_is(const cbor_item_t *item, const char *s)
{
	if (!item || !cbor_isa_string(item) || !cbor_string_is_definite(item))
		return false;
	size_t n = strlen(s);
	return cbor_string_length(item) == n &&
	       (n == 0 || memcmp(cbor_string_handle(item), s, n) == 0);
}
