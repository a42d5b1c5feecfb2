/* CTAP over ISO 7816 (CTAP 2.1 §11.3) on a PC/SC reader: the transport that
 * Debian's libfido2 (built without PC/SC) lacks. libfido2 keeps doing CTAP2;
 * we plug in through fido_dev_set_io_functions (open/close of the card
 * connection) and fido_dev_set_transport_functions (one CTAPHID command in,
 * one answer out):
 *   CTAPHID_INIT -> SELECT the FIDO AID; the answer ("U2F_V2"/"FIDO_2_0")
 *                   becomes the INIT response libfido2 expects
 *   CTAPHID_CBOR -> NFCCTAP_MSG (80 10 00 00), command chaining (CLA |= 0x10)
 *                   in 255-byte pieces, GET RESPONSE while the card says 61xx
 *   CTAPHID_MSG  -> the U2F APDU as libfido2 built it
 *   CTAPHID_CANCEL -> nothing to do (the tap is the presence)
 * When the card was reset under us (another application, a reader glitch),
 * we reconnect, SELECT again and retry the command once. A pulled card is an
 * error the caller sees as "device lost"; the next open works again.
 * The framing itself (chaining, GET RESPONSE, the CTAPHID answers) is in
 * fido_iso7816.c; this file is the pcsclite side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "buf.h"
#include "fido_internal.h"
#include "fido_iso7816.h"
#include "log.h"

enum { CMD_MSG = FIDO_ISO_CMD_MSG, CMD_INIT = FIDO_ISO_CMD_INIT, CMD_CBOR = FIDO_ISO_CMD_CBOR,
       CMD_CANCEL = FIDO_ISO_CMD_CANCEL };
enum { XCHG_OK = FIDO_ISO_OK, XCHG_FAIL = FIDO_ISO_FAIL, XCHG_RESET = FIDO_ISO_RESET };

#define MAX_RESPONSE FIDO_ISO_MAX_RESPONSE

struct pcsc_handle {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	uint8_t nonce[8];
	struct llv_buf resp;     /* last answer: data and SW */
	uint8_t last_cmd;
	bool gone;               /* the card left the reader: fail at once */
	char reader[256];
};

static const SCARD_IO_REQUEST *pci(DWORD proto)
{
	return proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
}

/* After a failed exchange: did the card leave the reader? The reader may
 * notice only a moment later (vpcd and many CCID readers are polled), so
 * wait up to a second for its state to settle. */
static bool card_removed(struct pcsc_handle *h)
{
	SCARD_READERSTATE st;

	memset(&st, 0, sizeof(st));
	st.szReader = h->reader;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(h->ctx, 0, &st, 1) != SCARD_S_SUCCESS)
		return false;
	if (!(st.dwEventState & SCARD_STATE_EMPTY)) {
		st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		if (SCardGetStatusChange(h->ctx, 1000, &st, 1) != SCARD_S_SUCCESS)
			return false;
	}
	return (st.dwEventState & SCARD_STATE_EMPTY) != 0;
}

/* One APDU; appends the answer (data and SW) to out (fido_iso7816_xmit_fn). */
static int transmit(void *arg, const uint8_t *apdu, size_t len, struct llv_buf *out)
{
	struct pcsc_handle *h = arg;
	uint8_t *rbuf = malloc(MAX_RESPONSE + 2);
	DWORD rlen = MAX_RESPONSE + 2;
	LONG rc;

	if (rbuf == NULL || h->gone) {
		free(rbuf);
		return XCHG_FAIL;
	}
	llv_log_hex(LLV_LOG_DEBUG, "pcsc >", apdu, len);
	rc = SCardTransmit(h->card, pci(h->proto), apdu, (DWORD)len, NULL, rbuf, &rlen);
	if (rc != SCARD_S_SUCCESS || rlen < 2) {
		free(rbuf);
		if (rc == SCARD_W_RESET_CARD) {
			llv_info("la tarjeta en %s se reinició", h->reader);
			return XCHG_RESET;
		}
		if (rc == SCARD_W_REMOVED_CARD || rc == SCARD_E_NO_SMARTCARD || card_removed(h)) {
			h->gone = true;
			llv_warn("se retiró la tarjeta del lector %s a media operación", h->reader);
		} else if (rc == SCARD_S_SUCCESS) {
			llv_warn("la tarjeta en %s dio una respuesta de %lu bytes", h->reader,
				 (unsigned long)rlen);
		} else {
			llv_warn("SCardTransmit en %s: %s", h->reader, pcsc_stringify_error(rc));
		}
		return XCHG_FAIL;
	}
	llv_log_hex(LLV_LOG_DEBUG, "pcsc <", rbuf, rlen);
	llv_buf_put(out, rbuf, rlen);
	free(rbuf);
	return llv_buf_ok(out) ? XCHG_OK : XCHG_FAIL;
}

