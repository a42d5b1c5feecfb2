/* Unit tests of the FIDO applet of llavero-vcard (fido_applet.c) through the
 * card layer, as a reader would drive it: SELECT, NFCCTAP_MSG with command
 * and response chaining, U2F APDUs, NFCCTAP_GETRESPONSE, user presence
 * modes, power cycles, state round trip, and PIV beside FIDO. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "card.h"
#include "ctap_authenticator.h"
#include "fido_applet.h"
#include "piv_applet.h"

struct fx {
	struct vcard_card card;
	struct fido_applet *fido;
	struct piv_applet *piv;
	struct llv_buf r;
};

static const uint8_t select_fido[] = { 0x00, 0xA4, 0x04, 0x00, 0x08,
	0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fido = fido_applet_new();
	assert_non_null(f->fido);
	assert_int_equal(fido_applet_init_fresh(f->fido), 0);
	f->piv = piv_applet_new();
	assert_non_null(f->piv);
	assert_int_equal(piv_applet_personalize(f->piv, NULL, NULL), 0);
	vcard_card_init(&f->card);
	assert_int_equal(vcard_card_add_applet(&f->card, &piv_applet_ops, f->piv), 0);
	assert_int_equal(vcard_card_add_applet(&f->card, &fido_applet_ops, f->fido), 0);
	vcard_card_power_on(&f->card);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vcard_card_free(&f->card);
	fido_applet_free(f->fido);
	piv_applet_free(f->piv);
	llv_buf_free(&f->r);
	free(f);
	return 0;
}

static uint16_t tx(struct fx *f, const uint8_t *apdu, size_t len)
{
	vcard_card_transmit(&f->card, apdu, len, &f->r);
	assert_true(f->r.len >= 2);
	return (uint16_t)(f->r.data[f->r.len - 2] << 8 | f->r.data[f->r.len - 1]);
}

/* A whole NFCCTAP_MSG exchange: command chaining in 255-byte segments,
 * GET RESPONSE while 61xx. Data (status + CBOR) into out; returns the SW. */
static uint16_t ctap_msg(struct fx *f, uint8_t p1, const uint8_t *req, size_t len, struct llv_buf *out)
{
	uint8_t a[300];
	size_t off = 0;
	uint16_t sw;

	llv_buf_clear(out);
	while (len - off > 255) {
		a[0] = 0x90; a[1] = 0x10; a[2] = p1; a[3] = 0x00; a[4] = 255;
		memcpy(a + 5, req + off, 255);
		sw = tx(f, a, 260);
		if (sw != 0x9000)
			return sw;
		off += 255;
	}
	a[0] = 0x80; a[1] = 0x10; a[2] = p1; a[3] = 0x00; a[4] = (uint8_t)(len - off);
	memcpy(a + 5, req + off, len - off);
	a[5 + len - off] = 0x00;
	sw = tx(f, a, 6 + len - off);
	for (;;) {
		llv_buf_put(out, f->r.data, f->r.len - 2);
		if ((sw & 0xFF00) != 0x6100)
			return sw;
		uint8_t gr[] = { 0x00, 0xC0, 0x00, 0x00, (uint8_t)(sw & 0xFF) };
		sw = tx(f, gr, sizeof(gr));
	}
}

static void test_select_answers_u2f_v2(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	assert_int_equal(f->r.len, 8);
	assert_memory_equal(f->r.data, "U2F_V2", 6);
	/* SELECT with P2 != 00 is refused and nothing stays selected. */
	uint8_t bad[sizeof(select_fido)];
	memcpy(bad, select_fido, sizeof(bad));
	bad[3] = 0x0C;
	assert_int_equal(tx(f, bad, sizeof(bad)), 0x6A86);
	uint8_t gi[] = { 0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00 };
	assert_int_equal(tx(f, gi, sizeof(gi)), 0x6D00);
}

static void test_get_info_over_nfcctap_msg(void **state)
{
	struct fx *f = *state;
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t gi = 0x04;

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	assert_int_equal(ctap_msg(f, 0x80, &gi, 1, &out), 0x9000);
	assert_true(out.len > 100);
	assert_int_equal(out.data[0], 0x00);        /* CTAP2_OK */
	assert_true((out.data[1] & 0xE0) == 0xA0);  /* a map follows */
	/* "nfc" is announced among the transports; "usb" is not. */
	assert_non_null(memmem(out.data, out.len, "\x63nfc", 4));
	assert_null(memmem(out.data, out.len, "\x63usb", 4));
	/* P1 00 (no NFCCTAP_GETRESPONSE support) gives the same answer. */
	struct llv_buf out2 = LLV_BUF_INIT;
	assert_int_equal(ctap_msg(f, 0x00, &gi, 1, &out2), 0x9000);
	assert_int_equal(out2.len, out.len);
	assert_memory_equal(out2.data, out.data, out.len);
	llv_buf_free(&out);
	llv_buf_free(&out2);
}

