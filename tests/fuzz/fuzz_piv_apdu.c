/* libFuzzer target for llavero-vcard's APDU path: the ISO 7816 card layer
 * (firmware-test/vcard/card.c, apdu.c: parsing, command/response chaining,
 * SELECT, CLA checks) and the PIV applet behind it (piv_*.c), through
 * vcard_card_transmit exactly as the vpcd transport drives it.
 *
 * The card is personalised once (PIN 123456, PUK 12345678, default 3DES
 * management key, an EC P-256 key and a self-signed certificate in 9A) and
 * saved; every input starts from that saved state. Loading it costs ~4 ms
 * (OpenSSL 3's key decoder), so an applet whose persistent state did not
 * change (the card layer's take_dirty stayed false, the contract the vpcd
 * transport relies on to skip a state write) is reused after a power cycle;
 * inputs with mode bit 3 check that contract: when nothing was reported
 * dirty, the saved state must still be byte for byte the original.
 *
 * Input: one mode byte, then records. Mode bits: 0 SELECT the PIV applet
 * first, 1 VERIFY the PIN, 2 authenticate with the management key (mutual
 * 3DES, done here since the fuzzer cannot answer a challenge), 3 save and
 * reload the applet's state at the end (the state file round trip) and, if
 * nothing was reported dirty, compare it with the original.
 * Record: a length byte L; L < 0xFE: L APDU bytes follow; L = 0xFE: a power
 * cycle (off, on); L = 0xFF: two bytes of big-endian length, then that many
 * APDU bytes (extended APDUs, long chains). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "buf.h"
#include "card.h"
#include "piv_applet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct llv_buf saved = LLV_BUF_INIT;
static struct piv_applet *cached;   /* pristine applet, reused while not dirty */
static struct piv_applet *load_pristine(void);
static const uint8_t mgmt_key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

static void die(const char *what)
{
	fprintf(stderr, "fuzz_piv_apdu: setup failed: %s\n", what);
	abort();
}

