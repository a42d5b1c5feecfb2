/* Commands that put a private key in a slot: GENERATE ASYMMETRIC KEY PAIR
 * (SP 800-73-4 3.3.2) and the YubiKey IMPORT ASYMMETRIC KEY (INS FE). Both
 * need the management key. */
#include "piv_internal.h"

#include <string.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

static bool policies_ok(uint8_t pin_policy, uint8_t touch_policy)
{
	return pin_policy <= PIV_PIN_POLICY_ALWAYS && touch_policy <= PIV_TOUCH_POLICY_MAX;
}

/* 00 47 00 slot, data AC { 80 alg [AA pin policy] [AB touch policy] }. */
uint16_t piv_cmd_generate(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_tlv tmpl, t;
	struct llv_tlv_iter it;
	bool has_alg = false;
	uint8_t alg = 0, pin_policy = 0, touch_policy = 0;
	EVP_PKEY *pkey;

	if (apdu->p1 != 0x00 || apdu->p2 == PIV_KEY_MGMT || piv_slot_index(apdu->p2) < 0)
		return SW_INCORRECT_P1P2;
	if (!piv->mgmt_authenticated)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	if (llv_tlv_parse(apdu->data, apdu->lc, &tmpl) != 0 || tmpl.raw_len != apdu->lc || tmpl.tag != 0xAC)
		return SW_WRONG_DATA;
	llv_tlv_iter_init(&it, tmpl.value, tmpl.len);
	while (llv_tlv_next(&it, &t)) {
		if (t.tag == 0x81)
			continue;                   /* algorithm parameter: none we use */
		if ((t.tag != 0x80 && t.tag != 0xAA && t.tag != 0xAB) || t.len != 1)
			return SW_WRONG_DATA;
		if (t.tag == 0x80) {
			alg = t.value[0];
			has_alg = true;
		} else if (t.tag == 0xAA) {
			pin_policy = t.value[0];
		} else {
			touch_policy = t.value[0];
		}
	}
	if (it.failed || !has_alg || !piv_alg_is_asym(alg) || !policies_ok(pin_policy, touch_policy))
		return SW_WRONG_DATA;
	pkey = piv_key_generate(alg);
	if (pkey == NULL)
		return SW_UNKNOWN;
	if (piv_key_put_public(resp, pkey, true) != 0) {
		EVP_PKEY_free(pkey);
		return SW_MEMORY_FAILURE;
	}
	piv_key_store(piv, apdu->p2, pkey, alg, pin_policy, touch_policy, PIV_ORIGIN_GENERATED);
	llv_info("piv: key generated in slot %02X (algorithm %02X)", apdu->p2, alg);
	return SW_OK;
}

/* YubiKey IMPORT: 00 FE alg slot, data 01 p 02 q 03 dP 04 dQ 05 qInv (RSA)
 * or 06 d (EC), then optional AA pin policy and AB touch policy. */
uint16_t piv_cmd_import_key(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct llv_tlv t, parts[7];
	struct llv_tlv_iter it;
	bool have[7] = { false };
	uint8_t alg = apdu->p1, pin_policy = 0, touch_policy = 0;
	bool rsa = alg == PIV_ALG_RSA1024 || alg == PIV_ALG_RSA2048;
	EVP_PKEY *pkey;

	(void)resp;
	if (!piv_alg_is_asym(alg) || apdu->p2 == PIV_KEY_MGMT || piv_slot_index(apdu->p2) < 0)
		return SW_INCORRECT_P1P2;
	if (!piv->mgmt_authenticated)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	if (apdu->lc == 0)
		return SW_WRONG_LENGTH;
	llv_tlv_iter_init(&it, apdu->data, apdu->lc);
	while (llv_tlv_next(&it, &t)) {
		if (t.tag >= 0x01 && t.tag <= 0x06) {
			if (have[t.tag] || t.len == 0)
				return SW_WRONG_DATA;
			have[t.tag] = true;
			parts[t.tag] = t;
		} else if ((t.tag == 0xAA || t.tag == 0xAB) && t.len == 1) {
			if (t.tag == 0xAA)
				pin_policy = t.value[0];
			else
				touch_policy = t.value[0];
		} else {
			return SW_WRONG_DATA;
		}
	}
	if (it.failed || !policies_ok(pin_policy, touch_policy))
		return SW_WRONG_DATA;
	if (rsa) {
		if (!have[1] || !have[2] || !have[3] || !have[4] || !have[5] || have[6])
			return SW_WRONG_DATA;
		pkey = piv_key_from_rsa_crt(alg, parts[1].value, parts[1].len, parts[2].value, parts[2].len,
					    parts[3].value, parts[3].len, parts[4].value, parts[4].len,
					    parts[5].value, parts[5].len);
	} else {
		if (!have[6] || have[1] || have[2] || have[3] || have[4] || have[5])
			return SW_WRONG_DATA;
		pkey = piv_key_from_ec_scalar(alg, parts[6].value, parts[6].len);
	}
	if (pkey == NULL) {
		llv_info("piv: IMPORT refused: inconsistent key components for algorithm %02X", alg);
		return SW_WRONG_DATA;
	}
	piv_key_store(piv, apdu->p2, pkey, alg, pin_policy, touch_policy, PIV_ORIGIN_IMPORTED);
	llv_info("piv: key imported into slot %02X (algorithm %02X)", apdu->p2, alg);
	return SW_OK;
}
