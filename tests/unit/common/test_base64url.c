/* Unit tests of common/base64url.c: RFC 4648 vectors and strict rejection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base64url.h"

struct vector {
	const char *bytes;
	size_t len;
	const char *std;        /* RFC 4648 section 4, padded */
	const char *url;        /* section 5, unpadded */
};

/* RFC 4648 section 10, then the section 9 examples (which use '+' and '/'),
 * then bytes that hit the two characters where the alphabets differ. */
static const struct vector vectors[] = {
	{ "", 0, "", "" },
	{ "f", 1, "Zg==", "Zg" },
	{ "fo", 2, "Zm8=", "Zm8" },
	{ "foo", 3, "Zm9v", "Zm9v" },
	{ "foob", 4, "Zm9vYg==", "Zm9vYg" },
	{ "fooba", 5, "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", 6, "Zm9vYmFy", "Zm9vYmFy" },
	{ "\x14\xfb\x9c\x03\xd9\x7e", 6, "FPucA9l+", "FPucA9l-" },
	{ "\x14\xfb\x9c\x03\xd9", 5, "FPucA9k=", "FPucA9k" },
	{ "\x14\xfb\x9c\x03", 4, "FPucAw==", "FPucAw" },
	{ "\xfb\xff", 2, "+/8=", "-_8" },
	{ "\x00\x00\x00", 3, "AAAA", "AAAA" },
};

static void test_encode_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char *s;

		s = llv_base64_encode((const uint8_t *)v->bytes, v->len);
		assert_string_equal(s, v->std);
		free(s);
		s = llv_base64url_encode((const uint8_t *)v->bytes, v->len);
		assert_string_equal(s, v->url);
		free(s);
	}
}

static void expect_decode(int (*dec)(const char *, size_t, uint8_t **, size_t *),
			  const char *text, const char *bytes, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 12345;

	assert_int_equal(dec(text, strlen(text), &out, &out_len), 0);
	assert_non_null(out);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, bytes, len);
	free(out);
}

static void test_decode_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char padded[32];

		expect_decode(llv_base64_decode, v->std, v->bytes, v->len);
		expect_decode(llv_base64url_decode, v->url, v->bytes, v->len);
		/* base64url also accepts its padded form... */
		snprintf(padded, sizeof(padded), "%s%s", v->url,
			 strlen(v->url) % 4 == 2 ? "==" : strlen(v->url) % 4 == 3 ? "=" : "");
		expect_decode(llv_base64url_decode, padded, v->bytes, v->len);
	}
	/* ...and base64 its unpadded form. */
	expect_decode(llv_base64_decode, "Zg", "f", 1);
	expect_decode(llv_base64_decode, "Zm8", "fo", 2);
}

static void test_decode_uses_only_in_len(void **state)
{
	uint8_t *out;
	size_t len;

	assert_int_equal(llv_base64url_decode("Zm9vYmFy", 4, &out, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "foo", 3);
	free(out);
}

static void expect_reject(int (*dec)(const char *, size_t, uint8_t **, size_t *),
			  const char *text, size_t len)
{
	uint8_t *out = (uint8_t *)"untouched";
	size_t out_len = 777;

	assert_int_equal(dec(text, len, &out, &out_len), -1);
	assert_string_equal((const char *)out, "untouched");
	assert_int_equal(out_len, 777);
}

#define REJECT_BOTH(text) do { \
	expect_reject(llv_base64_decode, text, strlen(text)); \
	expect_reject(llv_base64url_decode, text, strlen(text)); \
} while (0)

static void test_reject_bad_characters(void **state)
{
	REJECT_BOTH("Zm9v!");
	REJECT_BOTH("Zm9v YmFy");
	REJECT_BOTH("Zm9v\n");
	REJECT_BOTH("Zm9\x80");
	/* The other variant's alphabet. */
	expect_reject(llv_base64url_decode, "+/8=", 4);
	expect_reject(llv_base64url_decode, "FPucA9l+", 8);
	expect_reject(llv_base64_decode, "-_8", 3);
	expect_reject(llv_base64_decode, "FPucA9l-", 8);
	/* An embedded NUL is a bad character, not the end. */
	expect_reject(llv_base64url_decode, "Zm\0v", 4);
}

static void test_reject_bad_padding_and_length(void **state)
{
	REJECT_BOTH("Z");               /* 4n+1 characters */
	REJECT_BOTH("Zm9vY");
	REJECT_BOTH("Z===");
	REJECT_BOTH("====");
	REJECT_BOTH("=");
	REJECT_BOTH("Zg=");             /* padding that does not complete the group */
	REJECT_BOTH("Zg===");
	REJECT_BOTH("Zm8==");
	REJECT_BOTH("Zm9=v");           /* '=' inside the data */
	REJECT_BOTH("Zg==Zg==");
	REJECT_BOTH("Zm9v====");
}

static void test_reject_nonzero_trailing_bits(void **state)
{
	/* "Zg" is 'f'; "Zh" carries the same byte and a stray low bit. */
	REJECT_BOTH("Zh==");
	REJECT_BOTH("Zh");
	REJECT_BOTH("Zm9=");            /* "Zm8=" is canonical */
	REJECT_BOTH("Zm9");
	expect_reject(llv_base64url_decode, "-_9", 3);
	expect_reject(llv_base64_decode, "+/9=", 4);
}

static void test_round_trip_all_lengths(void **state)
{
	uint8_t in[70];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		char *s = llv_base64url_encode(in, len);
		uint8_t *out;
		size_t out_len;

		assert_int_equal(strlen(s), (len * 4 + 2) / 3);
		assert_int_equal(llv_base64url_decode(s, strlen(s), &out, &out_len), 0);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		free(out);
		free(s);
		s = llv_base64_encode(in, len);
		assert_int_equal(strlen(s), (len + 2) / 3 * 4);
		assert_int_equal(llv_base64_decode(s, strlen(s), &out, &out_len), 0);
		assert_int_equal(out_len, len);
		assert_memory_equal(out, in, len);
		free(out);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_decode_uses_only_in_len),
		cmocka_unit_test(test_reject_bad_characters),
		cmocka_unit_test(test_reject_bad_padding_and_length),
		cmocka_unit_test(test_reject_nonzero_trailing_bits),
		cmocka_unit_test(test_round_trip_all_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
