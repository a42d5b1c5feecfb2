/* Unit tests of the piv driver over a simulated PIV card (no PC/SC: the
 * transport's virtual card): a non-PIV card is not recognised; objects and
 * the token label come from the card's certificates; PIN counters become
 * token flags; a wrong PIN costs exactly one VERIFY (never retried) and a
 * bad length none; signing sends the core's block in one GENERAL
 * AUTHENTICATE and the result verifies; APDUs per operation are counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "p11_internal.h"
#include "pcsc_card.h"
#include "tlv.h"

static const uint8_t vcard_atr[] = { 0x3B, 0x8D, 0x80, 0x01, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57,
	                             'L', 'l', 'a', 'v', 'e', 'r', 'o', 0xC6 };

struct sim {
	bool piv;
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
	int pin_left;
	unsigned verifies, genauths, apdus;
};

static struct sim sim;

static void put_sw(uint8_t *rsp, size_t *n, uint16_t sw)
{
	rsp[(*n)++] = (uint8_t)(sw >> 8);
	rsp[(*n)++] = (uint8_t)sw;
}

static CK_RV sim_xfer(void *ctx, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t *rlen)
{
	struct sim *s = ctx;
	const uint8_t *data = NULL;
	size_t lc = 0, n = 0;
	uint8_t ins = cmd[1];

	s->apdus++;
	if (len > 5 && cmd[4] != 0) {
		lc = cmd[4];
		data = cmd + 5;
	} else if (len > 7 && cmd[4] == 0) {
		lc = (size_t)cmd[5] << 8 | cmd[6];
		data = cmd + 7;
	}
	if (ins == 0xA4) {
		put_sw(rsp, &n, s->piv ? 0x9000 : 0x6A82);
	} else if (!s->piv) {
		put_sw(rsp, &n, 0x6D00);
	} else if (ins == 0xCB && lc == 5 && data[4] == 0x05 && s->cert) {
		struct llv_buf inner = LLV_BUF_INIT, obj = LLV_BUF_INIT;

		llv_tlv_put(&inner, 0x70, s->cert, s->cert_len);
		llv_tlv_put(&obj, 0x53, inner.data, inner.len);
		assert_true(obj.len + 2 <= *rlen);
		memcpy(rsp, obj.data, obj.len);
		n = obj.len;
		llv_buf_free(&inner);
		llv_buf_free(&obj);
		put_sw(rsp, &n, 0x9000);
	} else if (ins == 0xCB) {
		put_sw(rsp, &n, 0x6A82);
	} else if (ins == 0xF7) {
		rsp[n++] = 0x06;
		rsp[n++] = 2;
		rsp[n++] = 3;
		rsp[n++] = cmd[3] == 0x80 ? (uint8_t)s->pin_left : 3;
		put_sw(rsp, &n, 0x9000);
	} else if (ins == 0x20 && cmd[2] == 0xFF) {
		put_sw(rsp, &n, 0x9000);
	} else if (ins == 0x20) {
		s->verifies++;
		if (s->pin_left == 0)
			put_sw(rsp, &n, 0x6983);
		else if (lc == 8 && memcmp(data, "123456\xFF\xFF", 8) == 0)
			s->pin_left = 3, put_sw(rsp, &n, 0x9000);
		else
			s->pin_left--, put_sw(rsp, &n, (uint16_t)(0x63C0 | s->pin_left));
	} else if (ins == 0x87) {
		/* 7C { 82 00, 81 block } -> 7C { 82 block^d } */
		struct llv_tlv outer, chal;
		uint8_t sig[256];
		size_t sl = sizeof(sig);
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->key, NULL);
		struct llv_buf inner = LLV_BUF_INIT, out = LLV_BUF_INIT;

		s->genauths++;
		assert_int_equal(llv_tlv_parse(data, lc, &outer), 0);
		assert_int_equal(llv_tlv_find(outer.value, outer.len, 0x81, &chal), 0);
		assert_int_equal(chal.len, 256);
		assert_int_equal(EVP_PKEY_sign_init(c), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
		assert_int_equal(EVP_PKEY_sign(c, sig, &sl, chal.value, chal.len), 1);
		EVP_PKEY_CTX_free(c);
		llv_tlv_put(&inner, 0x82, sig, sl);
		llv_tlv_put(&out, 0x7C, inner.data, inner.len);
		memcpy(rsp, out.data, out.len);
		n = out.len;
		llv_buf_free(&inner);
		llv_buf_free(&out);
		put_sw(rsp, &n, 0x9000);
	} else {
		put_sw(rsp, &n, 0x6D00);
	}
	*rlen = n;
	return CKR_OK;
}

