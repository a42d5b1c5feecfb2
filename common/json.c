/* Typed accessors over jansson (see json.h). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "log.h"

int llv_json_get_str(const json_t *obj, const char *key, const char **out)
{
	const json_t *v;
	const char *s;

	if (!json_is_object(obj) || key == NULL)
		return -1;
	v = json_object_get(obj, key);
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	/* A string built with an embedded NUL would read as a shorter one. */
	if (strlen(s) != json_string_length(v))
		return -1;
	*out = s;
	return 0;
}

int llv_json_get_int(const json_t *obj, const char *key, long long *out)
{
	const json_t *v;

	if (!json_is_object(obj) || key == NULL)
		return -1;
	v = json_object_get(obj, key);
	/* 1.0 is a real in jansson, and not an integer for our protocols. */
	if (!json_is_integer(v))
		return -1;
	*out = (long long)json_integer_value(v);
	return 0;
}

int llv_json_get_bool(const json_t *obj, const char *key, bool *out)
{
	const json_t *v;

	if (!json_is_object(obj) || key == NULL)
		return -1;
	v = json_object_get(obj, key);
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

int llv_json_get_b64url(const json_t *obj, const char *key, uint8_t **out, size_t *out_len)
{
	const json_t *v;
	uint8_t *data;
	size_t len;

	if (!json_is_object(obj) || key == NULL)
		return -1;
	v = json_object_get(obj, key);
	if (!json_is_string(v))
		return -1;
	if (llv_base64url_decode(json_string_value(v), json_string_length(v),
				 &data, &len) != 0) {
		llv_debug("json: member \"%s\" is not base64url", key);
		return -1;
	}
	*out = data;
	*out_len = len;
	return 0;
}

int llv_json_set_b64url(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
	char *text;
	json_t *v;

	if (!json_is_object(obj) || key == NULL)
		return -1;
	text = llv_base64url_encode(data, len);
	if (text == NULL)
		return -1;
	v = json_string(text);
	free(text);
	if (v == NULL)
		return -1;
	return json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

/* err may be NULL or errlen 0 when the caller does not want the text. */
static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	llv_debug("json: %s", msg);
}

json_t *llv_json_parse_object(const char *text, size_t len, size_t max_len,
			      char *err, size_t errlen)
{
	char msg[256];
	json_error_t jerr;
	json_t *root;

	if (text == NULL) {
		set_err(err, errlen, "no JSON text");
		return NULL;
	}
	if (len > max_len) {
		snprintf(msg, sizeof(msg), "JSON text too large (%zu bytes, limit %zu)",
			 len, max_len);
		set_err(err, errlen, msg);
		return NULL;
	}
	/* Duplicate keys are refused: two parsers could pick different ones.
	 * DECODE_ANY lets a scalar through to the clearer "not an object". */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		set_err(err, errlen, msg);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		set_err(err, errlen, "JSON text is not an object");
		return NULL;
	}
	return root;
}
