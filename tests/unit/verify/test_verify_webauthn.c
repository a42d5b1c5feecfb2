/* WebAuthn registration and authentication responses made here with OpenSSL
 * and libcbor (attestation none, packed self, packed x5c, fido-u2f; ES256,
 * EdDSA, RS256): the good ones verify, each tampering is refused with its own
 * code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "verify_cose.h"
#include "verify_errors.h"
#include "verify_webauthn_auth.h"
#include "verify_webauthn_reg.h"

#include "base64url.h"
#include "buf.h"

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RP_ID "localhost"
#define ORIGIN "http://localhost:8080"

static const char *const origins[] = { ORIGIN };
static const uint8_t challenge[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t aaguid[16] = { 0x4c, 0x6c, 0x61, 0x76, 0x65, 0x72, 0x6f, 0x2d,
				    0x74, 0x65, 0x73, 0x74, 0x2d, 0x61, 0x61, 0x67 };
static const uint8_t cred_id[20] = "credential-id-test!";

/* ---- builders -------------------------------------------------------- */

static EVP_PKEY *keygen(long alg)
{
	if (alg == VERIFY_COSE_ES256)
		return EVP_EC_gen("P-256");
	if (alg == VERIFY_COSE_EDDSA)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_RSA_gen(2048);
}

static void put_bytes(cbor_item_t *map, int64_t key, const uint8_t *p, size_t n)
{
	cbor_item_t *k = key < 0 ? cbor_build_negint64((uint64_t)(-1 - key)) : cbor_build_uint64((uint64_t)key);
	cbor_map_add(map, (struct cbor_pair){ cbor_move(k), cbor_move(cbor_build_bytestring(p, n)) });
}

static void put_int(cbor_item_t *map, int64_t key, int64_t v)
{
	cbor_item_t *k = key < 0 ? cbor_build_negint64((uint64_t)(-1 - key)) : cbor_build_uint64((uint64_t)key);
	cbor_item_t *val = v < 0 ? cbor_build_negint64((uint64_t)(-1 - v)) : cbor_build_uint64((uint64_t)v);
	cbor_map_add(map, (struct cbor_pair){ cbor_move(k), cbor_move(val) });
}

static void cbor_out(cbor_item_t *it, struct llv_buf *b)
{
	unsigned char *buf = NULL;
	size_t sz = 0;
	size_t n = cbor_serialize_alloc(it, &buf, &sz);
	llv_buf_put(b, buf, n);
	free(buf);
}

static void cose_key(EVP_PKEY *pk, long alg, struct llv_buf *b)
{
	cbor_item_t *m = cbor_new_definite_map(5);
	if (alg == VERIFY_COSE_ES256) {
		uint8_t pt[65];
		size_t n;
		assert_int_equal(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, 65, &n), 1);
		put_int(m, 1, 2);
		put_int(m, 3, -7);
		put_int(m, -1, 1);
		put_bytes(m, -2, pt + 1, 32);
		put_bytes(m, -3, pt + 33, 32);
	} else if (alg == VERIFY_COSE_EDDSA) {
		uint8_t x[32];
		size_t n = 32;
		assert_int_equal(EVP_PKEY_get_raw_public_key(pk, x, &n), 1);
		put_int(m, 1, 1);
		put_int(m, 3, -8);
		put_int(m, -1, 6);
		put_bytes(m, -2, x, 32);
	} else {
		BIGNUM *n = NULL, *e = NULL;
		EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
		EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
		uint8_t nb[512], eb[8];
		int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
		put_int(m, 1, 3);
		put_int(m, 3, -257);
		put_bytes(m, -1, nb, (size_t)nl);
		put_bytes(m, -2, eb, (size_t)el);
		BN_free(n);
		BN_free(e);
	}
	cbor_out(m, b);
	cbor_decref(&m);
}

static void auth_data(struct llv_buf *b, const char *rp_id, uint8_t flags, uint32_t count,
		      EVP_PKEY *cred, long alg, const uint8_t *guid)
{
	uint8_t h[32];
	SHA256((const uint8_t *)rp_id, strlen(rp_id), h);
	llv_buf_put(b, h, 32);
	llv_buf_put_u8(b, flags | (cred ? VERIFY_AD_AT : 0));
	llv_buf_put_be32(b, count);
	if (cred) {
		llv_buf_put(b, guid, 16);
		llv_buf_put_be16(b, sizeof(cred_id));
		llv_buf_put(b, cred_id, sizeof(cred_id));
		cose_key(cred, alg, b);
	}
}

