/* Unit tests of common/buf.c: appends, failure stickiness, reader bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void test_appends_give_big_endian_bytes(void **state)
{
	static const uint8_t want[] = { 0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF,
					'h', 'i', 0x01, 0x02 };
	struct llv_buf b = LLV_BUF_INIT;
	static const uint8_t tail[] = { 0x01, 0x02 };

	llv_buf_put_u8(&b, 0xAB);
	llv_buf_put_be16(&b, 0x1234);
	llv_buf_put_be32(&b, 0xDEADBEEF);
	llv_buf_put_str(&b, "hi");
	llv_buf_put(&b, tail, sizeof(tail));
	assert_true(llv_buf_ok(&b));
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	llv_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_growth_keeps_content(void **state)
{
	struct llv_buf b;

	llv_buf_init_secret(&b);
	for (unsigned i = 0; i < 10000; i++)
		llv_buf_put_u8(&b, (uint8_t)i);
	assert_true(llv_buf_ok(&b));
	assert_int_equal(b.len, 10000);
	for (unsigned i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	llv_buf_free(&b);
}

static void test_failure_is_sticky(void **state)
{
	struct llv_buf b = LLV_BUF_INIT;

	llv_buf_put_u8(&b, 1);
	/* No allocator can satisfy this: the buffer fails, content stays. */
	assert_false(llv_buf_reserve(&b, SIZE_MAX));
	assert_false(llv_buf_ok(&b));
	llv_buf_put_u8(&b, 2);
	llv_buf_put_be32(&b, 3);
	assert_false(llv_buf_ok(&b));
	assert_int_equal(b.len, 1);
	assert_int_equal(b.data[0], 1);
	assert_false(llv_buf_reserve(&b, 1));
	/* Consuming does not forget the failure either. */
	llv_buf_consume(&b, 5);
	assert_false(llv_buf_ok(&b));
	/* A failed buffer cannot be stolen as if complete. */
	size_t len = 99;
	assert_null(llv_buf_steal(&b, &len));
	assert_int_equal(len, 0);
	assert_null(b.data);
}

static void test_clear_keeps_storage_and_resets_failure(void **state)
{
	struct llv_buf b = LLV_BUF_INIT;
	uint8_t *storage;

	llv_buf_put_str(&b, "abc");
	storage = b.data;
	llv_buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, storage);
	llv_buf_reserve(&b, SIZE_MAX);
	assert_false(llv_buf_ok(&b));
	llv_buf_clear(&b);
	assert_true(llv_buf_ok(&b));
	llv_buf_put_str(&b, "x");
	assert_int_equal(b.len, 1);
	llv_buf_free(&b);
}

static void test_consume(void **state)
{
	struct llv_buf b;

	llv_buf_init_secret(&b);
	llv_buf_put_str(&b, "abcdef");
	llv_buf_consume(&b, 2);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "cdef", 4);
	/* The vacated tail of a secret buffer is wiped. */
	assert_memory_equal(b.data + 4, "\0\0", 2);
	llv_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_true(llv_buf_ok(&b));
	llv_buf_free(&b);
}

static void test_steal(void **state)
{
	struct llv_buf b = LLV_BUF_INIT;
	uint8_t *p;
	size_t len;

	llv_buf_put_str(&b, "key");
	p = llv_buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "key", 3);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);

	/* Empty but healthy: a real pointer, so NULL only ever means failure. */
	p = llv_buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	free(p);
}

static void test_reader_reads_in_order(void **state)
{
	static const uint8_t in[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				      0x08, 0x09 };
	struct llv_reader r;
	const uint8_t *p;

	llv_reader_init(&r, in, sizeof(in));
	assert_int_equal(llv_reader_u8(&r), 0x01);
	assert_int_equal(llv_reader_be16(&r), 0x0203);
	assert_int_equal(llv_reader_be32(&r), 0x04050607);
	p = llv_reader_take(&r, 2);
	assert_ptr_equal(p, in + 7);
	assert_true(llv_reader_ok(&r));
	assert_int_equal(r.left, 0);
	assert_non_null(llv_reader_take(&r, 0));
	assert_true(llv_reader_ok(&r));
}

static void test_reader_bounds_and_stickiness(void **state)
{
	static const uint8_t in[] = { 0xAA, 0xBB, 0xCC };
	struct llv_reader r;

	/* A be32 on 3 bytes fails without consuming or overrunning. */
	llv_reader_init(&r, in, sizeof(in));
	assert_int_equal(llv_reader_be32(&r), 0);
	assert_false(llv_reader_ok(&r));
	/* Sticky: even reads that would fit now fail. */
	assert_int_equal(llv_reader_u8(&r), 0);
	assert_null(llv_reader_take(&r, 1));
	assert_false(llv_reader_ok(&r));

	llv_reader_init(&r, in, sizeof(in));
	assert_null(llv_reader_take(&r, 4));
	assert_null(llv_reader_take(&r, SIZE_MAX));
	assert_false(llv_reader_ok(&r));

	llv_reader_init(&r, in, sizeof(in));
	assert_int_equal(llv_reader_be16(&r), 0xAABB);
	assert_int_equal(llv_reader_be16(&r), 0);
	assert_false(llv_reader_ok(&r));

	llv_reader_init(&r, NULL, 10);
	assert_int_equal(r.left, 0);
	assert_int_equal(llv_reader_u8(&r), 0);
	assert_false(llv_reader_ok(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends_give_big_endian_bytes),
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_failure_is_sticky),
		cmocka_unit_test(test_clear_keeps_storage_and_resets_failure),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_reader_reads_in_order),
		cmocka_unit_test(test_reader_bounds_and_stickiness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
