/* PKCE (RFC 7636) with the S256 method, the only one llavero-idp accepts. */
#include "idp_pkce.h"

#include "base64url.h"
#include "secmem.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

char *idp_pkce_s256(const char *verifier)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	return llv_base64url_encode(md, sizeof(md));
}

bool idp_pkce_s256_ok(const char *verifier, const char *challenge)
{
	char *enc;
	size_t n;
	bool ok;

	if (!verifier || !challenge)
		return false;
	n = strlen(verifier);
	if (n < 43 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = verifier[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~'))
			return false;
	}
	if (!(enc = idp_pkce_s256(verifier)))
		return false;
	ok = strlen(enc) == strlen(challenge) && llv_ct_memcmp(enc, challenge, strlen(enc)) == 0;
	free(enc);
	return ok;
}

bool idp_pkce_challenge_well_formed(const char *c)
{
	/* base64url of a SHA-256: 43 characters */
	if (!c || strlen(c) != 43)
		return false;
	for (; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_'))
			return false;
	return true;
}