static char *client_data(const char *type, const uint8_t *chal, const char *origin)
{
	char *c = llv_base64url_encode(chal, 32);
	char *out = malloc(512);
	snprintf(out, 512, "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}",
		 type, c, origin);
	free(c);
	return out;
}

static void sign(EVP_PKEY *k, long alg, const uint8_t *d, size_t n, struct llv_buf *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t sl = 0;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, alg == VERIFY_COSE_EDDSA ? NULL : EVP_sha256(), NULL, k), 1);
	if (alg == VERIFY_COSE_RS256)
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
	assert_int_equal(EVP_DigestSign(ctx, NULL, &sl, d, n), 1);
	llv_buf_reserve(sig, sl);
	assert_int_equal(EVP_DigestSign(ctx, sig->data + sig->len, &sl, d, n), 1);
	sig->len += sl;
	EVP_MD_CTX_free(ctx);
}

/* A CA and an attestation certificate under it (packed profile). */
static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, const char *cn, bool is_ca,
		       const uint8_t *guid)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), is_ca ? 1 : 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"MX", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Llavero Pruebas", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Authenticator Attestation", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
						is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (is_ca) {
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (guid) {
		uint8_t der[18] = { 0x04, 0x10 };
		memcpy(der + 2, guid, 16);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(os, der, 18);
		ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
		e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(oid);
		ASN1_OCTET_STRING_free(os);
	}
	X509_sign(x, ca_key, EVP_sha256());
	return x;
}

struct fx {
	EVP_PKEY *att_ca_key, *att_key, *other_ca_key;
	X509 *att_ca, *att_cert, *att_cert_badguid, *other_ca;
	struct verify_trust *trust, *other_trust;
	struct verify_webauthn_rp rp;
	struct verify_webauthn_reg_opts reg;
};

static struct fx F;

static int group_setup(void **state)
{
	F.att_ca_key = EVP_EC_gen("P-256");
	F.att_key = EVP_EC_gen("P-256");
	F.other_ca_key = EVP_EC_gen("P-256");
	F.att_ca = make_cert(F.att_ca_key, F.att_ca_key, NULL, "Llavero Attestation CA", true, NULL);
	F.other_ca = make_cert(F.other_ca_key, F.other_ca_key, NULL, "Otra CA", true, NULL);
	F.att_cert = make_cert(F.att_key, F.att_ca_key, F.att_ca, "Llavero vkey", false, aaguid);
	static const uint8_t other_guid[16] = { 9 };
	F.att_cert_badguid = make_cert(F.att_key, F.att_ca_key, F.att_ca, "Llavero vkey", false, other_guid);
	F.trust = verify_trust_new();
	verify_trust_add_x509(F.trust, F.att_ca);
	F.other_trust = verify_trust_new();
	verify_trust_add_x509(F.other_trust, F.other_ca);
	return 0;
}

static int group_teardown(void **state)
{
	EVP_PKEY_free(F.att_ca_key);
	EVP_PKEY_free(F.att_key);
	EVP_PKEY_free(F.other_ca_key);
	X509_free(F.att_ca);
	X509_free(F.att_cert);
	X509_free(F.att_cert_badguid);
	X509_free(F.other_ca);
	verify_trust_free(F.trust);
	verify_trust_free(F.other_trust);
	return 0;
}

static int setup(void **state)
{
	memset(&F.rp, 0, sizeof(F.rp));
	F.rp.rp_id = RP_ID;
	F.rp.origins = origins;
	F.rp.n_origins = 1;
	memset(&F.reg, 0, sizeof(F.reg));
	F.reg.rp = &F.rp;
	F.reg.challenge = challenge;
	F.reg.challenge_len = sizeof(challenge);
	return 0;
}

/* What a registration test varies. */
struct reg_case {
	const char *fmt;          /* none, packed-self, packed-x5c, fido-u2f, or anything */
	long alg;
	const char *type, *origin, *rp_id;
	uint8_t flags;
	bool corrupt_sig, no_credential, badguid, nonempty_none, corrupt_key;
	const uint8_t *chal;
};

