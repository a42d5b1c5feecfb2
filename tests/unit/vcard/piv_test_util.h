/* Helpers shared by the PIV applet's unit tests: build command APDUs, send
 * them to the applet through piv_applet_ops and check the answers. */
#ifndef LLAVERO_TEST_PIV_UTIL_H
#define LLAVERO_TEST_PIV_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "apdu.h"
#include "buf.h"
#include "piv_applet.h"

struct piv_resp {
	uint16_t sw;
	uint8_t data[4096];
	size_t len;
};

/* A personalised applet (default PIN 123456, PUK 12345678), selected. */
struct piv_applet *pt_new_card(void);
uint16_t pt_select(struct piv_applet *piv, struct piv_resp *r);
/* Sends a command (data may be NULL when lc is 0); fills r when not NULL. */
uint16_t pt_cmd(struct piv_applet *piv, uint8_t ins, uint8_t p1, uint8_t p2, const void *data, size_t lc,
		struct piv_resp *r);
/* VERIFY of the PIV PIN given as text (padded with FF). */
uint16_t pt_verify_pin(struct piv_applet *piv, const char *pin);
/* Mutual authentication with the management key. Returns the final SW. */
uint16_t pt_mgmt_auth(struct piv_applet *piv, uint8_t alg, const uint8_t *key, size_t key_len);
extern const uint8_t pt_default_mgmt_key[24];
/* GENERAL AUTHENTICATE 7C { 82 00, 81 input }; on success sig gets the 82 value. */
uint16_t pt_sign(struct piv_applet *piv, uint8_t alg, uint8_t slot, const uint8_t *in, size_t len,
		 uint8_t *sig, size_t *sig_len);
/* PKCS#1 v1.5 block of a SHA-256 DigestInfo for a 2048-bit key. */
void pt_pkcs1_sha256(const uint8_t hash[32], uint8_t block[256]);
/* Verifies a signature over a digest (RSA PKCS#1 v1.5 with md, or ECDSA). 1 when valid. */
int pt_verify_sig(EVP_PKEY *pub, const EVP_MD *md, const uint8_t *hash, size_t hash_len, const uint8_t *sig,
		  size_t sig_len);
/* A self-signed certificate for key, DER (caller frees with OPENSSL_free). */
uint8_t *pt_self_signed(EVP_PKEY *key, size_t *len);
/* Finds a TLV (one level) inside data; returns the value or NULL. */
const uint8_t *pt_find(const uint8_t *data, size_t len, uint32_t tag, size_t *vlen);

#endif
