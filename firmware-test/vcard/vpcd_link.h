/* The thin transport of llavero-vcard: a TCP client of vsmartcard's vpcd
 * (frames: 2-byte big-endian length + payload; a 1-byte payload is a control
 * message) plus a Unix-socket control channel for insert/remove/stats. */
#ifndef LLAVERO_VCARD_VPCD_LINK_H
#define LLAVERO_VCARD_VPCD_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "card.h"

#define VPCD_DEFAULT_PORT 35963

enum {
	VPCD_CTRL_OFF = 0,
	VPCD_CTRL_ON = 1,
	VPCD_CTRL_RESET = 2,
	VPCD_CTRL_ATR = 4,
};

/* Called after an APDU that changed persistent state, before its response is
 * sent. Returns 0 when the state is safely on disk; otherwise the transport
 * answers 6581 instead and the hook should roll the applet back. */
typedef int (*vpcd_link_persist_fn)(void *ctx);

struct vpcd_link_config {
	const char *host;          /* "127.0.0.1" */
	uint16_t port;
	const char *ctl_path;      /* control socket; NULL for none */
	bool verbose;              /* log every APDU and SW (secrets redacted) */
	vpcd_link_persist_fn persist;
	void *persist_ctx;
	/* Test hook (llavero-vcard run --fido-delay): how long to hold the
	 * answer to this APDU, in ms (0: send it at once). While an answer is
	 * held the card reads nothing from vpcd, like a card still working, but
	 * the control channel is served, so "remove" pulls the card mid-command
	 * (the held answer is then lost). NULL: never hold. */
	unsigned (*hold_ms)(void *ctx, const uint8_t *apdu, size_t len);
	void *hold_ctx;
};

/* Runs until SIGINT/SIGTERM or a "stop" on the control channel. Returns 0 on
 * a clean stop, -1 when the control socket cannot be set up (reason logged). */
int vpcd_link_run(const struct vpcd_link_config *cfg, struct vcard_card *card);

/* Client side of the control channel: sends one command line ("insert",
 * "remove", "stats", "stop") and copies the one-line reply (without the
 * newline) into reply. 0, or -1 with errno (ENOENT/ECONNREFUSED when no
 * llavero-vcard is running on that state). */
int vpcd_link_control(const char *ctl_path, const char *command, char *reply, size_t replylen);

/* Formats one APDU for the -v log with secrets redacted (VERIFY, CHANGE
 * REFERENCE DATA, RESET RETRY COUNTER, IMPORT KEY, SET MANAGEMENT KEY data;
 * management-key authentication in both directions). Exposed for tests. */
void vpcd_link_format_command(const uint8_t *apdu, size_t len, char *out, size_t outlen);
void vpcd_link_format_response(const uint8_t *cmd, size_t cmdlen, const uint8_t *resp,
			       size_t resplen, char *out, size_t outlen);

#endif