static void test_short_le_chains_response(void **state)
{
	struct fx *f = *state;
	uint8_t gi[] = { 0x80, 0x10, 0x80, 0x00, 0x01, 0x04, 0x20 };   /* Le 32 */

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	uint16_t sw = tx(f, gi, sizeof(gi));
	assert_int_equal(f->r.len, 34);
	assert_int_equal(sw & 0xFF00, 0x6100);
	assert_int_equal(f->r.data[0], 0x00);
}

static void test_nfcctap_errors(void **state)
{
	struct fx *f = *state;
	struct llv_buf out = LLV_BUF_INIT;

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	uint8_t bad_p1[] = { 0x80, 0x10, 0x01, 0x00, 0x01, 0x04, 0x00 };
	assert_int_equal(tx(f, bad_p1, sizeof(bad_p1)), 0x6A86);
	assert_int_equal(f->r.len, 2);
	uint8_t bad_p2[] = { 0x80, 0x10, 0x00, 0x01, 0x01, 0x04, 0x00 };
	assert_int_equal(tx(f, bad_p2, sizeof(bad_p2)), 0x6A86);
	uint8_t empty[] = { 0x80, 0x10, 0x80, 0x00, 0x00 };
	assert_int_equal(tx(f, empty, sizeof(empty)), 0x6700);
	uint8_t getresp[] = { 0x80, 0x11, 0x00, 0x00, 0x00 };
	assert_int_equal(tx(f, getresp, sizeof(getresp)), 0x6985);
	uint8_t unknown[] = { 0x80, 0x12, 0x00, 0x00, 0x00 };
	assert_int_equal(tx(f, unknown, sizeof(unknown)), 0x6D00);
	uint8_t other_cla[] = { 0x84, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00 };
	assert_int_not_equal(tx(f, other_cla, sizeof(other_cla)), 0x9000);
	/* CTAP2-level errors come as a status byte with 9000. */
	uint8_t malformed[] = { 0x01, 0xa1 };
	assert_int_equal(ctap_msg(f, 0x80, malformed, sizeof(malformed), &out), 0x9000);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 0x12);
	uint8_t next[] = { 0x08 };
	assert_int_equal(ctap_msg(f, 0x80, next, 1, &out), 0x9000);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 0x30);
	llv_buf_free(&out);
}

/* getAssertion with a 600-byte allowList: three chained segments. */
static void test_command_chaining(void **state)
{
	struct fx *f = *state;
	struct llv_buf req = LLV_BUF_INIT, out = LLV_BUF_INIT;
	static const char rp[] = "nadie.example";

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	llv_buf_put_u8(&req, 0x02);
	llv_buf_put_u8(&req, 0xa3);
	llv_buf_put_u8(&req, 0x01);
	llv_buf_put_u8(&req, (uint8_t)(0x60 | (sizeof(rp) - 1)));
	llv_buf_put(&req, rp, sizeof(rp) - 1);
	llv_buf_put_u8(&req, 0x02);
	llv_buf_put_u8(&req, 0x58);
	llv_buf_put_u8(&req, 32);
	for (int i = 0; i < 32; i++)
		llv_buf_put_u8(&req, (uint8_t)i);
	llv_buf_put_u8(&req, 0x03);
	llv_buf_put_u8(&req, 0x88);
	for (int i = 0; i < 8; i++) {
		llv_buf_put_u8(&req, 0xa2);
		llv_buf_put(&req, "\x62id\x58\x40", 5);
		for (int j = 0; j < 64; j++)
			llv_buf_put_u8(&req, (uint8_t)(i ^ j));
		llv_buf_put(&req, "\x64type\x6apublic-key", 16);
	}
	assert_true(req.len > 510);
	assert_int_equal(ctap_msg(f, 0x80, req.data, req.len, &out), 0x9000);
	assert_int_equal(out.len, 1);
	assert_int_equal(out.data[0], 0x2E);        /* NO_CREDENTIALS */
	llv_buf_free(&req);
	llv_buf_free(&out);
}

static void test_u2f_apdus(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	uint8_t version[] = { 0x00, 0x03, 0x00, 0x00, 0x00 };
	assert_int_equal(tx(f, version, sizeof(version)), 0x9000);
	assert_int_equal(f->r.len, 8);
	assert_memory_equal(f->r.data, "U2F_V2", 6);
	/* Register: 64 bytes of challenge + application. */
	uint8_t reg[5 + 64 + 1] = { 0x00, 0x01, 0x00, 0x00, 64 };
	memset(reg + 5, 0x5A, 64);
	uint16_t sw = tx(f, reg, sizeof(reg));
	assert_int_equal(sw & 0xFF00, 0x6100);      /* > 256 bytes: chained */
	assert_int_equal(f->r.data[0], 0x05);       /* reserved byte */
	assert_int_equal(f->r.data[1], 0x04);       /* uncompressed P-256 point */
	uint8_t short_reg[] = { 0x00, 0x01, 0x00, 0x00, 0x02, 0x01, 0x02, 0x00 };
	assert_int_equal(tx(f, short_reg, sizeof(short_reg)), 0x6700);
	uint8_t unknown[] = { 0x00, 0x44, 0x00, 0x00, 0x00 };
	assert_int_equal(tx(f, unknown, sizeof(unknown)), 0x6D00);
	assert_int_equal(fido_applet_up_requests(f->fido), 1);
}

