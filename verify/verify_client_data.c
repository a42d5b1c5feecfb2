/* clientDataJSON parsing and checks (WebAuthn Level 3, 5.8.1). */
#include "verify_webauthn.h"
#include "verify_errors.h"

#include "base64url.h"
#include "json.h"
#include "log.h"
#include "secmem.h"

#include <stdlib.h>
#include <string.h>

#define CLIENT_DATA_MAX (64u << 10)

void verify_client_data_clear(struct verify_client_data *cd)
{
	if (!cd)
		return;
	free(cd->challenge);
	free(cd->origin);
	memset(cd, 0, sizeof(*cd));
}

int verify_client_data_parse(const uint8_t *json, size_t len, struct verify_client_data *out)
{
	char err[128];
	if (!out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!json || len == 0 || len > CLIENT_DATA_MAX || memchr(json, 0, len))
		return VERIFY_ERR_WA_CLIENT_DATA;
	json_t *root = llv_json_parse_object((const char *)json, len, CLIENT_DATA_MAX,
					     err, sizeof(err));
	if (!root) {
		llv_info("verify: clientDataJSON: %s", err);
		return VERIFY_ERR_WA_CLIENT_DATA;
	}
	const char *type = NULL, *origin = NULL;
	bool cross = false;
	int rc = VERIFY_ERR_WA_CLIENT_DATA;
	json_t *co = json_object_get(root, "crossOrigin");
	if (llv_json_get_str(root, "type", &type) != 0 || strlen(type) >= sizeof(out->type) ||
	    llv_json_get_str(root, "origin", &origin) != 0 || origin[0] == '\0' ||
	    llv_json_get_b64url(root, "challenge", &out->challenge, &out->challenge_len) != 0 ||
	    (co && !json_is_null(co) && llv_json_get_bool(root, "crossOrigin", &cross) != 0))
		goto out;
	strcpy(out->type, type);
	out->origin = strdup(origin);
	if (!out->origin) {
		rc = VERIFY_ERR_NOMEM;
		goto out;
	}
	out->cross_origin = cross;
	rc = VERIFY_OK;
out:
	json_decref(root);
	if (rc != VERIFY_OK)
		verify_client_data_clear(out);
	return rc;
}

int verify_client_data_check(const struct verify_client_data *cd, const char *type,
			     const uint8_t *challenge, size_t challenge_len,
			     const struct verify_webauthn_rp *rp)
{
	if (!cd || !type || !challenge || !rp)
		return VERIFY_ERR_ARGUMENT;
	if (strcmp(cd->type, type) != 0)
		return VERIFY_ERR_WA_TYPE;
	if (challenge_len == 0 || cd->challenge_len != challenge_len ||
	    llv_ct_memcmp(cd->challenge, challenge, challenge_len) != 0)
		return VERIFY_ERR_WA_CHALLENGE;
	bool origin_ok = false;
	for (size_t i = 0; i < rp->n_origins && !origin_ok; i++)
		origin_ok = rp->origins[i] && strcmp(rp->origins[i], cd->origin) == 0;
	if (!origin_ok) {
		llv_info("verify: WebAuthn origin %s not allowed", cd->origin);
		return VERIFY_ERR_WA_ORIGIN;
	}
	if (cd->cross_origin && !rp->allow_cross_origin)
		return VERIFY_ERR_WA_CROSS_ORIGIN;
	return VERIFY_OK;
}
