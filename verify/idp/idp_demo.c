/* The demo portal "Registro a la Beca Rita Cetina" at /demo: a separate
 * OAuth client of this same server (client_id beca-rita-cetina, a
 * confidential client with a secret made at start-up) with its own session
 * cookie. It signs in through /authorize with PKCE like any portal would and
 * redeems the code through the token endpoint's own code path (in-process:
 * the server answers one request at a time, so it cannot call itself over
 * HTTP), then shows who signed in. */
#include "idp.h"
#include "idp_pages.h"
#include "idp_pkce.h"
#include "idp_session.h"

#include "log.h"
#include "secmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEMO_CLIENT "beca-rita-cetina"
#define DEMO_TITLE "Registro a la Beca Rita Cetina"

static const struct idp_client *demo_client(struct idp_ctx *ctx, struct idp_response *resp)
{
	const struct idp_client *cl = ctx->cfg.demo ? idp_config_client(&ctx->cfg, DEMO_CLIENT) : NULL;
	if (!cl)
		idp_resp_error_page(resp, 404, "Portal de demostración desactivado",
				    "Este servidor no tiene el portal de demostración (\"demo\": false).");
	return cl;
}

static void claim_row(struct llv_buf *b, const char *label, json_t *claims, const char *key)
{
	const char *v = json_string_value(json_object_get(claims, key));
	llv_buf_put_str(b, "<tr><th>");
	idp_html_escape(b, label);
	llv_buf_put_str(b, "</th><td id=\"demo-");
	idp_html_escape(b, key);
	llv_buf_put_str(b, "\">");
	idp_html_escape(b, v && *v ? v : "—");
	llv_buf_put_str(b, "</td></tr>\n");
}

void idp_route_demo(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s;
	struct llv_buf b = LLV_BUF_INIT;
	json_t *user;

	if (!demo_client(ctx, resp))
		return;
	if (!(s = idp_session_ensure(ctx, req, resp, IDP_DEMO_COOKIE))) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo crear la sesión.");
		return;
	}
	user = idp_session_get(s, "user");
	idp_page_begin(&b, DEMO_TITLE, NULL);
	if (json_is_object(user)) {
		const char *metodo = json_string_value(json_object_get(user, "metodo"));
		llv_buf_put_str(&b, "<p class=\"aviso\">Bienvenida o bienvenido. Estos datos vienen de su"
				   " cuenta de identidad:</p>\n<table class=\"datos\">\n");
		claim_row(&b, "Nombre", user, "nombre");
		claim_row(&b, "CURP", user, "curp");
		claim_row(&b, "RFC", user, "rfc");
		claim_row(&b, "Correo", user, "correo");
		if (json_is_object(json_object_get(user, "representante")))
			claim_row(&b, "Representante legal (RFC)", json_object_get(user, "representante"), "rfc");
		llv_buf_put_str(&b, "<tr><th>Cómo entró</th><td id=\"demo-metodo\">");
		idp_html_escape(&b, metodo && !strcmp(metodo, "efirma") ? "e.firma"
				    : metodo && !strcmp(metodo, "llave_seguridad") ? "llave de seguridad" : "—");
		llv_buf_put_str(&b, "</td></tr>\n</table>\n<p>Su solicitud de registro a la beca quedó"
				   " iniciada (demostración).</p>\n"
				   "<form method=\"post\" action=\"/demo/salir\"><input type=\"hidden\" name=\"csrf\" value=\"");
		idp_html_escape(&b, s->row.csrf);
		llv_buf_put_str(&b, "\"><button type=\"submit\">Salir del portal</button></form>\n");
	} else {
		llv_buf_put_str(&b, "<p>La Beca Universal Rita Cetina apoya a estudiantes de secundaria."
				   " Para registrarse, identifíquese con su cuenta de identidad digital.</p>\n"
				   "<p><a class=\"boton\" id=\"demo-entrar\" href=\"/demo/entrar\">"
				   "Entrar con Llave MX (llavero-idp)</a></p>\n");
	}
	idp_page_end(&b);
	idp_resp_html(resp, 200, &b);
}

