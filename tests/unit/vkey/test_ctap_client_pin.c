/* authenticatorClientPIN, protocols 1 and 2: set, change, retries, the
 * three-mismatch block until power-up, PIN_BLOCKED, tokens and permissions,
 * and how makeCredential uses them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

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

static void test_pin_set_and_token(void **state)
{
	struct tc *t = *state;
	uint8_t token[32];
	uint64_t retries = 0;

	for (int proto = 1; proto <= 2; proto++) {
		struct tc *u = proto == 1 ? t : tc_new();

		assert_int_equal(tc_get_token(u, proto, "1234", 0, NULL, token), CTAP2_ERR_PIN_NOT_SET);
		assert_int_equal(tc_set_pin(u, proto, "1234"), 0);
		assert_true(ctap_auth_has_pin(u->a));
		assert_int_equal(tc_set_pin(u, proto, "5678"), CTAP2_ERR_PIN_AUTH_INVALID);
		assert_int_equal(tc_get_token(u, proto, "1234", 0, NULL, token), 0);
		assert_int_equal(tc_get_token(u, proto, "1234", 0x01, "example.com", token), 0);
		assert_int_equal(tc_get_retries(u, &retries), 0);
		assert_int_equal(retries, 8);
		if (u != t)
			tc_free(u);
	}
}

static void test_pin_policy(void **state)
{
	struct tc *t = *state;
	char long_pin[65];

	assert_int_equal(tc_set_pin(t, 2, "123"), CTAP2_ERR_PIN_POLICY_VIOLATION);
	memset(long_pin, '7', 64);
	long_pin[64] = 0;
	assert_int_equal(tc_set_pin(t, 2, long_pin), CTAP2_ERR_PIN_POLICY_VIOLATION);
	long_pin[63] = 0;
	assert_int_equal(tc_set_pin(t, 2, long_pin), 0);
	assert_int_equal(tc_change_pin(t, 2, long_pin, "\xc3\xb1\xc3\xb1\xc3\xb1"), CTAP2_ERR_PIN_POLICY_VIOLATION);
	/* 4 code points in 8 bytes is long enough */
	assert_int_equal(tc_change_pin(t, 2, long_pin, "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1"), 0);
	assert_int_equal(tc_get_token(t, 2, "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1", 0, NULL, (uint8_t[32]){ 0 }), 0);
}

static void test_pin_change(void **state)
{
	struct tc *t = *state;
	uint8_t token[32], old_token[32];
	uint64_t retries;

	assert_int_equal(tc_change_pin(t, 2, "1234", "5678"), CTAP2_ERR_PIN_NOT_SET);
	assert_int_equal(tc_set_pin(t, 1, "1234"), 0);
	assert_int_equal(tc_get_token(t, 1, "1234", 0, NULL, old_token), 0);
	assert_int_equal(tc_change_pin(t, 1, "9999", "5678"), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_retries(t, &retries), 0);
	assert_int_equal(retries, 7);
	assert_int_equal(tc_change_pin(t, 2, "1234", "5678"), 0);
	assert_int_equal(tc_get_retries(t, &retries), 0);
	assert_int_equal(retries, 8);
	assert_int_equal(tc_get_token(t, 2, "1234", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 2, "5678", 0, NULL, token), 0);
	/* the old token died with the change */
	{
		struct tc_mc mc = { .token = old_token, .proto = 1 };
		struct tc_cred c;

		assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
		mc.token = token;
		mc.proto = 2;
		assert_int_equal(tc_make_credential(t, &mc, &c), 0);
		assert_true(c.flags & 0x04);
		tc_cred_clear(&c);
	}
}

