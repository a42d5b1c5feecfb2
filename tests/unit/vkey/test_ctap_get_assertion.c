/* authenticatorGetAssertion / GetNextAssertion: signatures with the
 * credential key from authData, discoverable credentials newest first, user
 * entities, credProtect, UP/UV flags, counter, hmac-secret. */
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

static uint8_t flags_of(const cbor_item_t *r)
{
	return cbor_bytestring_handle(tc_get(r, 2))[32];
}

static uint32_t counter_of(const cbor_item_t *r)
{
	const uint8_t *p = cbor_bytestring_handle(tc_get(r, 2));

	return (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 8 | p[36];
}

static bool user_id_is(const cbor_item_t *r, const char *id)
{
	const cbor_item_t *u = tc_get(r, 4), *v;

	if (u == NULL || (v = tc_get_s(u, "id")) == NULL)
		return false;
	return cbor_bytestring_length(v) == strlen(id) && memcmp(cbor_bytestring_handle(v), id, strlen(id)) == 0;
}

static void test_ga_allow_list_signature(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;
	uint8_t other[65] = { 1 };

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	ga.allow = tc_array(2, tc_desc(other, sizeof(other)), tc_desc(c.id, c.id_len));
	memset(ga.cdh, 0x77, 32);
	assert_int_equal(tc_get_assertion(t, &ga, c.pub, &r), 0);
	assert_int_equal(flags_of(r), 0x01);
	assert_int_equal(counter_of(r), 2);
	assert_null(tc_get(r, 4));        /* no user for a non-resident credential */
	assert_null(tc_get(r, 5));
	{
		const cbor_item_t *d = tc_get(r, 1);

		assert_int_equal(cbor_bytestring_length(tc_get_s(d, "id")), c.id_len);
		assert_memory_equal(cbor_bytestring_handle(tc_get_s(d, "id")), c.id, c.id_len);
	}
	cbor_decref(&r);
	/* wrong RP: the ID does not unwrap */
	ga.rp_id = "evil.example";
	ga.allow = NULL;
	ga.allow_id = c.id;
	ga.allow_len = c.id_len;
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	/* a tampered ID */
	ga.rp_id = NULL;
	c.id[40] ^= 1;
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	tc_cred_clear(&c);
}

static void test_ga_discoverable_newest_first(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true, .user_name = "n", .display_name = "N" };
	struct tc_cred c[3], other;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;
	const char *ids[3] = { "u-a", "u-b", "u-c" };

	for (int i = 0; i < 3; i++) {
		mc.user_id = (const uint8_t *)ids[i];
		mc.user_id_len = 3;
		assert_int_equal(tc_make_credential(t, &mc, &c[i]), 0);
	}
	mc.rp_id = "other.example";
	assert_int_equal(tc_make_credential(t, &mc, &other), 0);

	assert_int_equal(tc_get_assertion(t, &ga, c[2].pub, &r), 0);
	assert_int_equal(tc_get_uint(r, 5), 3);
	assert_true(user_id_is(r, "u-c"));
	/* no UV: the user entity carries the ID only */
	assert_int_equal(cbor_map_size(tc_get(r, 4)), 1);
	cbor_decref(&r);
	assert_int_equal(tc_cmd(t, 0x08, NULL, &r), 0);
	assert_true(user_id_is(r, "u-b"));
	assert_null(tc_get(r, 5));
	assert_true(tc_check_assertion(r, tc_default_cdh, c[1].pub));
	cbor_decref(&r);
	assert_int_equal(tc_cmd(t, 0x08, NULL, &r), 0);
	assert_true(user_id_is(r, "u-a"));
	assert_true(tc_check_assertion(r, tc_default_cdh, c[0].pub));
	cbor_decref(&r);
	assert_int_equal(tc_cmd(t, 0x08, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);

	/* one credential: no numberOfCredentials */
	ga.rp_id = "other.example";
	assert_int_equal(tc_get_assertion(t, &ga, other.pub, &r), 0);
	assert_null(tc_get(r, 5));
	cbor_decref(&r);
	ga.rp_id = "none.example";
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	for (int i = 0; i < 3; i++)
		tc_cred_clear(&c[i]);
	tc_cred_clear(&other);
}

static void test_ga_next_assertion_state(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c1, c2;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;

	assert_int_equal(tc_cmd(t, 0x08, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	assert_int_equal(tc_make_credential(t, &mc, &c1), 0);
	mc.user_id = (const uint8_t *)"x";
	mc.user_id_len = 1;
	assert_int_equal(tc_make_credential(t, &mc, &c2), 0);
	/* timed out after 30 s */
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), 0);
	cbor_decref(&r);
	t->now += 30001;
	assert_int_equal(tc_cmd(t, 0x08, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	/* another command in between drops the state */
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), 0);
	cbor_decref(&r);
	assert_int_equal(tc_cmd(t, 0x04, NULL, NULL), 0);
	assert_int_equal(tc_cmd(t, 0x08, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	/* with parameters */
	{
		const uint8_t req[] = { 0x08, 0xa0 };

		assert_int_equal(tc_raw(t, req, 2), CTAP1_ERR_INVALID_LENGTH);
	}
	tc_cred_clear(&c1);
	tc_cred_clear(&c2);
}

static void test_ga_options(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	ga.allow_id = c.id;
	ga.allow_len = c.id_len;
	/* silent: up false, no touch, UP flag clear */
	t->up_calls = 0;
	ga.options = tc_map(1, tc_text("up"), tc_bool(false));
	assert_int_equal(tc_get_assertion(t, &ga, c.pub, &r), 0);
	assert_int_equal(flags_of(r), 0x00);
	assert_int_equal(t->up_calls, 0);
	cbor_decref(&r);
	ga.options = tc_map(1, tc_text("rk"), tc_bool(true));
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_UNSUPPORTED_OPTION);
	ga.options = tc_map(1, tc_text("uv"), tc_bool(true));
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_INVALID_OPTION);
	ga.options = tc_map(1, tc_text("up"), tc_text("yes"));
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_OPERATION_DENIED);
	t->up_result = 0;
	/* missing parameters and types */
	assert_int_equal(tc_cmd(t, 0x02, tc_map(1, tc_int(1), tc_text("example.com")), NULL), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x02, tc_map(1, tc_int(2), tc_bytes(tc_default_cdh, 32)), NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x02, tc_map(2, tc_int(1), tc_bytes("x", 1), tc_int(2), tc_bytes(tc_default_cdh, 32)), NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(tc_cmd(t, 0x02,
				tc_map(3, tc_int(1), tc_text("example.com"), tc_int(2), tc_bytes(tc_default_cdh, 32),
				       tc_int(3), tc_int(5)),
				NULL),
			 CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(tc_cmd(t, 0x02,
				tc_map(3, tc_int(1), tc_text("example.com"), tc_int(2), tc_bytes(tc_default_cdh, 32),
				       tc_int(3), tc_array(1, tc_map(1, tc_text("type"), tc_text("public-key")))),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	/* pinUvAuthParam without protocol, unknown protocol, zero-length probe */
	assert_int_equal(tc_cmd(t, 0x02,
				tc_map(3, tc_int(1), tc_text("example.com"), tc_int(2), tc_bytes(tc_default_cdh, 32),
				       tc_int(6), tc_bytes(tc_default_cdh, 16)),
				NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(t, 0x02,
				tc_map(4, tc_int(1), tc_text("example.com"), tc_int(2), tc_bytes(tc_default_cdh, 32),
				       tc_int(6), tc_bytes(tc_default_cdh, 16), tc_int(7), tc_int(3)),
				NULL),
			 CTAP1_ERR_INVALID_PARAMETER);
	t->up_calls = 0;
	assert_int_equal(tc_cmd(t, 0x02,
				tc_map(4, tc_int(1), tc_text("example.com"), tc_int(2), tc_bytes(tc_default_cdh, 32),
				       tc_int(6), tc_bytes("", 0), tc_int(7), tc_int(1)),
				NULL),
			 CTAP2_ERR_PIN_NOT_SET);
	assert_int_equal(t->up_calls, 1);
	/* a token that was never issued */
	{
		uint8_t fake[32] = { 9 };

		ga.token = fake;
		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	}
	tc_cred_clear(&c);
}

static void test_ga_cred_protect(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c1, c2, c3;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;
	uint8_t token[32];

	mc.cred_protect = 1;
	mc.user_id = (const uint8_t *)"p1";
	mc.user_id_len = 2;
	assert_int_equal(tc_make_credential(t, &mc, &c1), 0);
	mc.cred_protect = 2;
	mc.user_id = (const uint8_t *)"p2";
	assert_int_equal(tc_make_credential(t, &mc, &c2), 0);
	mc.cred_protect = 3;
	mc.user_id = (const uint8_t *)"p3";
	assert_int_equal(tc_make_credential(t, &mc, &c3), 0);

	/* without UV: discovery shows level 1 only */
	assert_int_equal(tc_get_assertion(t, &ga, c1.pub, &r), 0);
	assert_null(tc_get(r, 5));
	assert_true(user_id_is(r, "p1"));
	cbor_decref(&r);
	/* level 2 with its ID */
	ga.allow_id = c2.id;
	ga.allow_len = c2.id_len;
	assert_int_equal(tc_get_assertion(t, &ga, c2.pub, &r), 0);
	cbor_decref(&r);
	/* level 3 needs UV even with its ID */
	ga.allow_id = c3.id;
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);

	/* with UV (PIN token) everything shows, with names */
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x02, "example.com", token), 0);
	ga.allow_id = NULL;
	ga.token = token;
	assert_int_equal(tc_get_assertion(t, &ga, c3.pub, &r), 0);
	assert_int_equal(tc_get_uint(r, 5), 3);
	assert_int_equal(flags_of(r), 0x05);
	assert_true(user_id_is(r, "p3"));
	cbor_decref(&r);
	assert_int_equal(tc_cmd(t, 0x08, NULL, &r), 0);
	assert_int_equal(flags_of(r), 0x05);
	assert_true(tc_check_assertion(r, tc_default_cdh, c2.pub));
	cbor_decref(&r);
	tc_cred_clear(&c1);
	tc_cred_clear(&c2);
	tc_cred_clear(&c3);
}

static void test_ga_user_names_with_uv(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true, .user_name = "ana@example.com", .display_name = "Ana" };
	struct tc_cred c;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;
	uint8_t token[32];
	const cbor_item_t *u;

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(tc_set_pin(t, 1, "4321"), 0);
	assert_int_equal(tc_get_token(t, 1, "4321", 0, NULL, token), 0);
	ga.token = token;
	ga.proto = 1;
	assert_int_equal(tc_get_assertion(t, &ga, c.pub, &r), 0);
	u = tc_get(r, 4);
	assert_int_equal(cbor_map_size(u), 3);
	assert_int_equal(cbor_string_length(tc_get_s(u, "name")), 15);
	assert_int_equal(cbor_string_length(tc_get_s(u, "displayName")), 3);
	cbor_decref(&r);
	/* the token lost its permissions with the touch */
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	tc_cred_clear(&c);
}

static cbor_item_t *hmac_ext(struct tc *t, int proto, const uint8_t *salts, size_t n, struct tc_pin *p)
{
	uint8_t enc[80], auth[32];
	size_t el, al;

	assert_int_equal(tc_pin_agree(t, proto, p), 0);
	el = tc_pin_encrypt(p, salts, n, enc);
	al = tc_pin_auth(proto, p->shared, enc, el, auth);
	return tc_map(1, tc_text("hmac-secret"),
		      tc_map(4, tc_int(1), cbor_incref(p->platform_key), tc_int(2), tc_bytes(enc, el), tc_int(3),
			     tc_bytes(auth, al), tc_int(4), tc_int(proto)));
}

/* getAssertion with the hmac-secret extension; decrypted output into out. */
static size_t hmac_get(struct tc *t, int proto, const struct tc_cred *c, const uint8_t *salts, size_t n,
		       const uint8_t *token, uint8_t *out)
{
	struct tc_pin p;
	struct tc_ga ga = { .allow_id = c->id, .allow_len = c->id_len, .token = token };
	cbor_item_t *r = NULL, *ext;
	const cbor_item_t *ad, *v;
	struct cbor_load_result res;
	size_t len;

	ga.extensions = hmac_ext(t, proto, salts, n, &p);
	assert_int_equal(tc_get_assertion(t, &ga, c->pub, &r), 0);
	ad = tc_get(r, 2);
	assert_true(cbor_bytestring_handle(ad)[32] & 0x80);
	ext = cbor_load(cbor_bytestring_handle(ad) + 37, cbor_bytestring_length(ad) - 37, &res);
	assert_non_null(ext);
	v = tc_get_s(ext, "hmac-secret");
	assert_non_null(v);
	assert_int_equal(cbor_bytestring_length(v), n + (proto == 2 ? 16 : 0));
	len = tc_pin_decrypt(&p, cbor_bytestring_handle(v), cbor_bytestring_length(v), out);
	cbor_decref(&ext);
	cbor_decref(&r);
	tc_pin_clear(&p);
	return len;
}

static void test_ga_hmac_secret(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .hmac_secret = true };
	struct tc_cred c, plain;
	uint8_t salts[64], o1[64], o2[64], o3[64], o4[64], token[32];

	for (int i = 0; i < 64; i++)
		salts[i] = (uint8_t)i;
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	assert_int_equal(hmac_get(t, 2, &c, salts, 32, NULL, o1), 32);
	assert_int_equal(hmac_get(t, 1, &c, salts, 32, NULL, o2), 32);
	assert_memory_equal(o1, o2, 32);           /* stable across calls and protocols */
	assert_int_equal(hmac_get(t, 2, &c, salts, 64, NULL, o3), 64);
	assert_memory_equal(o3, o1, 32);
	assert_memory_not_equal(o3 + 32, o1, 32);
	/* with UV: a different CredRandom */
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x02, "example.com", token), 0);
	assert_int_equal(hmac_get(t, 2, &c, salts, 32, token, o4), 32);
	assert_memory_not_equal(o4, o1, 32);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x02, "example.com", token), 0);
	assert_int_equal(hmac_get(t, 2, &c, salts, 32, token, o2), 32);
	assert_memory_equal(o4, o2, 32);

	/* a credential made without hmac-secret gives no output */
	mc.hmac_secret = false;
	assert_int_equal(tc_make_credential(t, &mc, &plain), 0);
	{
		struct tc_pin p;
		struct tc_ga ga = { .allow_id = plain.id, .allow_len = plain.id_len };
		cbor_item_t *r = NULL;

		ga.extensions = hmac_ext(t, 2, salts, 32, &p);
		assert_int_equal(tc_get_assertion(t, &ga, plain.pub, &r), 0);
		assert_false(cbor_bytestring_handle(tc_get(r, 2))[32] & 0x80);
		cbor_decref(&r);
		tc_pin_clear(&p);
	}
	/* bad saltAuth, bad salt length */
	{
		struct tc_pin p;
		struct tc_ga ga = { .allow_id = c.id, .allow_len = c.id_len };
		uint8_t enc[80], auth[32];
		size_t el, al;
		cbor_item_t *r = NULL;

		assert_int_equal(tc_pin_agree(t, 2, &p), 0);
		el = tc_pin_encrypt(&p, salts, 32, enc);
		al = tc_pin_auth(2, p.shared, enc, el, auth);
		auth[0] ^= 1;
		ga.extensions = tc_map(1, tc_text("hmac-secret"),
				       tc_map(4, tc_int(1), cbor_incref(p.platform_key), tc_int(2), tc_bytes(enc, el),
					      tc_int(3), tc_bytes(auth, al), tc_int(4), tc_int(2)));
		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_PIN_AUTH_INVALID);
		el = tc_pin_encrypt(&p, salts, 48, enc);
		al = tc_pin_auth(2, p.shared, enc, el, auth);
		ga.extensions = tc_map(1, tc_text("hmac-secret"),
				       tc_map(4, tc_int(1), cbor_incref(p.platform_key), tc_int(2), tc_bytes(enc, el),
					      tc_int(3), tc_bytes(auth, al), tc_int(4), tc_int(2)));
		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP1_ERR_INVALID_LENGTH);
		ga.extensions = tc_map(1, tc_text("hmac-secret"),
				       tc_map(2, tc_int(1), cbor_incref(p.platform_key), tc_int(2), tc_bytes(enc, el)));
		assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_MISSING_PARAMETER);
		tc_pin_clear(&p);
	}
	tc_cred_clear(&c);
	tc_cred_clear(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ga_allow_list_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_discoverable_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_next_assertion_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_cred_protect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_user_names_with_uv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ga_hmac_secret, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
