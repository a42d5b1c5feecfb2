/* Unit tests of the object layer and the padding encoders: objects derived
 * from a certificate (attributes, CKA_ID linking, "NOMBRE (RFC)" labels),
 * template matching as C_FindObjects does it, C_GetAttributeValue's
 * per-attribute answers, and PKCS#1 v1.5 / PSS blocks checked against
 * OpenSSL's own signing and verification. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
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

static EVP_PKEY *rsa_key;
static uint8_t *cert_der;
static size_t cert_len;

static X509 *make_cert(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x3030303130303030);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"JUAN PÉREZ", -1, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_name, MBSTRING_UTF8, (const unsigned char *)"JUAN PÉREZ LÓPEZ",
	                           -1, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_x500UniqueIdentifier, MBSTRING_ASC,
	                           (const unsigned char *)"PELJ800101AB1 / XAXX010101000", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, pk);
	X509_sign(x, pk, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static int setup(void **state)
{
	X509 *x;
	unsigned char *p = NULL;
	int n;

	setenv("LLAVERO_PKCS11_CONF", "/dev/null", 1);
	setenv("LLAVERO_EFIRMA_DIR", "/nonexistent-llavero-test", 1);
	rsa_key = EVP_RSA_gen(2048);
	if (!rsa_key)
		return -1;
	x = make_cert(rsa_key);
	n = i2d_X509(x, &p);
	X509_free(x);
	if (n <= 0)
		return -1;
	cert_der = p;
	cert_len = (size_t)n;
	return C_Initialize(NULL) == CKR_OK ? 0 : -1;
}

static int teardown(void **state)
{
	C_Finalize(NULL);
	OPENSSL_free(cert_der);
	EVP_PKEY_free(rsa_key);
	return 0;
}

static const struct p11_driver fake_card = { .name = "fake", .kind = P11_DRIVER_CARD };

static struct p11_token *make_token(void)
{
	struct p11_token *t = calloc(1, sizeof(*t));
	struct p11_key_spec ks = { .drv_ref = 0x9C, .always_authenticate = true, .sign = true };
	uint8_t id = 0x02;

	assert_non_null(t);
	t->drv = &fake_card;
	t->user = P11_NO_USER;
	assert_int_equal(p11_token_add_cert(t, cert_der, cert_len, &id, 1, &ks), CKR_OK);
	assert_int_equal(t->nobjs, 3);
	return t;
}

static struct p11_object *find_class(struct p11_token *t, CK_OBJECT_CLASS cls)
{
	for (size_t i = 0; i < t->nobjs; i++)
		if (t->objs[i]->cls == cls)
			return t->objs[i];
	return NULL;
}

static void test_objects_from_cert(void **state)
{
	struct p11_token *t = make_token();
	struct p11_object *c = find_class(t, CKO_CERTIFICATE);
	struct p11_object *pub = find_class(t, CKO_PUBLIC_KEY);
	struct p11_object *priv = find_class(t, CKO_PRIVATE_KEY);
	const struct p11_attr *a;
	static const char label[] = "JUAN PÉREZ LÓPEZ (PELJ800101AB1)";

	assert_non_null(c);
	assert_non_null(pub);
	assert_non_null(priv);
	a = p11_object_attr(c, CKA_LABEL);
	assert_int_equal(a->len, strlen(label));
	assert_memory_equal(a->value, label, a->len);
	a = p11_object_attr(c, CKA_VALUE);
	assert_int_equal(a->len, cert_len);
	assert_memory_equal(a->value, cert_der, cert_len);
	for (int i = 0; i < 3; i++) {
		struct p11_object *o = i == 0 ? c : i == 1 ? pub : priv;

		a = p11_object_attr(o, CKA_ID);
		assert_int_equal(a->len, 1);
		assert_int_equal(((uint8_t *)a->value)[0], 0x02);
	}
	assert_false(c->private_obj);
	assert_false(pub->private_obj);
	assert_true(priv->private_obj);
	assert_true(priv->always_auth);
	assert_int_equal(priv->drv_ref, 0x9C);
	assert_int_equal(p11_object_key_bits(priv), 2048);
	assert_int_equal(p11_object_key_type(priv), CKK_RSA);
	a = p11_object_attr(priv, CKA_ALWAYS_AUTHENTICATE);
	assert_int_equal(*(CK_BBOOL *)a->value, CK_TRUE);
	/* private objects are hidden until CKU_USER logs in */
	assert_false(p11_object_visible(t, priv));
	t->user = CKU_USER;
	assert_true(p11_object_visible(t, priv));
	t->drv = NULL;  /* no release() */
	p11_token_free(t);
}

