/* The verify library's nonce store interface on the idp store, so e.firma
 * challenges survive a restart and stay single-use. */
#include "idp.h"

#include "verify_errors.h"

static int st_issue(void *c, const char *nonce, time_t now, time_t expires_at)
{
	struct idp_ctx *ctx = c;
	(void)now;
	return ctx->store->ops->nonce_put(ctx->store->ctx, nonce, expires_at) ? VERIFY_ERR_INTERNAL
									      : VERIFY_OK;
}

static int st_consume(void *c, const char *nonce, time_t now)
{
	struct idp_ctx *ctx = c;
	switch (ctx->store->ops->nonce_take(ctx->store->ctx, nonce, now)) {
	case 0: return VERIFY_OK;
	case IDP_STORE_NOT_FOUND: return VERIFY_ERR_NONCE_UNKNOWN;
	case IDP_NONCE_USED: return VERIFY_ERR_NONCE_REUSED;
	case IDP_NONCE_EXPIRED: return VERIFY_ERR_NONCE_EXPIRED;
	default: return VERIFY_ERR_INTERNAL;
	}
}

void idp_nonce_store_init(struct idp_ctx *ctx)
{
	ctx->nonces.ctx = ctx;
	ctx->nonces.issue = st_issue;
	ctx->nonces.consume = st_consume;
	ctx->nonces.destroy = NULL;
}
