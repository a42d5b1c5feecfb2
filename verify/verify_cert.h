/* Profile checks on an end-entity certificate presented for sign-in:
 * validity dates, key usage, and e.firma vs CSD. */
#ifndef LLAVERO_VERIFY_CERT_H
#define LLAVERO_VERIFY_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/x509.h>

/* Parses exactly one DER certificate; NULL when malformed or trailing bytes. */
X509 *verify_cert_parse_der(const uint8_t *der, size_t len);
/* VERIFY_OK, VERIFY_ERR_CERT_NOT_YET_VALID or VERIFY_ERR_CERT_EXPIRED at now
 * (0: time(NULL)). */
int verify_cert_dates(X509 *cert, time_t now);
/* A SAT CSD (Certificado de Sello Digital): no extended key usage and an OU
 * (the branch) in the subject. */
bool verify_cert_is_csd(X509 *cert);
/* Authentication profile: a CSD is refused (VERIFY_ERR_CERT_CSD) when
 * efirma_only; key usage must include digitalSignature
 * (VERIFY_ERR_CERT_KEY_USAGE); with require_client_auth the extended key usage
 * must include id-kp-clientAuth (VERIFY_ERR_CERT_EKU). */
int verify_cert_auth_profile(X509 *cert, bool efirma_only, bool require_client_auth);

#endif
