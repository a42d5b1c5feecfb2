/* PIV applet: management key authentication (mutual and external; 3DES and
 * AES), SET MANAGEMENT KEY, GENERATE ASYMMETRIC KEY PAIR, PUT DATA, the
 * YubiKey IMPORT, GET METADATA, GET VERSION/SERIAL, SET PIN RETRIES, RESET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "piv_test_util.h"
#include "tlv.h"

static const uint8_t aes192_key[24] = {
	0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xA9, 0xBA, 0xCB,
	0xDC, 0xED, 0xFE, 0x0F, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

static uint16_t set_mgmt_key(struct piv_applet *piv, uint8_t alg, const uint8_t *key, size_t len)
{
	uint8_t cmd[3 + 32];

	cmd[0] = alg;
	cmd[1] = 0x9B;
	cmd[2] = (uint8_t)len;
	memcpy(cmd + 3, key, len);
	return pt_cmd(piv, 0xFF, 0xFF, 0xFF, cmd, 3 + len, NULL);
}

/* Builds a public key from a 7F49 template (or its contents). */
static EVP_PKEY *public_from(const uint8_t *tmpl, size_t len, const char *curve)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	const uint8_t *v;
	size_t vlen;

	if (curve == NULL) {
		v = pt_find(tmpl, len, 0x81, &vlen);
		assert_non_null(v);
		n = BN_bin2bn(v, (int)vlen, NULL);
		v = pt_find(tmpl, len, 0x82, &vlen);
		assert_non_null(v);
		e = BN_bin2bn(v, (int)vlen, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	} else {
		v = pt_find(tmpl, len, 0x86, &vlen);
		assert_non_null(v);
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, v, vlen);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, curve == NULL ? "RSA" : "EC", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

static void check_rsa_slot(struct piv_applet *piv, uint8_t slot, EVP_PKEY *pub)
{
	uint8_t hash[32] = { 9, 8, 7 }, block[256], sig[512];
	size_t sig_len = sizeof(sig);

	pt_pkcs1_sha256(hash, block);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, 0x07, slot, block, 256, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(pub, EVP_sha256(), hash, 32, sig, sig_len));
}

static void check_ec_slot(struct piv_applet *piv, uint8_t alg, uint8_t slot, EVP_PKEY *pub, size_t hlen)
{
	uint8_t hash[48] = { 1, 2, 3 }, sig[160];
	size_t sig_len = sizeof(sig);

	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, alg, slot, hash, hlen, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(pub, NULL, hash, hlen, sig, sig_len));
}

static void test_mutual_3des_and_failures(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	uint8_t bad[24];

	(void)state;
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	assert_int_equal(pt_mgmt_auth(piv, 0x00, pt_default_mgmt_key, 24), 0x9000);
	/* A wrong key: the decrypted witness does not match. */
	memcpy(bad, pt_default_mgmt_key, 24);
	bad[0] ^= 0x02;
	assert_int_equal(pt_mgmt_auth(piv, 0x03, bad, 24), 0x6982);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x06\x53\x00", 7, &r), 0x6982);
	/* Wrong algorithm for the current key. */
	assert_int_equal(pt_cmd(piv, 0x87, 0x0A, 0x9B, "\x7C\x02\x80\x00", 4, &r), 0x6A80);
	/* Step 2 without step 1. */
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B,
				"\x7C\x14\x80\x08\x01\x02\x03\x04\x05\x06\x07\x08\x81\x08\x01\x02\x03\x04\x05\x06\x07\x08",
				22, &r), 0x6985);
	/* Step 1 then another command: the sequence is broken. */
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B, "\x7C\x02\x80\x00", 4, &r), 0x9000);
	assert_int_equal(pt_cmd(piv, 0xFD, 0x00, 0x00, NULL, 0, &r), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B,
				"\x7C\x14\x80\x08\x01\x02\x03\x04\x05\x06\x07\x08\x81\x08\x01\x02\x03\x04\x05\x06\x07\x08",
				22, &r), 0x6985);
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B, "\x7C\x00", 2, &r), 0x6A80);
	piv_applet_free(piv);
}

