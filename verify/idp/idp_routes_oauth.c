/* OAuth 2.0 authorization code flow with mandatory PKCE (S256 only), the
 * shape Llave MX uses: /authorize, /token, /userinfo (RFC 6749, RFC 7636,
 * RFC 6750), plus the RFC 8414 metadata. Codes are single-use and
 * short-lived; a reused code also revokes the tokens issued from it. */
#include "idp.h"
#include "idp_pkce.h"
#include "idp_session.h"

#include "base64url.h"
#include "log.h"
#include "secmem.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Redirects to redirect_uri with the given query parameters (NULL-terminated
 * name/value pairs; NULL values skipped). */
static void redirect_with(struct idp_response *resp, const char *redirect_uri, ...)
{
	struct llv_buf b = LLV_BUF_INIT;
	va_list ap;
	const char *name;
	char sep = strchr(redirect_uri, '?') ? '&' : '?';

	llv_buf_put_str(&b, redirect_uri);
	va_start(ap, redirect_uri);
	while ((name = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		if (!value)
			continue;
		llv_buf_put_u8(&b, (uint8_t)sep);
		sep = '&';
		llv_buf_put_str(&b, name);
		llv_buf_put_u8(&b, '=');
		idp_url_escape(&b, value);
	}
	va_end(ap);
	llv_buf_put_u8(&b, 0);
	if (!llv_buf_ok(&b)) {
		idp_resp_error_page(resp, 500, "Error interno", "Sin memoria.");
	} else {
		idp_resp_redirect(resp, (const char *)b.data);
	}
	llv_buf_free(&b);
}

/* Issues a code for the session's pending authorization request and
 * redirects back to the client. */
static void issue_code(struct idp_ctx *ctx, struct idp_session *s, struct idp_response *resp)
{
	json_t *authz = idp_session_get(s, "authz");
	json_t *m = idp_session_get(s, "method");
	struct idp_code_row row;
	const char *client_id = json_string_value(json_object_get(authz, "client_id"));
	const char *redirect = json_string_value(json_object_get(authz, "redirect_uri"));
	const char *challenge = json_string_value(json_object_get(authz, "code_challenge"));
	const char *state = json_string_value(json_object_get(authz, "state"));
	char *code;

	if (!client_id || !redirect || !challenge) {
		idp_resp_error_page(resp, 400, "Solicitud inválida", "No hay una solicitud de acceso pendiente.");
		return;
	}
	memset(&row, 0, sizeof(row));
	if (!(code = idp_random_b64url(32))) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo generar el código.");
		return;
	}
	idp_store_hash(code, row.code_hash);
	snprintf(row.client_id, sizeof(row.client_id), "%s", client_id);
	snprintf(row.redirect_uri, sizeof(row.redirect_uri), "%s", redirect);
	snprintf(row.code_challenge, sizeof(row.code_challenge), "%s", challenge);
	snprintf(row.method, sizeof(row.method), "%s", json_is_string(m) ? json_string_value(m) : "");
	row.user_id = s->row.user_id;
	row.expires = time(NULL) + ctx->cfg.code_lifetime;
	if (ctx->store->ops->code_put(ctx->store->ctx, &row)) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo guardar el código.");
	} else {
		llv_info("oauth: código emitido para el cliente %s", client_id);
		redirect_with(resp, redirect, "code", code, "state", state, (const char *)NULL);
	}
	llv_wipe(code, strlen(code));
	free(code);
	idp_session_del(s, "authz");
}