static int do_register(const struct reg_case *rc, EVP_PKEY *cred, struct verify_webauthn_credential *out)
{
	long alg = rc->alg ? rc->alg : VERIFY_COSE_ES256;
	char *cdj = client_data(rc->type ? rc->type : "webauthn.create", rc->chal ? rc->chal : challenge,
				rc->origin ? rc->origin : ORIGIN);
	uint8_t cdh[32];
	SHA256((uint8_t *)cdj, strlen(cdj), cdh);
	bool u2f = strcmp(rc->fmt, "fido-u2f") == 0;
	struct llv_buf ad = LLV_BUF_INIT;
	static const uint8_t zero[16];
	auth_data(&ad, rc->rp_id ? rc->rp_id : RP_ID, rc->flags ? rc->flags : VERIFY_AD_UP,
		  0, rc->no_credential ? NULL : cred, alg, u2f ? zero : aaguid);
	if (rc->corrupt_key) {
		/* break the COSE key's x coordinate: the point leaves the curve */
		ad.data[37 + 16 + 2 + sizeof(cred_id) + 12] ^= 0x55;
	}
	cbor_item_t *stmt = cbor_new_definite_map(3);
	struct llv_buf tbs = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	if (strcmp(rc->fmt, "none") == 0) {
		if (rc->nonempty_none)
			put_int(stmt, 1, 1);
	} else if (strncmp(rc->fmt, "packed", 6) == 0) {
		bool x5c = strcmp(rc->fmt, "packed-x5c") == 0;
		llv_buf_put(&tbs, ad.data, ad.len);
		llv_buf_put(&tbs, cdh, 32);
		sign(x5c ? F.att_key : cred, x5c ? VERIFY_COSE_ES256 : alg, tbs.data, tbs.len, &sig);
		if (rc->corrupt_sig)
			sig.data[sig.len / 2] ^= 1;
		cbor_map_add(stmt, (struct cbor_pair){ cbor_move(cbor_build_string("alg")),
			cbor_move(cbor_build_negint64((uint64_t)(-1 - (x5c ? VERIFY_COSE_ES256 : alg)))) });
		cbor_map_add(stmt, (struct cbor_pair){ cbor_move(cbor_build_string("sig")),
			cbor_move(cbor_build_bytestring(sig.data, sig.len)) });
		if (x5c) {
			cbor_item_t *arr = cbor_new_definite_array(1);
			unsigned char *der = NULL;
			int n = i2d_X509(rc->badguid ? F.att_cert_badguid : F.att_cert, &der);
			cbor_array_push(arr, cbor_move(cbor_build_bytestring(der, (size_t)n)));
			OPENSSL_free(der);
			cbor_map_add(stmt, (struct cbor_pair){ cbor_move(cbor_build_string("x5c")), cbor_move(arr) });
		}
	} else if (u2f) {
		uint8_t pt[65];
		size_t n;
		EVP_PKEY_get_octet_string_param(cred, OSSL_PKEY_PARAM_PUB_KEY, pt, 65, &n);
		llv_buf_put_u8(&tbs, 0);
		llv_buf_put(&tbs, ad.data, 32);
		llv_buf_put(&tbs, cdh, 32);
		llv_buf_put(&tbs, cred_id, sizeof(cred_id));
		llv_buf_put(&tbs, pt, 65);
		sign(F.att_key, VERIFY_COSE_ES256, tbs.data, tbs.len, &sig);
		if (rc->corrupt_sig)
			sig.data[sig.len / 2] ^= 1;
		cbor_map_add(stmt, (struct cbor_pair){ cbor_move(cbor_build_string("sig")),
			cbor_move(cbor_build_bytestring(sig.data, sig.len)) });
		cbor_item_t *arr = cbor_new_definite_array(1);
		unsigned char *der = NULL;
		int dl = i2d_X509(F.att_cert, &der);
		cbor_array_push(arr, cbor_move(cbor_build_bytestring(der, (size_t)dl)));
		OPENSSL_free(der);
		cbor_map_add(stmt, (struct cbor_pair){ cbor_move(cbor_build_string("x5c")), cbor_move(arr) });
	}
	cbor_item_t *ao = cbor_new_definite_map(3);
	const char *fmt = strncmp(rc->fmt, "packed", 6) == 0 ? "packed" : rc->fmt;
	cbor_map_add(ao, (struct cbor_pair){ cbor_move(cbor_build_string("fmt")), cbor_move(cbor_build_string(fmt)) });
	cbor_map_add(ao, (struct cbor_pair){ cbor_move(cbor_build_string("attStmt")), cbor_move(stmt) });
	cbor_map_add(ao, (struct cbor_pair){ cbor_move(cbor_build_string("authData")),
		cbor_move(cbor_build_bytestring(ad.data, ad.len)) });
	struct llv_buf aob = LLV_BUF_INIT;
	cbor_out(ao, &aob);
	cbor_decref(&ao);
	int r = verify_webauthn_register((uint8_t *)cdj, strlen(cdj), aob.data, aob.len, &F.reg, out);
	llv_buf_free(&aob);
	llv_buf_free(&ad);
	llv_buf_free(&tbs);
	llv_buf_free(&sig);
	free(cdj);
	return r;
}

