/* COSE public keys and signature verification. */
#include "verify_cose.h"
#include "verify_cbor.h"
#include "verify_errors.h"

#include "log.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	if (pk) {
		/* Refuse points off the curve and degenerate RSA keys. */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
		if (!c || EVP_PKEY_public_check(c) != 1) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		EVP_PKEY_CTX_free(c);
	}
	return pk;
}

static EVP_PKEY *ec2_key(const cbor_item_t *m)
{
	int64_t crv;
	const uint8_t *x, *y;
	size_t xl, yl;
	if (verify_cbor_int(verify_cbor_map_int(m, -1), &crv) != 0 || crv != 1 ||
	    verify_cbor_bytes(verify_cbor_map_int(m, -2), &x, &xl) != 0 || xl != 32 ||
	    verify_cbor_bytes(verify_cbor_map_int(m, -3), &y, &yl) != 0 || yl != 32)
		return NULL;
	uint8_t pt[65];
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))
		pk = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

static EVP_PKEY *okp_key(const cbor_item_t *m)
{
	int64_t crv;
	const uint8_t *x;
	size_t xl;
	if (verify_cbor_int(verify_cbor_map_int(m, -1), &crv) != 0 || crv != 6 ||
	    verify_cbor_bytes(verify_cbor_map_int(m, -2), &x, &xl) != 0 || xl != 32)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
}

static EVP_PKEY *rsa_key(const cbor_item_t *m)
{
	const uint8_t *n, *e;
	size_t nl, el;
	if (verify_cbor_bytes(verify_cbor_map_int(m, -1), &n, &nl) != 0 || nl < 256 || nl > 1024 ||
	    verify_cbor_bytes(verify_cbor_map_int(m, -2), &e, &el) != 0 || el == 0 || el > 8)
		return NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	if (bn && be && bld && BN_num_bits(bn) >= 2048 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pk = from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

int verify_cose_key_decode(const uint8_t *cbor, size_t len, EVP_PKEY **out, long *alg)
{
	*out = NULL;
	cbor_item_t *m = verify_cbor_load(cbor, len, true, NULL);
	int64_t kty, a;
	EVP_PKEY *pk = NULL;
	if (m && verify_cbor_map_ok(m) &&
	    verify_cbor_int(verify_cbor_map_int(m, 1), &kty) == 0 &&
	    verify_cbor_int(verify_cbor_map_int(m, 3), &a) == 0) {
		if (kty == 2 && a == VERIFY_COSE_ES256)
			pk = ec2_key(m);
		else if (kty == 1 && a == VERIFY_COSE_EDDSA)
			pk = okp_key(m);
		else if (kty == 3 && a == VERIFY_COSE_RS256)
			pk = rsa_key(m);
		else
			llv_info("verify: unsupported COSE key kty %lld alg %lld",
				 (long long)kty, (long long)a);
	}
	if (m)
		cbor_decref(&m);
	ERR_clear_error();
	if (!pk)
		return VERIFY_ERR_WA_COSE_KEY;
	*out = pk;
	*alg = (long)a;
	return VERIFY_OK;
}

long verify_cose_alg_for_key(const EVP_PKEY *pk)
{
	if (!pk)
		return 0;
	if (EVP_PKEY_is_a(pk, "ED25519"))
		return VERIFY_COSE_EDDSA;
	if (EVP_PKEY_is_a(pk, "RSA"))
		return EVP_PKEY_get_bits(pk) >= 2048 ? VERIFY_COSE_RS256 : 0;
	if (EVP_PKEY_is_a(pk, "EC")) {
		char group[32];
		size_t gl = 0;
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), &gl) == 1 &&
		    strcmp(group, "prime256v1") == 0)
			return VERIFY_COSE_ES256;
	}
	return 0;
}

int verify_cose_verify(EVP_PKEY *pk, long alg, const uint8_t *data, size_t len,
		       const uint8_t *sig, size_t sig_len, int sig_error)
{
	if (!pk || verify_cose_alg_for_key(pk) != alg)
		return VERIFY_ERR_WA_COSE_KEY;
	const EVP_MD *md = alg == VERIFY_COSE_EDDSA ? NULL : EVP_sha256();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk) == 1;
	if (ok && alg == VERIFY_COSE_RS256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
	if (ok)
		ok = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? VERIFY_OK : sig_error;
}

int verify_cose_spki_encode(EVP_PKEY *pk, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(pk, &p);
	if (n <= 0)
		return VERIFY_ERR_NOMEM;
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return VERIFY_ERR_NOMEM;
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return VERIFY_OK;
}

/* Stored credential keys decoded recently (exact SPKI bytes -> EVP_PKEY):
 * OpenSSL 3 decodes a SubjectPublicKeyInfo through its decoder framework,
 * which cost more than the assertion's signature check; a server sees the
 * same credentials again and again. Read-only keys, shared by reference. */
#define SPKI_CACHE 64
#define SPKI_CACHE_MAX_LEN 1024

struct spki_slot {
	uint8_t der[SPKI_CACHE_MAX_LEN];
	size_t len;
	EVP_PKEY *pk;
	uint64_t used;
};

static struct spki_slot spki_cache[SPKI_CACHE];
static uint64_t spki_clock;
static pthread_mutex_t spki_lock = PTHREAD_MUTEX_INITIALIZER;

static EVP_PKEY *spki_cached(const uint8_t *der, size_t len)
{
	EVP_PKEY *pk = NULL;
	pthread_mutex_lock(&spki_lock);
	for (size_t i = 0; i < SPKI_CACHE; i++) {
		struct spki_slot *c = &spki_cache[i];
		if (c->pk && c->len == len && memcmp(c->der, der, len) == 0) {
			if (EVP_PKEY_up_ref(c->pk) == 1)
				pk = c->pk;
			c->used = ++spki_clock;
			break;
		}
	}
	pthread_mutex_unlock(&spki_lock);
	return pk;
}

static void spki_remember(const uint8_t *der, size_t len, EVP_PKEY *pk)
{
	if (len > SPKI_CACHE_MAX_LEN || EVP_PKEY_up_ref(pk) != 1)
		return;
	pthread_mutex_lock(&spki_lock);
	struct spki_slot *victim = &spki_cache[0];
	for (size_t i = 0; i < SPKI_CACHE; i++) {
		if (!spki_cache[i].pk) {
			victim = &spki_cache[i];
			break;
		}
		if (spki_cache[i].used < victim->used)
			victim = &spki_cache[i];
	}
	EVP_PKEY_free(victim->pk);
	memcpy(victim->der, der, len);
	victim->len = len;
	victim->pk = pk;
	victim->used = ++spki_clock;
	pthread_mutex_unlock(&spki_lock);
}

EVP_PKEY *verify_cose_spki_decode(const uint8_t *der, size_t len)
{
	if (!der || len == 0 || len > 4096)
		return NULL;
	EVP_PKEY *pk = spki_cached(der, len);
	if (pk)
		return pk;
	const unsigned char *p = der;
	pk = d2i_PUBKEY(NULL, &p, (long)len);
	if (pk && p != der + len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	ERR_clear_error();
	if (pk)
		spki_remember(der, len, pk);
	return pk;
}
