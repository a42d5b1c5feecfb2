/* GENERAL AUTHENTICATE (SP 800-73-4 3.2.4): the dynamic authentication
 * template 7C, signatures and decryption with RSA (raw private-key operation
 * on a block the client padded), ECDSA over a hash, ECDH (SP 800-73-4
 * 3.2.4, tag 85) and, for key 9B, the management key (piv_mgmt.c). Each key's
 * PIN policy is enforced here: 9C (PIN always) consumes its VERIFY. */
#include "piv_internal.h"

#include <string.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

/* Splits 7C { 80 | 81 | 82 | 85 ... } into da. 0 or a SW. */
static uint16_t parse_dyn_auth(const struct vcard_apdu *apdu, struct piv_dyn_auth *da)
{
	struct llv_tlv outer, t;
	struct llv_tlv_iter it;

	memset(da, 0, sizeof(*da));
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	if (llv_tlv_parse(apdu->data, apdu->lc, &outer) != 0 || outer.raw_len != apdu->lc || outer.tag != 0x7C)
		return SW_WRONG_DATA;
	llv_tlv_iter_init(&it, outer.value, outer.len);
	while (llv_tlv_next(&it, &t)) {
		bool *has;
		const uint8_t **v;
		size_t *len;

		switch (t.tag) {
		case 0x80:
			has = &da->has_witness, v = &da->witness, len = &da->witness_len;
			break;
		case 0x81:
			has = &da->has_challenge, v = &da->challenge, len = &da->challenge_len;
			break;
		case 0x82:
			has = &da->has_response, v = &da->response, len = &da->response_len;
			break;
		case 0x85:
			has = &da->has_exponent, v = &da->exponent, len = &da->exponent_len;
			break;
		default:
			return SW_WRONG_DATA;
		}
		if (*has)
			return SW_WRONG_DATA;
		*has = true;
		*v = t.value;
		*len = t.len;
	}
	if (it.failed)
		return SW_WRONG_DATA;
	return 0;
}

/* Checks and uses up the PIN status a key's policy asks for. */
static bool pin_policy_satisfied(struct piv_applet *piv, uint8_t slot, const struct piv_key *k)
{
	uint8_t policy = k->pin_policy != PIV_PIN_POLICY_DEFAULT ? k->pin_policy : piv_slot_default_pin_policy(slot);

	switch (policy) {
	case PIV_PIN_POLICY_NEVER:
		return true;
	case PIV_PIN_POLICY_ALWAYS:
		if (!piv->pin_verified || !piv->pin_always)
			return false;
		piv->pin_always = false;        /* one VERIFY, one use */
		return true;
	default:
		return piv->pin_verified;
	}
}

uint16_t piv_cmd_general_authenticate(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct piv_dyn_auth da;
	struct piv_key *k;
	struct llv_buf out;
	uint16_t sw;
	bool ec;

	if (apdu->p2 != PIV_KEY_MGMT && piv_slot_index(apdu->p2) < 0)
		return SW_INCORRECT_P1P2;
	if ((sw = parse_dyn_auth(apdu, &da)) != 0) {
		piv->mgmt_step = PIV_MGMT_IDLE;
		return sw;
	}
	if (apdu->p2 == PIV_KEY_MGMT)
		return piv_mgmt_authenticate(piv, apdu->p1, &da, resp);

	k = piv_key_get(piv, apdu->p2);
	if (k == NULL || k->pkey == NULL)
		return SW_REFERENCE_NOT_FOUND;
	if (apdu->p1 != k->alg)
		return SW_WRONG_DATA;
	/* Request: 82 00 (give me the response) with 81 (data to sign or
	 * decrypt) or, for EC keys, 85 (the other party's point). */
	ec = k->alg == PIV_ALG_ECCP256 || k->alg == PIV_ALG_ECCP384;
	if (!da.has_response || da.response_len != 0 || da.has_witness || da.has_challenge == da.has_exponent ||
	    (da.has_exponent && !ec))
		return SW_WRONG_DATA;
	if (!pin_policy_satisfied(piv, apdu->p2, k))
		return SW_SECURITY_STATUS_NOT_SATISFIED;

	llv_buf_init_secret(&out);
	if (da.has_exponent)
		sw = piv_key_ecdh(k->pkey, da.exponent, da.exponent_len, &out);
	else if (ec)
		sw = piv_key_ecdsa(k->pkey, da.challenge, da.challenge_len, &out);
	else
		sw = piv_key_rsa_raw(k->pkey, da.challenge, da.challenge_len, &out);
	if (sw == SW_OK) {
		/* 7C { 82 out }, written in place. */
		llv_tlv_put_tag(resp, 0x7C);
		llv_tlv_put_len(resp, 1 + llv_tlv_len_size(out.len) + out.len);
		llv_tlv_put(resp, 0x82, out.data, out.len);
		if (!llv_buf_ok(resp))
			sw = SW_MEMORY_FAILURE;
	}
	llv_buf_free(&out);
	return sw;
}