static int transmit_all(struct pcsc_handle *h, const uint8_t *apdu, size_t len, struct llv_buf *out)
{
	return fido_iso7816_transmit_all(transmit, h, apdu, len, out);
}

static int send_chained(struct pcsc_handle *h, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
			const uint8_t *data, size_t len, struct llv_buf *out)
{
	return fido_iso7816_send_chained(transmit, h, cla, ins, p1, p2, data, len, out);
}

static int select_fido(struct pcsc_handle *h, struct llv_buf *out)
{
	return fido_iso7816_select(transmit, h, out);
}

static bool sw_ok(const struct llv_buf *b)
{
	return fido_iso7816_sw_ok(b->data, b->len);
}

static int reconnect_and_select(struct pcsc_handle *h)
{
	struct llv_buf sel = LLV_BUF_INIT;
	LONG rc;
	int r;

	rc = SCardReconnect(h->card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			    SCARD_LEAVE_CARD, &h->proto);
	if (rc != SCARD_S_SUCCESS) {
		llv_warn("SCardReconnect en %s: %s", h->reader, pcsc_stringify_error(rc));
		return XCHG_FAIL;
	}
	r = select_fido(h, &sel);
	if (r == XCHG_OK && !sw_ok(&sel))
		r = XCHG_FAIL;
	llv_buf_free(&sel);
	return r;
}

/* Runs one exchange; after a card reset, SELECT again and retry once. */
static int exchange(struct pcsc_handle *h, uint8_t cmd, const uint8_t *data, size_t len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int rc;

		llv_buf_clear(&h->resp);
		switch (cmd) {
		case CMD_INIT:
			rc = select_fido(h, &h->resp);
			break;
		case CMD_CBOR:
			rc = send_chained(h, 0x80, 0x10, 0x00, 0x00, data, len, &h->resp);
			break;
		default: /* CMD_MSG: already an APDU */
			rc = transmit_all(h, data, len, &h->resp);
			break;
		}
		if (rc != XCHG_RESET)
			return rc;
		if (attempt == 0 && reconnect_and_select(h) != XCHG_OK)
			return XCHG_FAIL;
	}
	return XCHG_FAIL;
}