static uint8_t make_credential_status(struct fx *f)
{
	struct llv_buf out = LLV_BUF_INIT;
	/* {1: h'00..', 2: {"id": "a.example"}, 3: {"id": h'7531'}, 4: [{"alg": -7, "type": "public-key"}]} */
	static const uint8_t mc_head[] = { 0x01, 0xa4, 0x01, 0x58, 0x20 };
	static const uint8_t mc_tail[] = {
		0x02, 0xa1, 0x62, 'i', 'd', 0x69, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		0x03, 0xa1, 0x62, 'i', 'd', 0x42, 'u', '1',
		0x04, 0x81, 0xa2, 0x63, 'a', 'l', 'g', 0x26, 0x64, 't', 'y', 'p', 'e',
		0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y',
	};
	uint8_t req[sizeof(mc_head) + 32 + sizeof(mc_tail)];
	memcpy(req, mc_head, sizeof(mc_head));
	memset(req + sizeof(mc_head), 0x42, 32);
	memcpy(req + sizeof(mc_head) + 32, mc_tail, sizeof(mc_tail));
	assert_int_equal(ctap_msg(f, 0x80, req, sizeof(req), &out), 0x9000);
	assert_true(out.len >= 1);
	uint8_t st = out.data[0];
	llv_buf_free(&out);
	return st;
}

static void test_user_presence_modes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	assert_int_equal(make_credential_status(f), 0x00);
	assert_true(vcard_card_take_dirty(&f->card));   /* the counter moved */
	assert_false(vcard_card_take_dirty(&f->card));
	fido_applet_set_up_mode(f->fido, FIDO_UP_DENY);
	assert_int_equal(make_credential_status(f), 0x27); /* OPERATION_DENIED */
	assert_int_equal(fido_applet_up_requests(f->fido), 2);
}

static void test_state_round_trip_and_power_cycle(void **state)
{
	struct fx *f = *state;
	struct llv_buf s1 = LLV_BUF_INIT, s2 = LLV_BUF_INIT;
	char err[128];

	assert_int_equal(fido_applet_save(f->fido, &s1), 0);
	struct fido_applet *g = fido_applet_new();
	assert_non_null(g);
	assert_int_equal(fido_applet_load(g, s1.data, s1.len, err, sizeof(err)), 0);
	assert_int_equal(fido_applet_save(g, &s2), 0);
	assert_int_equal(s1.len, s2.len);
	assert_memory_equal(s1.data, s2.data, s1.len);
	assert_memory_equal(ctap_auth_aaguid(fido_applet_auth(g)), ctap_auth_aaguid(fido_applet_auth(f->fido)), 16);
	/* Damaged state is refused with a reason. */
	s1.data[s1.len / 2] ^= 0xFF;
	err[0] = '\0';
	struct fido_applet *h = fido_applet_new();
	int rc = fido_applet_load(h, s1.data, s1.len - 7, err, sizeof(err));
	assert_int_not_equal(rc, 0);
	assert_true(err[0] != '\0');
	fido_applet_free(h);
	fido_applet_free(g);

	/* A power cycle deselects the applet. */
	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	vcard_card_power_on(&f->card);
	uint8_t gi[] = { 0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00 };
	assert_int_equal(tx(f, gi, sizeof(gi)), 0x6D00);
	llv_buf_free(&s1);
	llv_buf_free(&s2);
}

static void test_piv_beside_fido(void **state)
{
	struct fx *f = *state;
	static const uint8_t select_piv[] = { 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00 };

	assert_int_equal(tx(f, select_piv, sizeof(select_piv)), 0x9000);
	assert_int_equal(f->r.data[0], 0x61);           /* PIV application property template */
	assert_int_equal(tx(f, select_fido, sizeof(select_fido)), 0x9000);
	assert_memory_equal(f->r.data, "U2F_V2", 6);
	/* PIV commands do not reach the FIDO applet. */
	uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80 };
	assert_int_equal(tx(f, verify, sizeof(verify)), 0x6D00);
	assert_int_equal(tx(f, select_piv, sizeof(select_piv)), 0x9000);
	assert_int_not_equal(tx(f, verify, sizeof(verify)), 0x6D00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_answers_u2f_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info_over_nfcctap_msg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_le_chains_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nfcctap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_chaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_u2f_apdus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_presence_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip_and_power_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piv_beside_fido, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
