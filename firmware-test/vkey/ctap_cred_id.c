/* Credential IDs: the private key and its policy, wrapped with AES-256-GCM
 * under a key derived from the device secret, bound to the RP by its
 * rpIdHash as associated data. Non-resident credentials live only in their
 * IDs; discoverable ones also have a slot (and a deleted slot kills the ID).
 *
 *   id = 0x01 || nonce(12) || AES-GCM(flags, alg, credProtect, 0, priv[32]) || tag(16)
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ctap_internal.h"

#define CRED_VERSION 0x01
#define PT_LEN 36
#define FLAG_RESIDENT 0x01
#define FLAG_HMAC 0x02

static void wrap_key(const struct ctap_auth *a, uint8_t key[32])
{
	static const char label[] = "llavero vkey credential wrap";

	ctap_hmac_sha256(a->p.device_secret, 32, (const uint8_t *)label, sizeof(label) - 1, key);
}

static int gcm(bool enc, const uint8_t key[32], const uint8_t nonce[12], const uint8_t aad[33],
	       const uint8_t *in, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len, ok;

	ok = c != NULL &&
	     EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(c, NULL, &len, aad, 33) == 1 &&
	     EVP_CipherUpdate(c, out, &len, in, PT_LEN) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(c, out + len, &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int ctap_cred_create(const struct ctap_auth *a, struct ctap_cred *c)
{
	uint8_t pt[PT_LEN], key[32], aad[33];
	int rc;

	if (ctap_key_generate(c->alg, c->priv) != 0)
		return -1;
	pt[0] = (uint8_t)((c->resident ? FLAG_RESIDENT : 0) | (c->hmac_secret ? FLAG_HMAC : 0));
	pt[1] = c->alg == COSE_ES256 ? 1 : 2;
	pt[2] = c->cred_protect;
	pt[3] = 0;
	memcpy(pt + 4, c->priv, 32);
	c->id[0] = CRED_VERSION;
	aad[0] = CRED_VERSION;
	memcpy(aad + 1, c->rp_id_hash, 32);
	wrap_key(a, key);
	rc = RAND_bytes(c->id + 1, 12) == 1 ? gcm(true, key, c->id + 1, aad, pt, c->id + 13, c->id + 13 + PT_LEN) : -1;
	OPENSSL_cleanse(pt, sizeof(pt));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int ctap_cred_unwrap(const struct ctap_auth *a, const uint8_t *id, size_t len, const uint8_t rp_id_hash[32],
		     struct ctap_cred *c)
{
	uint8_t pt[PT_LEN], key[32], aad[33], tag[16];
	int rc;

	if (len != CTAP_CRED_ID_LEN || id[0] != CRED_VERSION)
		return -1;
	aad[0] = CRED_VERSION;
	memcpy(aad + 1, rp_id_hash, 32);
	memcpy(tag, id + 13 + PT_LEN, 16);
	wrap_key(a, key);
	rc = gcm(false, key, id + 1, aad, id + 13, pt, tag);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc == 0 && (pt[1] < 1 || pt[1] > 2 || pt[2] < 1 || pt[2] > 3 || (pt[0] & ~(FLAG_RESIDENT | FLAG_HMAC))))
		rc = -1;
	if (rc == 0) {
		memset(c, 0, sizeof(*c));
		memcpy(c->id, id, CTAP_CRED_ID_LEN);
		c->resident = (pt[0] & FLAG_RESIDENT) != 0;
		c->hmac_secret = (pt[0] & FLAG_HMAC) != 0;
		c->alg = pt[1] == 1 ? COSE_ES256 : COSE_EDDSA;
		c->cred_protect = pt[2];
		memcpy(c->priv, pt + 4, 32);
		memcpy(c->rp_id_hash, rp_id_hash, 32);
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	return rc;
}

int ctap_cred_resolve(const struct ctap_auth *a, const uint8_t *id, size_t len, const uint8_t rp_id_hash[32],
		      struct ctap_cred *c, int *rk_idx)
{
	*rk_idx = -1;
	if (ctap_cred_unwrap(a, id, len, rp_id_hash, c) != 0)
		return -1;
	if (c->resident) {
		int i = ctap_rk_find_id(a, id, len);

		if (i < 0) {
			OPENSSL_cleanse(c, sizeof(*c));
			return -1;
		}
		*c = a->p.rk[i].cred;
		*rk_idx = i;
	}
	return 0;
}

void ctap_cred_random(const struct ctap_auth *a, const struct ctap_cred *c, bool uv, uint8_t out[32])
{
	uint8_t msg[20 + 1 + 32];

	memcpy(msg, "llavero credrandom  ", 20);
	msg[20] = uv ? 1 : 0;
	memcpy(msg + 21, c->priv, 32);
	ctap_hmac_sha256(a->p.device_secret, 32, msg, sizeof(msg), out);
	OPENSSL_cleanse(msg, sizeof(msg));
}
