/* pcsc_card.h: the PC/SC transport (pcsclite) under the card drivers.
 * One p11_card is one connection to the card in one reader. transmit()
 * follows ISO 7816-4: 61xx -> GET RESPONSE until done, 6Cxx -> resend with
 * the right Le, command chaining (CLA | 0x10) for data over 255 bytes.
 * Card gone (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, reader gone,
 * pcscd gone) -> CKR_DEVICE_REMOVED; so is a failed exchange (e.g.
 * SCARD_E_NOT_TRANSACTED: the card was pulled with the APDU in flight) when
 * the reader state, checked with a wait of at most 500 ms for pcscd to notice,
 * says the card left; otherwise CKR_DEVICE_ERROR. A card reset by another
 * application is reconnected, the driver's reset hook re-selects its
 * application, the command is sent, and the reset is reported once through
 * p11_card_was_reset() (the core then marks the login as lost). */
#ifndef LLAVERO_PKCS11_PCSC_CARD_H
#define LLAVERO_PKCS11_PCSC_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <PCSC/winscard.h>

#include "buf.h"
#include "p11_cryptoki.h"

struct p11_card;

/* The module's PC/SC context, (re)established on demand: after pcscd
 * restarts, the next call finds SCARD_E_NO_SERVICE / INVALID_HANDLE and
 * p11_pcsc_context() makes a fresh one. */
CK_RV p11_pcsc_context(SCARDCONTEXT *ctx);
/* Marks the context dead (pcscd went away); the next p11_pcsc_context makes a
 * new one. */
void p11_pcsc_context_lost(SCARDCONTEXT ctx);
/* Releases the context (forked: forget it without telling pcscd). */
void p11_pcsc_shutdown(bool forked);
/* Does a PC/SC error mean the service or context is gone? */
bool p11_pcsc_service_lost(LONG rc);

CK_RV p11_card_connect(const char *reader, struct p11_card **out);
/* A card reached without PC/SC (unit tests, fuzzing): fn gets each command
 * APDU and writes the response (data + SW, at most *rlen bytes). */
typedef CK_RV (*p11_card_xfer_fn)(void *ctx, const uint8_t *cmd, size_t len, uint8_t *rsp,
                                  size_t *rlen);
CK_RV p11_card_new_virtual(const uint8_t *atr, size_t atr_len, p11_card_xfer_fn fn, void *ctx,
                           struct p11_card **out);
void p11_card_free(struct p11_card *c, bool forked);
const uint8_t *p11_card_atr(const struct p11_card *c, size_t *len);
/* true once after the card was reset by someone else (security state lost).
 * For the core, which drops the login; drivers use p11_card_on_reset. */
bool p11_card_was_reset(struct p11_card *c);
/* Called after a reset card was reconnected, before the command that found
 * the reset is sent: the driver selects its application again (its APDUs
 * from here do not call the hook again) and forgets what the reset cleared.
 * fn NULL: no hook. */
typedef CK_RV (*p11_card_reset_fn)(struct p11_card *c, void *ctx);
void p11_card_on_reset(struct p11_card *c, p11_card_reset_fn fn, void *ctx);

/* Sends one command APDU. data up to 65535 bytes (chained in 255-byte
 * pieces when over 255); le_present adds Le = 00. The response data go to
 * resp (appended), the final status word to *sw. */
CK_RV p11_card_apdu(struct p11_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                    const uint8_t *data, size_t len, bool le_present,
                    struct llv_buf *resp, uint16_t *sw);
/* Exclusive access for a sequence of APDUs (VERIFY then GENERAL AUTHENTICATE). */
CK_RV p11_card_begin(struct p11_card *c);
void p11_card_end(struct p11_card *c);
/* Extended Lc/Le: on when the ATR's card capabilities say so (then
 * certificates come in one GET DATA and RSA-2048 input in one GENERAL
 * AUTHENTICATE). */
bool p11_atr_extended_length(const uint8_t *atr, size_t len);

#endif
