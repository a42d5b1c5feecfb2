/* Unit tests of common/tlv.c: tag and length forms, malformed elements,
 * iteration, writing. Inputs under test are copied into blocks of exactly
 * their size, so AddressSanitizer sees any read past the span. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tlv.h"

/* Parses a private exact-size copy of in; returns the result. */
static int parse_exact(const uint8_t *in, size_t len, struct llv_tlv *out,
		       uint8_t **copy)
{
	*copy = malloc(len > 0 ? len : 1);
	assert_non_null(*copy);
	if (len > 0)
		memcpy(*copy, in, len);
	return llv_tlv_parse(*copy, len, out);
}

#define PARSE_OK(bytes, t, copy) \
	assert_int_equal(parse_exact(bytes, sizeof(bytes), t, copy), 0)

static void test_one_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x53, 0x03, 0x01, 0x02, 0x03 };
	struct llv_tlv t;
	uint8_t *c;

	PARSE_OK(in, &t, &c);
	assert_int_equal(t.tag, 0x53);
	assert_false(t.constructed);
	assert_int_equal(t.len, 3);
	assert_ptr_equal(t.value, c + 2);
	assert_memory_equal(t.value, "\x01\x02\x03", 3);
	assert_ptr_equal(t.raw, c);
	assert_int_equal(t.raw_len, 5);
	free(c);
}

static void test_two_byte_tag_constructed(void **state)
{
	/* A PIV public key template: 7F49 { 81 modulus, 82 exponent }. */
	static const uint8_t in[] = { 0x7F, 0x49, 0x08, 0x81, 0x01, 0xC5,
				      0x82, 0x03, 0x01, 0x00, 0x01 };
	struct llv_tlv t, inner;
	uint8_t *c;

	PARSE_OK(in, &t, &c);
	assert_int_equal(t.tag, 0x7F49);
	assert_true(t.constructed);
	assert_int_equal(t.len, 8);
	assert_ptr_equal(t.value, c + 3);
	assert_int_equal(llv_tlv_find(t.value, t.len, 0x82, &inner), 0);
	assert_int_equal(inner.len, 3);
	assert_memory_equal(inner.value, "\x01\x00\x01", 3);
	assert_int_equal(llv_tlv_find(t.value, t.len, 0x81, &inner), 0);
	assert_int_equal(inner.value[0], 0xC5);
	free(c);
}

static void test_three_byte_tag(void **state)
{
	/* PIV GET DATA object ID: 5C 03 5FC105 (X.509 cert for PIV auth). */
	static const uint8_t in[] = { 0x5F, 0xC1, 0x05, 0x02, 0xAA, 0xBB };
	static const uint8_t tag_list[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x05 };
	struct llv_tlv t;
	uint8_t *c;

	PARSE_OK(in, &t, &c);
	assert_int_equal(t.tag, 0x5FC105);
	assert_false(t.constructed);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.value, c + 4);
	free(c);

	PARSE_OK(tag_list, &t, &c);
	assert_int_equal(t.tag, 0x5C);
	assert_memory_equal(t.value, "\x5F\xC1\x05", 3);
	free(c);
}

static void test_long_form_lengths(void **state)
{
	static const struct { uint8_t header[5]; size_t header_len, value_len; } cases[] = {
		{ { 0x53, 0x81, 0x80 }, 3, 0x80 },
		{ { 0x53, 0x81, 0xFF }, 3, 0xFF },
		{ { 0x53, 0x82, 0x01, 0x00 }, 4, 0x100 },
		{ { 0x53, 0x82, 0x04, 0xD2 }, 4, 1234 },
		{ { 0x53, 0x83, 0x01, 0x00, 0x00 }, 5, 0x10000 },
		{ { 0x53, 0x83, 0x01, 0x23, 0x45 }, 5, 0x12345 },
		/* BER allows non-minimal long form; some cards send it. */
		{ { 0x53, 0x81, 0x05 }, 3, 5 },
		{ { 0x53, 0x82, 0x00, 0x05 }, 4, 5 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t total = cases[i].header_len + cases[i].value_len;
		uint8_t *in = malloc(total);
		struct llv_tlv t;

		memcpy(in, cases[i].header, cases[i].header_len);
		memset(in + cases[i].header_len, 0x5A, cases[i].value_len);
		assert_int_equal(llv_tlv_parse(in, total, &t), 0);
		assert_int_equal(t.tag, 0x53);
		assert_int_equal(t.len, cases[i].value_len);
		assert_ptr_equal(t.value, in + cases[i].header_len);
		assert_int_equal(t.raw_len, total);
		/* One byte short of the claimed value is refused. */
		assert_int_equal(llv_tlv_parse(in, total - 1, &t), -1);
		free(in);
	}
}

/* Each malformed element is parsed from an exact-size block. */
static void expect_malformed(const uint8_t *in, size_t len)
{
	struct llv_tlv t = { 0 };
	uint8_t *c;

	assert_int_equal(parse_exact(in, len, &t, &c), -1);
	assert_int_equal(t.tag, 0);
	assert_null(t.value);
	free(c);
}

#define MALFORMED(...) do { \
	static const uint8_t bytes_[] = { __VA_ARGS__ }; \
	expect_malformed(bytes_, sizeof(bytes_)); \
} while (0)

