/* Private keys of the PIV slots on OpenSSL 3: the algorithm of a key, key
 * generation, keys built from YubiKey IMPORT components, the public key
 * template (7F49) and the private-key operations of GENERAL AUTHENTICATE. */
#include "piv_internal.h"

#include <stdio.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

static size_t ec_field_len(uint8_t alg)
{
	return alg == PIV_ALG_ECCP256 ? 32 : alg == PIV_ALG_ECCP384 ? 48 : 0;
}

static const char *ec_group_name(uint8_t alg)
{
	return alg == PIV_ALG_ECCP256 ? "prime256v1" : alg == PIV_ALG_ECCP384 ? "secp384r1" : NULL;
}

uint8_t piv_key_alg_of(EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	if (pkey == NULL)
		return 0;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		BIGNUM *e = NULL;
		uint8_t alg = 0;

		/* YubiKeys (and so IMPORT) assume e = 65537; keep every slot so. */
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_word(e, RSA_F4)) {
			if (EVP_PKEY_get_bits(pkey) == 2048)
				alg = PIV_ALG_RSA2048;
			else if (EVP_PKEY_get_bits(pkey) == 1024)
				alg = PIV_ALG_RSA1024;
		}
		BN_free(e);
		return alg;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) != 1)
			return 0;
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			return PIV_ALG_ECCP256;
		if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			return PIV_ALG_ECCP384;
	}
	return 0;
}

EVP_PKEY *piv_key_generate(uint8_t alg)
{
	EVP_PKEY *pkey = NULL;

	switch (alg) {
	case PIV_ALG_RSA1024:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	case PIV_ALG_RSA2048:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case PIV_ALG_ECCP256:
	case PIV_ALG_ECCP384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ec_group_name(alg));
		break;
	default:
		return NULL;
	}
	if (pkey == NULL)
		llv_error("piv: key generation failed (algorithm %02X)", alg);
	return pkey;
}

static void put_bn(struct llv_buf *out, uint32_t tag, const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	uint8_t tmp[1024];

	if (n <= 0 || n > (int)sizeof(tmp)) {
		out->failed = true;
		return;
	}
	BN_bn2bin(bn, tmp);
	llv_tlv_put(out, tag, tmp, (size_t)n);
}

int piv_key_put_public(struct llv_buf *out, EVP_PKEY *pkey, bool with_template)
{
	struct llv_buf t = LLV_BUF_INIT;
	int rc = -1;

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		BIGNUM *n = NULL, *e = NULL;

		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
			put_bn(&t, 0x81, n);
			put_bn(&t, 0x82, e);
			rc = 0;
		}
		BN_free(n);
		BN_free(e);
	} else {
		uint8_t point[256];
		size_t plen = 0;

		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point),
						    &plen) == 1 && plen > 0 && point[0] == 0x04) {
			llv_tlv_put(&t, 0x86, point, plen);
			rc = 0;
		}
	}
	if (rc == 0) {
		if (with_template)
			llv_tlv_put(out, 0x7F49, t.data, t.len);
		else
			llv_buf_put(out, t.data, t.len);
		if (!llv_buf_ok(&t) || !llv_buf_ok(out))
			rc = -1;
	}
	llv_buf_free(&t);
	return rc;
}

static BIGNUM *bn_secret(const uint8_t *v, size_t len)
{
	BIGNUM *bn = BN_secure_new();

	if (bn != NULL && (len > 0x7fffffff || BN_bin2bn(v, (int)len, bn) == NULL)) {
		BN_clear_free(bn);
		return NULL;
	}
	return bn;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params)  /* frees secure parts with a wipe */;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

