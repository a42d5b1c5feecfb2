/* PIV applet: save/load of the persistent state (round trip, and refusal of
 * truncated, corrupt or inconsistent input without touching the applet). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "piv_test_util.h"
#include "tlv.h"

static const uint8_t aes_key[16] = { 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11,
				     0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99 };

static void save(struct piv_applet *piv, struct llv_buf *out)
{
	llv_buf_init(out);
	assert_int_equal(piv_applet_save(piv, out), 0);
	assert_true(out->len > 0);
}

/* A card with EC keys (and optionally an RSA key), a certificate, a changed
 * PIN, a used-up try and an AES-128 management key. */
static struct piv_applet *rich_card(EVP_PKEY **k9a, EVP_PKEY **k9c, bool with_rsa)
{
	struct piv_applet *piv = pt_new_card();
	char err[128];
	size_t der_len;
	uint8_t *der;
	uint8_t cmd[3 + 16] = { 0x08, 0x9B, 0x10 };

	*k9a = with_rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
			: EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	*k9c = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_int_equal(piv_applet_install_key(piv, 0x9A, *k9a, err, sizeof(err)), 0);
	assert_int_equal(piv_applet_install_key(piv, 0x9C, *k9c, err, sizeof(err)), 0);
	der = pt_self_signed(*k9c, &der_len);
	assert_int_equal(piv_applet_install_cert(piv, 0x9C, der, der_len, err, sizeof(err)), 0);
	OPENSSL_free(der);
	assert_int_equal(pt_cmd(piv, 0x24, 0x00, 0x80, "123456\xFF\xFF" "24681357", 16, NULL), 0x9000);
	assert_int_equal(pt_verify_pin(piv, "000000"), 0x63C2);
	assert_int_equal(pt_mgmt_auth(piv, 0x03, pt_default_mgmt_key, 24), 0x9000);
	memcpy(cmd + 3, aes_key, 16);
	assert_int_equal(pt_cmd(piv, 0xFF, 0xFF, 0xFF, cmd, sizeof(cmd), NULL), 0x9000);
	return piv;
}

