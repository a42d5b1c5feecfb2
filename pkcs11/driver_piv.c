/* The `piv` token driver: NIST SP 800-73-4 cards over PC/SC (SELECT, GET
 * DATA, VERIFY, GENERAL AUTHENTICATE, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER). Recognition is data driven: the AID table says which
 * applications are PIV, the ATR table names known cards and their quirks
 * (e.g. YubiKey-style metadata for the PIN counters); any card that selects
 * the PIV AID works. Certificates, CHUID and key history are read once per
 * card insertion (the core keeps the objects while the card stays); PINs
 * are never cached, and a wrong PIN is never retried. */
#include "token_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "buf.h"
#include "hex.h"
#include "log.h"
#include "pcsc_card.h"
#include "secmem.h"
#include "tlv.h"

#define PIV_PIN_FIELD 8

enum {
	INS_SELECT = 0xA4,
	INS_VERIFY = 0x20,
	INS_CHANGE_REFERENCE = 0x24,
	INS_RESET_RETRY = 0x2C,
	INS_GENERAL_AUTH = 0x87,
	INS_GET_DATA = 0xCB,
	INS_YK_METADATA = 0xF7,
	REF_PIN = 0x80,
	REF_PUK = 0x81,
};

/* ---- data: applications and cards ---------------------------------------- */

struct piv_aid {
	const char *name;
	uint8_t aid[16];
	size_t len;
};

/* The PIV application (SP 800-73-4 2.2), selected by its truncated AID as
 * the standard allows; add other PIV-compatible applications here. */
static const struct piv_aid piv_aids[] = {
	{ "PIV", { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00 }, 9 },
};

#define Q_YK_METADATA 0x01u  /* INS F7 gives PIN/PUK retry counters */

struct piv_model {
	const char *model;
	uint8_t atr[33];
	uint8_t mask[33];
	size_t len;
	unsigned quirks;
};

/* Known cards by ATR (value & mask); unknown PIV cards are "PIV card". */
static const struct piv_model piv_models[] = {
	{ "Llavero vcard",
	  { 0x3B, 0x8D, 0x80, 0x01, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 'L', 'l', 'a', 'v', 'e', 'r', 'o' },
	  { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF },
	  17, Q_YK_METADATA },
	{ "YubiKey",
	  { 0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57,
	    0x59, 0x75, 0x62, 0x69, 0x4B, 0x65, 0x79 },
	  { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF },
	  22, Q_YK_METADATA },
};

/* Key slots: key reference, certificate object, CKA_ID, labels, policy. */
struct piv_slot {
	uint8_t ref;
	uint32_t cert_tag;
	const char *key_label;
	bool always_auth;
	bool decrypt;
};

static const struct piv_slot piv_slots[] = {
	{ 0x9A, 0x5FC105, "PIV AUTH key", false, false },
	{ 0x9C, 0x5FC10A, "SIGN key", true, false },
	{ 0x9D, 0x5FC10B, "KEY MAN key", false, true },
	{ 0x9E, 0x5FC101, "CARD AUTH key", false, false },
};

struct piv {
	struct p11_card *card;
	const struct piv_aid *aid;
	const char *model;
	unsigned quirks;
	char serial[17];
	char label[33];
	int pin_max;                /* highest counter seen (no metadata) */
	uint8_t *puk;               /* kept from SO login until logout/init_pin */
	size_t puk_len;
	/* retry counters of the last C_GetTokenInfo: reused for a moment (an
	 * application calls it several times in a row), dropped by any PIN
	 * command of ours */
	bool counters_valid;
	struct timespec counters_at;
	int ul, um, sl, sm;
};

#define COUNTERS_TTL_MS 1000

/* ---- APDUs ------------------------------------------------------------------ */

static CK_RV do_select(struct piv *p, struct llv_buf *resp)
{
	uint16_t sw = 0;
	CK_RV rv = p11_card_apdu(p->card, 0x00, INS_SELECT, 0x04, 0x00, p->aid->aid, p->aid->len, true,
	                         resp, &sw);

	if (rv != CKR_OK)
		return rv;
	return sw == 0x9000 ? CKR_OK : CKR_TOKEN_NOT_RECOGNIZED;
}

static void wipe_puk(struct piv *p);