static uint8_t *self_signed(EVP_PKEY *key, size_t *len)
{
	X509 *x = X509_new();
	uint8_t *der = NULL;
	int n;

	if (x == NULL)
		die("X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz 9A", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		die("X509_sign");
	n = i2d_X509(x, &der);
	if (n <= 0)
		die("i2d_X509");
	X509_free(x);
	*len = (size_t)n;
	return der;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct piv_applet *piv = piv_applet_new();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char err[256];
	uint8_t *cert;
	size_t cert_len;

	(void)argc;
	(void)argv;
	if (piv == NULL || key == NULL)
		die("allocation");
	if (piv_applet_personalize(piv, "123456", "12345678") != 0)
		die("personalize");
	if (piv_applet_install_key(piv, PIV_KEY_AUTH, key, err, sizeof(err)) != 0)
		die(err);
	cert = self_signed(key, &cert_len);
	if (piv_applet_install_cert(piv, PIV_KEY_AUTH, cert, cert_len, err, sizeof(err)) != 0)
		die(err);
	if (piv_applet_save(piv, &saved) != 0 || !llv_buf_ok(&saved))
		die("save");
	OPENSSL_free(cert);
	EVP_PKEY_free(key);
	piv_applet_free(piv);
	cached = load_pristine();
	return 0;
}

static struct piv_applet *load_pristine(void)
{
	struct piv_applet *piv = piv_applet_new();
	char err[256];

	if (piv == NULL)
		die("piv_applet_new");
	if (piv_applet_load(piv, saved.data, saved.len, err, sizeof(err)) != 0)
		die(err);
	return piv;
}

/* Every response ends with a status word; the card layer promises it. */
static void transmit(struct vcard_card *c, const uint8_t *cmd, size_t len, struct llv_buf *resp)
{
	vcard_card_transmit(c, cmd, len, resp);
	if (llv_buf_ok(resp) && resp->len < 2)
		abort();
}

static bool sw_ok(const struct llv_buf *r)
{
	return llv_buf_ok(r) && r->len >= 2 && r->data[r->len - 2] == 0x90 && r->data[r->len - 1] == 0x00;
}

static bool des3_ecb(int enc, const uint8_t in[8], uint8_t out[8])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;
	bool ok = c != NULL && EVP_CipherInit_ex(c, EVP_des_ede3_ecb(), NULL, mgmt_key, NULL, enc) == 1 &&
		  EVP_CIPHER_CTX_set_padding(c, 0) == 1 && EVP_CipherUpdate(c, out, &l1, in, 8) == 1 &&
		  EVP_CipherFinal_ex(c, out + l1, &l2) == 1 && l1 + l2 == 8;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

/* Mutual authentication with the default 3DES management key. */
static void mgmt_auth(struct vcard_card *c, struct llv_buf *r)
{
	static const uint8_t step1[] = { 0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C, 0x02, 0x80, 0x00 };
	/* 7C 14 { 80 08 witness, 81 08 challenge } */
	uint8_t step2[5 + 22] = { 0x00, 0x87, 0x03, 0x9B, 22, 0x7C, 20, 0x80, 8 };
	static const uint8_t chal[8] = { 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7 };

	transmit(c, step1, sizeof(step1), r);
	if (!sw_ok(r) || r->len != 4 + 8 + 2 || r->data[0] != 0x7C || r->data[2] != 0x80)
		abort();    /* the personalised card must offer a witness */
	if (!des3_ecb(0, r->data + 4, step2 + 9))
		die("3DES");
	step2[17] = 0x81;
	step2[18] = 8;
	memcpy(step2 + 19, chal, 8);
	transmit(c, step2, sizeof(step2), r);
	if (!sw_ok(r))
		abort();    /* the right witness must authenticate */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t select_piv[] = { 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00 };
	static const uint8_t verify_pin[] = { 0x00, 0x20, 0x00, 0x80, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF };
	struct piv_applet *piv;
	struct vcard_card card;
	struct llv_buf resp = LLV_BUF_INIT;
	char err[256];
	uint8_t mode;
	bool dirty;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;

	if (cached == NULL)
		cached = load_pristine();
	piv = cached;
	vcard_card_init(&card);
	if (vcard_card_add_applet(&card, &piv_applet_ops, piv) != 0)
		abort();
	vcard_card_power_on(&card);

	if (mode & 0x07) {
		transmit(&card, select_piv, sizeof(select_piv), &resp);
		if (!sw_ok(&resp))
			abort();
	}
	if (mode & 0x02) {
		transmit(&card, verify_pin, sizeof(verify_pin), &resp);
		if (!sw_ok(&resp))
			abort();
	}
	if (mode & 0x04)
		mgmt_auth(&card, &resp);
	dirty = vcard_card_take_dirty(&card);

	while (size > 0) {
		size_t len = data[0];
		data++;
		size--;
		if (len == 0xFE) {
			vcard_card_power_off(&card);
			vcard_card_power_on(&card);
			continue;
		}
		if (len == 0xFF) {
			if (size < 2)
				break;
			len = (size_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
		}
		if (len > size)
			len = size;
		transmit(&card, data, len, &resp);
		dirty |= vcard_card_take_dirty(&card);
		data += len;
		size -= len;
	}

	if (mode & 0x08) {
		/* Whatever the commands did, the state must save and load back. */
		struct llv_buf st = LLV_BUF_INIT;
		struct piv_applet *again = piv_applet_new();
		if (again != NULL && piv_applet_save(piv, &st) == 0 && llv_buf_ok(&st)) {
			if (piv_applet_load(again, st.data, st.len, err, sizeof(err)) != 0) {
				fprintf(stderr, "fuzz_piv_apdu: state saved after the commands does not load: %s\n",
					err);
				abort();
			}
			if (!dirty && (st.len != saved.len || memcmp(st.data, saved.data, st.len) != 0)) {
				fprintf(stderr, "fuzz_piv_apdu: persistent state changed but was not reported dirty\n");
				abort();
			}
		}
		piv_applet_free(again);
		llv_buf_free(&st);
	}

	llv_buf_free(&resp);
	vcard_card_power_off(&card);   /* drops the applet's security status */
	vcard_card_free(&card);
	if (dirty) {
		/* Reload now rather than at the next input: libFuzzer's leak
		 * check runs (slowly) after any input that allocates more than
		 * it frees. */
		piv_applet_free(cached);
		cached = load_pristine();
	}
	return 0;
}
