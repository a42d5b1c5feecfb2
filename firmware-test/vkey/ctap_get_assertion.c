/* authenticatorGetAssertion and authenticatorGetNextAssertion (CTAP 2.1
 * sections 6.2, 6.3): allowList or discoverable credentials newest first,
 * credProtect, UP/UV flags, the signature counter and hmac-secret. */
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"
#include "secmem.h"

struct ga_req {
	const char *rp_id;
	size_t rp_id_len;
	const uint8_t *cdh;
	size_t cdh_len;
	const cbor_item_t *allow;
	const cbor_item_t *hmac;    /* hmac-secret input */
	bool up, uv, rk_present;
	struct ctap_pin_params pin;
};

static uint8_t parse(const cbor_item_t *req, struct ga_req *r)
{
	const cbor_item_t *it, *ext, *opts;
	uint8_t st;

	r->up = true;
	if ((it = ctap_dec_get(req, 1)) != NULL && (st = ctap_dec_text(it, &r->rp_id, &r->rp_id_len)) != CTAP2_OK)
		return st;
	if ((it = ctap_dec_get(req, 2)) != NULL && (st = ctap_dec_bytes(it, &r->cdh, &r->cdh_len)) != CTAP2_OK)
		return st;
	if ((r->allow = ctap_dec_get(req, 3)) != NULL) {
		if ((st = ctap_dec_expect_array(r->allow)) != CTAP2_OK)
			return st;
		for (size_t i = 0; i < cbor_array_size(r->allow); i++) {
			struct ctap_desc d;

			if ((st = ctap_dec_descriptor(cbor_array_handle(r->allow)[i], &d)) != CTAP2_OK)
				return st;
		}
	}
	if ((ext = ctap_dec_get(req, 4)) != NULL) {
		if ((st = ctap_dec_expect_map(ext)) != CTAP2_OK)
			return st;
		if ((r->hmac = ctap_dec_get_s(ext, "hmac-secret")) != NULL &&
		    (st = ctap_dec_expect_map(r->hmac)) != CTAP2_OK)
			return st;
	}
	if ((opts = ctap_dec_get(req, 5)) != NULL) {
		if ((st = ctap_dec_expect_map(opts)) != CTAP2_OK)
			return st;
		if ((it = ctap_dec_get_s(opts, "up")) != NULL && (st = ctap_dec_bool(it, &r->up)) != CTAP2_OK)
			return st;
		if ((it = ctap_dec_get_s(opts, "uv")) != NULL && (st = ctap_dec_bool(it, &r->uv)) != CTAP2_OK)
			return st;
		if ((it = ctap_dec_get_s(opts, "rk")) != NULL) {
			bool v;

			if ((st = ctap_dec_bool(it, &v)) != CTAP2_OK)
				return st;
			r->rk_present = true;
		}
	}
	return ctap_pin_params_parse(req, 6, 7, &r->pin);
}

/* hmac-secret input: shared secret and decrypted salts into the state. */
static uint8_t hmac_input(struct ctap_auth *a, const cbor_item_t *in, struct ctap_ga_state *g)
{
	const cbor_item_t *ka = ctap_dec_get(in, 1), *enc = ctap_dec_get(in, 2), *auth = ctap_dec_get(in, 3);
	const cbor_item_t *proto = ctap_dec_get(in, 4);
	const uint8_t *ep, *ap;
	size_t el, al, sl;
	uint8_t st;
	int pr = 1;

	if (ka == NULL || enc == NULL || auth == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap_dec_expect_map(ka)) != CTAP2_OK || (st = ctap_dec_bytes(enc, &ep, &el)) != CTAP2_OK ||
	    (st = ctap_dec_bytes(auth, &ap, &al)) != CTAP2_OK)
		return st;
	if (proto != NULL && (st = ctap_pp_protocol(proto, &pr)) != CTAP2_OK)
		return st;
	if ((st = ctap_pp_decapsulate(pr, a->ka_key[pr - 1], ka, g->hmac_shared, &sl)) != CTAP2_OK)
		return st;
	if (!ctap_pp_verify(pr, g->hmac_shared, ep, el, ap, al))
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (ctap_pp_decrypt(pr, g->hmac_shared, ep, el, g->salts, sizeof(g->salts), &g->salts_len) != 0 ||
	    (g->salts_len != 32 && g->salts_len != 64))
		return CTAP1_ERR_INVALID_LENGTH;
	g->hmac = true;
	g->hmac_proto = pr;
	return CTAP2_OK;
}