void idp_route_authorize(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	const char *client_id = idp_req_query(req, "client_id");
	const char *redirect = idp_req_query(req, "redirect_uri");
	const char *response_type = idp_req_query(req, "response_type");
	const char *state = idp_req_query(req, "state");
	const char *challenge = idp_req_query(req, "code_challenge");
	const char *method = idp_req_query(req, "code_challenge_method");
	const struct idp_client *cl = idp_config_client(&ctx->cfg, client_id);
	struct idp_session *s;
	size_t i;

	/* Errors about the client or its redirect URI are shown here, never
	 * redirected (RFC 6749 4.1.2.1); so is a repeated parameter (3.1), since
	 * it makes client_id and redirect_uri ambiguous. */
	if (idp_req_query_repeated(req)) {
		idp_resp_error_page(resp, 400, "Solicitud inválida",
				    "Un parámetro de la solicitud de acceso aparece más de una vez.");
		return;
	}
	if (!cl) {
		idp_resp_error_page(resp, 400, "Aplicación desconocida",
				    "El client_id no corresponde a ninguna aplicación registrada.");
		return;
	}
	if (!redirect && cl->n_redirect_uris == 1)
		redirect = cl->redirect_uris[0];
	for (i = 0; redirect && i < cl->n_redirect_uris; i++)
		if (!strcmp(cl->redirect_uris[i], redirect))
			break;
	if (!redirect || i == cl->n_redirect_uris) {
		idp_resp_error_page(resp, 400, "Dirección de retorno inválida",
				    "La redirect_uri no coincide exactamente con la registrada para la aplicación.");
		return;
	}
	if (!response_type || strcmp(response_type, "code")) {
		redirect_with(resp, redirect, "error", "unsupported_response_type", "error_description",
			      "Solo se admite response_type=code", "state", state, (const char *)NULL);
		return;
	}
	if (!challenge || !method) {
		redirect_with(resp, redirect, "error", "invalid_request", "error_description",
			      "PKCE es obligatorio: code_challenge y code_challenge_method=S256",
			      "state", state, (const char *)NULL);
		return;
	}
	if (strcmp(method, "S256")) {
		redirect_with(resp, redirect, "error", "invalid_request", "error_description",
			      "Solo se admite code_challenge_method=S256", "state", state, (const char *)NULL);
		return;
	}
	if (!idp_pkce_challenge_well_formed(challenge)) {
		redirect_with(resp, redirect, "error", "invalid_request", "error_description",
			      "code_challenge mal formado", "state", state, (const char *)NULL);
		return;
	}
	if (!(s = idp_session_ensure(ctx, req, resp, IDP_SESSION_COOKIE))) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo crear la sesión.");
		return;
	}
	idp_session_set(s, "authz", json_pack("{s:s,s:s,s:s,s:s?}", "client_id", cl->client_id,
					      "redirect_uri", redirect, "code_challenge", challenge,
					      "state", state));
	if (s->row.user_id)
		issue_code(ctx, s, resp);
	else
		idp_resp_redirect(resp, "/entrar");
}

void idp_route_continue(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s = req->session;
	if (!s || !s->row.user_id)
		idp_resp_redirect(resp, "/entrar");
	else if (idp_session_get(s, "authz"))
		issue_code(ctx, s, resp);
	else
		idp_resp_redirect(resp, "/cuenta");
}

/* ---- token endpoint ---- */

static json_t *oauth_err(unsigned *status, unsigned code, const char *error, const char *desc)
{
	*status = code;
	return json_pack("{s:s,s:s}", "error", error, "error_description", desc);
}

/* client_id and secret from "Basic base64(id:secret)"; 0 or -1. */
static int basic_auth(const char *authorization, char *id, size_t idlen, char *secret, size_t slen)
{
	uint8_t *dec = NULL;
	size_t n = 0;
	char *colon;
	int rc = -1;
	if (strncasecmp(authorization, "Basic ", 6))
		return -1;
	if (llv_base64_decode(authorization + 6, strlen(authorization + 6), &dec, &n))
		return -1;
	if (memchr(dec, 0, n) == NULL && (colon = memchr(dec, ':', n)) != NULL &&
	    (size_t)(colon - (char *)dec) < idlen && n - (size_t)(colon - (char *)dec) <= slen) {
		memcpy(id, dec, (size_t)(colon - (char *)dec));
		id[colon - (char *)dec] = '\0';
		memcpy(secret, colon + 1, n - (size_t)(colon - (char *)dec) - 1);
		secret[n - (size_t)(colon - (char *)dec) - 1] = '\0';
		rc = 0;
	}
	llv_wipe(dec, n);
	free(dec);
	return rc;
}

