/* The pages people see: sign-in ("Entrar con e.firma", "Entrar con llave de
 * seguridad", create a passkey account), the account page (passkey
 * registration for a signed-in person, sign-out), error pages, and the
 * static script and style sheet the pages use (no inline script: the CSP
 * allows scripts from this origin only). */
#include "idp.h"
#include "idp_pages.h"
#include "idp_session.h"

#include "secmem.h"

#include <stdio.h>
#include <string.h>

void idp_page_begin(struct llv_buf *b, const char *title, const char *csrf)
{
	llv_buf_put_str(b, "<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
			   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			   "<title>");
	idp_html_escape(b, title);
	llv_buf_put_str(b, "</title>");
	if (csrf) {
		llv_buf_put_str(b, "<meta name=\"csrf-token\" content=\"");
		idp_html_escape(b, csrf);
		llv_buf_put_str(b, "\">");
	}
	llv_buf_put_str(b, "<link rel=\"stylesheet\" href=\"/static/idp.css\">"
			   /* web/llavero.js first: idp.js uses its window.llavero */
			   "<script src=\"/static/llavero.js\" defer></script>"
			   "<script src=\"/static/idp.js\" defer></script></head>\n<body><main>\n<h1>");
	idp_html_escape(b, title);
	llv_buf_put_str(b, "</h1>\n");
}

void idp_page_end(struct llv_buf *b)
{
	llv_buf_put_str(b, "\n<p class=\"pie\">llavero-idp · servidor de identidad de desarrollo</p>"
			   "</main></body></html>\n");
}

void idp_resp_error_page(struct idp_response *resp, unsigned status, const char *title, const char *message)
{
	struct llv_buf b = LLV_BUF_INIT;
	idp_page_begin(&b, title, NULL);
	llv_buf_put_str(&b, "<p class=\"error\">");
	idp_html_escape(&b, message);
	llv_buf_put_str(&b, "</p><p><a href=\"/\">Volver al inicio</a></p>");
	idp_page_end(&b);
	idp_resp_html(resp, status, &b);
}

void idp_route_home(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	idp_resp_redirect(resp, req->session && req->session->row.user_id ? "/cuenta" : "/entrar");
}

void idp_route_signin(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s = idp_session_ensure(ctx, req, resp, IDP_SESSION_COOKIE);
	struct llv_buf b = LLV_BUF_INIT;
	json_t *authz;
	const struct idp_client *cl = NULL;

	if (!s) {
		idp_resp_error_page(resp, 500, "Error interno", "No se pudo crear la sesión.");
		return;
	}
	authz = idp_session_get(s, "authz");
	if (authz)
		cl = idp_config_client(&ctx->cfg, json_string_value(json_object_get(authz, "client_id")));
	idp_page_begin(&b, "Entrar", s->row.csrf);
	if (cl) {
		llv_buf_put_str(&b, "<p class=\"aviso\">La aplicación <strong>");
		idp_html_escape(&b, cl->name ? cl->name : cl->client_id);
		llv_buf_put_str(&b, "</strong> solicita saber quién es usted: nombre, CURP, RFC y correo.</p>\n");
	}
	if (s->row.user_id)
		llv_buf_put_str(&b, "<p>Ya inició sesión. <a href=\"/continuar\">Continuar</a></p>\n");
	llv_buf_put_str(&b,
		"<section class=\"opciones\">\n"
		"<button id=\"btn-efirma\" type=\"button\">Entrar con e.firma</button>\n"
		"<p class=\"ayuda\">Con su e.firma del SAT en un token, una tarjeta o en archivos"
		" .cer/.key, a través del agente Llavero.</p>\n"
		"<button id=\"btn-llave\" type=\"button\">Entrar con llave de seguridad</button>\n"
		"<p class=\"ayuda\">Con una llave de seguridad FIDO2 o una llave de acceso (passkey).</p>\n"
		"</section>\n");
	if (ctx->cfg.open_registration)
		llv_buf_put_str(&b,
			"<section class=\"registro\"><h2>¿Aún no tiene cuenta?</h2>\n"
			"<p>Cree una con su llave de seguridad (en producción, primero se entra con"
			" e.firma).</p>\n"
			"<label for=\"usuario\">Usuario</label> <input id=\"usuario\" autocomplete=\"username webauthn\">\n"
			"<label for=\"nombre\">Nombre</label> <input id=\"nombre\" autocomplete=\"name\">\n"
			"<button id=\"btn-crear\" type=\"button\">Crear cuenta con llave de seguridad</button>\n"
			"</section>\n");
	llv_buf_put_str(&b, "<p id=\"msg\" role=\"status\" aria-live=\"polite\"></p>\n");
	idp_page_end(&b);
	idp_resp_html(resp, 200, &b);
}

