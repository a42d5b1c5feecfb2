/* authenticatorClientPIN (CTAP 2.1 section 6.5.5): getPINRetries,
 * getKeyAgreement, setPIN, changePIN, getPinToken and
 * getPinUvAuthTokenUsingPinWithPermissions, protocols 1 and 2. 8 retries;
 * three mismatches in a row block PIN use until the next power-up. */
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"
#include "secmem.h"

#define SUB_GET_RETRIES      0x01
#define SUB_GET_KEY_AGREEMENT 0x02
#define SUB_SET_PIN          0x03
#define SUB_CHANGE_PIN       0x04
#define SUB_GET_PIN_TOKEN    0x05
#define SUB_GET_UV_TOKEN     0x06
#define SUB_GET_UV_RETRIES   0x07
#define SUB_GET_PIN_TOKEN_PERMS 0x09

#define SUPPORTED_PERMS (CTAP_PERM_MC | CTAP_PERM_GA | CTAP_PERM_CM)

struct cp_req {
	int proto;
	bool has_proto;
	uint64_t sub;
	const cbor_item_t *key_agreement;
	const uint8_t *pin_auth, *new_pin_enc, *pin_hash_enc;
	size_t pin_auth_len, new_pin_enc_len, pin_hash_enc_len;
	bool has_perms;
	uint64_t perms;
	const char *rp_id;
	size_t rp_id_len;
	uint8_t shared[64];
	size_t shared_len;
};

static uint8_t parse(const cbor_item_t *req, struct cp_req *r, uint8_t *proto_st)
{
	const cbor_item_t *it;
	uint8_t st;

	*proto_st = CTAP2_OK;
	if ((it = ctap_dec_get(req, 1)) != NULL) {
		r->has_proto = true;
		*proto_st = ctap_pp_protocol(it, &r->proto);
		if (*proto_st == CTAP2_ERR_CBOR_UNEXPECTED_TYPE)
			return *proto_st;
	}
	if ((it = ctap_dec_get(req, 2)) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_uint(it, &r->sub)) != CTAP2_OK)
		return st;
	if ((r->key_agreement = ctap_dec_get(req, 3)) != NULL && (st = ctap_dec_expect_map(r->key_agreement)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 4)) != NULL && (st = ctap_dec_bytes(it, &r->pin_auth, &r->pin_auth_len)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 5)) != NULL &&
	    (st = ctap_dec_bytes(it, &r->new_pin_enc, &r->new_pin_enc_len)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 6)) != NULL &&
	    (st = ctap_dec_bytes(it, &r->pin_hash_enc, &r->pin_hash_enc_len)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 9)) != NULL) {
		if ((st = ctap_dec_uint(it, &r->perms)) != CTAP2_OK)
			return st;
		r->has_perms = true;
	}
	if ((it = ctap_dec_get(req, 0x0A)) != NULL && (st = ctap_dec_text(it, &r->rp_id, &r->rp_id_len)) != CTAP2_OK)
		return st;
	return CTAP2_OK;
}

static uint8_t get_retries(struct ctap_auth *a, struct llv_buf *out)
{
	ctap_enc_map(out, 2);
	ctap_enc_uint(out, 3);
	ctap_enc_uint(out, a->p.pin_retries);
	ctap_enc_uint(out, 4);
	ctap_enc_bool(out, a->pin_mismatches >= 3);
	return CTAP2_OK;
}

static uint8_t get_key_agreement(struct ctap_auth *a, const struct cp_req *r, struct llv_buf *out)
{
	ctap_enc_map(out, 1);
	ctap_enc_uint(out, 1);
	return ctap_pp_put_key_agreement(out, a->ka_key[r->proto - 1]) == 0 ? CTAP2_OK : CTAP1_ERR_OTHER;
}

