/* navigator.credentials.get() on a security key (WebAuthn Level 3 §5.1.4),
 * from PublicKeyCredentialRequestOptionsJSON and the caller's origin to
 * AuthenticationResponseJSON. An empty allowCredentials asks the key for its
 * discoverable credentials of the RP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "fido_internal.h"
#include "json.h"
#include "log.h"

#define HOST_MAX 254

struct get_opts {
	const char *rp_id;
	uint8_t *challenge;
	size_t challenge_len;
	int timeout_ms;
	int uv_level;
	const json_t *allow;
	const json_t *prf_eval;     /* {first, second?} chosen for this call */
	uint8_t *single_id;         /* the only allowed credential, if one */
	size_t single_id_len;
};

struct allow_ctx {
	fido_assert_t *a;
	struct get_opts *o;
};

static int allow_add(void *arg, const uint8_t *id, size_t len)
{
	struct allow_ctx *ac = arg;

	free(ac->o->single_id);
	ac->o->single_id = malloc(len);
	if (ac->o->single_id != NULL) {
		memcpy(ac->o->single_id, id, len);
		ac->o->single_id_len = len;
	}
	return fido_assert_allow_cred(ac->a, id, len) == FIDO_OK ? 0 : -1;
}

static int parse(struct fido_bridge_ceremony *c, char *host, struct get_opts *o)
{
	const json_t *opt = c->options, *ext;
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = fido_bridge_ceremony_origin(c, host, HOST_MAX)) != FIDO_BRIDGE_OK)
		return r;
	o->rp_id = host;
	if (json_object_get(opt, "rpId") != NULL && llv_json_get_str(opt, "rpId", &o->rp_id) != 0)
		goto bad;
	if ((r = fido_bridge_ceremony_rpid(c, o->rp_id)) != FIDO_BRIDGE_OK)
		return r;
	if ((r = fido_bridge_opt_b64url(opt, "challenge", true, &o->challenge, &o->challenge_len,
					c->error, sizeof(c->error))) != FIDO_BRIDGE_OK)
		return r;
	if (o->challenge_len == 0)
		goto bad;
	if (fido_bridge_opt_timeout(opt, &o->timeout_ms) != FIDO_BRIDGE_OK)
		goto bad;
	if (fido_bridge_opt_level(opt, "userVerification", &o->uv_level) != FIDO_BRIDGE_OK)
		goto bad;
	o->allow = json_object_get(opt, "allowCredentials");
	ext = json_object_get(opt, "extensions");
	if (ext != NULL && !json_is_object(ext))
		goto bad;
	if (ext != NULL && json_object_get(ext, "prf") != NULL) {
		const json_t *prf = json_object_get(ext, "prf");

		if (!json_is_object(prf))
			goto bad;
		o->prf_eval = json_object_get(prf, "eval");
		if (o->prf_eval != NULL && !json_is_object(o->prf_eval))
			goto bad;
	}
	return FIDO_BRIDGE_OK;
bad:
	fido_bridge_set_error(c, "opciones de autenticación mal formadas");
	return FIDO_BRIDGE_ERR_BAD_ARG;
}

/* prf.evalByCredential wins over prf.eval for the one allowed credential. */
static void prf_by_credential(const json_t *options, struct get_opts *o)
{
	const json_t *by = json_object_get(json_object_get(json_object_get(options, "extensions"), "prf"),
					   "evalByCredential");
	char *id;

	if (!json_is_object(by) || o->single_id == NULL || json_array_size(o->allow) != 1)
		return;
	if ((id = llv_base64url_encode(o->single_id, o->single_id_len)) == NULL)
		return;
	if (json_is_object(json_object_get(by, id)))
		o->prf_eval = json_object_get(by, id);
	free(id);
}

static int set_prf(struct fido_bridge_ceremony *c, fido_assert_t *a, const json_t *eval)
{
	uint8_t salts[64], *in;
	size_t in_len, n = 32;
	int r;

	if ((r = fido_bridge_opt_b64url(eval, "first", true, &in, &in_len, c->error,
					sizeof(c->error))) != FIDO_BRIDGE_OK)
		return r;
	fido_bridge_prf_salt(in, in_len, salts);
	free(in);
	if (json_object_get(eval, "second") != NULL) {
		if ((r = fido_bridge_opt_b64url(eval, "second", true, &in, &in_len, c->error,
						sizeof(c->error))) != FIDO_BRIDGE_OK)
			return r;
		fido_bridge_prf_salt(in, in_len, salts + 32);
		free(in);
		n = 64;
	}
	if (fido_assert_set_hmac_salt(a, salts, n) != FIDO_OK ||
	    fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET) != FIDO_OK)
		return FIDO_BRIDGE_ERR_INTERNAL;
	return FIDO_BRIDGE_OK;
}

