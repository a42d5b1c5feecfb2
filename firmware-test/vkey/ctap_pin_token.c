/* pinUvAuthToken state (CTAP 2.1 section 6.5.2.1): one random token per
 * protocol, one shared state (permissions, bound RP, user verified/present
 * flags, usage timer). Obtaining a token resets all of them. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ctap_internal.h"

void ctap_token_reset(struct ctap_auth *a)
{
	for (int i = 0; i < 2; i++)
		if (RAND_bytes(a->token[i], 32) != 1)
			memset(a->token[i], 0, 32);
	memset(&a->ts, 0, sizeof(a->ts));
}

void ctap_token_begin(struct ctap_auth *a, uint8_t permissions, const uint8_t *rp_id_hash)
{
	memset(&a->ts, 0, sizeof(a->ts));
	a->ts.in_use = true;
	a->ts.permissions = permissions;
	a->ts.user_verified = true;
	a->ts.issued_ms = ctap_now(a);
	if (rp_id_hash != NULL) {
		a->ts.has_rp = true;
		memcpy(a->ts.rp_id_hash, rp_id_hash, 32);
	}
}

/* Applies the usage timer: unused for 30 s, or issued 10 min ago. */
static void token_expire(struct ctap_auth *a)
{
	uint64_t age = ctap_now(a) - a->ts.issued_ms;

	if (a->ts.in_use && (age > CTAP_TOKEN_MAX_MS || (!a->ts.used && age > CTAP_TOKEN_INITIAL_MS)))
		memset(&a->ts, 0, sizeof(a->ts));
}

uint8_t ctap_token_check(struct ctap_auth *a, int proto, const uint8_t *msg, size_t msg_len,
			 const uint8_t *param, size_t param_len, uint8_t permission, const uint8_t *rp_id_hash)
{
	token_expire(a);
	if (!a->ts.in_use || !ctap_pp_verify(proto, a->token[proto - 1], msg, msg_len, param, param_len))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if ((a->ts.permissions & permission) != permission)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (a->ts.has_rp && rp_id_hash != NULL && memcmp(a->ts.rp_id_hash, rp_id_hash, 32) != 0)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!a->ts.user_verified)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!a->ts.has_rp && rp_id_hash != NULL) {
		a->ts.has_rp = true;
		memcpy(a->ts.rp_id_hash, rp_id_hash, 32);
	}
	a->ts.used = true;
	return CTAP2_OK;
}

void ctap_token_consume(struct ctap_auth *a)
{
	a->ts.user_verified = false;
	a->ts.permissions &= CTAP_PERM_LBW;
}

int ctap_pin_regenerate(struct ctap_auth *a, int proto)
{
	return ctap_pp_new_key(&a->ka_key[proto - 1]);
}

/* The zero-length pinUvAuthParam probe. */
static uint8_t pin_probe(struct ctap_auth *a)
{
	uint8_t st = ctap_user_presence(a);

	if (st != CTAP2_OK)
		return st;
	return a->p.pin_set ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET;
}

uint8_t ctap_pin_params_parse(const cbor_item_t *req, int64_t param_key, int64_t proto_key, struct ctap_pin_params *pp)
{
	const cbor_item_t *param = ctap_dec_get(req, param_key);
	const cbor_item_t *proto = ctap_dec_get(req, proto_key);
	uint8_t st;

	memset(pp, 0, sizeof(*pp));
	if (param != NULL) {
		if ((st = ctap_dec_bytes(param, &pp->param, &pp->param_len)) != CTAP2_OK)
			return st;
		pp->present = true;
	}
	if (proto != NULL) {
		if ((st = ctap_dec_uint(proto, &pp->proto_raw)) != CTAP2_OK)
			return st;
		pp->has_proto = true;
	}
	return CTAP2_OK;
}

uint8_t ctap_pin_params_check(struct ctap_auth *a, struct ctap_pin_params *pp)
{
	if (!pp->present)
		return CTAP2_OK;
	if (pp->param_len == 0)
		return pin_probe(a);
	if (!pp->has_proto)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (pp->proto_raw != 1 && pp->proto_raw != 2)
		return CTAP1_ERR_INVALID_PARAMETER;
	pp->proto = (int)pp->proto_raw;
	return CTAP2_OK;
}
