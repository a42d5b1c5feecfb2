/* PIV applet per NIST SP 800-73-4 (card edge), with the YubiKey PIV
 * extensions clients rely on (GET VERSION, GET SERIAL, GET METADATA, IMPORT
 * KEY, SET MANAGEMENT KEY, RESET). Portable core: no I/O, no globals. */
#ifndef LLAVERO_VCARD_PIV_APPLET_H
#define LLAVERO_VCARD_PIV_APPLET_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "applet.h"
#include "buf.h"

struct piv_applet;

extern const struct vcard_applet_ops piv_applet_ops;

/* Key references (SP 800-73-4 table 4b). */
enum {
	PIV_KEY_AUTH = 0x9A,        /* PIV Authentication */
	PIV_KEY_MGMT = 0x9B,        /* card management (administration) key */
	PIV_KEY_SIGN = 0x9C,        /* Digital Signature: PIN always */
	PIV_KEY_KEYMGMT = 0x9D,     /* Key Management */
	PIV_KEY_CARDAUTH = 0x9E,    /* Card Authentication: no PIN */
	PIV_REF_PIN = 0x80,
	PIV_REF_PUK = 0x81,
};

/* A new, empty applet (no keys, default PIN 123456, PUK 12345678, default
 * 3DES management key 0102..08 x3). NULL on allocation failure. */
struct piv_applet *piv_applet_new(void);
void piv_applet_free(struct piv_applet *piv);

/* Personalises a fresh card: PIN/PUK (NULL = defaults), a random CHUID (with
 * FASC-N, GUID, expiry), CCC, discovery object and key history. 0 or -1. */
int piv_applet_personalize(struct piv_applet *piv, const char *pin, const char *puk);

/* Installs a private key (RSA 2048 or EC P-256/P-384) and/or a certificate
 * in a slot (9A, 9C, 9D, 9E), as the CLI's provision command does without
 * going through APDUs. 0, or -1 with a reason in err. */
int piv_applet_install_key(struct piv_applet *piv, uint8_t slot, EVP_PKEY *key, char *err, size_t errlen);
int piv_applet_install_cert(struct piv_applet *piv, uint8_t slot, const uint8_t *der, size_t len, char *err, size_t errlen);

/* Persistent state as bytes (TLV records) and back. Load refuses anything
 * malformed with a reason in err and leaves piv unchanged. */
int piv_applet_save(const struct piv_applet *piv, struct llv_buf *out);
int piv_applet_load(struct piv_applet *piv, const uint8_t *data, size_t len, char *err, size_t errlen);

#endif
