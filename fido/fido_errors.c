/* Bridge error codes: stable names and the mapping from libfido2's. */
#include "fido_bridge.h"

const char *fido_bridge_err_name(int err)
{
	switch (err) {
	case FIDO_BRIDGE_OK: return "ok";
	case FIDO_BRIDGE_ERR_BAD_ARG: return "bad-argument";
	case FIDO_BRIDGE_ERR_ORIGIN: return "origin-not-allowed";
	case FIDO_BRIDGE_ERR_RPID: return "rp-id-not-allowed";
	case FIDO_BRIDGE_ERR_NO_DEVICE: return "no-device";
	case FIDO_BRIDGE_ERR_DEVICE: return "device-lost";
	case FIDO_BRIDGE_ERR_PIN_REQUIRED: return "pin-required";
	case FIDO_BRIDGE_ERR_PIN_INVALID: return "pin-invalid";
	case FIDO_BRIDGE_ERR_PIN_BLOCKED: return "pin-blocked";
	case FIDO_BRIDGE_ERR_PIN_POLICY: return "pin-policy";
	case FIDO_BRIDGE_ERR_CANCELLED: return "cancelled";
	case FIDO_BRIDGE_ERR_TIMEOUT: return "timeout";
	case FIDO_BRIDGE_ERR_EXCLUDED: return "credential-excluded";
	case FIDO_BRIDGE_ERR_NO_CREDENTIALS: return "no-credentials";
	case FIDO_BRIDGE_ERR_UNSUPPORTED: return "not-supported";
	case FIDO_BRIDGE_ERR_NOT_ALLOWED: return "not-allowed";
	default: return "internal";
	}
}

int fido_bridge_map_fido_err(int r)
{
	switch (r) {
	case FIDO_OK:
		return FIDO_BRIDGE_OK;
	case FIDO_ERR_TX:
	case FIDO_ERR_RX:
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
	case FIDO_ERR_INVALID_CHANNEL:
	case FIDO_ERR_CHANNEL_BUSY:
		return FIDO_BRIDGE_ERR_DEVICE;
	case FIDO_ERR_PIN_REQUIRED:
	case FIDO_ERR_PIN_NOT_SET:
	case FIDO_ERR_UV_INVALID:
		return FIDO_BRIDGE_ERR_PIN_REQUIRED;
	case FIDO_ERR_PIN_INVALID:
	case FIDO_ERR_PIN_AUTH_INVALID:
		return FIDO_BRIDGE_ERR_PIN_INVALID;
	case FIDO_ERR_PIN_BLOCKED:
	case FIDO_ERR_PIN_AUTH_BLOCKED:
	case FIDO_ERR_UV_BLOCKED:
		return FIDO_BRIDGE_ERR_PIN_BLOCKED;
	case FIDO_ERR_PIN_POLICY_VIOLATION:
		return FIDO_BRIDGE_ERR_PIN_POLICY;
	case FIDO_ERR_KEEPALIVE_CANCEL:
	case FIDO_ERR_OPERATION_DENIED:
		return FIDO_BRIDGE_ERR_CANCELLED;
	case FIDO_ERR_ACTION_TIMEOUT:
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_USER_ACTION_PENDING:
		return FIDO_BRIDGE_ERR_TIMEOUT;
	case FIDO_ERR_CREDENTIAL_EXCLUDED:
		return FIDO_BRIDGE_ERR_EXCLUDED;
	case FIDO_ERR_NO_CREDENTIALS:
		return FIDO_BRIDGE_ERR_NO_CREDENTIALS;
	case FIDO_ERR_UNSUPPORTED_ALGORITHM:
	case FIDO_ERR_UNSUPPORTED_OPTION:
	case FIDO_ERR_UNSUPPORTED_EXTENSION:
	case FIDO_ERR_INVALID_OPTION:
		return FIDO_BRIDGE_ERR_UNSUPPORTED;
	case FIDO_ERR_NOT_ALLOWED:
		return FIDO_BRIDGE_ERR_NOT_ALLOWED;
	case FIDO_ERR_INVALID_ARGUMENT:
		return FIDO_BRIDGE_ERR_BAD_ARG;
	default:
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
}
