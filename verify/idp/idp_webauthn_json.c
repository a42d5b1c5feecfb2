/* Decoding of the conformance-tools API's credential JSON. */
#include "idp_webauthn.h"

#include "base64url.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_b64(const json_t *o, const char *key, bool required, uint8_t **out, size_t *len,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v) && !required)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "falta %s", key);
		return -1;
	}
	if (!json_is_string(v) ||
	    llv_base64url_decode(json_string_value(v), json_string_length(v), out, len)) {
		snprintf(err, errlen, "%s no es base64url válido", key);
		return -1;
	}
	return 0;
}

int idp_wa_parse_credential(const json_t *j, bool assertion, struct idp_wa_cred *out, char *err,
			    size_t errlen)
{
	const char *type = NULL;
	const json_t *r;
	uint8_t *id = NULL;
	size_t id_len = 0;

	memset(out, 0, sizeof(*out));
	if (llv_json_get_str(j, "type", &type) || strcmp(type, "public-key")) {
		snprintf(err, errlen, "type debe ser \"public-key\"");
		return -1;
	}
	if (get_b64(j, "rawId", true, &out->raw_id, &out->raw_id_len, err, errlen) ||
	    get_b64(j, "id", true, &id, &id_len, err, errlen))
		goto fail;
	if (id_len != out->raw_id_len || memcmp(id, out->raw_id, id_len)) {
		snprintf(err, errlen, "id y rawId no coinciden");
		goto fail;
	}
	if (!out->raw_id_len || out->raw_id_len > 1023) {
		snprintf(err, errlen, "rawId de longitud inválida");
		goto fail;
	}
	r = json_object_get(j, "response");
	if (!json_is_object(r)) {
		snprintf(err, errlen, "falta response");
		goto fail;
	}
	if (get_b64(r, "clientDataJSON", true, &out->client_data, &out->client_data_len, err, errlen))
		goto fail;
	if (!assertion) {
		if (get_b64(r, "attestationObject", true, &out->attestation_object,
			    &out->attestation_object_len, err, errlen))
			goto fail;
	} else {
		if (get_b64(r, "authenticatorData", true, &out->authenticator_data,
			    &out->authenticator_data_len, err, errlen) ||
		    get_b64(r, "signature", true, &out->signature, &out->signature_len, err, errlen) ||
		    get_b64(r, "userHandle", false, &out->user_handle, &out->user_handle_len, err, errlen))
			goto fail;
		if (out->user_handle && !out->user_handle_len) {
			free(out->user_handle);
			out->user_handle = NULL;
		}
	}
	free(id);
	return 0;
fail:
	free(id);
	idp_wa_cred_free(out);
	return -1;
}

void idp_wa_cred_free(struct idp_wa_cred *c)
{
	free(c->raw_id);
	free(c->client_data);
	free(c->attestation_object);
	free(c->authenticator_data);
	free(c->signature);
	free(c->user_handle);
	memset(c, 0, sizeof(*c));
}

