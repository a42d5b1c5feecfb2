/* PKCE (RFC 7636), S256 only. */
#ifndef LLAVERO_IDP_PKCE_H
#define LLAVERO_IDP_PKCE_H

#include <stdbool.h>

/* base64url(SHA-256(verifier)) == challenge, in constant time; the verifier
 * must be 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 4.1). */
bool idp_pkce_s256_ok(const char *verifier, const char *challenge);
/* base64url(SHA-256(verifier)), malloc'd; NULL without memory. */
char *idp_pkce_s256(const char *verifier);
/* A code_challenge as S256 makes it: 43 base64url characters. */
bool idp_pkce_challenge_well_formed(const char *challenge);

#endif