/* Writes the response for one credential. */
static uint8_t respond(struct ctap_auth *a, const struct ctap_cred *c, int rk_idx, size_t total,
		       struct llv_buf *out)
{
	struct ctap_ga_state *g = &a->ga;
	struct llv_buf ext = LLV_BUF_INIT, ad = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	bool uv = (g->flags & CTAP_FLAG_UV) != 0;
	uint8_t st = CTAP1_ERR_OTHER;

	llv_buf_init_secret(&ext);
	if (g->hmac && c->hmac_secret) {
		uint8_t cr[32], outp[64];
		size_t i;

		if (rk_idx >= 0)
			memcpy(cr, a->p.rk[rk_idx].cred_random[uv], 32);
		else
			ctap_cred_random(a, c, uv, cr);
		for (i = 0; i < g->salts_len; i += 32)
			ctap_hmac_sha256(cr, 32, g->salts + i, 32, outp + i);
		ctap_enc_map(&ext, 1);
		ctap_enc_textz(&ext, "hmac-secret");
		{
			struct llv_buf enc = LLV_BUF_INIT;

			if (ctap_pp_encrypt(g->hmac_proto, g->hmac_shared, outp, g->salts_len, &enc) == 0)
				ctap_enc_bytes(&ext, enc.data, enc.len);
			else
				ext.failed = true;
			llv_buf_free(&enc);
		}
		OPENSSL_cleanse(cr, sizeof(cr));
		OPENSSL_cleanse(outp, sizeof(outp));
	}
	if (!llv_buf_ok(&ext) || ctap_authdata(a, &ad, g->rp_id_hash, g->flags, NULL, &ext) != 0)
		goto done;
	llv_buf_put(&ad, g->client_data_hash, 32);
	if (!llv_buf_ok(&ad) || ctap_key_sign(c->alg, c->priv, ad.data, ad.len, &sig) != 0)
		goto done;
	ad.len -= 32;
	ctap_enc_map(out, 3 + (rk_idx >= 0) + (total > 1));
	ctap_enc_uint(out, 1);
	ctap_enc_map(out, 2);
	ctap_enc_textz(out, "id");
	ctap_enc_bytes(out, c->id, CTAP_CRED_ID_LEN);
	ctap_enc_textz(out, "type");
	ctap_enc_textz(out, "public-key");
	ctap_enc_uint(out, 2);
	ctap_enc_bytes(out, ad.data, ad.len);
	ctap_enc_uint(out, 3);
	ctap_enc_bytes(out, sig.data, sig.len);
	if (rk_idx >= 0) {
		ctap_enc_uint(out, 4);
		ctap_rk_put_user(out, &a->p.rk[rk_idx], uv);
	}
	if (total > 1) {
		ctap_enc_uint(out, 5);
		ctap_enc_uint(out, total);
	}
	st = CTAP2_OK;
done:
	llv_buf_free(&ext);
	llv_buf_free(&ad);
	llv_buf_free(&sig);
	return st;
}

/* The first usable credential of the allow list. */
static bool find_allowed(struct ctap_auth *a, const struct ga_req *r, const uint8_t rp_hash[32], bool uv,
			 struct ctap_cred *c, int *rk_idx)
{
	for (size_t i = 0; i < cbor_array_size(r->allow); i++) {
		struct ctap_desc d;

		if (ctap_dec_descriptor(cbor_array_handle(r->allow)[i], &d) != CTAP2_OK || !d.type_ok)
			continue;
		if (ctap_cred_resolve(a, d.id, d.id_len, rp_hash, c, rk_idx) != 0)
			continue;
		if (c->cred_protect == 3 && !uv) {
			OPENSSL_cleanse(c, sizeof(*c));
			continue;
		}
		return true;
	}
	return false;
}

