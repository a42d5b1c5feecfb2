/* WebAuthn registration (navigator.credentials.create) verification:
 * clientDataJSON, attestationObject {fmt, attStmt, authData} with the formats
 * none, packed (self and x5c) and fido-u2f, and the new credential. */
#ifndef LLAVERO_VERIFY_WEBAUTHN_REG_H
#define LLAVERO_VERIFY_WEBAUTHN_REG_H

#include "verify_webauthn.h"
#include "verify_trust.h"

#include <time.h>

enum verify_attestation_type {
	VERIFY_ATT_NONE = 0,        /* fmt "none" */
	VERIFY_ATT_SELF = 1,        /* packed, signed by the credential key */
	VERIFY_ATT_BASIC = 2,       /* x5c chaining to a configured anchor */
	VERIFY_ATT_UNVERIFIED = 3,  /* x5c, signature valid, no anchors configured */
};

struct verify_webauthn_reg_opts {
	const struct verify_webauthn_rp *rp;
	const uint8_t *challenge;     /* the challenge the server issued */
	size_t challenge_len;
	/* Trust anchors for x5c attestations (packed, fido-u2f). NULL: such
	 * attestations are accepted as VERIFY_ATT_UNVERIFIED. */
	const struct verify_trust *attestation_trust;
	bool require_attestation;     /* refuse none/self/unverified */
	time_t now;                   /* 0: time(NULL) */
};

struct verify_webauthn_credential {
	uint8_t *cred_id;
	size_t cred_id_len;
	uint8_t *public_key_spki;     /* SubjectPublicKeyInfo DER */
	size_t public_key_spki_len;
	long cose_alg;
	uint32_t sign_count;
	uint8_t aaguid[16];
	uint8_t flags;                /* VERIFY_AD_* of the registration */
	char fmt[16];
	enum verify_attestation_type attestation;
};

/* Verifies a registration response. On VERIFY_OK *out holds the credential
 * to store (free with verify_webauthn_credential_clear); on any error *out is
 * empty. Errors: VERIFY_ERR_WA_* (client data, attestation object, formats,
 * attestation signature/certificate/AAGUID/trust, rpIdHash, flags, COSE key). */
int verify_webauthn_register(const uint8_t *client_data_json, size_t cdj_len,
			     const uint8_t *attestation_object, size_t ao_len,
			     const struct verify_webauthn_reg_opts *opts,
			     struct verify_webauthn_credential *out);
void verify_webauthn_credential_clear(struct verify_webauthn_credential *c);

/* The attestation-object half alone (also the fuzz entry): parses and checks
 * the attestation object against client_data_hash (SHA-256 of
 * clientDataJSON) without the clientDataJSON checks. */
int verify_webauthn_attestation(const uint8_t *attestation_object, size_t ao_len,
				const uint8_t client_data_hash[32],
				const struct verify_webauthn_reg_opts *opts,
				struct verify_webauthn_credential *out);

#endif
