/* authenticatorCredentialManagement (0x0A and the prototype 0x41):
 * metadata, enumeration of RPs and credentials, delete, update user. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "ctap_test_client.h"

struct fx {
	struct tc *t;
	uint8_t token[32];
	struct tc_cred c[4];
};

/* Sends subCommand with params (consumed, may be NULL), authenticated with
 * token (NULL: no pinUvAuthParam). */
static uint8_t cm(struct tc *t, uint8_t cmd, uint8_t sub, cbor_item_t *params, const uint8_t *token, int proto,
		  cbor_item_t **resp)
{
	uint8_t msg[1024], auth[32];
	size_t n = 1;
	cbor_item_t *req;

	msg[0] = sub;
	if (params != NULL) {
		unsigned char *buf = NULL;
		size_t cap = 0, len = cbor_serialize_alloc(params, &buf, &cap);

		assert_true(len + 1 <= sizeof(msg));
		memcpy(msg + 1, buf, len);
		n += len;
		free(buf);
	}
	if (token != NULL) {
		size_t al = tc_pin_auth(proto, token, msg, n, auth);

		if (params != NULL)
			req = tc_map(4, tc_int(1), tc_int(sub), tc_int(2), params, tc_int(3), tc_int(proto), tc_int(4),
				     tc_bytes(auth, al));
		else
			req = tc_map(3, tc_int(1), tc_int(sub), tc_int(3), tc_int(proto), tc_int(4), tc_bytes(auth, al));
	} else if (params != NULL) {
		req = tc_map(2, tc_int(1), tc_int(sub), tc_int(2), params);
	} else {
		req = tc_map(1, tc_int(1), tc_int(sub));
	}
	return tc_cmd(t, cmd, req, resp);
}

static cbor_item_t *rp_params(const char *rp)
{
	uint8_t h[32];

	SHA256((const uint8_t *)rp, strlen(rp), h);
	return tc_map(1, tc_int(1), tc_bytes(h, 32));
}

static cbor_item_t *cred_params(const struct tc_cred *c)
{
	return tc_map(1, tc_int(2), tc_desc(c->id, c->id_len));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tc_mc mc = { .rk = true, .user_name = "u", .display_name = "U" };
	const char *rps[4] = { "a.example", "b.example", "a.example", "c.example" };
	const char *uids[4] = { "1", "2", "3", "4" };

	f->t = tc_new();
	assert_int_equal(tc_set_pin(f->t, 2, "1234"), 0);
	for (int i = 0; i < 4; i++) {
		uint8_t tok[32];

		assert_int_equal(tc_get_token(f->t, 2, "1234", 0x01, rps[i], tok), 0);
		mc.rp_id = rps[i];
		mc.user_id = (const uint8_t *)uids[i];
		mc.user_id_len = 1;
		mc.token = tok;
		mc.cred_protect = i == 3 ? 3 : 0;
		assert_int_equal(tc_make_credential(f->t, &mc, &f->c[i]), 0);
	}
	/* a non-resident one, never listed */
	{
		struct tc_mc nr = { .rp_id = "d.example" };
		struct tc_cred c;

		assert_int_equal(tc_make_credential(f->t, &nr, &c), 0);
		tc_cred_clear(&c);
	}
	assert_int_equal(tc_get_token(f->t, 2, "1234", 0x04, NULL, f->token), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		tc_cred_clear(&f->c[i]);
	tc_free(f->t);
	free(f);
	return 0;
}

static bool text_is(const cbor_item_t *it, const char *s)
{
	return it != NULL && cbor_isa_string(it) && cbor_string_length(it) == strlen(s) &&
	       memcmp(cbor_string_handle(it), s, strlen(s)) == 0;
}

static void test_cm_metadata(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;

	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 1), 4);
	assert_int_equal(tc_get_uint(r, 2), 46);
	cbor_decref(&r);
	/* the prototype command works the same */
	assert_int_equal(cm(f->t, 0x41, 0x01, NULL, f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 1), 4);
	cbor_decref(&r);
}

