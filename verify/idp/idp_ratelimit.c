/* Rate limits on sign-in attempts: a counter per key (client IP, account)
 * and minute in the store. Keys never hold secrets. */
#include "idp.h"

#include "log.h"

#include <time.h>

bool idp_ratelimit_allow(struct idp_ctx *ctx, const char *key, long limit)
{
	time_t now = time(NULL);
	long count = 0;
	if (ctx->store->ops->rate_hit(ctx->store->ctx, key, now - now % 60, &count)) {
		llv_error("límite: no se pudo contar el intento (%s)", key);
		return false;   /* fail closed */
	}
	if (count > limit) {
		llv_warn("límite: %s superó %ld intentos por minuto", key, limit);
		return false;
	}
	return true;
}
