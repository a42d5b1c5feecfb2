/* Revocation check by OCSP (RFC 6960) against a configured responder (SAT's
 * leaf certificates carry no OCSP URL). The HTTP exchange is a callback so
 * the library stays stateless and a server can use its own client (libcurl). */
#ifndef LLAVERO_VERIFY_OCSP_H
#define LLAVERO_VERIFY_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

/* POSTs req (application/ocsp-request) to url and returns the body of the
 * answer in a malloc'd *resp (the library frees it). 0 on success, -1 on
 * any transport failure. */
typedef int (*verify_ocsp_transport_fn)(void *ctx, const char *url,
					const uint8_t *req, size_t req_len,
					uint8_t **resp, size_t *resp_len);

struct verify_ocsp_opts {
	const char *responder_url;
	verify_ocsp_transport_fn transport;
	void *transport_ctx;
	long skew_seconds;     /* allowed clock difference on thisUpdate/nextUpdate */
	long max_age_seconds;  /* thisUpdate no older than this (<= 0: no limit; used
				* mainly when the response has no nextUpdate) */
	bool allow_missing_nonce; /* default false: the response must echo our nonce */
	/* Fixed, pre-approved responder certificates (RFC 6960 4.2.2.2, "a local
	 * configuration of OCSP signing authority"), e.g. SAT's ocsp.ac4_sat.cer,
	 * ocsp.ac5_sat.cer, OCSP.AC6_SAT.cer, OCSP7.crt. A response signed by one
	 * of them (carried in the response or not) is accepted for any
	 * certificate while it is valid at now and has id-kp-OCSPSigning. NULL:
	 * only the CA and responders it delegated to. Not owned. */
	STACK_OF(X509) *responders;
};

/* Appends the certificates of a PEM (one or many) or DER file to *list
 * (created when NULL; free with sk_X509_pop_free(list, X509_free)). Each must
 * carry id-kp-OCSPSigning (VERIFY_ERR_OCSP_RESPONDER, nothing added);
 * VERIFY_ERR_ARGUMENT when unreadable, VERIFY_ERR_CERT_PARSE. */
int verify_ocsp_responders_add_file(STACK_OF(X509) **list, const char *path);

/* Asks whether leaf (issued by issuer) is revoked at now (0: time(NULL)).
 * The response must be signed by the issuer itself, by a delegated
 * responder certificate issued by it with id-kp-OCSPSigning, valid at now, or
 * by one of o->responders. The response's CertID may be hashed with SHA-1,
 * SHA-256, SHA-384 or SHA-512 (the request uses SHA-1, as SAT expects).
 * Returns VERIFY_OK for "good"; VERIFY_ERR_OCSP_REVOKED; VERIFY_ERR_OCSP_UNKNOWN
 * ("unknown" is a failure); or _TRANSPORT, _MALFORMED, _STATUS, _SIGNATURE,
 * _RESPONDER, _NONCE, _NOT_FOUND, _STALE. */
int verify_ocsp_check(X509 *leaf, X509 *issuer, const struct verify_ocsp_opts *o,
		      time_t now);

/* The response half alone (for tests and fuzzing): checks resp against the
 * request that asked for it. Same results as verify_ocsp_check. */
int verify_ocsp_check_response(X509 *leaf, X509 *issuer, const uint8_t *req_der,
			       size_t req_len, const uint8_t *resp, size_t resp_len,
			       const struct verify_ocsp_opts *o, time_t now);

#endif
