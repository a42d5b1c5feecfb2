/* Origins and WebAuthn RP IDs (WebAuthn Level 3 §5.1.3 step 8, §5.1.4.1
 * step 7; HTML's "is a registrable domain suffix of or is equal to"): only
 * https origins, plus http://localhost for development; the RP ID is the
 * origin's host or a parent domain of it that is not a public suffix
 * (libpsl, the system's list loaded once per process). Shared by the FIDO2
 * bridge (fido/) and the server-side verification (verify/). Library
 * llavero_rpid (links libpsl). */
#ifndef LLAVERO_COMMON_RPID_H
#define LLAVERO_COMMON_RPID_H

#include <stdbool.h>
#include <stddef.h>

enum llv_rpid_result {
	LLV_RPID_OK = 0,
	LLV_RPID_BAD_ARG,     /* NULL arguments */
	LLV_RPID_ORIGIN,      /* origin not allowed or malformed */
	LLV_RPID_INVALID,     /* RP ID empty, too long, not a lowercase domain, or
			       * neither the origin's host nor a parent of it */
	LLV_RPID_PUBLIC_SUFFIX, /* RP ID is a public suffix (gob.mx, com, github.io) */
};

/* Parses a serialised origin (scheme://host[:port]) and checks it is allowed:
 * https, or http://localhost. Writes the lowercase host into host. */
enum llv_rpid_result llv_origin_host(const char *origin, char *host, size_t hostlen);
/* Is domain (lowercase) a public suffix? "localhost" is not. Without any
 * list, every single-label name is one. */
bool llv_rpid_is_public_suffix(const char *domain);
/* Checks rp_id against origin with the registrable-domain rules. */
enum llv_rpid_result llv_rpid_check(const char *origin, const char *rp_id);

#endif
