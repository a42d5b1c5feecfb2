/* PIV applet: GENERAL AUTHENTICATE with RSA-2048, ECDSA P-256/P-384 and
 * ECDH; PIN policies of 9A/9C/9D/9E (9C: PIN always); status words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "piv_test_util.h"
#include "tlv.h"

static EVP_PKEY *install(struct piv_applet *piv, uint8_t slot, const char *type, const char *param)
{
	EVP_PKEY *key = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
						 : EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	char err[128];

	assert_non_null(key);
	assert_int_equal(piv_applet_install_key(piv, slot, key, err, sizeof(err)), 0);
	return key;
}

static void sha(const EVP_MD *md, const char *msg, uint8_t *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(msg, strlen(msg), out, &n, md, NULL), 1);
}

static void test_rsa_sign_9a(void **state)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = install(piv, 0x9A, "RSA", NULL);
	uint8_t hash[32], block[256], sig[512];
	size_t sig_len = sizeof(sig);

	(void)state;
	sha(EVP_sha256(), "tramite 1", hash);
	pt_pkcs1_sha256(hash, block);
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, block, 256, sig, &sig_len), 0x6982);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, block, 256, sig, &sig_len), 0x9000);
	assert_int_equal(sig_len, 256);
	assert_true(pt_verify_sig(key, EVP_sha256(), hash, 32, sig, sig_len));
	/* PIN once: a second signature needs no new VERIFY. */
	sig_len = sizeof(sig);
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, block, 256, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(key, EVP_sha256(), hash, 32, sig, sig_len));
	/* Wrong sizes, wrong algorithm, a block not below n. */
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, block, 255, NULL, NULL), 0x6A80);
	assert_int_equal(pt_sign(piv, 0x11, 0x9A, block, 256, NULL, NULL), 0x6A80);
	memset(block, 0xFF, sizeof(block));
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, block, 256, NULL, NULL), 0x6A80);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void test_9c_always_authenticate(void **state)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = install(piv, 0x9C, "RSA", NULL);
	uint8_t hash[32], block[256], sig[512];
	size_t sig_len = sizeof(sig);

	(void)state;
	sha(EVP_sha256(), "firma de tramite", hash);
	pt_pkcs1_sha256(hash, block);
	assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, sig, &sig_len), 0x6982);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(key, EVP_sha256(), hash, 32, sig, sig_len));
	/* The verification was used up by that signature. */
	assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, NULL, NULL), 0x6982);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	sig_len = sizeof(sig);
	assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(key, EVP_sha256(), hash, 32, sig, sig_len));
	assert_int_equal(pt_sign(piv, 0x07, 0x9C, block, 256, NULL, NULL), 0x6982);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void ecdsa_case(uint8_t slot, const char *curve, uint8_t alg, const EVP_MD *md, size_t hlen)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = install(piv, slot, "EC", curve);
	uint8_t hash[64], sig[160];
	size_t sig_len = sizeof(sig);

	sha(md, "hola", hash);
	if (slot != 0x9E)
		assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_sign(piv, alg, slot, hash, hlen, sig, &sig_len), 0x9000);
	assert_int_equal(sig[0], 0x30);             /* DER ECDSA-Sig-Value */
	assert_true(pt_verify_sig(key, NULL, hash, hlen, sig, sig_len));
	/* A longer input is truncated to the field size, like a longer hash. */
	sig_len = sizeof(sig);
	sha(EVP_sha512(), "hola", hash);
	assert_int_equal(pt_sign(piv, alg, slot, hash, 64, sig, &sig_len), slot == 0x9C ? 0x6982 : 0x9000);
	if (slot != 0x9C)
		assert_true(pt_verify_sig(key, NULL, hash, hlen, sig, sig_len));
	assert_int_equal(pt_sign(piv, 0x07, slot, hash, hlen, NULL, NULL), 0x6A80);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void test_ecdsa_p256_9e_no_pin(void **state)
{
	(void)state;
	ecdsa_case(0x9E, "P-256", 0x11, EVP_sha256(), 32);
}

static void test_ecdsa_p384_9d(void **state)
{
	(void)state;
	ecdsa_case(0x9D, "P-384", 0x14, EVP_sha384(), 48);
}

static void test_ecdsa_p256_9c(void **state)
{
	(void)state;
	ecdsa_case(0x9C, "P-256", 0x11, EVP_sha256(), 32);
}

static void test_ecdh_9d(void **state)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = install(piv, 0x9D, "EC", "P-256");
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	uint8_t point[65], expect[32], cmd[2 + 2 + 2 + 65];
	size_t plen = 0, elen = sizeof(expect);
	struct piv_resp r;
	const uint8_t *v;
	size_t vlen;

	(void)state;
	assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
							 sizeof(point), &plen), 1);
	assert_int_equal(plen, 65);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, key), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, expect, &elen), 1);
	cmd[0] = 0x7C;
	cmd[1] = 2 + 2 + 65;
	cmd[2] = 0x82;
	cmd[3] = 0x00;
	cmd[4] = 0x85;
	cmd[5] = 65;
	memcpy(cmd + 6, point, 65);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9D, cmd, sizeof(cmd), &r), 0x6982);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9D, cmd, sizeof(cmd), &r), 0x9000);
	assert_int_equal(r.data[0], 0x7C);
	v = pt_find(r.data + 2, r.len - 2, 0x82, &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 32);
	assert_memory_equal(v, expect, 32);
	/* A point off the curve. */
	cmd[40] ^= 1;
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9D, cmd, sizeof(cmd), &r), 0x6A80);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void test_errors(void **state)
{
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = install(piv, 0x9E, "EC", "P-256");
	uint8_t hash[32] = { 1 };
	struct piv_resp r;
	char err[128];

	(void)state;
	/* Empty slot, not a key slot. */
	assert_int_equal(pt_sign(piv, 0x07, 0x9A, hash, 32, NULL, NULL), 0x6A88);
	assert_int_equal(pt_sign(piv, 0x11, 0x42, hash, 32, NULL, NULL), 0x6A86);
	/* Malformed templates. */
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, NULL, 0, &r), 0x6700);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x05\x82\x00\x81\x01", 6, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x03\x81\x01\x01", 5, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x02\x82\x00", 4, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x07\x82\x00\x81\x01\x01\x83\x00", 9, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7D\x05\x82\x00\x81\x01\x01", 7, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x05\x82\x00\x81\x01\x01\x00", 8, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x04\x82\x00\x81\x00", 6, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x87, 0x11, 0x9E, "\x7C\x05\x82\x00\x81\x01\x01", 7, &r), 0x9000);
	/* install_key refuses what a PIV slot cannot hold. */
	assert_int_equal(piv_applet_install_key(piv, 0x9B, key, err, sizeof(err)), -1);
	{
		EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");

		assert_int_equal(piv_applet_install_key(piv, 0x9A, small, err, sizeof(err)), -1);
		assert_int_equal(piv_applet_install_key(piv, 0x9A, p521, err, sizeof(err)), -1);
		EVP_PKEY_free(small);
		EVP_PKEY_free(p521);
	}
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_sign_9a),
		cmocka_unit_test(test_9c_always_authenticate),
		cmocka_unit_test(test_ecdsa_p256_9e_no_pin),
		cmocka_unit_test(test_ecdsa_p384_9d),
		cmocka_unit_test(test_ecdsa_p256_9c),
		cmocka_unit_test(test_ecdh_9d),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
