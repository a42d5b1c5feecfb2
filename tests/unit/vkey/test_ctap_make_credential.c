/* authenticatorMakeCredential: packed attestation that verifies and chains
 * to the exported CA, algorithms, options, exclude list, discoverable
 * credentials, extensions and the CTAP 2.1 error codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

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

static void test_mc_es256_packed(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(EVP_PKEY_get_base_id(c.pub), EVP_PKEY_EC);
	assert_int_equal(c.flags & 0x45, 0x41);   /* UP, AT, no UV */
	assert_int_equal(c.counter, 1);
	assert_int_equal(c.id_len, 65);
	assert_int_equal(t->up_calls, 1);
	assert_null(c.ext);
	tc_cred_clear(&c);
	/* the counter is global and moves on */
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(c.counter, 2);
	tc_cred_clear(&c);
	assert_int_equal(ctap_auth_resident_count(t->a), 0);
}

static void test_mc_eddsa(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .alg = -8 };
	struct tc_cred c;
	cbor_item_t *r = NULL;
	struct tc_ga ga = { 0 };

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(EVP_PKEY_get_base_id(c.pub), EVP_PKEY_ED25519);
	ga.allow_id = c.id;
	ga.allow_len = c.id_len;
	assert_int_equal(tc_get_assertion(t, &ga, c.pub, &r), 0);
	cbor_decref(&r);
	tc_cred_clear(&c);
}

static void test_mc_first_supported_algorithm(void **state)
{
	struct tc *t = *state;
	cbor_item_t *r = NULL;
	uint8_t cdh[32] = { 1 };
	cbor_item_t *req;

	/* RS256 first (unsupported), then EdDSA, then ES256: EdDSA wins */
	req = tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("a.example")),
		     tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
		     tc_array(4, tc_param(-257), tc_map(2, tc_text("alg"), tc_int(-7), tc_text("type"), tc_text("other")),
			      tc_param(-8), tc_param(-7)));
	assert_int_equal(tc_cmd(t, 0x01, req, &r), 0);
	{
		const cbor_item_t *ad = tc_get(r, 2);
		const uint8_t *p = cbor_bytestring_handle(ad);
		/* COSE key starts after 37 + 16 + 2 + 65 bytes: {1: 1 (OKP) ...} */
		assert_int_equal(p[37 + 18 + 65], 0xa4);
		assert_int_equal(p[37 + 18 + 65 + 2], 0x01);
	}
	cbor_decref(&r);

	req = tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("a.example")),
		     tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
		     tc_array(2, tc_param(-257), tc_param(-35)));
	assert_int_equal(tc_cmd(t, 0x01, req, NULL), CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	req = tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("a.example")),
		     tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4), tc_array(0));
	assert_int_equal(tc_cmd(t, 0x01, req, NULL), CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	/* an element without "type" */
	req = tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("a.example")),
		     tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
		     tc_array(1, tc_map(1, tc_text("alg"), tc_int(-7))));
	assert_int_equal(tc_cmd(t, 0x01, req, NULL), CTAP2_ERR_MISSING_PARAMETER);
	/* "alg" of the wrong type */
	req = tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("a.example")),
		     tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
		     tc_array(1, tc_map(2, tc_text("alg"), tc_text("-7"), tc_text("type"), tc_text("public-key"))));
	assert_int_equal(tc_cmd(t, 0x01, req, NULL), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
}

static void test_mc_missing_and_wrong_types(void **state)
{
	struct tc *t = *state;
	uint8_t cdh[32] = { 1 };

	/* missing user */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(3, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(4), tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	/* missing clientDataHash */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(3, tc_int(2), tc_map(1, tc_text("id"), tc_text("x")), tc_int(3),
				       tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4), tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	/* rp without id */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("name"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	/* clientDataHash as text */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(4, tc_int(1), tc_text("cdh"), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* rp as an array */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_array(0), tc_int(3),
				       tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4), tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* user.id as text */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(4, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_text("u")), tc_int(4),
				       tc_array(1, tc_param(-7))),
				NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* options.rk not a boolean */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(5, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7)), tc_int(7), tc_map(1, tc_text("rk"), tc_int(1))),
				NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* empty parameters */
	{
		const uint8_t req[] = { 0x01 };

		assert_int_equal(tc_raw(t, req, 1), CTAP2_ERR_MISSING_PARAMETER);
	}
	/* enterprise attestation is not supported */
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(5, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7)), tc_int(0x0A), tc_int(1)),
				NULL),
			 CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(t->up_calls, 0);
}

static void test_mc_options(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;

	mc.options = tc_map(1, tc_text("up"), tc_bool(false));
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_INVALID_OPTION);
	mc.options = tc_map(1, tc_text("uv"), tc_bool(true));
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_INVALID_OPTION);
	/* uv false, up true and unknown options are fine */
	mc.options = tc_map(3, tc_text("uv"), tc_bool(false), tc_text("up"), tc_bool(true), tc_text("zz"), tc_int(3));
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
}