static void test_pin_three_mismatches_then_power_cycle(void **state)
{
	struct tc *t = *state;
	uint8_t token[32];
	uint64_t retries;
	cbor_item_t *r = NULL;

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 1, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 2, "0000", 0x01, "example.com", token), CTAP2_ERR_PIN_AUTH_BLOCKED);
	/* even the right PIN is refused now, without costing a retry */
	assert_int_equal(tc_get_token(t, 2, "1234", 0, NULL, token), CTAP2_ERR_PIN_AUTH_BLOCKED);
	assert_int_equal(tc_change_pin(t, 2, "1234", "5678"), CTAP2_ERR_PIN_AUTH_BLOCKED);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(1)), &r), 0);
	assert_int_equal(tc_get_uint(r, 3), 5);
	assert_true(cbor_get_bool(tc_get(r, 4)));   /* powerCycleState */
	cbor_decref(&r);
	tc_power_cycle(t);
	assert_int_equal(tc_get_token(t, 2, "1234", 0, NULL, token), 0);
	assert_int_equal(tc_get_retries(t, &retries), 0);
	assert_int_equal(retries, 8);
	/* a correct PIN resets the consecutive count too */
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 2, "1234", 0, NULL, token), 0);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
}

static void test_pin_blocked_after_eight(void **state)
{
	struct tc *t = *state;
	uint8_t token[32];
	uint64_t retries;
	int i;

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	for (i = 0; i < 7; i++) {
		uint8_t want = (i % 3 == 2) ? CTAP2_ERR_PIN_AUTH_BLOCKED : CTAP2_ERR_PIN_INVALID;

		assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), want);
		if (want == CTAP2_ERR_PIN_AUTH_BLOCKED)
			tc_power_cycle(t);
	}
	assert_int_equal(tc_get_retries(t, &retries), 0);
	assert_int_equal(retries, 1);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_BLOCKED);
	assert_int_equal(ctap_auth_pin_retries(t->a), 0);
	tc_power_cycle(t);
	assert_int_equal(tc_get_token(t, 2, "1234", 0, NULL, token), CTAP2_ERR_PIN_BLOCKED);
	assert_int_equal(tc_change_pin(t, 2, "1234", "5678"), CTAP2_ERR_PIN_BLOCKED);
	/* only a reset (within 10 s of power-up) recovers */
	assert_int_equal(tc_cmd(t, 0x07, NULL, NULL), 0);
	assert_false(ctap_auth_has_pin(t->a));
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
}

static void test_pin_key_agreement_changes_after_mismatch(void **state)
{
	struct tc *t = *state;
	cbor_item_t *r1 = NULL, *r2 = NULL, *r3 = NULL;
	uint8_t x1[32], x2[32], x3[32], token[32];

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(2)), &r1), 0);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(2)), &r2), 0);
	memcpy(x1, cbor_bytestring_handle(tc_get(tc_get(r1, 1), -2)), 32);
	memcpy(x2, cbor_bytestring_handle(tc_get(tc_get(r2, 1), -2)), 32);
	assert_memory_equal(x1, x2, 32);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, token), CTAP2_ERR_PIN_INVALID);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(2)), &r3), 0);
	memcpy(x3, cbor_bytestring_handle(tc_get(tc_get(r3, 1), -2)), 32);
	assert_memory_not_equal(x1, x3, 32);
	cbor_decref(&r1);
	cbor_decref(&r2);
	cbor_decref(&r3);
}

