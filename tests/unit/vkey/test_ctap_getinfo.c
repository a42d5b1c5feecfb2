/* authenticatorGetInfo: every field the issue asks for, in canonical CBOR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctap_test_client.h"

static bool has_text(const cbor_item_t *arr, const char *s)
{
	for (size_t i = 0; i < cbor_array_size(arr); i++) {
		const cbor_item_t *it = cbor_array_handle(arr)[i];

		if (cbor_isa_string(it) && cbor_string_length(it) == strlen(s) &&
		    memcmp(cbor_string_handle(it), s, strlen(s)) == 0)
			return true;
	}
	return false;
}

static bool opt(const cbor_item_t *opts, const char *name)
{
	const cbor_item_t *it = tc_get_s(opts, name);

	assert_non_null(it);
	assert_true(cbor_is_bool(it));
	return cbor_get_bool(it);
}

static void test_getinfo_fields(void **state)
{
	struct tc *t = tc_new();
	cbor_item_t *r = NULL, *v, *opts, *algs;
	uint8_t aaguid[16];

	(void)state;
	assert_int_equal(tc_cmd(t, 0x04, NULL, &r), 0);
	v = tc_get(r, 1);
	assert_int_equal(cbor_array_size(v), 3);
	assert_true(has_text(v, "FIDO_2_0"));
	assert_true(has_text(v, "FIDO_2_1"));
	assert_true(has_text(v, "U2F_V2"));
	assert_true(has_text(tc_get(r, 2), "credProtect"));
	assert_true(has_text(tc_get(r, 2), "hmac-secret"));
	assert_int_equal(tc_get_bytes(r, 3, aaguid, sizeof(aaguid)), 16);
	assert_memory_equal(aaguid, ctap_auth_aaguid(t->a), 16);
	opts = tc_get(r, 4);
	assert_true(opt(opts, "rk"));
	assert_true(opt(opts, "up"));
	assert_false(opt(opts, "clientPin"));
	assert_true(opt(opts, "credMgmt"));
	assert_true(opt(opts, "pinUvAuthToken"));
	assert_true(opt(opts, "makeCredUvNotRqd"));
	assert_null(tc_get_s(opts, "uv"));
	assert_int_equal(tc_get_uint(r, 5), 1200);
	v = tc_get(r, 6);
	assert_int_equal(cbor_array_size(v), 2);
	assert_int_equal(cbor_get_int(cbor_array_handle(v)[0]), 2);
	assert_int_equal(cbor_get_int(cbor_array_handle(v)[1]), 1);
	algs = tc_get(r, 0x0A);
	assert_int_equal(cbor_array_size(algs), 2);
	assert_true(cbor_isa_negint(tc_get_s(cbor_array_handle(algs)[0], "alg")));
	assert_int_equal(cbor_get_int(tc_get_s(cbor_array_handle(algs)[0], "alg")), 6);  /* -7 */
	assert_int_equal(cbor_get_int(tc_get_s(cbor_array_handle(algs)[1], "alg")), 7);  /* -8 */
	assert_int_equal(tc_get_uint(r, 0x0D), 4);
	assert_true(tc_get_uint(r, 0x0E) > 0);
	assert_int_equal(tc_get_uint(r, 0x14), 50);
	assert_null(tc_get(r, 9));
	cbor_decref(&r);
	tc_free(t);
}

static void test_getinfo_follows_state(void **state)
{
	struct tc *t = tc_new();
	cbor_item_t *r = NULL;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c;

	(void)state;
	ctap_auth_set_max_msg_size(t->a, 7609);
	ctap_auth_set_transports(t->a, CTAP_TRANSPORT_USB | CTAP_TRANSPORT_NFC);
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_cmd(t, 0x04, NULL, &r), 0);
	assert_true(opt(tc_get(r, 4), "clientPin"));
	assert_int_equal(tc_get_uint(r, 5), 7609);
	assert_int_equal(cbor_array_size(tc_get(r, 9)), 2);
	assert_int_equal(tc_get_uint(r, 0x14), 49);
	cbor_decref(&r);
	assert_true(ctap_auth_has_pin(t->a));
	assert_int_equal(ctap_auth_resident_count(t->a), 1);
	tc_free(t);
}

static void test_getinfo_canonical_bytes(void **state)
{
	struct tc *t = tc_new();
	struct llv_buf out = LLV_BUF_INIT;
	const uint8_t req = 0x04;

	(void)state;
	ctap_auth_cbor(t->a, &req, 1, &out);
	assert_int_equal(out.data[0], 0);
	/* a 13-entry map, first key 1 -> array of 3 */
	assert_int_equal(out.data[1], 0xad);
	assert_int_equal(out.data[2], 0x01);
	assert_int_equal(out.data[3], 0x83);
	llv_buf_free(&out);
	tc_free(t);
}

static void test_getinfo_with_params_is_refused(void **state)
{
	struct tc *t = tc_new();
	const uint8_t req[] = { 0x04, 0xa0 };

	(void)state;
	assert_int_equal(tc_raw(t, req, sizeof(req)), CTAP1_ERR_INVALID_LENGTH);
	tc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getinfo_fields),
		cmocka_unit_test(test_getinfo_follows_state),
		cmocka_unit_test(test_getinfo_canonical_bytes),
		cmocka_unit_test(test_getinfo_with_params_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