/* The card was reset by someone else (pcsc_card.c reconnected it): select
 * PIV again before the command that found the reset goes out, so it reaches
 * PIV, and forget what the reset cleared (the PUK kept from an SO login: the
 * core marks the login as lost). The PIN is never sent again here. */
static CK_RV piv_on_reset(struct p11_card *card, void *ctx)
{
	struct piv *p = ctx;
	struct llv_buf ignore = LLV_BUF_INIT;
	CK_RV rv;

	(void)card;
	llv_info("piv: card was reset; selecting PIV again");
	wipe_puk(p);
	p->counters_valid = false;
	rv = do_select(p, &ignore);
	llv_buf_free(&ignore);
	return rv == CKR_TOKEN_NOT_RECOGNIZED ? CKR_DEVICE_ERROR : rv;
}

/* One command (a reset card is handled below it, see piv_on_reset). */
static CK_RV cmd(struct piv *p, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
                 size_t len, bool le, struct llv_buf *resp, uint16_t *sw)
{
	if (ins == INS_VERIFY || ins == INS_CHANGE_REFERENCE || ins == INS_RESET_RETRY)
		p->counters_valid = false;
	return p11_card_apdu(p->card, 0x00, ins, p1, p2, data, len, le, resp, sw);
}

/* GET DATA of an object; CKR_OK with the 53 value in *out (a view into
 * resp), or CKR_OBJECT_HANDLE_INVALID when absent. */
static CK_RV get_data(struct piv *p, uint32_t tag, struct llv_buf *resp, struct llv_tlv *out)
{
	uint8_t q[5] = { 0x5C, 0x03, (uint8_t)(tag >> 16), (uint8_t)(tag >> 8), (uint8_t)tag };
	uint16_t sw = 0;
	size_t qlen = 5;
	CK_RV rv;

	if (tag == 0x7E) {
		q[1] = 0x01;
		q[2] = 0x7E;
		qlen = 3;
	}
	rv = cmd(p, INS_GET_DATA, 0x3F, 0xFF, q, qlen, true, resp, &sw);
	if (rv != CKR_OK)
		return rv;
	if (sw != 0x9000)
		return CKR_OBJECT_HANDLE_INVALID;
	if (tag == 0x7E)
		return llv_tlv_parse(resp->data, resp->len, out) == 0 ? CKR_OK : CKR_DEVICE_ERROR;
	if (llv_tlv_parse(resp->data, resp->len, out) != 0 || out->tag != 0x53)
		return CKR_DEVICE_ERROR;
	return CKR_OK;
}

/* Maps the status word of VERIFY / CHANGE REFERENCE / RESET RETRY. */
static CK_RV pin_sw(uint16_t sw)
{
	if (sw == 0x9000)
		return CKR_OK;
	if (sw == 0x63C0 || sw == 0x6983)
		return CKR_PIN_LOCKED;
	if ((sw & 0xFFF0) == 0x63C0)
		return CKR_PIN_INCORRECT;
	if (sw == 0x6A80)
		return CKR_PIN_INVALID;
	if (sw == 0x6982)
		return CKR_PIN_INCORRECT;
	llv_warn("piv: PIN command answered %04X", sw);
	return CKR_DEVICE_ERROR;
}

/* PIN field: 6..8 bytes, FF padded (SP 800-73-4 2.4.3). */
static CK_RV pin_field(const uint8_t *pin, size_t len, uint8_t out[PIV_PIN_FIELD])
{
	if (!pin || len < 6 || len > PIV_PIN_FIELD)
		return CKR_PIN_LEN_RANGE;
	memset(out, 0xFF, PIV_PIN_FIELD);
	memcpy(out, pin, len);
	return CKR_OK;
}

/* ---- driver ops ------------------------------------------------------------ */

