/* WebAuthn authentication (navigator.credentials.get) verification. */
#ifndef LLAVERO_VERIFY_WEBAUTHN_AUTH_H
#define LLAVERO_VERIFY_WEBAUTHN_AUTH_H

#include "verify_webauthn.h"

struct verify_webauthn_auth_opts {
	const struct verify_webauthn_rp *rp;
	const uint8_t *challenge;          /* the challenge the server issued */
	size_t challenge_len;
	const uint8_t *public_key_spki;    /* the stored credential's key */
	size_t public_key_spki_len;
	long cose_alg;                     /* stored algorithm; 0: from the key */
	uint32_t stored_sign_count;
};

struct verify_webauthn_assertion {
	uint32_t sign_count;   /* to store on success */
	uint8_t flags;         /* VERIFY_AD_* */
};

/* Checks clientDataJSON (type "webauthn.get", challenge, origin), the
 * authenticator data (rpIdHash, UP, UV when required), the signature over
 * authenticatorData || SHA-256(clientDataJSON) (ES256, EdDSA, RS256) and the
 * signature counter: a counter that does not grow is VERIFY_ERR_WA_COUNTER,
 * except when both the stored and the new counter are 0. */
int verify_webauthn_authenticate(const uint8_t *client_data_json, size_t cdj_len,
				 const uint8_t *authenticator_data, size_t ad_len,
				 const uint8_t *signature, size_t sig_len,
				 const struct verify_webauthn_auth_opts *opts,
				 struct verify_webauthn_assertion *out);

#endif
