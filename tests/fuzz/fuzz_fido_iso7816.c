/* libFuzzer target: the CTAP-over-ISO-7816 framing of the PC/SC transport
 * (fido/fido_iso7816.c): command chaining, 61xx + GET RESPONSE reassembly
 * and the CTAPHID answers handed to libfido2, against a card whose answers
 * the fuzzer writes.
 * Input: cmd selector (0 INIT/SELECT, 1 CBOR, 2 MSG), libfido2's buffer size
 * (be16), request length (be16) and request bytes, then the card's script:
 * per APDU a tag (0 answer, 1 transmit failure, 2 card reset) and for an
 * answer a be16 length and its bytes. Each APDU the framing sends is checked
 * for shape (header, Lc matching its data, chaining bit on all but the last
 * piece). */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fido_iso7816.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	struct llv_reader r;
	uint8_t cla;         /* of the command being chained */
	bool ended;          /* the last piece (no chaining bit) was sent */
	bool raw;            /* the next APDU is the caller's own (transmit_all) */
};

static int fake_card(void *arg, const uint8_t *apdu, size_t len, struct llv_buf *out)
{
	struct script *s = arg;
	uint8_t tag;
	uint16_t n;
	const uint8_t *p;

	if (s->raw) {                                /* the caller's own APDU, as is */
		s->raw = false;
	} else if (apdu[1] == 0xC0 && s->ended) {    /* GET RESPONSE */
		if (len != 5 || apdu[0] != 0x00)
			abort();
	} else {
		if (len < 5 || s->ended || (apdu[0] & ~0x10) != s->cla)
			abort();
		if (apdu[0] & 0x10) {                /* chained pieces are full, without Le */
			if (apdu[4] != 255 || len != 5u + 255)
				abort();
		} else {                             /* the last: Lc data Le, or Le alone */
			if (!(len == 5 || (apdu[4] != 0 && len == 6u + apdu[4] && apdu[len - 1] == 0)))
				abort();
			s->ended = true;
		}
	}
	tag = llv_reader_u8(&s->r);
	if (!llv_reader_ok(&s->r) || tag == 1)
		return FIDO_ISO_FAIL;
	if (tag == 2)
		return FIDO_ISO_RESET;
	n = llv_reader_be16(&s->r);
	if ((p = llv_reader_take(&s->r, n)) == NULL)
		return FIDO_ISO_FAIL;
	if (n < 2)
		return FIDO_ISO_FAIL;                 /* what the PC/SC side refuses too */
	llv_buf_put(out, p, n);
	return llv_buf_ok(out) ? FIDO_ISO_OK : FIDO_ISO_FAIL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct script s;
	struct llv_buf out = LLV_BUF_INIT;
	const uint8_t *req;
	uint8_t sel, *buf;
	uint16_t count, rlen;
	int rc, n;

	llv_log_set_level(LLV_LOG_ERROR);
	llv_reader_init(&s.r, data, size);
	sel = llv_reader_u8(&s.r) % 3;
	count = llv_reader_be16(&s.r);
	rlen = llv_reader_be16(&s.r);
	req = llv_reader_take(&s.r, rlen);
	if (!llv_reader_ok(&s.r))
		return 0;
	s.cla = 0xFF;
	s.ended = false;
	s.raw = false;
	llv_buf_init_secret(&out);
	if ((buf = malloc(count ? count : 1)) == NULL)
		return 0;
	switch (sel) {
	case 0:
		s.cla = 0x00;
		rc = fido_iso7816_select(fake_card, &s, &out);
		if (rc == FIDO_ISO_OK && fido_iso7816_sw_ok(out.data, out.len)) {
			uint8_t init[FIDO_ISO_INIT_LEN];

			if (fido_iso7816_init_response(nonce, out.data, out.len - 2, init) == 0 &&
			    memcmp(init, nonce, 8) != 0)
				abort();
		}
		break;
	case 1:
		s.cla = 0x80;
		rc = fido_iso7816_send_chained(fake_card, &s, 0x80, 0x10, 0x00, 0x00, req, rlen, &out);
		if (rc == FIDO_ISO_OK && !s.ended && fido_iso7816_sw_ok(out.data, out.len))
			abort();                      /* a 9000 before the last piece went out */
		break;
	default:
		if (rlen < 4)
			goto out;
		s.raw = true;
		s.ended = true;
		rc = fido_iso7816_transmit_all(fake_card, &s, req, rlen, &out);
		break;
	}
	if (rc == FIDO_ISO_OK) {
		if (out.len < 2 || out.len > FIDO_ISO_MAX_RESPONSE + 65535 + 2)
			abort();
		n = fido_iso7816_ctaphid_answer(sel == 1 ? FIDO_ISO_CMD_CBOR : FIDO_ISO_CMD_MSG,
						out.data, out.len, buf, count);
		if (n > (int)count)
			abort();
	}
out:
	free(buf);
	llv_buf_free(&out);
	return 0;
}
