/* PIV applet: VERIFY (PIN and PUK, status query, reset), CHANGE REFERENCE
 * DATA, RESET RETRY COUNTER, retry counters and their status words. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "piv_test_util.h"

static void pad(uint8_t *out, const char *s)
{
	memset(out, 0xFF, 8);
	memcpy(out, s, strlen(s));
}

static uint16_t verify_ref(struct piv_applet *piv, uint8_t ref, const char *s)
{
	uint8_t v[8];

	pad(v, s);
	return pt_cmd(piv, 0x20, 0x00, ref, v, 8, NULL);
}

static uint16_t status(struct piv_applet *piv, uint8_t ref)
{
	return pt_cmd(piv, 0x20, 0x00, ref, NULL, 0, NULL);
}

static uint16_t change(struct piv_applet *piv, uint8_t ref, const char *old, const char *new)
{
	uint8_t v[16];

	pad(v, old);
	pad(v + 8, new);
	return pt_cmd(piv, 0x24, 0x00, ref, v, 16, NULL);
}

static uint16_t unblock(struct piv_applet *piv, const char *puk, const char *pin)
{
	uint8_t v[16];

	pad(v, puk);
	pad(v + 8, pin);
	return pt_cmd(piv, 0x2C, 0x00, 0x80, v, 16, NULL);
}

static void test_verify_good_and_status(void **state)
{
	struct piv_applet *piv = pt_new_card();

	(void)state;
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_false(piv_applet_ops.take_dirty(piv));   /* nothing persistent changed */
	assert_int_equal(status(piv, 0x80), 0x9000);
	/* P1 = FF: the PIN is no longer verified. */
	assert_int_equal(pt_cmd(piv, 0x20, 0xFF, 0x80, NULL, 0, NULL), 0x9000);
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_cmd(piv, 0x20, 0xFF, 0x80, "\x31", 1, NULL), 0x6700);
	/* Power cycle and deselect drop the verification too. */
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	piv_applet_ops.power_cycle(piv);
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	piv_applet_ops.deselect(piv);
	assert_int_equal(status(piv, 0x80), 0x63C3);
	piv_applet_free(piv);
}

static void test_verify_bad_then_blocked(void **state)
{
	struct piv_applet *piv = pt_new_card();

	(void)state;
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(pt_verify_pin(piv, "654321"), 0x63C2);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(status(piv, 0x80), 0x63C2);
	/* A good PIN resets the counter. */
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(pt_verify_pin(piv, "000000"), 0x63C2);
	/* A failed VERIFY drops an earlier verification. */
	assert_int_equal(status(piv, 0x80), 0x63C2);
	assert_int_equal(pt_verify_pin(piv, "000000"), 0x63C1);
	assert_int_equal(pt_verify_pin(piv, "000000"), 0x63C0);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x6983);
	assert_int_equal(pt_verify_pin(piv, "000000"), 0x6983);
	assert_int_equal(status(piv, 0x80), 0x6983);
	assert_false(piv_applet_ops.take_dirty(piv));
	piv_applet_free(piv);
}

static void test_verify_format_and_params(void **state)
{
	struct piv_applet *piv = pt_new_card();
	static const uint8_t short_pin[8] = { '1', '2', '3', '4', '5', 0xFF, 0xFF, 0xFF };
	static const uint8_t letters[8] = { '1', '2', '3', 'a', '5', '6', 0xFF, 0xFF };
	static const uint8_t hole[8] = { '1', '2', '3', '4', '5', '6', 0xFF, '7' };

	(void)state;
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, short_pin, 8, NULL), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, letters, 8, NULL), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, hole, 8, NULL), 0x6A80);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x80, "123456", 6, NULL), 0x6700);
	/* Format errors do not count as tries. */
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_cmd(piv, 0x20, 0x01, 0x80, NULL, 0, NULL), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x00, NULL, 0, NULL), 0x6A88);
	assert_int_equal(pt_cmd(piv, 0x20, 0x00, 0x9A, NULL, 0, NULL), 0x6A88);
	/* 8-digit PIN padding with no FF is fine. */
	assert_int_equal(change(piv, 0x80, "123456", "12345678"), 0x9000);
	assert_int_equal(pt_verify_pin(piv, "12345678"), 0x9000);
	piv_applet_free(piv);
}