static void row(struct llv_buf *b, const char *label, const char *value)
{
	llv_buf_put_str(b, "<tr><th>");
	idp_html_escape(b, label);
	llv_buf_put_str(b, "</th><td>");
	idp_html_escape(b, value && *value ? value : "—");
	llv_buf_put_str(b, "</td></tr>\n");
}

void idp_route_account(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	struct idp_session *s = req->session;
	struct llv_buf b = LLV_BUF_INIT;
	struct idp_credential creds[8];
	struct idp_user u;
	size_t n = 0;
	char count[32];

	if (!s || !s->row.user_id || ctx->store->ops->user_get(ctx->store->ctx, s->row.user_id, &u)) {
		idp_resp_redirect(resp, "/entrar");
		return;
	}
	ctx->store->ops->cred_list(ctx->store->ctx, u.id, creds, 8, &n);
	snprintf(count, sizeof(count), "%zu", n);
	idp_page_begin(&b, "Su cuenta", s->row.csrf);
	llv_buf_put_str(&b, "<table class=\"datos\">\n");
	row(&b, "Nombre", u.display_name);
	row(&b, "CURP", u.curp);
	row(&b, "RFC", u.rfc);
	row(&b, "Correo", u.email);
	row(&b, "Identidad verificada con e.firma", u.efirma ? "Sí" : "No");
	row(&b, "Llaves de seguridad registradas", count);
	llv_buf_put_str(&b, "</table>\n"
			   "<button id=\"btn-registrar\" type=\"button\">Registrar una llave de seguridad</button>\n"
			   "<p id=\"msg\" role=\"status\" aria-live=\"polite\"></p>\n"
			   "<form method=\"post\" action=\"/salir\"><input type=\"hidden\" name=\"csrf\" value=\"");
	idp_html_escape(&b, s->row.csrf);
	llv_buf_put_str(&b, "\"><button type=\"submit\">Salir</button></form>\n");
	idp_page_end(&b);
	idp_resp_html(resp, 200, &b);
}

void idp_route_logout(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	if (!idp_csrf_form_ok(ctx, req)) {
		idp_resp_error_page(resp, 403, "Solicitud rechazada",
				    "La solicitud no vino de esta página (protección CSRF).");
		return;
	}
	idp_session_destroy(ctx, req->session, resp);
	idp_resp_redirect(resp, "/entrar");
}

static const char idp_js[] =
#include "idp_js.inc"
	;

/* web/llavero.js, the page client of the Llavero extension (embedded at build time). */
static const char llavero_js[] =
#include "llavero_js.inc"
	;

static const char idp_css[] =
	"body{font-family:system-ui,sans-serif;background:#f6f3ee;color:#222;margin:0}"
	"main{max-width:40rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:8px;"
	"box-shadow:0 1px 4px #0002}"
	"h1{color:#611232;margin-top:0}h2{color:#611232;font-size:1.1rem}"
	"button{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem;border:0;"
	"border-radius:6px;background:#611232;color:#fff;cursor:pointer}"
	"button:hover{background:#9d2449}.ayuda{color:#555;font-size:.9rem;margin-top:0}"
	"input{display:block;width:100%;padding:.5rem;margin:.2rem 0 .6rem;box-sizing:border-box}"
	".aviso{background:#f3e9ec;padding:.8rem;border-radius:6px}.error{color:#a00}"
	"#msg{min-height:1.5rem;font-weight:bold}table.datos th{text-align:left;padding-right:1rem}"
	".pie{color:#888;font-size:.8rem;margin-top:2rem}"
	"a.boton{display:block;text-align:center;padding:.8rem;background:#611232;color:#fff;"
	"border-radius:6px;text-decoration:none}a.boton:hover{background:#9d2449}";

void idp_route_static(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	if (!strcmp(req->path, "/static/idp.js"))
		idp_resp_text(resp, 200, "text/javascript; charset=utf-8", idp_js);
	else if (!strcmp(req->path, "/static/llavero.js"))
		idp_resp_text(resp, 200, "text/javascript; charset=utf-8", llavero_js);
	else
		idp_resp_text(resp, 200, "text/css; charset=utf-8", idp_css);
}
