/* Parsing of the members shared by PublicKeyCredentialCreationOptionsJSON and
 * PublicKeyCredentialRequestOptionsJSON (WebAuthn Level 3 §5.1.x JSON forms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fido_internal.h"
#include "json.h"

int fido_bridge_opt_b64url(const json_t *obj, const char *key, bool required,
			   uint8_t **out, size_t *len, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	*len = 0;
	if (v == NULL) {
		if (required)
			snprintf(err, errlen, "falta «%s»", key);
		return required ? FIDO_BRIDGE_ERR_BAD_ARG : FIDO_BRIDGE_OK;
	}
	if (llv_json_get_b64url(obj, key, out, len) != 0) {
		snprintf(err, errlen, "«%s» no es base64url", key);
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	return FIDO_BRIDGE_OK;
}

int fido_bridge_opt_cred_list(const json_t *arr, int (*add)(void *, const uint8_t *, size_t),
			      void *arg, size_t *count, char *err, size_t errlen)
{
	size_t i;
	const json_t *d;

	*count = 0;
	if (arr == NULL)
		return FIDO_BRIDGE_OK;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "la lista de credenciales no es un arreglo");
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	json_array_foreach(arr, i, d) {
		const char *type;
		uint8_t *id;
		size_t len;
		int r;

		if (!json_is_object(d) || llv_json_get_str(d, "type", &type) != 0) {
			snprintf(err, errlen, "descriptor de credencial %zu mal formado", i);
			return FIDO_BRIDGE_ERR_BAD_ARG;
		}
		if (strcmp(type, "public-key") != 0)
			continue;      /* unknown types are ignored, as browsers do */
		if (llv_json_get_b64url(d, "id", &id, &len) != 0 || len == 0) {
			snprintf(err, errlen, "descriptor de credencial %zu: «id» no es base64url", i);
			return FIDO_BRIDGE_ERR_BAD_ARG;
		}
		r = add(arg, id, len);
		free(id);
		if (r != 0) {
			snprintf(err, errlen, "no se pudo añadir la credencial %zu", i);
			return FIDO_BRIDGE_ERR_INTERNAL;
		}
		(*count)++;
	}
	return FIDO_BRIDGE_OK;
}

int fido_bridge_opt_level(const json_t *obj, const char *key, int *level)
{
	const char *s;

	*level = 1;
	if (obj == NULL || json_object_get(obj, key) == NULL)
		return FIDO_BRIDGE_OK;
	if (llv_json_get_str(obj, key, &s) != 0)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	if (strcmp(s, "required") == 0)
		*level = 2;
	else if (strcmp(s, "discouraged") == 0)
		*level = 0;
	/* "preferred" and unknown values (ignored by browsers) stay 1 */
	return FIDO_BRIDGE_OK;
}

int fido_bridge_opt_timeout(const json_t *obj, int *ms)
{
	long long t;

	*ms = 120000;
	if (json_object_get(obj, "timeout") == NULL)
		return FIDO_BRIDGE_OK;
	if (llv_json_get_int(obj, "timeout", &t) != 0 || t < 0)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	/* Clamped like browsers do: at least a few seconds, at most 10 minutes. */
	*ms = t < 5000 ? 5000 : t > 600000 ? 600000 : (int)t;
	return FIDO_BRIDGE_OK;
}