static void test_puk_verify_and_unblock(void **state)
{
	struct piv_applet *piv = pt_new_card();

	(void)state;
	assert_int_equal(status(piv, 0x81), 0x63C3);
	assert_int_equal(verify_ref(piv, 0x81, "12345678"), 0x9000);
	for (int i = 0; i < 3; i++)
		(void)pt_verify_pin(piv, "999999");
	assert_int_equal(status(piv, 0x80), 0x6983);
	/* A wrong PUK counts against the PUK. */
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(unblock(piv, "87654321", "111111"), 0x63C2);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(status(piv, 0x81), 0x63C2);
	assert_int_equal(unblock(piv, "12345678", "12ab56"), 0x6A80);
	assert_int_equal(status(piv, 0x81), 0x63C2);
	assert_int_equal(unblock(piv, "12345678", "111111"), 0x9000);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(status(piv, 0x81), 0x63C3);
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x63C2);
	assert_int_equal(pt_verify_pin(piv, "111111"), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x2C, 0x00, 0x81, "1234567812345678", 16, NULL), 0x6A88);
	assert_int_equal(pt_cmd(piv, 0x2C, 0x00, 0x80, "12345678", 8, NULL), 0x6700);
	piv_applet_free(piv);
}

static void test_puk_blocked(void **state)
{
	struct piv_applet *piv = pt_new_card();

	(void)state;
	assert_int_equal(unblock(piv, "00000000", "111111"), 0x63C2);
	assert_int_equal(change(piv, 0x81, "00000000", "11111111"), 0x63C1);
	assert_int_equal(verify_ref(piv, 0x81, "00000000"), 0x63C0);
	assert_int_equal(unblock(piv, "12345678", "111111"), 0x6983);
	assert_int_equal(change(piv, 0x81, "12345678", "11111111"), 0x6983);
	assert_int_equal(status(piv, 0x81), 0x6983);
	/* The PIN still works. */
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x9000);
	piv_applet_free(piv);
}

static void test_change_pin_and_puk(void **state)
{
	struct piv_applet *piv = pt_new_card();

	(void)state;
	(void)piv_applet_ops.take_dirty(piv);
	assert_int_equal(change(piv, 0x80, "000000", "24682468"), 0x63C2);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(change(piv, 0x80, "123456", "2468"), 0x6A80);
	assert_int_equal(change(piv, 0x80, "123456", "24682468"), 0x9000);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(status(piv, 0x80), 0x63C3);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x63C2);
	assert_int_equal(pt_verify_pin(piv, "24682468"), 0x9000);
	assert_int_equal(change(piv, 0x81, "12345678", "abcdefgh"), 0x9000);
	assert_int_equal(verify_ref(piv, 0x81, "abcdefgh"), 0x9000);
	assert_int_equal(pt_cmd(piv, 0x24, 0x00, 0x80, "123456", 6, NULL), 0x6700);
	assert_int_equal(pt_cmd(piv, 0x24, 0x01, 0x80, NULL, 0, NULL), 0x6A86);
	assert_int_equal(pt_cmd(piv, 0x24, 0x00, 0x9B, NULL, 0, NULL), 0x6A88);
	piv_applet_free(piv);
}

static void test_personalize_pins(void **state)
{
	struct piv_applet *piv = piv_applet_new();
	struct piv_resp r;

	(void)state;
	assert_int_equal(piv_applet_personalize(piv, "12ab56", NULL), -1);
	assert_int_equal(piv_applet_personalize(piv, "12345", NULL), -1);
	assert_int_equal(piv_applet_personalize(piv, "13572468", "87654321"), 0);
	assert_true(piv_applet_ops.take_dirty(piv));
	assert_int_equal(pt_select(piv, &r), 0x9000);
	assert_int_equal(pt_verify_pin(piv, "123456"), 0x63C2);
	assert_int_equal(pt_verify_pin(piv, "13572468"), 0x9000);
	assert_int_equal(verify_ref(piv, 0x81, "87654321"), 0x9000);
	piv_applet_free(piv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_good_and_status),
		cmocka_unit_test(test_verify_bad_then_blocked),
		cmocka_unit_test(test_verify_format_and_params),
		cmocka_unit_test(test_puk_verify_and_unblock),
		cmocka_unit_test(test_puk_blocked),
		cmocka_unit_test(test_change_pin_and_puk),
		cmocka_unit_test(test_personalize_pins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
