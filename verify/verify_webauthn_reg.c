/* WebAuthn registration verification (WebAuthn Level 3, 7.1 and 8). */
#include "verify_webauthn_reg.h"
#include "verify_cbor.h"
#include "verify_cose.h"
#include "verify_errors.h"

#include "buf.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define ATT_OBJECT_MAX (128u << 10)
#define X5C_MAX 8

void verify_webauthn_credential_clear(struct verify_webauthn_credential *c)
{
	if (!c)
		return;
	free(c->cred_id);
	free(c->public_key_spki);
	memset(c, 0, sizeof(*c));
}

/* x5c: array of DER certificates, leaf first. */
static int parse_x5c(const cbor_item_t *arr, STACK_OF(X509) **out)
{
	*out = NULL;
	if (!arr || !cbor_isa_array(arr) || cbor_array_size(arr) == 0 ||
	    cbor_array_size(arr) > X5C_MAX)
		return VERIFY_ERR_WA_ATT_STATEMENT;
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (!sk)
		return VERIFY_ERR_NOMEM;
	cbor_item_t **h = cbor_array_handle(arr);
	for (size_t i = 0; i < cbor_array_size(arr); i++) {
		const uint8_t *der;
		size_t len;
		const unsigned char *p;
		X509 *x = NULL;
		if (verify_cbor_bytes(h[i], &der, &len) == 0 && len > 0) {
			p = der;
			x = d2i_X509(NULL, &p, (long)len);
			if (x && (p != der + len || X509_check_purpose(x, -1, 0) != 1)) {
				X509_free(x);
				x = NULL;
			}
		}
		if (!x || !sk_X509_push(sk, x)) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			ERR_clear_error();
			return VERIFY_ERR_WA_ATT_CERT;
		}
	}
	*out = sk;
	return VERIFY_OK;
}

/* Chains the attestation certificate to the configured anchors. */
static int attestation_trust(STACK_OF(X509) *x5c, const struct verify_webauthn_reg_opts *o,
			     enum verify_attestation_type *type)
{
	if (!o->attestation_trust) {
		*type = VERIFY_ATT_UNVERIFIED;
		return o->require_attestation ? VERIFY_ERR_WA_ATT_UNTRUSTED : VERIFY_OK;
	}
	STACK_OF(X509) *rest = sk_X509_dup(x5c);
	if (!rest)
		return VERIFY_ERR_NOMEM;
	X509 *leaf = sk_X509_shift(rest);
	int rc = verify_trust_check(o->attestation_trust, leaf, rest, o->now, NULL);
	sk_X509_free(rest);
	if (rc != VERIFY_OK) {
		llv_info("verify: attestation chain: %s", verify_strerror_en(rc));
		return VERIFY_ERR_WA_ATT_UNTRUSTED;
	}
	*type = VERIFY_ATT_BASIC;
	return VERIFY_OK;
}

/* id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4): OCTET STRING of 16. */
static int check_aaguid_ext(X509 *cert, const uint8_t aaguid[16])
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
	if (!oid)
		return VERIFY_ERR_NOMEM;
	int idx = X509_get_ext_by_OBJ(cert, oid, -1);
	ASN1_OBJECT_free(oid);
	if (idx < 0)
		return VERIFY_OK;
	X509_EXTENSION *ext = X509_get_ext(cert, idx);
	if (X509_EXTENSION_get_critical(ext))
		return VERIFY_ERR_WA_ATT_CERT;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
	const unsigned char *p = ASN1_STRING_get0_data(v);
	long len = ASN1_STRING_length(v), inner;
	int tag, cls;
	if (len != 18 || (ASN1_get_object(&p, &inner, &tag, &cls, len) & 0x80) ||
	    tag != V_ASN1_OCTET_STRING || inner != 16) {
		ERR_clear_error();
		return VERIFY_ERR_WA_ATT_CERT;
	}
	return memcmp(p, aaguid, 16) == 0 ? VERIFY_OK : VERIFY_ERR_WA_ATT_AAGUID;
}