static void test_pin_request_errors(void **state)
{
	struct tc *t = *state;
	struct tc_pin p;
	uint8_t henc[32], h[32];

	/* no subCommand, unknown subCommand, UV-only subCommands */
	assert_int_equal(tc_cmd(t, 0x06, tc_map(1, tc_int(1), tc_int(2)), NULL), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(0x20)), NULL),
			 CTAP2_ERR_INVALID_SUBCOMMAND);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(2), tc_int(2), tc_int(7)), NULL),
			 CTAP2_ERR_INVALID_SUBCOMMAND);
	/* protocol missing, unsupported, wrong type */
	assert_int_equal(tc_cmd(t, 0x06, tc_map(1, tc_int(2), tc_int(2)), NULL), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_int(3), tc_int(2), tc_int(2)), NULL),
			 CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x06, tc_map(2, tc_int(1), tc_text("2"), tc_int(2), tc_int(2)), NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* getPINRetries needs no protocol */
	assert_int_equal(tc_cmd(t, 0x06, tc_map(1, tc_int(2), tc_int(1)), NULL), 0);
	/* setPIN without newPinEnc */
	assert_int_equal(tc_pin_agree(t, 2, &p), 0);
	assert_int_equal(tc_cmd(t, 0x06,
				tc_map(4, tc_int(1), tc_int(2), tc_int(2), tc_int(3), tc_int(3), cbor_incref(p.platform_key),
				       tc_int(4), tc_bytes(h, 32)),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	/* setPIN with a bad pinUvAuthParam */
	{
		uint8_t padded[64] = "1234", enc[80], auth[32];
		size_t el = tc_pin_encrypt(&p, padded, 64, enc);

		tc_pin_auth(2, p.shared, enc, el, auth);
		auth[5] ^= 1;
		assert_int_equal(tc_cmd(t, 0x06,
					tc_map(5, tc_int(1), tc_int(2), tc_int(2), tc_int(3), tc_int(3),
					       cbor_incref(p.platform_key), tc_int(4), tc_bytes(auth, 32), tc_int(5),
					       tc_bytes(enc, el)),
					NULL),
				 CTAP2_ERR_PIN_AUTH_INVALID);
		/* a key that is not on the curve */
		{
			uint8_t bad[32];
			cbor_item_t *key;

			memset(bad, 0x42, 32);
			key = tc_map(5, tc_int(1), tc_int(2), tc_int(3), tc_int(-25), tc_int(-1), tc_int(1), tc_int(-2),
				     tc_bytes(bad, 32), tc_int(-3), tc_bytes(bad, 32));
			assert_int_equal(tc_cmd(t, 0x06,
						tc_map(5, tc_int(1), tc_int(2), tc_int(2), tc_int(3), tc_int(3), key,
						       tc_int(4), tc_bytes(auth, 32), tc_int(5), tc_bytes(enc, el)),
						NULL),
					 CTAP1_ERR_INVALID_PARAMETER);
		}
		/* a newPinEnc that is not 64 bytes of PIN */
		tc_pin_auth(2, p.shared, enc, 48, auth);
		assert_int_equal(tc_cmd(t, 0x06,
					tc_map(5, tc_int(1), tc_int(2), tc_int(2), tc_int(3), tc_int(3),
					       cbor_incref(p.platform_key), tc_int(4), tc_bytes(auth, 32), tc_int(5),
					       tc_bytes(enc, 48)),
					NULL),
				 CTAP1_ERR_INVALID_PARAMETER);
	}
	assert_false(ctap_auth_has_pin(t->a));
	/* getPinToken with permissions is refused; permissions need their own subcommand */
	SHA256((const uint8_t *)"1234", 4, h);
	tc_pin_encrypt(&p, h, 16, henc);
	assert_int_equal(tc_cmd(t, 0x06,
				tc_map(5, tc_int(1), tc_int(2), tc_int(2), tc_int(5), tc_int(3), cbor_incref(p.platform_key),
				       tc_int(6), tc_bytes(henc, 32), tc_int(9), tc_int(1)),
				NULL),
			 CTAP1_ERR_INVALID_PARAMETER);
	tc_pin_clear(&p);
}

static void test_pin_permissions(void **state)
{
	struct tc *t = *state;
	uint8_t token[32];
	struct tc_mc mc = { 0 };
	struct tc_cred c;
	cbor_item_t *r = NULL;

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x08, NULL, token), CTAP2_ERR_UNAUTHORIZED_PERMISSION);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x10, NULL, token), CTAP2_ERR_UNAUTHORIZED_PERMISSION);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x20, NULL, token), CTAP2_ERR_UNAUTHORIZED_PERMISSION);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, NULL, token), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x02, NULL, token), CTAP2_ERR_MISSING_PARAMETER);
	/* permissions 0 */
	{
		struct tc_pin p;
		uint8_t h[32], henc[32];

		assert_int_equal(tc_pin_agree(t, 2, &p), 0);
		SHA256((const uint8_t *)"1234", 4, h);
		tc_pin_encrypt(&p, h, 16, henc);
		assert_int_equal(tc_cmd(t, 0x06,
					tc_map(5, tc_int(1), tc_int(2), tc_int(2), tc_int(9), tc_int(3),
					       cbor_incref(p.platform_key), tc_int(6), tc_bytes(henc, 32), tc_int(9),
					       tc_int(0)),
					NULL),
				 CTAP1_ERR_INVALID_PARAMETER);
		tc_pin_clear(&p);
	}
	/* ga only: makeCredential refuses it */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x02, "example.com", token), 0);
	mc.token = token;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
	/* mc bound to another RP */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, "other.example", token), 0);
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
	/* cm only */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x04, NULL, token), 0);
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
	/* mc|ga bound to example.com: one use with a touch */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x03, "example.com", token), 0);
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(c.flags & 0x05, 0x05);
	{
		struct tc_ga ga = { .allow_id = c.id, .allow_len = c.id_len, .token = token };

		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	}
	tc_cred_clear(&c);
	/* a token with the wrong protocol's MAC length */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, "example.com", token), 0);
	mc.proto = 1;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
}

