/* WebAuthn registration and sign-in, spoken as the FIDO Alliance
 * conformance-tools server API (POST /attestation/options, /attestation/result,
 * /assertion/options, /assertion/result; answers carry
 * {"status":"ok"|"failed","errorMessage"}). The sign-in page uses the same
 * endpoints. The pending ceremony (challenge, user) lives in the session and
 * is consumed by the first result that comes for it. Verification is
 * libllavero-verify's. */
#include "idp.h"
#include "idp_session.h"
#include "idp_webauthn.h"

#include "base64url.h"
#include "json.h"
#include "log.h"
#include "verify_errors.h"
#include "verify_webauthn_auth.h"
#include "verify_webauthn_reg.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WA_TIMEOUT_MS 120000
#define WA_LIFETIME 180
#define WA_MAX_CREDS 16

/* ---- answers ---- */

static void failed(struct idp_response *resp, unsigned status, const char *msg)
{
	idp_resp_json(resp, status, json_pack("{s:s,s:s}", "status", "failed", "errorMessage", msg));
}

/* The library's stable id, then its message: Spanish, or English when the
 * request's Accept-Language starts with "en". */
static void failed_verify(struct idp_request *req, struct idp_response *resp, int code)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "%s: %s", verify_error_id(code),
		 verify_strerror_lang(code, idp_req_header(req, "Accept-Language")));
	failed(resp, 400, msg);
}

static json_t *ok_object(void)
{
	return json_pack("{s:s,s:s}", "status", "ok", "errorMessage", "");
}

/* Common front of the four endpoints: CSRF, JSON body, session. */
static json_t *begin(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp,
		     struct idp_session **s)
{
	json_t *body;
	if (!idp_csrf_json_ok(ctx, req)) {
		failed(resp, 403, "Solicitud rechazada (CSRF: origen o token inválido)");
		return NULL;
	}
	if (!(body = idp_req_json(req, resp)))
		return NULL;
	if (!(*s = idp_session_ensure(ctx, req, resp, IDP_SESSION_COOKIE))) {
		json_decref(body);
		failed(resp, 500, "No se pudo crear la sesión");
		return NULL;
	}
	return body;
}

static char *new_challenge(void)
{
	return idp_random_b64url(32);
}

static json_t *cred_descriptors(struct idp_ctx *ctx, int64_t user_id)
{
	static struct idp_credential creds[WA_MAX_CREDS];
	size_t n = 0;
	json_t *a = json_array();
	if (user_id && !ctx->store->ops->cred_list(ctx->store->ctx, user_id, creds, WA_MAX_CREDS, &n)) {
		for (size_t i = 0; i < n; i++) {
			json_t *d = json_pack("{s:s}", "type", "public-key");
			llv_json_set_b64url(d, "id", creds[i].cred_id, creds[i].cred_id_len);
			json_array_append_new(a, d);
		}
	}
	return a;
}

static bool uv_required(struct idp_ctx *ctx, const char *requested)
{
	if (ctx->cfg.conformance)
		return requested && !strcmp(requested, "required");
	return ctx->cfg.require_uv;
}

static bool username_ok(const char *u)
{
	size_t n = strlen(u);
	if (n < 1 || n > 64)
		return false;
	for (; *u; u++)
		if ((unsigned char)*u < 0x20 || *u == 0x7f)
			return false;
	return true;
}

/* ---- registration ---- */

