/* PIN/UV auth protocols 1 and 2 (CTAP 2.1 section 6.5.6, 6.5.7):
 * P-256 ECDH key agreement; v1 shared secret SHA-256(Z), AES-256-CBC with a
 * zero IV, HMAC-SHA-256 truncated to 16 bytes; v2 shared secret
 * HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key"), AES-256-CBC with a
 * random IV prefixed, full 32-byte HMAC-SHA-256. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ctap_internal.h"
#include "secmem.h"

void ctap_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[32])
{
	unsigned int len = 32;

	if (HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len) == NULL)
		memset(out, 0, 32);
}

uint8_t ctap_pp_protocol(const cbor_item_t *it, int *proto)
{
	uint64_t v;
	uint8_t st = ctap_dec_uint(it, &v);

	if (st != CTAP2_OK)
		return st;
	if (v != 1 && v != 2)
		return CTAP1_ERR_INVALID_PARAMETER;
	*proto = (int)v;
	return CTAP2_OK;
}

int ctap_pp_new_key(EVP_PKEY **k)
{
	EVP_PKEY *n = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (n == NULL)
		return -1;
	EVP_PKEY_free(*k);
	*k = n;
	return 0;
}

int ctap_pp_put_key_agreement(struct llv_buf *b, EVP_PKEY *k)
{
	uint8_t pt[65];
	size_t len = 0;

	if (k == NULL || EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1 ||
	    len != 65)
		return -1;
	ctap_enc_map(b, 5);
	ctap_enc_int(b, 1);
	ctap_enc_int(b, 2);
	ctap_enc_int(b, 3);
	ctap_enc_int(b, COSE_ECDH_ES_HKDF_256);
	ctap_enc_int(b, -1);
	ctap_enc_int(b, 1);
	ctap_enc_int(b, -2);
	ctap_enc_bytes(b, pt + 1, 32);
	ctap_enc_int(b, -3);
	ctap_enc_bytes(b, pt + 33, 32);
	return 0;
}

static EVP_PKEY *peer_key(const uint8_t x[32], const uint8_t y[32])
{
	uint8_t pt[65];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static int hkdf(const uint8_t *z, size_t zlen, const char *info, uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	uint8_t salt[32] = { 0 };
	OSSL_PARAM params[5];
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_KDF_derive(ctx, out, 32, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

uint8_t ctap_pp_decapsulate(int proto, EVP_PKEY *own, const cbor_item_t *cose, uint8_t shared[64], size_t *shared_len)
{
	const cbor_item_t *kty, *crv, *x, *y;
	const uint8_t *xp, *yp;
	size_t xl, yl, zlen = 32;
	int64_t v;
	uint8_t z[32], st;
	EVP_PKEY *peer;
	EVP_PKEY_CTX *ctx;
	int ok;

	if ((st = ctap_dec_expect_map(cose)) != CTAP2_OK)
		return st;
	kty = ctap_dec_get(cose, 1);
	crv = ctap_dec_get(cose, -1);
	x = ctap_dec_get(cose, -2);
	y = ctap_dec_get(cose, -3);
	if (kty == NULL || x == NULL || y == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_int(kty, &v)) != CTAP2_OK)
		return st;
	if (v != 2)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (crv != NULL) {
		if ((st = ctap_dec_int(crv, &v)) != CTAP2_OK)
			return st;
		if (v != 1)
			return CTAP1_ERR_INVALID_PARAMETER;
	}
	if ((st = ctap_dec_bytes(x, &xp, &xl)) != CTAP2_OK || (st = ctap_dec_bytes(y, &yp, &yl)) != CTAP2_OK)
		return st;
	if (xl != 32 || yl != 32)
		return CTAP1_ERR_INVALID_PARAMETER;
	peer = peer_key(xp, yp);
	if (peer == NULL)
		return CTAP1_ERR_INVALID_PARAMETER;
	ctx = EVP_PKEY_CTX_new(own, NULL);
	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
	     EVP_PKEY_derive(ctx, z, &zlen) == 1 && zlen == 32;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	if (!ok)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (proto == 1) {
		ctap_sha256(z, 32, shared);
		*shared_len = 32;
	} else {
		ok = hkdf(z, 32, "CTAP2 HMAC key", shared) == 0 && hkdf(z, 32, "CTAP2 AES key", shared + 32) == 0;
		*shared_len = 64;
	}
	OPENSSL_cleanse(z, sizeof(z));
	return ok ? CTAP2_OK : CTAP1_ERR_OTHER;
}

static int cbc(bool enc, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0, ok;

	ok = c != NULL && EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv, enc) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1 && EVP_CipherUpdate(c, out, &len, in, (int)n) == 1 &&
	     EVP_CipherFinal_ex(c, out + len, &fin) == 1 && (size_t)(len + fin) == n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int ctap_pp_encrypt(int proto, const uint8_t *shared, const uint8_t *in, size_t n, struct llv_buf *out)
{
	uint8_t iv[16] = { 0 };
	uint8_t *tmp;
	int rc;

	if (n % 16 != 0 || n > 1024)
		return -1;
	tmp = llv_secure_alloc(n ? n : 1);
	if (tmp == NULL)
		return -1;
	if (proto == 2) {
		if (RAND_bytes(iv, 16) != 1) {
			llv_secure_free(tmp, n ? n : 1);
			return -1;
		}
		llv_buf_put(out, iv, 16);
	}
	rc = cbc(true, proto == 2 ? shared + 32 : shared, iv, in, n, tmp);
	if (rc == 0)
		llv_buf_put(out, tmp, n);
	llv_secure_free(tmp, n ? n : 1);
	return rc == 0 && llv_buf_ok(out) ? 0 : -1;
}

int ctap_pp_decrypt(int proto, const uint8_t *shared, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
		    size_t *out_len)
{
	uint8_t iv[16] = { 0 };

	if (proto == 2) {
		if (n < 16)
			return -1;
		memcpy(iv, in, 16);
		in += 16;
		n -= 16;
	}
	if (n == 0 || n % 16 != 0 || n > cap)
		return -1;
	if (cbc(false, proto == 2 ? shared + 32 : shared, iv, in, n, out) != 0)
		return -1;
	*out_len = n;
	return 0;
}

bool ctap_pp_verify(int proto, const uint8_t *key, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
		    size_t sig_len)
{
	uint8_t mac[32];
	size_t want = proto == 1 ? 16 : 32;
	bool ok;

	if (sig_len != want)
		return false;
	ctap_hmac_sha256(key, 32, msg, msg_len, mac);
	ok = llv_ct_memcmp(mac, sig, want) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}
