/* The interface between the card layer (card.c: APDU parsing, command and
 * response chaining, SELECT by AID, power cycles) and an applet (PIV, FIDO).
 * Applets are portable: bytes in, bytes out, no I/O, no globals; all their
 * state hangs off ctx. */
#ifndef LLAVERO_VCARD_APPLET_H
#define LLAVERO_VCARD_APPLET_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "apdu.h"
#include "buf.h"

struct vcard_applet_ops {
	const char *name;
	/* The AID the card layer matches SELECT against: a SELECT whose AID is a
	 * prefix of this one (at least 5 bytes, the RID) selects the applet. */
	const uint8_t *aid;
	size_t aid_len;
	/* Called on SELECT. Appends the FCI/response data to resp; returns a SW. */
	uint16_t (*select)(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp);
	/* Processes any command other than SELECT and GET RESPONSE while selected.
	 * Appends response data (without SW) to resp; returns a SW. The card layer
	 * does response chaining (61xx/GET RESPONSE) on whatever is appended. */
	uint16_t (*process)(void *ctx, const struct vcard_apdu *apdu, struct llv_buf *resp);
	/* Another applet was selected. Optional. */
	void (*deselect)(void *ctx);
	/* Power off/on or reset: volatile state (security status, selections) is lost. */
	void (*power_cycle)(void *ctx);
	/* True when persistent state changed since the last call (which clears it):
	 * the transport saves the state file before sending the response, as
	 * firmware commits to EEPROM before answering. */
	bool (*take_dirty)(void *ctx);
};

#endif