static void test_pin_token_expiry(void **state)
{
	struct tc *t = *state;
	uint8_t token[32];
	struct tc_mc mc = { 0 };
	struct tc_cred c;

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, "example.com", token), 0);
	t->now += 31000;   /* unused for 30 s */
	mc.token = token;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
	/* a power cycle forgets tokens */
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, "example.com", token), 0);
	tc_power_cycle(t);
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PIN_AUTH_INVALID);
}

static void test_pin_make_credential_rules(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;
	uint8_t cdh[32] = { 3 };

	/* the zero-length probe: touch, then PIN_NOT_SET / PIN_INVALID */
	t->up_calls = 0;
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(6, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7)), tc_int(8), tc_bytes("", 0), tc_int(9), tc_int(2)),
				NULL),
			 CTAP2_ERR_PIN_NOT_SET);
	assert_int_equal(t->up_calls, 1);
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(6, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7)), tc_int(8), tc_bytes("", 0), tc_int(9), tc_int(2)),
				NULL),
			 CTAP2_ERR_PIN_INVALID);
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	assert_int_equal(tc_cmd(t, 0x01,
				tc_map(6, tc_int(1), tc_bytes(cdh, 32), tc_int(2), tc_map(1, tc_text("id"), tc_text("x")),
				       tc_int(3), tc_map(1, tc_text("id"), tc_bytes("u", 1)), tc_int(4),
				       tc_array(1, tc_param(-7)), tc_int(8), tc_bytes("", 0), tc_int(9), tc_int(2)),
				NULL),
			 CTAP2_ERR_OPERATION_DENIED);
	t->up_result = 0;
	/* makeCredUvNotRqd: non-discoverable without PIN is fine, discoverable is not */
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_false(c.flags & 0x04);
	tc_cred_clear(&c);
	mc.rk = true;
	assert_int_equal(tc_make_credential(t, &mc, &c), CTAP2_ERR_PUAT_REQUIRED);
	{
		uint8_t token[32];

		assert_int_equal(tc_get_token(t, 1, "1234", 0, NULL, token), 0);
		mc.token = token;
		mc.proto = 1;
		assert_int_equal(tc_make_credential(t, &mc, &c), 0);
		assert_true(c.flags & 0x04);
		tc_cred_clear(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pin_set_and_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_three_mismatches_then_power_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_blocked_after_eight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_key_agreement_changes_after_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_request_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_token_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_make_credential_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