static int build_json(const fido_assert_t *a, size_t idx, const struct get_opts *o,
		      const char *cdj, size_t cdj_len, json_t **out)
{
	struct fido_bridge_pkc p;
	json_t *resp, *ext;
	const unsigned char *id = fido_assert_id_ptr(a, idx);
	size_t id_len = fido_assert_id_len(a, idx);
	uint8_t *ad = NULL;
	size_t ad_len = 0;
	int r = FIDO_BRIDGE_ERR_INTERNAL;

	if (id_len == 0 && o->single_id != NULL && json_array_size(o->allow) == 1) {
		/* CTAP lets the key omit the credential when only one was allowed. */
		id = o->single_id;
		id_len = o->single_id_len;
	}
	if (fido_bridge_pkc_new(&p) != FIDO_BRIDGE_OK || id_len == 0)
		goto out;
	resp = p.resp;
	ext = p.ext;
	if ((r = fido_bridge_assert_authdata(a, idx, &ad, &ad_len)) != FIDO_BRIDGE_OK)
		goto out;
	r = FIDO_BRIDGE_ERR_INTERNAL;
	if (fido_bridge_pkc_start(&p, id, id_len, cdj, cdj_len) != FIDO_BRIDGE_OK ||
	    llv_json_set_b64url(resp, "authenticatorData", ad, ad_len) != 0 ||
	    llv_json_set_b64url(resp, "signature", fido_assert_sig_ptr(a, idx),
				fido_assert_sig_len(a, idx)) != 0)
		goto out;
	if (fido_assert_user_id_len(a, idx) > 0 &&
	    llv_json_set_b64url(resp, "userHandle", fido_assert_user_id_ptr(a, idx),
				fido_assert_user_id_len(a, idx)) != 0)
		goto out;
	if (o->prf_eval != NULL) {
		size_t n = fido_assert_hmac_secret_len(a, idx);
		const unsigned char *hs = fido_assert_hmac_secret_ptr(a, idx);
		json_t *results = json_object();

		if (results != NULL && hs != NULL && (n == 32 || n == 64)) {
			llv_json_set_b64url(results, "first", hs, 32);
			if (n == 64)
				llv_json_set_b64url(results, "second", hs + 32, 32);
			json_object_set_new(ext, "prf", json_pack("{s:o}", "results", results));
		} else {
			json_decref(results);
			json_object_set_new(ext, "prf", json_object());
		}
	}
	fido_bridge_pkc_finish(&p, out);
	r = FIDO_BRIDGE_OK;
out:
	fido_bridge_pkc_free(&p);
	free(ad);
	return r;
}

int fido_bridge_webauthn_get(struct fido_bridge_ceremony *c, json_t **out)
{
	char host[HOST_MAX], *cdj = NULL;
	size_t cdj_len = 0, nallow = 0;
	uint8_t hash[32];
	struct get_opts o;
	struct fido_bridge_uv uv = { NULL, FIDO_OPT_OMIT };
	struct allow_ctx ac;
	fido_dev_t *dev = NULL;
	fido_assert_t *a = NULL;
	int r, fr;

	if (c == NULL || out == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	*out = NULL;
	c->error[0] = '\0';
	if ((r = parse(c, host, &o)) != FIDO_BRIDGE_OK)
		goto out;
	if ((r = fido_bridge_client_data("webauthn.get", o.challenge, o.challenge_len, c->origin,
					 false, &cdj, &cdj_len, hash)) != FIDO_BRIDGE_OK)
		goto out;
	if ((a = fido_assert_new()) == NULL) {
		r = FIDO_BRIDGE_ERR_INTERNAL;
		goto out;
	}
	ac.a = a;
	ac.o = &o;
	if ((r = fido_bridge_opt_cred_list(o.allow, allow_add, &ac, &nallow, c->error,
					   sizeof(c->error))) != FIDO_BRIDGE_OK)
		goto out;
	if (nallow != 1) {
		free(o.single_id);
		o.single_id = NULL;
	}
	prf_by_credential(c->options, &o);
	if ((fr = fido_assert_set_rp(a, o.rp_id)) != FIDO_OK ||
	    (fr = fido_assert_set_clientdata_hash(a, hash, sizeof(hash))) != FIDO_OK) {
		r = FIDO_BRIDGE_ERR_INTERNAL;
		goto out;
	}
	if (o.prf_eval != NULL && (r = set_prf(c, a, o.prf_eval)) != FIDO_BRIDGE_OK)
		goto out;
	if ((r = fido_bridge_ceremony_open(c, &dev)) != FIDO_BRIDGE_OK)
		goto out;
	if ((r = fido_bridge_uv_prepare(c, dev, o.uv_level, false, &uv)) != FIDO_BRIDGE_OK)
		goto out;
	fido_assert_set_uv(a, uv.uv);
	fido_dev_set_timeout(dev, o.timeout_ms);
	fr = fido_dev_get_assert(dev, a, uv.pin);
	fido_bridge_uv_clear(&uv);
	if (fr != FIDO_OK) {
		r = fido_bridge_ceremony_failed(c, fr, "getAssertion");
		goto out;
	}
	if (fido_assert_count(a) == 0) {
		r = FIDO_BRIDGE_ERR_NO_CREDENTIALS;
		fido_bridge_set_error(c, "la llave no devolvió ninguna aserción");
		goto out;
	}
	/* With several discoverable credentials a browser shows an account
	 * chooser; the bridge takes the most recent (the key's first). */
	r = build_json(a, 0, &o, cdj, cdj_len, out);
	if (r != FIDO_BRIDGE_OK)
		fido_bridge_set_error(c, "respuesta de la llave inutilizable");
out:
	fido_bridge_uv_clear(&uv);
	fido_bridge_ceremony_close(c, &dev);
	fido_assert_free(&a);
	free(cdj);
	free(o.challenge);
	free(o.single_id);
	return r;
}
