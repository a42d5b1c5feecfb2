/* CTAP over ISO 7816 (CTAP 2.1 §11.3): the framing of the PC/SC transport
 * (fido_transport_pcsc.c) as pure functions over a "send one APDU" callback,
 * so unit tests and the fuzzer (tests/fuzz/fuzz_fido_iso7816.c) drive it
 * without pcsclite:
 *   - command chaining: pieces of at most 255 bytes, CLA | 0x10 on all but
 *     the last, Le = 00 on the last;
 *   - response reassembly: GET RESPONSE while the card answers 61xx;
 *   - the answers libfido2 expects for each CTAPHID command (the
 *     CTAPHID_INIT response built from the SELECT answer, CBOR without its
 *     9000, U2F with its SW). */
#ifndef LLAVERO_FIDO_ISO7816_H
#define LLAVERO_FIDO_ISO7816_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum { FIDO_ISO_OK = 0, FIDO_ISO_FAIL = -1, FIDO_ISO_RESET = -2 };

/* Largest answer reassembled from 61xx pieces. */
#define FIDO_ISO_MAX_RESPONSE (64 * 1024)
/* CTAPHID_INIT response: nonce, cid, protocol, 3 version bytes, flags. */
#define FIDO_ISO_INIT_LEN 17

/* libfido2 names CTAPHID commands without the frame-type bit (CTAP_CMD_*). */
enum { FIDO_ISO_CMD_MSG = 0x03, FIDO_ISO_CMD_INIT = 0x06, FIDO_ISO_CMD_CBOR = 0x10,
       FIDO_ISO_CMD_CANCEL = 0x11 };

/* Sends one APDU; appends the card's answer (data and SW, at least 2 bytes)
 * to out. Returns FIDO_ISO_OK, FIDO_ISO_FAIL or FIDO_ISO_RESET (the card was
 * reset under us). */
typedef int fido_iso7816_xmit_fn(void *arg, const uint8_t *apdu, size_t len, struct llv_buf *out);

/* An APDU followed by GET RESPONSE (00 C0 00 00 xx) while the card answers
 * 61xx; out gets all the data and the final SW. At most 1024 rounds and
 * FIDO_ISO_MAX_RESPONSE bytes. */
int fido_iso7816_transmit_all(fido_iso7816_xmit_fn *xmit, void *arg, const uint8_t *apdu,
			      size_t len, struct llv_buf *out);
/* A command with chaining; out is cleared and gets the answer to the last
 * piece sent. A piece the card refuses (SW not 9000) ends the chain with
 * FIDO_ISO_OK and that SW in out: the caller reads it. Data with 9000 to a
 * piece before the last is FIDO_ISO_FAIL (never taken as the answer). */
int fido_iso7816_send_chained(fido_iso7816_xmit_fn *xmit, void *arg, uint8_t cla, uint8_t ins,
			      uint8_t p1, uint8_t p2, const uint8_t *data, size_t len,
			      struct llv_buf *out);
/* SELECT of the FIDO AID (A0000006472F0001). */
int fido_iso7816_select(fido_iso7816_xmit_fn *xmit, void *arg, struct llv_buf *out);

/* True when the answer ends in 9000. */
bool fido_iso7816_sw_ok(const uint8_t *resp, size_t len);
/* The CTAPHID_INIT response from the data of the SELECT answer (without its
 * SW): "FIDO_2_0" (CBOR and no U2F) or "U2F_V2" (CBOR and U2F). -1 for any
 * other version. */
int fido_iso7816_init_response(const uint8_t nonce[8], const uint8_t *version, size_t len,
			       uint8_t out[FIDO_ISO_INIT_LEN]);
/* What libfido2 reads for cmd (CBOR or MSG) from the card's answer (data and
 * SW): CBOR answers must end in 9000, which is dropped; U2F answers keep
 * their SW, as CTAPHID_MSG carries it. Returns the length written to buf,
 * or -1 (bad SW, answer too large for count, too short). */
int fido_iso7816_ctaphid_answer(uint8_t cmd, const uint8_t *resp, size_t len, uint8_t *buf,
				size_t count);

#endif
