/* CTAP-over-ISO-7816 framing of the PC/SC transport (fido/fido_iso7816.c)
 * against a scripted card: chaining, 61xx + GET RESPONSE, refused pieces,
 * resets, the CTAPHID answers libfido2 reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <fido.h>

#include "fido_iso7816.h"

#define MAX_APDUS 2048

/* The card: answers[i] (hex-free byte strings) to the i-th APDU; after the
 * script, "61 10" forever (for the round limit) or 9000. */
struct card {
	struct { uint8_t b[300]; size_t len; } apdu[MAX_APDUS];
	size_t napdus;
	const uint8_t *const *answers;
	const size_t *answer_lens;
	size_t nanswers;
	int rc_at;           /* index of the APDU that returns rc instead */
	int rc;
	bool endless_61;
};

static int card_xmit(void *arg, const uint8_t *apdu, size_t len, struct llv_buf *out)
{
	struct card *c = arg;
	size_t i = c->napdus;

	assert_true(i < MAX_APDUS);
	assert_true(len <= sizeof(c->apdu[i].b));
	memcpy(c->apdu[i].b, apdu, len);
	c->apdu[i].len = len;
	c->napdus++;
	if ((int)i == c->rc_at)
		return c->rc;
	if (i < c->nanswers)
		llv_buf_put(out, c->answers[i], c->answer_lens[i]);
	else if (c->endless_61)
		llv_buf_put(out, "\x61\x10", 2);
	else
		llv_buf_put(out, "\x90\x00", 2);
	return FIDO_ISO_OK;
}

static void card_init(struct card *c)
{
	memset(c, 0, sizeof(*c));
	c->rc_at = -1;
}

static void test_chaining(void **state)
{
	static struct card c;
	uint8_t data[600];
	struct llv_buf out = LLV_BUF_INIT;

	card_init(&c);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x10, 0x00, 0x00, data,
						   sizeof(data), &out), FIDO_ISO_OK);
	assert_int_equal(c.napdus, 3);
	/* 90 10 00 00 FF <255>, 90 10 00 00 FF <255>, 80 10 00 00 5A <90> 00 */
	assert_int_equal(c.apdu[0].len, 5 + 255);
	assert_int_equal(c.apdu[0].b[0], 0x90);
	assert_int_equal(c.apdu[0].b[4], 0xFF);
	assert_memory_equal(c.apdu[0].b + 5, data, 255);
	assert_int_equal(c.apdu[1].b[0], 0x90);
	assert_memory_equal(c.apdu[1].b + 5, data + 255, 255);
	assert_int_equal(c.apdu[2].len, 5 + 90 + 1);
	assert_int_equal(c.apdu[2].b[0], 0x80);
	assert_int_equal(c.apdu[2].b[1], 0x10);
	assert_int_equal(c.apdu[2].b[4], 90);
	assert_memory_equal(c.apdu[2].b + 5, data + 510, 90);
	assert_int_equal(c.apdu[2].b[5 + 90], 0x00);
	assert_true(fido_iso7816_sw_ok(out.data, out.len));
	llv_buf_free(&out);

	/* Exactly 255 bytes: one APDU; no data: header and Le only. */
	card_init(&c);
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x10, 0, 0, data, 255, &out),
			 FIDO_ISO_OK);
	assert_int_equal(c.napdus, 1);
	assert_int_equal(c.apdu[0].len, 5 + 255 + 1);
	card_init(&c);
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x11, 0, 0, NULL, 0, &out),
			 FIDO_ISO_OK);
	assert_int_equal(c.napdus, 1);
	assert_int_equal(c.apdu[0].len, 5);
	assert_int_equal(c.apdu[0].b[4], 0x00);
	llv_buf_free(&out);
}

static void test_chain_refused(void **state)
{
	static const uint8_t a0[] = { 0x68, 0x84 };
	static const uint8_t *const answers[] = { a0 };
	static const size_t lens[] = { sizeof(a0) };
	static struct card c;
	uint8_t data[300] = { 0 };
	struct llv_buf out = LLV_BUF_INIT;

	card_init(&c);
	c.answers = answers;
	c.answer_lens = lens;
	c.nanswers = 1;
	/* The card refuses the first piece: the chain stops, its SW is the answer. */
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x10, 0, 0, data,
						   sizeof(data), &out), FIDO_ISO_OK);
	assert_int_equal(c.napdus, 1);
	assert_int_equal(out.len, 2);
	assert_memory_equal(out.data, a0, 2);
	llv_buf_free(&out);
}

/* Regression (fuzz_fido_iso7816): data and 9000 to a piece before the last
 * was handed to libfido2 as the answer to the whole, unfinished command. */
static void test_chain_answered_early(void **state)
{
	static const uint8_t a0[] = { 0x00, 0xA1, 0x01, 0x02, 0x90, 0x00 };
	static const uint8_t *const answers[] = { a0 };
	static const size_t lens[] = { sizeof(a0) };
	static struct card c;
	uint8_t data[600] = { 0 };
	struct llv_buf out = LLV_BUF_INIT;

	card_init(&c);
	c.answers = answers;
	c.answer_lens = lens;
	c.nanswers = 1;
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x10, 0, 0, data,
						   sizeof(data), &out), FIDO_ISO_FAIL);
	assert_int_equal(c.napdus, 1);
	llv_buf_free(&out);
}