static int setup(void **state)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	unsigned char *der = NULL;
	int n;

	setenv("LLAVERO_PKCS11_CONF", "/dev/null", 1);
	setenv("LLAVERO_EFIRMA_DIR", "/nonexistent-llavero-test", 1);
	memset(&sim, 0, sizeof(sim));
	sim.key = EVP_RSA_gen(2048);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)"ANA RUIZ", -1, -1, 0);
	X509_NAME_add_entry_by_NID(nm, NID_x500UniqueIdentifier, MBSTRING_ASC,
	                           (const unsigned char *)"RUAA900101XX1", -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, sim.key);
	X509_sign(x, sim.key, EVP_sha256());
	n = i2d_X509(x, &der);
	X509_free(x);
	X509_NAME_free(nm);
	if (n <= 0)
		return -1;
	sim.cert = der;
	sim.cert_len = (size_t)n;
	return C_Initialize(NULL) == CKR_OK ? 0 : -1;
}

static int teardown(void **state)
{
	C_Finalize(NULL);
	OPENSSL_free(sim.cert);
	EVP_PKEY_free(sim.key);
	return 0;
}

static struct p11_card *card_new(bool piv)
{
	struct p11_card *c = NULL;

	sim.piv = piv;
	sim.pin_left = 3;
	sim.verifies = sim.genauths = sim.apdus = 0;
	assert_int_equal(p11_card_new_virtual(vcard_atr, sizeof(vcard_atr), sim_xfer, &sim, &c), CKR_OK);
	return c;
}

static void test_not_piv(void **state)
{
	struct p11_card *c = card_new(false);
	void *priv = NULL;

	assert_int_equal(p11_driver_piv.probe(c, &priv), CKR_TOKEN_NOT_RECOGNIZED);
	assert_null(priv);
	p11_card_free(c, false);
}

static struct p11_token *load(struct p11_card *c)
{
	struct p11_token *t = calloc(1, sizeof(*t));
	void *priv = NULL;

	assert_non_null(t);
	assert_int_equal(p11_driver_piv.probe(c, &priv), CKR_OK);
	t->drv = &p11_driver_piv;
	t->priv = priv;
	t->user = P11_NO_USER;
	assert_int_equal(p11_driver_piv.load_objects(priv, t), CKR_OK);
	return t;
}

static void test_objects_label_and_apdus(void **state)
{
	struct p11_card *c = card_new(true);
	struct p11_token *t = load(c);
	CK_TOKEN_INFO ti;

	/* 9A only: certificate, public key, private key */
	assert_int_equal(t->nobjs, 3);
	/* SELECT, CHUID, 4 certificates, key history: one APDU each (extended) */
	assert_int_equal(sim.apdus, 7);
	memset(&ti, 0, sizeof(ti));
	assert_int_equal(p11_driver_piv.token_info(t->priv, &ti), CKR_OK);
	assert_memory_equal(ti.label, "ANA RUIZ (RUAA900101XX1)        ", 32);
	assert_memory_equal(ti.model, "Llavero vcard   ", 16);
	assert_int_equal(ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
	                             CKF_USER_PIN_LOCKED), 0);
	p11_token_free(t);
	p11_card_free(c, false);
}

static CK_FLAGS pin_flags(struct p11_token *t)
{
	CK_TOKEN_INFO ti;

	memset(&ti, 0, sizeof(ti));
	assert_int_equal(p11_driver_piv.token_info(t->priv, &ti), CKR_OK);
	return ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
}