static void test_cm_enumerate_rps(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;
	uint8_t h[32];

	assert_int_equal(cm(f->t, 0x0A, 0x02, NULL, f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 5), 3);
	/* newest RP first */
	assert_true(text_is(tc_get_s(tc_get(r, 3), "id"), "c.example"));
	SHA256((const uint8_t *)"c.example", 9, h);
	assert_memory_equal(cbor_bytestring_handle(tc_get(r, 4)), h, 32);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x03, NULL, NULL, 0, &r), 0);
	assert_true(text_is(tc_get_s(tc_get(r, 3), "id"), "a.example"));
	assert_null(tc_get(r, 5));
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x03, NULL, NULL, 0, &r), 0);
	assert_true(text_is(tc_get_s(tc_get(r, 3), "id"), "b.example"));
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x03, NULL, NULL, 0, &r), CTAP2_ERR_NOT_ALLOWED);
	/* GetNextRP without Begin */
	assert_int_equal(cm(f->t, 0x0A, 0x03, NULL, NULL, 0, &r), CTAP2_ERR_NOT_ALLOWED);
}

static void test_cm_enumerate_credentials(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;
	const cbor_item_t *u, *d;
	EVP_PKEY *pk;

	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("a.example"), f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 9), 2);
	u = tc_get(r, 6);
	assert_int_equal(cbor_bytestring_handle(tc_get_s(u, "id"))[0], '3');
	assert_true(text_is(tc_get_s(u, "name"), "u"));
	assert_true(text_is(tc_get_s(u, "displayName"), "U"));
	d = tc_get(r, 7);
	assert_memory_equal(cbor_bytestring_handle(tc_get_s(d, "id")), f->c[2].id, f->c[2].id_len);
	pk = tc_cose_to_pkey(tc_get(r, 8));
	assert_int_equal(EVP_PKEY_eq(pk, f->c[2].pub), 1);
	EVP_PKEY_free(pk);
	assert_int_equal(tc_get_uint(r, 0x0A), 1);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x05, NULL, NULL, 0, &r), 0);
	assert_int_equal(cbor_bytestring_handle(tc_get_s(tc_get(r, 6), "id"))[0], '1');
	assert_null(tc_get(r, 9));
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x05, NULL, NULL, 0, &r), CTAP2_ERR_NOT_ALLOWED);
	/* credProtect is reported */
	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("c.example"), f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 0x0A), 3);
	cbor_decref(&r);
	/* an RP without credentials; a missing rpIDHash */
	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("d.example"), f->token, 2, &r), CTAP2_ERR_NO_CREDENTIALS);
	assert_int_equal(cm(f->t, 0x0A, 0x04, tc_map(1, tc_int(9), tc_int(1)), f->token, 2, &r),
			 CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(cm(f->t, 0x0A, 0x04, NULL, f->token, 2, &r), CTAP2_ERR_MISSING_PARAMETER);
}

static void test_cm_delete(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;
	struct tc_ga ga = { .rp_id = "b.example", .allow_id = f->c[1].id, .allow_len = f->c[1].id_len };

	assert_int_equal(tc_get_assertion(f->t, &ga, f->c[1].pub, &r), 0);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x06, cred_params(&f->c[1]), f->token, 2, &r), 0);
	assert_int_equal(ctap_auth_resident_count(f->t->a), 3);
	assert_true(ctap_auth_take_dirty(f->t->a));
	assert_int_equal(cm(f->t, 0x0A, 0x06, cred_params(&f->c[1]), f->token, 2, &r), CTAP2_ERR_NO_CREDENTIALS);
	ga.allow_id = f->c[1].id;
	assert_int_equal(tc_get_assertion(f->t, &ga, NULL, &r), CTAP2_ERR_NO_CREDENTIALS);
	/* RPs: b.example is gone */
	assert_int_equal(cm(f->t, 0x0A, 0x02, NULL, f->token, 2, &r), 0);
	assert_int_equal(tc_get_uint(r, 5), 2);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x06, tc_map(1, tc_int(1), tc_int(1)), f->token, 2, &r),
			 CTAP2_ERR_MISSING_PARAMETER);
}