static void test_external_auth(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	uint8_t cmd[12] = { 0x7C, 0x0A, 0x82, 0x08 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;

	(void)state;
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B, "\x7C\x02\x81\x00", 4, &r), 0x9000);
	assert_int_equal(r.len, 12);
	assert_int_equal(r.data[2], 0x81);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_des_ede3_ecb(), NULL, pt_default_mgmt_key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, cmd + 4, &l, r.data + 4, 8), 1);
	assert_int_equal(l, 8);
	EVP_CIPHER_CTX_free(c);
	cmd[4] ^= 1;
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B, cmd, sizeof(cmd), &r), 0x6982);
	/* A failed attempt ends the sequence: a fresh challenge is needed. */
	cmd[4] ^= 1;
	assert_int_equal(pt_cmd(piv, 0x87, 0x03, 0x9B, cmd, sizeof(cmd), &r), 0x6985);
	piv_applet_free(piv);
}

static void test_aes192_then_generate_and_put(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	EVP_PKEY *pub;
	static const uint8_t gen_rsa[] = { 0xAC, 0x03, 0x80, 0x01, 0x07 };
	static const uint8_t gen_ec[] = { 0xAC, 0x09, 0x80, 0x01, 0x14, 0xAA, 0x01, 0x01, 0xAB, 0x01, 0x01 };
	static const uint8_t put[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x0A, 0x53, 0x05, 0x70, 0x01, 0x30, 0xFE, 0x00 };

	(void)state;
	assert_int_equal(set_mgmt_key(piv, 0x0A, aes192_key, 24), 0x6982);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	assert_int_equal(set_mgmt_key(piv, 0x0A, aes192_key, 16), 0x6A80);
	assert_int_equal(set_mgmt_key(piv, 0x09, aes192_key, 24), 0x6A80);
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(set_mgmt_key(piv, 0x0A, aes192_key, 24), 0x9000);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(pt_cmd(piv, 0xFF, 0xFF, 0x00, NULL, 0, NULL), 0x6A86);
	assert_int_equal(pt_select(piv, &r), 0x9000);

	/* Nothing without the management key. */
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, gen_rsa, sizeof(gen_rsa), &r), 0x6982);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x6A80);
	assert_int_equal(pt_mgmt_auth(piv, 0x0A, aes192_key, 24), 0x9000);

	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, gen_rsa, sizeof(gen_rsa), &r), 0x9000);
	assert_int_equal(r.data[0], 0x7F);
	assert_int_equal(r.data[1], 0x49);
	{
		struct llv_tlv t;

		assert_int_equal(llv_tlv_parse(r.data, r.len, &t), 0);
		assert_int_equal(t.raw_len, r.len);
		pub = public_from(t.value, t.len, NULL);
	}
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	check_rsa_slot(piv, 0x9A, pub);
	EVP_PKEY_free(pub);

	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9C, gen_ec, sizeof(gen_ec), &r), 0x9000);
	{
		struct llv_tlv t;

		assert_int_equal(llv_tlv_parse(r.data, r.len, &t), 0);
		pub = public_from(t.value, t.len, "P-384");
	}
	/* PIN policy "never" (AA 01) overrides 9C's default PIN always. */
	{
		uint8_t hash[48] = { 5 }, sig[160];
		size_t sig_len = sizeof(sig);

		assert_int_equal(pt_cmd(piv, 0x20, 0xFF, 0x80, NULL, 0, NULL), 0x9000);
		assert_int_equal(pt_sign(piv, 0x14, 0x9C, hash, 48, sig, &sig_len), 0x9000);
		assert_true(pt_verify_sig(pub, NULL, hash, 48, sig, sig_len));
	}
	EVP_PKEY_free(pub);

	/* Bad GENERATE requests. */
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9B, gen_rsa, sizeof(gen_rsa), &r), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0x47, 0x01, 0x9A, gen_rsa, sizeof(gen_rsa), &r), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, "\xAC\x03\x80\x01\x03", 5, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, "\xAC\x03\xAA\x01\x01", 5, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, "\xAC\x06\x80\x01\x11\xAA\x01\x07", 8, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x47, 0x00, 0x9A, NULL, 0, &r), 0x6700);

	/* PUT DATA of a certificate object. */
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, put, sizeof(put), &r), 0x9000);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x0A", 5, &r), 0x9000);
	assert_int_equal(r.len, 7);
	assert_memory_equal(r.data, put + 5, 7);
	piv_applet_free(piv);
}

