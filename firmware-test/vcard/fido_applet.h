/* The FIDO applet of llavero-vcard: CTAP over ISO 7816 (CTAP 2.1 §11.3, the
 * NFC/CCID binding) around the authenticator core of llavero-vkey
 * (firmware-test/vkey/ctap_authenticator.h), so one simulated card carries
 * PIV and FIDO the way a YubiKey does over NFC or CCID.
 *
 *   SELECT A0000006472F0001     -> "U2F_V2" 9000 (U2F is supported)
 *   80 10 00|80 00 Lc cmd||CBOR -> status||CBOR 9000   (NFCCTAP_MSG; P1 80:
 *                                  the client understands NFCCTAP_GETRESPONSE)
 *   80 11 00 00                 -> 6985 (NFCCTAP_GETRESPONSE: every MSG is
 *                                  answered in full, nothing is held back)
 *   00 01|02|03 ...             -> CTAP1/U2F register/authenticate/version
 * Command chaining and 61xx + GET RESPONSE come from the card layer.
 *
 * User presence on a card is the tap on the reader: approved automatically
 * (FIDO_UP_AUTO), or refused (FIDO_UP_DENY) to test clients' error paths.
 * Portable like the other applets: no I/O, no globals. */
#ifndef LLAVERO_VCARD_FIDO_APPLET_H
#define LLAVERO_VCARD_FIDO_APPLET_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "applet.h"
#include "buf.h"

struct ctap_auth;

#define FIDO_AID_LEN 8
extern const uint8_t fido_aid[FIDO_AID_LEN];

/* CTAP 2.1 §11.3 instruction bytes (class 0x80). */
enum {
	FIDO_INS_NFCCTAP_MSG = 0x10,
	FIDO_INS_NFCCTAP_GETRESPONSE = 0x11,
	/* CTAP1/U2F (class 0x00). */
	FIDO_INS_U2F_REGISTER = 0x01,
	FIDO_INS_U2F_AUTHENTICATE = 0x02,
	FIDO_INS_U2F_VERSION = 0x03,
};
/* NFCCTAP_MSG P1: the client supports NFCCTAP_GETRESPONSE. */
#define FIDO_P1_GETRESPONSE_SUPPORTED 0x80
/* SW of an NFCCTAP_MSG answer that carries a keepalive status byte instead
 * of the response (the client then sends NFCCTAP_GETRESPONSE). */
#define FIDO_SW_UPDATE 0x9100

enum fido_up_mode { FIDO_UP_AUTO, FIDO_UP_DENY };

struct fido_applet;

/* A new applet with an empty authenticator: call fido_applet_init_fresh or
 * fido_applet_load next. NULL on allocation failure. */
struct fido_applet *fido_applet_new(void);
void fido_applet_free(struct fido_applet *f);

/* A factory-fresh authenticator (new device secret, AAGUID, attestation CA
 * and batch certificate). 0 or -1. */
int fido_applet_init_fresh(struct fido_applet *f);
/* The persistent state (ctap_auth_save bytes) and back. load leaves the
 * applet unchanged and says why in err when the bytes are refused. */
int fido_applet_save(const struct fido_applet *f, struct llv_buf *out);
int fido_applet_load(struct fido_applet *f, const uint8_t *data, size_t len, char *err, size_t errlen);

void fido_applet_set_up_mode(struct fido_applet *f, enum fido_up_mode mode);
/* The authenticator inside (for status output and the attestation CA). */
struct ctap_auth *fido_applet_auth(struct fido_applet *f);

/* User presence requests answered (statistics and tests). */
uint64_t fido_applet_up_requests(const struct fido_applet *f);

extern const struct vcard_applet_ops fido_applet_ops;

#endif