void idp_route_demo_login(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	const struct idp_client *cl = demo_client(ctx, resp);
	struct idp_session *s;
	char *state = NULL, *verifier = NULL, *challenge = NULL;
	struct llv_buf url = LLV_BUF_INIT;

	if (!cl)
		return;
	if (!(s = idp_session_ensure(ctx, req, resp, IDP_DEMO_COOKIE)) || !(state = idp_random_b64url(24)) ||
	    !(verifier = idp_random_b64url(32))) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo iniciar el acceso.");
		goto out;
	}
	if (!(challenge = idp_pkce_s256(verifier))) {
		idp_resp_error_page(resp, 500, "Error interno", "Sin memoria.");
		goto out;
	}
	idp_session_set(s, "state", json_string(state));
	idp_session_set(s, "verifier", json_string(verifier));
	llv_buf_put_str(&url, "/authorize?response_type=code&client_id=");
	idp_url_escape(&url, cl->client_id);
	llv_buf_put_str(&url, "&redirect_uri=");
	idp_url_escape(&url, cl->redirect_uris[0]);
	llv_buf_put_str(&url, "&state=");
	idp_url_escape(&url, state);
	llv_buf_put_str(&url, "&code_challenge=");
	idp_url_escape(&url, challenge);
	llv_buf_put_str(&url, "&code_challenge_method=S256&scope=openid");
	llv_buf_put_u8(&url, 0);
	if (llv_buf_ok(&url))
		idp_resp_redirect(resp, (const char *)url.data);
	else
		idp_resp_error_page(resp, 500, "Error interno", "Sin memoria.");
out:
	free(state);
	if (verifier)
		llv_wipe(verifier, strlen(verifier));
	free(verifier);
	free(challenge);
	llv_buf_free(&url);
}

void idp_route_demo_callback(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	const struct idp_client *cl = demo_client(ctx, resp);
	struct idp_session *s;
	const char *state = idp_req_query(req, "state");
	const char *code = idp_req_query(req, "code");
	const char *error = idp_req_query(req, "error");
	const char *want_state, *verifier, *access;
	struct idp_form p;
	struct idp_token_row tok;
	struct idp_user u;
	unsigned status = 0;
	json_t *answer;
	char hash[65];

	if (!cl)
		return;
	s = idp_session_load(ctx, req, IDP_DEMO_COOKIE);
	req->demo_session = s;
	want_state = json_string_value(idp_session_get(s, "state"));
	verifier = json_string_value(idp_session_get(s, "verifier"));
	if (!s || !want_state || !verifier || !state || strlen(state) != strlen(want_state) ||
	    llv_ct_memcmp(state, want_state, strlen(state))) {
		idp_resp_error_page(resp, 400, DEMO_TITLE, "La respuesta no corresponde a un acceso iniciado"
				    " aquí (state inválido). Vuelva a intentarlo.");
		return;
	}
	if (error || !code) {
		idp_resp_error_page(resp, 400, DEMO_TITLE, "El servidor de identidad no autorizó el acceso.");
		idp_session_del(s, "state");
		return;
	}
	/* the token request exactly as a portal sends it */
	memset(&p, 0, sizeof(p));
	p.names[0] = (char *)"grant_type";    p.values[0] = (char *)"authorization_code";
	p.names[1] = (char *)"code";          p.values[1] = (char *)code;
	p.names[2] = (char *)"redirect_uri";  p.values[2] = cl->redirect_uris[0];
	p.names[3] = (char *)"client_id";     p.values[3] = cl->client_id;
	p.names[4] = (char *)"client_secret"; p.values[4] = cl->client_secret;
	p.names[5] = (char *)"code_verifier"; p.values[5] = (char *)verifier;
	p.n = 6;
	answer = idp_oauth_token(ctx, &p, NULL, &status);
	idp_session_del(s, "state");
	access = json_string_value(json_object_get(answer, "access_token"));
	if (status != 200 || !access) {
		llv_warn("demo: el canje del código falló: %s",
			 json_string_value(json_object_get(answer, "error")));
		json_decref(answer);
		idp_resp_error_page(resp, 400, DEMO_TITLE, "No se pudo canjear el código de acceso.");
		return;
	}
	/* user info, as GET /userinfo answers it */
	idp_store_hash(access, hash);
	if (ctx->store->ops->token_get(ctx->store->ctx, hash, time(NULL), &tok) ||
	    ctx->store->ops->user_get(ctx->store->ctx, tok.user_id, &u)) {
		json_decref(answer);
		idp_resp_error_page(resp, 500, DEMO_TITLE, "No se pudieron leer los datos de la persona.");
		return;
	}
	json_decref(answer);
	idp_session_del(s, "verifier");
	idp_session_set(s, "user", idp_oauth_claims(ctx, &u, tok.method));
	idp_resp_redirect(resp, "/demo");
}

void idp_route_demo_logout(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s = idp_session_load(ctx, req, IDP_DEMO_COOKIE);
	const char *token = idp_form_get(&req->form, "csrf");
	req->demo_session = s;
	if (!s || !token || !idp_csrf_origin_ok(ctx, req) || strlen(token) != strlen(s->row.csrf) ||
	    llv_ct_memcmp(token, s->row.csrf, strlen(token))) {
		idp_resp_error_page(resp, 403, "Solicitud rechazada",
				    "La solicitud no vino de esta página (protección CSRF).");
		return;
	}
	idp_session_destroy(ctx, s, resp);
	idp_resp_redirect(resp, "/demo");
}