void idp_route_att_options(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	json_t *body = begin(ctx, req, resp, &s);
	const char *username = NULL, *display = NULL, *attestation = NULL, *uvreq = NULL;
	json_t *sel, *out, *pending;
	struct idp_user u;
	char *challenge, *handle_b64;
	bool uv;

	if (!body)
		return;
	llv_json_get_str(body, "username", &username);
	llv_json_get_str(body, "displayName", &display);
	llv_json_get_str(body, "attestation", &attestation);
	sel = json_object_get(body, "authenticatorSelection");
	if (json_is_object(sel))
		llv_json_get_str(sel, "userVerification", &uvreq);
	memset(&u, 0, sizeof(u));

	if (s->row.user_id) {
		/* a signed-in person adds a key to their own account */
		if (ctx->store->ops->user_get(ctx->store->ctx, s->row.user_id, &u)) {
			failed(resp, 500, "Usuario de la sesión no encontrado");
			goto out;
		}
	} else {
		int rc;
		if (!username || !username_ok(username)) {
			failed(resp, 400, "username inválido (1 a 64 caracteres)");
			goto out;
		}
		rc = ctx->store->ops->user_by_username(ctx->store->ctx, username, &u);
		if (rc == 0 && !(ctx->cfg.conformance && !u.efirma)) {
			failed(resp, 403, "Ese usuario ya existe: entre primero para agregar otra llave");
			goto out;
		}
		if (rc < 0) {
			failed(resp, 500, "Error de almacenamiento");
			goto out;
		}
		if (rc == IDP_STORE_NOT_FOUND) {
			if (!ctx->cfg.open_registration) {
				failed(resp, 403, "El registro abierto está desactivado: entre con su e.firma");
				goto out;
			}
			memset(&u, 0, sizeof(u));
			snprintf(u.username, sizeof(u.username), "%s", username);
			snprintf(u.display_name, sizeof(u.display_name), "%s",
				 display && *display ? display : username);
			if (RAND_bytes(u.handle, sizeof(u.handle)) != 1) {
				failed(resp, 500, "Sin aleatoriedad");
				goto out;
			}
		}
	}
	uv = uv_required(ctx, uvreq);
	if (!(challenge = new_challenge()) || !(handle_b64 = llv_base64url_encode(u.handle, sizeof(u.handle)))) {
		free(challenge);
		failed(resp, 500, "Sin memoria");
		goto out;
	}
	pending = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:b}", "kind", "reg", "challenge", challenge,
			    "user_id", (json_int_t)u.id, "username", u.username, "display_name",
			    u.display_name, "handle", handle_b64, "exp",
			    (json_int_t)(time(NULL) + WA_LIFETIME), "uv", uv);
	idp_session_set(s, "wa", pending);

	out = ok_object();
	json_object_set_new(out, "rp", json_pack("{s:s,s:s}", "name", ctx->cfg.rp_name, "id", ctx->cfg.rp_id));
	json_object_set_new(out, "user", json_pack("{s:s,s:s,s:s}", "id", handle_b64, "name", u.username,
						   "displayName", u.display_name));
	json_object_set_new(out, "challenge", json_string(challenge));
	json_object_set_new(out, "pubKeyCredParams",
			    json_pack("[{s:s,s:i},{s:s,s:i},{s:s,s:i}]", "type", "public-key", "alg", -7,
				      "type", "public-key", "alg", -8, "type", "public-key", "alg", -257));
	json_object_set_new(out, "timeout", json_integer(WA_TIMEOUT_MS));
	json_object_set_new(out, "excludeCredentials", cred_descriptors(ctx, u.id));
	if (json_is_object(sel)) {
		json_t *copy = json_deep_copy(sel);
		json_object_set_new(copy, "userVerification", json_string(uv ? "required" : (uvreq ? uvreq : "preferred")));
		json_object_set_new(out, "authenticatorSelection", copy);
	} else {
		json_object_set_new(out, "authenticatorSelection",
				    json_pack("{s:s,s:b,s:s}", "residentKey", "preferred", "requireResidentKey", 0,
					      "userVerification", uv ? "required" : "preferred"));
	}
	json_object_set_new(out, "attestation", json_string(attestation ? attestation : "none"));
	idp_resp_json(resp, 200, out);
	free(challenge);
	free(handle_b64);
out:
	json_decref(body);
}

/* Takes the pending ceremony of kind out of the session (single use). */
static json_t *take_pending(struct idp_session *s, const char *kind, uint8_t **challenge, size_t *len)
{
	json_t *p = json_incref(idp_session_get(s, "wa"));
	const char *k = NULL;
	long long exp = 0;
	idp_session_del(s, "wa");
	if (!p || llv_json_get_str(p, "kind", &k) || strcmp(k, kind) ||
	    llv_json_get_int(p, "exp", &exp) || exp < (long long)time(NULL) ||
	    llv_json_get_b64url(p, "challenge", challenge, len)) {
		json_decref(p);
		return NULL;
	}
	return p;
}