static void test_token_label_fits(void **state)
{
	char l[33];

	/* 34 bytes as "NAME (RFC)": the name gives way, the RFC stays whole */
	assert_int_equal(p11_cert_token_label(cert_der, cert_len, l, sizeof(l)), 0);
	assert_string_equal(l, "JUAN PÉREZ LÓP (PELJ800101AB1)");
	assert_true(strlen(l) <= 32);
	/* never half a UTF-8 character: 'Ó' (2 bytes) does not fit in 14 */
	assert_int_equal(p11_cert_token_label(cert_der, cert_len, l, 31), 0);
	assert_string_equal(l, "JUAN PÉREZ L (PELJ800101AB1)");
	assert_int_equal(p11_cert_token_label((const uint8_t *)"junk", 4, l, sizeof(l)), -1);
}

static void test_utf8_prefix(void **state)
{
	CK_UTF8CHAR field[4];

	/* "AÑB": 'Ñ' is bytes 1-2 */
	assert_int_equal(p11_utf8_prefix("A\xc3\x91" "B", 10), 4);
	assert_int_equal(p11_utf8_prefix("A\xc3\x91" "B", 4), 4);
	assert_int_equal(p11_utf8_prefix("A\xc3\x91" "B", 3), 3);
	assert_int_equal(p11_utf8_prefix("A\xc3\x91" "B", 2), 1);
	assert_int_equal(p11_utf8_prefix("\xc3\x91", 1), 0);
	assert_int_equal(p11_utf8_prefix("", 0), 0);
	/* p11_pad blanks what a cut character would have taken */
	p11_pad(field, sizeof(field), "ABC\xc3\x91");
	assert_memory_equal(field, "ABC ", 4);
	p11_pad(field, sizeof(field), "A\xc3\x91" "BC");
	assert_memory_equal(field, "A\xc3\x91" "B", 4);
}

static void test_template_matching(void **state)
{
	struct p11_token *t = make_token();
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_BYTE id = 0x02, other = 0x03;
	CK_BBOOL tru = CK_TRUE;
	CK_ULONG two_bytes = 0;
	CK_ATTRIBUTE by_class[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ATTRIBUTE by_id[] = { { CKA_ID, &id, 1 } };
	CK_ATTRIBUTE by_other_id[] = { { CKA_ID, &other, 1 } };
	CK_ATTRIBUTE sign_true[] = { { CKA_SIGN, &tru, sizeof(tru) } };
	CK_ATTRIBUTE wrong_len[] = { { CKA_CLASS, &two_bytes, 2 } };
	CK_ATTRIBUTE absent[] = { { CKA_MODULUS_BITS, &two_bytes, sizeof(two_bytes) } };
	int n;

	/* empty template: everything */
	for (size_t i = 0; i < t->nobjs; i++)
		assert_true(p11_object_match(t->objs[i], NULL, 0));
	n = 0;
	for (size_t i = 0; i < t->nobjs; i++)
		n += p11_object_match(t->objs[i], by_class, 1);
	assert_int_equal(n, 1);
	n = 0;
	for (size_t i = 0; i < t->nobjs; i++)
		n += p11_object_match(t->objs[i], by_id, 1);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < t->nobjs; i++) {
		assert_false(p11_object_match(t->objs[i], by_other_id, 1));
		assert_false(p11_object_match(t->objs[i], wrong_len, 1));
	}
	/* CKA_SIGN exists on the private key only */
	n = 0;
	for (size_t i = 0; i < t->nobjs; i++)
		n += p11_object_match(t->objs[i], sign_true, 1);
	assert_int_equal(n, 1);
	/* an attribute the certificate does not have: no match */
	assert_false(p11_object_match(find_class(t, CKO_CERTIFICATE), absent, 1));
	assert_true(p11_object_match(find_class(t, CKO_PUBLIC_KEY), by_id, 1));
	t->drv = NULL;
	p11_token_free(t);
}

