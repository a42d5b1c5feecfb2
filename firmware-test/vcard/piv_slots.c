/* PIV key references (SP 800-73-4 table 4b), the data objects that hold their
 * certificates, and the algorithm identifiers of SP 800-78-4. */
#include "piv_internal.h"

#include <openssl/rand.h>

int piv_slot_index(uint8_t slot)
{
	switch (slot) {
	case PIV_KEY_AUTH:
		return 0;
	case PIV_KEY_SIGN:
		return 1;
	case PIV_KEY_KEYMGMT:
		return 2;
	case PIV_KEY_CARDAUTH:
		return 3;
	default:
		/* Retired key management keys 82..95. */
		if (slot >= 0x82 && slot <= 0x95)
			return 4 + (slot - 0x82);
		return -1;
	}
}

uint8_t piv_slot_at(int index)
{
	static const uint8_t first[4] = { PIV_KEY_AUTH, PIV_KEY_SIGN, PIV_KEY_KEYMGMT, PIV_KEY_CARDAUTH };

	if (index < 0 || index >= PIV_NUM_SLOTS)
		return 0;
	if (index < 4)
		return first[index];
	return (uint8_t)(0x82 + (index - 4));
}

uint32_t piv_slot_cert_tag(uint8_t slot)
{
	switch (slot) {
	case PIV_KEY_AUTH:
		return 0x5FC105;
	case PIV_KEY_SIGN:
		return 0x5FC10A;
	case PIV_KEY_KEYMGMT:
		return 0x5FC10B;
	case PIV_KEY_CARDAUTH:
		return 0x5FC101;
	default:
		if (slot >= 0x82 && slot <= 0x95)
			return 0x5FC10D + (uint32_t)(slot - 0x82);
		return 0;
	}
}

uint8_t piv_slot_default_pin_policy(uint8_t slot)
{
	switch (slot) {
	case PIV_KEY_SIGN:
		return PIV_PIN_POLICY_ALWAYS;
	case PIV_KEY_CARDAUTH:
		return PIV_PIN_POLICY_NEVER;
	default:
		return PIV_PIN_POLICY_ONCE;
	}
}

bool piv_alg_is_asym(uint8_t alg)
{
	return alg == PIV_ALG_RSA1024 || alg == PIV_ALG_RSA2048 || alg == PIV_ALG_ECCP256 || alg == PIV_ALG_ECCP384;
}

size_t piv_sym_key_len(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES_ALT:
	case PIV_ALG_3DES:
		return 24;
	case PIV_ALG_AES128:
		return 16;
	case PIV_ALG_AES192:
		return 24;
	case PIV_ALG_AES256:
		return 32;
	default:
		return 0;
	}
}

bool piv_alg_is_sym(uint8_t alg)
{
	return piv_sym_key_len(alg) != 0;
}

int piv_random(uint8_t *out, size_t len)
{
	if (len > 0x7fffffff)
		return -1;
	return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}
