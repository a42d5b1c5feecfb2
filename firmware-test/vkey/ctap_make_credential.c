/* authenticatorMakeCredential (CTAP 2.1 section 6.1): packed attestation
 * with the batch certificate, ES256 or EdDSA credentials, discoverable or
 * not, credProtect and hmac-secret. */
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"
#include "secmem.h"

struct mc_req {
	const uint8_t *cdh;
	size_t cdh_len;
	const cbor_item_t *rp, *user, *params, *exclude;
	struct ctap_text rp_id, rp_name, user_name, display_name;
	const uint8_t *uid;
	size_t uid_len;
	int32_t alg;
	bool rk, up_false, uv;
	uint8_t cred_protect;       /* 0: not requested */
	bool hmac_secret;
	bool enterprise;
	struct ctap_pin_params pin;
};

/* Picks the first supported algorithm. Each element must be a map with a
 * text "type" and an integer "alg". */
static uint8_t parse_params(const cbor_item_t *arr, int32_t *alg)
{
	cbor_item_t **h;
	uint8_t st;

	if ((st = ctap_dec_expect_array(arr)) != CTAP2_OK)
		return st;
	h = cbor_array_handle(arr);
	*alg = 0;
	for (size_t i = 0; i < cbor_array_size(arr); i++) {
		const cbor_item_t *type, *algi;
		const char *t;
		size_t tl;
		int64_t v;

		if ((st = ctap_dec_expect_map(h[i])) != CTAP2_OK)
			return st;
		type = ctap_dec_get_s(h[i], "type");
		algi = ctap_dec_get_s(h[i], "alg");
		if (type == NULL || algi == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if ((st = ctap_dec_text(type, &t, &tl)) != CTAP2_OK || (st = ctap_dec_int(algi, &v)) != CTAP2_OK)
			return st;
		if (*alg == 0 && tl == 10 && memcmp(t, "public-key", 10) == 0 && (v == COSE_ES256 || v == COSE_EDDSA))
			*alg = (int32_t)v;
	}
	return CTAP2_OK;
}

static uint8_t parse_opt(const cbor_item_t *opts, const char *name, bool *present, bool *value)
{
	const cbor_item_t *it = ctap_dec_get_s(opts, name);

	*present = it != NULL;
	return it != NULL ? ctap_dec_bool(it, value) : CTAP2_OK;
}

static uint8_t parse(const cbor_item_t *req, struct mc_req *r)
{
	const cbor_item_t *it, *ext, *opts, *f;
	uint8_t st;
	bool present, v;

	if ((it = ctap_dec_get(req, 1)) != NULL && (st = ctap_dec_bytes(it, &r->cdh, &r->cdh_len)) != CTAP2_OK)
		return st;
	if ((r->rp = ctap_dec_get(req, 2)) != NULL) {
		if ((st = ctap_dec_expect_map(r->rp)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->rp, "id")) != NULL &&
		    (st = ctap_dec_text_into(f, &r->rp_id, CTAP_RP_ID_MAX, false)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->rp, "name")) != NULL &&
		    (st = ctap_dec_text_into(f, &r->rp_name, CTAP_NAME_MAX, true)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->rp, "icon")) != NULL && !cbor_isa_string(f))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	if ((r->user = ctap_dec_get(req, 3)) != NULL) {
		if ((st = ctap_dec_expect_map(r->user)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->user, "id")) != NULL && (st = ctap_dec_bytes(f, &r->uid, &r->uid_len)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->user, "name")) != NULL &&
		    (st = ctap_dec_text_into(f, &r->user_name, CTAP_NAME_MAX, true)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->user, "displayName")) != NULL &&
		    (st = ctap_dec_text_into(f, &r->display_name, CTAP_NAME_MAX, true)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(r->user, "icon")) != NULL && !cbor_isa_string(f))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	if ((r->params = ctap_dec_get(req, 4)) != NULL && (st = parse_params(r->params, &r->alg)) != CTAP2_OK)
		return st;
	if ((r->exclude = ctap_dec_get(req, 5)) != NULL) {
		if ((st = ctap_dec_expect_array(r->exclude)) != CTAP2_OK)
			return st;
		for (size_t i = 0; i < cbor_array_size(r->exclude); i++) {
			struct ctap_desc d;

			if ((st = ctap_dec_descriptor(cbor_array_handle(r->exclude)[i], &d)) != CTAP2_OK)
				return st;
		}
	}
	if ((ext = ctap_dec_get(req, 6)) != NULL) {
		if ((st = ctap_dec_expect_map(ext)) != CTAP2_OK)
			return st;
		if ((f = ctap_dec_get_s(ext, "credProtect")) != NULL) {
			uint64_t level;

			if ((st = ctap_dec_uint(f, &level)) != CTAP2_OK)
				return st;
			if (level >= 1 && level <= 3)
				r->cred_protect = (uint8_t)level;
		}
		if ((f = ctap_dec_get_s(ext, "hmac-secret")) != NULL &&
		    (st = ctap_dec_bool(f, &r->hmac_secret)) != CTAP2_OK)
			return st;
	}
	if ((opts = ctap_dec_get(req, 7)) != NULL) {
		if ((st = ctap_dec_expect_map(opts)) != CTAP2_OK)
			return st;
		if ((st = parse_opt(opts, "rk", &present, &v)) != CTAP2_OK)
			return st;
		r->rk = present && v;
		if ((st = parse_opt(opts, "up", &present, &v)) != CTAP2_OK)
			return st;
		r->up_false = present && !v;
		if ((st = parse_opt(opts, "uv", &present, &v)) != CTAP2_OK)
			return st;
		r->uv = present && v;
	}
	if ((st = ctap_pin_params_parse(req, 8, 9, &r->pin)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 0x0A)) != NULL) {
		uint64_t ep;

		if ((st = ctap_dec_uint(it, &ep)) != CTAP2_OK)
			return st;
		r->enterprise = true;
	}
	return CTAP2_OK;
}