static void test_get_attribute_value(void **state)
{
	struct p11_token *t = make_token();
	struct p11_object *priv = find_class(t, CKO_PRIVATE_KEY);
	CK_OBJECT_CLASS cls = 0;
	CK_BYTE small[4];
	CK_BYTE big[600];
	CK_ATTRIBUTE q[4];

	/* size query */
	q[0] = (CK_ATTRIBUTE){ CKA_MODULUS, NULL, 0 };
	assert_int_equal(p11_object_get_attrs(priv, q, 1), CKR_OK);
	assert_int_equal(q[0].ulValueLen, 256);
	/* too small, sensitive, unknown, and a good one in the same call */
	q[0] = (CK_ATTRIBUTE){ CKA_MODULUS, small, sizeof(small) };
	q[1] = (CK_ATTRIBUTE){ CKA_PRIVATE_EXPONENT, big, sizeof(big) };
	q[2] = (CK_ATTRIBUTE){ CKA_VALUE_LEN, big, sizeof(big) };
	q[3] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	assert_int_not_equal(p11_object_get_attrs(priv, q, 4), CKR_OK);
	assert_int_equal(q[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(q[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(q[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(q[3].ulValueLen, sizeof(cls));
	assert_int_equal(cls, CKO_PRIVATE_KEY);
	q[0] = (CK_ATTRIBUTE){ CKA_PRIVATE_EXPONENT, NULL, 0 };
	assert_int_equal(p11_object_get_attrs(priv, q, 1), CKR_ATTRIBUTE_SENSITIVE);
	q[0] = (CK_ATTRIBUTE){ CKA_VALUE_LEN, NULL, 0 };
	assert_int_equal(p11_object_get_attrs(priv, q, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	q[0] = (CK_ATTRIBUTE){ CKA_MODULUS, small, sizeof(small) };
	assert_int_equal(p11_object_get_attrs(priv, q, 1), CKR_BUFFER_TOO_SMALL);
	t->drv = NULL;
	p11_token_free(t);
}

/* Raw RSA with the private key, as a card would do it. */
static void raw_rsa(const uint8_t *in, uint8_t *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(rsa_key, NULL);
	size_t outl = 256;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, out, &outl, in, 256), 1);
	assert_int_equal(outl, 256);
	EVP_PKEY_CTX_free(ctx);
}

static void test_pkcs1_matches_openssl(void **state)
{
	const EVP_MD *mds[] = { EVP_sha1(), EVP_sha224(), EVP_sha256(), EVP_sha384(), EVP_sha512() };
	static const char msg[] = "Solicitud de trámite 2024-0001";

	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		uint8_t hash[64], block[256], ours[256], theirs[256];
		unsigned int hl = 0;
		size_t tl = sizeof(theirs);
		struct llv_buf di = LLV_BUF_INIT;
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		EVP_Digest(msg, strlen(msg), hash, &hl, mds[i], NULL);
		assert_int_equal(p11_digest_info(mds[i], hash, hl, &di), 0);
		assert_int_equal(p11_pad_pkcs1_type1(di.data, di.len, block, sizeof(block)), 0);
		raw_rsa(block, ours);
		assert_int_equal(EVP_DigestSignInit(m, NULL, mds[i], NULL, rsa_key), 1);
		assert_int_equal(EVP_DigestSign(m, theirs, &tl, (const unsigned char *)msg, strlen(msg)), 1);
		assert_int_equal(tl, 256);
		assert_memory_equal(ours, theirs, 256);
		EVP_MD_CTX_free(m);
		llv_buf_free(&di);
	}
	/* too long for the modulus */
	{
		uint8_t big[246], block[256];

		memset(big, 1, sizeof(big));
		assert_int_equal(p11_pad_pkcs1_type1(big, 245, block, 256), 0);
		assert_int_equal(p11_pad_pkcs1_type1(big, 246, block, 256), -1);
	}
	{
		struct llv_buf di = LLV_BUF_INIT;
		uint8_t h[31] = { 0 };

		assert_int_equal(p11_digest_info(EVP_sha256(), h, sizeof(h), &di), -1);
		llv_buf_free(&di);
	}
}

static void test_pss_verifies_with_openssl(void **state)
{
	static const char msg[] = "firma PSS";
	const EVP_MD *mds[] = { EVP_sha256(), EVP_sha384(), EVP_sha512() };

	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		uint8_t hash[64], block[256], sig[256];
		unsigned int hl = 0;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(rsa_key, NULL);

		EVP_Digest(msg, strlen(msg), hash, &hl, mds[i], NULL);
		assert_int_equal(p11_pad_pss(rsa_key, mds[i], mds[i], hash, hl, block, 256), 0);
		raw_rsa(block, sig);
		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, mds[i]), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)hl), 1);
		assert_int_equal(EVP_PKEY_verify(ctx, sig, 256, hash, hl), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	assert_ptr_equal(p11_md_of_mech(CKM_SHA256), EVP_sha256());
	assert_null(p11_md_of_mech(CKM_MD5));
	assert_ptr_equal(p11_md_of_mgf(CKG_MGF1_SHA384), EVP_sha384());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects_from_cert),
		cmocka_unit_test(test_token_label_fits),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_template_matching),
		cmocka_unit_test(test_get_attribute_value),
		cmocka_unit_test(test_pkcs1_matches_openssl),
		cmocka_unit_test(test_pss_verifies_with_openssl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
