/* Web eID authentication tokens ("web-eid:1.0" and "web-eid:1.1"), as the
 * Llavero agent and the Web eID apps make them:
 *   {"format", "unverifiedCertificate" (base64 DER), "algorithm",
 *    "signature" (base64), "appVersion",
 *    1.1: "unverifiedSigningCertificates": [{"certificate",
 *          "supportedSignatureAlgorithms": [{cryptoAlgorithm, hashFunction,
 *          paddingScheme}]}]}
 * The signature covers H(origin) || H(nonce) (so the signed hash is
 * H(H(origin) || H(nonce))), H being the algorithm's hash, the nonce hashed as
 * its base64 text; ECDSA signatures are raw r||s. The server rebuilds this from
 * its own origin and the nonce it issued: the token never names them. */
#ifndef LLAVERO_VERIFY_WEBEID_H
#define LLAVERO_VERIFY_WEBEID_H

#include "verify_identity.h"
#include "verify_nonce.h"
#include "verify_ocsp.h"
#include "verify_trust.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct verify_webeid_opts {
	const char *origin;                  /* the server's own origin */
	const char *nonce;                   /* the nonce issued to this session */
	struct verify_nonce_store *nonces;   /* consumes nonce when set (single use) */
	const struct verify_trust *trust;    /* trusted CA certificates (required) */
	const struct verify_ocsp_opts *ocsp; /* NULL: no revocation check */
	bool allow_csd;                      /* default: e.firma only, CSD refused */
	bool skip_client_auth_eku;           /* default: id-kp-clientAuth required */
	time_t now;                          /* 0: time(NULL) */
};

struct verify_webeid_result {
	char format[16];
	char algorithm[8];
	char app_version[128];
	struct verify_identity identity;
	X509 *certificate;                   /* the verified certificate (owned) */
	STACK_OF(X509) *chain;               /* leaf .. trusted anchor (owned) */
	size_t n_signing_certificates;       /* web-eid:1.1 */
};

/* Verifies a token. Checks, in order: nonce (when a store is given), JSON,
 * format, fields, algorithm, base64, certificate, validity dates, CSD, key
 * usage, extended key usage, the key fits the algorithm, the chain, the
 * signature, OCSP, identity. Returns VERIFY_OK and fills *out (free with
 * verify_webeid_result_clear) or the error of the first failing check (on
 * error *out is empty). A signature made by the certificate's RSA key over
 * another origin or nonce is VERIFY_ERR_TOKEN_ORIGIN_MISMATCH; with ECDSA it
 * cannot be told from a corrupt signature (VERIFY_ERR_TOKEN_SIGNATURE). */
int verify_webeid_token(const char *json, size_t len, const struct verify_webeid_opts *opts,
			struct verify_webeid_result *out);
void verify_webeid_result_clear(struct verify_webeid_result *r);

/* An origin a server may verify for: "https://host[:port]" (lowercase host,
 * no path) or "http://localhost[:port]" / "http://127.0.0.1[:port]". */
bool verify_origin_valid(const char *origin);

/* The data the token signature covers: H(origin) || H(nonce) for the named
 * algorithm ("ES256" ...). Writes at most 128 bytes into out; returns the
 * length or -1 on an unknown algorithm. (Test clients use it too.) */
int verify_webeid_signed_data(const char *algorithm, const char *origin,
			      const char *nonce, unsigned char out[128]);

#endif
