/* Single-use nonces and the in-memory store; error identifiers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "verify_errors.h"
#include "verify_nonce.h"

#include <string.h>

static void test_issue_consume(void **state)
{
	struct verify_nonce_store *s = verify_nonce_store_memory_new(4);
	char a[VERIFY_NONCE_TEXT_MAX], b[VERIFY_NONCE_TEXT_MAX];
	assert_int_equal(verify_nonce_issue(s, 60, 1000, a, sizeof(a)), VERIFY_OK);
	assert_int_equal(strlen(a), 44);   /* base64 of 32 bytes */
	assert_int_equal(verify_nonce_issue(s, 60, 1000, b, sizeof(b)), VERIFY_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(verify_nonce_consume(s, a, 1030), VERIFY_OK);
	assert_int_equal(verify_nonce_consume(s, a, 1031), VERIFY_ERR_NONCE_REUSED);
	assert_int_equal(verify_nonce_consume(s, b, 1061), VERIFY_ERR_NONCE_EXPIRED);
	assert_int_equal(verify_nonce_consume(s, b, 1062), VERIFY_ERR_NONCE_REUSED);
	assert_int_equal(verify_nonce_consume(s, "nunca-emitido", 1000), VERIFY_ERR_NONCE_UNKNOWN);
	assert_int_equal(verify_nonce_consume(s, "", 1000), VERIFY_ERR_NONCE_UNKNOWN);
	/* the last second of the lifetime is still valid */
	assert_int_equal(verify_nonce_issue(s, 60, 2000, a, sizeof(a)), VERIFY_OK);
	assert_int_equal(verify_nonce_consume(s, a, 2060), VERIFY_OK);
	verify_nonce_store_free(s);
}

static void test_store_full_and_forgetting(void **state)
{
	struct verify_nonce_store *s = verify_nonce_store_memory_new(2);
	char a[VERIFY_NONCE_TEXT_MAX], b[VERIFY_NONCE_TEXT_MAX], c[VERIFY_NONCE_TEXT_MAX];
	assert_int_equal(verify_nonce_issue(s, 60, 1000, a, sizeof(a)), VERIFY_OK);
	assert_int_equal(verify_nonce_issue(s, 60, 1000, b, sizeof(b)), VERIFY_OK);
	assert_int_equal(verify_nonce_issue(s, 60, 1000, c, sizeof(c)), VERIFY_ERR_NONCE_STORE_FULL);
	assert_string_equal(c, "");
	/* used and expired nonces are remembered for one more lifetime */
	assert_int_equal(verify_nonce_consume(s, a, 1010), VERIFY_OK);
	assert_int_equal(verify_nonce_issue(s, 60, 1100, c, sizeof(c)), VERIFY_ERR_NONCE_STORE_FULL);
	assert_int_equal(verify_nonce_issue(s, 60, 1121, c, sizeof(c)), VERIFY_OK);
	assert_int_equal(verify_nonce_consume(s, a, 1122), VERIFY_ERR_NONCE_UNKNOWN);
	assert_int_equal(verify_nonce_consume(s, c, 1122), VERIFY_OK);
	verify_nonce_store_free(s);
}

static void test_bad_arguments(void **state)
{
	struct verify_nonce_store *s = verify_nonce_store_memory_new(2);
	char a[VERIFY_NONCE_TEXT_MAX];
	assert_int_equal(verify_nonce_issue(s, 0, 1000, a, sizeof(a)), VERIFY_ERR_ARGUMENT);
	assert_int_equal(verify_nonce_issue(s, 60, 1000, a, 10), VERIFY_ERR_ARGUMENT);
	assert_int_equal(verify_nonce_issue(NULL, 60, 1000, a, sizeof(a)), VERIFY_ERR_ARGUMENT);
	assert_int_equal(verify_nonce_consume(s, NULL, 1000), VERIFY_ERR_ARGUMENT);
	assert_null(verify_nonce_store_memory_new(0));
	verify_nonce_store_free(s);
	verify_nonce_store_free(NULL);
}

/* Every code has its own identifier and both messages. */
static void test_error_table(void **state)
{
	static const int codes[] = {
#define X(e, v, id, es, en) e,
		VERIFY_ERROR_LIST(X)
#undef X
	};
	size_t n = sizeof(codes) / sizeof(codes[0]);
	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(verify_error_id(codes[i]), "unknown-error");
		assert_true(strlen(verify_strerror(codes[i])) > 5);
		assert_true(strlen(verify_strerror_en(codes[i])) > 5);
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(verify_error_id(codes[i]), verify_error_id(codes[j]));
			assert_string_not_equal(verify_strerror(codes[i]), verify_strerror(codes[j]));
		}
	}
	assert_string_equal(verify_error_id(VERIFY_ERR_NONCE_REUSED), "nonce-reused");
	assert_string_equal(verify_strerror(VERIFY_ERR_NONCE_REUSED), "El reto ya fue usado");
	assert_string_equal(verify_strerror_lang(VERIFY_ERR_NONCE_REUSED, "en_US.UTF-8"),
			    "The nonce was already used");
	assert_string_equal(verify_strerror_lang(VERIFY_ERR_NONCE_REUSED, "es_MX"), "El reto ya fue usado");
	assert_string_equal(verify_error_id(12345), "unknown-error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_consume),
		cmocka_unit_test(test_store_full_and_forgetting),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_error_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
