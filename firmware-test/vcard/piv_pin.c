/* PIN and PUK (SP 800-73-4 3.2.1, 3.2.2, 3.2.3): VERIFY, CHANGE REFERENCE
 * DATA and RESET RETRY COUNTER, with their retry counters. PINs are compared
 * in constant time, wiped after use and never logged. */
#include "piv_internal.h"

#include <string.h>

#include "log.h"
#include "secmem.h"

/* A PIN field is 6 to 8 characters padded to 8 bytes with FF. The PIV PIN is
 * digits only (SP 800-73-4 2.4.3); the PUK may be any bytes but FF. */
bool piv_pin_format_ok(const uint8_t *v, bool digits_only)
{
	size_t n = 0;

	while (n < PIV_PIN_LEN && v[n] != 0xFF) {
		if (digits_only && (v[n] < '0' || v[n] > '9'))
			return false;
		n++;
	}
	if (n < 6)
		return false;
	for (size_t i = n; i < PIV_PIN_LEN; i++)
		if (v[i] != 0xFF)
			return false;
	return true;
}

bool piv_pin_from_text(const char *text, bool digits_only, uint8_t out[PIV_PIN_LEN])
{
	size_t n = strlen(text);

	if (n < 6 || n > PIV_PIN_LEN)
		return false;
	memset(out, 0xFF, PIV_PIN_LEN);
	memcpy(out, text, n);
	if (!piv_pin_format_ok(out, digits_only)) {
		llv_wipe(out, PIV_PIN_LEN);
		return false;
	}
	return true;
}

static struct piv_ref *ref_of(struct piv_applet *piv, uint8_t p2)
{
	if (p2 == PIV_REF_PIN)
		return &piv->pin;
	if (p2 == PIV_REF_PUK)
		return &piv->puk;
	return NULL;
}

static uint16_t tries_sw(uint8_t left)
{
	return (uint16_t)(SW_VERIFY_FAILED | (left > 15 ? 15 : left));
}

/* Compares a candidate with the reference; counts a failure or resets the
 * counter. Returns SW_OK, 63Cx or 6983. The caller checked the format. */
static uint16_t check_ref(struct piv_applet *piv, struct piv_ref *ref, const uint8_t *candidate)
{
	if (ref->left == 0)
		return SW_AUTH_METHOD_BLOCKED;
	if (llv_ct_memcmp(ref->value, candidate, PIV_PIN_LEN) != 0) {
		ref->left--;
		piv->dirty = true;
		llv_info("piv: wrong %s, %u tries left", ref == &piv->pin ? "PIN" : "PUK", ref->left);
		return tries_sw(ref->left);
	}
	if (ref->left != ref->max) {
		ref->left = ref->max;
		piv->dirty = true;
	}
	return SW_OK;
}

uint16_t piv_cmd_verify(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct piv_ref *ref;
	bool is_pin = apdu->p2 == PIV_REF_PIN;
	uint16_t sw;

	(void)resp;
	if (apdu->p1 != 0x00 && apdu->p1 != 0xFF)
		return SW_INCORRECT_P1P2;
	ref = ref_of(piv, apdu->p2);
	if (ref == NULL)
		return SW_REFERENCE_NOT_FOUND;

	if (apdu->p1 == 0xFF) {
		/* Reset the security status of the reference (SP 800-73-4 3.2.1). */
		if (apdu->lc != 0)
			return SW_WRONG_LENGTH;
		if (is_pin) {
			piv->pin_verified = false;
			piv->pin_always = false;
		}
		return SW_OK;
	}
	if (apdu->lc == 0) {
		/* Status query: verified, blocked or the tries left. */
		if (ref->left == 0)
			return SW_AUTH_METHOD_BLOCKED;
		if (is_pin && piv->pin_verified)
			return SW_OK;
		return tries_sw(ref->left);
	}
	if (apdu->lc != PIV_PIN_LEN)
		return SW_WRONG_LENGTH;
	if (ref->left == 0)
		return SW_AUTH_METHOD_BLOCKED;
	if (!piv_pin_format_ok(apdu->data, is_pin))
		return SW_WRONG_DATA;
	sw = check_ref(piv, ref, apdu->data);
	if (is_pin) {
		piv->pin_verified = sw == SW_OK;
		piv->pin_always = sw == SW_OK;
	}
	return sw;
}

uint16_t piv_cmd_change_reference(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	struct piv_ref *ref;
	bool is_pin = apdu->p2 == PIV_REF_PIN;
	uint16_t sw;

	(void)resp;
	if (apdu->p1 != 0x00)
		return SW_INCORRECT_P1P2;
	ref = ref_of(piv, apdu->p2);
	if (ref == NULL)
		return SW_REFERENCE_NOT_FOUND;
	if (apdu->lc != 2 * PIV_PIN_LEN)
		return SW_WRONG_LENGTH;
	if (ref->left == 0)
		return SW_AUTH_METHOD_BLOCKED;
	if (!piv_pin_format_ok(apdu->data, is_pin) || !piv_pin_format_ok(apdu->data + PIV_PIN_LEN, is_pin))
		return SW_WRONG_DATA;
	sw = check_ref(piv, ref, apdu->data);
	if (sw != SW_OK) {
		if (is_pin) {
			piv->pin_verified = false;
			piv->pin_always = false;
		}
		return sw;
	}
	memcpy(ref->value, apdu->data + PIV_PIN_LEN, PIV_PIN_LEN);
	ref->left = ref->max;
	piv->dirty = true;
	llv_info("piv: %s changed", is_pin ? "PIN" : "PUK");
	return SW_OK;
}

uint16_t piv_cmd_reset_retry(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp)
{
	uint16_t sw;

	(void)resp;
	if (apdu->p1 != 0x00)
		return SW_INCORRECT_P1P2;
	if (apdu->p2 != PIV_REF_PIN)
		return SW_REFERENCE_NOT_FOUND;
	if (apdu->lc != 2 * PIV_PIN_LEN)
		return SW_WRONG_LENGTH;
	if (piv->puk.left == 0)
		return SW_AUTH_METHOD_BLOCKED;
	if (!piv_pin_format_ok(apdu->data, false) || !piv_pin_format_ok(apdu->data + PIV_PIN_LEN, true))
		return SW_WRONG_DATA;
	sw = check_ref(piv, &piv->puk, apdu->data);
	if (sw != SW_OK)
		return sw;
	memcpy(piv->pin.value, apdu->data + PIV_PIN_LEN, PIV_PIN_LEN);
	piv->pin.left = piv->pin.max;
	piv->pin_verified = false;
	piv->pin_always = false;
	piv->dirty = true;
	llv_info("piv: PIN reset with the PUK");
	return SW_OK;
}
