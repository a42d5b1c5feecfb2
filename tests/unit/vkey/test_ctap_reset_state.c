/* authenticatorReset (10 s window, user presence), authenticatorSelection,
 * the dirty flag and the persistent state: save/load round trip and the
 * refusal of malformed state with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
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

static void test_reset_window_and_presence(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred rk, nr;
	struct tc_ga ga = { 0 };
	cbor_item_t *r = NULL;

	assert_int_equal(tc_make_credential(t, &mc, &rk), 0);
	mc.rk = false;
	assert_int_equal(tc_make_credential(t, &mc, &nr), 0);
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);

	t->now += 10001;
	assert_int_equal(tc_cmd(t, 0x07, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	tc_power_cycle(t);
	t->up_result = CTAP2_ERR_OPERATION_DENIED;
	assert_int_equal(tc_cmd(t, 0x07, NULL, NULL), CTAP2_ERR_OPERATION_DENIED);
	t->up_result = CTAP2_ERR_USER_ACTION_TIMEOUT;
	assert_int_equal(tc_cmd(t, 0x07, NULL, NULL), CTAP2_ERR_USER_ACTION_TIMEOUT);
	assert_true(ctap_auth_has_pin(t->a));
	t->up_result = 0;
	(void)ctap_auth_take_dirty(t->a);
	t->now += 9000;
	assert_int_equal(tc_cmd(t, 0x07, NULL, NULL), 0);
	assert_true(ctap_auth_take_dirty(t->a));
	assert_false(ctap_auth_has_pin(t->a));
	assert_int_equal(ctap_auth_resident_count(t->a), 0);
	/* every credential is gone, resident or not */
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	ga.allow_id = nr.id;
	ga.allow_len = nr.id_len;
	assert_int_equal(tc_get_assertion(t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	/* with parameters */
	{
		const uint8_t req[] = { 0x07, 0xa0 };

		assert_int_equal(tc_raw(t, req, 2), CTAP1_ERR_INVALID_LENGTH);
	}
	tc_cred_clear(&rk);
	tc_cred_clear(&nr);
}

static void test_selection(void **state)
{
	struct tc *t = *state;

	assert_int_equal(tc_cmd(t, 0x0B, NULL, NULL), 0);
	assert_int_equal(t->up_calls, 1);
	t->up_result = CTAP2_ERR_KEEPALIVE_CANCEL;
	assert_int_equal(tc_cmd(t, 0x0B, NULL, NULL), CTAP2_ERR_KEEPALIVE_CANCEL);
}

static void test_dirty_flag(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { 0 };
	struct tc_cred c;
	uint64_t retries;
	uint8_t tok[32];

	assert_true(ctap_auth_take_dirty(t->a));     /* init */
	assert_false(ctap_auth_take_dirty(t->a));
	assert_int_equal(tc_cmd(t, 0x04, NULL, NULL), 0);
	assert_false(ctap_auth_take_dirty(t->a));
	assert_int_equal(tc_get_retries(t, &retries), 0);
	assert_false(ctap_auth_take_dirty(t->a));
	assert_int_equal(tc_make_credential(t, &mc, &c), 0);  /* counter */
	assert_true(ctap_auth_take_dirty(t->a));
	tc_cred_clear(&c);
	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_true(ctap_auth_take_dirty(t->a));
	assert_int_equal(tc_get_token(t, 2, "9999", 0, NULL, tok), CTAP2_ERR_PIN_INVALID);  /* retries */
	assert_true(ctap_auth_take_dirty(t->a));
}

static void save(struct tc *t, struct llv_buf *b)
{
	llv_buf_init(b);
	assert_int_equal(ctap_auth_save(t->a, b), 0);
	assert_true(llv_buf_ok(b));
}

static void test_state_round_trip(void **state)
{
	struct tc *t = *state, *u;
	struct tc_mc mc = { .rk = true, .user_name = "ana", .display_name = "Ana", .hmac_secret = true, .cred_protect = 2 };
	struct tc_cred rk, nr;
	struct llv_buf b, b2;
	char err[200];
	cbor_item_t *r = NULL;
	uint8_t tok[32];
	size_t ca1_len, ca2_len;
	const uint8_t *ca1, *ca2;
	uint64_t retries;

	assert_int_equal(tc_set_pin(t, 2, "1234"), 0);
	assert_int_equal(tc_get_token(t, 2, "1234", 0x01, "example.com", tok), 0);
	mc.token = tok;
	assert_int_equal(tc_make_credential(t, &mc, &rk), 0);
	mc.rk = false;
	mc.token = NULL;
	assert_int_equal(tc_make_credential(t, &mc, &nr), 0);
	assert_int_equal(tc_get_token(t, 2, "0000", 0, NULL, tok), CTAP2_ERR_PIN_INVALID);
	save(t, &b);

	u = tc_new();
	assert_int_equal(ctap_auth_load(u->a, b.data, b.len, err, sizeof(err)), 0);
	assert_false(ctap_auth_take_dirty(u->a));
	assert_true(ctap_auth_has_pin(u->a));
	assert_int_equal(tc_get_retries(u, &retries), 0);
	assert_int_equal(retries, 7);
	assert_int_equal(ctap_auth_resident_count(u->a), 1);
	assert_memory_equal(ctap_auth_aaguid(u->a), ctap_auth_aaguid(t->a), 16);
	ca1 = ctap_auth_attestation_ca(t->a, &ca1_len);
	ca2 = ctap_auth_attestation_ca(u->a, &ca2_len);
	assert_int_equal(ca1_len, ca2_len);
	assert_memory_equal(ca1, ca2, ca1_len);
	/* saving again gives the same bytes */
	save(u, &b2);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	llv_buf_free(&b2);
	/* credentials still work, the counter carries on */
	{
		struct tc_ga ga = { .allow_id = nr.id, .allow_len = nr.id_len };
		const uint8_t *ad;
		uint32_t counter;

		assert_int_equal(tc_get_assertion(u, &ga, nr.pub, &r), 0);
		ad = cbor_bytestring_handle(tc_get(r, 2));
		counter = (uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 | (uint32_t)ad[35] << 8 | ad[36];
		assert_int_equal(counter, nr.counter + 1);
		cbor_decref(&r);
	}
	assert_int_equal(tc_get_token(u, 2, "1234", 0x02, "example.com", tok), 0);
	{
		struct tc_ga ga = { .token = tok };
		const cbor_item_t *user;

		assert_int_equal(tc_get_assertion(u, &ga, rk.pub, &r), 0);
		user = tc_get(r, 4);
		assert_int_equal(cbor_map_size(user), 3);
		cbor_decref(&r);
	}
	/* a state that does not load leaves the authenticator as it was */
	assert_int_equal(ctap_auth_load(u->a, b.data, b.len - 1, err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(ctap_auth_resident_count(u->a), 1);
	tc_free(u);
	llv_buf_free(&b);
	tc_cred_clear(&rk);
	tc_cred_clear(&nr);
}

/* Re-encodes the state with one member replaced (or removed when v NULL). */
static void load_modified(struct tc *t, int64_t key, cbor_item_t *v, const char *want)
{
	struct llv_buf b;
	struct cbor_load_result res;
	cbor_item_t *m, *m2;
	unsigned char *out = NULL;
	size_t cap = 0, len;
	char err[200];
	struct tc *u = tc_new();
	uint8_t before[16];

	save(t, &b);
	m = cbor_load(b.data, b.len, &res);
	assert_non_null(m);
	m2 = cbor_new_definite_map(cbor_map_size(m) + 1);
	for (size_t i = 0; i < cbor_map_size(m); i++) {
		struct cbor_pair p = cbor_map_handle(m)[i];

		if (cbor_get_int(p.key) == (uint64_t)key)
			continue;
		assert_true(cbor_map_add(m2, p));  /* map_add takes its own references */
	}
	if (v != NULL)
		assert_true(cbor_map_add(m2, (struct cbor_pair){ .key = cbor_move(tc_int(key)), .value = cbor_move(v) }));
	len = cbor_serialize_alloc(m2, &out, &cap);
	memcpy(before, ctap_auth_aaguid(u->a), 16);
	assert_int_equal(ctap_auth_load(u->a, out, len, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("load error \"%s\" does not mention \"%s\"", err, want);
	free(out);
	cbor_decref(&m);
	cbor_decref(&m2);
	llv_buf_free(&b);
	tc_free(u);
}

static void test_state_refuses_malformed(void **state)
{
	struct tc *t = *state;
	struct tc_mc mc = { .rk = true };
	struct tc_cred c;
	char err[200];
	uint8_t junk[32] = { 0 };

	assert_int_equal(tc_make_credential(t, &mc, &c), 0);
	tc_cred_clear(&c);
	assert_int_equal(ctap_auth_load(t->a, junk, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "the vkey state is empty");
	assert_int_equal(ctap_auth_load(t->a, junk, sizeof(junk), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CBOR"));
	load_modified(t, 1, tc_int(2), "version");
	load_modified(t, 2, NULL, "device secret is missing");
	load_modified(t, 2, tc_bytes(junk, 31), "device secret has a bad length");
	load_modified(t, 3, tc_text("aaguid"), "AAGUID is not a byte string");
	load_modified(t, 6, tc_bytes(junk, 32), "do not match");
	load_modified(t, 8, tc_int(9), "PIN retries is out of range");
	load_modified(t, 9, tc_int(-1), "signature counter");
	load_modified(t, 11, tc_int(0), "credential list");
	/* a credential from another device */
	{
		struct tc *o = tc_new();
		struct llv_buf b;
		struct cbor_load_result res;
		cbor_item_t *m, *rks;

		assert_int_equal(tc_make_credential(o, &mc, &c), 0);
		tc_cred_clear(&c);
		save(o, &b);
		m = cbor_load(b.data, b.len, &res);
		rks = tc_get(m, 11);
		load_modified(t, 11, cbor_incref(rks), "does not belong");
		cbor_decref(&m);
		llv_buf_free(&b);
		tc_free(o);
	}
	/* the state of an uninitialised authenticator cannot be saved */
	{
		struct ctap_auth_callbacks cb = { 0 };
		struct ctap_auth *a = ctap_auth_new(&cb);
		struct llv_buf b = LLV_BUF_INIT;
		const uint8_t req = 0x04;

		assert_int_equal(ctap_auth_save(a, &b), -1);
		ctap_auth_cbor(a, &req, 1, &b);
		assert_int_equal(b.len, 1);
		assert_int_equal(b.data[0], CTAP1_ERR_OTHER);
		llv_buf_free(&b);
		ctap_auth_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_window_and_presence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_refuses_malformed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
