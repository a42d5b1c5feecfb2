/* vcard_apdu_parse: the seven ISO 7816-4 cases and malformed lengths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "apdu.h"

#define PARSE(...) do { \
	static const uint8_t raw_[] = { __VA_ARGS__ }; \
	sw = vcard_apdu_parse(raw_, sizeof(raw_), &a); \
} while (0)

static void test_case1(void **state)
{
	struct vcard_apdu a;
	uint16_t sw;
	PARSE(0x00, 0xA4, 0x04, 0x00);
	assert_int_equal(sw, 0);
	assert_int_equal(a.ins, 0xA4);
	assert_int_equal(a.p1, 0x04);
	assert_int_equal(a.lc, 0);
	assert_false(a.has_le);
	assert_false(a.extended);
}

static void test_case2s(void **state)
{
	struct vcard_apdu a;
	uint16_t sw;
	PARSE(0x00, 0xC0, 0x00, 0x00, 0x10);
	assert_int_equal(sw, 0);
	assert_true(a.has_le);
	assert_int_equal(a.le, 16);
	PARSE(0x00, 0xC0, 0x00, 0x00, 0x00);
	assert_int_equal(sw, 0);
	assert_int_equal(a.le, 256);
	assert_int_equal(a.lc, 0);
}

static void test_case3s_4s(void **state)
{
	struct vcard_apdu a;
	uint16_t sw;
	PARSE(0x00, 0x20, 0x00, 0x80, 0x02, 0x31, 0x32);
	assert_int_equal(sw, 0);
	assert_int_equal(a.lc, 2);
	assert_memory_equal(a.data, "12", 2);
	assert_false(a.has_le);
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00, 0x00);
	assert_int_equal(sw, 0);
	assert_int_equal(a.lc, 2);
	assert_true(a.has_le);
	assert_int_equal(a.le, 256);
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0, 0x7F);
	assert_int_equal(sw, 0);
	assert_int_equal(a.le, 0x7F);
}

static void test_extended(void **state)
{
	struct vcard_apdu a;
	uint16_t sw;
	/* 2E */
	PARSE(0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x01, 0x00);
	assert_int_equal(sw, 0);
	assert_true(a.extended);
	assert_true(a.has_le);
	assert_int_equal(a.le, 256);
	PARSE(0x00, 0xCB, 0x3F, 0xFF, 0x00, 0x00, 0x00);
	assert_int_equal(sw, 0);
	assert_int_equal(a.le, 65536);
	/* 3E */
	PARSE(0x00, 0xDB, 0x3F, 0xFF, 0x00, 0x00, 0x03, 1, 2, 3);
	assert_int_equal(sw, 0);
	assert_true(a.extended);
	assert_false(a.has_le);
	assert_int_equal(a.lc, 3);
	/* 4E */
	PARSE(0x00, 0x87, 0x07, 0x9A, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0x00, 0x00);
	assert_int_equal(sw, 0);
	assert_int_equal(a.lc, 2);
	assert_int_equal(a.le, 65536);
	PARSE(0x00, 0x87, 0x07, 0x9A, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0x01, 0x02);
	assert_int_equal(sw, 0);
	assert_int_equal(a.le, 0x102);
}

static void test_big_extended(void **state)
{
	static uint8_t raw[7 + 3000 + 2];
	struct vcard_apdu a;
	raw[1] = 0xDB;
	raw[5] = 3000 >> 8;
	raw[6] = 3000 & 0xFF;
	assert_int_equal(vcard_apdu_parse(raw, 7 + 3000, &a), 0);
	assert_int_equal(a.lc, 3000);
	assert_int_equal(vcard_apdu_parse(raw, 7 + 3000 + 2, &a), 0);
	assert_true(a.has_le);
	assert_int_equal(vcard_apdu_parse(raw, 7 + 3000 + 1, &a), SW_WRONG_LENGTH);
	assert_int_equal(vcard_apdu_parse(raw, 7 + 2999, &a), SW_WRONG_LENGTH);
}

static void test_malformed(void **state)
{
	struct vcard_apdu a;
	uint16_t sw;
	assert_int_equal(vcard_apdu_parse(NULL, 0, &a), SW_WRONG_LENGTH);
	PARSE(0x00, 0xA4, 0x04);
	assert_int_equal(sw, SW_WRONG_LENGTH);
	/* Lc says 3, only 2 bytes follow. */
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x03, 0xA0, 0x00);
	assert_int_equal(sw, SW_WRONG_LENGTH);
	/* Lc says 1, but 3 bytes follow (not 4S either). */
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x01, 0xA0, 0x00, 0x00);
	assert_int_equal(sw, SW_WRONG_LENGTH);
	/* 00 then a single byte: neither short nor extended. */
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x00, 0x01);
	assert_int_equal(sw, SW_WRONG_LENGTH);
	/* Extended Lc of zero with data. */
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01);
	assert_int_equal(sw, SW_WRONG_LENGTH);
	/* Extended Lc 2 with 1 byte of Le. */
	PARSE(0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0x00);
	assert_int_equal(sw, SW_WRONG_LENGTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case1),
		cmocka_unit_test(test_case2s),
		cmocka_unit_test(test_case3s_4s),
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_big_extended),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