static CK_RV piv_probe(struct p11_card *card, void **priv)
{
	struct piv *p;
	size_t atr_len;
	const uint8_t *atr = p11_card_atr(card, &atr_len);
	struct llv_buf resp = LLV_BUF_INIT;
	CK_RV rv = CKR_TOKEN_NOT_RECOGNIZED;

	p = calloc(1, sizeof(*p));
	if (!p)
		return CKR_HOST_MEMORY;
	p->card = card;
	p->model = "PIV card";
	for (size_t i = 0; i < sizeof(piv_models) / sizeof(piv_models[0]); i++) {
		const struct piv_model *m = &piv_models[i];
		size_t j;

		if (atr_len < m->len)
			continue;
		for (j = 0; j < m->len; j++)
			if ((atr[j] & m->mask[j]) != (m->atr[j] & m->mask[j]))
				break;
		if (j == m->len) {
			p->model = m->model;
			p->quirks = m->quirks;
			break;
		}
	}
	rv = p11_card_begin(card);
	if (rv != CKR_OK) {
		free(p);
		return rv;
	}
	for (size_t i = 0; i < sizeof(piv_aids) / sizeof(piv_aids[0]); i++) {
		p->aid = &piv_aids[i];
		llv_buf_clear(&resp);
		rv = do_select(p, &resp);
		if (rv != CKR_TOKEN_NOT_RECOGNIZED)
			break;
	}
	p11_card_end(card);
	llv_buf_free(&resp);
	if (rv != CKR_OK) {
		free(p);
		return rv;
	}
	llv_debug("piv: %s recognised (%s)", p->aid->name, p->model);
	p11_card_on_reset(card, piv_on_reset, p);
	*priv = p;
	return CKR_OK;
}

static void read_chuid(struct piv *p)
{
	struct llv_buf resp = LLV_BUF_INIT;
	struct llv_tlv obj, guid;

	if (get_data(p, 0x5FC102, &resp, &obj) == CKR_OK &&
	    llv_tlv_find(obj.value, obj.len, 0x34, &guid) == 0 && guid.len >= 8) {
		for (size_t i = 0; i < 8; i++)
			snprintf(p->serial + 2 * i, 3, "%02x", guid.value[i]);
	}
	llv_buf_free(&resp);
}

/* Number of on-card retired key certificates (key history object). */
static unsigned retired_on_card(struct piv *p)
{
	struct llv_buf resp = LLV_BUF_INIT;
	struct llv_tlv obj, n;
	unsigned count = 0;

	if (get_data(p, 0x5FC10C, &resp, &obj) == CKR_OK &&
	    llv_tlv_find(obj.value, obj.len, 0xC1, &n) == 0 && n.len == 1)
		count = n.value[0] > 20 ? 20 : n.value[0];
	llv_buf_free(&resp);
	return count;
}

static CK_RV add_slot_cert(struct piv *p, struct p11_token *tok, uint8_t ref, uint32_t tag,
                           const char *key_label, bool always_auth, bool decrypt, uint8_t id)
{
	struct llv_buf resp = LLV_BUF_INIT;
	struct llv_tlv obj, cert, info;
	struct p11_key_spec ks;
	CK_RV rv = get_data(p, tag, &resp, &obj);

	if (rv == CKR_OBJECT_HANDLE_INVALID) {
		rv = CKR_OK;      /* empty slot */
		goto out;
	}
	if (rv != CKR_OK)
		goto out;
	if (llv_tlv_find(obj.value, obj.len, 0x70, &cert) != 0) {
		llv_warn("piv: certificate object %06X without a certificate", (unsigned)tag);
		goto out;
	}
	if (llv_tlv_find(obj.value, obj.len, 0x71, &info) == 0 && info.len == 1 && (info.value[0] & 1)) {
		llv_warn("piv: compressed certificate in %02X not supported; skipped", ref);
		goto out;
	}
	memset(&ks, 0, sizeof(ks));
	ks.drv_ref = ref;
	ks.always_authenticate = always_auth;
	ks.sign = true;
	ks.decrypt = decrypt;
	ks.key_label = key_label;
	if (p11_token_add_cert(tok, cert.value, cert.len, &id, 1, &ks) == CKR_HOST_MEMORY) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (!p->label[0] && (ref == 0x9A || ref == 0x9C) &&
	    p11_cert_token_label(cert.value, cert.len, p->label, sizeof(p->label)) != 0)
		p->label[0] = '\0';
out:
	llv_buf_free(&resp);
	return rv;
}

