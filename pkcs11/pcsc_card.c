/* The PC/SC transport: context management across pcscd restarts, card
 * connections, ISO 7816-4 T=0/T=1 exchange details. See pcsc_card.h. */
#include "pcsc_card.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/pcsclite.h>

#include "log.h"
#include "secmem.h"

struct p11_card {
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	char *reader;
	uint8_t atr[MAX_ATR_SIZE];
	size_t atr_len;
	bool reset;                 /* reset by someone else; not yet told to the core */
	bool in_tx;
	bool in_reset_hook;
	p11_card_reset_fn on_reset; /* the driver re-selects its application */
	void *on_reset_ctx;
	bool extended;              /* extended Lc/Le (from the ATR) */
	p11_card_xfer_fn xfer;      /* a card without PC/SC (tests, fuzzing) */
	void *xfer_ctx;
	unsigned long apdus;
};

static pthread_mutex_t ctx_mutex = PTHREAD_MUTEX_INITIALIZER;
static SCARDCONTEXT g_ctx;
static bool g_ctx_valid;

bool p11_pcsc_service_lost(LONG rc)
{
	return rc == (LONG)SCARD_E_NO_SERVICE || rc == (LONG)SCARD_E_SERVICE_STOPPED ||
	       rc == (LONG)SCARD_E_INVALID_HANDLE || rc == (LONG)SCARD_F_COMM_ERROR;
}

CK_RV p11_pcsc_context(SCARDCONTEXT *ctx)
{
	CK_RV rv = CKR_OK;

	pthread_mutex_lock(&ctx_mutex);
	if (g_ctx_valid && SCardIsValidContext(g_ctx) != SCARD_S_SUCCESS) {
		SCardReleaseContext(g_ctx);
		g_ctx_valid = false;
	}
	if (!g_ctx_valid) {
		LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &g_ctx);

		if (rc != SCARD_S_SUCCESS) {
			llv_debug("pcsc: SCardEstablishContext: %s", pcsc_stringify_error(rc));
			rv = CKR_DEVICE_ERROR;
		} else {
			g_ctx_valid = true;
		}
	}
	if (rv == CKR_OK)
		*ctx = g_ctx;
	pthread_mutex_unlock(&ctx_mutex);
	return rv;
}

void p11_pcsc_context_lost(SCARDCONTEXT ctx)
{
	pthread_mutex_lock(&ctx_mutex);
	if (g_ctx_valid && g_ctx == ctx) {
		SCardReleaseContext(g_ctx);
		g_ctx_valid = false;
		llv_info("pcsc: lost the PC/SC service; will reconnect");
	}
	pthread_mutex_unlock(&ctx_mutex);
}

void p11_pcsc_shutdown(bool forked)
{
	pthread_mutex_lock(&ctx_mutex);
	if (g_ctx_valid && !forked)
		SCardReleaseContext(g_ctx);
	g_ctx_valid = false;
	pthread_mutex_unlock(&ctx_mutex);
}

/* Does a PC/SC result say the card (or its reader) is gone? */
static bool rc_card_gone(LONG rc)
{
	return rc == (LONG)SCARD_W_REMOVED_CARD || rc == (LONG)SCARD_E_NO_SMARTCARD ||
	       rc == (LONG)SCARD_E_READER_UNAVAILABLE || rc == (LONG)SCARD_E_UNKNOWN_READER ||
	       rc == (LONG)SCARD_E_NO_READERS_AVAILABLE;
}