static void *pcsc_open(const char *reader)
{
	struct pcsc_handle *h = calloc(1, sizeof(*h));
	LONG rc;

	if (h == NULL)
		return NULL;
	llv_buf_init_secret(&h->resp);
	snprintf(h->reader, sizeof(h->reader), "%s", reader);
	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &h->ctx);
	if (rc != SCARD_S_SUCCESS) {
		llv_warn("no se pudo hablar con pcscd: %s", pcsc_stringify_error(rc));
		free(h);
		return NULL;
	}
	rc = SCardConnect(h->ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			  &h->card, &h->proto);
	if (rc != SCARD_S_SUCCESS) {
		llv_warn("no se pudo conectar con la tarjeta en %s: %s", reader, pcsc_stringify_error(rc));
		SCardReleaseContext(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

static void pcsc_close(void *handle)
{
	struct pcsc_handle *h = handle;

	if (h == NULL)
		return;
	SCardDisconnect(h->card, SCARD_LEAVE_CARD);
	SCardReleaseContext(h->ctx);
	llv_buf_free(&h->resp);
	free(h);
}

/* Not used: the transport functions below replace HID report i/o. */
static int pcsc_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	return -1;
}

static int pcsc_write(void *handle, const unsigned char *buf, size_t len)
{
	return -1;
}

static int pcsc_tx(fido_dev_t *dev, uint8_t cmd, const unsigned char *buf, size_t count)
{
	struct pcsc_handle *h = fido_dev_io_handle(dev);

	if (h == NULL)
		return -1;
	h->last_cmd = cmd;
	switch (cmd) {
	case CMD_INIT:
		if (count != sizeof(h->nonce))
			return -1;
		memcpy(h->nonce, buf, sizeof(h->nonce));
		break;
	case CMD_CBOR:
	case CMD_MSG:
		if (count == 0)
			return -1;
		break;
	case CMD_CANCEL:
		return 0;
	default:
		llv_debug("pcsc: orden CTAPHID 0x%02x sin equivalente ISO 7816", cmd);
		return -1;
	}
	if (exchange(h, cmd, buf, count) != XCHG_OK)
		return -1;
	return (int)count;
}

static int pcsc_rx(fido_dev_t *dev, uint8_t cmd, unsigned char *buf, size_t count, int ms)
{
	struct pcsc_handle *h = fido_dev_io_handle(dev);
	size_t n;

	if (h == NULL || cmd != h->last_cmd || h->resp.len < 2)
		return -1;
	n = h->resp.len;
	switch (cmd) {
	case CMD_INIT: {
		uint8_t init[FIDO_ISO_INIT_LEN];

		if (count != sizeof(init) || !sw_ok(&h->resp))
			return -1;
		if (fido_iso7816_init_response(h->nonce, h->resp.data, n - 2, init) != 0) {
			llv_warn("el applet FIDO de %s respondió una versión desconocida", h->reader);
			return -1;
		}
		memcpy(buf, init, sizeof(init));
		return (int)sizeof(init);
	}
	case CMD_CBOR:
		if (!sw_ok(&h->resp)) {
			llv_warn("NFCCTAP_MSG: SW %02X%02X", h->resp.data[n - 2], h->resp.data[n - 1]);
			return -1;
		}
		break;
	default:
		break;
	}
	return fido_iso7816_ctaphid_answer(cmd, h->resp.data, n, buf, count);
}

const fido_dev_io_t fido_bridge_pcsc_io = {
	pcsc_open, pcsc_close, pcsc_read, pcsc_write,
};

const fido_dev_transport_t fido_bridge_pcsc_transport = {
	pcsc_rx, pcsc_tx,
};

int fido_bridge_pcsc_discover(struct fido_bridge_device **list, size_t *n, size_t *cap)
{
	SCARDCONTEXT ctx;
	DWORD len = 0;
	char *readers = NULL;
	LONG rc;
	int r = FIDO_BRIDGE_OK;

	rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rc != SCARD_S_SUCCESS) {
		llv_debug("pcscd no responde: %s", pcsc_stringify_error(rc));
		return FIDO_BRIDGE_OK;
	}
	rc = SCardListReaders(ctx, NULL, NULL, &len);
	if (rc == SCARD_S_SUCCESS && len > 0 && (readers = malloc(len)) != NULL)
		rc = SCardListReaders(ctx, NULL, readers, &len);
	if (rc != SCARD_S_SUCCESS || readers == NULL) {
		llv_debug("sin lectores PC/SC: %s", pcsc_stringify_error(rc));
		goto out;
	}
	for (const char *rd = readers; *rd != '\0' && r == FIDO_BRIDGE_OK; rd += strlen(rd) + 1) {
		struct pcsc_handle *h = pcsc_open(rd);
		struct llv_buf sel = LLV_BUF_INIT;

		if (h == NULL)
			continue;
		if (select_fido(h, &sel) == XCHG_OK && sw_ok(&sel))
			r = fido_bridge_device_add(list, n, cap, FIDO_BRIDGE_TRANSPORT_PCSC, "pcsc:",
						   rd, rd);
		else
			llv_debug("la tarjeta en %s no tiene applet FIDO", rd);
		llv_buf_free(&sel);
		pcsc_close(h);
	}
out:
	free(readers);
	SCardReleaseContext(ctx);
	return r;
}
