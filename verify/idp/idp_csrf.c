/* CSRF protection for every POST that rides on the session cookie: the
 * request's Origin (or Referer) must be an allowed origin, and it must carry
 * the session's synchronizer token (form field "csrf" or header
 * X-CSRF-Token). The token endpoint is not cookie-based (client credentials
 * and PKCE) and does not come here. */
#include "idp.h"
#include "idp_session.h"

#include "log.h"
#include "secmem.h"

#include <string.h>
#include <strings.h>

bool idp_csrf_origin_ok(struct idp_ctx *ctx, struct idp_request *req)
{
	const char *origin = idp_req_header(req, "Origin");
	const char *referer;

	if (origin) {
		if (idp_config_origin_allowed(&ctx->cfg, origin))
			return true;
		llv_warn("csrf: origen no permitido en %s", req->path);
		return false;
	}
	referer = idp_req_header(req, "Referer");
	if (referer) {
		for (size_t i = 0; i < ctx->cfg.n_origins; i++) {
			size_t n = strlen(ctx->cfg.origins[i]);
			if (!strncmp(referer, ctx->cfg.origins[i], n) &&
			    (referer[n] == '/' || referer[n] == '\0'))
				return true;
		}
		llv_warn("csrf: Referer de otro origen en %s", req->path);
		return false;
	}
	llv_warn("csrf: POST sin Origin ni Referer en %s", req->path);
	return false;
}

static bool token_ok(struct idp_request *req, const char *token)
{
	size_t n;
	if (!req->session || !token || !req->session->row.csrf[0])
		return false;
	n = strlen(req->session->row.csrf);
	return strlen(token) == n && llv_ct_memcmp(token, req->session->row.csrf, n) == 0;
}

bool idp_csrf_form_ok(struct idp_ctx *ctx, struct idp_request *req)
{
	if (!idp_csrf_origin_ok(ctx, req))
		return false;
	if (!token_ok(req, idp_form_get(&req->form, "csrf"))) {
		llv_warn("csrf: token ausente o incorrecto en %s", req->path);
		return false;
	}
	return true;
}

bool idp_csrf_json_ok(struct idp_ctx *ctx, struct idp_request *req)
{
	const char *ct = idp_req_header(req, "Content-Type");
	const char *token = idp_req_header(req, "X-CSRF-Token");

	/* application/json cannot be sent cross-site without a CORS preflight,
	 * which this server never grants. */
	if (!ct || strncasecmp(ct, "application/json", 16)) {
		llv_warn("csrf: %s sin Content-Type application/json", req->path);
		return false;
	}
	if (ctx->cfg.conformance) {
		/* conformance tools send neither Origin nor a token */
		const char *origin = idp_req_header(req, "Origin");
		return !origin || idp_config_origin_allowed(&ctx->cfg, origin) ||
		       (llv_warn("csrf: origen no permitido en %s", req->path), false);
	}
	if (!idp_csrf_origin_ok(ctx, req))
		return false;
	if (!token_ok(req, token)) {
		llv_warn("csrf: X-CSRF-Token ausente o incorrecto en %s", req->path);
		return false;
	}
	return true;
}