void idp_route_att_result(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	json_t *body = begin(ctx, req, resp, &s), *p = NULL;
	struct idp_wa_cred wc;
	struct verify_webauthn_rp rp = ctx->rp;
	struct verify_webauthn_reg_opts opts;
	struct verify_webauthn_credential vc;
	struct idp_credential cred, existing;
	struct idp_user u;
	uint8_t *challenge = NULL, *handle = NULL;
	size_t challenge_len = 0, handle_len = 0;
	char err[160];
	long long uid = 0;
	bool uv = true;
	int rc;

	memset(&wc, 0, sizeof(wc));
	memset(&vc, 0, sizeof(vc));
	if (!body)
		return;
	if (!(p = take_pending(s, "reg", &challenge, &challenge_len))) {
		failed(resp, 400, "No hay un registro pendiente o expiró: pida /attestation/options");
		goto out;
	}
	if (idp_wa_parse_credential(body, false, &wc, err, sizeof(err))) {
		failed(resp, 400, err);
		goto out;
	}
	llv_json_get_bool(p, "uv", &uv);
	rp.require_uv = uv;
	memset(&opts, 0, sizeof(opts));
	opts.rp = &rp;
	opts.challenge = challenge;
	opts.challenge_len = challenge_len;
	rc = verify_webauthn_register(wc.client_data, wc.client_data_len, wc.attestation_object,
				      wc.attestation_object_len, &opts, &vc);
	if (rc != VERIFY_OK) {
		llv_info("webauthn: registro rechazado: %s", verify_error_id(rc));
		failed_verify(req, resp, rc);
		goto out;
	}
	if (vc.cred_id_len != wc.raw_id_len || memcmp(vc.cred_id, wc.raw_id, wc.raw_id_len)) {
		failed(resp, 400, "rawId no corresponde a la credencial atestada");
		goto out;
	}
	if (vc.cred_id_len > sizeof(cred.cred_id) || vc.public_key_spki_len > sizeof(cred.spki)) {
		failed(resp, 400, "Credencial demasiado grande");
		goto out;
	}
	if (!ctx->store->ops->cred_get(ctx->store->ctx, vc.cred_id, vc.cred_id_len, &existing)) {
		failed(resp, 400, "Esa credencial ya está registrada");
		goto out;
	}
	llv_json_get_int(p, "user_id", &uid);
	memset(&u, 0, sizeof(u));
	if (uid) {
		if (ctx->store->ops->user_get(ctx->store->ctx, (int64_t)uid, &u)) {
			failed(resp, 500, "Usuario no encontrado");
			goto out;
		}
	} else {
		const char *name = NULL, *display = NULL;
		llv_json_get_str(p, "username", &name);
		llv_json_get_str(p, "display_name", &display);
		if (!name || llv_json_get_b64url(p, "handle", &handle, &handle_len) ||
		    handle_len != sizeof(u.handle)) {
			failed(resp, 500, "Registro pendiente incompleto");
			goto out;
		}
		snprintf(u.username, sizeof(u.username), "%s", name);
		snprintf(u.display_name, sizeof(u.display_name), "%s", display ? display : name);
		memcpy(u.handle, handle, sizeof(u.handle));
		if (ctx->store->ops->user_put(ctx->store->ctx, &u)) {
			failed(resp, 409, "No se pudo crear el usuario (¿ya existe?)");
			goto out;
		}
	}
	memset(&cred, 0, sizeof(cred));
	cred.user_id = u.id;
	memcpy(cred.cred_id, vc.cred_id, vc.cred_id_len);
	cred.cred_id_len = vc.cred_id_len;
	memcpy(cred.spki, vc.public_key_spki, vc.public_key_spki_len);
	cred.spki_len = vc.public_key_spki_len;
	cred.alg = vc.cose_alg;
	cred.sign_count = vc.sign_count;
	if (ctx->store->ops->cred_add(ctx->store->ctx, &cred)) {
		failed(resp, 500, "No se pudo guardar la credencial");
		goto out;
	}
	llv_info("webauthn: llave registrada para el usuario %lld (fmt %s, alg %ld)", (long long)u.id,
		 vc.fmt, vc.cose_alg);
	/* a new passkey account is signed in by the registration itself */
	if (!s->row.user_id && !uid && idp_session_login(ctx, s, resp, u.id, "llave_seguridad")) {
		failed(resp, 500, "No se pudo iniciar la sesión");
		goto out;
	}
	idp_resp_json(resp, 200, ok_object());
out:
	verify_webauthn_credential_clear(&vc);
	idp_wa_cred_free(&wc);
	free(challenge);
	free(handle);
	json_decref(p);
	json_decref(body);
}

/* ---- authentication ---- */

void idp_route_asr_options(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	json_t *body = begin(ctx, req, resp, &s), *out;
	const char *username = NULL, *uvreq = NULL;
	struct idp_user u;
	char *challenge;
	bool uv;

	if (!body)
		return;
	llv_json_get_str(body, "username", &username);
	llv_json_get_str(body, "userVerification", &uvreq);
	memset(&u, 0, sizeof(u));
	if (username && *username) {
		if (ctx->store->ops->user_by_username(ctx->store->ctx, username, &u)) {
			failed(resp, 400, "Usuario no encontrado");
			goto out;
		}
	}
	uv = uv_required(ctx, uvreq);
	if (!(challenge = new_challenge())) {
		failed(resp, 500, "Sin aleatoriedad");
		goto out;
	}
	idp_session_set(s, "wa", json_pack("{s:s,s:s,s:I,s:I,s:b}", "kind", "auth", "challenge", challenge,
					    "user_id", (json_int_t)u.id, "exp",
					    (json_int_t)(time(NULL) + WA_LIFETIME), "uv", uv));
	out = ok_object();
	json_object_set_new(out, "challenge", json_string(challenge));
	json_object_set_new(out, "timeout", json_integer(WA_TIMEOUT_MS));
	json_object_set_new(out, "rpId", json_string(ctx->cfg.rp_id));
	json_object_set_new(out, "allowCredentials", cred_descriptors(ctx, u.id));
	json_object_set_new(out, "userVerification", json_string(uv ? "required" : (uvreq ? uvreq : "preferred")));
	idp_resp_json(resp, 200, out);
	free(challenge);
out:
	json_decref(body);
}

