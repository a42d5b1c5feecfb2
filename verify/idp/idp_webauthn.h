/* The FIDO conformance-tools server API's credential JSON
 * (ServerAuthenticatorAttestationResponse / AssertionResponse inside a
 * ServerPublicKeyCredential), decoded. */
#ifndef LLAVERO_IDP_WEBAUTHN_H
#define LLAVERO_IDP_WEBAUTHN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idp_wa_cred {
	uint8_t *raw_id;
	size_t raw_id_len;
	uint8_t *client_data;
	size_t client_data_len;
	/* registration */
	uint8_t *attestation_object;
	size_t attestation_object_len;
	/* authentication */
	uint8_t *authenticator_data;
	size_t authenticator_data_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *user_handle;      /* NULL when absent or empty */
	size_t user_handle_len;
};

/* Decodes {id, rawId, type:"public-key", response:{clientDataJSON, and
 * attestationObject (assertion false) or authenticatorData, signature,
 * userHandle (assertion true)}}. id and rawId must agree. 0, or -1 with a
 * Spanish reason in err. */
int idp_wa_parse_credential(const json_t *j, bool assertion, struct idp_wa_cred *out,
			    char *err, size_t errlen);
void idp_wa_cred_free(struct idp_wa_cred *c);

#endif