/* Decrypts newPinEnc and checks the PIN policy; stores the new PIN. */
static uint8_t take_new_pin(struct ctap_auth *a, const struct cp_req *r)
{
	uint8_t padded[80];
	size_t len = 0, pin_len, cps = 0;

	if (r->new_pin_enc_len != (r->proto == 1 ? 64u : 80u))
		return CTAP1_ERR_INVALID_PARAMETER;
	if (ctap_pp_decrypt(r->proto, r->shared, r->new_pin_enc, r->new_pin_enc_len, padded, sizeof(padded), &len) != 0 ||
	    len != 64) {
		OPENSSL_cleanse(padded, sizeof(padded));
		return CTAP2_ERR_PIN_AUTH_INVALID;
	}
	pin_len = 0;
	while (pin_len < 64 && padded[pin_len] != 0)
		pin_len++;
	for (size_t i = pin_len; i < 64; i++)
		if (padded[i] != 0)
			pin_len = 64;  /* a zero inside the PIN: refuse below */
	for (size_t i = 0; i < pin_len && pin_len <= CTAP_PIN_MAX_BYTES; i++)
		cps += (padded[i] & 0xc0) != 0x80;
	if (pin_len > CTAP_PIN_MAX_BYTES || cps < CTAP_PIN_MIN_LEN) {
		OPENSSL_cleanse(padded, sizeof(padded));
		return CTAP2_ERR_PIN_POLICY_VIOLATION;
	}
	{
		uint8_t h[32];

		ctap_sha256(padded, pin_len, h);
		memcpy(a->p.pin_hash, h, 16);
		OPENSSL_cleanse(h, sizeof(h));
	}
	OPENSSL_cleanse(padded, sizeof(padded));
	a->p.pin_set = true;
	a->p.pin_retries = CTAP_PIN_RETRIES;
	ctap_mark_dirty(a);
	return CTAP2_OK;
}

/* Decrements the retries, then compares pinHashEnc with the stored hash. */
static uint8_t check_pin_hash(struct ctap_auth *a, const struct cp_req *r)
{
	uint8_t hash[32];
	size_t len = 0;
	bool ok;

	if (r->pin_hash_enc_len != (r->proto == 1 ? 16u : 32u))
		return CTAP1_ERR_INVALID_PARAMETER;
	a->p.pin_retries--;
	ctap_mark_dirty(a);
	ok = ctap_pp_decrypt(r->proto, r->shared, r->pin_hash_enc, r->pin_hash_enc_len, hash, sizeof(hash), &len) == 0 &&
	     len == 16 && llv_ct_memcmp(hash, a->p.pin_hash, 16) == 0;
	OPENSSL_cleanse(hash, sizeof(hash));
	if (!ok) {
		(void)ctap_pin_regenerate(a, r->proto);
		a->pin_mismatches++;
		if (a->p.pin_retries == 0)
			return CTAP2_ERR_PIN_BLOCKED;
		if (a->pin_mismatches >= 3)
			return CTAP2_ERR_PIN_AUTH_BLOCKED;
		return CTAP2_ERR_PIN_INVALID;
	}
	a->pin_mismatches = 0;
	a->p.pin_retries = CTAP_PIN_RETRIES;
	return CTAP2_OK;
}