static int reg(const struct reg_case *rc)
{
	EVP_PKEY *k = keygen(rc->alg ? rc->alg : VERIFY_COSE_ES256);
	struct verify_webauthn_credential c;
	int r = do_register(rc, k, &c);
	verify_webauthn_credential_clear(&c);
	EVP_PKEY_free(k);
	return r;
}

/* ---- registration ---------------------------------------------------- */

static void test_reg_none(void **state)
{
	EVP_PKEY *k = keygen(VERIFY_COSE_ES256);
	struct verify_webauthn_credential c;
	assert_int_equal(do_register(&(struct reg_case){ .fmt = "none" }, k, &c), VERIFY_OK);
	assert_int_equal(c.attestation, VERIFY_ATT_NONE);
	assert_int_equal(c.cose_alg, VERIFY_COSE_ES256);
	assert_memory_equal(c.cred_id, cred_id, sizeof(cred_id));
	assert_memory_equal(c.aaguid, aaguid, 16);
	assert_string_equal(c.fmt, "none");
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(k, &spki);
	assert_int_equal((size_t)n, c.public_key_spki_len);
	assert_memory_equal(spki, c.public_key_spki, (size_t)n);
	OPENSSL_free(spki);
	verify_webauthn_credential_clear(&c);
	EVP_PKEY_free(k);
}

static void test_reg_packed_self(void **state)
{
	long algs[] = { VERIFY_COSE_ES256, VERIFY_COSE_EDDSA, VERIFY_COSE_RS256 };
	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *k = keygen(algs[i]);
		struct verify_webauthn_credential c;
		assert_int_equal(do_register(&(struct reg_case){ .fmt = "packed-self", .alg = algs[i] }, k, &c),
				 VERIFY_OK);
		assert_int_equal(c.attestation, VERIFY_ATT_SELF);
		assert_int_equal(c.cose_alg, algs[i]);
		verify_webauthn_credential_clear(&c);
		EVP_PKEY_free(k);
	}
	assert_int_equal(reg(&(struct reg_case){ .fmt = "packed-self", .corrupt_sig = true }),
			 VERIFY_ERR_WA_ATT_SIGNATURE);
	F.reg.require_attestation = true;
	assert_int_equal(reg(&(struct reg_case){ .fmt = "packed-self" }), VERIFY_ERR_WA_ATT_UNTRUSTED);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none" }), VERIFY_ERR_WA_ATT_UNTRUSTED);
}

static void test_reg_packed_x5c(void **state)
{
	EVP_PKEY *k = keygen(VERIFY_COSE_ES256);
	struct verify_webauthn_credential c;
	assert_int_equal(do_register(&(struct reg_case){ .fmt = "packed-x5c" }, k, &c), VERIFY_OK);
	assert_int_equal(c.attestation, VERIFY_ATT_UNVERIFIED);
	verify_webauthn_credential_clear(&c);
	F.reg.attestation_trust = F.trust;
	assert_int_equal(do_register(&(struct reg_case){ .fmt = "packed-x5c" }, k, &c), VERIFY_OK);
	assert_int_equal(c.attestation, VERIFY_ATT_BASIC);
	verify_webauthn_credential_clear(&c);
	EVP_PKEY_free(k);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "packed-x5c", .badguid = true }),
			 VERIFY_ERR_WA_ATT_AAGUID);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "packed-x5c", .corrupt_sig = true }),
			 VERIFY_ERR_WA_ATT_SIGNATURE);
	F.reg.attestation_trust = F.other_trust;
	assert_int_equal(reg(&(struct reg_case){ .fmt = "packed-x5c" }), VERIFY_ERR_WA_ATT_UNTRUSTED);
}

