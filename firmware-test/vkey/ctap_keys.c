/* Credential and attestation key pairs: ES256 (P-256) and EdDSA (Ed25519),
 * kept as 32 raw private bytes and turned into EVP_PKEYs on demand. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "ctap_internal.h"

void ctap_sha256(const void *data, size_t len, uint8_t out[32])
{
	SHA256(data, len, out);
}

int ctap_key_generate(int32_t alg, uint8_t priv[32])
{
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (alg == COSE_ES256) {
		BIGNUM *bn = NULL;

		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (k != NULL && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1 &&
		    BN_bn2binpad(bn, priv, 32) == 32)
			rc = 0;
		BN_clear_free(bn);
	} else if (alg == COSE_EDDSA) {
		size_t len = 32;

		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		if (k != NULL && EVP_PKEY_get_raw_private_key(k, priv, &len) == 1 && len == 32)
			rc = 0;
	}
	EVP_PKEY_free(k);
	return rc;
}

EVP_PKEY *ctap_key_from_raw(int32_t alg, const uint8_t priv[32])
{
	if (alg == COSE_ES256) {
		/* ECPrivateKey without the public key: OpenSSL computes it. */
		static const uint8_t pre[] = { 0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20 };
		static const uint8_t post[] = { 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
		uint8_t der[sizeof(pre) + 32 + sizeof(post)];
		const uint8_t *p = der;
		EVP_PKEY *k;
		static const uint8_t zero[32];

		if (memcmp(priv, zero, 32) == 0)
			return NULL;
		memcpy(der, pre, sizeof(pre));
		memcpy(der + sizeof(pre), priv, 32);
		memcpy(der + sizeof(pre) + 32, post, sizeof(post));
		k = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)sizeof(der));
		OPENSSL_cleanse(der, sizeof(der));
		return k;
	}
	if (alg == COSE_EDDSA)
		return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	return NULL;
}

int ctap_key_sign(int32_t alg, const uint8_t priv[32], const uint8_t *msg, size_t len, struct llv_buf *sig)
{
	EVP_PKEY *k = ctap_key_from_raw(alg, priv);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t out[80];
	size_t olen = sizeof(out);
	int rc = -1;

	if (k != NULL && md != NULL &&
	    EVP_DigestSignInit(md, NULL, alg == COSE_ES256 ? EVP_sha256() : NULL, NULL, k) == 1 &&
	    EVP_DigestSign(md, out, &olen, msg, len) == 1) {
		llv_buf_put(sig, out, olen);
		rc = llv_buf_ok(sig) ? 0 : -1;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return rc;
}

int ctap_key_p256_point(const uint8_t priv[32], uint8_t out[65])
{
	EVP_PKEY *k = ctap_key_from_raw(COSE_ES256, priv);
	size_t len = 0;
	int rc = -1;

	if (k != NULL && EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, out, 65, &len) == 1 &&
	    len == 65 && out[0] == 0x04)
		rc = 0;
	EVP_PKEY_free(k);
	return rc;
}

int ctap_key_put_cose(struct llv_buf *b, int32_t alg, const uint8_t priv[32])
{
	if (alg == COSE_ES256) {
		uint8_t pt[65];

		if (ctap_key_p256_point(priv, pt) != 0)
			return -1;
		ctap_enc_map(b, 5);
		ctap_enc_int(b, 1);
		ctap_enc_int(b, 2);             /* kty: EC2 */
		ctap_enc_int(b, 3);
		ctap_enc_int(b, COSE_ES256);
		ctap_enc_int(b, -1);
		ctap_enc_int(b, 1);             /* crv: P-256 */
		ctap_enc_int(b, -2);
		ctap_enc_bytes(b, pt + 1, 32);
		ctap_enc_int(b, -3);
		ctap_enc_bytes(b, pt + 33, 32);
		return 0;
	}
	if (alg == COSE_EDDSA) {
		EVP_PKEY *k = ctap_key_from_raw(alg, priv);
		uint8_t pub[32];
		size_t len = sizeof(pub);
		int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;

		EVP_PKEY_free(k);
		if (!ok)
			return -1;
		ctap_enc_map(b, 4);
		ctap_enc_int(b, 1);
		ctap_enc_int(b, 1);             /* kty: OKP */
		ctap_enc_int(b, 3);
		ctap_enc_int(b, COSE_EDDSA);
		ctap_enc_int(b, -1);
		ctap_enc_int(b, 6);             /* crv: Ed25519 */
		ctap_enc_int(b, -2);
		ctap_enc_bytes(b, pub, 32);
		return 0;
	}
	return -1;
}