static CK_RV map_rc(struct p11_card *c, LONG rc)
{
	if (rc == SCARD_S_SUCCESS)
		return CKR_OK;
	if (rc_card_gone(rc))
		return CKR_DEVICE_REMOVED;
	if (p11_pcsc_service_lost(rc)) {
		p11_pcsc_context_lost(c->ctx);
		return CKR_DEVICE_REMOVED;
	}
	return CKR_DEVICE_ERROR;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* After a transmit (or reconnect) that failed without saying why: is the card
 * still in the reader? A card pulled while an APDU is in flight makes the
 * reader driver fail the exchange (pcscd answers SCARD_E_NOT_TRANSACTED), but
 * pcscd only notices the removal on its next presence poll, a few hundred ms
 * later (vpcd and most CCID readers: ~400 ms). Until then the handle and the
 * reader state still say "present". So: ask the handle (SCardStatus says
 * SCARD_W_REMOVED_CARD once pcscd knows, also when another card is in by now),
 * then wait on the reader state for at most CARD_GONE_WAIT_MS for pcscd to see
 * the card leave. A private context for the wait: pcsclite holds a context's
 * lock for the whole SCardGetStatusChange, which would stall other slots. */
#define CARD_GONE_WAIT_MS 500

static bool card_gone(struct p11_card *c)
{
	SCARD_READERSTATE rs;
	SCARDCONTEXT tctx;
	uint8_t atr[MAX_ATR_SIZE];
	DWORD state = 0, proto = 0, atr_len = sizeof(atr), rlen = 0;
	struct timespec t0;
	bool gone = false;
	LONG rc;

	rc = SCardStatus(c->h, NULL, &rlen, &state, &proto, atr, &atr_len);
	if (rc_card_gone(rc) || p11_pcsc_service_lost(rc))
		return true;
	if (rc == SCARD_S_SUCCESS && (state & SCARD_ABSENT))
		return true;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &tctx) != SCARD_S_SUCCESS)
		return true;   /* pcscd itself is gone */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rs, 0, sizeof(rs));
	rs.szReader = c->reader;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	rc = SCardGetStatusChange(tctx, 0, &rs, 1);
	for (;;) {
		long left;
		DWORD seen;

		if (rc != SCARD_S_SUCCESS && rc != (LONG)SCARD_E_TIMEOUT) {
			gone = rc_card_gone(rc) || p11_pcsc_service_lost(rc);
			break;
		}
		if (rs.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE |
		                       SCARD_STATE_EMPTY | SCARD_STATE_MUTE) ||
		    !(rs.dwEventState & SCARD_STATE_PRESENT)) {
			gone = true;
			break;
		}
		if (rs.dwCurrentState != SCARD_STATE_UNAWARE &&
		    (rs.dwEventState >> 16) != (rs.dwCurrentState >> 16)) {
			gone = true;   /* removed and inserted again meanwhile */
			break;
		}
		left = CARD_GONE_WAIT_MS - elapsed_ms(&t0);
		if (left <= 0)
			break;
		seen = rs.dwCurrentState == SCARD_STATE_UNAWARE ? rs.dwEventState : rs.dwCurrentState;
		rs.dwCurrentState = seen & ~(DWORD)SCARD_STATE_CHANGED;
		rc = SCardGetStatusChange(tctx, (DWORD)left, &rs, 1);
		if (rc == (LONG)SCARD_E_TIMEOUT)
			break;
	}
	SCardReleaseContext(tctx);
	if (!gone) {
		/* pcscd may have learnt it from the handle's side meanwhile */
		atr_len = sizeof(atr);
		rlen = 0;
		rc = SCardStatus(c->h, NULL, &rlen, &state, &proto, atr, &atr_len);
		gone = rc_card_gone(rc) || (rc == SCARD_S_SUCCESS && (state & SCARD_ABSENT));
	}
	llv_debug("pcsc: %s: card %s after %ld ms", c->reader, gone ? "gone" : "still there",
	          elapsed_ms(&t0));
	return gone;
}

/* A failed transmit, reconnect or transaction: gone cards and a gone pcscd are
 * CKR_DEVICE_REMOVED, whatever error the exchange itself saw. */
static CK_RV failed(struct p11_card *c, LONG rc)
{
	CK_RV rv = map_rc(c, rc);

	if (rv == CKR_DEVICE_ERROR && card_gone(c)) {
		llv_info("pcsc: %s: the card left during the exchange (%s)", c->reader,
		         pcsc_stringify_error(rc));
		return CKR_DEVICE_REMOVED;
	}
	if (rv == CKR_DEVICE_ERROR)
		llv_warn("pcsc: %s: %s", c->reader, pcsc_stringify_error(rc));
	return rv;
}