static CK_RV piv_load_objects(void *priv, struct p11_token *tok)
{
	struct piv *p = priv;
	CK_RV rv;
	unsigned retired;

	rv = p11_card_begin(p->card);
	if (rv != CKR_OK)
		return rv;
	read_chuid(p);
	for (size_t i = 0; i < sizeof(piv_slots) / sizeof(piv_slots[0]) && rv == CKR_OK; i++) {
		const struct piv_slot *s = &piv_slots[i];

		rv = add_slot_cert(p, tok, s->ref, s->cert_tag, s->key_label, s->always_auth,
		                   s->decrypt, (uint8_t)(i + 1));
	}
	retired = rv == CKR_OK ? retired_on_card(p) : 0;
	for (unsigned i = 0; i < retired && rv == CKR_OK; i++) {
		char label[32];

		snprintf(label, sizeof(label), "RETIRED%u key", i + 1);
		rv = add_slot_cert(p, tok, (uint8_t)(0x82 + i), 0x5FC10D + i, label, false, true,
		                   (uint8_t)(5 + i));
	}
	p11_card_end(p->card);
	if (!p->label[0])
		snprintf(p->label, sizeof(p->label), "PIV");
	return rv;
}

/* Counters: (left, max) of PIN or PUK; -1 when unknown. */
static CK_RV counters(struct piv *p, uint8_t ref, int *left, int *max)
{
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv;

	*left = *max = -1;
	if (p->quirks & Q_YK_METADATA) {
		struct llv_tlv t;

		rv = cmd(p, INS_YK_METADATA, 0x00, ref, NULL, 0, true, &resp, &sw);
		if (rv == CKR_OK && sw == 0x9000 && llv_tlv_find(resp.data, resp.len, 0x06, &t) == 0 &&
		    t.len == 2) {
			*max = t.value[0];
			*left = t.value[1];
		}
		llv_buf_free(&resp);
		return rv;
	}
	if (ref != REF_PIN)
		return CKR_OK;     /* no standard way to read the PUK counter */
	rv = cmd(p, INS_VERIFY, 0x00, REF_PIN, NULL, 0, false, &resp, &sw);
	llv_buf_free(&resp);
	if (rv != CKR_OK)
		return rv;
	if ((sw & 0xFFF0) == 0x63C0)
		*left = sw & 0x0F;
	else if (sw == 0x6983)
		*left = 0;
	if (*left > p->pin_max)
		p->pin_max = *left;
	*max = p->pin_max;
	return CKR_OK;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static CK_RV piv_token_info(void *priv, CK_TOKEN_INFO *info)
{
	struct piv *p = priv;
	int ul, um, sl = -1, sm = -1;
	CK_RV rv = CKR_OK;

	p11_pad(info->label, sizeof(info->label), p->label);
	p11_pad(info->model, sizeof(info->model), p->model);
	p11_pad(info->serialNumber, sizeof(info->serialNumber), p->serial);
	info->ulMinPinLen = 6;
	info->ulMaxPinLen = 8;
	if (p->counters_valid && ms_since(&p->counters_at) < COUNTERS_TTL_MS) {
		ul = p->ul, um = p->um, sl = p->sl, sm = p->sm;
	} else {
		rv = counters(p, REF_PIN, &ul, &um);
		if (rv == CKR_OK && (p->quirks & Q_YK_METADATA))
			rv = counters(p, REF_PUK, &sl, &sm);
		if (rv != CKR_OK)
			return rv;
		p->ul = ul, p->um = um, p->sl = sl, p->sm = sm;
		p->counters_valid = true;
		clock_gettime(CLOCK_MONOTONIC, &p->counters_at);
	}
	info->flags |= p11_pin_flags(ul, um, sl, sm);
	return CKR_OK;
}

static void piv_key_sizes(void *priv, CK_ULONG *rsa_min, CK_ULONG *rsa_max, CK_ULONG *ec_min,
                          CK_ULONG *ec_max)
{
	/* SP 800-78-4: RSA 1024 (legacy) and 2048, ECC P-256 and P-384 */
	*rsa_min = 1024;
	*rsa_max = 2048;
	*ec_min = 256;
	*ec_max = 384;
}

static void wipe_puk(struct piv *p)
{
	if (p->puk)
		llv_secure_free(p->puk, PIV_PIN_FIELD);
	p->puk = NULL;
}

static CK_RV verify_pin(struct piv *p, const uint8_t *pin, size_t len)
{
	uint8_t field[PIV_PIN_FIELD];
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv = pin_field(pin, len, field);

	if (rv != CKR_OK)
		return rv;
	rv = cmd(p, INS_VERIFY, 0x00, REF_PIN, field, sizeof(field), false, &resp, &sw);
	llv_wipe(field, sizeof(field));
	llv_buf_free(&resp);
	return rv == CKR_OK ? pin_sw(sw) : rv;
}

static CK_RV piv_login(void *priv, CK_USER_TYPE user, const struct p11_object *key,
                       const uint8_t *pin, size_t len)
{
	struct piv *p = priv;
	uint8_t both[2 * PIV_PIN_FIELD];
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv;

	if (user != CKU_SO)
		return verify_pin(p, pin, len);
	/* SO = PUK: CHANGE REFERENCE DATA 81 PUK -> PUK checks it on the card
	 * (counted like any PUK try) without changing it */
	rv = pin_field(pin, len, both);
	if (rv != CKR_OK)
		return rv;
	memcpy(both + PIV_PIN_FIELD, both, PIV_PIN_FIELD);
	rv = cmd(p, INS_CHANGE_REFERENCE, 0x00, REF_PUK, both, sizeof(both), false, &resp, &sw);
	llv_buf_free(&resp);
	if (rv == CKR_OK)
		rv = pin_sw(sw);
	if (rv == CKR_OK) {
		wipe_puk(p);
		p->puk = llv_secure_alloc(PIV_PIN_FIELD);
		if (p->puk)
			memcpy(p->puk, both, PIV_PIN_FIELD);
		else
			rv = CKR_HOST_MEMORY;
	}
	llv_wipe(both, sizeof(both));
	return rv;
}

static CK_RV piv_logout(void *priv)
{
	struct piv *p = priv;
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv;

	wipe_puk(p);
	/* VERIFY with P1 = FF: reset the PIN's security status (SP 800-73-4 3.2.1) */
	rv = cmd(p, INS_VERIFY, 0xFF, REF_PIN, NULL, 0, false, &resp, &sw);
	llv_buf_free(&resp);
	return rv;
}

static CK_RV piv_set_pin(void *priv, CK_USER_TYPE user, const uint8_t *old_pin, size_t old_len,
                         const uint8_t *new_pin, size_t new_len)
{
	struct piv *p = priv;
	uint8_t both[2 * PIV_PIN_FIELD];
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv;

	rv = pin_field(old_pin, old_len, both);
	if (rv == CKR_OK)
		rv = pin_field(new_pin, new_len, both + PIV_PIN_FIELD);
	if (rv == CKR_OK)
		rv = cmd(p, INS_CHANGE_REFERENCE, 0x00, user == CKU_SO ? REF_PUK : REF_PIN, both,
		         sizeof(both), false, &resp, &sw);
	if (rv == CKR_OK) {
		rv = pin_sw(sw);
		if (rv == CKR_OK && user == CKU_SO && p->puk)
			memcpy(p->puk, both + PIV_PIN_FIELD, PIV_PIN_FIELD);
	}
	llv_wipe(both, sizeof(both));
	llv_buf_free(&resp);
	return rv;
}

static CK_RV piv_init_pin(void *priv, const uint8_t *new_pin, size_t new_len)
{
	struct piv *p = priv;
	uint8_t both[2 * PIV_PIN_FIELD];
	struct llv_buf resp = LLV_BUF_INIT;
	uint16_t sw = 0;
	CK_RV rv;

	if (!p->puk)
		return CKR_USER_NOT_LOGGED_IN;
	memcpy(both, p->puk, PIV_PIN_FIELD);
	rv = pin_field(new_pin, new_len, both + PIV_PIN_FIELD);
	if (rv == CKR_OK)
		rv = cmd(p, INS_RESET_RETRY, 0x00, REF_PIN, both, sizeof(both), false, &resp, &sw);
	if (rv == CKR_OK)
		rv = pin_sw(sw);
	llv_wipe(both, sizeof(both));
	llv_buf_free(&resp);
	return rv;
}

static uint8_t alg_of(const struct p11_object *key)
{
	CK_ULONG bits = p11_object_key_bits(key);

	if (p11_object_key_type(key) == CKK_EC)
		return bits == 256 ? 0x11 : bits == 384 ? 0x14 : 0;
	switch (bits) {
	case 1024: return 0x06;
	case 2048: return 0x07;
	case 3072: return 0x05;
	case 4096: return 0x16;
	default: return 0;
	}
}

/* DER ECDSA-Sig-Value -> r || s of n bytes each. */
static CK_RV ecdsa_raw(const uint8_t *der, size_t len, size_t n, uint8_t *out)
{
	const unsigned char *q = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)len);
	const BIGNUM *r, *s;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!sig)
		return rv;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)n) == (int)n && BN_bn2binpad(s, out + n, (int)n) == (int)n)
		rv = CKR_OK;
	ECDSA_SIG_free(sig);
	return rv;
}