static void test_pin_counters_and_no_retry(void **state)
{
	struct p11_card *c = card_new(true);
	struct p11_token *t = load(c);
	const struct p11_driver *d = &p11_driver_piv;

	/* a PIN of the wrong length never reaches the card */
	assert_int_equal(d->login(t->priv, CKU_USER, NULL, (const uint8_t *)"12345", 5),
	                 CKR_PIN_LEN_RANGE);
	assert_int_equal(sim.verifies, 0);
	/* one wrong PIN = one VERIFY */
	assert_int_equal(d->login(t->priv, CKU_USER, NULL, (const uint8_t *)"654321", 6),
	                 CKR_PIN_INCORRECT);
	assert_int_equal(sim.verifies, 1);
	assert_int_equal(pin_flags(t), CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(d->login(t->priv, CKU_USER, NULL, (const uint8_t *)"654321", 6),
	                 CKR_PIN_INCORRECT);
	assert_int_equal(pin_flags(t), CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(d->login(t->priv, CKU_USER, NULL, (const uint8_t *)"654321", 6),
	                 CKR_PIN_LOCKED);
	assert_int_equal(pin_flags(t), CKF_USER_PIN_LOCKED);
	assert_int_equal(d->login(t->priv, CKU_USER, NULL, (const uint8_t *)"123456", 6),
	                 CKR_PIN_LOCKED);
	assert_int_equal(sim.verifies, 4);
	p11_token_free(t);
	p11_card_free(c, false);
}

static void test_sign_one_apdu(void **state)
{
	struct p11_card *c = card_new(true);
	struct p11_token *t = load(c);
	struct p11_object *key = NULL;
	uint8_t hash[32], block[256], sig[256];
	size_t sl = sizeof(sig);
	unsigned before;
	struct llv_buf di = LLV_BUF_INIT;
	EVP_PKEY_CTX *v;

	for (size_t i = 0; i < t->nobjs; i++)
		if (t->objs[i]->cls == CKO_PRIVATE_KEY)
			key = t->objs[i];
	assert_non_null(key);
	assert_int_equal(p11_object_key_ref(key), 0x9A);
	assert_int_equal(p11_driver_piv.login(t->priv, CKU_USER, NULL, (const uint8_t *)"123456", 6),
	                 CKR_OK);
	memset(hash, 0xAB, sizeof(hash));
	assert_int_equal(p11_digest_info(EVP_sha256(), hash, sizeof(hash), &di), 0);
	assert_int_equal(p11_pad_pkcs1_type1(di.data, di.len, block, sizeof(block)), 0);
	before = sim.apdus;
	assert_int_equal(p11_driver_piv.sign(t->priv, key, block, sizeof(block), sig, &sl), CKR_OK);
	assert_int_equal(sim.apdus - before, 1);
	assert_int_equal(sl, 256);
	v = EVP_PKEY_CTX_new(sim.key, NULL);
	assert_int_equal(EVP_PKEY_verify_init(v), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(v, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_verify(v, sig, sl, hash, sizeof(hash)), 1);
	EVP_PKEY_CTX_free(v);
	llv_buf_free(&di);
	/* a block that is not the modulus size is refused before the card */
	before = sim.apdus;
	sl = sizeof(sig);
	assert_int_equal(p11_driver_piv.sign(t->priv, key, block, 255, sig, &sl), CKR_DATA_LEN_RANGE);
	assert_int_equal(sim.apdus, before);
	p11_token_free(t);
	p11_card_free(c, false);
}

static void test_atr_extended_length(void **state)
{
	static const uint8_t yubikey[] = { 0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15,
		                           0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59, 0x75, 0x62,
		                           0x69, 0x4B, 0x65, 0x79, 0x40 };
	static const uint8_t no_caps[] = { 0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00,
		                           0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
		                           0x00, 0x6A };

	assert_true(p11_atr_extended_length(vcard_atr, sizeof(vcard_atr)));
	assert_true(p11_atr_extended_length(yubikey, sizeof(yubikey)));
	assert_false(p11_atr_extended_length(no_caps, sizeof(no_caps)));
	assert_false(p11_atr_extended_length(vcard_atr, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_piv),
		cmocka_unit_test(test_objects_label_and_apdus),
		cmocka_unit_test(test_pin_counters_and_no_retry),
		cmocka_unit_test(test_sign_one_apdu),
		cmocka_unit_test(test_atr_extended_length),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