CK_RV p11_card_connect(const char *reader, struct p11_card **out)
{
	struct p11_card *c;
	DWORD atr_len = MAX_ATR_SIZE, state, proto, rlen = 0;
	LONG rc;
	CK_RV rv;

	c = calloc(1, sizeof(*c));
	if (!c)
		return CKR_HOST_MEMORY;
	c->reader = strdup(reader);
	if (!c->reader) {
		free(c);
		return CKR_HOST_MEMORY;
	}
	rv = p11_pcsc_context(&c->ctx);
	if (rv != CKR_OK)
		goto fail;
	rc = SCardConnect(c->ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                  &c->h, &c->proto);
	if (rc != SCARD_S_SUCCESS) {
		rv = map_rc(c, rc);
		if (rv == CKR_DEVICE_ERROR)
			llv_warn("pcsc: %s: SCardConnect: %s", reader, pcsc_stringify_error(rc));
		goto fail;
	}
	rc = SCardStatus(c->h, NULL, &rlen, &state, &proto, c->atr, &atr_len);
	if (rc != SCARD_S_SUCCESS) {
		rv = map_rc(c, rc);
		if (rv == CKR_DEVICE_ERROR)
			llv_warn("pcsc: %s: SCardStatus: %s", reader, pcsc_stringify_error(rc));
		SCardDisconnect(c->h, SCARD_LEAVE_CARD);
		goto fail;
	}
	c->atr_len = atr_len;
	c->extended = p11_atr_extended_length(c->atr, c->atr_len);
	*out = c;
	return CKR_OK;
fail:
	free(c->reader);
	free(c);
	return rv;
}

void p11_card_free(struct p11_card *c, bool forked)
{
	if (!c)
		return;
	llv_debug("pcsc: %lu APDUs exchanged with the card in %s", c->apdus, c->reader);
	if (!forked && !c->xfer) {
		if (c->in_tx)
			SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
		SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	}
	free(c->reader);
	free(c);
}

CK_RV p11_card_new_virtual(const uint8_t *atr, size_t atr_len, p11_card_xfer_fn fn, void *ctx,
                           struct p11_card **out)
{
	struct p11_card *c = calloc(1, sizeof(*c));

	if (!c)
		return CKR_HOST_MEMORY;
	c->reader = strdup("virtual");
	if (!c->reader || atr_len > sizeof(c->atr)) {
		free(c->reader);
		free(c);
		return CKR_ARGUMENTS_BAD;
	}
	memcpy(c->atr, atr, atr_len);
	c->atr_len = atr_len;
	c->extended = p11_atr_extended_length(atr, atr_len);
	c->xfer = fn;
	c->xfer_ctx = ctx;
	c->proto = SCARD_PROTOCOL_T1;
	*out = c;
	return CKR_OK;
}

const uint8_t *p11_card_atr(const struct p11_card *c, size_t *len)
{
	*len = c->atr_len;
	return c->atr;
}

bool p11_card_was_reset(struct p11_card *c)
{
	bool r = c->reset;

	c->reset = false;
	return r;
}

void p11_card_on_reset(struct p11_card *c, p11_card_reset_fn fn, void *ctx)
{
	c->on_reset = fn;
	c->on_reset_ctx = ctx;
}

/* The card was reset by another application (SCARD_W_RESET_CARD): its
 * security state (PIN verified) and selected application are gone. Reconnect,
 * let the driver select its application again (the hook; its own APDUs go
 * through here too, so it is not called again from inside), and remember the
 * reset for the core (p11_card_was_reset), which marks the login as lost. */
static CK_RV reconnect(struct p11_card *c)
{
	DWORD proto;
	LONG rc = SCardReconnect(c->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                         SCARD_LEAVE_CARD, &proto);

	if (rc != SCARD_S_SUCCESS)
		return failed(c, rc);
	llv_info("pcsc: %s: the card was reset by another application; reconnected", c->reader);
	c->proto = proto;
	c->reset = true;
	if (c->on_reset && !c->in_reset_hook) {
		CK_RV rv;

		c->in_reset_hook = true;
		rv = c->on_reset(c, c->on_reset_ctx);
		c->in_reset_hook = false;
		return rv;
	}
	return CKR_OK;
}

