/* The card layer (card.c) with a tiny test applet: ATR, SELECT by AID,
 * command chaining, response chaining, CLA checks, power cycles, dirty
 * tracking; and the redaction of the transport's -v log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "card.h"
#include "vpcd_link.h"

struct test_applet {
	int selects, deselects, power_cycles, processed;
	bool dirty;
	size_t last_lc;
};

static const uint8_t test_aid[] = { 0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01 };
static const uint8_t other_aid[] = { 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01 };

static uint16_t t_select(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct test_applet *t = ctx;
	static const uint8_t fci[] = { 0x61, 0x03, 0x4F, 0x01, 0xAA };
	t->selects++;
	llv_buf_put(resp, fci, sizeof(fci));
	return SW_OK;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint16_t t_process(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct test_applet *t = ctx;
	t->processed++;
	t->last_lc = apdu->lc;
	switch (apdu->ins) {
	case 0x01:   /* echo */
		llv_buf_put(resp, apdu->data, apdu->lc);
		return SW_OK;
	case 0x02: { /* P1P2 bytes of a pattern */
		size_t n = ((size_t)apdu->p1 << 8) | apdu->p2;
		for (size_t i = 0; i < n; i++)
			llv_buf_put_u8(resp, pattern(i));
		return SW_OK;
	}
	case 0x03:   /* persistent change */
		t->dirty = true;
		return SW_OK;
	case 0x04:   /* an error with (ignored) data */
		llv_buf_put(resp, "junk", 4);
		return SW_WRONG_DATA;
	default:
		return SW_INS_NOT_SUPPORTED;
	}
}

static void t_deselect(void *ctx)
{
	((struct test_applet *)ctx)->deselects++;
}

static void t_power_cycle(void *ctx)
{
	((struct test_applet *)ctx)->power_cycles++;
}

static bool t_take_dirty(void *ctx)
{
	struct test_applet *t = ctx;
	bool d = t->dirty;
	t->dirty = false;
	return d;
}

static const struct vcard_applet_ops test_ops = {
	.name = "test", .aid = test_aid, .aid_len = sizeof(test_aid),
	.select = t_select, .process = t_process, .deselect = t_deselect,
	.power_cycle = t_power_cycle, .take_dirty = t_take_dirty,
};

static const struct vcard_applet_ops other_ops = {
	.name = "other", .aid = other_aid, .aid_len = sizeof(other_aid),
	.select = t_select, .process = t_process, .deselect = t_deselect,
	.power_cycle = t_power_cycle, .take_dirty = t_take_dirty,
};

struct fx {
	struct vcard_card card;
	struct test_applet a, b;
	struct llv_buf resp;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	vcard_card_init(&f->card);
	assert_int_equal(vcard_card_add_applet(&f->card, &test_ops, &f->a), 0);
	assert_int_equal(vcard_card_add_applet(&f->card, &other_ops, &f->b), 0);
	vcard_card_power_on(&f->card);
	llv_buf_init(&f->resp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vcard_card_free(&f->card);
	llv_buf_free(&f->resp);
	free(f);
	return 0;
}

static uint16_t tx(struct fx *f, const uint8_t *cmd, size_t len)
{
	vcard_card_transmit(&f->card, cmd, len, &f->resp);
	assert_true(llv_buf_ok(&f->resp));
	assert_true(f->resp.len >= 2);
	return (uint16_t)((f->resp.data[f->resp.len - 2] << 8) | f->resp.data[f->resp.len - 1]);
}

#define TX(...) tx(f, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))
#define DATALEN(f) ((f)->resp.len - 2)

static void select_test(struct fx *f)
{
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x00), SW_OK);
}

static bool contains(const uint8_t *h, size_t hl, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, needle, nl) == 0)
			return true;
	return false;
}

static void test_atr(void **state)
{
	uint8_t x = 0;
	for (size_t i = 1; i < VCARD_ATR_LEN; i++)
		x ^= vcard_atr[i];
	assert_int_equal(x, 0);                 /* TCK */
	assert_int_equal(vcard_atr[0], 0x3B);
	assert_int_equal(vcard_atr[1] & 0x0F, 13); /* K historical bytes */
	assert_true(contains(vcard_atr, VCARD_ATR_LEN, "Llavero"));
	assert_false(contains(vcard_atr, VCARD_ATR_LEN, "Yubi"));
}

