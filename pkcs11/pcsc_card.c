/* The PC/SC transport: context management across pcscd restarts, card
 * connections, ISO 7816-4 T=0/T=1 exchange details. See pcsc_card.h. */
#include "pcsc_card.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	bool reset;
	bool in_tx;
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

static CK_RV map_rc(struct p11_card *c, LONG rc)
{
	switch (rc) {
	case SCARD_S_SUCCESS:
		return CKR_OK;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_NO_READERS_AVAILABLE:
		return CKR_DEVICE_REMOVED;
	default:
		if (p11_pcsc_service_lost(rc)) {
			p11_pcsc_context_lost(c->ctx);
			return CKR_DEVICE_REMOVED;
		}
		llv_warn("pcsc: %s: %s", c->reader, pcsc_stringify_error(rc));
		return CKR_DEVICE_ERROR;
	}
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
		goto fail;
	}
	rc = SCardStatus(c->h, NULL, &rlen, &state, &proto, c->atr, &atr_len);
	if (rc != SCARD_S_SUCCESS) {
		rv = map_rc(c, rc);
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

unsigned long p11_card_apdu_count(const struct p11_card *c)
{
	return c->apdus;
}

static CK_RV reconnect(struct p11_card *c)
{
	DWORD proto;
	LONG rc = SCardReconnect(c->h, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                         SCARD_LEAVE_CARD, &proto);

	if (rc != SCARD_S_SUCCESS)
		return map_rc(c, rc);
	c->proto = proto;
	c->reset = true;
	return CKR_OK;
}

/* One raw exchange; a reset card is reconnected and the command sent again
 * (it never reached the card, so this repeats nothing). */
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
		return map_rc(c, rc);
	if (*rlen < 2) {
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

void p11_card_set_extended(struct p11_card *c, bool on)
{
	c->extended = on;
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
		return map_rc(c, rc);
	c->in_tx = true;
	return CKR_OK;
}

void p11_card_end(struct p11_card *c)
{
	if (c->in_tx && !c->xfer)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
	c->in_tx = false;
}