static void put_bn_tlv(struct llv_buf *b, uint8_t tag, EVP_PKEY *key, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	uint8_t v[128];

	assert_int_equal(EVP_PKEY_get_bn_param(key, name, &bn), 1);
	assert_true(BN_bn2binpad(bn, v, pad) == pad);
	llv_tlv_put(b, tag, v, (size_t)pad);
	BN_clear_free(bn);
}

static void test_import_rsa_and_ec(void **state)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct llv_buf cmd = LLV_BUF_INIT;
	BIGNUM *d = NULL;
	uint8_t scalar[32];
	struct piv_resp r;

	(void)state;
	put_bn_tlv(&cmd, 0x01, rsa, OSSL_PKEY_PARAM_RSA_FACTOR1, 128);
	put_bn_tlv(&cmd, 0x02, rsa, OSSL_PKEY_PARAM_RSA_FACTOR2, 128);
	put_bn_tlv(&cmd, 0x03, rsa, OSSL_PKEY_PARAM_RSA_EXPONENT1, 128);
	put_bn_tlv(&cmd, 0x04, rsa, OSSL_PKEY_PARAM_RSA_EXPONENT2, 128);
	put_bn_tlv(&cmd, 0x05, rsa, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 128);
	llv_tlv_put(&cmd, 0xAA, "\x02", 1);
	llv_tlv_put(&cmd, 0xAB, "\x01", 1);
	assert_true(llv_buf_ok(&cmd));
	assert_int_equal(pt_cmd(piv, 0xFE, 0x07, 0x9C, cmd.data, cmd.len, &r), 0x6982);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x07, 0x9C, cmd.data, cmd.len - 6, &r), 0x9000);
	check_rsa_slot(piv, 0x9C, rsa);
	/* PIN policy once (AA 02) on 9C: a second signature needs no VERIFY. */
	assert_int_equal(pt_cmd(piv, 0xFE, 0x07, 0x9C, cmd.data, cmd.len, &r), 0x9000);
	check_rsa_slot(piv, 0x9C, rsa);
	{
		uint8_t hash[32] = { 9, 8, 7 }, block[256], sig[512];
		size_t sig_len = sizeof(sig);

		pt_pkcs1_sha256(hash, block);
		assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, sig, &sig_len), 0x9000);
	}
	/* Inconsistent components (dP of another key) are refused. */
	cmd.data[2 * 131 + 3 + 5] ^= 0x01;   /* 01 81 80 p, 02 81 80 q, 03 81 80 dP */
	assert_int_equal(pt_cmd(piv, 0xFE, 0x07, 0x9D, cmd.data, cmd.len, &r), 0x6A80);
	/* The algorithm must match the components. */
	assert_int_equal(pt_cmd(piv, 0xFE, 0x11, 0x9D, cmd.data, cmd.len, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x07, 0x9B, cmd.data, cmd.len, &r), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x03, 0x9A, cmd.data, cmd.len, &r), 0x6A86);
	llv_buf_free(&cmd);

	assert_int_equal(EVP_PKEY_get_bn_param(ec, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
	assert_int_equal(BN_bn2binpad(d, scalar, 32), 32);
	BN_clear_free(d);
	llv_buf_init(&cmd);
	llv_tlv_put(&cmd, 0x06, scalar, 32);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x14, 0x9D, cmd.data, cmd.len, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x11, 0x9D, cmd.data, cmd.len, &r), 0x9000);
	check_ec_slot(piv, 0x11, 0x9D, ec, 32);
	/* A scalar of zero is not a key. */
	llv_buf_clear(&cmd);
	memset(scalar, 0, sizeof(scalar));
	llv_tlv_put(&cmd, 0x06, scalar, 32);
	assert_int_equal(pt_cmd(piv, 0xFE, 0x11, 0x82, cmd.data, cmd.len, &r), 0x6A80);
	llv_buf_free(&cmd);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	piv_applet_free(piv);
}