/* Checks the exclude list: a match (visible without UV, for credProtect 3)
 * asks for user presence, then CREDENTIAL_EXCLUDED. */
static uint8_t check_exclude(struct ctap_auth *a, const struct mc_req *r, const uint8_t rp_hash[32], bool uv)
{
	if (r->exclude == NULL)
		return CTAP2_OK;
	for (size_t i = 0; i < cbor_array_size(r->exclude); i++) {
		struct ctap_desc d;
		struct ctap_cred c;
		int idx;
		uint8_t st;

		if (ctap_dec_descriptor(cbor_array_handle(r->exclude)[i], &d) != CTAP2_OK || !d.type_ok)
			continue;
		if (ctap_cred_resolve(a, d.id, d.id_len, rp_hash, &c, &idx) != 0)
			continue;
		OPENSSL_cleanse(c.priv, sizeof(c.priv));
		if (c.cred_protect == 3 && !uv)
			continue;
		st = ctap_user_presence(a);
		return st != CTAP2_OK ? st : CTAP2_ERR_CREDENTIAL_EXCLUDED;
	}
	return CTAP2_OK;
}

static uint8_t store_resident(struct ctap_auth *a, const struct mc_req *r, const struct ctap_cred *c)
{
	int i = ctap_rk_find_user(a, c->rp_id_hash, r->uid, r->uid_len);
	struct ctap_rk *rk;

	if (i < 0)
		i = ctap_rk_free_slot(a);
	if (i < 0)
		return CTAP2_ERR_KEY_STORE_FULL;
	rk = &a->p.rk[i];
	OPENSSL_cleanse(rk, sizeof(*rk));
	rk->used = true;
	rk->seq = a->p.next_seq++;
	rk->cred = *c;
	rk->rp_id = r->rp_id;
	rk->rp_name = r->rp_name;
	memcpy(rk->user_id, r->uid, r->uid_len);
	rk->user_id_len = r->uid_len;
	rk->user_name = r->user_name;
	rk->display_name = r->display_name;
	ctap_cred_random(a, c, false, rk->cred_random[0]);
	ctap_cred_random(a, c, true, rk->cred_random[1]);
	ctap_mark_dirty(a);
	return CTAP2_OK;
}

static uint8_t make(struct ctap_auth *a, const struct mc_req *r, const uint8_t rp_hash[32], uint8_t flags,
		    struct llv_buf *out)
{
	struct ctap_cred c;
	struct llv_buf ext = LLV_BUF_INIT, ad = LLV_BUF_INIT, att = LLV_BUF_INIT;
	uint8_t st = CTAP1_ERR_OTHER;