/* Packed attestation certificate requirements (WebAuthn 8.2.1). */
static int packed_cert_ok(X509 *cert, time_t now)
{
	X509_NAME *s = X509_get_subject_name(cert);
	int ou = X509_NAME_get_index_by_NID(s, NID_organizationalUnitName, -1);
	char oubuf[64] = "";
	if (ou >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(s, ou));
		int n = ASN1_STRING_length(d);
		if (n > 0 && (size_t)n < sizeof(oubuf))
			memcpy(oubuf, ASN1_STRING_get0_data(d), (size_t)n);
	}
	if (X509_get_version(cert) != 2 ||
	    X509_NAME_get_index_by_NID(s, NID_countryName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(s, NID_organizationName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(s, NID_commonName, -1) < 0 ||
	    strcmp(oubuf, "Authenticator Attestation") != 0 ||
	    (X509_get_extension_flags(cert) & EXFLAG_CA)) {
		llv_info("verify: packed attestation certificate profile not met");
		return VERIFY_ERR_WA_ATT_CERT;
	}
	if (X509_cmp_time(X509_get0_notBefore(cert), &now) >= 0 ||
	    X509_cmp_time(X509_get0_notAfter(cert), &now) <= 0)
		return VERIFY_ERR_WA_ATT_CERT;
	return VERIFY_OK;
}

static int fmt_packed(const cbor_item_t *stmt, const uint8_t *ad, size_t ad_len,
		      const uint8_t cdh[32], const struct verify_authdata *a,
		      EVP_PKEY *cred_key, long cred_alg,
		      const struct verify_webauthn_reg_opts *o,
		      enum verify_attestation_type *type)
{
	int64_t alg;
	const uint8_t *sig;
	size_t sig_len;
	const cbor_item_t *x5c_item = verify_cbor_map_str(stmt, "x5c");
	size_t n_members = 2 + (x5c_item ? 1 : 0);
	if (verify_cbor_int(verify_cbor_map_str(stmt, "alg"), &alg) != 0 ||
	    verify_cbor_bytes(verify_cbor_map_str(stmt, "sig"), &sig, &sig_len) != 0 ||
	    cbor_map_size(stmt) != n_members)
		return VERIFY_ERR_WA_ATT_STATEMENT;

	struct llv_buf signed_data = LLV_BUF_INIT;
	llv_buf_put(&signed_data, ad, ad_len);
	llv_buf_put(&signed_data, cdh, 32);
	if (!llv_buf_ok(&signed_data))
		return VERIFY_ERR_NOMEM;
	int rc;
	if (!x5c_item) {
		/* Self attestation: alg is the credential's, signed by it. */
		if (alg != cred_alg)
			rc = VERIFY_ERR_WA_ATT_STATEMENT;
		else
			rc = verify_cose_verify(cred_key, cred_alg, signed_data.data, signed_data.len,
						sig, sig_len, VERIFY_ERR_WA_ATT_SIGNATURE);
		if (rc == VERIFY_OK) {
			*type = VERIFY_ATT_SELF;
			if (o->require_attestation)
				rc = VERIFY_ERR_WA_ATT_UNTRUSTED;
		}
		llv_buf_free(&signed_data);
		return rc;
	}
	STACK_OF(X509) *x5c = NULL;
	rc = parse_x5c(x5c_item, &x5c);
	if (rc == VERIFY_OK) {
		X509 *leaf = sk_X509_value(x5c, 0);
		EVP_PKEY *pk = X509_get0_pubkey(leaf);
		if (!pk || verify_cose_alg_for_key(pk) != alg)
			rc = VERIFY_ERR_WA_ATT_STATEMENT;
		else
			rc = verify_cose_verify(pk, (long)alg, signed_data.data, signed_data.len,
						sig, sig_len, VERIFY_ERR_WA_ATT_SIGNATURE);
		if (rc == VERIFY_OK)
			rc = packed_cert_ok(leaf, o->now);
		if (rc == VERIFY_OK)
			rc = check_aaguid_ext(leaf, a->aaguid);
		if (rc == VERIFY_OK)
			rc = attestation_trust(x5c, o, type);
	}
	sk_X509_pop_free(x5c, X509_free);
	llv_buf_free(&signed_data);
	return rc;
}

static int fmt_fido_u2f(const cbor_item_t *stmt, const uint8_t cdh[32],
			const struct verify_authdata *a, EVP_PKEY *cred_key, long cred_alg,
			const struct verify_webauthn_reg_opts *o,
			enum verify_attestation_type *type)
{
	const uint8_t *sig;
	size_t sig_len;
	const cbor_item_t *x5c_item = verify_cbor_map_str(stmt, "x5c");
	if (verify_cbor_bytes(verify_cbor_map_str(stmt, "sig"), &sig, &sig_len) != 0 ||
	    !x5c_item || cbor_map_size(stmt) != 2 || !cbor_isa_array(x5c_item) ||
	    cbor_array_size(x5c_item) != 1)
		return VERIFY_ERR_WA_ATT_STATEMENT;
	if (cred_alg != VERIFY_COSE_ES256)
		return VERIFY_ERR_WA_COSE_KEY;
	STACK_OF(X509) *x5c = NULL;
	int rc = parse_x5c(x5c_item, &x5c);
	if (rc != VERIFY_OK)
		return rc;
	X509 *leaf = sk_X509_value(x5c, 0);
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	uint8_t pub[65];
	size_t pub_len = 0;
	struct llv_buf v = LLV_BUF_INIT;
	if (!pk || verify_cose_alg_for_key(pk) != VERIFY_COSE_ES256) {
		rc = VERIFY_ERR_WA_ATT_CERT;
	} else if (EVP_PKEY_get_octet_string_param(cred_key, OSSL_PKEY_PARAM_PUB_KEY, pub,
						   sizeof(pub), &pub_len) != 1 ||
		   pub_len != sizeof(pub) || pub[0] != 0x04) {
		rc = VERIFY_ERR_WA_COSE_KEY;
	} else {
		/* 0x00 || rpIdHash || clientDataHash || credentialId || 04 x y */
		llv_buf_put_u8(&v, 0x00);
		llv_buf_put(&v, a->rp_id_hash, 32);
		llv_buf_put(&v, cdh, 32);
		llv_buf_put(&v, a->cred_id, a->cred_id_len);
		llv_buf_put(&v, pub, sizeof(pub));
		if (!llv_buf_ok(&v))
			rc = VERIFY_ERR_NOMEM;
		else
			rc = verify_cose_verify(pk, VERIFY_COSE_ES256, v.data, v.len, sig, sig_len,
						VERIFY_ERR_WA_ATT_SIGNATURE);
	}
	if (rc == VERIFY_OK)
		rc = attestation_trust(x5c, o, type);
	llv_buf_free(&v);
	sk_X509_pop_free(x5c, X509_free);
	ERR_clear_error();
	return rc;
}

int verify_webauthn_attestation(const uint8_t *ao, size_t ao_len,
				const uint8_t cdh[32],
				const struct verify_webauthn_reg_opts *o,
				struct verify_webauthn_credential *out)
{
	if (!out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!o || !o->rp || !cdh)
		return VERIFY_ERR_ARGUMENT;
	if (!ao || ao_len == 0 || ao_len > ATT_OBJECT_MAX)
		return VERIFY_ERR_WA_ATTESTATION;
	struct verify_webauthn_reg_opts opts = *o;
	if (opts.now == 0)
		opts.now = time(NULL);

	cbor_item_t *root = verify_cbor_load(ao, ao_len, true, NULL);
	const cbor_item_t *fmt = NULL, *stmt = NULL, *adi = NULL;
	const uint8_t *ad = NULL;
	size_t ad_len = 0;
	EVP_PKEY *cred_key = NULL;
	long cred_alg = 0;
	struct verify_authdata a;
	enum verify_attestation_type type = VERIFY_ATT_NONE;
	int rc = VERIFY_ERR_WA_ATTESTATION;
	if (!root || !verify_cbor_map_ok(root) || cbor_map_size(root) != 3)
		goto out;
	fmt = verify_cbor_map_str(root, "fmt");
	stmt = verify_cbor_map_str(root, "attStmt");
	adi = verify_cbor_map_str(root, "authData");
	if (!fmt || !cbor_isa_string(fmt) || !stmt || !verify_cbor_map_ok(stmt) ||
	    verify_cbor_bytes(adi, &ad, &ad_len) != 0)
		goto out;
	rc = verify_authdata_parse(ad, ad_len, &a);
	if (rc != VERIFY_OK)
		goto out;
	rc = verify_authdata_check(&a, opts.rp);
	if (rc != VERIFY_OK)
		goto out;
	if (!a.has_credential) {
		rc = VERIFY_ERR_WA_NO_CREDENTIAL;
		goto out;
	}
	rc = verify_cose_key_decode(a.cose_key, a.cose_key_len, &cred_key, &cred_alg);
	if (rc != VERIFY_OK)
		goto out;

	if (verify_cbor_text_is(fmt, "none")) {
		rc = cbor_map_size(stmt) == 0 ? VERIFY_OK : VERIFY_ERR_WA_ATT_STATEMENT;
		if (rc == VERIFY_OK && opts.require_attestation)
			rc = VERIFY_ERR_WA_ATT_UNTRUSTED;
	} else if (verify_cbor_text_is(fmt, "packed")) {
		rc = fmt_packed(stmt, ad, ad_len, cdh, &a, cred_key, cred_alg, &opts, &type);
	} else if (verify_cbor_text_is(fmt, "fido-u2f")) {
		static const uint8_t zero[16];
		rc = memcmp(a.aaguid, zero, 16) == 0
			     ? fmt_fido_u2f(stmt, cdh, &a, cred_key, cred_alg, &opts, &type)
			     : VERIFY_ERR_WA_ATT_AAGUID;
	} else {
		rc = VERIFY_ERR_WA_ATT_FORMAT;
	}
	if (rc != VERIFY_OK)
		goto out;

	rc = verify_cose_spki_encode(cred_key, &out->public_key_spki, &out->public_key_spki_len);
	if (rc != VERIFY_OK)
		goto out;
	out->cred_id = malloc(a.cred_id_len);
	if (!out->cred_id) {
		rc = VERIFY_ERR_NOMEM;
		goto out;
	}
	memcpy(out->cred_id, a.cred_id, a.cred_id_len);
	out->cred_id_len = a.cred_id_len;
	out->cose_alg = cred_alg;
	out->sign_count = a.sign_count;
	memcpy(out->aaguid, a.aaguid, 16);
	out->flags = a.flags;
	size_t fl = cbor_string_length(fmt);
	memcpy(out->fmt, cbor_string_handle(fmt), fl < sizeof(out->fmt) ? fl : sizeof(out->fmt) - 1);
	out->attestation = type;
out:
	if (rc != VERIFY_OK) {
		llv_info("verify: registration rejected: %s", verify_error_id(rc));
		verify_webauthn_credential_clear(out);
	}
	EVP_PKEY_free(cred_key);
	if (root)
		cbor_decref(&root);
	return rc;
}

int verify_webauthn_register(const uint8_t *cdj, size_t cdj_len,
			     const uint8_t *ao, size_t ao_len,
			     const struct verify_webauthn_reg_opts *o,
			     struct verify_webauthn_credential *out)
{
	if (!out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!o || !o->rp || !o->challenge)
		return VERIFY_ERR_ARGUMENT;
	struct verify_client_data cd;
	int rc = verify_client_data_parse(cdj, cdj_len, &cd);
	if (rc != VERIFY_OK)
		return rc;
	rc = verify_client_data_check(&cd, "webauthn.create", o->challenge, o->challenge_len, o->rp);
	verify_client_data_clear(&cd);
	if (rc != VERIFY_OK)
		return rc;
	uint8_t cdh[32];
	SHA256(cdj, cdj_len, cdh);
	return verify_webauthn_attestation(ao, ao_len, cdh, o, out);
}