EVP_PKEY *piv_key_from_rsa_crt(uint8_t alg, const uint8_t *p_v, size_t p_len, const uint8_t *q_v, size_t q_len,
			       const uint8_t *dp_v, size_t dp_len, const uint8_t *dq_v, size_t dq_len,
			       const uint8_t *qinv_v, size_t qinv_len)
{
	BIGNUM *p = bn_secret(p_v, p_len), *q = bn_secret(q_v, q_len);
	BIGNUM *dp = bn_secret(dp_v, dp_len), *dq = bn_secret(dq_v, dq_len);
	BIGNUM *qinv = bn_secret(qinv_v, qinv_len);
	BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_secure_new(), *phi = BN_secure_new();
	BIGNUM *p1 = BN_secure_new(), *q1 = BN_secure_new(), *t = BN_secure_new();
	BN_CTX *bnctx = BN_CTX_secure_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	int bits = alg == PIV_ALG_RSA2048 ? 2048 : alg == PIV_ALG_RSA1024 ? 1024 : 0;

	if (!p || !q || !dp || !dq || !qinv || !n || !e || !d || !phi || !p1 || !q1 || !t || !bnctx || !bld || bits == 0)
		goto out;
	if (BN_is_zero(p) || BN_is_zero(q) || BN_is_one(p) || BN_is_one(q) || BN_cmp(p, q) == 0)
		goto out;
	if (!BN_set_word(e, RSA_F4) || !BN_mul(n, p, q, bnctx) || BN_num_bits(n) != bits)
		goto out;
	if (!BN_sub(p1, p, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) || !BN_mul(phi, p1, q1, bnctx))
		goto out;
	if (BN_mod_inverse(d, e, phi, bnctx) == NULL)
		goto out;
	/* The CRT values must be those of e = 65537, as a YubiKey assumes. */
	if (!BN_mod(t, d, p1, bnctx) || BN_cmp(t, dp) != 0)
		goto out;
	if (!BN_mod(t, d, q1, bnctx) || BN_cmp(t, dq) != 0)
		goto out;
	if (BN_cmp(qinv, p) >= 0 || !BN_mod_mul(t, qinv, q, p, bnctx) || !BN_is_one(t))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv))
		goto out;
	pkey = pkey_from_params("RSA", bld);
out:
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(qinv);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(phi);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(t);
	BN_CTX_free(bnctx);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

EVP_PKEY *piv_key_from_ec_scalar(uint8_t alg, const uint8_t *d_v, size_t d_len)
{
	int nid = alg == PIV_ALG_ECCP256 ? NID_X9_62_prime256v1 : alg == PIV_ALG_ECCP384 ? NID_secp384r1 : NID_undef;
	EC_GROUP *group = nid != NID_undef ? EC_GROUP_new_by_curve_name(nid) : NULL;
	EC_POINT *pub = group != NULL ? EC_POINT_new(group) : NULL;
	BIGNUM *d = bn_secret(d_v, d_len);
	BN_CTX *bnctx = BN_CTX_secure_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	uint8_t point[1 + 2 * 48];
	size_t plen;
	EVP_PKEY *pkey = NULL;

	if (!group || !pub || !d || !bnctx || !bld || d_len != ec_field_len(alg))
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0)
		goto out;
	if (!EC_POINT_mul(group, pub, d, NULL, NULL, bnctx))
		goto out;
	plen = EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), bnctx);
	if (plen == 0)
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ec_group_name(alg), 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, plen))
		goto out;
	pkey = pkey_from_params("EC", bld);
out:
	EC_POINT_free(pub);
	EC_GROUP_free(group);
	BN_clear_free(d);
	BN_CTX_free(bnctx);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

struct piv_key *piv_key_get(struct piv_applet *piv, uint8_t slot)
{
	int i = piv_slot_index(slot);

	return i < 0 ? NULL : &piv->keys[i];
}

void piv_key_store(struct piv_applet *piv, uint8_t slot, EVP_PKEY *pkey, uint8_t alg,
		   uint8_t pin_policy, uint8_t touch_policy, uint8_t origin)
{
	struct piv_key *k = piv_key_get(piv, slot);

	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return;
	}
	EVP_PKEY_free(k->pkey);
	k->pkey = pkey;
	k->alg = alg;
	k->pin_policy = pin_policy;
	k->touch_policy = touch_policy;
	k->origin = origin;
	piv->dirty = true;
}

uint16_t piv_key_rsa_raw(EVP_PKEY *pkey, const uint8_t *in, size_t len, struct llv_buf *out)
{
	EVP_PKEY_CTX *ctx;
	uint8_t res[512];
	size_t rlen = sizeof(res);
	uint16_t sw = SW_WRONG_DATA;
	int size = EVP_PKEY_get_size(pkey);

	if (size <= 0 || (size_t)size != len || len > sizeof(res))
		return SW_WRONG_DATA;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	/* The raw private-key operation m^d mod n: the client did the padding. */
	if (ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1 &&
	    EVP_PKEY_decrypt(ctx, res, &rlen, in, len) == 1 && rlen == len) {
		llv_buf_put(out, res, rlen);
		sw = llv_buf_ok(out) ? SW_OK : SW_MEMORY_FAILURE;
	}
	EVP_PKEY_CTX_free(ctx);
	llv_wipe(res, sizeof(res));
	return sw;
}