static void test_malformed_rejected(void **state)
{
	expect_malformed(NULL, 0);              /* nothing at all */
	MALFORMED(0x53);                        /* tag without length */
	MALFORMED(0x5F);                        /* multi-byte tag cut after 1 */
	MALFORMED(0x5F, 0xC1);                  /* cut after 2 */
	MALFORMED(0x7F, 0x49);                  /* tag without length */
	MALFORMED(0x5F, 0xC1, 0x85, 0x01, 0x00);/* 4-byte tag */
	MALFORMED(0x5F, 0x80, 0x05, 0x00);      /* leading zero tag group */
	MALFORMED(0x53, 0x03, 0x01, 0x02);      /* value cut short */
	MALFORMED(0x53, 0x01);
	MALFORMED(0x53, 0x80, 0x01, 0x00, 0x00);/* indefinite length */
	MALFORMED(0x53, 0x81);                  /* long form cut */
	MALFORMED(0x53, 0x82, 0x01);
	MALFORMED(0x53, 0x83, 0x00, 0x00);
	MALFORMED(0x53, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00); /* 4 length bytes */
	MALFORMED(0x53, 0xFF, 0x00);
	MALFORMED(0x53, 0x82, 0xFF, 0xFF, 0x00); /* claims far more than given */
	MALFORMED(0x53, 0x83, 0xFF, 0xFF, 0xFF, 0x00);
}

/* The span ends where the caller says, whatever follows in memory. */
static void test_never_reads_past_span(void **state)
{
	static const uint8_t value_after[] = { 0x53, 0x03, 0x01, 0x02, 0x03 };
	static const uint8_t tag_after[] = { 0x5F, 0xC1, 0x05, 0x00 };
	static const uint8_t len_after[] = { 0x53, 0x82, 0x00, 0x01, 0xAA };
	struct llv_tlv t;

	assert_int_equal(llv_tlv_parse(value_after, 4, &t), -1);
	assert_int_equal(llv_tlv_parse(tag_after, 1, &t), -1);
	assert_int_equal(llv_tlv_parse(tag_after, 2, &t), -1);
	assert_int_equal(llv_tlv_parse(tag_after, 3, &t), -1);
	assert_int_equal(llv_tlv_parse(len_after, 2, &t), -1);
	assert_int_equal(llv_tlv_parse(len_after, 3, &t), -1);
	assert_int_equal(llv_tlv_parse(len_after, 4, &t), -1);
	assert_int_equal(llv_tlv_parse(len_after, 5, &t), 0);
	assert_int_equal(llv_tlv_parse(NULL, 5, &t), -1);
}

static void test_iterate_and_find(void **state)
{
	/* A PIV certificate object: 53 { 70 cert, 71 certinfo, FE LRC }. */
	static const uint8_t obj[] = { 0x53, 0x0A,
				       0x70, 0x03, 0x30, 0x01, 0x00,
				       0x71, 0x01, 0x00,
				       0xFE, 0x00 };
	struct llv_tlv outer, t;
	struct llv_tlv_iter it;
	uint32_t tags[4];
	size_t n = 0;
	uint8_t *c;

	PARSE_OK(obj, &outer, &c);
	llv_tlv_iter_init(&it, outer.value, outer.len);
	while (n < 4 && llv_tlv_next(&it, &t))
		tags[n++] = t.tag;
	assert_false(it.failed);
	assert_int_equal(n, 3);
	assert_int_equal(tags[0], 0x70);
	assert_int_equal(tags[1], 0x71);
	assert_int_equal(tags[2], 0xFE);
	assert_false(llv_tlv_next(&it, &t));
	assert_false(it.failed);

	assert_int_equal(llv_tlv_find(outer.value, outer.len, 0x71, &t), 0);
	assert_ptr_equal(t.raw, c + 7);
	assert_int_equal(t.len, 1);
	assert_int_equal(llv_tlv_find(outer.value, outer.len, 0x72, &t), -1);
	/* find does not descend: 0x70 is only in the outer level's value. */
	assert_int_equal(llv_tlv_find(c, sizeof(obj), 0x70, &t), -1);
	free(c);

	llv_tlv_iter_init(&it, NULL, 0);
	assert_false(llv_tlv_next(&it, &t));
	assert_false(it.failed);
}