static uint8_t blocked(const struct ctap_auth *a)
{
	if (a->p.pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (a->pin_mismatches >= 3)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	return CTAP2_OK;
}

static uint8_t set_pin(struct ctap_auth *a, struct cp_req *r)
{
	uint8_t st;

	if (r->key_agreement == NULL || r->pin_auth == NULL || r->new_pin_enc == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	/* CTAP 2.1 §6.5.5.5: "If a PIN has already been set, authenticator
	 * returns CTAP2_ERR_PIN_AUTH_INVALID" (python-fido2 test found it). */
	if (a->p.pin_set)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if ((st = ctap_pp_decapsulate(r->proto, a->ka_key[r->proto - 1], r->key_agreement, r->shared, &r->shared_len)) != CTAP2_OK)
		return st;
	if (!ctap_pp_verify(r->proto, r->shared, r->new_pin_enc, r->new_pin_enc_len, r->pin_auth, r->pin_auth_len))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	return take_new_pin(a, r);
}

static uint8_t change_pin(struct ctap_auth *a, struct cp_req *r)
{
	struct llv_buf msg = LLV_BUF_INIT;
	uint8_t st;
	bool ok;

	if (r->key_agreement == NULL || r->pin_auth == NULL || r->new_pin_enc == NULL || r->pin_hash_enc == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!a->p.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if ((st = blocked(a)) != CTAP2_OK)
		return st;
	if ((st = ctap_pp_decapsulate(r->proto, a->ka_key[r->proto - 1], r->key_agreement, r->shared, &r->shared_len)) != CTAP2_OK)
		return st;
	llv_buf_put(&msg, r->new_pin_enc, r->new_pin_enc_len);
	llv_buf_put(&msg, r->pin_hash_enc, r->pin_hash_enc_len);
	ok = llv_buf_ok(&msg) && ctap_pp_verify(r->proto, r->shared, msg.data, msg.len, r->pin_auth, r->pin_auth_len);
	llv_buf_free(&msg);
	if (!ok)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if ((st = check_pin_hash(a, r)) != CTAP2_OK)
		return st;
	if ((st = take_new_pin(a, r)) != CTAP2_OK)
		return st;
	ctap_token_reset(a);
	return CTAP2_OK;
}

static uint8_t get_token(struct ctap_auth *a, struct cp_req *r, bool with_perms, struct llv_buf *out)
{
	uint8_t st, perms, rp_hash[32];
	bool has_rp = false;

	if (r->key_agreement == NULL || r->pin_hash_enc == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (with_perms) {
		if (!r->has_perms)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (r->perms == 0)
			return CTAP1_ERR_INVALID_PARAMETER;
		if (r->perms & ~(uint64_t)SUPPORTED_PERMS)
			return CTAP2_ERR_UNAUTHORIZED_PERMISSION;
		if ((r->perms & (CTAP_PERM_MC | CTAP_PERM_GA)) && r->rp_id == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		perms = (uint8_t)r->perms;
		if (r->rp_id != NULL) {
			ctap_sha256(r->rp_id, r->rp_id_len, rp_hash);
			has_rp = true;
		}
	} else {
		if (r->has_perms || r->rp_id != NULL)
			return CTAP1_ERR_INVALID_PARAMETER;
		/* legacy tokens: what a CTAP 2.0 platform may use them for */
		perms = CTAP_PERM_MC | CTAP_PERM_GA | CTAP_PERM_CM;
	}
	if (!a->p.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if ((st = blocked(a)) != CTAP2_OK)
		return st;
	if ((st = ctap_pp_decapsulate(r->proto, a->ka_key[r->proto - 1], r->key_agreement, r->shared, &r->shared_len)) != CTAP2_OK)
		return st;
	if ((st = check_pin_hash(a, r)) != CTAP2_OK)
		return st;
	ctap_token_reset(a);
	ctap_token_begin(a, perms, has_rp ? rp_hash : NULL);
	{
		struct llv_buf enc = LLV_BUF_INIT;

		st = ctap_pp_encrypt(r->proto, r->shared, a->token[r->proto - 1], 32, &enc) == 0 ? CTAP2_OK : CTAP1_ERR_OTHER;
		ctap_enc_map(out, 1);
		ctap_enc_uint(out, 2);
		ctap_enc_bytes(out, enc.data, enc.len);
		llv_buf_free(&enc);
	}
	return st;
}

uint8_t ctap_cmd_client_pin(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out)
{
	cbor_item_t *req = NULL;
	struct cp_req *r = llv_secure_alloc(sizeof(*r));
	uint8_t st, proto_st;

	if (r == NULL)
		return CTAP1_ERR_OTHER;
	if ((st = ctap_dec_params(p, n, &req)) != CTAP2_OK || (st = parse(req, r, &proto_st)) != CTAP2_OK)
		goto done;
	if (r->sub == SUB_GET_RETRIES) {
		st = get_retries(a, out);
		goto done;
	}
	if (r->sub != SUB_GET_KEY_AGREEMENT && r->sub != SUB_SET_PIN && r->sub != SUB_CHANGE_PIN &&
	    r->sub != SUB_GET_PIN_TOKEN && r->sub != SUB_GET_PIN_TOKEN_PERMS) {
		/* getUVRetries and the UV token need built-in UV, which we lack */
		st = CTAP2_ERR_INVALID_SUBCOMMAND;
		goto done;
	}
	st = CTAP2_ERR_MISSING_PARAMETER;
	if (!r->has_proto)
		goto done;
	if ((st = proto_st) != CTAP2_OK)
		goto done;
	switch (r->sub) {
	case SUB_GET_KEY_AGREEMENT:
		st = get_key_agreement(a, r, out);
		break;
	case SUB_SET_PIN:
		st = set_pin(a, r);
		break;
	case SUB_CHANGE_PIN:
		st = change_pin(a, r);
		break;
	case SUB_GET_PIN_TOKEN:
		st = get_token(a, r, false, out);
		break;
	default:
		st = get_token(a, r, true, out);
		break;
	}
done:
	if (req != NULL)
		cbor_decref(&req);
	llv_secure_free(r, sizeof(*r));
	return st;
}
