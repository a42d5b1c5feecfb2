/* CTAP over ISO 7816 framing (see fido_iso7816.h): chaining, 61xx + GET
 * RESPONSE, and the CTAPHID answers libfido2 expects. No I/O here: the
 * APDUs go through the caller's xmit callback. */
#include <limits.h>
#include <string.h>

#include <fido.h>

#include "fido_iso7816.h"
#include "log.h"

static const uint8_t fido_aid[] = { 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01 };

bool fido_iso7816_sw_ok(const uint8_t *resp, size_t len)
{
	return len >= 2 && resp[len - 2] == 0x90 && resp[len - 1] == 0x00;
}

int fido_iso7816_transmit_all(fido_iso7816_xmit_fn *xmit, void *arg, const uint8_t *apdu,
			      size_t len, struct llv_buf *out)
{
	int rc = xmit(arg, apdu, len, out);
	int rounds = 0;

	while (rc == FIDO_ISO_OK && out->len >= 2 && out->data[out->len - 2] == 0x61) {
		uint8_t get[5] = { 0x00, 0xC0, 0x00, 0x00, out->data[out->len - 1] };

		if (++rounds > 1024 || out->len > FIDO_ISO_MAX_RESPONSE)
			return FIDO_ISO_FAIL;
		out->len -= 2;
		rc = xmit(arg, get, sizeof(get), out);
	}
	return rc;
}

int fido_iso7816_send_chained(fido_iso7816_xmit_fn *xmit, void *arg, uint8_t cla, uint8_t ins,
			      uint8_t p1, uint8_t p2, const uint8_t *data, size_t len,
			      struct llv_buf *out)
{
	size_t off = 0;

	do {
		size_t n = len - off > 255 ? 255 : len - off;
		bool last = off + n == len;
		struct llv_buf apdu = LLV_BUF_INIT;
		int rc;

		llv_buf_init_secret(&apdu);
		llv_buf_put_u8(&apdu, last ? cla : (uint8_t)(cla | 0x10));
		llv_buf_put_u8(&apdu, ins);
		llv_buf_put_u8(&apdu, p1);
		llv_buf_put_u8(&apdu, p2);
		if (n > 0) {
			llv_buf_put_u8(&apdu, (uint8_t)n);
			llv_buf_put(&apdu, data + off, n);
		}
		if (last)
			llv_buf_put_u8(&apdu, 0x00);
		if (!llv_buf_ok(&apdu)) {
			llv_buf_free(&apdu);
			return FIDO_ISO_FAIL;
		}
		llv_buf_clear(out);
		rc = last ? fido_iso7816_transmit_all(xmit, arg, apdu.data, apdu.len, out)
			  : xmit(arg, apdu.data, apdu.len, out);
		llv_buf_free(&apdu);
		if (rc != FIDO_ISO_OK)
			return rc;
		if (!last && out->len > 2 && fido_iso7816_sw_ok(out->data, out->len)) {
			/* Data and 9000 before the command is complete: not an
			 * answer to it (found by fuzz_fido_iso7816). */
			llv_warn("la tarjeta respondió datos a un bloque encadenado intermedio");
			return FIDO_ISO_FAIL;
		}
		if (!last && !(out->len == 2 && out->data[0] == 0x90 && out->data[1] == 0x00)) {
			llv_warn("la tarjeta rechazó un bloque encadenado (SW %02X%02X)",
				 out->len >= 2 ? out->data[out->len - 2] : 0,
				 out->len >= 2 ? out->data[out->len - 1] : 0);
			return FIDO_ISO_OK;   /* the SW tells the caller */
		}
		off += n;
	} while (off < len);
	return FIDO_ISO_OK;
}

int fido_iso7816_select(fido_iso7816_xmit_fn *xmit, void *arg, struct llv_buf *out)
{
	return fido_iso7816_send_chained(xmit, arg, 0x00, 0xA4, 0x04, 0x00, fido_aid,
					 sizeof(fido_aid), out);
}

int fido_iso7816_init_response(const uint8_t nonce[8], const uint8_t *version, size_t len,
			       uint8_t out[FIDO_ISO_INIT_LEN])
{
	memset(out, 0, FIDO_ISO_INIT_LEN);
	memcpy(out, nonce, 8);
	out[11] = 1;        /* a non-broadcast channel id */
	out[12] = 2;        /* CTAPHID protocol version */
	if (len == 8 && memcmp(version, "FIDO_2_0", 8) == 0)
		out[16] = FIDO_CAP_CBOR | FIDO_CAP_NMSG;
	else if (len == 6 && memcmp(version, "U2F_V2", 6) == 0)
		out[16] = FIDO_CAP_CBOR;
	else
		return -1;
	return 0;
}

int fido_iso7816_ctaphid_answer(uint8_t cmd, const uint8_t *resp, size_t len, uint8_t *buf,
				size_t count)
{
	size_t n = len;

	if (len < 2)
		return -1;
	if (cmd == FIDO_ISO_CMD_CBOR) {
		if (!fido_iso7816_sw_ok(resp, len))
			return -1;
		n -= 2;
	}
	/* U2F: data and SW, as CTAPHID_MSG carries them */
	if (n > count || n > INT_MAX)
		return -1;
	memcpy(buf, resp, n);
	return (int)n;
}
