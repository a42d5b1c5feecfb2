/* CTAP1/U2F over APDUs: register with the batch certificate, authenticate
 * (check-only, enforce, don't enforce), version, status words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "ctap_test_client.h"

static int setup(void **state)
{
	*state = tc_new();
	return 0;
}

static int teardown(void **state)
{
	tc_free(*state);
	return 0;
}

/* Sends an APDU; returns the SW, data into out. */
static uint16_t apdu(struct tc *t, const uint8_t *a, size_t n, uint8_t *out, size_t *out_len)
{
	struct llv_buf r = LLV_BUF_INIT;
	uint16_t sw;

	ctap_auth_u2f(t->a, a, n, &r);
	assert_true(llv_buf_ok(&r) && r.len >= 2);
	sw = (uint16_t)(r.data[r.len - 2] << 8 | r.data[r.len - 1]);
	if (out != NULL) {
		memcpy(out, r.data, r.len - 2);
		*out_len = r.len - 2;
	}
	if (sw != 0x9000)
		assert_int_equal(r.len, 2);
	llv_buf_free(&r);
	return sw;
}

static size_t build(uint8_t *buf, uint8_t ins, uint8_t p1, const uint8_t *data, size_t n, bool extended)
{
	size_t off = 0;

	buf[off++] = 0x00;
	buf[off++] = ins;
	buf[off++] = p1;
	buf[off++] = 0x00;
	if (extended) {
		buf[off++] = 0;
		buf[off++] = (uint8_t)(n >> 8);
		buf[off++] = (uint8_t)n;
	} else {
		buf[off++] = (uint8_t)n;
	}
	memcpy(buf + off, data, n);
	off += n;
	if (extended) {
		buf[off++] = 0;
		buf[off++] = 0;
	} else {
		buf[off++] = 0;
	}
	return off;
}

struct reg {
	uint8_t pub[65];
	uint8_t kh[255];
	size_t kh_len;
	EVP_PKEY *key;
};

static EVP_PKEY *point_key(const uint8_t pt[65])
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pt, 65);
	params[2] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static bool verify(EVP_PKEY *k, const uint8_t *msg, size_t n, const uint8_t *sig, size_t sn)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 && EVP_DigestVerify(md, sig, sn, msg, n) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static void do_register(struct tc *t, const uint8_t app[32], struct reg *out, bool extended)
{
	uint8_t data[64], a[80], resp[2048], msg[1 + 32 + 32 + 255 + 65];
	size_t n, rl, off;
	const uint8_t *p;
	X509 *cert;
	size_t ml = 0;

	memset(data, 0xc1, 32);
	memcpy(data + 32, app, 32);
	n = build(a, 0x01, 0x03, data, 64, extended);
	assert_int_equal(apdu(t, a, n, resp, &rl), 0x9000);
	assert_int_equal(resp[0], 0x05);
	memcpy(out->pub, resp + 1, 65);
	out->kh_len = resp[66];
	memcpy(out->kh, resp + 67, out->kh_len);
	off = 67 + out->kh_len;
	p = resp + off;
	cert = d2i_X509(NULL, &p, (long)(rl - off));
	assert_non_null(cert);
	off = (size_t)(p - resp);
	msg[ml++] = 0x00;
	memcpy(msg + ml, app, 32);
	ml += 32;
	memcpy(msg + ml, data, 32);
	ml += 32;
	memcpy(msg + ml, out->kh, out->kh_len);
	ml += out->kh_len;
	memcpy(msg + ml, out->pub, 65);
	ml += 65;
	assert_true(verify(X509_get0_pubkey(cert), msg, ml, resp + off, rl - off));
	X509_free(cert);
	out->key = point_key(out->pub);
}

static uint16_t do_auth(struct tc *t, uint8_t p1, const uint8_t app[32], const struct reg *r, uint8_t *flags,
			uint32_t *counter)
{
	uint8_t data[320], a[340], resp[256], msg[69];
	size_t n, rl;
	uint16_t sw;

	memset(data, 0xd2, 32);
	memcpy(data + 32, app, 32);
	data[64] = (uint8_t)r->kh_len;
	memcpy(data + 65, r->kh, r->kh_len);
	n = build(a, 0x02, p1, data, 65 + r->kh_len, false);
	sw = apdu(t, a, n, resp, &rl);
	if (sw != 0x9000)
		return sw;
	*flags = resp[0];
	*counter = (uint32_t)resp[1] << 24 | (uint32_t)resp[2] << 16 | (uint32_t)resp[3] << 8 | resp[4];
	memcpy(msg, app, 32);
	memcpy(msg + 32, resp, 5);
	memcpy(msg + 37, data, 32);
	assert_true(verify(r->key, msg, sizeof(msg), resp + 5, rl - 5));
	return sw;
}