static void test_round_trip(void **state)
{
	EVP_PKEY *k9a, *k9c;
	struct piv_applet *piv = rich_card(&k9a, &k9c, true);
	struct piv_applet *copy = piv_applet_new();
	struct llv_buf a, b;
	struct piv_resp r;
	char err[160] = "";
	uint8_t hash[32] = { 7 }, block[256], sig[512];
	size_t sig_len = sizeof(sig);

	(void)state;
	save(piv, &a);
	assert_int_equal(piv_applet_load(copy, a.data, a.len, err, sizeof(err)), 0);
	assert_false(piv_applet_ops.take_dirty(copy));
	save(copy, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);

	/* The loaded card behaves like the original. */
	assert_int_equal(pt_select(copy, &r), 0x9000);
	assert_int_equal(pt_cmd(copy, 0x20, 0x00, 0x80, NULL, 0, NULL), 0x63C2);
	assert_int_equal(pt_cmd(copy, 0xF8, 0x00, 0x00, NULL, 0, &r), 0x9000);
	{
		struct piv_resp r0;

		assert_int_equal(pt_cmd(piv, 0xF8, 0x00, 0x00, NULL, 0, &r0), 0x9000);
		assert_memory_equal(r.data, r0.data, 4);
	}
	assert_int_equal(pt_verify_pin(copy, "24681357"), 0x9000);
	pt_pkcs1_sha256(hash, block);
	assert_int_equal(pt_sign(copy, 0x07, 0x9A, block, 256, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(k9a, EVP_sha256(), hash, 32, sig, sig_len));
	sig_len = sizeof(sig);
	assert_int_equal(pt_sign(copy, 0x11, 0x9C, hash, 32, sig, &sig_len), 0x9000);
	assert_true(pt_verify_sig(k9c, NULL, hash, 32, sig, sig_len));
	assert_int_equal(pt_mgmt_auth(copy, 0x08, aes_key, 16), 0x9000);
	assert_int_equal(pt_cmd(copy, 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x0A", 5, &r), 0x9000);
	assert_int_equal(pt_cmd(copy, 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x02", 5, &r), 0x9000);

	/* A fresh applet saves and loads too. */
	{
		struct piv_applet *fresh = piv_applet_new();
		struct llv_buf c;

		save(fresh, &c);
		assert_int_equal(piv_applet_load(copy, c.data, c.len, err, sizeof(err)), 0);
		assert_int_equal(pt_cmd(copy, 0xCB, 0x3F, 0xFF, "\x5C\x03\x5F\xC1\x02", 5, &r), 0x6A82);
		llv_buf_free(&c);
		piv_applet_free(fresh);
	}
	llv_buf_free(&a);
	llv_buf_free(&b);
	EVP_PKEY_free(k9a);
	EVP_PKEY_free(k9c);
	piv_applet_free(piv);
	piv_applet_free(copy);
}

/* Loads bad into target and checks it is refused, with a reason, and that
 * target still saves to exactly before. */
static void refused(struct piv_applet *target, const struct llv_buf *before, const uint8_t *bad, size_t len)
{
	char err[160] = "";
	struct llv_buf after;

	assert_int_equal(piv_applet_load(target, bad, len, err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	save(target, &after);
	assert_int_equal(after.len, before->len);
	assert_memory_equal(after.data, before->data, after.len);
	llv_buf_free(&after);
}

static void test_truncated_refused(void **state)
{
	EVP_PKEY *k9a, *k9c;
	struct piv_applet *piv = rich_card(&k9a, &k9c, false);
	struct piv_applet *target = pt_new_card();
	struct llv_buf good, before;

	(void)state;
	size_t required_end = 0;

	save(piv, &good);
	save(target, &before);
	/* The first five records (version, PIN, PUK, management key, serial) are
	 * required; keys and objects are optional. */
	for (int i = 0; i < 5; i++) {
		struct llv_tlv t;

		assert_int_equal(llv_tlv_parse(good.data + required_end, good.len - required_end, &t), 0);
		required_end += t.raw_len;
	}
	for (size_t n = 0; n < good.len; n++) {
		struct llv_tlv t;
		size_t off = 0;
		bool boundary = false;

		/* A cut exactly between records leaves a shorter well-formed
		 * state; it is refused only when it lacks a required record. */
		while (off < n && llv_tlv_parse(good.data + off, good.len - off, &t) == 0) {
			off += t.raw_len;
			if (off == n)
				boundary = true;
		}
		if (boundary && n >= required_end)
			continue;
		/* Every cut inside the required records, then a sample. */
		if (n > required_end && n % 5 != 0)
			continue;
		refused(target, &before, good.data, n);
	}
	llv_buf_free(&good);
	llv_buf_free(&before);
	EVP_PKEY_free(k9a);
	EVP_PKEY_free(k9c);
	piv_applet_free(piv);
	piv_applet_free(target);
}

static void test_corrupt_refused(void **state)
{
	EVP_PKEY *k9a, *k9c;
	struct piv_applet *piv = rich_card(&k9a, &k9c, false);
	struct piv_applet *target = pt_new_card();
	struct llv_buf good, before, bad;
	char err[160];

	(void)state;
	save(piv, &good);
	save(target, &before);
	/* The layout starts: C0 01 01, C1 0A pin(8) max left, C2 0A ..., C3 11 08 key(16), C4 04 serial. */
	assert_memory_equal(good.data, "\xC0\x01\x01\xC1\x0A", 5);

	/* Unknown format version. */
	llv_buf_init(&bad);
	llv_buf_put(&bad, good.data, good.len);
	bad.data[2] = 0x02;
	refused(target, &before, bad.data, bad.len);
	/* Tries left above tries allowed. */
	memcpy(bad.data, good.data, good.len);
	bad.data[5 + 9] = 9;
	refused(target, &before, bad.data, bad.len);
	/* A PIN that is not digits. */
	memcpy(bad.data, good.data, good.len);
	bad.data[5] = 'x';
	refused(target, &before, bad.data, bad.len);
	/* Management key of the wrong length for its algorithm. */
	memcpy(bad.data, good.data, good.len);
	bad.data[5 + 10 + 12 + 2] = 0x0C;
	refused(target, &before, bad.data, bad.len);
	/* Trailing garbage, an unknown record, a duplicate record. */
	llv_buf_put_u8(&bad, 0x00);
	memcpy(bad.data, good.data, good.len);
	refused(target, &before, bad.data, bad.len);
	llv_buf_clear(&bad);
	llv_buf_put(&bad, good.data, good.len);
	llv_tlv_put(&bad, 0xD0, "x", 1);
	refused(target, &before, bad.data, bad.len);
	llv_buf_clear(&bad);
	llv_buf_put(&bad, good.data, good.len);
	llv_buf_put(&bad, good.data + 3, 12);        /* the PIN record again */
	refused(target, &before, bad.data, bad.len);
	/* A key record naming a slot that is not a key slot, and a garbled key. */
	{
		struct llv_tlv t;
		size_t off = 0;
		bool done_slot = false, done_der = false;

		while (off < good.len && llv_tlv_parse(good.data + off, good.len - off, &t) == 0) {
			if (t.tag == 0xE5 && !done_slot) {
				size_t slot_at = (size_t)(t.value - good.data) + 2;

				memcpy(bad.data, good.data, good.len);
				bad.data[slot_at] = 0x9B;
				refused(target, &before, bad.data, good.len);
				bad.data[slot_at] = 0x42;
				refused(target, &before, bad.data, good.len);
				memcpy(bad.data, good.data, good.len);
				bad.data[slot_at + 3] = 0x07;      /* algorithm RSA for an EC key */
				refused(target, &before, bad.data, good.len);
				done_slot = true;
			} else if (t.tag == 0xE5 && !done_der) {
				memcpy(bad.data, good.data, good.len);
				bad.data[off + t.raw_len - 40] ^= 0x5A;   /* inside the DER */
				refused(target, &before, bad.data, good.len);
				done_der = true;
			}
			off += t.raw_len;
		}
		assert_true(done_slot && done_der);
	}
	/* Random single-byte flips: refused with the applet untouched, or
	 * accepted as a well-formed state; never a crash. */
	for (size_t i = 0; i < good.len; i += 3) {
		struct piv_applet *scratch = pt_new_card();

		memcpy(bad.data, good.data, good.len);
		bad.data[i] ^= (uint8_t)(1u << (i % 8));
		(void)piv_applet_load(scratch, bad.data, good.len, err, sizeof(err));
		piv_applet_free(scratch);
	}
	assert_int_equal(piv_applet_load(target, NULL, 0, err, sizeof(err)), -1);
	llv_buf_free(&bad);
	llv_buf_free(&good);
	llv_buf_free(&before);
	EVP_PKEY_free(k9a);
	EVP_PKEY_free(k9c);
	piv_applet_free(piv);
	piv_applet_free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_corrupt_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
