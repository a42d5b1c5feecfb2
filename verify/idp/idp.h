/* llavero-idp: a development identity server shaped like Llave MX (OAuth 2.0
 * authorization code flow with PKCE, sign-in with e.firma through the agent
 * or with a security key/passkey, the FIDO conformance-tools server API, a
 * demo portal). What every part of the server shares: the server context,
 * the request and response of one HTTP exchange, and the route handlers. */
#ifndef LLAVERO_IDP_H
#define LLAVERO_IDP_H

#include "buf.h"
#include "idp_config.h"
#include "idp_form.h"
#include "idp_store.h"
#include "verify_nonce.h"
#include "verify_ocsp.h"
#include "verify_trust.h"
#include "verify_webauthn.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define IDP_BODY_MAX (64 * 1024)
#define IDP_SESSION_COOKIE "llv_sid"
#define IDP_DEMO_COOKIE "llv_demo"

struct idp_ctx {
	struct idp_config cfg;
	struct idp_store *store;
	struct verify_trust *trust;         /* e.firma issuers; NULL: none configured */
	struct verify_nonce_store nonces;   /* on the store (idp_nonce.c) */
	struct verify_webauthn_rp rp;
	struct verify_ocsp_opts ocsp;       /* when ocsp_enabled (idp_ocsp.c) */
	STACK_OF(X509) *ocsp_responders;    /* "ocsp_responders", ocsp.responders */
	bool ocsp_enabled;
};

struct idp_session;

struct idp_request {
	void *conn;                /* struct MHD_Connection */
	char method[8];
	char *path;
	struct llv_buf body;
	bool too_big;
	char ip[64];
	struct idp_form form;      /* parsed form body (POST urlencoded) */
	struct idp_session *session;
	struct idp_session *demo_session;
};

#define IDP_MAX_HEADERS 8

struct idp_response {
	unsigned status;
	const char *content_type;
	struct llv_buf body;
	char *headers[IDP_MAX_HEADERS][2];  /* extra headers (malloc'd) */
	size_t n_headers;
};

typedef void (*idp_handler)(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp);

/* ---- request accessors (idp_http.c) ---- */
const char *idp_req_header(struct idp_request *req, const char *name);
const char *idp_req_query(struct idp_request *req, const char *name);
/* A query parameter appears more than once (or too many parameters). */
bool idp_req_query_repeated(struct idp_request *req);
const char *idp_req_cookie(struct idp_request *req, const char *name);
/* Parses the body as a JSON object (Content-Type application/json); NULL and
 * a 400 JSON error already set on resp when it is not one. */
json_t *idp_req_json(struct idp_request *req, struct idp_response *resp);

/* ---- responses (idp_http.c) ---- */
void idp_resp_header(struct idp_response *resp, const char *name, const char *value);
/* Takes the reference to body. */
void idp_resp_json(struct idp_response *resp, unsigned status, json_t *body);
void idp_resp_html(struct idp_response *resp, unsigned status, struct llv_buf *html);
void idp_resp_text(struct idp_response *resp, unsigned status, const char *type, const char *text);
void idp_resp_redirect(struct idp_response *resp, const char *location);
/* A page with a title and a message (Spanish). */
void idp_resp_error_page(struct idp_response *resp, unsigned status, const char *title,
			 const char *message);
/* {"error": code, "error_description": desc} (RFC 6749 5.2 shape). */
void idp_resp_oauth_error(struct idp_response *resp, unsigned status, const char *code,
			  const char *desc);

/* ---- helpers ---- */
/* Appends s HTML-escaped. */
void idp_html_escape(struct llv_buf *b, const char *s);
/* Appends s percent-encoded for a URL query component. */
void idp_url_escape(struct llv_buf *b, const char *s);
/* Random base64url text of n bytes into a malloc'd string. */
char *idp_random_b64url(size_t n);

/* ---- CSRF (idp_csrf.c) ---- */
/* The Origin (or, without it, the Referer) names an allowed origin. */
bool idp_csrf_origin_ok(struct idp_ctx *ctx, struct idp_request *req);
/* A form POST: origin ok and form field "csrf" = the session's token. */
bool idp_csrf_form_ok(struct idp_ctx *ctx, struct idp_request *req);
/* A JSON POST: origin ok, Content-Type application/json and header
 * X-CSRF-Token = the session's token (conformance mode: token optional). */
bool idp_csrf_json_ok(struct idp_ctx *ctx, struct idp_request *req);

/* ---- rate limits (idp_ratelimit.c) ---- */
/* Counts one sign-in attempt for key ("ip:..." / "cuenta:...") in this
 * minute; false when over limit (and logged). */
bool idp_ratelimit_allow(struct idp_ctx *ctx, const char *key, long limit);

/* ---- nonces on the store (idp_nonce.c) ---- */
void idp_nonce_store_init(struct idp_ctx *ctx);

/* ---- OCSP over libcurl (idp_ocsp.c) ---- */
/* Sets ctx->ocsp up when the config names a responder. 0 or -1. */
int idp_ocsp_init(struct idp_ctx *ctx);
void idp_ocsp_cleanup(struct idp_ctx *ctx);

/* ---- routes ---- */
void idp_route_authorize(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_continue(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_token(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_userinfo(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_metadata(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_att_options(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_att_result(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_asr_options(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_asr_result(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_efirma_challenge(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_efirma_login(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_home(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_signin(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_account(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_logout(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_static(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_demo(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_demo_login(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_demo_callback(struct idp_ctx *, struct idp_request *, struct idp_response *);
void idp_route_demo_logout(struct idp_ctx *, struct idp_request *, struct idp_response *);

/* ---- OAuth internals the demo portal uses in-process (idp_routes_oauth.c) ---- */
/* The token endpoint on parsed parameters: returns the JSON answer (success
 * or RFC 6749 error) and sets *status. */
json_t *idp_oauth_token(struct idp_ctx *ctx, const struct idp_form *params,
			const char *authorization, unsigned *status);
/* The user-info claims of a user (and how they signed in). */
json_t *idp_oauth_claims(struct idp_ctx *ctx, const struct idp_user *u, const char *method);
/* Runs the server until SIGINT/SIGTERM (idp_http.c). */
int idp_http_serve(struct idp_ctx *ctx, const char *listen, const char *port_file);

#endif