static CK_RV piv_sign(void *priv, const struct p11_object *key, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
	struct piv *p = priv;
	uint8_t alg = alg_of(key);
	size_t fbytes = (p11_object_key_bits(key) + 7) / 8;
	uint8_t challenge[512];
	size_t clen;
	struct llv_buf req, resp;
	struct llv_tlv outer, sig;
	uint16_t sw = 0;
	CK_RV rv;

	if (!alg)
		return CKR_KEY_SIZE_RANGE;
	if (p11_object_key_type(key) == CKK_EC) {
		/* the hash as an integer of the field size: truncate or left-pad */
		memset(challenge, 0, fbytes);
		if (in_len >= fbytes)
			memcpy(challenge, in, fbytes);
		else
			memcpy(challenge + fbytes - in_len, in, in_len);
		clen = fbytes;
	} else {
		if (in_len != fbytes || in_len > sizeof(challenge))
			return CKR_DATA_LEN_RANGE;
		memcpy(challenge, in, in_len);
		clen = in_len;
	}
	llv_buf_init_secret(&req);
	llv_buf_init_secret(&resp);
	/* 7C { 82 00, 81 challenge } */
	{
		struct llv_buf inner = LLV_BUF_INIT;

		llv_buf_init_secret(&inner);
		llv_tlv_put(&inner, 0x82, NULL, 0);
		llv_tlv_put(&inner, 0x81, challenge, clen);
		llv_tlv_put(&req, 0x7C, inner.data, inner.len);
		llv_buf_free(&inner);
	}
	llv_wipe(challenge, sizeof(challenge));
	if (!llv_buf_ok(&req)) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = cmd(p, INS_GENERAL_AUTH, alg, (uint8_t)p11_object_key_ref(key), req.data, req.len, true,
	         &resp, &sw);
	if (rv != CKR_OK)
		goto out;
	if (sw == 0x6982) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (sw == 0x6A88 || sw == 0x6A86) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (sw != 0x9000) {
		llv_warn("piv: GENERAL AUTHENTICATE answered %04X", sw);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (llv_tlv_parse(resp.data, resp.len, &outer) != 0 || outer.tag != 0x7C ||
	    llv_tlv_find(outer.value, outer.len, 0x82, &sig) != 0) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (p11_object_key_type(key) == CKK_EC) {
		if (*out_len < 2 * fbytes) {
			rv = CKR_BUFFER_TOO_SMALL;
			goto out;
		}
		rv = ecdsa_raw(sig.value, sig.len, fbytes, out);
		*out_len = 2 * fbytes;
	} else {
		if (sig.len != fbytes || *out_len < fbytes) {
			rv = CKR_DEVICE_ERROR;
			goto out;
		}
		memcpy(out, sig.value, fbytes);
		*out_len = fbytes;
	}
out:
	llv_buf_free(&req);
	llv_buf_free(&resp);
	return rv;
}

static void piv_release(void *priv)
{
	struct piv *p = priv;

	if (!p)
		return;
	p11_card_on_reset(p->card, NULL, NULL);
	wipe_puk(p);
	free(p);
}

const struct p11_driver p11_driver_piv = {
	.name = "piv",
	.kind = P11_DRIVER_CARD,
	.probe = piv_probe,
	.load_objects = piv_load_objects,
	.token_info = piv_token_info,
	.key_sizes = piv_key_sizes,
	.login = piv_login,
	.logout = piv_logout,
	.set_pin = piv_set_pin,
	.init_pin = piv_init_pin,
	.sign = piv_sign,
	.random = NULL,
	.release = piv_release,
};
