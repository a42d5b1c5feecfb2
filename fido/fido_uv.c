/* User verification for a ceremony: whether to use the key's PIN, its
 * built-in UV, or only presence; the PIN is asked through the caller's
 * callback at most once and never retried or guessed. */
#include <string.h>

#include "fido_internal.h"
#include "log.h"
#include "secmem.h"

#define PIN_MAX 256

void fido_bridge_uv_clear(struct fido_bridge_uv *uv)
{
	if (uv->pin != NULL)
		llv_secure_free(uv->pin, PIN_MAX);
	uv->pin = NULL;
}

int fido_bridge_uv_prepare(struct fido_bridge_ceremony *c, fido_dev_t *dev, int uv_level,
			   bool rk, struct fido_bridge_uv *out)
{
	bool has_pin = fido_dev_has_pin(dev), has_uv = fido_dev_has_uv(dev);
	bool want;
	int retries = -1;

	out->pin = NULL;
	out->uv = FIDO_OPT_OMIT;
	/* Browsers verify the user for "required", and for "preferred" when
	 * the key can; a CTAP 2.0 key with a PIN also wants it for a
	 * discoverable credential. */
	want = uv_level == 2 || (uv_level == 1 && (has_pin || has_uv)) || (rk && has_pin);
	if (!want)
		return FIDO_BRIDGE_OK;
	if (has_uv && uv_level >= 1) {
		out->uv = FIDO_OPT_TRUE;
		return FIDO_BRIDGE_OK;
	}
	if (!has_pin) {
		fido_bridge_set_error(c, "la llave no tiene PIN ni verificación integrada");
		return FIDO_BRIDGE_ERR_PIN_REQUIRED;
	}
	if (c->pin_cb == NULL) {
		fido_bridge_set_error(c, "la llave pide su PIN y no hay a quién preguntarlo");
		return FIDO_BRIDGE_ERR_PIN_REQUIRED;
	}
	if (fido_dev_get_retry_count(dev, &retries) != FIDO_OK)
		retries = -1;
	if (retries == 0) {
		fido_bridge_set_error(c, "el PIN de la llave está bloqueado");
		return FIDO_BRIDGE_ERR_PIN_BLOCKED;
	}
	if ((out->pin = llv_secure_alloc(PIN_MAX)) == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	if (c->pin_cb(c->pin_arg, c->device ? c->device : "", retries, out->pin, PIN_MAX) != 0) {
		fido_bridge_uv_clear(out);
		fido_bridge_set_error(c, "no se dio el PIN");
		return FIDO_BRIDGE_ERR_CANCELLED;
	}
	out->pin[PIN_MAX - 1] = '\0';
	return FIDO_BRIDGE_OK;
}
