/* "Entrar con e.firma": the page asks POST /efirma/challenge for a nonce,
 * the agent (through web/llavero.js and the extension) signs it with the
 * card's or file's e.firma and returns a Web eID token, which the page posts
 * to /efirma/login. libllavero-verify checks it against this server's own
 * origin, the nonce issued to this session (single use, 5 minutes), the
 * configured trusted CAs; the identity comes from the certificate. */
#include "idp.h"
#include "idp_session.h"

#include "base64url.h"
#include "json.h"
#include "log.h"
#include "verify_cert.h"
#include "verify_errors.h"
#include "verify_webeid.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFIRMA_NONCE_LIFETIME 300

static void efirma_failed(struct idp_response *resp, unsigned status, const char *id, const char *msg)
{
	char text[320];
	snprintf(text, sizeof(text), "%s: %s", id, msg);
	idp_resp_json(resp, status, json_pack("{s:s,s:s,s:s}", "status", "failed", "error", id,
					      "errorMessage", text));
}

void idp_route_efirma_challenge(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	char nonce[VERIFY_NONCE_TEXT_MAX];
	int rc;

	if (!idp_csrf_json_ok(ctx, req)) {
		efirma_failed(resp, 403, "csrf", "Solicitud rechazada (origen o token inválido)");
		return;
	}
	if (!(s = idp_session_ensure(ctx, req, resp, IDP_SESSION_COOKIE))) {
		efirma_failed(resp, 500, "internal", "No se pudo crear la sesión");
		return;
	}
	rc = verify_nonce_issue(&ctx->nonces, EFIRMA_NONCE_LIFETIME, 0, nonce, sizeof(nonce));
	if (rc != VERIFY_OK) {
		efirma_failed(resp, 500, verify_error_id(rc), verify_strerror(rc));
		return;
	}
	idp_session_set(s, "efirma_nonce", json_string(nonce));
	idp_resp_json(resp, 200, json_pack("{s:s,s:s,s:I}", "status", "ok", "nonce", nonce,
					   "expires_in", (json_int_t)EFIRMA_NONCE_LIFETIME));
}

/* Finds or creates the account of a verified e.firma identity: one per
 * persona física (RFC), one per persona moral and representative. */
static int user_for_identity(struct idp_ctx *ctx, const struct verify_identity *id, struct idp_user *u)
{
	bool moral = id->persona == VERIFY_PERSONA_MORAL;
	char username[sizeof(u->username)];
	int rc;

	snprintf(username, sizeof(username), "efirma:%s%s%s", id->rfc, moral ? "/" : "",
		 moral ? id->rep_rfc : "");
	rc = ctx->store->ops->user_by_username(ctx->store->ctx, username, u);
	if (rc < 0)
		return -1;
	if (rc == IDP_STORE_NOT_FOUND) {
		memset(u, 0, sizeof(*u));
		snprintf(u->username, sizeof(u->username), "%s", username);
		if (RAND_bytes(u->handle, sizeof(u->handle)) != 1)
			return -1;
	}
	snprintf(u->display_name, sizeof(u->display_name), "%s", id->name);
	snprintf(u->rfc, sizeof(u->rfc), "%s", id->rfc);
	/* the CURP of the person who signs in: a moral's representative */
	snprintf(u->curp, sizeof(u->curp), "%s", moral ? id->rep_curp : id->curp);
	snprintf(u->persona, sizeof(u->persona), "%s", moral ? "moral" : "fisica");
	snprintf(u->rep_rfc, sizeof(u->rep_rfc), "%s", moral ? id->rep_rfc : "");
	snprintf(u->rep_curp, sizeof(u->rep_curp), "%s", moral ? id->rep_curp : "");
	if (id->email[0])
		snprintf(u->email, sizeof(u->email), "%s", id->email);
	u->efirma = true;
	return ctx->store->ops->user_put(ctx->store->ctx, u);
}

/* The account a token claims to be (the RFC of its still unverified
 * certificate), for the per-account rate limit: attempts are counted before
 * any verification, so guessing at one person's account is slowed down
 * whatever the outcome. Empty when the certificate does not parse. */
