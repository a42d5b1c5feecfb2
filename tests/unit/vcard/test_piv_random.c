/* PIV applet: random and mutated commands (a deterministic stand-in for the
 * libFuzzer target) never crash it, always get a known status word, carry no
 * data with an error, and leave the card usable. Run under ASan/UBSan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "piv_test_util.h"

static uint32_t rng_state = 0x12345678u;

static uint32_t rnd(void)
{
	/* xorshift32 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static bool sw_known(uint16_t sw)
{
	static const uint16_t known[] = { 0x9000, 0x6581, 0x6700, 0x6982, 0x6983, 0x6985, 0x6A80, 0x6A82,
					  0x6A84, 0x6A86, 0x6A88, 0x6D00, 0x6F00 };

	if ((sw & 0xFFF0) == 0x63C0)
		return true;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (sw == known[i])
			return true;
	return false;
}

/* Seeds: well-formed commands of every kind, to be mutated. */
static const struct { uint8_t ins, p1, p2; const char *data; size_t len; } seeds[] = {
	{ 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x02", 5 },
	{ 0xCB, 0x3F, 0xFF, "\x5C\x01\x7E", 3 },
	{ 0xDB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x06\x53\x02\x01\x00", 9 },
	{ 0xDB, 0x3F, 0xFF, "\x7E\x03\x4F\x01\xA0", 5 },
	{ 0x20, 0x00, 0x80, "123456\xFF\xFF", 8 },
	{ 0x24, 0x00, 0x80, "123456\xFF\xFF" "123456\xFF\xFF", 16 },
	{ 0x2C, 0x00, 0x80, "12345678" "123456\xFF\xFF", 16 },
	{ 0x87, 0x11, 0x9E, "\x7C\x24\x82\x00\x81\x20" "01234567890123456789012345678901", 38 },
	{ 0x87, 0x03, 0x9B, "\x7C\x02\x80\x00", 4 },
	{ 0x87, 0x03, 0x9B, "\x7C\x02\x81\x00", 4 },
	{ 0x87, 0x03, 0x9B, "\x7C\x0A\x82\x08" "ABCDEFGH", 12 },
	{ 0x87, 0x11, 0x9E, "\x7C\x45\x82\x00\x85\x41\x04" "0123456789012345678901234567890123456789012345678901234567890123",
	  71 },
	{ 0x47, 0x00, 0x9A, "\xAC\x03\x80\x01\x11", 5 },
	{ 0xFE, 0x11, 0x9D, "\x06\x20" "01234567890123456789012345678901", 34 },
	{ 0xFF, 0xFF, 0xFF, "\x03\x9B\x18" "012345670123456701234567", 27 },
	{ 0xF7, 0x00, 0x9A, "", 0 },
	{ 0xFA, 0x03, 0x03, "", 0 },
	{ 0xFB, 0x00, 0x00, "", 0 },
	{ 0xFD, 0x00, 0x00, "", 0 },
	{ 0xF8, 0x00, 0x00, "", 0 },
};

static void test_random_commands(void **state)
{
	struct piv_applet *piv = pt_new_card();
	uint8_t buf[300];
	struct piv_resp r;
	char err[128];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	uint8_t mgmt_alg = 0x03, mgmt_key[32];
	size_t mgmt_len = 24;

	(void)state;
	memcpy(mgmt_key, pt_default_mgmt_key, 24);
	assert_int_equal(piv_applet_install_key(piv, 0x9E, key, err, sizeof(err)), 0);
	for (int i = 0; i < 20000; i++) {
		size_t s = rnd() % (sizeof(seeds) / sizeof(seeds[0]));
		size_t len = seeds[s].len;
		uint8_t ins = seeds[s].ins, p1 = seeds[s].p1, p2 = seeds[s].p2;
		uint16_t sw;

		memcpy(buf, seeds[s].data, len);
		switch (rnd() % 6) {
		case 0:         /* flip bytes */
			for (int k = rnd() % 3; k >= 0 && len > 0; k--)
				buf[rnd() % len] ^= (uint8_t)rnd();
			break;
		case 1:         /* truncate */
			len = len > 0 ? rnd() % len : 0;
			break;
		case 2:         /* extend with noise */
			for (int k = rnd() % 8; k >= 0 && len < sizeof(buf); k--)
				buf[len++] = (uint8_t)rnd();
			break;
		case 3:         /* other P1/P2 */
			p1 = (uint8_t)rnd();
			p2 = (uint8_t)rnd();
			break;
		case 4:         /* any instruction */
			ins = (uint8_t)rnd();
			break;
		default:        /* as is: keeps authentications and sequences going */
			break;
		}
		/* Pure noise now and then. */
		if (rnd() % 10 == 0) {
			len = rnd() % sizeof(buf);
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd();
		}
		/* Keep the expensive RSA-2048 generation out of the loop. */
		if (ins == 0x47 && len >= 5 && buf[4] == 0x07)
			buf[4] = 0x11;
		/* Now and then authenticate, so that the commands behind the
		 * management key run too. */
		if (rnd() % 8 == 0)
			assert_int_equal(pt_mgmt_auth(piv, mgmt_alg, mgmt_key, mgmt_len), 0x9000);
		sw = pt_cmd(piv, ins, p1, p2, len > 0 ? buf : NULL, len, &r);
		if (sw == 0x9000 && ins == 0xFF) {
			mgmt_alg = buf[0];
			mgmt_len = buf[2];
			memcpy(mgmt_key, buf + 3, mgmt_len);
		} else if (sw == 0x9000 && ins == 0xFB) {
			mgmt_alg = 0x03;
			mgmt_len = 24;
			memcpy(mgmt_key, pt_default_mgmt_key, 24);
		}
		assert_true(sw_known(sw));
		if (getenv("PIV_RANDOM_TRACE") != NULL)     /* the mix of INS and SW seen */
			fprintf(stderr, "%02X %04X\n", ins, sw);
		(void)piv_applet_ops.take_dirty(piv);
		if (rnd() % 500 == 0)
			piv_applet_ops.power_cycle(piv);
	}
	/* Still a working card after it all: it saves and loads. */
	{
		struct llv_buf st = LLV_BUF_INIT;
		struct piv_applet *copy = piv_applet_new();

		assert_int_equal(piv_applet_save(piv, &st), 0);
		assert_int_equal(piv_applet_load(copy, st.data, st.len, err, sizeof(err)), 0);
		llv_buf_free(&st);
		piv_applet_free(copy);
	}
	EVP_PKEY_free(key);
	piv_applet_free(piv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