static void test_cm_update_user(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;
	const cbor_item_t *u;

	assert_int_equal(cm(f->t, 0x0A, 0x07,
			    tc_map(2, tc_int(2), tc_desc(f->c[0].id, f->c[0].id_len), tc_int(3),
				   tc_map(2, tc_text("id"), tc_bytes("1", 1), tc_text("name"), tc_text("nuevo"))),
			    f->token, 2, &r),
			 0);
	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("a.example"), f->token, 2, &r), 0);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x05, NULL, NULL, 0, &r), 0);
	u = tc_get(r, 6);
	assert_true(text_is(tc_get_s(u, "name"), "nuevo"));
	assert_null(tc_get_s(u, "displayName"));
	cbor_decref(&r);
	/* another user ID */
	assert_int_equal(cm(f->t, 0x0A, 0x07,
			    tc_map(2, tc_int(2), tc_desc(f->c[0].id, f->c[0].id_len), tc_int(3),
				   tc_map(1, tc_text("id"), tc_bytes("9", 1))),
			    f->token, 2, &r),
			 CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(cm(f->t, 0x0A, 0x07, tc_map(1, tc_int(2), tc_desc(f->c[0].id, f->c[0].id_len)), f->token, 2,
			    &r),
			 CTAP2_ERR_MISSING_PARAMETER);
}

static void test_cm_auth(void **state)
{
	struct fx *f = *state;
	cbor_item_t *r = NULL;
	uint8_t tok[32], bad[32];

	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, NULL, 0, &r), CTAP2_ERR_PUAT_REQUIRED);
	memcpy(bad, f->token, 32);
	bad[0] ^= 1;
	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, bad, 2, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, f->token, 1, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	/* pinUvAuthParam without protocol */
	assert_int_equal(tc_cmd(f->t, 0x0A, tc_map(2, tc_int(1), tc_int(1), tc_int(4), tc_bytes(bad, 32)), NULL),
			 CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(tc_cmd(f->t, 0x0A, tc_map(3, tc_int(1), tc_int(1), tc_int(3), tc_int(5), tc_int(4), tc_bytes(bad, 32)),
				NULL),
			 CTAP1_ERR_INVALID_PARAMETER);
	/* missing and unknown subcommands */
	assert_int_equal(tc_cmd(f->t, 0x0A, tc_map(1, tc_int(3), tc_int(2)), NULL), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(cm(f->t, 0x0A, 0x09, NULL, f->token, 2, &r), CTAP2_ERR_INVALID_SUBCOMMAND);
	/* a token without cm */
	assert_int_equal(tc_get_token(f->t, 2, "1234", 0x01, "a.example", tok), 0);
	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, tok, 2, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	/* cm bound to a.example: its credentials only, no metadata */
	assert_int_equal(tc_get_token(f->t, 2, "1234", 0x04, "a.example", tok), 0);
	assert_int_equal(cm(f->t, 0x0A, 0x01, NULL, tok, 2, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("b.example"), tok, 2, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	assert_int_equal(cm(f->t, 0x0A, 0x04, rp_params("a.example"), tok, 2, &r), 0);
	cbor_decref(&r);
	assert_int_equal(cm(f->t, 0x0A, 0x06, cred_params(&f->c[1]), tok, 2, &r), CTAP2_ERR_PIN_AUTH_INVALID);
	assert_int_equal(cm(f->t, 0x0A, 0x06, cred_params(&f->c[0]), tok, 2, &r), 0);
	/* a legacy getPinToken token (protocol 1) may manage credentials */
	assert_int_equal(tc_get_token(f->t, 1, "1234", 0, NULL, tok), 0);
	assert_int_equal(cm(f->t, 0x41, 0x01, NULL, tok, 1, &r), 0);
	assert_int_equal(tc_get_uint(r, 1), 3);
	cbor_decref(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cm_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cm_enumerate_rps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cm_enumerate_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cm_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cm_update_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cm_auth, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
