/* Helpers for the PIV applet's unit tests (see piv_test_util.h). */
#include "piv_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "applet.h"
#include "tlv.h"

const uint8_t pt_default_mgmt_key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

struct piv_applet *pt_new_card(void)
{
	struct piv_applet *piv = piv_applet_new();
	struct piv_resp r;

	assert_non_null(piv);
	assert_int_equal(piv_applet_personalize(piv, NULL, NULL), 0);
	assert_int_equal(pt_select(piv, &r), SW_OK);
	return piv;
}

static uint16_t run(struct piv_applet *piv, bool select, const struct vcard_apdu *apdu, struct piv_resp *r)
{
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw;

	sw = select ? piv_applet_ops.select(piv, apdu, &resp) : piv_applet_ops.process(piv, apdu, &resp);
	assert_true(llv_buf_ok(&resp));
	if (sw != SW_OK)
		assert_int_equal(resp.len, 0);     /* errors carry no data */
	if (r != NULL) {
		assert_true(resp.len <= sizeof(r->data));
		r->sw = sw;
		r->len = resp.len;
		if (resp.len > 0)
			memcpy(r->data, resp.data, resp.len);
	}
	llv_buf_free(&resp);
	return sw;
}

uint16_t pt_select(struct piv_applet *piv, struct piv_resp *r)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };
	struct vcard_apdu a = { .cla = 0, .ins = 0xA4, .p1 = 0x04, .p2 = 0x00, .data = aid, .lc = sizeof(aid),
				.le = 256, .has_le = true };

	return run(piv, true, &a, r);
}

uint16_t pt_cmd(struct piv_applet *piv, uint8_t ins, uint8_t p1, uint8_t p2, const void *data, size_t lc,
		struct piv_resp *r)
{
	struct vcard_apdu a = { .cla = 0, .ins = ins, .p1 = p1, .p2 = p2, .data = data, .lc = lc,
				.le = 256, .has_le = true };

	return run(piv, false, &a, r);
}

uint16_t pt_verify_pin(struct piv_applet *piv, const char *pin)
{
	uint8_t v[8];

	memset(v, 0xFF, sizeof(v));
	memcpy(v, pin, strlen(pin));
	return pt_cmd(piv, 0x20, 0x00, 0x80, v, 8, NULL);
}

static const EVP_CIPHER *cipher_of(uint8_t alg)
{
	switch (alg) {
	case 0x00:
	case 0x03:
		return EVP_des_ede3_ecb();
	case 0x08:
		return EVP_aes_128_ecb();
	case 0x0A:
		return EVP_aes_192_ecb();
	default:
		return EVP_aes_256_ecb();
	}
}

static void ecb(uint8_t alg, const uint8_t *key, int enc, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;

	assert_int_equal(EVP_CipherInit_ex(c, cipher_of(alg), NULL, key, NULL, enc), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_CipherUpdate(c, out, &l1, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(c, out + l1, &l2), 1);
	assert_int_equal(l1 + l2, (int)len);
	EVP_CIPHER_CTX_free(c);
}

uint16_t pt_mgmt_auth(struct piv_applet *piv, uint8_t alg, const uint8_t *key, size_t key_len)
{
	static const uint8_t step1[] = { 0x7C, 0x02, 0x80, 0x00 };
	struct piv_resp r;
	size_t block = (alg == 0x03 || alg == 0x00) ? 8 : 16;
	uint8_t witness[16], chal[16], expect[16], cmd[2 + 2 * (2 + 16)];
	uint16_t sw;

	(void)key_len;
	sw = pt_cmd(piv, 0x87, alg, 0x9B, step1, sizeof(step1), &r);
	if (sw != SW_OK)
		return sw;
	assert_int_equal(r.len, 4 + block);
	assert_int_equal(r.data[0], 0x7C);
	assert_int_equal(r.data[1], 2 + block);
	assert_int_equal(r.data[2], 0x80);
	assert_int_equal(r.data[3], block);
	ecb(alg, key, 0, r.data + 4, block, witness);
	for (size_t i = 0; i < block; i++)
		chal[i] = (uint8_t)(0xA0 + i);
	cmd[0] = 0x7C;
	cmd[1] = (uint8_t)(2 * (2 + block));
	cmd[2] = 0x80;
	cmd[3] = (uint8_t)block;
	memcpy(cmd + 4, witness, block);
	cmd[4 + block] = 0x81;
	cmd[5 + block] = (uint8_t)block;
	memcpy(cmd + 6 + block, chal, block);
	sw = pt_cmd(piv, 0x87, alg, 0x9B, cmd, 6 + 2 * block, &r);
	if (sw != SW_OK)
		return sw;
	assert_int_equal(r.len, 4 + block);
	assert_int_equal(r.data[2], 0x82);
	ecb(alg, key, 1, chal, block, expect);
	assert_memory_equal(r.data + 4, expect, block);
	return sw;
}

uint16_t pt_sign(struct piv_applet *piv, uint8_t alg, uint8_t slot, const uint8_t *in, size_t len,
		 uint8_t *sig, size_t *sig_len)
{
	struct llv_buf inner = LLV_BUF_INIT, cmd = LLV_BUF_INIT;
	struct piv_resp r;
	struct llv_tlv t;
	const uint8_t *v;
	size_t vlen;
	uint16_t sw;

	llv_tlv_put(&inner, 0x82, NULL, 0);
	llv_tlv_put(&inner, 0x81, in, len);
	llv_tlv_put(&cmd, 0x7C, inner.data, inner.len);
	assert_true(llv_buf_ok(&cmd));
	sw = pt_cmd(piv, 0x87, alg, slot, cmd.data, cmd.len, &r);
	llv_buf_free(&inner);
	llv_buf_free(&cmd);
	if (sw != SW_OK)
		return sw;
	assert_int_equal(llv_tlv_parse(r.data, r.len, &t), 0);
	assert_int_equal(t.tag, 0x7C);
	assert_int_equal(t.raw_len, r.len);
	v = pt_find(t.value, t.len, 0x82, &vlen);
	assert_non_null(v);
	if (sig != NULL) {
		assert_true(vlen <= *sig_len);
		memcpy(sig, v, vlen);
		*sig_len = vlen;
	}
	return sw;
}

void pt_pkcs1_sha256(const uint8_t hash[32], uint8_t block[256])
{
	static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
					  0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	size_t t = sizeof(prefix) + 32;

	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, 256 - 3 - t);
	block[256 - t - 1] = 0x00;
	memcpy(block + 256 - t, prefix, sizeof(prefix));
	memcpy(block + 256 - 32, hash, 32);
}

int pt_verify_sig(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *hash, size_t hash_len, const uint8_t *sig,
		  size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	int ok;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	if (EVP_PKEY_is_a(pub, "RSA")) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
	}
	ok = EVP_PKEY_verify(ctx, sig, sig_len, hash, hash_len);
	EVP_PKEY_CTX_free(ctx);
	return ok == 1;
}

uint8_t *pt_self_signed(EVP_PKEY *key, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint8_t *der = NULL;
	int n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Llavero test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

const uint8_t *pt_find(const uint8_t *data, size_t len, uint32_t tag, size_t *vlen)
{
	struct llv_tlv t;

	if (llv_tlv_find(data, len, tag, &t) != 0)
		return NULL;
	*vlen = t.len;
	return t.value;
}