static void test_u2f_register_authenticate(void **state)
{
	struct tc *t = *state;
	uint8_t app[32], other[32], flags;
	uint32_t c1, c2;
	struct reg r;

	SHA256((const uint8_t *)"https://example.com", 19, app);
	SHA256((const uint8_t *)"https://other.com", 17, other);
	do_register(t, app, &r, false);
	assert_int_equal(do_auth(t, 0x07, app, &r, &flags, &c1), 0x6985);
	assert_int_equal(do_auth(t, 0x07, other, &r, &flags, &c1), 0x6A80);
	assert_int_equal(do_auth(t, 0x03, app, &r, &flags, &c1), 0x9000);
	assert_int_equal(flags, 0x01);
	assert_int_equal(do_auth(t, 0x08, app, &r, &flags, &c2), 0x9000);
	assert_int_equal(flags, 0x00);
	assert_true(c2 > c1);
	assert_int_equal(do_auth(t, 0x03, other, &r, &flags, &c1), 0x6A80);
	assert_int_equal(do_auth(t, 0x05, app, &r, &flags, &c1), 0x6A86);
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	assert_int_equal(do_auth(t, 0x03, app, &r, &flags, &c1), 0x6985);
	t->up_result = 0;
	r.kh[10] ^= 1;
	assert_int_equal(do_auth(t, 0x03, app, &r, &flags, &c1), 0x6A80);
	r.kh[10] ^= 1;
	r.kh_len = 10;
	assert_int_equal(do_auth(t, 0x03, app, &r, &flags, &c1), 0x6A80);
	EVP_PKEY_free(r.key);
}

static void test_u2f_extended_and_ctap2_interop(void **state)
{
	struct tc *t = *state;
	uint8_t app[32];
	struct reg r;
	struct tc_ga ga = { .rp_id = "example.org" };
	cbor_item_t *resp = NULL;

	/* a U2F registration with appId hash = SHA-256("example.org") works
	 * through CTAP2 getAssertion with rpId "example.org" */
	SHA256((const uint8_t *)"example.org", 11, app);
	do_register(t, app, &r, true);
	ga.allow_id = r.kh;
	ga.allow_len = r.kh_len;
	assert_int_equal(tc_get_assertion(t, &ga, r.key, &resp), 0);
	cbor_decref(&resp);
	EVP_PKEY_free(r.key);
}

static void test_u2f_errors(void **state)
{
	struct tc *t = *state;
	uint8_t a[300], data[64] = { 0 }, resp[64];
	size_t n, rl;

	/* version */
	{
		const uint8_t v[] = { 0x00, 0x03, 0x00, 0x00 };
		const uint8_t v2[] = { 0x00, 0x03, 0x00, 0x00, 0x00 };
		const uint8_t v3[] = { 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00 };
		const uint8_t vdata[] = { 0x00, 0x03, 0x00, 0x00, 0x01, 0xaa };

		assert_int_equal(apdu(t, v, sizeof(v), resp, &rl), 0x9000);
		assert_int_equal(rl, 6);
		assert_memory_equal(resp, "U2F_V2", 6);
		assert_int_equal(apdu(t, v2, sizeof(v2), resp, &rl), 0x9000);
		assert_int_equal(apdu(t, v3, sizeof(v3), resp, &rl), 0x9000);
		const uint8_t cut[] = { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00 };

		assert_int_equal(apdu(t, vdata, sizeof(vdata), NULL, NULL), 0x6700);
		/* an extended Lc cut short (found by fuzz_ctap2_cbor) */
		assert_int_equal(apdu(t, cut, sizeof(cut), NULL, NULL), 0x6700);
	}
	/* register with the wrong length */
	n = build(a, 0x01, 0x00, data, 63, false);
	assert_int_equal(apdu(t, a, n, NULL, NULL), 0x6700);
	/* Lc that disagrees with the data */
	n = build(a, 0x01, 0x00, data, 64, false);
	assert_int_equal(apdu(t, a, n - 3, NULL, NULL), 0x6700);
	assert_int_equal(apdu(t, a, 3, NULL, NULL), 0x6700);
	/* user presence denied */
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	n = build(a, 0x01, 0x00, data, 64, false);
	assert_int_equal(apdu(t, a, n, NULL, NULL), 0x6985);
	t->up_result = 0;
	/* authenticate too short */
	n = build(a, 0x02, 0x03, data, 64, false);
	assert_int_equal(apdu(t, a, n, NULL, NULL), 0x6700);
	/* unknown INS, CLA */
	n = build(a, 0x09, 0x00, data, 0, false);
	assert_int_equal(apdu(t, a, 4, NULL, NULL), 0x6D00);
	a[0] = 0x80;
	assert_int_equal(apdu(t, a, 4, NULL, NULL), 0x6E00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_u2f_register_authenticate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_u2f_extended_and_ctap2_interop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_u2f_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
