/* Shared helpers of the verify/ unit tests: generated fixtures, SAT files,
 * keys and certificates, Web eID token building. */
#ifndef VT_UTIL_H
#define VT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Runs gen-fixtures.sh once and returns the fixture directory (NULL on failure). */
const char *vt_fixtures(void);
/* "DIR/name" in the fixture directory (static buffer rotation of 8). */
const char *vt_fix(const char *name);
/* The SAT test data directory, or NULL (with a loud message) when absent. */
const char *vt_sat_dir(void);

X509 *vt_load_cert(const char *path);           /* PEM or DER */
EVP_PKEY *vt_load_key(const char *path, const char *pass);  /* PEM or DER PKCS#8 (encrypted) */
uint8_t *vt_cert_der(X509 *x, size_t *len);

/* Signs data with key as the Web eID algorithm names it (ES* as raw r||s). */
int vt_sign(EVP_PKEY *key, const char *alg, const uint8_t *data, size_t len,
	    uint8_t **sig, size_t *sig_len);
/* A complete token JSON (malloc'd) signed for origin and nonce. format
 * "web-eid:1.1" adds unverifiedSigningCertificates with the same certificate. */
char *vt_token(const char *format, X509 *cert, EVP_PKEY *key, const char *alg,
	       const char *origin, const char *nonce);

#endif
