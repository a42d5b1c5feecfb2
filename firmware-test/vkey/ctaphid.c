/* CTAPHID framing state machine: see ctaphid.h. */
#include "ctaphid.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secmem.h"

enum hid_state { HID_IDLE, HID_RECEIVING, HID_EXECUTING };

struct ctaphid {
	struct ctaphid_callbacks cb;
	/* Channels first_cid .. next_cid-1 are allocated. A reset moves
	 * first_cid up, so channels from before a power cycle stay invalid. */
	uint32_t first_cid;
	uint32_t next_cid;

	enum hid_state state;
	uint32_t cid;           /* channel of the transaction */
	uint8_t cmd;
	size_t bcnt;
	size_t got;
	uint8_t next_seq;
	uint64_t last_ms;       /* last packet of the transaction */
	bool cancelled;
	bool discard;           /* host resynchronised: drop the response */

	uint32_t lock_cid;      /* 0: unlocked */
	uint64_t lock_until;

	uint8_t payload[CTAPHID_MAX_PAYLOAD];
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t now(const struct ctaphid *h)
{
	return h->cb.now_ms(h->cb.arg);
}

struct ctaphid *ctaphid_new(const struct ctaphid_callbacks *cb)
{
	struct ctaphid *h;

	if (cb == NULL || cb->send == NULL || cb->now_ms == NULL)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->cb = *cb;
	h->first_cid = 1;
	h->next_cid = 1;
	h->state = HID_IDLE;
	return h;
}

void ctaphid_free(struct ctaphid *h)
{
	if (h == NULL)
		return;
	/* Requests may carry PIN material (clientPIN); bytes past h->got are
	 * already zero (abort_transaction). A plain memset before free() may be
	 * optimised away. */
	llv_wipe(h->payload, h->got);
	free(h);
}

static void send_frames(struct ctaphid *h, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t pkt[CTAPHID_REPORT_LEN];
	size_t off, n;
	uint8_t seq = 0;

	memset(pkt, 0, sizeof(pkt));
	put_be32(pkt, cid);
	pkt[4] = cmd;
	pkt[5] = (uint8_t)(len >> 8);
	pkt[6] = (uint8_t)len;
	n = len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA;
	if (n > 0)
		memcpy(pkt + 7, data, n);
	h->cb.send(h->cb.arg, pkt);
	off = n;
	while (off < len) {
		memset(pkt, 0, sizeof(pkt));
		put_be32(pkt, cid);
		pkt[4] = seq++;
		n = len - off < CTAPHID_CONT_DATA ? len - off : CTAPHID_CONT_DATA;
		memcpy(pkt + 5, data + off, n);
		h->cb.send(h->cb.arg, pkt);
		off += n;
	}
}

static void send_error(struct ctaphid *h, uint32_t cid, uint8_t err)
{
	llv_debug("ctaphid: canal %08x: error %02x", (unsigned)cid, err);
	send_frames(h, cid, CTAPHID_ERROR, &err, 1);
}

static bool cid_allocated(const struct ctaphid *h, uint32_t cid)
{
	return cid != 0 && cid != CTAPHID_BROADCAST_CID &&
	       cid >= h->first_cid && cid < h->next_cid;
}

static uint8_t capabilities(const struct ctaphid *h)
{
	uint8_t caps = CTAPHID_CAP_WINK;

	if (h->cb.cbor != NULL)
		caps |= CTAPHID_CAP_CBOR;
	if (h->cb.msg == NULL)
		caps |= CTAPHID_CAP_NMSG;
	return caps;
}

/* INIT response: nonce, channel, protocol 2, device version, capabilities. */
static void answer_init(struct ctaphid *h, uint32_t on_cid, uint32_t new_cid, const uint8_t *nonce)
{
	uint8_t r[17];

	memcpy(r, nonce, 8);
	put_be32(r + 8, new_cid);
	r[12] = 2;
	r[13] = h->cb.version[0];
	r[14] = h->cb.version[1];
	r[15] = h->cb.version[2];
	r[16] = capabilities(h);
	send_frames(h, on_cid, CTAPHID_INIT, r, sizeof(r));
}

static uint32_t allocate_cid(struct ctaphid *h)
{
	uint32_t cid = h->next_cid++;

	if (h->next_cid == CTAPHID_BROADCAST_CID) {
		/* Wrapped around 4 billion channels: start over. */
		h->first_cid = 1;
		h->next_cid = 1;
		cid = h->next_cid++;
	}
	return cid;
}

static bool locked_by_other(struct ctaphid *h, uint32_t cid)
{
	if (h->lock_cid != 0 && now(h) >= h->lock_until)
		h->lock_cid = 0;
	return h->lock_cid != 0 && h->lock_cid != cid;
}

static void abort_transaction(struct ctaphid *h)
{
	/* Only the received bytes were written: wipe those, not all 7609. */
	llv_wipe(h->payload, h->got);
	h->state = HID_IDLE;
	h->cid = 0;
	h->got = 0;
	h->bcnt = 0;
}

static void execute(struct ctaphid *h)
{
	struct llv_buf resp;
	uint32_t cid = h->cid;
	uint8_t cmd = h->cmd;

	llv_buf_init_secret(&resp);
	h->state = HID_EXECUTING;
	h->cancelled = false;
	h->discard = false;
	if (cmd == CTAPHID_CBOR)
		h->cb.cbor(h->cb.arg, cid, h->payload, h->bcnt, &resp);
	else
		h->cb.msg(h->cb.arg, cid, h->payload, h->bcnt, &resp);
	abort_transaction(h);
	if (h->discard) {
		llv_debug("ctaphid: canal %08x: respuesta descartada (INIT)", (unsigned)cid);
	} else if (!llv_buf_ok(&resp) || resp.len > CTAPHID_MAX_PAYLOAD) {
		llv_error("ctaphid: respuesta imposible de enviar (%zu bytes)", resp.len);
		send_error(h, cid, CTAPHID_ERR_OTHER);
	} else {
		send_frames(h, cid, cmd, resp.data, resp.len);
	}
	h->cancelled = false;
	h->discard = false;
	llv_buf_free(&resp);
}

static void dispatch(struct ctaphid *h)
{
	uint32_t cid = h->cid;

	switch (h->cmd) {
	case CTAPHID_PING:
		send_frames(h, cid, CTAPHID_PING, h->payload, h->bcnt);
		break;
	case CTAPHID_CBOR:
		if (h->cb.cbor == NULL) {
			send_error(h, cid, CTAPHID_ERR_INVALID_CMD);
		} else if (h->bcnt == 0) {
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		} else {
			execute(h);
			return;
		}
		break;
	case CTAPHID_MSG:
		if (h->cb.msg == NULL) {
			send_error(h, cid, CTAPHID_ERR_INVALID_CMD);
		} else if (h->bcnt < 4) {
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		} else {
			execute(h);
			return;
		}
		break;
	case CTAPHID_LOCK:
		if (h->bcnt != 1) {
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		} else if (h->payload[0] > CTAPHID_MAX_LOCK_S) {
			send_error(h, cid, CTAPHID_ERR_INVALID_PAR);
		} else {
			if (h->payload[0] == 0) {
				h->lock_cid = 0;
			} else {
				h->lock_cid = cid;
				h->lock_until = now(h) + 1000u * h->payload[0];
			}
			send_frames(h, cid, CTAPHID_LOCK, NULL, 0);
		}
		break;
	case CTAPHID_WINK:
		if (h->bcnt != 0) {
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		} else {
			if (h->cb.wink != NULL)
				h->cb.wink(h->cb.arg, cid);
			send_frames(h, cid, CTAPHID_WINK, NULL, 0);
		}
		break;
	default:
		send_error(h, cid, CTAPHID_ERR_INVALID_CMD);
		break;
	}
	abort_transaction(h);
}

/* An initialization packet while the authenticator executes a request of
 * h->cid: nothing may touch the transaction buffer. */
static void input_while_executing(struct ctaphid *h, uint32_t cid, uint8_t cmd, size_t bcnt, const uint8_t *data)
{
	if (cid == 0) {
		send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cid == CTAPHID_BROADCAST_CID) {
		if (cmd != CTAPHID_INIT)
			send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		else if (bcnt != 8)
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		else
			answer_init(h, cid, allocate_cid(h), data);
		return;
	}
	if (!cid_allocated(h, cid)) {
		send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cmd == CTAPHID_CANCEL) {
		if (cid == h->cid && !h->discard) {
			llv_debug("ctaphid: canal %08x: CANCEL", (unsigned)cid);
			h->cancelled = true;
		}
		return;
	}
	if (cmd == CTAPHID_INIT && bcnt == 8) {
		if (cid == h->cid) {
			/* Resynchronisation: abandon the running request. */
			h->cancelled = true;
			h->discard = true;
		}
		answer_init(h, cid, cid, data);
		return;
	}
	send_error(h, cid, CTAPHID_ERR_CHANNEL_BUSY);
}

static void input_init(struct ctaphid *h, uint32_t cid, const uint8_t *pkt)
{
	uint8_t cmd = pkt[4];
	size_t bcnt = (size_t)pkt[5] << 8 | pkt[6];
	const uint8_t *data = pkt + 7;
	size_t n;

	if (h->state == HID_EXECUTING) {
		input_while_executing(h, cid, cmd, bcnt, data);
		return;
	}
	if (cid == 0) {
		send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cid == CTAPHID_BROADCAST_CID) {
		if (cmd != CTAPHID_INIT)
			send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		else if (bcnt != 8)
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		else if (locked_by_other(h, cid))
			send_error(h, cid, CTAPHID_ERR_CHANNEL_BUSY);
		else
			answer_init(h, cid, allocate_cid(h), data);
		return;
	}
	if (!cid_allocated(h, cid)) {
		send_error(h, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	if (cmd == CTAPHID_INIT) {
		if (h->state == HID_RECEIVING && h->cid == cid)
			abort_transaction(h);
		if (bcnt != 8)
			send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		else if (locked_by_other(h, cid))
			send_error(h, cid, CTAPHID_ERR_CHANNEL_BUSY);
		else
			answer_init(h, cid, cid, data);
		return;
	}
	if (cmd == CTAPHID_CANCEL) {
		/* Nothing runs yet: a cancelled reassembly is simply dropped. */
		if (h->state == HID_RECEIVING && h->cid == cid)
			abort_transaction(h);
		return;
	}
	if (locked_by_other(h, cid)) {
		send_error(h, cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	if (h->state == HID_RECEIVING) {
		if (h->cid != cid) {
			send_error(h, cid, CTAPHID_ERR_CHANNEL_BUSY);
			return;
		}
		/* A new request before the previous one was complete. */
		abort_transaction(h);
		send_error(h, cid, CTAPHID_ERR_INVALID_SEQ);
		return;
	}
	if (bcnt > CTAPHID_MAX_PAYLOAD) {
		send_error(h, cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	h->cid = cid;
	h->cmd = cmd;
	h->bcnt = bcnt;
	n = bcnt < CTAPHID_INIT_DATA ? bcnt : CTAPHID_INIT_DATA;
	memcpy(h->payload, data, n);
	h->got = n;
	if (h->got == h->bcnt) {
		dispatch(h);
		return;
	}
	h->state = HID_RECEIVING;
	h->next_seq = 0;
	h->last_ms = now(h);
}

static void input_cont(struct ctaphid *h, uint32_t cid, const uint8_t *pkt)
{
	uint8_t seq = pkt[4];
	size_t n;

	if (h->state != HID_RECEIVING || h->cid != cid)
		return;   /* no transaction on this channel: ignored */
	if (seq != h->next_seq) {
		abort_transaction(h);
		send_error(h, cid, CTAPHID_ERR_INVALID_SEQ);
		return;
	}
	n = h->bcnt - h->got;
	if (n > CTAPHID_CONT_DATA)
		n = CTAPHID_CONT_DATA;
	memcpy(h->payload + h->got, pkt + 5, n);
	h->got += n;
	h->next_seq++;
	h->last_ms = now(h);
	if (h->got == h->bcnt)
		dispatch(h);
}

void ctaphid_input(struct ctaphid *h, const uint8_t *report, size_t len)
{
	uint32_t cid;

	if (h == NULL || report == NULL)
		return;
	if (len != CTAPHID_REPORT_LEN) {
		llv_warn("ctaphid: reporte de %zu bytes ignorado (se esperan %u)", len, CTAPHID_REPORT_LEN);
		return;
	}
	cid = get_be32(report);
	if (report[4] & 0x80)
		input_init(h, cid, report);
	else
		input_cont(h, cid, report);
}

void ctaphid_tick(struct ctaphid *h)
{
	uint64_t t;

	if (h == NULL)
		return;
	t = now(h);
	if (h->state == HID_RECEIVING && t - h->last_ms >= CTAPHID_TRANSACTION_TIMEOUT_MS) {
		uint32_t cid = h->cid;

		abort_transaction(h);
		send_error(h, cid, CTAPHID_ERR_MSG_TIMEOUT);
	}
	if (h->lock_cid != 0 && t >= h->lock_until)
		h->lock_cid = 0;
}

int ctaphid_next_timeout_ms(const struct ctaphid *h)
{
	uint64_t t, best = UINT64_MAX;

	if (h == NULL)
		return -1;
	t = h->cb.now_ms(h->cb.arg);
	if (h->state == HID_RECEIVING) {
		uint64_t d = h->last_ms + CTAPHID_TRANSACTION_TIMEOUT_MS;
		best = d > t ? d - t : 0;
	}
	if (h->lock_cid != 0) {
		uint64_t d = h->lock_until > t ? h->lock_until - t : 0;
		if (d < best)
			best = d;
	}
	if (best == UINT64_MAX)
		return -1;
	return best > 60000 ? 60000 : (int)best;
}

void ctaphid_keepalive(struct ctaphid *h, uint8_t status)
{
	if (h == NULL || h->state != HID_EXECUTING || h->discard)
		return;
	send_frames(h, h->cid, CTAPHID_KEEPALIVE, &status, 1);
}

bool ctaphid_cancelled(const struct ctaphid *h)
{
	return h != NULL && h->state == HID_EXECUTING && h->cancelled;
}

bool ctaphid_busy(const struct ctaphid *h)
{
	return h != NULL && h->state != HID_IDLE;
}

uint32_t ctaphid_current_cid(const struct ctaphid *h)
{
	return h != NULL && h->state == HID_EXECUTING ? h->cid : 0;
}

void ctaphid_reset(struct ctaphid *h)
{
	if (h == NULL || h->state == HID_EXECUTING)
		return;
	abort_transaction(h);
	h->lock_cid = 0;
	h->first_cid = h->next_cid;
}
