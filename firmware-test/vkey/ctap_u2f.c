/* CTAP1/U2F raw messages (FIDO U2F Raw Message Formats v1.2) as ISO 7816
 * APDUs, short or extended: REGISTER (INS 01), AUTHENTICATE (INS 02, P1 07
 * check-only, 03 enforce user presence, 08 don't enforce) and VERSION (INS
 * 03). Key handles are ordinary credential IDs bound to the application
 * parameter, so CTAP2 getAssertion can use U2F registrations too. */
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"

#define INS_REGISTER     0x01
#define INS_AUTHENTICATE 0x02
#define INS_VERSION      0x03

struct apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
};

/* Splits a short or extended APDU (cases 1-4). -1 on a length mismatch. */
static int parse_apdu(const uint8_t *b, size_t len, struct apdu *ap)
{
	memset(ap, 0, sizeof(*ap));
	if (len < 4)
		return -1;
	ap->cla = b[0];
	ap->ins = b[1];
	ap->p1 = b[2];
	ap->p2 = b[3];
	ap->data = b + 4;
	if (len == 4 || len == 5)          /* case 1, case 2 short */
		return 0;
	if (b[4] != 0) {                   /* short Lc */
		ap->lc = b[4];
		ap->data = b + 5;
		return len == 5 + ap->lc || len == 6 + ap->lc ? 0 : -1;
	}
	if (len < 7)
		return -1;
	if (len == 7)                      /* case 2 extended */
		return 0;
	ap->lc = ((size_t)b[5] << 8) | b[6];
	ap->data = b + 7;
	if (ap->lc == 0)
		/* Lc "00 0000" + Le "0000": how python-fido2 frames VERSION (a
		 * request without data); U2F keys accept it (found by the
		 * python-fido2 socket test). */
		return len == 9 ? 0 : -1;
	return len == 7 + ap->lc || len == 9 + ap->lc ? 0 : -1;
}

static void sw(struct llv_buf *resp, uint16_t v)
{
	llv_buf_put_be16(resp, v);
}

static uint16_t do_register(struct ctap_auth *a, const struct apdu *ap, struct llv_buf *resp)
{
	const uint8_t *chal = ap->data, *app = ap->data + 32;
	struct ctap_cred c;
	struct llv_buf msg = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	uint8_t pub[65];
	uint16_t res = 0x6F00;

	if (ap->lc != 64)
		return U2F_SW_WRONG_LENGTH;
	if (ctap_user_presence(a) != CTAP2_OK)
		return U2F_SW_CONDITIONS_NOT_SATISFIED;
	memset(&c, 0, sizeof(c));
	c.alg = COSE_ES256;
	c.cred_protect = 1;
	memcpy(c.rp_id_hash, app, 32);
	if (ctap_cred_create(a, &c) != 0 || ctap_key_p256_point(c.priv, pub) != 0)
		goto done;
	llv_buf_put_u8(&msg, 0x00);
	llv_buf_put(&msg, app, 32);
	llv_buf_put(&msg, chal, 32);
	llv_buf_put(&msg, c.id, CTAP_CRED_ID_LEN);
	llv_buf_put(&msg, pub, 65);
	if (!llv_buf_ok(&msg) || ctap_key_sign(COSE_ES256, a->p.batch_priv, msg.data, msg.len, &sig) != 0)
		goto done;
	llv_buf_put_u8(resp, 0x05);
	llv_buf_put(resp, pub, 65);
	llv_buf_put_u8(resp, CTAP_CRED_ID_LEN);
	llv_buf_put(resp, c.id, CTAP_CRED_ID_LEN);
	llv_buf_put(resp, a->p.batch_cert, a->p.batch_cert_len);
	llv_buf_put(resp, sig.data, sig.len);
	res = U2F_SW_NO_ERROR;
done:
	OPENSSL_cleanse(&c, sizeof(c));
	llv_buf_free(&msg);
	llv_buf_free(&sig);
	return res;
}

static uint16_t do_authenticate(struct ctap_auth *a, const struct apdu *ap, struct llv_buf *resp)
{
	const uint8_t *chal = ap->data, *app = ap->data + 32;
	struct ctap_cred c;
	struct llv_buf msg = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	uint8_t flags = 0;
	uint32_t counter;
	uint16_t res = 0x6F00;
	int idx;

	if (ap->lc < 65 || ap->lc != 65u + ap->data[64])
		return U2F_SW_WRONG_LENGTH;
	if (ap->p1 != 0x07 && ap->p1 != 0x03 && ap->p1 != 0x08)
		return U2F_SW_INCORRECT_P1P2;
	if (ctap_cred_resolve(a, ap->data + 65, ap->data[64], app, &c, &idx) != 0)
		return U2F_SW_WRONG_DATA;
	if (c.alg != COSE_ES256 || c.cred_protect == 3) {
		OPENSSL_cleanse(&c, sizeof(c));
		return U2F_SW_WRONG_DATA;
	}
	if (ap->p1 == 0x07) {
		OPENSSL_cleanse(&c, sizeof(c));
		return U2F_SW_CONDITIONS_NOT_SATISFIED;
	}
	if (ap->p1 == 0x03) {
		if (ctap_user_presence(a) != CTAP2_OK) {
			OPENSSL_cleanse(&c, sizeof(c));
			return U2F_SW_CONDITIONS_NOT_SATISFIED;
		}
		flags = CTAP_FLAG_UP;
	}
	counter = ctap_next_counter(a);
	llv_buf_put(&msg, app, 32);
	llv_buf_put_u8(&msg, flags);
	llv_buf_put_be32(&msg, counter);
	llv_buf_put(&msg, chal, 32);
	if (!llv_buf_ok(&msg) || ctap_key_sign(COSE_ES256, c.priv, msg.data, msg.len, &sig) != 0)
		goto done;
	llv_buf_put_u8(resp, flags);
	llv_buf_put_be32(resp, counter);
	llv_buf_put(resp, sig.data, sig.len);
	res = U2F_SW_NO_ERROR;
done:
	OPENSSL_cleanse(&c, sizeof(c));
	llv_buf_free(&msg);
	llv_buf_free(&sig);
	return res;
}

void ctap_auth_u2f(struct ctap_auth *a, const uint8_t *apdu, size_t len, struct llv_buf *resp)
{
	struct apdu ap;
	size_t start = resp->len;
	uint16_t res;

	if (parse_apdu(apdu, len, &ap) != 0)
		res = U2F_SW_WRONG_LENGTH;
	else if (ap.cla != 0x00)
		res = U2F_SW_CLA_NOT_SUPPORTED;
	else if (!a->initialised)
		res = 0x6F00;
	else if (ap.ins == INS_REGISTER)
		res = do_register(a, &ap, resp);
	else if (ap.ins == INS_AUTHENTICATE)
		res = do_authenticate(a, &ap, resp);
	else if (ap.ins == INS_VERSION)
		res = ap.lc != 0 ? U2F_SW_WRONG_LENGTH : U2F_SW_NO_ERROR;
	else
		res = U2F_SW_INS_NOT_SUPPORTED;
	if (res == U2F_SW_NO_ERROR && ap.ins == INS_VERSION)
		llv_buf_put_str(resp, "U2F_V2");
	if (res != U2F_SW_NO_ERROR && resp->len > start)
		resp->len = start;      /* no data with an error status */
	sw(resp, res);
}