static void claimed_account(json_t *token, char *out, size_t outlen)
{
	const char *b64 = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *cert;
	struct verify_identity id;

	out[0] = '\0';
	if (llv_json_get_str(token, "unverifiedCertificate", &b64) ||
	    llv_base64_decode(b64, strlen(b64), &der, &len))
		return;
	cert = verify_cert_parse_der(der, len);
	if (cert && verify_identity_from_cert(cert, &id) == VERIFY_OK)
		snprintf(out, outlen, "%s", id.rfc);
	X509_free(cert);
	free(der);
}

void idp_route_efirma_login(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s = req->session;
	struct verify_webeid_opts opts;
	struct verify_webeid_result res;
	struct idp_user u;
	char key[96], account[16];
	char *nonce = NULL, *token_text = NULL;
	json_t *body = NULL, *token;
	int rc;

	snprintf(key, sizeof(key), "ip:%s", req->ip);
	if (!idp_ratelimit_allow(ctx, key, ctx->cfg.rate_limit_ip)) {
		efirma_failed(resp, 429, "rate-limit", "Demasiados intentos: espere un minuto");
		return;
	}
	if (!idp_csrf_json_ok(ctx, req) || !s) {
		efirma_failed(resp, 403, "csrf", "Solicitud rechazada (origen, sesión o token inválido)");
		return;
	}
	if (!(body = idp_req_json(req, resp)))
		return;
	token = json_object_get(body, "authToken");
	if (!token)
		token = json_object_get(body, "auth-token");
	if (!token)
		token = json_object_get(body, "token");
	if (!json_is_object(token)) {
		efirma_failed(resp, 400, verify_error_id(VERIFY_ERR_TOKEN_JSON),
			      "Falta el token de autenticación (authToken)");
		goto out;
	}
	claimed_account(token, account, sizeof(account));
	if (account[0]) {
		snprintf(key, sizeof(key), "cuenta:%s", account);
		if (!idp_ratelimit_allow(ctx, key, ctx->cfg.rate_limit_account)) {
			efirma_failed(resp, 429, "rate-limit", "Demasiados intentos para esta cuenta: espere un minuto");
			goto out;
		}
	}
	if (!json_is_string(idp_session_get(s, "efirma_nonce"))) {
		efirma_failed(resp, 400, verify_error_id(VERIFY_ERR_NONCE_UNKNOWN),
			      "No hay un reto pendiente en esta sesión: pida /efirma/challenge");
		goto out;
	}
	nonce = strdup(json_string_value(idp_session_get(s, "efirma_nonce")));
	idp_session_del(s, "efirma_nonce");
	if (!ctx->trust) {
		efirma_failed(resp, 503, verify_error_id(VERIFY_ERR_ARGUMENT),
			      "El servidor no tiene autoridades certificadoras configuradas (trusted_cas)");
		goto out;
	}
	if (!nonce || !(token_text = json_dumps(token, JSON_COMPACT))) {
		efirma_failed(resp, 500, "internal", "Sin memoria");
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.origin = ctx->cfg.origin;
	opts.nonce = nonce;
	opts.nonces = &ctx->nonces;
	opts.trust = ctx->trust;
	opts.ocsp = ctx->ocsp_enabled ? &ctx->ocsp : NULL;
	memset(&res, 0, sizeof(res));
	rc = verify_webeid_token(token_text, strlen(token_text), &opts, &res);
	if (rc != VERIFY_OK) {
		llv_info("efirma: token rechazado: %s", verify_error_id(rc));
		efirma_failed(resp, rc == VERIFY_ERR_INTERNAL || rc == VERIFY_ERR_NOMEM ? 500 : 401,
			      verify_error_id(rc),
			      verify_strerror_lang(rc, idp_req_header(req, "Accept-Language")));
		goto out;
	}
	if (user_for_identity(ctx, &res.identity, &u) ||
	    idp_session_login(ctx, s, resp, u.id, "efirma")) {
		verify_webeid_result_clear(&res);
		efirma_failed(resp, 500, "internal", "No se pudo iniciar la sesión");
		goto out;
	}
	llv_info("efirma: usuario %lld entró con e.firma (certificado %s)", (long long)u.id,
		 res.identity.serial);
	idp_resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:s,s:s}", "status", "ok", "errorMessage", "",
					   "redirect", "/continuar", "nombre", u.display_name, "rfc", u.rfc));
	verify_webeid_result_clear(&res);
out:
	free(nonce);
	free(token_text);
	json_decref(body);
}
