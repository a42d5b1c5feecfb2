/* CTAP 2.1 authenticator core (plus CTAP1/U2F): request bytes in, response
 * bytes out, no I/O, no globals. Transports (CTAPHID over a socket or UDP,
 * the FIDO applet of llavero-vcard over ISO 7816) feed it messages and
 * implement user presence through the callback. */
#ifndef LLAVERO_VKEY_CTAP_AUTHENTICATOR_H
#define LLAVERO_VKEY_CTAP_AUTHENTICATOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "buf.h"
#include "ctap_status.h"

struct ctap_auth;

struct ctap_auth_callbacks {
	/* Asks for user presence. Blocks until the user touches (return 0x00,
	 * CTAP2_OK), denies (0x27 CTAP2_ERR_OPERATION_DENIED), the wait times out
	 * (0x2F CTAP2_ERR_USER_ACTION_TIMEOUT) or the host cancels (0x2D
	 * CTAP2_ERR_KEEPALIVE_CANCEL). The transport sends keepalives meanwhile. */
	uint8_t (*user_presence)(void *arg);
	/* Milliseconds of a monotonic clock (power-up reset window, token expiry). */
	uint64_t (*now_ms)(void *arg);
	void *arg;
};

/* NULL on allocation failure. The callbacks are copied. */
struct ctap_auth *ctap_auth_new(const struct ctap_auth_callbacks *cb);
void ctap_auth_free(struct ctap_auth *a);

/* A factory-fresh authenticator: device secret, AAGUID, attestation CA and
 * batch certificate, no PIN, no credentials. 0 or -1. */
int ctap_auth_init_fresh(struct ctap_auth *a);

/* Persistent state as bytes and back; load refuses malformed input with a
 * reason in err and leaves a unchanged. */
int ctap_auth_save(const struct ctap_auth *a, struct llv_buf *out);
int ctap_auth_load(struct ctap_auth *a, const uint8_t *data, size_t len, char *err, size_t errlen);
/* True when persistent state changed since the last call (which clears it). */
bool ctap_auth_take_dirty(struct ctap_auth *a);

/* Power-up: forgets PIN tokens and the consecutive-mismatch count, restarts
 * the 10 s reset window. */
void ctap_auth_power_cycle(struct ctap_auth *a);

/* One CTAP2 request (command byte + CBOR parameters) -> status byte + CBOR
 * response appended to resp. Never fails silently: malformed input yields a
 * CTAP2 error status. */
void ctap_auth_cbor(struct ctap_auth *a, const uint8_t *req, size_t len, struct llv_buf *resp);

/* One CTAP1/U2F request (an ISO 7816 APDU, short or extended) -> response
 * data + SW appended to resp. */
void ctap_auth_u2f(struct ctap_auth *a, const uint8_t *apdu, size_t len, struct llv_buf *resp);

/* The attestation CA certificate (DER) that issued the batch certificate. */
const uint8_t *ctap_auth_attestation_ca(const struct ctap_auth *a, size_t *len);

/* ---- queries and settings for transports and tools ---- */

/* True when a PIN is set (getInfo option clientPin). */
bool ctap_auth_has_pin(const struct ctap_auth *a);
/* PIN retries left (8 when fresh). */
unsigned ctap_auth_pin_retries(const struct ctap_auth *a);
/* The 16-byte AAGUID. */
const uint8_t *ctap_auth_aaguid(const struct ctap_auth *a);
/* Number of discoverable credentials stored. */
size_t ctap_auth_resident_count(const struct ctap_auth *a);
/* maxMsgSize announced in getInfo (default 1200; clamped to 64..7609). */
void ctap_auth_set_max_msg_size(struct ctap_auth *a, size_t size);
/* Transports announced in getInfo (none by default). */
#define CTAP_TRANSPORT_USB 0x01u
#define CTAP_TRANSPORT_NFC 0x02u
void ctap_auth_set_transports(struct ctap_auth *a, unsigned transports);

#endif