static void test_yubikey_info_and_metadata(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	const uint8_t *v;
	size_t vlen;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char err[128];

	(void)state;
	assert_int_equal(pt_cmd(piv, 0xFD, 0x00, 0x00, NULL, 0, &r), 0x9000);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.data, "\x05\x04\x03", 3);
	assert_int_equal(pt_cmd(piv, 0xF8, 0x00, 0x00, NULL, 0, &r), 0x9000);
	assert_int_equal(r.len, 4);
	assert_true(r.data[0] < 0x80);

	assert_int_equal(pt_cmd(piv, 0xF7, 0x00, 0x80, NULL, 0, &r), 0x9000);
	v = pt_find(r.data, r.len, 0x06, &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 2);
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 3);
	v = pt_find(r.data, r.len, 0x05, &vlen);
	assert_non_null(v);
	assert_int_equal(v[0], 1);
	assert_int_equal(pt_cmd(piv, 0xF7, 0x00, 0x9B, NULL, 0, &r), 0x9000);
	v = pt_find(r.data, r.len, 0x01, &vlen);
	assert_non_null(v);
	assert_int_equal(v[0], 0x03);
	assert_int_equal(pt_cmd(piv, 0xF7, 0x00, 0x9A, NULL, 0, &r), 0x6A88);
	assert_int_equal(piv_applet_install_key(piv, 0x9A, key, err, sizeof(err)), 0);
	assert_int_equal(pt_cmd(piv, 0xF7, 0x00, 0x9A, NULL, 0, &r), 0x9000);
	v = pt_find(r.data, r.len, 0x01, &vlen);
	assert_int_equal(v[0], 0x11);
	v = pt_find(r.data, r.len, 0x03, &vlen);
	assert_int_equal(v[0], 0x02);
	v = pt_find(r.data, r.len, 0x04, &vlen);
	assert_non_null(v);
	assert_non_null(pt_find(v, vlen, 0x86, &vlen));
	assert_int_equal(vlen, 65);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void test_set_pin_retries_and_reset(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	char err[128];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	(void)state;
	assert_int_equal(piv_applet_install_key(piv, 0x9E, key, err, sizeof(err)), 0);
	assert_int_equal(pt_cmd(piv, 0xFA, 0x05, 0x06, NULL, 0, &r), 0x6982);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	assert_int_equal(pt_cmd(piv, 0xFA, 0x05, 0x06, NULL, 0, &r), 0x6982);   /* PIN too */
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_cmd(piv, 0xFA, 0x00, 0x06, NULL, 0, &r), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0xFA, 0x05, 0x06, NULL, 0, &r), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, NULL, 0, NULL), 0x63C5);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x81, NULL, 0, NULL), 0x63C6);

	/* RESET only once both PIN and PUK are blocked. */
	assert_int_equal(pt_cmd(piv, 0xFB, 0x00, 0x00, NULL, 0, &r), 0x6985);
	for (int i = 0; i < 5; i++)
		(void)pt_verify_pin(piv, "000000");
	assert_int_equal(pt_cmd(piv, 0xFB, 0x00, 0x00, NULL, 0, &r), 0x6985);
	for (int i = 0; i < 6; i++)
		(void)pt_cmd(piv, 0x2C, 0x00, 0x80, "0000000011111111", 16, NULL);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x81, NULL, 0, NULL), 0x6983);
	assert_int_equal(pt_cmd(piv, 0xFB, 0x00, 0x00, NULL, 0, &r), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, NULL, 0, NULL), 0x63C3);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, 0x11, 0x9E, (const uint8_t *)"01234567890123456789012345678901", 32, NULL,
				 NULL), 0x6A88);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x02", 5, &r), 0x9000);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_3des_and_failures),
		cmocka_unit_test(test_external_auth),
		cmocka_unit_test(test_aes192_then_generate_and_put),
		cmocka_unit_test(test_import_rsa_and_ec),
		cmocka_unit_test(test_yubikey_info_and_metadata),
		cmocka_unit_test(test_set_pin_retries_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
