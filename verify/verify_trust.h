/* Trusted CA certificates and chain verification. Following Web eID, every
 * configured certificate is a trust anchor ("trusted intermediate CA
 * certificates"): a leaf chains when it is issued by one of them, directly or
 * through others configured; roots may be configured too (SAT: AC UAT for
 * tests; AC4..AC7 and the Banxico ARC roots for production). */
#ifndef LLAVERO_VERIFY_TRUST_H
#define LLAVERO_VERIFY_TRUST_H

#include "verify_identity.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct verify_trust;

struct verify_trust *verify_trust_new(void);
void verify_trust_free(struct verify_trust *t);
/* Adds every certificate of a PEM file (one or many) or a DER file.
 * VERIFY_OK, VERIFY_ERR_ARGUMENT (unreadable) or VERIFY_ERR_CERT_PARSE. */
int verify_trust_add_file(struct verify_trust *t, const char *path);
int verify_trust_add_der(struct verify_trust *t, const uint8_t *der, size_t len);
/* Adds a certificate (the trust takes its own reference). */
int verify_trust_add_x509(struct verify_trust *t, X509 *cert);
size_t verify_trust_count(const struct verify_trust *t);

/* Builds and verifies leaf's chain to a trusted certificate at time now
 * (0: time(NULL)), with untrusted (may be NULL) as extra intermediates.
 * Returns VERIFY_OK, VERIFY_ERR_CERT_UNTRUSTED (no trusted issuer),
 * VERIFY_ERR_CERT_EXPIRED / _NOT_YET_VALID (some certificate of the chain) or
 * VERIFY_ERR_CERT_CHAIN (anything else, logged). On success and when
 * chain_out is not NULL it gets the chain, leaf first (free with
 * OSSL_STACK_OF_X509_free / sk_X509_pop_free). */
int verify_trust_check(const struct verify_trust *t, X509 *leaf,
		       STACK_OF(X509) *untrusted, time_t now,
		       STACK_OF(X509) **chain_out);

/* Cache of recently seen certificates (64, least recently used out,
 * thread-safe): verify_trust_cached_cert returns a new reference to the
 * certificate parsed earlier from exactly this base64 text, or NULL;
 * verify_trust_cache_cert remembers one (it takes its own reference).
 * verify_trust_check with no untrusted certificates reuses the chain it
 * built for such a certificate while now lies inside the validity of every
 * certificate in that chain. Adding a trusted certificate empties it. */
X509 *verify_trust_cached_cert(const struct verify_trust *t, const char *b64);
void verify_trust_cache_cert(const struct verify_trust *t, const char *b64, X509 *cert);

/* What depends only on a cached certificate's exact bytes, kept in its
 * cache entry (leaf is the very object verify_trust_cached_cert returned;
 * any other object, e.g. another certificate with the same subject, finds
 * nothing; evicting the entry or adding a CA drops it all):
 *  - verify_trust_cached_dates_ok: true when now lies inside the leaf's
 *    notBefore..notAfter with a second to spare on each side (read once when
 *    the certificate was cached); false means "check with verify_cert_dates"
 *    (also at the edges). The dates are still checked for every token.
 *  - identity: verify_identity_from_cert's VERIFY_OK result, copied out.
 *  - a verify context template (an EVP_PKEY_CTX initialised for verifying
 *    with the leaf's key, padding and digest set) under a caller's key (the
 *    algorithm): the cached_ call returns a duplicate the caller frees;
 *    cache_ takes ownership of tmpl (freed if there is no entry). */
bool verify_trust_cached_dates_ok(const struct verify_trust *t, const X509 *leaf, time_t now);
bool verify_trust_cached_identity(const struct verify_trust *t, const X509 *leaf,
				  struct verify_identity *out);
void verify_trust_cache_identity(const struct verify_trust *t, const X509 *leaf,
				 const struct verify_identity *id);
EVP_PKEY_CTX *verify_trust_cached_verify_ctx(const struct verify_trust *t, const X509 *leaf,
					     const void *key);
void verify_trust_cache_verify_ctx(const struct verify_trust *t, const X509 *leaf,
				   const void *key, EVP_PKEY_CTX *tmpl);

#endif