static void test_reg_fido_u2f(void **state)
{
	F.reg.attestation_trust = F.trust;
	EVP_PKEY *k = keygen(VERIFY_COSE_ES256);
	struct verify_webauthn_credential c;
	assert_int_equal(do_register(&(struct reg_case){ .fmt = "fido-u2f" }, k, &c), VERIFY_OK);
	assert_int_equal(c.attestation, VERIFY_ATT_BASIC);
	assert_string_equal(c.fmt, "fido-u2f");
	verify_webauthn_credential_clear(&c);
	EVP_PKEY_free(k);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "fido-u2f", .corrupt_sig = true }),
			 VERIFY_ERR_WA_ATT_SIGNATURE);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "fido-u2f", .alg = VERIFY_COSE_EDDSA }),
			 VERIFY_ERR_WA_COSE_KEY);
}

static void test_reg_tampered(void **state)
{
	static const uint8_t other_chal[32] = { 0xee };
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .type = "webauthn.get" }), VERIFY_ERR_WA_TYPE);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .chal = other_chal }), VERIFY_ERR_WA_CHALLENGE);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .origin = "https://evil.example" }),
			 VERIFY_ERR_WA_ORIGIN);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .rp_id = "evil.example" }), VERIFY_ERR_WA_RP_ID);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .flags = VERIFY_AD_UV }),
			 VERIFY_ERR_WA_USER_PRESENT);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .no_credential = true }),
			 VERIFY_ERR_WA_NO_CREDENTIAL);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .nonempty_none = true }),
			 VERIFY_ERR_WA_ATT_STATEMENT);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "tpm" }), VERIFY_ERR_WA_ATT_FORMAT);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .corrupt_key = true }), VERIFY_ERR_WA_COSE_KEY);
	F.rp.require_uv = true;
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none" }), VERIFY_ERR_WA_USER_VERIFIED);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .flags = VERIFY_AD_UP | VERIFY_AD_UV }), VERIFY_OK);
}

