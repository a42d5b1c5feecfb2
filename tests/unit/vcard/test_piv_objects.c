/* PIV applet: SELECT (application property template), GET DATA of every
 * object of a personalised card, PUT DATA, and their status words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "piv_test_util.h"
#include "tlv.h"

static uint16_t get_data(struct piv_applet *piv, const uint8_t *tag, size_t tag_len, struct piv_resp *r)
{
	uint8_t cmd[8];

	cmd[0] = 0x5C;
	cmd[1] = (uint8_t)tag_len;
	memcpy(cmd + 2, tag, tag_len);
	return pt_cmd(piv, 0xCB, 0x3F, 0xFF, cmd, 2 + tag_len, r);
}

static uint16_t get_obj(struct piv_applet *piv, uint32_t tag, struct piv_resp *r)
{
	uint8_t t[3] = { (uint8_t)(tag >> 16), (uint8_t)(tag >> 8), (uint8_t)tag };

	return get_data(piv, t, 3, r);
}

static void test_select_template(void **state)
{
	static const uint8_t expect[] = {
		0x61, 0x3A,
		0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
		0x79, 0x07, 0x4F, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08,
		0x50, 0x0B, 'L', 'l', 'a', 'v', 'e', 'r', 'o', ' ', 'P', 'I', 'V',
		0xAC, 0x1A, 0x80, 0x01, 0x03, 0x80, 0x01, 0x08, 0x80, 0x01, 0x0A, 0x80, 0x01, 0x0C,
		0x80, 0x01, 0x06, 0x80, 0x01, 0x07, 0x80, 0x01, 0x11, 0x80, 0x01, 0x14, 0x06, 0x00,
	};
	struct piv_applet *piv = piv_applet_new();
	struct piv_resp r;

	(void)state;
	assert_int_equal(pt_select(piv, &r), SW_OK);
	assert_int_equal(r.len, sizeof(expect));
	assert_memory_equal(r.data, expect, sizeof(expect));
	assert_int_equal(piv_applet_ops.aid_len, 11);
	assert_memory_equal(piv_applet_ops.aid, "\xA0\x00\x00\x03\x08\x00\x00\x10\x00\x01\x00", 11);
	piv_applet_free(piv);
}

static void test_get_chuid(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	struct llv_tlv t;
	const uint8_t *v;
	size_t vlen;

	(void)state;
	assert_int_equal(get_obj(piv, 0x5FC102, &r), SW_OK);
	assert_int_equal(llv_tlv_parse(r.data, r.len, &t), 0);
	assert_int_equal(t.tag, 0x53);
	assert_int_equal(t.raw_len, r.len);
	v = pt_find(t.value, t.len, 0x30, &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 25);
	/* SS then agency code 9999 (5-bit BCD with odd parity), as on YubiKeys. */
	assert_int_equal(v[0], 0xD4);
	assert_int_equal(v[1], 0xE7);
	assert_int_equal(v[2], 0x39);
	assert_non_null(pt_find(t.value, t.len, 0x34, &vlen));
	assert_int_equal(vlen, 16);
	v = pt_find(t.value, t.len, 0x35, &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 8);
	for (size_t i = 0; i < 8; i++)
		assert_true(v[i] >= '0' && v[i] <= '9');
	assert_non_null(pt_find(t.value, t.len, 0x3E, &vlen));
	assert_int_equal(vlen, 0);
	assert_non_null(pt_find(t.value, t.len, 0xFE, &vlen));
	piv_applet_free(piv);
}

static void test_get_ccc_keyhistory_discovery(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	static const uint8_t disc[] = { 0x7E, 0x12, 0x4F, 0x0B, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10,
					0x00, 0x01, 0x00, 0x5F, 0x2F, 0x02, 0x40, 0x00 };
	static const uint8_t kh[] = { 0x53, 0x08, 0xC1, 0x01, 0x00, 0xC2, 0x01, 0x00, 0xFE, 0x00 };
	size_t vlen;

	(void)state;
	assert_int_equal(get_obj(piv, 0x5FC107, &r), SW_OK);
	assert_int_equal(r.data[0], 0x53);
	assert_non_null(pt_find(r.data + 2, r.len - 2, 0xF0, &vlen));
	assert_int_equal(vlen, 21);
	assert_int_equal(get_data(piv, (const uint8_t *)"\x7E", 1, &r), SW_OK);
	assert_int_equal(r.len, sizeof(disc));
	assert_memory_equal(r.data, disc, sizeof(disc));
	assert_int_equal(get_obj(piv, 0x5FC10C, &r), SW_OK);
	assert_int_equal(r.len, sizeof(kh));
	assert_memory_equal(r.data, kh, sizeof(kh));
	piv_applet_free(piv);
}

static void test_printed_info_needs_pin(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	size_t vlen;

	(void)state;
	assert_int_equal(get_obj(piv, 0x5FC109, &r), 0x6982);
	assert_int_equal(pt_verify_pin(piv, "123456"), SW_OK);
	assert_int_equal(get_obj(piv, 0x5FC109, &r), SW_OK);
	assert_int_equal(r.data[0], 0x53);
	assert_non_null(pt_find(r.data + 2, r.len - 2, 0x01, &vlen));
	piv_applet_free(piv);
}

