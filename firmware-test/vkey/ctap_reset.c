/* authenticatorReset (CTAP 2.1 section 6.6) and authenticatorSelection
 * (section 6.9). Reset is allowed only within 10 s of power-up and with
 * user presence; it forgets every credential (a new device secret kills the
 * non-resident ones too) and the PIN, and keeps the AAGUID, the attestation
 * certificates and the signature counter (which never goes back). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ctap_internal.h"
#include "log.h"

uint8_t ctap_cmd_reset(struct ctap_auth *a)
{
	uint8_t st, secret[32];

	if (ctap_now(a) - a->power_up_ms > CTAP_RESET_WINDOW_MS)
		return CTAP2_ERR_NOT_ALLOWED;
	if ((st = ctap_user_presence(a)) != CTAP2_OK)
		return st;
	if (RAND_bytes(secret, sizeof(secret)) != 1)
		return CTAP1_ERR_OTHER;
	memcpy(a->p.device_secret, secret, 32);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(a->p.rk, sizeof(a->p.rk));
	OPENSSL_cleanse(a->p.pin_hash, sizeof(a->p.pin_hash));
	a->p.pin_set = false;
	a->p.pin_retries = CTAP_PIN_RETRIES;
	a->pin_mismatches = 0;
	(void)ctap_pin_regenerate(a, 1);
	(void)ctap_pin_regenerate(a, 2);
	ctap_token_reset(a);
	ctap_mark_dirty(a);
	llv_info("vkey: reset to factory state");
	return CTAP2_OK;
}

uint8_t ctap_cmd_selection(struct ctap_auth *a)
{
	return ctap_user_presence(a);
}
