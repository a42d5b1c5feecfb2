/* YubiKey PIV extensions that clients (yubico-piv-tool, ykman, OpenSC's
 * YubiKey support) rely on: GET VERSION, GET SERIAL, GET METADATA, SET PIN
 * RETRIES and RESET. IMPORT and SET MANAGEMENT KEY live with their kin
 * (piv_keycmd.c, piv_mgmt.c). */
#include "piv_internal.h"

#include <string.h>

#include "log.h"
#include "secmem.h"
#include "tlv.h"

uint16_t piv_cmd_get_version(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	const uint8_t v[3] = { PIV_VERSION_MAJOR, PIV_VERSION_MINOR, PIV_VERSION_PATCH };

	(void)piv;
	(void)apdu;
	llv_buf_put(resp, v, sizeof(v));
	return llv_buf_ok(resp) ? SW_OK : SW_MEMORY_FAILURE;
}

uint16_t piv_cmd_get_serial(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	(void)apdu;
	llv_buf_put_be32(resp, piv->serial);
	return llv_buf_ok(resp) ? SW_OK : SW_MEMORY_FAILURE;
}

static bool ref_is_default(const struct piv_ref *ref, const char *def)
{
	uint8_t v[PIV_PIN_LEN];
	bool eq;

	memset(v, 0xFF, sizeof(v));
	memcpy(v, def, strlen(def));
	eq = llv_ct_memcmp(v, ref->value, PIV_PIN_LEN) == 0;
	llv_wipe(v, sizeof(v));
	return eq;
}

/* 00 F7 00 ref: 01 algorithm, 02 policies, 03 origin, 04 public key,
 * 05 default value, 06 retries (total, left). */
uint16_t piv_cmd_get_metadata(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	uint8_t v[2];

	if (apdu->p1 != 0x00)
		return SW_INCORRECT_P1P2;
	if (apdu->p2 == PIV_REF_PIN || apdu->p2 == PIV_REF_PUK) {
		const struct piv_ref *ref = apdu->p2 == PIV_REF_PIN ? &piv->pin : &piv->puk;

		llv_tlv_put(resp, 0x01, "\xFF", 1);
		v[0] = ref_is_default(ref, apdu->p2 == PIV_REF_PIN ? "123456" : "12345678");
		llv_tlv_put(resp, 0x05, v, 1);
		v[0] = ref->max;
		v[1] = ref->left;
		llv_tlv_put(resp, 0x06, v, 2);
	} else if (apdu->p2 == PIV_KEY_MGMT) {
		llv_tlv_put(resp, 0x01, &piv->mgmt_alg, 1);
		llv_tlv_put(resp, 0x02, "\x00\x01", 2);     /* touch never */
		v[0] = piv->mgmt_alg == PIV_ALG_3DES && llv_ct_memcmp(piv->mgmt_key, piv_default_mgmt_key, 24) == 0;
		llv_tlv_put(resp, 0x05, v, 1);
	} else {
		struct piv_key *k = piv_key_get(piv, apdu->p2);
		struct llv_buf pub = LLV_BUF_INIT;

		if (k == NULL || k->pkey == NULL)
			return SW_REFERENCE_NOT_FOUND;
		llv_tlv_put(resp, 0x01, &k->alg, 1);
		v[0] = k->pin_policy != PIV_PIN_POLICY_DEFAULT ? k->pin_policy : piv_slot_default_pin_policy(apdu->p2);
		v[1] = k->touch_policy != 0 ? k->touch_policy : 1;
		llv_tlv_put(resp, 0x02, v, 2);
		llv_tlv_put(resp, 0x03, &k->origin, 1);
		if (piv_key_put_public(&pub, k->pkey, false) != 0) {
			llv_buf_free(&pub);
			return SW_MEMORY_FAILURE;
		}
		llv_tlv_put(resp, 0x04, pub.data, pub.len);
		llv_buf_free(&pub);
	}
	return llv_buf_ok(resp) ? SW_OK : SW_MEMORY_FAILURE;
}

/* 00 FA pin-tries puk-tries: needs the management key and the PIN; both
 * codes go back to their defaults. */
uint16_t piv_cmd_set_pin_retries(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	(void)resp;
	if (apdu->p1 == 0 || apdu->p2 == 0)
		return SW_INCORRECT_P1P2;
	if (!piv->mgmt_authenticated || !piv->pin_verified)
		return SW_SECURITY_STATUS_NOT_SATISFIED;
	if (apdu->lc != 0)
		return SW_WRONG_LENGTH;
	(void)piv_pin_from_text("123456", true, piv->pin.value);
	(void)piv_pin_from_text("12345678", false, piv->puk.value);
	piv->pin.max = piv->pin.left = apdu->p1;
	piv->puk.max = piv->puk.left = apdu->p2;
	piv->pin_verified = false;
	piv->pin_always = false;
	piv->dirty = true;
	llv_info("piv: PIN tries %u, PUK tries %u; both reset to defaults", apdu->p1, apdu->p2);
	return SW_OK;
}

/* 00 FB 00 00: back to a fresh card, allowed only when PIN and PUK are both
 * blocked. Keys, certificates and the management key go; the card gets new
 * CHUID, CCC and the other objects of a personalised card; the serial stays. */
uint16_t piv_cmd_reset(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	uint32_t serial = piv->serial;

	(void)resp;
	if (apdu->p1 != 0x00 || apdu->p2 != 0x00)
		return SW_INCORRECT_P1P2;
	if (piv->pin.left != 0 || piv->puk.left != 0)
		return SW_CONDITIONS_NOT_SATISFIED;
	piv_clear_state(piv);
	piv_set_defaults(piv);
	piv->serial = serial;
	piv->dirty = true;
	if (piv_objects_personalize(piv) != 0)
		return SW_MEMORY_FAILURE;
	llv_info("piv: applet reset");
	return SW_OK;
}
