/* CTAPHID (CTAP 2.1 §11.2): the USB HID framing of the simulated security key
 * as a portable state machine. 64-byte reports go in through ctaphid_input,
 * reports come out through the send callback; time comes from a callback, so
 * tests drive it. No I/O, no globals.
 *
 * One transaction at a time, like a real key: while a channel is reassembling
 * a request or the authenticator is executing one, other channels get
 * ERR_CHANNEL_BUSY. The execute callbacks may block (waiting for user
 * presence); meanwhile the transport keeps feeding ctaphid_input (which then
 * answers other channels with CHANNEL_BUSY and records CANCEL), and sends
 * keepalives with ctaphid_keepalive. */
#ifndef LLAVERO_VKEY_CTAPHID_H
#define LLAVERO_VKEY_CTAPHID_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "buf.h"

#define CTAPHID_REPORT_LEN 64u
#define CTAPHID_INIT_DATA (CTAPHID_REPORT_LEN - 7u)   /* 57 */
#define CTAPHID_CONT_DATA (CTAPHID_REPORT_LEN - 5u)   /* 59 */
/* 57 + 128 * 59 */
#define CTAPHID_MAX_PAYLOAD (CTAPHID_INIT_DATA + 128u * CTAPHID_CONT_DATA)
#define CTAPHID_BROADCAST_CID 0xffffffffu
/* Continuation packets must follow within this many milliseconds. */
#define CTAPHID_TRANSACTION_TIMEOUT_MS 500u
#define CTAPHID_MAX_LOCK_S 10u

enum ctaphid_cmd {
	CTAPHID_PING = 0x81,
	CTAPHID_MSG = 0x83,
	CTAPHID_LOCK = 0x84,
	CTAPHID_INIT = 0x86,
	CTAPHID_WINK = 0x88,
	CTAPHID_CBOR = 0x90,
	CTAPHID_CANCEL = 0x91,
	CTAPHID_KEEPALIVE = 0xbb,
	CTAPHID_ERROR = 0xbf,
};

enum ctaphid_err {
	CTAPHID_ERR_INVALID_CMD = 0x01,
	CTAPHID_ERR_INVALID_PAR = 0x02,
	CTAPHID_ERR_INVALID_LEN = 0x03,
	CTAPHID_ERR_INVALID_SEQ = 0x04,
	CTAPHID_ERR_MSG_TIMEOUT = 0x05,
	CTAPHID_ERR_CHANNEL_BUSY = 0x06,
	CTAPHID_ERR_LOCK_REQUIRED = 0x0a,
	CTAPHID_ERR_INVALID_CHANNEL = 0x0b,
	CTAPHID_ERR_OTHER = 0x7f,
};

enum ctaphid_keepalive_status {
	CTAPHID_STATUS_PROCESSING = 1,
	CTAPHID_STATUS_UPNEEDED = 2,
};

enum ctaphid_capability {
	CTAPHID_CAP_WINK = 0x01,
	CTAPHID_CAP_CBOR = 0x04,
	CTAPHID_CAP_NMSG = 0x08,
};

struct ctaphid_callbacks {
	/* Emits one 64-byte report (the CID is in its first four bytes). */
	void (*send)(void *arg, const uint8_t report[CTAPHID_REPORT_LEN]);
	/* Milliseconds of a monotonic clock. */
	uint64_t (*now_ms)(void *arg);
	/* A complete CTAPHID_CBOR request (command byte + CBOR): append the
	 * response (status byte + CBOR) to resp. May block; see above. NULL: the
	 * command is refused with ERR_INVALID_CMD and CBOR is not advertised. */
	void (*cbor)(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp);
	/* A complete CTAPHID_MSG request (a CTAP1/U2F APDU): append the response
	 * (data + SW). NULL: refused, and NMSG is advertised. */
	void (*msg)(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp);
	/* CTAPHID_WINK: show something to the user (may be NULL). */
	void (*wink)(void *arg, uint32_t cid);
	void *arg;
	/* Device version reported by INIT (major, minor, build). */
	uint8_t version[3];
};

struct ctaphid;

/* NULL on allocation failure. The callbacks are copied. */
struct ctaphid *ctaphid_new(const struct ctaphid_callbacks *cb);
void ctaphid_free(struct ctaphid *h);

/* One report from the host. Reports that are not CTAPHID_REPORT_LEN bytes
 * long are dropped. */
void ctaphid_input(struct ctaphid *h, const uint8_t *report, size_t len);

/* Handles expired timers (MSG_TIMEOUT of a stalled reassembly, end of a
 * LOCK). Call it when ctaphid_next_timeout_ms says so, or any time. */
void ctaphid_tick(struct ctaphid *h);
/* Milliseconds until ctaphid_tick has something to do, or -1 for never. */
int ctaphid_next_timeout_ms(const struct ctaphid *h);

/* While an execute callback runs: sends KEEPALIVE with this status on the
 * channel being served. No-op otherwise. */
void ctaphid_keepalive(struct ctaphid *h, uint8_t status);
/* While an execute callback runs: true once the host sent CTAPHID_CANCEL (or
 * resynchronised with INIT) on the channel being served. */
bool ctaphid_cancelled(const struct ctaphid *h);
/* True while a request is being reassembled or executed. */
bool ctaphid_busy(const struct ctaphid *h);
/* The channel being served while an execute callback runs, else 0. */
uint32_t ctaphid_current_cid(const struct ctaphid *h);

/* Forgets every channel, lock and partial transaction (power cycle). Must not
 * be called from inside an execute callback. */
void ctaphid_reset(struct ctaphid *h);

#endif