static void test_get_response(void **state)
{
	static const uint8_t a0[] = { 'a', 'b', 0x61, 0x02 };
	static const uint8_t a1[] = { 'c', 'd', 0x61, 0x00 };
	static const uint8_t a2[] = { 'e', 0x90, 0x00 };
	static const uint8_t *const answers[] = { a0, a1, a2 };
	static const size_t lens[] = { sizeof(a0), sizeof(a1), sizeof(a2) };
	static const uint8_t cmd[] = { 0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00 };
	static struct card c;
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t buf[16];

	card_init(&c);
	c.answers = answers;
	c.answer_lens = lens;
	c.nanswers = 3;
	assert_int_equal(fido_iso7816_transmit_all(card_xmit, &c, cmd, sizeof(cmd), &out), FIDO_ISO_OK);
	assert_int_equal(c.napdus, 3);
	assert_int_equal(c.apdu[1].len, 5);
	assert_memory_equal(c.apdu[1].b, "\x00\xC0\x00\x00\x02", 5);
	assert_memory_equal(c.apdu[2].b, "\x00\xC0\x00\x00\x00", 5);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, "abcde\x90\x00", 7);
	/* CBOR: the 9000 goes; U2F keeps it. */
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_CBOR, out.data, out.len, buf,
						     sizeof(buf)), 5);
	assert_memory_equal(buf, "abcde", 5);
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_MSG, out.data, out.len, buf,
						     sizeof(buf)), 7);
	/* Too large for libfido2's buffer, bad SW, too short. */
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_CBOR, out.data, out.len, buf, 4), -1);
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_CBOR, (const uint8_t *)"\x6A\x80", 2,
						     buf, sizeof(buf)), -1);
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_MSG, (const uint8_t *)"\x6A\x80", 2,
						     buf, sizeof(buf)), 2);
	assert_int_equal(fido_iso7816_ctaphid_answer(FIDO_ISO_CMD_MSG, buf, 1, buf, sizeof(buf)), -1);
	llv_buf_free(&out);
}

static void test_get_response_bounded(void **state)
{
	static const uint8_t cmd[] = { 0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00 };
	static struct card c;
	struct llv_buf out = LLV_BUF_INIT;

	/* A card that never stops saying 61xx: at most 1024 GET RESPONSEs. */
	card_init(&c);
	c.endless_61 = true;
	assert_int_equal(fido_iso7816_transmit_all(card_xmit, &c, cmd, sizeof(cmd), &out), FIDO_ISO_FAIL);
	assert_int_equal(c.napdus, 1025);
	llv_buf_free(&out);
}

static void test_reset_and_fail(void **state)
{
	static struct card c;
	uint8_t data[600] = { 0 };
	struct llv_buf out = LLV_BUF_INIT;

	card_init(&c);
	c.rc_at = 1;
	c.rc = FIDO_ISO_RESET;
	assert_int_equal(fido_iso7816_send_chained(card_xmit, &c, 0x80, 0x10, 0, 0, data, sizeof(data),
						   &out), FIDO_ISO_RESET);
	assert_int_equal(c.napdus, 2);
	card_init(&c);
	c.rc_at = 0;
	c.rc = FIDO_ISO_FAIL;
	assert_int_equal(fido_iso7816_select(card_xmit, &c, &out), FIDO_ISO_FAIL);
	llv_buf_free(&out);
}

static void test_select_and_init(void **state)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47,
				       0x2F, 0x00, 0x01, 0x00 };
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static struct card c;
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t init[FIDO_ISO_INIT_LEN];

	card_init(&c);
	assert_int_equal(fido_iso7816_select(card_xmit, &c, &out), FIDO_ISO_OK);
	assert_int_equal(c.apdu[0].len, sizeof(sel));
	assert_memory_equal(c.apdu[0].b, sel, sizeof(sel));
	llv_buf_free(&out);

	assert_int_equal(fido_iso7816_init_response(nonce, (const uint8_t *)"U2F_V2", 6, init), 0);
	assert_memory_equal(init, nonce, 8);
	assert_int_equal(init[11], 1);
	assert_int_equal(init[12], 2);
	assert_int_equal(init[16], FIDO_CAP_CBOR);
	assert_int_equal(fido_iso7816_init_response(nonce, (const uint8_t *)"FIDO_2_0", 8, init), 0);
	assert_int_equal(init[16], FIDO_CAP_CBOR | FIDO_CAP_NMSG);
	assert_int_equal(fido_iso7816_init_response(nonce, (const uint8_t *)"FIDO_2_1", 8, init), -1);
	assert_int_equal(fido_iso7816_init_response(nonce, (const uint8_t *)"", 0, init), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_chain_refused),
		cmocka_unit_test(test_chain_answered_early),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_get_response_bounded),
		cmocka_unit_test(test_reset_and_fail),
		cmocka_unit_test(test_select_and_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