static void test_select(void **state)
{
	struct fx *f = *state;
	/* Nothing selected yet. */
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00), SW_INS_NOT_SUPPORTED);
	/* Full AID. */
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01, 0x00), SW_OK);
	assert_int_equal(DATALEN(f), 5);
	assert_int_equal(f->a.selects, 1);
	/* A 5-byte prefix. */
	select_test(f);
	assert_int_equal(f->a.selects, 2);
	assert_int_equal(f->a.deselects, 1);
	/* A 4-byte prefix is not enough; an unknown AID neither; selection stays. */
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x04, 0xA0, 0x00, 0x00, 0x05), SW_FILE_NOT_FOUND);
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x05, 0x28), SW_FILE_NOT_FOUND);
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00), SW_FILE_NOT_FOUND);
	/* Longer than the applet's AID. */
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x05, 0x27, 0x21, 0x01, 0x02), SW_FILE_NOT_FOUND);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 0x42), SW_OK);
	assert_int_equal(f->a.processed, 1);
	/* The other applet. */
	assert_int_equal(TX(0x00, 0xA4, 0x04, 0x00, 0x06, 0xD2, 0x76, 0x00, 0x01, 0x24, 0x01), SW_OK);
	assert_int_equal(f->a.deselects, 2);
	assert_int_equal(f->b.selects, 1);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 0x42), SW_OK);
	assert_int_equal(f->b.processed, 1);
	assert_int_equal(f->a.processed, 1);
}

static void test_command_chaining(void **state)
{
	struct fx *f = *state;
	select_test(f);
	assert_int_equal(TX(0x10, 0x01, 0x00, 0x00, 0x02, 'a', 'b'), SW_OK);
	assert_int_equal(DATALEN(f), 0);
	assert_int_equal(TX(0x10, 0x01, 0x00, 0x00, 0x01, 'c'), SW_OK);
	assert_int_equal(f->a.processed, 0);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x03, 'd', 'e', 'f', 0x00), SW_OK);
	assert_int_equal(f->a.processed, 1);
	assert_int_equal(f->a.last_lc, 6);
	assert_int_equal(DATALEN(f), 6);
	assert_memory_equal(f->resp.data, "abcdef", 6);

	/* A different command in the middle of a chain. */
	assert_int_equal(TX(0x10, 0x01, 0x00, 0x00, 0x01, 'x'), SW_OK);
	assert_int_equal(TX(0x00, 0x02, 0x00, 0x01), SW_LAST_COMMAND_EXPECTED);
	/* The chain is gone: the next command stands alone. */
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 'y', 0x00), SW_OK);
	assert_int_equal(DATALEN(f), 1);
	assert_int_equal(f->resp.data[0], 'y');
	/* Same INS, other P1: also a wrong sequence. */
	assert_int_equal(TX(0x10, 0x01, 0x00, 0x00, 0x01, 'x'), SW_OK);
	assert_int_equal(TX(0x10, 0x01, 0x01, 0x00, 0x01, 'x'), SW_LAST_COMMAND_EXPECTED);
}

static void test_chain_bound(void **state)
{
	struct fx *f = *state;
	uint8_t seg[5 + 255];
	select_test(f);
	memset(seg, 0x55, sizeof(seg));
	seg[0] = 0x10; seg[1] = 0x01; seg[2] = 0; seg[3] = 0; seg[4] = 255;
	uint16_t sw = SW_OK;
	size_t sent = 0;
	while (sw == SW_OK && sent < VCARD_MAX_CHAIN + 1024) {
		sw = tx(f, seg, sizeof(seg));
		sent += 255;
	}
	assert_int_equal(sw, SW_WRONG_LENGTH);
	assert_true(sent > VCARD_MAX_CHAIN);
	assert_int_equal(f->a.processed, 0);
	/* The card is usable afterwards. */
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 'z', 0x00), SW_OK);
}

static void check_pattern(const uint8_t *d, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(d[i], pattern(off + i));
}