uint16_t piv_key_ecdsa(EVP_PKEY *pkey, const uint8_t *hash, size_t len, struct llv_buf *out)
{
	EVP_PKEY_CTX *ctx;
	uint8_t sig[160];
	size_t siglen = sizeof(sig);
	size_t field = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
	uint16_t sw = SW_WRONG_DATA;

	if (len == 0)
		return SW_WRONG_DATA;
	/* A longer input is a hash to truncate to the order's size (FIPS 186-4 6.4). */
	if (len > field)
		len = field;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, sig, &siglen, hash, len) == 1) {
		llv_buf_put(out, sig, siglen);
		sw = llv_buf_ok(out) ? SW_OK : SW_MEMORY_FAILURE;
	} else {
		sw = SW_UNKNOWN;
	}
	EVP_PKEY_CTX_free(ctx);
	return sw;
}

uint16_t piv_key_ecdh(EVP_PKEY *pkey, const uint8_t *point, size_t len, struct llv_buf *out)
{
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t secret[64];
	size_t slen = sizeof(secret);
	size_t field = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
	uint16_t sw = SW_WRONG_DATA;

	if (len != 1 + 2 * field || point[0] != 0x04)
		return SW_WRONG_DATA;
	peer = EVP_PKEY_new();
	if (peer == NULL || EVP_PKEY_copy_parameters(peer, pkey) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(peer, point, len) != 1)
		goto out;           /* not a point on the curve */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, secret, &slen) != 1)
		goto out;
	llv_buf_put(out, secret, slen);
	sw = llv_buf_ok(out) ? SW_OK : SW_MEMORY_FAILURE;
out:
	llv_wipe(secret, sizeof(secret));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return sw;
}

/* A private copy of the caller's key (through DER, which also proves it is a
 * private key and cuts any tie to the caller's library context). */
static EVP_PKEY *copy_private(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_PrivateKey(key, &der);
	EVP_PKEY *copy = NULL;

	if (len <= 0)
		return NULL;
	p = der;
	copy = d2i_AutoPrivateKey(NULL, &p, len);
	OPENSSL_clear_free(der, (size_t)len);
	return copy;
}

int piv_applet_install_key(struct piv_applet *piv, uint8_t slot, EVP_PKEY *key, char *err, size_t errlen)
{
	uint8_t alg;
	EVP_PKEY *copy;

	if (piv == NULL || key == NULL) {
		snprintf(err, errlen, "no key");
		return -1;
	}
	if (piv_slot_index(slot) < 0 || slot == PIV_KEY_MGMT) {
		snprintf(err, errlen, "slot %02X is not a PIV key slot", slot);
		return -1;
	}
	alg = piv_key_alg_of(key);
	if (alg != PIV_ALG_RSA2048 && alg != PIV_ALG_ECCP256 && alg != PIV_ALG_ECCP384) {
		snprintf(err, errlen, "unsupported key: RSA-2048 (e = 65537), EC P-256 or EC P-384 only");
		return -1;
	}
	copy = copy_private(key);
	if (copy == NULL) {
		snprintf(err, errlen, "not a private key");
		return -1;
	}
	piv_key_store(piv, slot, copy, alg, PIV_PIN_POLICY_DEFAULT, 0, PIV_ORIGIN_IMPORTED);
	return 0;
}

int piv_applet_install_cert(struct piv_applet *piv, uint8_t slot, const uint8_t *der, size_t len, char *err,
			    size_t errlen)
{
	struct llv_buf inner = LLV_BUF_INIT, obj = LLV_BUF_INIT;
	const unsigned char *p = der;
	X509 *x;
	uint32_t tag = piv_slot_cert_tag(slot);
	uint16_t sw;

	if (piv == NULL || der == NULL || len == 0 || len > 0x7fffffff) {
		snprintf(err, errlen, "no certificate");
		return -1;
	}
	if (tag == 0) {
		snprintf(err, errlen, "slot %02X has no certificate object", slot);
		return -1;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		X509_free(x);
		snprintf(err, errlen, "not a DER X.509 certificate");
		return -1;
	}
	X509_free(x);
	/* SP 800-73-4 table 10: certificate, CertInfo (uncompressed), LRC. */
	llv_tlv_put(&inner, 0x70, der, len);
	llv_tlv_put(&inner, 0x71, "\x00", 1);
	llv_tlv_put(&inner, 0xFE, NULL, 0);
	llv_tlv_put(&obj, 0x53, inner.data, inner.len);
	if (!llv_buf_ok(&inner) || !llv_buf_ok(&obj))
		sw = SW_MEMORY_FAILURE;
	else if (obj.len > PIV_MAX_OBJECT)
		sw = SW_NOT_ENOUGH_MEMORY;
	else
		sw = piv_object_set(piv, tag, obj.data, obj.len);
	llv_buf_free(&inner);
	llv_buf_free(&obj);
	if (sw != SW_OK) {
		if (sw == SW_NOT_ENOUGH_MEMORY)
			snprintf(err, errlen, "certificate too large (at most %u bytes)", PIV_MAX_OBJECT - 16);
		else
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
