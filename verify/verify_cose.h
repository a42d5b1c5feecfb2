/* COSE_Key (RFC 9053) public keys as WebAuthn credentials carry them, and
 * signature checks with them: ES256 (P-256, DER signature), EdDSA (Ed25519)
 * and RS256 (RSASSA-PKCS1-v1_5 SHA-256, 2048 bits or more). */
#ifndef LLAVERO_VERIFY_COSE_H
#define LLAVERO_VERIFY_COSE_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define VERIFY_COSE_ES256 (-7)
#define VERIFY_COSE_EDDSA (-8)
#define VERIFY_COSE_RS256 (-257)

/* Decodes a COSE_Key (exactly len bytes) into a public key and its
 * algorithm. VERIFY_OK or VERIFY_ERR_WA_COSE_KEY. */
int verify_cose_key_decode(const uint8_t *cbor, size_t len, EVP_PKEY **out, long *alg);
/* The COSE algorithm a key is used with (ES256 for P-256, EdDSA for
 * Ed25519, RS256 for RSA >= 2048); 0 when unsupported. */
long verify_cose_alg_for_key(const EVP_PKEY *pk);
/* Verifies sig over data with pk under alg. VERIFY_OK, or sig_error when
 * the signature does not verify, or VERIFY_ERR_WA_COSE_KEY when the key
 * does not fit alg. */
int verify_cose_verify(EVP_PKEY *pk, long alg, const uint8_t *data, size_t len,
		       const uint8_t *sig, size_t sig_len, int sig_error);
/* SubjectPublicKeyInfo DER of pk (malloc'd) and back. */
int verify_cose_spki_encode(EVP_PKEY *pk, uint8_t **der, size_t *len);
/* Decoded keys are cached (64, by their exact bytes) and shared: callers
 * only verify with them and free their reference. */
EVP_PKEY *verify_cose_spki_decode(const uint8_t *der, size_t len);

#endif