static void test_reg_malformed(void **state)
{
	struct verify_webauthn_credential c;
	char *cdj = client_data("webauthn.create", challenge, ORIGIN);
	static const uint8_t junk[] = { 0xa3, 0x63, 'f', 'm', 't' };
	assert_int_equal(verify_webauthn_register((uint8_t *)cdj, strlen(cdj), junk, sizeof(junk), &F.reg, &c),
			 VERIFY_ERR_WA_ATTESTATION);
	assert_null(c.cred_id);
	static const uint8_t empty_map[] = { 0xa0 };
	assert_int_equal(verify_webauthn_register((uint8_t *)cdj, strlen(cdj), empty_map, 1, &F.reg, &c),
			 VERIFY_ERR_WA_ATTESTATION);
	assert_int_equal(verify_webauthn_register((uint8_t *)"{\"type\":", 8, empty_map, 1, &F.reg, &c),
			 VERIFY_ERR_WA_CLIENT_DATA);
	const char *no_chal = "{\"type\":\"webauthn.create\",\"origin\":\"" ORIGIN "\"}";
	assert_int_equal(verify_webauthn_register((uint8_t *)no_chal, strlen(no_chal), empty_map, 1, &F.reg, &c),
			 VERIFY_ERR_WA_CLIENT_DATA);
	const char *cross = "{\"type\":\"webauthn.create\",\"challenge\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\","
			    "\"origin\":\"" ORIGIN "\",\"crossOrigin\":true}";
	assert_int_equal(verify_webauthn_register((uint8_t *)cross, strlen(cross), empty_map, 1, &F.reg, &c),
			 VERIFY_ERR_WA_CROSS_ORIGIN);
	/* A map header declaring ~2^32 members in a few bytes (found by
	 * fuzz_attestation_cbor: libcbor allocated it before reading). */
	uint8_t *huge = NULL;
	size_t huge_len = 0;
	const char *b64 = "o2NmbXRkbm9uZWdhdHRTdG10uqBoYXV0aERhdGFYJQAAAEMAAAAAAAAEAAAAAAAAAAAAAAB1dGgAAA==";
	assert_int_equal(llv_base64_decode(b64, strlen(b64), &huge, &huge_len), 0);
	assert_int_equal(verify_webauthn_register((uint8_t *)cdj, strlen(cdj), huge, huge_len, &F.reg, &c),
			 VERIFY_ERR_WA_ATTESTATION);
	free(huge);
	static const uint8_t indefinite[] = { 0xbf, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e', 0xff };
	assert_int_equal(verify_webauthn_register((uint8_t *)cdj, strlen(cdj), indefinite, sizeof(indefinite),
						  &F.reg, &c), VERIFY_ERR_WA_ATTESTATION);
	free(cdj);

	/* authenticator data with a trailing byte */
	struct verify_authdata a;
	struct llv_buf ad = LLV_BUF_INIT;
	auth_data(&ad, RP_ID, VERIFY_AD_UP, 1, NULL, 0, aaguid);
	assert_int_equal(verify_authdata_parse(ad.data, ad.len, &a), VERIFY_OK);
	llv_buf_put_u8(&ad, 0);
	assert_int_equal(verify_authdata_parse(ad.data, ad.len, &a), VERIFY_ERR_WA_AUTH_DATA);
	assert_int_equal(verify_authdata_parse(ad.data, 20, &a), VERIFY_ERR_WA_AUTH_DATA);
	llv_buf_free(&ad);
}

/* ---- authentication --------------------------------------------------- */

struct auth_case {
	long alg;
	const char *type, *origin, *rp_id;
	uint8_t flags;
	uint32_t count, stored;
	bool corrupt_sig, garbage_key;
	const uint8_t *chal;
};

static int authn(const struct auth_case *c)
{
	long alg = c->alg ? c->alg : VERIFY_COSE_ES256;
	EVP_PKEY *k = keygen(alg);
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(k, &spki);
	char *cdj = client_data(c->type ? c->type : "webauthn.get", c->chal ? c->chal : challenge,
				c->origin ? c->origin : ORIGIN);
	uint8_t cdh[32];
	SHA256((uint8_t *)cdj, strlen(cdj), cdh);
	struct llv_buf ad = LLV_BUF_INIT, tbs = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	auth_data(&ad, c->rp_id ? c->rp_id : RP_ID, c->flags ? c->flags : VERIFY_AD_UP, c->count, NULL, 0, NULL);
	llv_buf_put(&tbs, ad.data, ad.len);
	llv_buf_put(&tbs, cdh, 32);
	sign(k, alg, tbs.data, tbs.len, &sig);
	if (c->corrupt_sig)
		sig.data[sig.len - 3] ^= 0x10;
	if (c->garbage_key)
		spki[spki_len / 2] ^= 0xff;
	struct verify_webauthn_auth_opts o = {
		.rp = &F.rp, .challenge = challenge, .challenge_len = sizeof(challenge),
		.public_key_spki = spki, .public_key_spki_len = (size_t)spki_len,
		.cose_alg = alg, .stored_sign_count = c->stored,
	};
	struct verify_webauthn_assertion out;
	int r = verify_webauthn_authenticate((uint8_t *)cdj, strlen(cdj), ad.data, ad.len, sig.data, sig.len,
					     &o, &out);
	if (r == VERIFY_OK)
		assert_int_equal(out.sign_count, c->count);
	OPENSSL_free(spki);
	free(cdj);
	llv_buf_free(&ad);
	llv_buf_free(&tbs);
	llv_buf_free(&sig);
	EVP_PKEY_free(k);
	return r;
}

static void test_auth_algorithms(void **state)
{
	assert_int_equal(authn(&(struct auth_case){ .alg = VERIFY_COSE_ES256, .count = 5, .stored = 4 }), VERIFY_OK);
	assert_int_equal(authn(&(struct auth_case){ .alg = VERIFY_COSE_EDDSA, .count = 1 }), VERIFY_OK);
	assert_int_equal(authn(&(struct auth_case){ .alg = VERIFY_COSE_RS256, .count = 9, .stored = 2 }), VERIFY_OK);
	/* 0/0: authenticators without a counter */
	assert_int_equal(authn(&(struct auth_case){ .count = 0, .stored = 0 }), VERIFY_OK);
}

static void test_auth_tampered(void **state)
{
	static const uint8_t other_chal[32] = { 0xee };
	assert_int_equal(authn(&(struct auth_case){ .corrupt_sig = true }), VERIFY_ERR_WA_SIGNATURE);
	assert_int_equal(authn(&(struct auth_case){ .alg = VERIFY_COSE_EDDSA, .corrupt_sig = true }),
			 VERIFY_ERR_WA_SIGNATURE);
	assert_int_equal(authn(&(struct auth_case){ .alg = VERIFY_COSE_RS256, .corrupt_sig = true }),
			 VERIFY_ERR_WA_SIGNATURE);
	assert_int_equal(authn(&(struct auth_case){ .origin = "https://evil.example" }), VERIFY_ERR_WA_ORIGIN);
	assert_int_equal(authn(&(struct auth_case){ .chal = other_chal }), VERIFY_ERR_WA_CHALLENGE);
	assert_int_equal(authn(&(struct auth_case){ .rp_id = "evil.example" }), VERIFY_ERR_WA_RP_ID);
	assert_int_equal(authn(&(struct auth_case){ .type = "webauthn.create" }), VERIFY_ERR_WA_TYPE);
	assert_int_equal(authn(&(struct auth_case){ .flags = VERIFY_AD_UV }), VERIFY_ERR_WA_USER_PRESENT);
	assert_int_equal(authn(&(struct auth_case){ .count = 3, .stored = 7 }), VERIFY_ERR_WA_COUNTER);
	assert_int_equal(authn(&(struct auth_case){ .count = 7, .stored = 7 }), VERIFY_ERR_WA_COUNTER);
	assert_int_equal(authn(&(struct auth_case){ .count = 0, .stored = 7 }), VERIFY_ERR_WA_COUNTER);
	assert_int_equal(authn(&(struct auth_case){ .garbage_key = true }), VERIFY_ERR_WA_CREDENTIAL_KEY);
	F.rp.require_uv = true;
	assert_int_equal(authn(&(struct auth_case){ .flags = VERIFY_AD_UP }), VERIFY_ERR_WA_USER_VERIFIED);
	assert_int_equal(authn(&(struct auth_case){ .flags = VERIFY_AD_UP | VERIFY_AD_UV }), VERIFY_OK);
}

/* An RP ID that is a public suffix is refused with its own error, even when
 * the authenticator signed for it (libpsl, common/rpid.c, as the bridge). */
static void test_rp_id_public_suffix(void **state)
{
	static const char *const gob[] = { "https://login.gob.mx" };
	F.rp.origins = gob;
	F.rp.n_origins = 1;
	static const char *const suffixes[] = { "gob.mx", "com.mx", "mx", "github.io", "com" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		F.rp.rp_id = suffixes[i];
		assert_int_equal(authn(&(struct auth_case){ .origin = gob[0], .rp_id = suffixes[i] }),
				 VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX);
		assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .origin = gob[0], .rp_id = suffixes[i] }),
				 VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX);
	}
	F.rp.rp_id = "login.gob.mx";
	assert_int_equal(authn(&(struct auth_case){ .origin = gob[0], .rp_id = "login.gob.mx" }), VERIFY_OK);
	assert_int_equal(reg(&(struct reg_case){ .fmt = "none", .origin = gob[0], .rp_id = "login.gob.mx" }),
			 VERIFY_OK);
	assert_string_equal(verify_error_id(VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX), "webauthn-rp-id-public-suffix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
		T(test_reg_none),
		T(test_reg_packed_self),
		T(test_reg_packed_x5c),
		T(test_reg_fido_u2f),
		T(test_reg_tampered),
		T(test_reg_malformed),
		T(test_auth_algorithms),
		T(test_auth_tampered),
		T(test_rp_id_public_suffix),
#undef T
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