static void test_response_chaining(void **state)
{
	struct fx *f = *state;
	select_test(f);
	/* 600 bytes with Le = 256: 256 + 6100, 256 + 6158, 88 + 9000. */
	assert_int_equal(TX(0x00, 0x02, 0x02, 0x58, 0x00), 0x6100);
	assert_int_equal(DATALEN(f), 256);
	check_pattern(f->resp.data, 0, 256);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), 0x6158);
	assert_int_equal(DATALEN(f), 256);
	check_pattern(f->resp.data, 256, 256);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x58), SW_OK);
	assert_int_equal(DATALEN(f), 88);
	check_pattern(f->resp.data, 512, 88);
	/* Nothing left. */
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), SW_CONDITIONS_NOT_SATISFIED);

	/* Extended Le: all in one. */
	assert_int_equal(TX(0x00, 0x02, 0x02, 0x58, 0x00, 0x00, 0x00), SW_OK);
	assert_int_equal(DATALEN(f), 600);
	check_pattern(f->resp.data, 0, 600);

	/* Short Le smaller than a short answer: Le bytes, then 61xx (OpenSC's
	 * PIV driver reads 8 bytes to learn an object's length). */
	assert_int_equal(TX(0x00, 0x02, 0x00, 0x64, 0x08), 0x615C);
	assert_int_equal(DATALEN(f), 8);
	check_pattern(f->resp.data, 0, 8);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), SW_OK);
	assert_int_equal(DATALEN(f), 92);
	check_pattern(f->resp.data, 8, 92);
	assert_int_equal(TX(0x00, 0x02, 0x00, 0x64, 0x64), SW_OK);
	assert_int_equal(DATALEN(f), 100);

	/* No Le at all: answered as if Le were 00. */
	assert_int_equal(TX(0x00, 0x02, 0x00, 0x20), SW_OK);
	assert_int_equal(DATALEN(f), 32);
	check_pattern(f->resp.data, 0, 32);
	assert_int_equal(TX(0x00, 0x02, 0x01, 0x20), 0x6120);
	assert_int_equal(DATALEN(f), 256);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x20), SW_OK);
	check_pattern(f->resp.data, 256, 32);

	/* GET RESPONSE with a smaller Le than what remains. */
	assert_int_equal(TX(0x00, 0x02, 0x01, 0x2C, 0x00), 0x612C);   /* 300 */
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x10), 0x611C);
	check_pattern(f->resp.data, 256, 16);
	assert_int_equal(TX(0x00, 0xC0, 0x01, 0x00, 0x10), SW_INCORRECT_P1P2);
	/* Another command drops what was pending. */
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 'q', 0x00), SW_OK);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), SW_CONDITIONS_NOT_SATISFIED);

	/* A chained command whose answer is chained too. */
	assert_int_equal(TX(0x10, 0x02, 0x02, 0x00, 0x01, 0x00), SW_OK);
	assert_int_equal(TX(0x00, 0x02, 0x02, 0x00, 0x01, 0x00, 0x00), 0x6100);
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), SW_OK);
	check_pattern(f->resp.data, 256, 256);
}

static void test_error_drops_data(void **state)
{
	struct fx *f = *state;
	select_test(f);
	assert_int_equal(TX(0x00, 0x04, 0x00, 0x00, 0x00), SW_WRONG_DATA);
	assert_int_equal(DATALEN(f), 0);
}

static void test_cla(void **state)
{
	struct fx *f = *state;
	select_test(f);
	assert_int_equal(TX(0x01, 0x01, 0x00, 0x00), SW_LOGICAL_CHANNEL_NOT_SUPPORTED);
	assert_int_equal(TX(0x03, 0x01, 0x00, 0x00), SW_LOGICAL_CHANNEL_NOT_SUPPORTED);
	assert_int_equal(TX(0x40, 0x01, 0x00, 0x00), SW_LOGICAL_CHANNEL_NOT_SUPPORTED);
	assert_int_equal(TX(0x04, 0x01, 0x00, 0x00), SW_SECURE_MESSAGING_NOT_SUPPORTED);
	assert_int_equal(TX(0x0C, 0x01, 0x00, 0x00), SW_SECURE_MESSAGING_NOT_SUPPORTED);
	assert_int_equal(TX(0x20, 0x01, 0x00, 0x00), SW_CLA_NOT_SUPPORTED);
	assert_int_equal(TX(0xFF, 0x01, 0x00, 0x00), SW_CLA_NOT_SUPPORTED);
	assert_int_equal(TX(0x84, 0x01, 0x00, 0x00), SW_SECURE_MESSAGING_NOT_SUPPORTED);
	/* Proprietary class reaches the applet. */
	assert_int_equal(TX(0x80, 0x01, 0x00, 0x00, 0x01, 'p', 0x00), SW_OK);
	/* Malformed: too short, bad lengths. */
	assert_int_equal(TX(0x00, 0x01), SW_WRONG_LENGTH);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x05, 0x01), SW_WRONG_LENGTH);
	assert_int_equal(f->a.processed, 1);
}

