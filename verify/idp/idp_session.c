/* Sessions: cookie, storage by hash, CSRF token, ID rotation on sign-in. */
#include "idp_session.h"

#include "log.h"
#include "secmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void set_cookie(struct idp_ctx *ctx, struct idp_response *resp, const char *name,
		       const char *value, long max_age)
{
	char hdr[256];
	snprintf(hdr, sizeof(hdr), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld%s", name,
		 value, max_age, ctx->cfg.secure_cookies ? "; Secure" : "");
	idp_resp_header(resp, "Set-Cookie", hdr);
}

static bool cookie_value_ok(const char *v)
{
	size_t n = strlen(v);
	if (n < 40 || n > 60)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

struct idp_session *idp_session_load(struct idp_ctx *ctx, struct idp_request *req, const char *cookie)
{
	const char *v = idp_req_cookie(req, cookie);
	struct idp_session *s;
	char hash[65];
	int rc;

	if (!v || !cookie_value_ok(v))
		return NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	idp_store_hash(v, hash);
	rc = ctx->store->ops->session_get(ctx->store->ctx, hash, time(NULL), &s->row);
	if (rc) {
		free(s);
		return NULL;
	}
	s->data = json_loads(s->row.data, 0, NULL);
	if (!json_is_object(s->data)) {
		json_decref(s->data);
		s->data = json_object();
	}
	s->cookie = cookie;
	snprintf(s->id, sizeof(s->id), "%s", v);
	return s;
}

static int new_id(struct idp_session *s)
{
	char *id = idp_random_b64url(32);
	char *csrf;
	if (!id)
		return -1;
	snprintf(s->id, sizeof(s->id), "%s", id);
	idp_store_hash(id, s->row.id_hash);
	llv_wipe(id, strlen(id));
	free(id);
	if (!s->row.csrf[0]) {
		if (!(csrf = idp_random_b64url(32)))
			return -1;
		snprintf(s->row.csrf, sizeof(s->row.csrf), "%s", csrf);
		free(csrf);
	}
	return 0;
}

struct idp_session *idp_session_ensure(struct idp_ctx *ctx, struct idp_request *req,
				       struct idp_response *resp, const char *cookie)
{
	struct idp_session **slot = !strcmp(cookie, IDP_DEMO_COOKIE) ? &req->demo_session
								    : &req->session;
	struct idp_session *s;
	if (*slot)
		return *slot;
	if ((*slot = idp_session_load(ctx, req, cookie)))
		return *slot;
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->cookie = cookie;
	s->data = json_object();
	if (!s->data || new_id(s)) {
		idp_session_free(s);
		return NULL;
	}
	s->row.expires = time(NULL) + ctx->cfg.session_lifetime;
	s->dirty = true;
	set_cookie(ctx, resp, cookie, s->id, ctx->cfg.session_lifetime);
	*slot = s;
	return s;
}

int idp_session_login(struct idp_ctx *ctx, struct idp_session *s, struct idp_response *resp,
		      int64_t user_id, const char *method)
{
	char *csrf;
	ctx->store->ops->session_delete(ctx->store->ctx, s->row.id_hash);
	if (new_id(s))
		return -1;
	/* a new CSRF token too: nothing seen before sign-in stays valid */
	if (!(csrf = idp_random_b64url(32)))
		return -1;
	snprintf(s->row.csrf, sizeof(s->row.csrf), "%s", csrf);
	free(csrf);
	s->row.user_id = user_id;
	s->row.expires = time(NULL) + ctx->cfg.session_lifetime;
	idp_session_set(s, "method", json_string(method));
	s->dirty = true;
	set_cookie(ctx, resp, s->cookie, s->id, ctx->cfg.session_lifetime);
	return idp_session_save(ctx, s);
}

void idp_session_destroy(struct idp_ctx *ctx, struct idp_session *s, struct idp_response *resp)
{
	ctx->store->ops->session_delete(ctx->store->ctx, s->row.id_hash);
	set_cookie(ctx, resp, s->cookie, "", 0);
	s->dirty = false;
	s->row.user_id = 0;
	json_object_clear(s->data);
}

int idp_session_save(struct idp_ctx *ctx, struct idp_session *s)
{
	int rc;
	if (!s || !s->dirty)
		return 0;
	free(s->row.data);
	s->row.data = json_dumps(s->data, JSON_COMPACT);
	if (!s->row.data)
		return -1;
	rc = ctx->store->ops->session_put(ctx->store->ctx, &s->row);
	if (!rc)
		s->dirty = false;
	return rc;
}

void idp_session_free(struct idp_session *s)
{
	if (!s)
		return;
	free(s->row.data);
	json_decref(s->data);
	llv_wipe(s, sizeof(*s));
	free(s);
}

json_t *idp_session_get(struct idp_session *s, const char *key)
{
	return s ? json_object_get(s->data, key) : NULL;
}

void idp_session_set(struct idp_session *s, const char *key, json_t *value)
{
	json_object_set_new(s->data, key, value);
	s->dirty = true;
}

void idp_session_del(struct idp_session *s, const char *key)
{
	if (json_object_del(s->data, key) == 0)
		s->dirty = true;
}