static void test_iterate_stops_on_malformed(void **state)
{
	static const uint8_t in[] = { 0x01, 0x01, 0xAA, 0x02, 0x05, 0xBB };
	struct llv_tlv_iter it;
	struct llv_tlv t;
	uint8_t *c = malloc(sizeof(in));

	memcpy(c, in, sizeof(in));
	llv_tlv_iter_init(&it, c, sizeof(in));
	assert_true(llv_tlv_next(&it, &t));
	assert_int_equal(t.tag, 0x01);
	assert_false(llv_tlv_next(&it, &t));
	assert_true(it.failed);
	assert_false(llv_tlv_next(&it, &t));    /* stays failed */
	/* find reports a malformed element before the wanted tag as absent. */
	assert_int_equal(llv_tlv_find(c, sizeof(in), 0x03, &t), -1);
	assert_int_equal(llv_tlv_find(c, sizeof(in), 0x01, &t), 0);
	free(c);
}

static void expect_len_encoding(size_t len, const uint8_t *want, size_t want_len)
{
	struct llv_buf b = LLV_BUF_INIT;

	llv_tlv_put_len(&b, len);
	assert_true(llv_buf_ok(&b));
	assert_int_equal(b.len, want_len);
	assert_int_equal(llv_tlv_len_size(len), want_len);
	assert_memory_equal(b.data, want, want_len);
	llv_buf_free(&b);
}

static void test_put_len_minimal(void **state)
{
	expect_len_encoding(0, (const uint8_t *)"\x00", 1);
	expect_len_encoding(0x7F, (const uint8_t *)"\x7F", 1);
	expect_len_encoding(0x80, (const uint8_t *)"\x81\x80", 2);
	expect_len_encoding(0xFF, (const uint8_t *)"\x81\xFF", 2);
	expect_len_encoding(0x100, (const uint8_t *)"\x82\x01\x00", 3);
	expect_len_encoding(0xFFFF, (const uint8_t *)"\x82\xFF\xFF", 3);
	expect_len_encoding(0x10000, (const uint8_t *)"\x83\x01\x00\x00", 4);
	expect_len_encoding(0xFFFFFF, (const uint8_t *)"\x83\xFF\xFF\xFF", 4);
}

static void test_put_refuses_what_parse_cannot_read(void **state)
{
	struct llv_buf b = LLV_BUF_INIT;

	assert_int_equal(llv_tlv_len_size(0x1000000), 0);
	llv_tlv_put_len(&b, 0x1000000);
	assert_false(llv_buf_ok(&b));
	llv_buf_free(&b);

	llv_tlv_put_tag(&b, 0x1F818101);
	assert_false(llv_buf_ok(&b));
	llv_buf_free(&b);
}

static void test_put_then_parse(void **state)
{
	static const uint8_t want[] = { 0x5F, 0xC1, 0x05, 0x02, 0xAA, 0xBB,
					0x7F, 0x49, 0x00,
					0x53, 0x01, 0xCC };
	struct llv_buf b = LLV_BUF_INIT;
	uint8_t big[300];
	struct llv_tlv t;

	llv_tlv_put(&b, 0x5FC105, "\xAA\xBB", 2);
	llv_tlv_put(&b, 0x7F49, NULL, 0);
	llv_tlv_put_tag(&b, 0x53);
	llv_tlv_put_len(&b, 1);
	llv_buf_put_u8(&b, 0xCC);
	assert_true(llv_buf_ok(&b));
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	llv_buf_clear(&b);

	memset(big, 0x42, sizeof(big));
	llv_tlv_put(&b, 0x7F49, big, sizeof(big));
	assert_int_equal(b.len, 2 + 3 + sizeof(big));
	assert_int_equal(llv_tlv_parse(b.data, b.len, &t), 0);
	assert_int_equal(t.tag, 0x7F49);
	assert_true(t.constructed);
	assert_int_equal(t.len, sizeof(big));
	assert_memory_equal(t.value, big, sizeof(big));
	llv_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_byte_tag),
		cmocka_unit_test(test_two_byte_tag_constructed),
		cmocka_unit_test(test_three_byte_tag),
		cmocka_unit_test(test_long_form_lengths),
		cmocka_unit_test(test_malformed_rejected),
		cmocka_unit_test(test_never_reads_past_span),
		cmocka_unit_test(test_iterate_and_find),
		cmocka_unit_test(test_iterate_stops_on_malformed),
		cmocka_unit_test(test_put_len_minimal),
		cmocka_unit_test(test_put_refuses_what_parse_cannot_read),
		cmocka_unit_test(test_put_then_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
