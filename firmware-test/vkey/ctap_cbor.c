/* CTAP2 canonical CBOR: a small encoder writing into llv_buf (the caller
 * emits map keys in canonical order) and a strict decoder on libcbor that a
 * pre-pass over the raw bytes guards (definite lengths only, no tags, bounded
 * depth, no trailing bytes), so libcbor never sees input it could choke on. */
#include <string.h>

#include "ctap_internal.h"

#define MAX_DEPTH 16

/* ---- encoder ---- */

static void enc_head(struct llv_buf *b, uint8_t major, uint64_t v)
{
	uint8_t mt = (uint8_t)(major << 5);

	if (v < 24) {
		llv_buf_put_u8(b, (uint8_t)(mt | v));
	} else if (v <= 0xff) {
		llv_buf_put_u8(b, mt | 24);
		llv_buf_put_u8(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		llv_buf_put_u8(b, mt | 25);
		llv_buf_put_be16(b, (uint16_t)v);
	} else if (v <= 0xffffffffu) {
		llv_buf_put_u8(b, mt | 26);
		llv_buf_put_be32(b, (uint32_t)v);
	} else {
		llv_buf_put_u8(b, mt | 27);
		llv_buf_put_be32(b, (uint32_t)(v >> 32));
		llv_buf_put_be32(b, (uint32_t)v);
	}
}

void ctap_enc_uint(struct llv_buf *b, uint64_t v)
{
	enc_head(b, 0, v);
}

void ctap_enc_int(struct llv_buf *b, int64_t v)
{
	if (v >= 0)
		enc_head(b, 0, (uint64_t)v);
	else
		enc_head(b, 1, (uint64_t)(-(v + 1)));
}

void ctap_enc_bytes(struct llv_buf *b, const void *p, size_t n)
{
	enc_head(b, 2, n);
	llv_buf_put(b, p, n);
}

void ctap_enc_text(struct llv_buf *b, const char *s, size_t n)
{
	enc_head(b, 3, n);
	llv_buf_put(b, s, n);
}

void ctap_enc_textz(struct llv_buf *b, const char *s)
{
	ctap_enc_text(b, s, strlen(s));
}

void ctap_enc_array(struct llv_buf *b, size_t n)
{
	enc_head(b, 4, n);
}

void ctap_enc_map(struct llv_buf *b, size_t n)
{
	enc_head(b, 5, n);
}

void ctap_enc_bool(struct llv_buf *b, bool v)
{
	llv_buf_put_u8(b, v ? 0xf5 : 0xf4);
}

/* ---- raw well-formedness pre-pass ---- */

/* Reads an item head: major type, argument, head size. -1 when truncated,
 * reserved or indefinite. */
static int raw_head(const uint8_t *p, size_t n, uint8_t *major, uint64_t *val, size_t *hlen)
{
	uint8_t ai;
	size_t extra;

	if (n < 1)
		return -1;
	*major = p[0] >> 5;
	ai = p[0] & 0x1f;
	if (ai < 24) {
		*val = ai;
		*hlen = 1;
		return 0;
	}
	if (ai > 27)
		return -1;   /* reserved (28-30) or indefinite length (31) */
	extra = (size_t)1 << (ai - 24);
	if (n < 1 + extra)
		return -1;
	*val = 0;
	for (size_t i = 0; i < extra; i++)
		*val = (*val << 8) | p[1 + i];
	*hlen = 1 + extra;
	return 0;
}

/* Length of the well-formed item at p, or -1. */
static int raw_item(const uint8_t *p, size_t n, int depth, size_t *used)
{
	uint8_t major;
	uint64_t val, count;
	size_t hlen, off;

	if (depth > MAX_DEPTH || raw_head(p, n, &major, &val, &hlen) != 0)
		return -1;
	switch (major) {
	case 0:
	case 1:
		*used = hlen;
		return 0;
	case 2:
	case 3:
		if (val > n - hlen)
			return -1;
		*used = hlen + (size_t)val;
		return 0;
	case 4:
	case 5:
		if (val > n - hlen)    /* every element needs at least one byte */
			return -1;
		count = major == 5 ? val * 2 : val;
		off = hlen;
		for (uint64_t i = 0; i < count; i++) {
			size_t u;

			if (raw_item(p + off, n - off, depth + 1, &u) != 0)
				return -1;
			off += u;
		}
		*used = off;
		return 0;
	case 6:
		return -1;             /* CTAP2 uses no tags */
	default:
		/* false, true, null, undefined and floats; other simple values are
		 * not used by CTAP2. */
		if (hlen == 1 && val >= 20 && val <= 23) {
			*used = 1;
			return 0;
		}
		if (hlen > 2) {        /* half, single and double floats */
			*used = hlen;
			return 0;
		}
		return -1;
	}
}

/* ---- decoder ---- */

static bool keys_equal(const cbor_item_t *x, const cbor_item_t *y)
{
	if (cbor_typeof(x) != cbor_typeof(y))
		return false;
	switch (cbor_typeof(x)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		return cbor_get_int(x) == cbor_get_int(y);
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_length(x) == cbor_bytestring_length(y) &&
		       memcmp(cbor_bytestring_handle(x), cbor_bytestring_handle(y), cbor_bytestring_length(x)) == 0;
	case CBOR_TYPE_STRING:
		return cbor_string_length(x) == cbor_string_length(y) &&
		       memcmp(cbor_string_handle(x), cbor_string_handle(y), cbor_string_length(x)) == 0;
	default:
		return false;
	}
}

static bool tree_ok(const cbor_item_t *it)
{
	if (cbor_isa_array(it)) {
		cbor_item_t **h = cbor_array_handle(it);

		for (size_t i = 0; i < cbor_array_size(it); i++)
			if (!tree_ok(h[i]))
				return false;
	} else if (cbor_isa_map(it)) {
		struct cbor_pair *h = cbor_map_handle(it);
		size_t n = cbor_map_size(it);

		for (size_t i = 0; i < n; i++) {
			cbor_type t = cbor_typeof(h[i].key);

			if (t != CBOR_TYPE_UINT && t != CBOR_TYPE_NEGINT && t != CBOR_TYPE_STRING &&
			    t != CBOR_TYPE_BYTESTRING)
				return false;
			for (size_t j = 0; j < i; j++)
				if (keys_equal(h[i].key, h[j].key))
					return false;
			if (!tree_ok(h[i].value))
				return false;
		}
	}
	return true;
}

uint8_t ctap_dec_load(const uint8_t *data, size_t len, cbor_item_t **out)
{
	struct cbor_load_result res;
	cbor_item_t *it;
	size_t used;

	*out = NULL;
	if (len == 0 || raw_item(data, len, 0, &used) != 0 || used != len)
		return CTAP2_ERR_INVALID_CBOR;
	it = cbor_load(data, len, &res);
	if (it == NULL)
		return res.error.code == CBOR_ERR_MEMERROR ? CTAP1_ERR_OTHER : CTAP2_ERR_INVALID_CBOR;
	if (res.read != len || !tree_ok(it)) {
		cbor_decref(&it);
		return CTAP2_ERR_INVALID_CBOR;
	}
	*out = it;
	return CTAP2_OK;
}

uint8_t ctap_dec_params(const uint8_t *data, size_t len, cbor_item_t **out)
{
	uint8_t st;

	*out = NULL;
	if (len == 0)
		return CTAP2_ERR_MISSING_PARAMETER;
	st = ctap_dec_load(data, len, out);
	if (st != CTAP2_OK)
		return st;
	if (!cbor_isa_map(*out)) {
		cbor_decref(out);
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	return CTAP2_OK;
}

cbor_item_t *ctap_dec_get(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *h;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		const cbor_item_t *k = h[i].key;

		if (key >= 0 && cbor_isa_uint(k) && cbor_get_int(k) == (uint64_t)key)
			return h[i].value;
		if (key < 0 && cbor_isa_negint(k) && cbor_get_int(k) == (uint64_t)(-(key + 1)))
			return h[i].value;
	}
	return NULL;
}

cbor_item_t *ctap_dec_get_s(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *h;
	size_t kl = strlen(key);

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		const cbor_item_t *k = h[i].key;

		if (cbor_isa_string(k) && cbor_string_length(k) == kl &&
		    memcmp(cbor_string_handle(k), key, kl) == 0)
			return h[i].value;
	}
	return NULL;
}

