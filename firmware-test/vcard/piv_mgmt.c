/* The card management key (9B): mutual and external authentication with a
 * symmetric challenge-response (SP 800-73-4 appendix A.1/A.2, algorithms of
 * SP 800-78-4: 3DES, AES-128/192/256 in ECB on one block) and the YubiKey
 * SET MANAGEMENT KEY command. */
#include "piv_internal.h"

#include <string.h>
#include <openssl/evp.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

size_t piv_mgmt_block_len(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES_ALT:
	case PIV_ALG_3DES:
		return 8;
	case PIV_ALG_AES128:
	case PIV_ALG_AES192:
	case PIV_ALG_AES256:
		return 16;
	default:
		return 0;
	}
}

static const EVP_CIPHER *mgmt_cipher(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES_ALT:
	case PIV_ALG_3DES:
		return EVP_des_ede3_ecb();
	case PIV_ALG_AES128:
		return EVP_aes_128_ecb();
	case PIV_ALG_AES192:
		return EVP_aes_192_ecb();
	case PIV_ALG_AES256:
		return EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

int piv_mgmt_cipher(uint8_t alg, const uint8_t *key, bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
{
	const EVP_CIPHER *cipher = mgmt_cipher(alg);
	EVP_CIPHER_CTX *ctx;
	int outl = 0, finl = 0, rc = -1;

	if (cipher == NULL || len != piv_mgmt_block_len(alg))
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx != NULL && EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, encrypt ? 1 : 0) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + outl, &finl) == 1 && (size_t)(outl + finl) == len)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Appends 7C { tag value } (tag is one byte). */
static uint16_t reply(struct llv_buf *resp, uint32_t tag, const uint8_t *v, size_t len)
{
	llv_tlv_put_tag(resp, 0x7C);
	llv_tlv_put_len(resp, 1 + llv_tlv_len_size(len) + len);
	llv_tlv_put(resp, tag, v, len);
	return llv_buf_ok(resp) ? SW_OK : SW_MEMORY_FAILURE;
}

uint16_t piv_mgmt_authenticate(struct piv_applet *piv, uint8_t alg, const struct piv_dyn_auth *da, struct llv_buf *resp)
{
	size_t block;
	uint8_t rnd[PIV_BLOCK_MAX], enc[PIV_BLOCK_MAX];
	uint16_t sw;
	enum piv_mgmt_step step = piv->mgmt_step;

	if (alg == PIV_ALG_3DES_ALT)
		alg = PIV_ALG_3DES;
	if (alg != piv->mgmt_alg) {
		piv->mgmt_step = PIV_MGMT_IDLE;
		return SW_WRONG_DATA;
	}
	block = piv_mgmt_block_len(alg);
	piv->mgmt_step = PIV_MGMT_IDLE;

	if (da->has_witness && da->witness_len == 0 && !da->has_challenge && !da->has_response) {
		/* Mutual, step 1: the card's witness, encrypted. */
		piv->mgmt_authenticated = false;
		if (piv_random(rnd, block) != 0 || piv_mgmt_cipher(alg, piv->mgmt_key, true, rnd, block, enc) != 0)
			return SW_UNKNOWN;
		memcpy(piv->mgmt_expect, rnd, block);
		piv->mgmt_expect_len = block;
		piv->mgmt_step = PIV_MGMT_MUTUAL_WITNESS;
		piv->mgmt_step_alg = alg;
		sw = reply(resp, 0x80, enc, block);
		llv_wipe(rnd, sizeof(rnd));
		return sw;
	}
	if (da->has_witness && da->witness_len > 0 && da->has_challenge && da->challenge_len > 0 &&
	    (!da->has_response || da->response_len == 0)) {
		/* Mutual, step 2: the decrypted witness and the client's challenge. */
		if (step != PIV_MGMT_MUTUAL_WITNESS || piv->mgmt_step_alg != alg)
			return SW_CONDITIONS_NOT_SATISFIED;
		if (da->witness_len != block || da->challenge_len != block)
			return SW_WRONG_DATA;
		if (llv_ct_memcmp(da->witness, piv->mgmt_expect, block) != 0) {
			llv_info("piv: management key authentication failed");
			return SW_SECURITY_STATUS_NOT_SATISFIED;
		}
		if (piv_mgmt_cipher(alg, piv->mgmt_key, true, da->challenge, block, enc) != 0)
			return SW_UNKNOWN;
		piv->mgmt_authenticated = true;
		llv_info("piv: management key authenticated (mutual)");
		return reply(resp, 0x82, enc, block);
	}
	if (da->has_challenge && da->challenge_len == 0 && !da->has_witness && !da->has_response) {
		/* External, step 1: a challenge in the clear. */
		piv->mgmt_authenticated = false;
		if (piv_random(rnd, block) != 0 || piv_mgmt_cipher(alg, piv->mgmt_key, true, rnd, block, enc) != 0)
			return SW_UNKNOWN;
		memcpy(piv->mgmt_expect, enc, block);
		piv->mgmt_expect_len = block;
		piv->mgmt_step = PIV_MGMT_EXTERNAL_CHALLENGE;
		piv->mgmt_step_alg = alg;
		sw = reply(resp, 0x81, rnd, block);
		llv_wipe(enc, sizeof(enc));
		return sw;
	}
	if (da->has_response && da->response_len > 0 && !da->has_witness && !da->has_challenge) {
		/* External, step 2: the challenge encrypted by the client. */
		if (step != PIV_MGMT_EXTERNAL_CHALLENGE || piv->mgmt_step_alg != alg)
			return SW_CONDITIONS_NOT_SATISFIED;
		if (da->response_len != block)
			return SW_WRONG_DATA;
		if (llv_ct_memcmp(da->response, piv->mgmt_expect, block) != 0) {
			llv_info("piv: management key authentication failed");
			return SW_SECURITY_STATUS_NOT_SATISFIED;
		}
		piv->mgmt_authenticated = true;
		llv_info("piv: management key authenticated (external)");
		return SW_OK;
	}
	return SW_WRONG_DATA;
}

/* YubiKey SET MANAGEMENT KEY: 00 FF FF FF|FE, data alg 9B len key. */
uint16_t piv_cmd_set_mgmt_key(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	uint8_t alg;
	size_t klen;

	(void)resp;
	if (apdu->p1 != 0xFF || (apdu->p2 != 0xFF && apdu->p2 != 0xFE))
		return SW_INCORRECT_P1P2;
	if (!piv->mgmt_authenticated)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	if (apdu->lc < 3)
		return SW_WRONG_LENGTH;
	alg = apdu->data[0];
	klen = piv_sym_key_len(alg);
	if (alg == PIV_ALG_3DES_ALT || klen == 0 || apdu->data[1] != PIV_KEY_MGMT || apdu->data[2] != klen ||
	    apdu->lc != 3 + klen)
		return SW_WRONG_DATA;
	piv->mgmt_alg = alg;
	llv_wipe(piv->mgmt_key, sizeof(piv->mgmt_key));
	memcpy(piv->mgmt_key, apdu->data + 3, klen);
	piv->dirty = true;
	llv_info("piv: management key changed (algorithm %02X)", alg);
	return SW_OK;
}