static bool secret_equal(const char *a, const char *b)
{
	unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)a, strlen(a), ha);
	SHA256((const unsigned char *)b, strlen(b), hb);
	return llv_ct_memcmp(ha, hb, sizeof(ha)) == 0;
}

json_t *idp_oauth_token(struct idp_ctx *ctx, const struct idp_form *p, const char *authorization,
			unsigned *status)
{
	const char *grant = idp_form_get(p, "grant_type");
	const char *code = idp_form_get(p, "code");
	const char *redirect = idp_form_get(p, "redirect_uri");
	const char *verifier = idp_form_get(p, "code_verifier");
	const char *client_id = idp_form_get(p, "client_id");
	const char *secret = idp_form_get(p, "client_secret");
	char b_id[128], b_secret[256];
	const struct idp_client *cl;
	struct idp_code_row row;
	struct idp_token_row tok;
	char *access;
	json_t *out;
	int rc;

	if (authorization && *authorization) {
		if (basic_auth(authorization, b_id, sizeof(b_id), b_secret, sizeof(b_secret)))
			return oauth_err(status, 401, "invalid_client", "Autorización Basic mal formada");
		if ((client_id && strcmp(client_id, b_id)) || secret)
			return oauth_err(status, 400, "invalid_request",
					 "Credenciales del cliente en más de un lugar");
		client_id = b_id;
		secret = b_secret;
	}
	if (!grant)
		return oauth_err(status, 400, "invalid_request", "Falta grant_type");
	if (strcmp(grant, "authorization_code"))
		return oauth_err(status, 400, "unsupported_grant_type", "Solo se admite authorization_code");
	if (!client_id || !(cl = idp_config_client(&ctx->cfg, client_id)))
		return oauth_err(status, 401, "invalid_client", "Cliente desconocido");
	if (cl->client_secret && (!secret || !secret_equal(secret, cl->client_secret)))
		return oauth_err(status, 401, "invalid_client", "Autenticación del cliente fallida");
	if (!code)
		return oauth_err(status, 400, "invalid_request", "Falta code");

	memset(&row, 0, sizeof(row));
	idp_store_hash(code, row.code_hash);
	rc = ctx->store->ops->code_take(ctx->store->ctx, row.code_hash, &row);
	if (rc == IDP_STORE_NOT_FOUND)
		return oauth_err(status, 400, "invalid_grant", "Código desconocido");
	if (rc)
		return oauth_err(status, 500, "server_error", "Error de almacenamiento");
	if (row.used) {
		/* RFC 6749 4.1.2: revoke what the code already gave */
		ctx->store->ops->token_revoke_by_code(ctx->store->ctx, row.code_hash);
		llv_warn("oauth: código reutilizado por el cliente %s; tokens revocados", client_id);
		return oauth_err(status, 400, "invalid_grant", "El código ya fue usado");
	}
	if (time(NULL) >= row.expires)
		return oauth_err(status, 400, "invalid_grant", "El código expiró");
	if (strcmp(row.client_id, cl->client_id))
		return oauth_err(status, 400, "invalid_grant", "El código fue emitido para otro cliente");
	if (!redirect || strcmp(redirect, row.redirect_uri))
		return oauth_err(status, 400, "invalid_grant", "redirect_uri no coincide");
	if (!verifier)
		return oauth_err(status, 400, "invalid_grant", "Falta code_verifier (PKCE)");
	if (!idp_pkce_s256_ok(verifier, row.code_challenge))
		return oauth_err(status, 400, "invalid_grant", "code_verifier no corresponde (PKCE)");

	if (!(access = idp_random_b64url(32)))
		return oauth_err(status, 500, "server_error", "Sin aleatoriedad");
	memset(&tok, 0, sizeof(tok));
	idp_store_hash(access, tok.token_hash);
	memcpy(tok.code_hash, row.code_hash, sizeof(tok.code_hash));
	snprintf(tok.client_id, sizeof(tok.client_id), "%s", cl->client_id);
	snprintf(tok.method, sizeof(tok.method), "%s", row.method);
	tok.user_id = row.user_id;
	tok.expires = time(NULL) + ctx->cfg.token_lifetime;
	if (ctx->store->ops->token_put(ctx->store->ctx, &tok)) {
		out = oauth_err(status, 500, "server_error", "Error de almacenamiento");
	} else {
		*status = 200;
		out = json_pack("{s:s,s:s,s:I}", "access_token", access, "token_type", "Bearer",
				"expires_in", (json_int_t)ctx->cfg.token_lifetime);
		llv_info("oauth: token emitido para el cliente %s", cl->client_id);
	}
	llv_wipe(access, strlen(access));
	free(access);
	return out;
}