uint8_t ctap_cmd_get_assertion(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out)
{
	cbor_item_t *req = NULL;
	struct ga_req r;
	struct ctap_ga_state *g = &a->ga;
	struct ctap_cred c;
	uint8_t st, rp_hash[32];
	bool uv = false;
	int rk_idx = -1;
	size_t total = 1;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	OPENSSL_cleanse(g, sizeof(*g));
	if ((st = ctap_dec_params(p, n, &req)) != CTAP2_OK || (st = parse(req, &r)) != CTAP2_OK)
		goto done;
	if ((st = ctap_pin_params_check(a, &r.pin)) != CTAP2_OK)
		goto done;
	st = CTAP2_ERR_MISSING_PARAMETER;
	if (r.rp_id == NULL || r.cdh == NULL)
		goto done;
	st = CTAP1_ERR_INVALID_LENGTH;
	if (r.cdh_len != 32)
		goto done;
	st = CTAP2_ERR_UNSUPPORTED_OPTION;
	if (r.rk_present)
		goto done;
	st = CTAP2_ERR_INVALID_OPTION;
	if (r.uv && !r.pin.present)
		goto done;
	ctap_sha256(r.rp_id, r.rp_id_len, rp_hash);
	if (r.pin.present) {
		if ((st = ctap_token_check(a, r.pin.proto, r.cdh, r.cdh_len, r.pin.param, r.pin.param_len,
					   CTAP_PERM_GA, rp_hash)) != CTAP2_OK)
			goto done;
		uv = true;
	}
	/* locate the credentials */
	if (r.allow != NULL && cbor_array_size(r.allow) > 0) {
		if (!find_allowed(a, &r, rp_hash, uv, &c, &rk_idx)) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			goto done;
		}
	} else {
		int all[CTAP_MAX_RK];
		size_t m = ctap_rk_list(a, rp_hash, all, CTAP_MAX_RK);

		g->n = 0;
		for (size_t i = 0; i < m; i++)
			if (uv || a->p.rk[all[i]].cred.cred_protect == 1)
				g->idx[g->n++] = all[i];
		if (g->n == 0) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			goto done;
		}
		rk_idx = g->idx[0];
		c = a->p.rk[rk_idx].cred;
		total = g->n;
	}
	if (r.hmac != NULL && (st = hmac_input(a, r.hmac, g)) != CTAP2_OK)
		goto done;
	if (r.up) {
		if ((st = ctap_user_presence(a)) != CTAP2_OK)
			goto done;
		g->flags |= CTAP_FLAG_UP;
		if (r.pin.present)
			ctap_token_consume(a);
	}
	if (uv)
		g->flags |= CTAP_FLAG_UV;
	memcpy(g->rp_id_hash, rp_hash, 32);
	memcpy(g->client_data_hash, r.cdh, 32);
	if ((st = respond(a, &c, rk_idx, total, out)) != CTAP2_OK)
		goto done;
	if (total > 1) {
		g->active = true;
		g->next = 1;
		g->last_ms = ctap_now(a);
	}
done:
	if (!g->active)
		OPENSSL_cleanse(g, sizeof(*g));
	OPENSSL_cleanse(&c, sizeof(c));
	if (req != NULL)
		cbor_decref(&req);
	return st;
}

uint8_t ctap_cmd_get_next_assertion(struct ctap_auth *a, struct llv_buf *out)
{
	struct ctap_ga_state *g = &a->ga;
	int idx;
	uint8_t st;

	if (!g->active || g->next >= g->n || ctap_now(a) - g->last_ms > CTAP_NEXT_ASSERTION_MS) {
		OPENSSL_cleanse(g, sizeof(*g));
		return CTAP2_ERR_NOT_ALLOWED;
	}
	idx = g->idx[g->next++];
	if (!a->p.rk[idx].used) {
		OPENSSL_cleanse(g, sizeof(*g));
		return CTAP2_ERR_NOT_ALLOWED;
	}
	st = respond(a, &a->p.rk[idx].cred, idx, 1, out);
	g->last_ms = ctap_now(a);
	if (g->next >= g->n)
		OPENSSL_cleanse(g, sizeof(*g));
	return st;
}