/* One raw exchange. SCARD_W_RESET_CARD: pcscd refused the command without
 * sending it (the handle has not seen the reset yet), so after the reconnect
 * (and the driver's re-SELECT) it is sent once, for the first time, to the
 * same application. A PIN command is therefore never sent twice. */
static CK_RV xchg(struct p11_card *c, const uint8_t *cmd, size_t len, uint8_t *rsp, DWORD *rlen)
{
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD cap = *rlen;
	LONG rc = SCARD_S_SUCCESS;

	if (c->xfer) {
		size_t n = cap;
		CK_RV rv = c->xfer(c->xfer_ctx, cmd, len, rsp, &n);

		c->apdus++;
		if (rv != CKR_OK)
			return rv;
		if (n < 2 || n > cap)
			return CKR_DEVICE_ERROR;
		*rlen = (DWORD)n;
		return CKR_OK;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		*rlen = cap;
		rc = SCardTransmit(c->h, pci, cmd, (DWORD)len, NULL, rsp, rlen);
		if (rc == (LONG)SCARD_W_RESET_CARD && attempt == 0) {
			CK_RV rv = reconnect(c);

			if (rv != CKR_OK)
				return rv;
			pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
			continue;
		}
		break;
	}
	c->apdus++;
	if (rc != SCARD_S_SUCCESS)
		return failed(c, rc);
	if (*rlen < 2) {
		/* vpcd answers a card that left mid-command with no bytes and
		 * SCARD_S_SUCCESS: the same check as for a failed transmit */
		if (card_gone(c)) {
			llv_info("pcsc: %s: the card left during the exchange (empty response)",
			         c->reader);
			return CKR_DEVICE_REMOVED;
		}
		llv_warn("pcsc: %s: response of %lu bytes", c->reader, (unsigned long)*rlen);
		return CKR_DEVICE_ERROR;
	}
	return CKR_OK;
}

#define RSP_MAX (65536 + 2)

/* Sends one APDU (short, or extended when the card said it takes them and
 * the command needs it) and collects the whole response. */
static CK_RV exchange(struct p11_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                      const uint8_t *data, size_t len, bool le, struct llv_buf *resp, uint16_t *sw)
{
	uint8_t *cmd, *rsp;
	size_t n = 0, cmd_cap = 7 + len + 3;
	bool ext = c->extended && (len > 255 || le);
	size_t rsp_cap = ext ? RSP_MAX : 258;
	DWORD rlen;
	CK_RV rv = CKR_OK;

	cmd = llv_secure_alloc(cmd_cap);
	rsp = llv_secure_alloc(rsp_cap);
	if (!cmd || !rsp) {
		llv_secure_free(cmd, cmd_cap);
		llv_secure_free(rsp, rsp_cap);
		return CKR_HOST_MEMORY;
	}
	cmd[n++] = cla;
	cmd[n++] = ins;
	cmd[n++] = p1;
	cmd[n++] = p2;
	if (ext) {
		cmd[n++] = 0x00;
		if (len) {
			cmd[n++] = (uint8_t)(len >> 8);
			cmd[n++] = (uint8_t)len;
			memcpy(cmd + n, data, len);
			n += len;
		}
		if (le) {
			cmd[n++] = 0x00;
			cmd[n++] = 0x00;
		}
	} else {
		if (len) {
			cmd[n++] = (uint8_t)len;
			memcpy(cmd + n, data, len);
			n += len;
		}
		if (le)
			cmd[n++] = 0x00;
	}
	for (int round = 0; round < 256; round++) {
		rlen = (DWORD)rsp_cap;
		rv = xchg(c, cmd, n, rsp, &rlen);
		if (rv != CKR_OK)
			break;
		*sw = (uint16_t)(rsp[rlen - 2] << 8 | rsp[rlen - 1]);
		if ((*sw & 0xFF00) == 0x6C00 && !ext) {
			/* wrong Le: resend with the card's */
			if (le)
				cmd[n - 1] = (uint8_t)(*sw & 0xFF);
			else
				cmd[n++] = (uint8_t)(*sw & 0xFF);
			le = true;
			continue;
		}
		llv_buf_put(resp, rsp, rlen - 2);
		if ((*sw & 0xFF00) == 0x6100) {
			/* more data: GET RESPONSE (short) */
			n = 0;
			cmd[n++] = cla & 0x03;
			cmd[n++] = 0xC0;
			cmd[n++] = 0x00;
			cmd[n++] = 0x00;
			cmd[n++] = (uint8_t)(*sw & 0xFF);
			le = true;
			ext = false;
			continue;
		}
		break;
	}
	llv_secure_free(cmd, cmd_cap);
	llv_secure_free(rsp, rsp_cap);
	if (rv == CKR_OK && !llv_buf_ok(resp))
		rv = CKR_HOST_MEMORY;
	return rv;
}

