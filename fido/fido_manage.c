/* Key management: getInfo, PIN set/change, reset, discoverable credentials. */
#include <stdlib.h>
#include <string.h>

#include <fido/credman.h>

#include "base64url.h"
#include "fido_internal.h"
#include "hex.h"
#include "json.h"
#include "log.h"

static json_t *str_array(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int fido_bridge_info(fido_dev_t *dev, json_t **out)
{
	fido_cbor_info_t *info = fido_cbor_info_new();
	json_t *j = json_object(), *opts, *algs;
	char aaguid[33];
	int retries = -1, fr;

	if (info == NULL || j == NULL) {
		fido_cbor_info_free(&info);
		json_decref(j);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	json_object_set_new(j, "fido2", json_boolean(fido_dev_is_fido2(dev)));
	json_object_set_new(j, "ctaphidVersion", json_integer(fido_dev_protocol(dev)));
	if (fido_dev_is_fido2(dev)) {
		if ((fr = fido_dev_get_cbor_info(dev, info)) != FIDO_OK) {
			llv_warn("getInfo: %s", fido_strerr(fr));
			fido_cbor_info_free(&info);
			json_decref(j);
			return fido_bridge_map_fido_err(fr);
		}
		json_object_set_new(j, "versions", str_array(fido_cbor_info_versions_ptr(info),
							     fido_cbor_info_versions_len(info)));
		json_object_set_new(j, "extensions", str_array(fido_cbor_info_extensions_ptr(info),
							       fido_cbor_info_extensions_len(info)));
		json_object_set_new(j, "transports", str_array(fido_cbor_info_transports_ptr(info),
							       fido_cbor_info_transports_len(info)));
		if (fido_cbor_info_aaguid_len(info) == 16) {
			llv_hex_encode(fido_cbor_info_aaguid_ptr(info), 16, aaguid);
			json_object_set_new(j, "aaguid", json_string(aaguid));
		}
		opts = json_object();
		for (size_t i = 0; opts != NULL && i < fido_cbor_info_options_len(info); i++)
			json_object_set_new(opts, fido_cbor_info_options_name_ptr(info)[i],
					    json_boolean(fido_cbor_info_options_value_ptr(info)[i]));
		json_object_set_new(j, "options", opts);
		algs = json_array();
		for (size_t i = 0; algs != NULL && i < fido_cbor_info_algorithm_count(info); i++)
			json_array_append_new(algs, json_integer(fido_cbor_info_algorithm_cose(info, i)));
		json_object_set_new(j, "algorithms", algs);
		json_object_set_new(j, "maxMsgSize", json_integer((json_int_t)fido_cbor_info_maxmsgsiz(info)));
		json_object_set_new(j, "pinSet", json_boolean(fido_dev_has_pin(dev)));
		if (fido_dev_has_pin(dev) && fido_dev_get_retry_count(dev, &retries) == FIDO_OK)
			json_object_set_new(j, "pinRetries", json_integer(retries));
	}
	fido_cbor_info_free(&info);
	*out = j;
	return FIDO_BRIDGE_OK;
}

int fido_bridge_set_pin(fido_dev_t *dev, const char *pin)
{
	int fr = fido_dev_set_pin(dev, pin, NULL);

	if (fr != FIDO_OK)
		llv_info("setPIN: %s", fido_strerr(fr));
	return fido_bridge_map_fido_err(fr);
}

int fido_bridge_change_pin(fido_dev_t *dev, const char *old_pin, const char *new_pin)
{
	int fr = fido_dev_set_pin(dev, new_pin, old_pin);

	if (fr != FIDO_OK)
		llv_info("changePIN: %s", fido_strerr(fr));
	return fido_bridge_map_fido_err(fr);
}

int fido_bridge_reset(fido_dev_t *dev)
{
	int fr = fido_dev_reset(dev);

	if (fr != FIDO_OK)
		llv_info("reset: %s", fido_strerr(fr));
	return fido_bridge_map_fido_err(fr);
}

static int list_rks(fido_dev_t *dev, const char *pin, const char *rp_id, json_t *arr)
{
	fido_credman_rk_t *rk = fido_credman_rk_new();
	int fr;

	if (rk == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	if ((fr = fido_credman_get_dev_rk(dev, rp_id, rk, pin)) != FIDO_OK) {
		fido_credman_rk_free(&rk);
		llv_info("credMgmt rk: %s", fido_strerr(fr));
		return fido_bridge_map_fido_err(fr);
	}
	for (size_t i = 0; i < fido_credman_rk_count(rk); i++) {
		const fido_cred_t *cr = fido_credman_rk(rk, i);
		json_t *o = json_object();

		if (o == NULL)
			break;
		json_object_set_new(o, "rpId", json_string(rp_id));
		llv_json_set_b64url(o, "id", fido_cred_id_ptr(cr), fido_cred_id_len(cr));
		llv_json_set_b64url(o, "userId", fido_cred_user_id_ptr(cr), fido_cred_user_id_len(cr));
		if (fido_cred_user_name(cr) != NULL)
			json_object_set_new(o, "userName", json_string(fido_cred_user_name(cr)));
		if (fido_cred_display_name(cr) != NULL)
			json_object_set_new(o, "displayName", json_string(fido_cred_display_name(cr)));
		json_object_set_new(o, "algorithm", json_integer(fido_cred_type(cr)));
		json_array_append_new(arr, o);
	}
	fido_credman_rk_free(&rk);
	return FIDO_BRIDGE_OK;
}

int fido_bridge_creds_list(fido_dev_t *dev, const char *pin, json_t **out)
{
	fido_credman_rp_t *rp = fido_credman_rp_new();
	json_t *arr = json_array();
	int fr, r = FIDO_BRIDGE_OK;

	if (rp == NULL || arr == NULL) {
		fido_credman_rp_free(&rp);
		json_decref(arr);
		return FIDO_BRIDGE_ERR_INTERNAL;
	}
	if ((fr = fido_credman_get_dev_rp(dev, rp, pin)) != FIDO_OK) {
		llv_info("credMgmt rp: %s", fido_strerr(fr));
		r = fr == FIDO_ERR_INVALID_COMMAND ? FIDO_BRIDGE_ERR_UNSUPPORTED : fido_bridge_map_fido_err(fr);
	}
	for (size_t i = 0; r == FIDO_BRIDGE_OK && i < fido_credman_rp_count(rp); i++)
		r = list_rks(dev, pin, fido_credman_rp_id(rp, i), arr);
	fido_credman_rp_free(&rp);
	if (r != FIDO_BRIDGE_OK) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return FIDO_BRIDGE_OK;
}

int fido_bridge_creds_delete(fido_dev_t *dev, const char *pin, const uint8_t *id, size_t id_len)
{
	int fr = fido_credman_del_dev_rk(dev, id, id_len, pin);

	if (fr != FIDO_OK)
		llv_info("credMgmt delete: %s", fido_strerr(fr));
	return fido_bridge_map_fido_err(fr);
}
