/* navigator.credentials.create() on a security key (WebAuthn Level 3
 * §5.1.3), from PublicKeyCredentialCreationOptionsJSON and the caller's
 * origin to RegistrationResponseJSON. The origin and RP ID are checked
 * before any device is touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "fido_internal.h"
#include "json.h"
#include "log.h"

#define MAX_ALGS 16
#define HOST_MAX 254

struct create_opts {
	const char *rp_id, *rp_name, *user_name, *user_display;
	uint8_t *challenge, *user_id;
	size_t challenge_len, user_id_len;
	int algs[MAX_ALGS];
	size_t nalgs;
	int timeout_ms;
	int rk_level;          /* 2 required, 1 preferred, 0 discouraged */
	int uv_level;
	bool attestation;      /* direct/indirect/enterprise: keep the statement */
	bool ext_cred_props, ext_prf;
	const json_t *exclude;
};

static void opts_free(struct create_opts *o)
{
	free(o->challenge);
	free(o->user_id);
}

static int parse(struct fido_bridge_ceremony *c, char *host, struct create_opts *o)
{
	const json_t *opt = c->options, *rp, *user, *params, *sel, *ext, *p;
	const char *s;
	size_t i;
	bool b;
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = fido_bridge_ceremony_origin(c, host, HOST_MAX)) != FIDO_BRIDGE_OK)
		return r;
	rp = json_object_get(opt, "rp");
	user = json_object_get(opt, "user");
	if (!json_is_object(rp) || !json_is_object(user)) {
		fido_bridge_set_error(c, "faltan «rp» o «user»");
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	o->rp_id = host;
	if (json_object_get(rp, "id") != NULL && llv_json_get_str(rp, "id", &o->rp_id) != 0) {
		fido_bridge_set_error(c, "«rp.id» no es texto");
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	if ((r = fido_bridge_ceremony_rpid(c, o->rp_id)) != FIDO_BRIDGE_OK)
		return r;
	o->rp_name = o->rp_id;
	if (json_object_get(rp, "name") != NULL && llv_json_get_str(rp, "name", &o->rp_name) != 0)
		goto bad;
	if ((r = fido_bridge_opt_b64url(opt, "challenge", true, &o->challenge, &o->challenge_len,
					c->error, sizeof(c->error))) != FIDO_BRIDGE_OK)
		return r;
	if (o->challenge_len == 0)
		goto bad;
	if ((r = fido_bridge_opt_b64url(user, "id", true, &o->user_id, &o->user_id_len,
					c->error, sizeof(c->error))) != FIDO_BRIDGE_OK)
		return r;
	if (o->user_id_len == 0 || o->user_id_len > 64) {
		fido_bridge_set_error(c, "«user.id» debe tener de 1 a 64 bytes");
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	o->user_name = "";
	o->user_display = "";
	if ((json_object_get(user, "name") && llv_json_get_str(user, "name", &o->user_name) != 0) ||
	    (json_object_get(user, "displayName") &&
	     llv_json_get_str(user, "displayName", &o->user_display) != 0))
		goto bad;
	params = json_object_get(opt, "pubKeyCredParams");
	if (params != NULL && !json_is_array(params))
		goto bad;
	json_array_foreach(params, i, p) {
		long long alg;

		if (llv_json_get_str(p, "type", &s) != 0 || llv_json_get_int(p, "alg", &alg) != 0)
			goto bad;
		if (strcmp(s, "public-key") == 0 && o->nalgs < MAX_ALGS &&
		    (alg == COSE_ES256 || alg == COSE_EDDSA || alg == COSE_RS256))
			o->algs[o->nalgs++] = (int)alg;
	}
	if (params == NULL || json_array_size(params) == 0) {
		o->algs[o->nalgs++] = COSE_ES256;
		o->algs[o->nalgs++] = COSE_RS256;
	}
	if (o->nalgs == 0) {
		fido_bridge_set_error(c, "ningún algoritmo de «pubKeyCredParams» es compatible");
		return FIDO_BRIDGE_ERR_UNSUPPORTED;
	}
	if (fido_bridge_opt_timeout(opt, &o->timeout_ms) != FIDO_BRIDGE_OK)
		goto bad;
	sel = json_object_get(opt, "authenticatorSelection");
	o->uv_level = 1;
	o->rk_level = 0;
	if (sel != NULL) {
		if (!json_is_object(sel))
			goto bad;
		if (json_object_get(sel, "residentKey") != NULL) {
			if (fido_bridge_opt_level(sel, "residentKey", &o->rk_level) != FIDO_BRIDGE_OK)
				goto bad;
		} else if (llv_json_get_bool(sel, "requireResidentKey", &b) == 0 && b) {
			o->rk_level = 2;
		}
		if (fido_bridge_opt_level(sel, "userVerification", &o->uv_level) != FIDO_BRIDGE_OK)
			goto bad;
		if (llv_json_get_str(sel, "authenticatorAttachment", &s) == 0 &&
		    strcmp(s, "platform") == 0) {
			fido_bridge_set_error(c, "se pidió un autenticador de plataforma");
			return FIDO_BRIDGE_ERR_UNSUPPORTED;
		}
	}
	if (llv_json_get_str(opt, "attestation", &s) == 0)
		o->attestation = strcmp(s, "direct") == 0 || strcmp(s, "indirect") == 0 ||
				 strcmp(s, "enterprise") == 0;
	ext = json_object_get(opt, "extensions");
	if (ext != NULL) {
		if (!json_is_object(ext))
			goto bad;
		o->ext_cred_props = llv_json_get_bool(ext, "credProps", &b) == 0 && b;
		o->ext_prf = json_is_object(json_object_get(ext, "prf"));
	}
	o->exclude = json_object_get(opt, "excludeCredentials");
	return FIDO_BRIDGE_OK;
bad:
	fido_bridge_set_error(c, "opciones de registro mal formadas");
	return FIDO_BRIDGE_ERR_BAD_ARG;
}

static int exclude_add(void *arg, const uint8_t *id, size_t len)
{
	return fido_cred_exclude(arg, id, len) == FIDO_OK ? 0 : -1;
}

struct dev_caps {
	bool rk, hmac_secret;
	int algs[MAX_ALGS];
	size_t nalgs;
};

static void dev_caps(fido_dev_t *dev, struct dev_caps *caps)
{
	fido_cbor_info_t *info = fido_cbor_info_new();
	char **names;
	const bool *values;

	memset(caps, 0, sizeof(*caps));
	if (info != NULL && fido_dev_get_cbor_info(dev, info) == FIDO_OK) {
		names = fido_cbor_info_options_name_ptr(info);
		values = fido_cbor_info_options_value_ptr(info);
		for (size_t i = 0; i < fido_cbor_info_options_len(info); i++)
			if (strcmp(names[i], "rk") == 0)
				caps->rk = values[i];
		names = fido_cbor_info_extensions_ptr(info);
		for (size_t i = 0; i < fido_cbor_info_extensions_len(info); i++)
			if (strcmp(names[i], "hmac-secret") == 0)
				caps->hmac_secret = true;
		for (size_t i = 0; i < fido_cbor_info_algorithm_count(info) && caps->nalgs < MAX_ALGS; i++)
			caps->algs[caps->nalgs++] = fido_cbor_info_algorithm_cose(info, i);
	}
	if (caps->nalgs == 0)   /* CTAP 2.0 keys without "algorithms": ES256 */
		caps->algs[caps->nalgs++] = COSE_ES256;
	fido_cbor_info_free(&info);
}

static int pick_alg(const struct create_opts *o, const struct dev_caps *caps)
{
	for (size_t i = 0; i < o->nalgs; i++)
		for (size_t j = 0; j < caps->nalgs; j++)
			if (o->algs[i] == caps->algs[j])
				return o->algs[i];
	return 0;
}

static int set_b64(json_t *obj, const char *key, const void *data, size_t len)
{
	return llv_json_set_b64url(obj, key, data, len) == 0 ? 0 : -1;
}

static int build_json(struct fido_bridge_ceremony *c, const fido_cred_t *cred, const struct create_opts *o,
		      const char *cdj, size_t cdj_len, bool rk, fido_dev_t *dev, json_t **out)
{
	struct fido_bridge_pkc p;
	json_t *resp, *ext;
	uint8_t *att = NULL, *spki = NULL;
	size_t att_len = 0, spki_len = 0;
	const unsigned char *ad = fido_cred_authdata_raw_ptr(cred);
	size_t ad_len = fido_cred_authdata_raw_len(cred);
	int r;

	if ((r = fido_bridge_pkc_new(&p)) != FIDO_BRIDGE_OK)
		goto out;
	resp = p.resp;
	ext = p.ext;
	if ((r = fido_bridge_attestation_object(cred, !o->attestation, &att, &att_len)) != FIDO_BRIDGE_OK ||
	    (r = fido_bridge_cred_spki(cred, &spki, &spki_len)) != FIDO_BRIDGE_OK)
		goto out;
	r = FIDO_BRIDGE_ERR_INTERNAL;
	if (fido_cred_id_len(cred) == 0 ||
	    fido_bridge_pkc_start(&p, fido_cred_id_ptr(cred), fido_cred_id_len(cred), cdj, cdj_len) !=
		    FIDO_BRIDGE_OK ||
	    set_b64(resp, "attestationObject", att, att_len) != 0 ||
	    json_object_set_new(resp, "transports", fido_bridge_transports_json(c->device, dev)) != 0 ||
	    json_object_set_new(resp, "publicKeyAlgorithm", json_integer(fido_cred_type(cred))) != 0 ||
	    set_b64(resp, "publicKey", spki, spki_len) != 0 ||
	    set_b64(resp, "authenticatorData", ad, ad_len) != 0)
		goto out;
	if (o->ext_cred_props)
		json_object_set_new(ext, "credProps", json_pack("{s:b}", "rk", rk));
	if (o->ext_prf) {
		bool enabled = false;

		fido_bridge_authdata_ext_flag(ad, ad_len, "hmac-secret", &enabled);
		json_object_set_new(ext, "prf", json_pack("{s:b}", "enabled", enabled));
	}
	fido_bridge_pkc_finish(&p, out);
	r = FIDO_BRIDGE_OK;
out:
	fido_bridge_pkc_free(&p);
	free(att);
	free(spki);
	return r;
}

int fido_bridge_webauthn_create(struct fido_bridge_ceremony *c, json_t **out)
{
	char host[HOST_MAX], *cdj = NULL;
	size_t cdj_len = 0, nexcl = 0;
	uint8_t hash[32];
	struct create_opts o;
	struct dev_caps caps;
	struct fido_bridge_uv uv = { NULL, FIDO_OPT_OMIT };
	fido_dev_t *dev = NULL;
	fido_cred_t *cred = NULL;
	bool rk;
	int alg, r, fr;

	if (c == NULL || out == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	*out = NULL;
	c->error[0] = '\0';
	if ((r = parse(c, host, &o)) != FIDO_BRIDGE_OK)
		goto out;
	if ((r = fido_bridge_client_data("webauthn.create", o.challenge, o.challenge_len, c->origin,
					 false, &cdj, &cdj_len, hash)) != FIDO_BRIDGE_OK)
		goto out;
	if ((cred = fido_cred_new()) == NULL) {
		r = FIDO_BRIDGE_ERR_INTERNAL;
		goto out;
	}
	if ((r = fido_bridge_opt_cred_list(o.exclude, exclude_add, cred, &nexcl, c->error,
					   sizeof(c->error))) != FIDO_BRIDGE_OK)
		goto out;
	if ((r = fido_bridge_ceremony_open(c, &dev)) != FIDO_BRIDGE_OK)
		goto out;
	dev_caps(dev, &caps);
	if ((alg = pick_alg(&o, &caps)) == 0) {
		fido_bridge_set_error(c, "la llave no tiene ninguno de los algoritmos pedidos");
		r = FIDO_BRIDGE_ERR_UNSUPPORTED;
		goto out;
	}
	if (o.rk_level == 2 && !caps.rk) {
		fido_bridge_set_error(c, "la llave no guarda credenciales detectables");
		r = FIDO_BRIDGE_ERR_UNSUPPORTED;
		goto out;
	}
	rk = o.rk_level == 2 || (o.rk_level == 1 && caps.rk);
	if ((r = fido_bridge_uv_prepare(c, dev, o.uv_level, rk, &uv)) != FIDO_BRIDGE_OK)
		goto out;
	if ((fr = fido_cred_set_type(cred, alg)) != FIDO_OK ||
	    (fr = fido_cred_set_clientdata_hash(cred, hash, sizeof(hash))) != FIDO_OK ||
	    (fr = fido_cred_set_rp(cred, o.rp_id, o.rp_name)) != FIDO_OK ||
	    (fr = fido_cred_set_user(cred, o.user_id, o.user_id_len, o.user_name, o.user_display,
				     NULL)) != FIDO_OK ||
	    (fr = fido_cred_set_rk(cred, rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT)) != FIDO_OK ||
	    (fr = fido_cred_set_uv(cred, uv.uv)) != FIDO_OK ||
	    (o.ext_prf && caps.hmac_secret &&
	     (fr = fido_cred_set_extensions(cred, FIDO_EXT_HMAC_SECRET)) != FIDO_OK)) {
		fido_bridge_set_error(c, "libfido2 rechazó la credencial: %s", fido_strerr(fr));
		r = FIDO_BRIDGE_ERR_BAD_ARG;
		goto out;
	}
	fido_dev_set_timeout(dev, o.timeout_ms);
	fr = fido_dev_make_cred(dev, cred, uv.pin);
	fido_bridge_uv_clear(&uv);
	if (fr != FIDO_OK) {
		r = fido_bridge_ceremony_failed(c, fr, "makeCredential");
		goto out;
	}
	r = build_json(c, cred, &o, cdj, cdj_len, rk, dev, out);
	if (r != FIDO_BRIDGE_OK && c->error[0] == '\0')
		fido_bridge_set_error(c, "respuesta de la llave inutilizable");
out:
	fido_bridge_uv_clear(&uv);
	fido_bridge_ceremony_close(c, &dev);
	fido_cred_free(&cred);
	free(cdj);
	opts_free(&o);
	return r;
}
