/* Unit tests of common/hex.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hex.h"

static void test_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0x3F, 0xA0, 0xFF };
	char out[9];
	char *alloc;

	memset(out, 'x', sizeof(out));
	llv_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "003fa0ff");
	alloc = llv_hex_encode_alloc(in, sizeof(in));
	assert_string_equal(alloc, "003fa0ff");
	free(alloc);
	alloc = llv_hex_encode_alloc(NULL, 0);
	assert_string_equal(alloc, "");
	free(alloc);
}

static void test_decode_plain_and_mixed_case(void **state)
{
	static const uint8_t want[] = { 0x00, 0xA4, 0x04, 0x00, 0xfe };
	uint8_t out[8];

	assert_int_equal(llv_hex_decode("00A40400fE", out, sizeof(out)), 5);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(llv_hex_decode("", out, sizeof(out)), 0);
}

static void test_decode_separators(void **state)
{
	static const uint8_t want[] = { 0x3F, 0x00, 0x7F, 0x49 };
	uint8_t out[4];

	assert_int_equal(llv_hex_decode("3F 00 7F 49", out, sizeof(out)), 4);
	assert_memory_equal(out, want, sizeof(want));
	memset(out, 0, sizeof(out));
	assert_int_equal(llv_hex_decode("3f:00:7f:49", out, sizeof(out)), 4);
	assert_memory_equal(out, want, sizeof(want));
	memset(out, 0, sizeof(out));
	assert_int_equal(llv_hex_decode(" 3F00\n7F49 \r\n", out, sizeof(out)), 4);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_decode_rejects(void **state)
{
	uint8_t out[4];

	assert_int_equal(llv_hex_decode("3", out, sizeof(out)), -1);
	assert_int_equal(llv_hex_decode("3F0", out, sizeof(out)), -1);
	assert_int_equal(llv_hex_decode("3G", out, sizeof(out)), -1);
	assert_int_equal(llv_hex_decode("0x3F", out, sizeof(out)), -1);
	/* A separator splitting a pair is not between pairs. */
	assert_int_equal(llv_hex_decode("3 F", out, sizeof(out)), -1);
	assert_int_equal(llv_hex_decode("3F-00", out, sizeof(out)), -1);
	/* Too small an output is refused, never overrun. */
	uint8_t small[2] = { 0xEE, 0xEE };
	assert_int_equal(llv_hex_decode("010203", small, 1), -1);
	assert_int_equal(small[1], 0xEE);
	assert_int_equal(llv_hex_decode("01", small, 0), -1);
}

static void test_round_trip_all_bytes(void **state)
{
	uint8_t in[256], out[256];
	char text[513];

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	llv_hex_encode(in, sizeof(in), text);
	assert_int_equal(llv_hex_decode(text, out, sizeof(out)), 256);
	assert_memory_equal(in, out, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode_plain_and_mixed_case),
		cmocka_unit_test(test_decode_separators),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_round_trip_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