/* Does the ATR's card capabilities data object (ISO 7816-4 8.1.1.2.7,
 * COMPACT-TLV tag 7, third software function byte, b7) say the card takes
 * extended Lc and Le fields? */
bool p11_atr_extended_length(const uint8_t *atr, size_t len)
{
	size_t i = 1, k;
	uint8_t y;

	if (len < 2)
		return false;
	y = atr[1] >> 4;
	k = atr[1] & 0x0F;
	i = 2;
	for (;;) {
		uint8_t td = 0;
		bool more = y & 0x8;

		i += ((y & 1) != 0) + ((y & 2) != 0) + ((y & 4) != 0);
		if (!more)
			break;
		if (i >= len)
			return false;
		td = atr[i++];
		y = td >> 4;
	}
	if (i + k > len || k == 0 || atr[i] != 0x80)
		return false;
	for (size_t j = i + 1; j < i + k;) {
		uint8_t tag = atr[j] >> 4, l = atr[j] & 0x0F;

		if (j + 1 + l > i + k)
			return false;
		if (tag == 0x7 && l >= 3)
			return (atr[j + 3] & 0x40) != 0;
		j += 1 + l;
	}
	return false;
}

CK_RV p11_card_apdu(struct p11_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const uint8_t *data, size_t len, bool le_present,
                    struct llv_buf *resp, uint16_t *sw)
{
	CK_RV rv;

	llv_debug("pcsc: APDU %02X %02X %02X %02X Lc=%zu", cla, ins, p1, p2, len);
	/* command chaining: every piece but the last carries CLA | 0x10 */
	while (len > 255 && !(c->extended && len <= 65535)) {
		struct llv_buf ignored = LLV_BUF_INIT;

		rv = exchange(c, (uint8_t)(cla | 0x10), ins, p1, p2, data, 255, false, &ignored, sw);
		llv_buf_free(&ignored);
		if (rv != CKR_OK)
			return rv;
		if (*sw != 0x9000)
			return CKR_OK;
		data += 255;
		len -= 255;
	}
	rv = exchange(c, cla, ins, p1, p2, data, len, le_present, resp, sw);
	llv_debug("pcsc: SW %04X", rv == CKR_OK ? *sw : 0);
	return rv;
}

CK_RV p11_card_begin(struct p11_card *c)
{
	LONG rc;

	if (c->xfer)
		return CKR_OK;
	rc = SCardBeginTransaction(c->h);
	if (rc == (LONG)SCARD_W_RESET_CARD) {
		CK_RV rv = reconnect(c);

		if (rv != CKR_OK)
			return rv;
		rc = SCardBeginTransaction(c->h);
	}
	if (rc != SCARD_S_SUCCESS)
		return failed(c, rc);
	c->in_tx = true;
	return CKR_OK;
}

void p11_card_end(struct p11_card *c)
{
	if (c->in_tx && !c->xfer)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	c->in_tx = false;
}
