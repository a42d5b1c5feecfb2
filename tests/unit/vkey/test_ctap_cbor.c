/* Malformed and out-of-order CTAP2 requests get the CTAP2 status codes:
 * strict CBOR (duplicate keys, indefinite lengths, tags, trailing bytes,
 * truncation), wrong types, unknown commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/rand.h>

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

#define RAW(t, ...) \
	tc_raw((t), (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_cbor_framing(void **state)
{
	struct tc *t = *state;

	assert_int_equal(tc_raw(t, (const uint8_t *)"", 0), CTAP1_ERR_INVALID_LENGTH);
	assert_int_equal(RAW(t, 0x99), CTAP1_ERR_INVALID_COMMAND);
	assert_int_equal(RAW(t, 0x03), CTAP1_ERR_INVALID_COMMAND);
	assert_int_equal(RAW(t, 0x0C, 0xa0), CTAP1_ERR_INVALID_COMMAND);  /* largeBlobs: not supported */
	/* truncated map */
	assert_int_equal(RAW(t, 0x01, 0xa1, 0x01), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x02, 0xa1, 0x01, 0x58, 0x20, 0x00), CTAP2_ERR_INVALID_CBOR);
	/* trailing bytes */
	assert_int_equal(RAW(t, 0x06, 0xa0, 0x00), CTAP2_ERR_INVALID_CBOR);
	/* indefinite-length map, string, array */
	assert_int_equal(RAW(t, 0x06, 0xbf, 0x01, 0x01, 0xff), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x02, 0xa1, 0x01, 0x7f, 0x61, 0x61, 0xff), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x02, 0xa1, 0x03, 0x9f, 0xff), CTAP2_ERR_INVALID_CBOR);
	/* a tag */
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x02, 0xc1, 0x01), CTAP2_ERR_INVALID_CBOR);
	/* reserved additional information, bad simple value */
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x02, 0x1c), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x02, 0xf8, 0x20), CTAP2_ERR_INVALID_CBOR);
	/* duplicate keys, at the top and nested */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x02, 0x01, 0x02, 0x01), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x02, 0xa1, 0x05, 0xa2, 0x62, 'u', 'p', 0xf4, 0x62, 'u', 'p', 0xf5),
			 CTAP2_ERR_INVALID_CBOR);
	/* an array as a map key */
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x80, 0x01), CTAP2_ERR_INVALID_CBOR);
	/* declared lengths far beyond the data */
	assert_int_equal(RAW(t, 0x06, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x02, 0x5a, 0xff, 0xff, 0xff, 0xff), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(RAW(t, 0x06, 0xa1, 0x02, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
			 CTAP2_ERR_INVALID_CBOR);
	/* not a map */
	assert_int_equal(RAW(t, 0x06, 0x80), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(RAW(t, 0x01, 0x01), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(RAW(t, 0x0A, 0x61, 0x61), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* a float where an integer is expected */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x01, 0xf9, 0x3c, 0x00, 0x02, 0x02), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* a negative subCommand */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x01, 0x02, 0x02, 0x20), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
}

static void test_cbor_depth(void **state)
{
	struct tc *t = *state;
	uint8_t req[64];
	size_t n = 0;

	req[n++] = 0x02;
	req[n++] = 0xa1;
	req[n++] = 0x04;
	for (int i = 0; i < 40; i++)
		req[n++] = 0x81;
	req[n++] = 0x01;
	assert_int_equal(tc_raw(t, req, n), CTAP2_ERR_INVALID_CBOR);
}

static void test_cbor_too_large(void **state)
{
	struct tc *t = *state;
	uint8_t *req = calloc(1, 7611);

	req[0] = 0x01;
	assert_int_equal(tc_raw(t, req, 7611), CTAP2_ERR_REQUEST_TOO_LARGE);
	free(req);
}

static void test_cbor_valid_still_works(void **state)
{
	struct tc *t = *state;

	/* getPINRetries as raw canonical bytes: {1: 1, 2: 1} */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x01, 0x01, 0x02, 0x01), 0);
	/* map keys in any order are accepted */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x02, 0x01, 0x01, 0x01), 0);
	/* non-minimal integer encodings are accepted */
	assert_int_equal(RAW(t, 0x06, 0xa2, 0x01, 0x18, 0x01, 0x02, 0x19, 0x00, 0x01), 0);
}

static void test_cbor_random_requests(void **state)
{
	struct tc *t = *state;
	static const uint8_t cmds[] = { 0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x41 };
	uint8_t buf[300];

	for (int i = 0; i < 3000; i++) {
		size_t n;
		struct llv_buf out = LLV_BUF_INIT;

		RAND_bytes(buf, sizeof(buf));
		n = 1 + buf[1] % (sizeof(buf) - 1);
		buf[0] = cmds[buf[0] % sizeof(cmds)];
		if (i % 2)
			buf[1] = (uint8_t)(0xa0 | (buf[1] & 7));   /* look like a map */
		ctap_auth_cbor(t->a, buf, n, &out);
		assert_true(llv_buf_ok(&out) && out.len >= 1);
		if (out.data[0] != 0)
			assert_int_equal(out.len, 1);
		llv_buf_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cbor_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cbor_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cbor_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cbor_valid_still_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cbor_random_requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