void idp_route_token(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	unsigned status = 500;
	const char *ct = idp_req_header(req, "Content-Type");
	json_t *out;
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
		idp_resp_oauth_error(resp, 400, "invalid_request",
				     "Se espera application/x-www-form-urlencoded");
		return;
	}
	out = idp_oauth_token(ctx, &req->form, idp_req_header(req, "Authorization"), &status);
	idp_resp_json(resp, status, out);
	idp_resp_header(resp, "Pragma", "no-cache");
	if (status == 401)
		idp_resp_header(resp, "WWW-Authenticate", "Basic realm=\"llavero-idp\"");
}

/* ---- user info ---- */

json_t *idp_oauth_claims(struct idp_ctx *ctx, const struct idp_user *u, const char *method)
{
	struct idp_credential one;
	size_t n = 0;
	char *sub = llv_base64url_encode(u->handle, sizeof(u->handle));
	json_t *j;
	ctx->store->ops->cred_list(ctx->store->ctx, u->id, &one, 1, &n);
	j = json_pack("{s:s?,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s}", "sub", sub, "curp", u->curp, "nombre",
		      u->display_name, "rfc", u->rfc, "correo", u->email, "efirma", u->efirma,
		      "llave_seguridad", n > 0, "metodo", method ? method : "", "persona", u->persona);
	if (j && !strcmp(u->persona, "moral"))
		json_object_set_new(j, "representante", json_pack("{s:s,s:s}", "rfc", u->rep_rfc,
								  "curp", u->rep_curp));
	free(sub);
	return j;
}

void idp_route_userinfo(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	const char *auth = idp_req_header(req, "Authorization");
	struct idp_token_row tok;
	struct idp_user u;
	char hash[65];

	if (!auth || strncasecmp(auth, "Bearer ", 7) || !auth[7]) {
		idp_resp_oauth_error(resp, 401, "invalid_request", "Falta el token Bearer");
		idp_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"llavero-idp\"");
		return;
	}
	idp_store_hash(auth + 7, hash);
	if (ctx->store->ops->token_get(ctx->store->ctx, hash, time(NULL), &tok) ||
	    ctx->store->ops->user_get(ctx->store->ctx, tok.user_id, &u)) {
		idp_resp_oauth_error(resp, 401, "invalid_token", "Token inválido, expirado o revocado");
		idp_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"llavero-idp\", error=\"invalid_token\"");
		return;
	}
	idp_resp_json(resp, 200, idp_oauth_claims(ctx, &u, tok.method));
}

void idp_route_metadata(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	char a[512], t[512], u[512];
	snprintf(a, sizeof(a), "%s/authorize", ctx->cfg.origin);
	snprintf(t, sizeof(t), "%s/token", ctx->cfg.origin);
	snprintf(u, sizeof(u), "%s/userinfo", ctx->cfg.origin);
	idp_resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:s,s:[s],s:[s],s:[s],s:[s,s,s]}",
					   "issuer", ctx->cfg.origin, "authorization_endpoint", a,
					   "token_endpoint", t, "userinfo_endpoint", u,
					   "response_types_supported", "code",
					   "grant_types_supported", "authorization_code",
					   "code_challenge_methods_supported", "S256",
					   "token_endpoint_auth_methods_supported", "client_secret_post",
					   "client_secret_basic", "none"));
}
