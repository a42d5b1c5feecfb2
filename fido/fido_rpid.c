/* Origins and RP IDs for the bridge: the registrable-domain rules live in
 * common/rpid.c (shared with verify/); here they map to the bridge's codes. */
#include "fido_bridge.h"
#include "rpid.h"

static int to_bridge(enum llv_rpid_result r)
{
	switch (r) {
	case LLV_RPID_OK:
		return FIDO_BRIDGE_OK;
	case LLV_RPID_BAD_ARG:
		return FIDO_BRIDGE_ERR_BAD_ARG;
	case LLV_RPID_ORIGIN:
		return FIDO_BRIDGE_ERR_ORIGIN;
	case LLV_RPID_INVALID:
	case LLV_RPID_PUBLIC_SUFFIX:
	default:
		return FIDO_BRIDGE_ERR_RPID;
	}
}

int fido_bridge_origin_host(const char *origin, char *host, size_t hostlen)
{
	return to_bridge(llv_origin_host(origin, host, hostlen));
}

int fido_bridge_rpid_check(const char *origin, const char *rp_id)
{
	return to_bridge(llv_rpid_check(origin, rp_id));
}
