/* The attestation object of a new credential (WebAuthn §6.5, CBOR map
 * {fmt, attStmt, authData} in CTAP2 canonical key order), its public key as
 * SubjectPublicKeyInfo, and the authenticator data pieces the JSON needs. */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>

#include "fido_internal.h"
#include "log.h"

static int serialize(cbor_item_t *item, uint8_t **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0;

	*len = cbor_serialize_alloc(item, &buf, &cap);
	if (*len == 0) {
		free(buf);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	*out = buf;
	return FIDO_BRIDGE_OK;
}

static bool map_add(cbor_item_t *map, const char *key, cbor_item_t *value)
{
	cbor_item_t *k = cbor_build_string(key);
	bool ok = k != NULL && value != NULL &&
		  cbor_map_add(map, (struct cbor_pair){ .key = k, .value = value });

	if (k != NULL)
		cbor_decref(&k);
	if (value != NULL)
		cbor_decref(&value);
	return ok;
}

int fido_bridge_attestation_object(const fido_cred_t *cred, bool none_format,
				   uint8_t **out, size_t *len)
{
	const char *fmt = fido_cred_fmt(cred);
	const unsigned char *ad = fido_cred_authdata_raw_ptr(cred);
	size_t ad_len = fido_cred_authdata_raw_len(cred);
	cbor_item_t *map = NULL, *stmt = NULL;
	int r = FIDO_BRIDGE_ERR_INTERNAL;

	if (ad == NULL || ad_len == 0 || fmt == NULL) {
		llv_warn("la llave no devolvió authenticatorData o formato");
		return FIDO_BRIDGE_ERR_DEVICE;
	}
	if (none_format || fido_cred_attstmt_len(cred) == 0) {
		fmt = "none";
		stmt = cbor_new_definite_map(0);
	} else {
		struct cbor_load_result res;

		stmt = cbor_load(fido_cred_attstmt_ptr(cred), fido_cred_attstmt_len(cred), &res);
		if (stmt == NULL || !cbor_isa_map(stmt) || res.read != fido_cred_attstmt_len(cred)) {
			llv_warn("attStmt de la llave no es un mapa CBOR");
			if (stmt != NULL)
				cbor_decref(&stmt);
			return FIDO_BRIDGE_ERR_DEVICE;
		}
	}
	/* Canonical order (length first, then bytes): fmt, attStmt, authData. */
	if ((map = cbor_new_definite_map(3)) == NULL) {
		cbor_decref(&stmt);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	if (!map_add(map, "fmt", cbor_build_string(fmt))) {
		cbor_decref(&stmt);
	} else if (map_add(map, "attStmt", stmt) &&
		   map_add(map, "authData", cbor_build_bytestring(ad, ad_len))) {
		r = serialize(map, out, len);
	}
	cbor_decref(&map);
	return r;
}

int fido_bridge_cred_spki(const fido_cred_t *cred, uint8_t **out, size_t *len)
{
	const unsigned char *pk = fido_cred_pubkey_ptr(cred);
	size_t pk_len = fido_cred_pubkey_len(cred);
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL;
	int n;

	switch (fido_cred_type(cred)) {
	case COSE_ES256: {
		es256_pk_t *k = es256_pk_new();

		if (k != NULL && es256_pk_from_ptr(k, pk, pk_len) == FIDO_OK)
			key = es256_pk_to_EVP_PKEY(k);
		es256_pk_free(&k);
		break;
	}
	case COSE_EDDSA: {
		eddsa_pk_t *k = eddsa_pk_new();

		if (k != NULL && eddsa_pk_from_ptr(k, pk, pk_len) == FIDO_OK)
			key = eddsa_pk_to_EVP_PKEY(k);
		eddsa_pk_free(&k);
		break;
	}
	case COSE_RS256: {
		rs256_pk_t *k = rs256_pk_new();

		if (k != NULL && rs256_pk_from_ptr(k, pk, pk_len) == FIDO_OK)
			key = rs256_pk_to_EVP_PKEY(k);
		rs256_pk_free(&k);
		break;
	}
	default:
		break;
	}
	if (key == NULL) {
		llv_warn("clave pública de la credencial ilegible (algoritmo %d)", fido_cred_type(cred));
		return FIDO_BRIDGE_ERR_DEVICE;
	}
	n = i2d_PUBKEY(key, &der);
	EVP_PKEY_free(key);
	if (n <= 0)
		return FIDO_BRIDGE_ERR_INTERNAL;
	*out = malloc((size_t)n);
	if (*out == NULL) {
		OPENSSL_free(der);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return FIDO_BRIDGE_OK;
}

int fido_bridge_assert_authdata(const fido_assert_t *a, size_t idx, uint8_t **out, size_t *len)
{
	struct cbor_load_result res;
	cbor_item_t *item = cbor_load(fido_assert_authdata_ptr(a, idx),
				      fido_assert_authdata_len(a, idx), &res);
	int r = FIDO_BRIDGE_ERR_DEVICE;

	if (item != NULL && cbor_isa_bytestring(item) && cbor_bytestring_is_definite(item) &&
	    cbor_bytestring_length(item) >= 37) {
		*len = cbor_bytestring_length(item);
		if ((*out = malloc(*len)) != NULL) {
			memcpy(*out, cbor_bytestring_handle(item), *len);
			r = FIDO_BRIDGE_OK;
		} else {
			r = FIDO_BRIDGE_ERR_INTERNAL;
		}
	}
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

int fido_bridge_authdata_ext_flag(const uint8_t *ad, size_t len, const char *ext, bool *value)
{
	size_t off = 37;
	struct cbor_load_result res;
	cbor_item_t *map;
	int r = FIDO_BRIDGE_ERR_BAD_ARG;

	*value = false;
	if (len < 37)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	if (!(ad[32] & 0x80))
		return FIDO_BRIDGE_OK;               /* no extension outputs */
	if (ad[32] & 0x40) {                         /* attested credential data */
		size_t id_len;
		cbor_item_t *key;

		if (len < off + 18)
			return FIDO_BRIDGE_ERR_BAD_ARG;
		id_len = (size_t)ad[off + 16] << 8 | ad[off + 17];
		off += 18 + id_len;
		if (off >= len)
			return FIDO_BRIDGE_ERR_BAD_ARG;
		key = cbor_load(ad + off, len - off, &res);
		if (key == NULL)
			return FIDO_BRIDGE_ERR_BAD_ARG;
		cbor_decref(&key);
		off += res.read;
	}
	if (off >= len || (map = cbor_load(ad + off, len - off, &res)) == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	if (cbor_isa_map(map)) {
		struct cbor_pair *pairs = cbor_map_handle(map);

		r = FIDO_BRIDGE_OK;
		for (size_t i = 0; i < cbor_map_size(map); i++) {
			cbor_item_t *k = pairs[i].key;

			if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
			    cbor_string_length(k) == strlen(ext) &&
			    memcmp(cbor_string_handle(k), ext, strlen(ext)) == 0 &&
			    cbor_isa_float_ctrl(pairs[i].value) && cbor_is_bool(pairs[i].value))
				*value = cbor_get_bool(pairs[i].value);
		}
	}
	cbor_decref(&map);
	return r;
}