static void test_power_cycle(void **state)
{
	struct fx *f = *state;
	int before = f->a.power_cycles;
	select_test(f);
	assert_int_equal(TX(0x00, 0x02, 0x02, 0x58, 0x00), 0x6100);
	vcard_card_reset(&f->card);
	assert_int_equal(f->a.power_cycles, before + 1);
	assert_int_equal(f->b.power_cycles, before + 1);
	/* Pending response and selection are gone. */
	assert_int_equal(TX(0x00, 0xC0, 0x00, 0x00, 0x00), SW_CONDITIONS_NOT_SATISFIED);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00), SW_INS_NOT_SUPPORTED);
	/* A chain does not survive a power cycle either. */
	select_test(f);
	assert_int_equal(TX(0x10, 0x01, 0x00, 0x00, 0x01, 'a'), SW_OK);
	vcard_card_power_off(&f->card);
	vcard_card_power_on(&f->card);
	select_test(f);
	assert_int_equal(TX(0x00, 0x01, 0x00, 0x00, 0x01, 'b', 0x00), SW_OK);
	assert_int_equal(DATALEN(f), 1);
}

static void test_dirty(void **state)
{
	struct fx *f = *state;
	select_test(f);
	assert_false(vcard_card_take_dirty(&f->card));
	assert_int_equal(TX(0x00, 0x03, 0x00, 0x00), SW_OK);
	assert_true(vcard_card_take_dirty(&f->card));
	assert_false(vcard_card_take_dirty(&f->card));
}

static void test_log_redaction(void **state)
{
	char line[512];
	static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF };
	vpcd_link_format_command(verify, sizeof(verify), line, sizeof(line));
	assert_non_null(strstr(line, "redacted"));
	assert_null(strstr(line, "313233"));
	assert_non_null(strstr(line, "00 20 00 80"));

	static const uint8_t import[] = { 0x00, 0xFE, 0x07, 0x9A, 0x03, 0x01, 0x01, 0x42 };
	vpcd_link_format_command(import, sizeof(import), line, sizeof(line));
	assert_non_null(strstr(line, "redacted"));

	static const uint8_t mgmt[] = { 0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x81, 0x00, 0x00 };
	static const uint8_t mgmt_resp[] = { 0x7C, 0x0A, 0x81, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00 };
	vpcd_link_format_command(mgmt, sizeof(mgmt), line, sizeof(line));
	assert_non_null(strstr(line, "redacted"));
	vpcd_link_format_response(mgmt, sizeof(mgmt), mgmt_resp, sizeof(mgmt_resp), line, sizeof(line));
	assert_non_null(strstr(line, "redacted"));
	assert_non_null(strstr(line, "9000"));
	assert_null(strstr(line, "0102030405"));

	static const uint8_t select[] = { 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08 };
	static const uint8_t fci[] = { 0x61, 0x02, 0x4F, 0x00, 0x90, 0x00 };
	vpcd_link_format_command(select, sizeof(select), line, sizeof(line));
	assert_non_null(strstr(line, "A000000308"));
	vpcd_link_format_response(select, sizeof(select), fci, sizeof(fci), line, sizeof(line));
	assert_string_equal(line, "< 9000 61024F00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atr),
		cmocka_unit_test_setup_teardown(test_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_chaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_chaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_drops_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cla, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
		cmocka_unit_test(test_log_redaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