static void test_mc_user_presence_denied(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c;

	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_OPERATION_DENIED);
	t->up_result = CTAP2_ERR_USER_ACTION_TIMEOUT;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_USER_ACTION_TIMEOUT);
	t->up_result = CTAP2_ERR_KEEPALIVE_CANCEL;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_KEEPALIVE_CANCEL);
	assert_int_equal(ctap_auth_resident_count(t->a), 0);
}

static void test_mc_exclude_list(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c, c2;
	uint8_t other[65] = { 1, 2, 3 };

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	t->up_calls = 0;
	mc.exclude = tc_array(2, tc_desc(other, sizeof(other)), tc_desc(c.id, c.id_len));
	assert_int_equal(tc_make_credential(t, &mc, &c2), CTAP2_ERR_CREDENTIAL_EXCLUDED);
	assert_int_equal(t->up_calls, 1);
	/* denied touch while excluded */
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	mc.exclude = tc_array(1, tc_desc(c.id, c.id_len));
	assert_int_equal(tc_make_credential(t, &mc, &c2), CTAP2_ERR_OPERATION_DENIED);
	t->up_result = 0;
	/* the same ID does not exclude on another RP */
	mc.rp_id = "other.example";
	mc.exclude = tc_array(1, tc_desc(c.id, c.id_len));
	assert_int_equal(tc_make_credential(t, &mc, &c2), 0);
	tc_cred_clear(&c2);
	/* a malformed descriptor */
	mc.exclude = tc_array(1, tc_map(1, tc_text("id"), tc_bytes(c.id, c.id_len)));
	assert_int_equal(tc_make_credential(t, &mc, &c2), CTAP2_ERR_MISSING_PARAMETER);
	tc_cred_clear(&c);
}

static void test_mc_resident_replaces_same_user(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true, .user_name = "ana", .display_name = "Ana" };
	struct tc_cred c1, c2, c3;

	assert_int_equal(tc_make_credential(t, &mc, &c1), 0);
	assert_int_equal(ctap_auth_resident_count(t->a), 1);
	assert_int_equal(tc_make_credential(t, &mc, &c2), 0);
	assert_int_equal(ctap_auth_resident_count(t->a), 1);
	assert_memory_not_equal(c1.id, c2.id, 65);
	mc.user_id = (const uint8_t *)"user-2";
	mc.user_id_len = 6;
	assert_int_equal(tc_make_credential(t, &mc, &c3), 0);
	assert_int_equal(ctap_auth_resident_count(t->a), 2);
	/* the replaced credential is gone */
	{
		struct tc_ga ga = { .allow_id = c1.id, .allow_len = c1.id_len };
		cbor_item_t *r = NULL;

		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
		ga.allow_id = c2.id;
		assert_int_equal(tc_get_assertion(t, &ga, c2.pub, &r), 0);
		cbor_decref(&r);
	}
	tc_cred_clear(&c1);
	tc_cred_clear(&c2);
	tc_cred_clear(&c3);
}

static void test_mc_key_store_full(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c;
	uint8_t uid[8];

	for (int i = 0; i < 50; i++) {
		memset(uid, 0, sizeof(uid));
		uid[0] = (uint8_t)i;
		mc.user_id = uid;
		mc.user_id_len = sizeof(uid);
		assert_int_equal(tc_make_credential(t, &mc, &c), 0);
		tc_cred_clear(&c);
	}
	uid[0] = 0xff;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_KEY_STORE_FULL);
	/* replacing an existing user still works */
	uid[0] = 3;
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
	/* non-resident credentials need no storage */
	mc.rk = false;
	uid[0] = 0xfe;
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
}

static void test_mc_extensions(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .cred_protect = 2, .hmac_secret = true };
	struct tc_cred c;
	const cbor_item_t *v;

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_true(c.flags & 0x80);
	v = tc_get_s(c.ext, "credProtect");
	assert_non_null(v);
	assert_int_equal(cbor_get_int(v), 2);
	v = tc_get_s(c.ext, "hmac-secret");
	assert_non_null(v);
	assert_true(cbor_get_bool(v));
	tc_cred_clear(&c);
	/* an unknown credProtect level is ignored */
	mc.cred_protect = 7;
	mc.hmac_secret = false;
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_null(c.ext);
	tc_cred_clear(&c);
}

static void test_mc_long_fields(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c;
	uint8_t uid[65] = { 0 };
	char name[200];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	mc.user_name = name;     /* truncated to 64 bytes */
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
	mc.user_id = uid;
	mc.user_id_len = sizeof(uid);
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP1_ERR_INVALID_LENGTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mc_es256_packed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_eddsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_first_supported_algorithm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_missing_and_wrong_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_user_presence_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_exclude_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_resident_replaces_same_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_key_store_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_extensions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mc_long_fields, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