void idp_route_asr_result(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	json_t *body, *p = NULL;
	struct idp_wa_cred wc;
	struct verify_webauthn_rp rp = ctx->rp;
	struct verify_webauthn_auth_opts opts;
	struct verify_webauthn_assertion as;
	struct idp_credential cred;
	struct idp_user u;
	uint8_t *challenge = NULL;
	size_t challenge_len = 0;
	char err[160], key[96];
	long long uid = 0;
	bool uv = true;
	int rc;

	snprintf(key, sizeof(key), "ip:%s", req->ip);
	if (!idp_ratelimit_allow(ctx, key, ctx->cfg.rate_limit_ip)) {
		failed(resp, 429, "Demasiados intentos: espere un minuto");
		return;
	}
	if (!(body = begin(ctx, req, resp, &s)))
		return;
	memset(&wc, 0, sizeof(wc));
	if (!(p = take_pending(s, "auth", &challenge, &challenge_len))) {
		failed(resp, 400, "No hay un inicio de sesión pendiente o expiró: pida /assertion/options");
		goto out;
	}
	if (idp_wa_parse_credential(body, true, &wc, err, sizeof(err))) {
		failed(resp, 400, err);
		goto out;
	}
	if (ctx->store->ops->cred_get(ctx->store->ctx, wc.raw_id, wc.raw_id_len, &cred) ||
	    ctx->store->ops->user_get(ctx->store->ctx, cred.user_id, &u)) {
		failed(resp, 400, "webauthn-unknown-credential: Credencial desconocida");
		goto out;
	}
	llv_json_get_int(p, "user_id", &uid);
	if (uid && uid != (long long)cred.user_id) {
		failed(resp, 400, "webauthn-wrong-user: La credencial no pertenece a ese usuario");
		goto out;
	}
	if (wc.user_handle && (wc.user_handle_len != sizeof(u.handle) ||
			       memcmp(wc.user_handle, u.handle, sizeof(u.handle)))) {
		failed(resp, 400, "webauthn-user-handle: userHandle no corresponde al usuario de la credencial");
		goto out;
	}
	snprintf(key, sizeof(key), "cuenta:%lld", (long long)u.id);
	if (!idp_ratelimit_allow(ctx, key, ctx->cfg.rate_limit_account)) {
		failed(resp, 429, "Demasiados intentos para esta cuenta: espere un minuto");
		goto out;
	}
	llv_json_get_bool(p, "uv", &uv);
	rp.require_uv = uv;
	memset(&opts, 0, sizeof(opts));
	opts.rp = &rp;
	opts.challenge = challenge;
	opts.challenge_len = challenge_len;
	opts.public_key_spki = cred.spki;
	opts.public_key_spki_len = cred.spki_len;
	opts.cose_alg = cred.alg;
	opts.stored_sign_count = cred.sign_count;
	rc = verify_webauthn_authenticate(wc.client_data, wc.client_data_len, wc.authenticator_data,
					  wc.authenticator_data_len, wc.signature, wc.signature_len,
					  &opts, &as);
	if (rc != VERIFY_OK) {
		llv_info("webauthn: inicio de sesión rechazado para el usuario %lld: %s", (long long)u.id,
			 verify_error_id(rc));
		failed_verify(req, resp, rc);
		goto out;
	}
	if (ctx->store->ops->cred_set_count(ctx->store->ctx, cred.cred_id, cred.cred_id_len, as.sign_count) ||
	    idp_session_login(ctx, s, resp, u.id, "llave_seguridad")) {
		failed(resp, 500, "No se pudo iniciar la sesión");
		goto out;
	}
	llv_info("webauthn: usuario %lld entró con llave de seguridad", (long long)u.id);
	idp_resp_json(resp, 200, ok_object());
out:
	idp_wa_cred_free(&wc);
	free(challenge);
	json_decref(p);
	json_decref(body);
}
