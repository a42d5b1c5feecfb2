/* Sessions of llavero-idp: a random 256-bit ID in an HttpOnly, SameSite=Lax
 * cookie (Secure when the origin is https:), stored by its SHA-256; a CSRF
 * token per session; per-session JSON data (pending authorization request,
 * pending WebAuthn ceremony, e.firma nonce). Signing in rotates the ID. */
#ifndef LLAVERO_IDP_SESSION_H
#define LLAVERO_IDP_SESSION_H

#include "idp.h"

struct idp_session {
	const char *cookie;       /* cookie name */
	char id[64];              /* the cookie value (never logged) */
	struct idp_session_row row;
	json_t *data;
	bool dirty;
};

/* Loads the session named by the request's cookie; NULL when none/expired. */
struct idp_session *idp_session_load(struct idp_ctx *ctx, struct idp_request *req,
				     const char *cookie);
/* The loaded session, or a new one (Set-Cookie on resp); NULL on error. */
struct idp_session *idp_session_ensure(struct idp_ctx *ctx, struct idp_request *req,
				       struct idp_response *resp, const char *cookie);
/* Signs user_id in with method ("efirma", "llave_seguridad"): new ID, same data. */
int idp_session_login(struct idp_ctx *ctx, struct idp_session *s, struct idp_response *resp,
		      int64_t user_id, const char *method);
/* Ends the session and clears the cookie. */
void idp_session_destroy(struct idp_ctx *ctx, struct idp_session *s, struct idp_response *resp);
/* Writes it back when changed. */
int idp_session_save(struct idp_ctx *ctx, struct idp_session *s);
void idp_session_free(struct idp_session *s);
/* Data access */
json_t *idp_session_get(struct idp_session *s, const char *key);
void idp_session_set(struct idp_session *s, const char *key, json_t *value /* stolen */);
void idp_session_del(struct idp_session *s, const char *key);

#endif
