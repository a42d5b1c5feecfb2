/* The ISO 7816 card around the applets: ATR, an applet table, SELECT by AID,
 * command chaining (CLA bit 0x10), response chaining (61xx + GET RESPONSE),
 * CLA checks and power cycles. Portable like the applets: bytes in, bytes
 * out, no I/O, no globals. The transport (vpcd_link.c) owns the I/O.
 *
 * Response rules: a missing Le counts as Le = 00 (256, or 65536 when
 * extended); data longer than Ne comes as Ne bytes + 61xx (xx = bytes left,
 * 00 for 256 or more), then GET RESPONSE (00 C0 00 00 Le) until 9000; GET
 * RESPONSE with nothing pending is 6985, with P1P2 other than 0000 6A86.
 * Error status words carry no data. Malformed APDUs get 6700, as does a
 * chain longer than VCARD_MAX_CHAIN; a different command in the middle of a
 * chain gets 6883 (and ends the chain). Logical channels: 6881; secure
 * messaging: 6882; CLA FF and the RFU classes 20..3F: 6E00. Nothing
 * selected: 6D00. */
#ifndef LLAVERO_VCARD_CARD_H
#define LLAVERO_VCARD_CARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "applet.h"
#include "buf.h"

#define VCARD_MAX_APPLETS 4
/* Largest command a chain may join to (an imported RSA key or a certificate
 * object is a few KiB; a PUT DATA of a big certificate stays well below). */
#define VCARD_MAX_CHAIN (64u * 1024u)
/* Largest response an applet may hand over for response chaining. */
#define VCARD_MAX_RESPONSE (128u * 1024u)

/* The card's ATR: direct convention, T=0 and T=1 offered, historical bytes in
 * COMPACT-TLV (category 0x80): card capabilities (selection by full/partial
 * DF name; command chaining and extended Lc/Le) and card issuer's data
 * "Llavero". TCK is the XOR of T0..last historical byte. */
#define VCARD_ATR_LEN 18
extern const uint8_t vcard_atr[VCARD_ATR_LEN];

struct vcard_card_applet {
	const struct vcard_applet_ops *ops;
	void *ctx;
};

struct vcard_card {
	struct vcard_card_applet applets[VCARD_MAX_APPLETS];
	size_t n_applets;
	int selected;                 /* index into applets, -1 when none */
	bool powered;

	/* Command chaining in progress. */
	bool chaining;
	uint8_t chain_cla, chain_ins, chain_p1, chain_p2;
	struct llv_buf chain;         /* secret: may hold PINs or imported keys */

	/* Response data waiting for GET RESPONSE. */
	struct llv_buf pending;       /* secret: may hold key material */
	size_t pending_off;

	uint64_t commands;            /* APDUs transmitted (statistics) */
	uint64_t power_cycles;
};

void vcard_card_init(struct vcard_card *c);
/* Frees the card's buffers; the applets belong to the caller. */
void vcard_card_free(struct vcard_card *c);
/* Adds an applet (the first added is the first matched). 0, or -1 when full. */
int vcard_card_add_applet(struct vcard_card *c, const struct vcard_applet_ops *ops, void *ctx);

/* Power management: each loses volatile state (selection, chains, pending
 * responses, applets' security status) through the applets' power_cycle. */
void vcard_card_power_off(struct vcard_card *c);
void vcard_card_power_on(struct vcard_card *c);
void vcard_card_reset(struct vcard_card *c);

/* Processes one command APDU; appends response data and the two SW bytes to
 * resp (cleared first). resp always ends with a SW, even on malformed input;
 * on allocation failure it holds just 6F00 (or is marked failed when even
 * that did not fit). */
void vcard_card_transmit(struct vcard_card *c, const uint8_t *cmd, size_t len, struct llv_buf *resp);

/* True when any applet's persistent state changed since the last call. */
bool vcard_card_take_dirty(struct vcard_card *c);

#endif