static void test_absent_and_bad_requests(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	static const uint8_t two_lists[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x5C, 0x01, 0x7E };

	(void)state;
	/* Certificates, security object, BIT group, retired keys: absent. */
	assert_int_equal(get_obj(piv, 0x5FC105, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC10A, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC10B, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC101, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC106, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC10D, &r), 0x6A82);
	assert_int_equal(get_obj(piv, 0x5FC120, &r), 0x6A82);
	assert_int_equal(get_data(piv, (const uint8_t *)"\x7F\x61", 2, &r), 0x6A82);
	/* Not a PIV object. */
	assert_int_equal(get_obj(piv, 0x5FC1F0, &r), 0x6A82);
	/* Malformed tag lists. */
	assert_int_equal(get_data(piv, (const uint8_t *)"\x5F\xC1", 2, &r), 0x6A80);
	assert_int_equal(get_data(piv, (const uint8_t *)"\x7F", 1, &r), 0x6A80);
	assert_int_equal(get_data(piv, (const uint8_t *)"\x5F\xC1\x02\x00", 4, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, "\x53\x03\x5F\xC1\x02", 5, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, "\x5C\x05\x5F\xC1", 4, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, two_lists, sizeof(two_lists), &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFF, NULL, 0, &r), 0x6700);
	assert_int_equal(pt_cmd(piv, 0xCB, 0x3F, 0xFE, "\x5C\x01\x7E", 3, &r), 0x6A86);
	/* Unknown instruction. */
	assert_int_equal(pt_cmd(piv, 0x12, 0x00, 0x00, NULL, 0, &r), 0x6D00);
	piv_applet_free(piv);
}

static void test_certificates(void **state)
{
	static const struct { uint8_t slot; uint32_t tag; } slots[] = {
		{ 0x9A, 0x5FC105 }, { 0x9C, 0x5FC10A }, { 0x9D, 0x5FC10B }, { 0x9E, 0x5FC101 },
	};
	struct piv_applet *piv = pt_new_card();
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	size_t der_len, vlen;
	uint8_t *der = pt_self_signed(key, &der_len);
	struct piv_resp r;
	struct llv_tlv t;
	const uint8_t *v;
	char err[128];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(piv_applet_install_cert(piv, slots[i].slot, der, der_len, err, sizeof(err)), 0);
		assert_true(piv_applet_ops.take_dirty(piv));
		assert_int_equal(get_obj(piv, slots[i].tag, &r), SW_OK);
		assert_int_equal(llv_tlv_parse(r.data, r.len, &t), 0);
		assert_int_equal(t.tag, 0x53);
		v = pt_find(t.value, t.len, 0x70, &vlen);
		assert_non_null(v);
		assert_int_equal(vlen, der_len);
		assert_memory_equal(v, der, der_len);
		v = pt_find(t.value, t.len, 0x71, &vlen);
		assert_non_null(v);
		assert_int_equal(vlen, 1);
		assert_int_equal(v[0], 0);
		assert_non_null(pt_find(t.value, t.len, 0xFE, &vlen));
	}
	/* Bad input to install_cert. */
	assert_int_equal(piv_applet_install_cert(piv, 0x9B, der, der_len, err, sizeof(err)), -1);
	assert_int_equal(piv_applet_install_cert(piv, 0x9A, der, der_len - 1, err, sizeof(err)), -1);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

static void test_put_data(void **state)
{
	struct piv_applet *piv = pt_new_card();
	struct piv_resp r;
	static const uint8_t put[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x06, 0x53, 0x04, 0xBA, 0x02, 0x01, 0x02 };
	static const uint8_t del[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x06, 0x53, 0x00 };
	static const uint8_t bad_outer[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x06, 0x54, 0x00 };
	static const uint8_t trailing[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x06, 0x53, 0x00, 0x00 };
	static const uint8_t disc[] = { 0x7E, 0x03, 0x4F, 0x01, 0xA0 };

	(void)state;
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, put, sizeof(put), &r), 0x6982);
	assert_false(piv_applet_ops.take_dirty(piv));
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), SW_OK);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0x00, put, sizeof(put), &r), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, put, sizeof(put), &r), SW_OK);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(get_obj(piv, 0x5FC106, &r), SW_OK);
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.data, put + 5, 6);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, bad_outer, sizeof(bad_outer), &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, trailing, sizeof(trailing), &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\xF0\x53\x00", 7, &r), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, del, sizeof(del), &r), SW_OK);
	assert_int_equal(get_obj(piv, 0x5FC106, &r), 0x6A82);
	/* The discovery object carries its own tag. */
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, disc, sizeof(disc), &r), SW_OK);
	assert_int_equal(get_data(piv, (const uint8_t *)"\x7E", 1, &r), SW_OK);
	assert_int_equal(r.len, sizeof(disc));
	/* A new SELECT drops the management key authentication. */
	assert_int_equal(pt_select(piv, &r), SW_OK);
	assert_int_equal(pt_cmd(piv, 0xDB, 0x3F, 0xFF, put, sizeof(put), &r), 0x6982);
	piv_applet_free(piv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_template),
		cmocka_unit_test(test_get_chuid),
		cmocka_unit_test(test_get_ccc_keyhistory_discovery),
		cmocka_unit_test(test_printed_info_needs_pin),
		cmocka_unit_test(test_absent_and_bad_requests),
		cmocka_unit_test(test_certificates),
		cmocka_unit_test(test_put_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