	memset(&c, 0, sizeof(c));
	c.alg = r->alg;
	memcpy(c.rp_id_hash, rp_hash, 32);
	c.cred_protect = r->cred_protect ? r->cred_protect : 1;
	c.hmac_secret = r->hmac_secret;
	c.resident = r->rk;
	if (r->rk && ctap_rk_find_user(a, rp_hash, r->uid, r->uid_len) < 0 && ctap_rk_free_slot(a) < 0)
		return CTAP2_ERR_KEY_STORE_FULL;
	if (ctap_cred_create(a, &c) != 0)
		goto done;
	if (r->cred_protect || r->hmac_secret) {
		ctap_enc_map(&ext, (size_t)(r->cred_protect != 0) + (size_t)r->hmac_secret);
		if (r->cred_protect) {
			ctap_enc_textz(&ext, "credProtect");
			ctap_enc_uint(&ext, r->cred_protect);
		}
		if (r->hmac_secret) {
			ctap_enc_textz(&ext, "hmac-secret");
			ctap_enc_bool(&ext, true);
		}
	}
	if (r->rk && (st = store_resident(a, r, &c)) != CTAP2_OK)
		goto done;
	st = CTAP1_ERR_OTHER;
	if (ctap_authdata(a, &ad, rp_hash, flags, &c, &ext) != 0 ||
	    ctap_attestation_packed(a, ad.data, ad.len, r->cdh, &att) != 0)
		goto done;
	ctap_enc_map(out, 3);
	ctap_enc_uint(out, 1);
	ctap_enc_textz(out, "packed");
	ctap_enc_uint(out, 2);
	ctap_enc_bytes(out, ad.data, ad.len);
	ctap_enc_uint(out, 3);
	llv_buf_put(out, att.data, att.len);
	st = CTAP2_OK;
done:
	OPENSSL_cleanse(&c, sizeof(c));
	llv_buf_free(&ext);
	llv_buf_free(&ad);
	llv_buf_free(&att);
	return st;
}

uint8_t ctap_cmd_make_credential(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out)
{
	cbor_item_t *req = NULL;
	struct mc_req *r = llv_secure_alloc(sizeof(*r));
	uint8_t st, rp_hash[32], flags = 0;
	bool uv = false;

	if (r == NULL)
		return CTAP1_ERR_OTHER;
	if ((st = ctap_dec_params(p, n, &req)) != CTAP2_OK || (st = parse(req, r)) != CTAP2_OK)
		goto done;
	if ((st = ctap_pin_params_check(a, &r->pin)) != CTAP2_OK)
		goto done;
	/* required parameters */
	st = CTAP2_ERR_MISSING_PARAMETER;
	if (r->cdh == NULL || r->rp == NULL || r->user == NULL || r->params == NULL || !r->rp_id.present ||
	    r->uid == NULL)
		goto done;
	st = CTAP1_ERR_INVALID_LENGTH;
	if (r->cdh_len != 32 || r->uid_len > CTAP_USER_ID_MAX)
		goto done;
	st = CTAP2_ERR_UNSUPPORTED_ALGORITHM;
	if (r->alg == 0)
		goto done;
	/* options */
	st = CTAP2_ERR_INVALID_OPTION;
	if (r->up_false || (r->uv && !r->pin.present))
		goto done;
	/* makeCredUvNotRqd: only discoverable credentials need the PIN */
	st = CTAP2_ERR_PUAT_REQUIRED;
	if (a->p.pin_set && !r->pin.present && r->rk)
		goto done;
	st = CTAP1_ERR_INVALID_PARAMETER;
	if (r->enterprise)
		goto done;
	ctap_sha256(r->rp_id.s, r->rp_id.len, rp_hash);
	if (r->pin.present) {
		if ((st = ctap_token_check(a, r->pin.proto, r->cdh, r->cdh_len, r->pin.param, r->pin.param_len,
					   CTAP_PERM_MC, rp_hash)) != CTAP2_OK)
			goto done;
		uv = true;
		flags |= CTAP_FLAG_UV;
	}
	if ((st = check_exclude(a, r, rp_hash, uv)) != CTAP2_OK)
		goto done;
	if ((st = ctap_user_presence(a)) != CTAP2_OK)
		goto done;
	flags |= CTAP_FLAG_UP;
	if (r->pin.present)
		ctap_token_consume(a);
	st = make(a, r, rp_hash, flags, out);
done:
	if (req != NULL)
		cbor_decref(&req);
	llv_secure_free(r, sizeof(*r));
	return st;
}
