/* libFuzzer target: the piv driver (pkcs11/driver_piv.c) against a card
 * whose every answer comes from the fuzzer: SELECT, GET DATA (CHUID,
 * certificates, key history), PIN counters, VERIFY, GENERAL AUTHENTICATE,
 * through the core's certificate parsing and the transport's 61xx/6Cxx
 * handling. Input: responses, each a 2-byte big-endian length and that many
 * bytes (data + SW); when they run out the card is "removed". The first byte
 * picks the ATR (extended APDUs or not). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p11_internal.h"
#include "pcsc_card.h"

struct script {
	const uint8_t *p;
	size_t left;
};

static CK_RV fake_xfer(void *ctx, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t *rlen)
{
	struct script *s = ctx;
	size_t n;

	if (s->left < 2)
		return CKR_DEVICE_REMOVED;
	n = (size_t)s->p[0] << 8 | s->p[1];
	s->p += 2;
	s->left -= 2;
	if (n > s->left)
		n = s->left;
	if (n > *rlen)
		n = *rlen;
	memcpy(rsp, s->p, n);
	s->p += n;
	s->left -= n;
	*rlen = n;
	return CKR_OK;
}

static const uint8_t atr_ext[] = { 0x3B, 0x8D, 0x80, 0x01, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57,
	                           'L', 'l', 'a', 'v', 'e', 'r', 'o', 0xC6 };
static const uint8_t atr_short[] = { 0x3B, 0x8D, 0x80, 0x01, 0x80, 0x73, 0xC0, 0x21, 0x80, 0x57,
	                             'L', 'x', 'a', 'v', 'e', 'r', 'o', 0xC6 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("LLAVERO_PKCS11_CONF", "/dev/null", 1);
	setenv("LLAVERO_EFIRMA_DIR", "/nonexistent", 1);
	setenv("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm", 1);
	return C_Initialize(NULL) == CKR_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct p11_driver *d = &p11_driver_piv;
	struct script s;
	struct p11_card *card = NULL;
	struct p11_token *tok;
	void *priv = NULL;
	CK_TOKEN_INFO ti;

	if (size < 1)
		return 0;
	s.p = data + 1;
	s.left = size - 1;
	if (data[0] & 1) {
		if (p11_card_new_virtual(atr_ext, sizeof(atr_ext), fake_xfer, &s, &card) != CKR_OK)
			return 0;
	} else if (p11_card_new_virtual(atr_short, sizeof(atr_short), fake_xfer, &s, &card) != CKR_OK) {
		return 0;
	}
	if (d->probe(card, &priv) != CKR_OK) {
		p11_card_free(card, false);
		return 0;
	}
	tok = calloc(1, sizeof(*tok));
	if (!tok) {
		d->release(priv);
		p11_card_free(card, false);
		return 0;
	}
	tok->drv = d;
	tok->priv = priv;
	tok->user = P11_NO_USER;
	if (d->load_objects(priv, tok) == CKR_OK) {
		memset(&ti, 0, sizeof(ti));
		(void)d->token_info(priv, &ti);
		(void)d->login(priv, CKU_USER, NULL, (const uint8_t *)"123456", 6);
		for (size_t i = 0; i < tok->nobjs; i++) {
			uint8_t in[512], out[1024];
			size_t outl = sizeof(out), k;

			if (tok->objs[i]->cls != CKO_PRIVATE_KEY)
				continue;
			k = p11_object_key_type(tok->objs[i]) == CKK_EC ? 32
			                                                : (p11_object_key_bits(tok->objs[i]) + 7) / 8;
			if (k > sizeof(in))
				continue;
			memset(in, 0x5A, k);
			in[0] = 0;
			(void)d->sign(priv, tok->objs[i], in, k, out, &outl);
		}
		(void)d->set_pin(priv, CKU_USER, (const uint8_t *)"123456", 6, (const uint8_t *)"654321", 6);
		(void)d->login(priv, CKU_SO, NULL, (const uint8_t *)"12345678", 8);
		(void)d->init_pin(priv, (const uint8_t *)"123456", 6);
		(void)d->logout(priv);
	}
	p11_token_free(tok);   /* releases priv */
	p11_card_free(card, false);
	return 0;
}