uint8_t ctap_dec_bytes(const cbor_item_t *it, const uint8_t **p, size_t *n)
{
	if (!cbor_isa_bytestring(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*n = cbor_bytestring_length(it);
	*p = cbor_bytestring_handle(it);
	if (*p == NULL)
		*p = (const uint8_t *)"";
	return CTAP2_OK;
}

uint8_t ctap_dec_text(const cbor_item_t *it, const char **p, size_t *n)
{
	if (!cbor_isa_string(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*n = cbor_string_length(it);
	*p = (const char *)cbor_string_handle(it);
	if (*p == NULL)
		*p = "";
	return CTAP2_OK;
}

uint8_t ctap_dec_uint(const cbor_item_t *it, uint64_t *v)
{
	if (!cbor_isa_uint(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*v = cbor_get_int(it);
	return CTAP2_OK;
}

uint8_t ctap_dec_int(const cbor_item_t *it, int64_t *v)
{
	uint64_t u;

	if (!cbor_isa_uint(it) && !cbor_isa_negint(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	u = cbor_get_int(it);
	if (u > (uint64_t)INT64_MAX)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*v = cbor_isa_uint(it) ? (int64_t)u : -(int64_t)u - 1;
	return CTAP2_OK;
}

uint8_t ctap_dec_bool(const cbor_item_t *it, bool *v)
{
	if (!cbor_isa_float_ctrl(it) || !cbor_is_bool(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*v = cbor_get_bool(it);
	return CTAP2_OK;
}

uint8_t ctap_dec_expect_map(const cbor_item_t *it)
{
	return cbor_isa_map(it) ? CTAP2_OK : CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
}

uint8_t ctap_dec_expect_array(const cbor_item_t *it)
{
	return cbor_isa_array(it) ? CTAP2_OK : CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
}

bool ctap_dec_raw_value(const uint8_t *data, size_t len, int64_t key, const uint8_t **vp, size_t *vn)
{
	uint8_t major;
	uint64_t val, count;
	size_t hlen, off;

	if (raw_head(data, len, &major, &val, &hlen) != 0 || major != 5)
		return false;
	count = val;
	off = hlen;
	for (uint64_t i = 0; i < count; i++) {
		uint8_t km;
		uint64_t kv;
		size_t kh, ku, vu;
		bool match;

		if (raw_head(data + off, len - off, &km, &kv, &kh) != 0 ||
		    raw_item(data + off, len - off, 0, &ku) != 0)
			return false;
		match = (km == 0 && key >= 0 && kv == (uint64_t)key) ||
			(km == 1 && key < 0 && kv == (uint64_t)(-(key + 1)));
		off += ku;
		if (raw_item(data + off, len - off, 0, &vu) != 0)
			return false;
		if (match) {
			*vp = data + off;
			*vn = vu;
			return true;
		}
		off += vu;
	}
	return false;
}

uint8_t ctap_dec_descriptor(const cbor_item_t *it, struct ctap_desc *d)
{
	const cbor_item_t *type, *id;
	const char *t;
	size_t tl;
	uint8_t st;

	if (!cbor_isa_map(it))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	type = ctap_dec_get_s(it, "type");
	id = ctap_dec_get_s(it, "id");
	if (type == NULL || id == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_text(type, &t, &tl)) != CTAP2_OK ||
	    (st = ctap_dec_bytes(id, &d->id, &d->id_len)) != CTAP2_OK)
		return st;
	d->type_ok = tl == 10 && memcmp(t, "public-key", 10) == 0;
	return CTAP2_OK;
}

uint8_t ctap_dec_text_into(const cbor_item_t *it, struct ctap_text *t, size_t max, bool truncate)
{
	const char *s;
	size_t n;
	uint8_t st;

	if ((st = ctap_dec_text(it, &s, &n)) != CTAP2_OK)
		return st;
	if (n > max) {
		if (!truncate)
			return CTAP1_ERR_INVALID_LENGTH;
		n = max;
		/* do not cut a UTF-8 sequence: back up over continuation bytes */
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
			n--;
	}
	memset(t, 0, sizeof(*t));
	t->present = true;
	t->len = (uint16_t)n;
	memcpy(t->s, s, n);
	return CTAP2_OK;
}
