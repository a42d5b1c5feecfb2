/* agent_request.c: one request in, one response out (PROTOCOL.md). The
 * origin is checked before any token, module or key is touched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base64url.h"
#include "json.h"
#include "log.h"

const char *agent_err_code(int err)
{
	switch (err) {
	case AGENT_OK: return "ok";
	case AGENT_ERR_CANCELLED: return "user-cancelled";
	case AGENT_ERR_PIN_INCORRECT: return "pin-incorrect";
	case AGENT_ERR_PIN_BLOCKED: return "pin-blocked";
	case AGENT_ERR_NO_TOKEN: return "no-token";
	case AGENT_ERR_TIMEOUT: return "timeout";
	case AGENT_ERR_BAD_ARG: return "bad-argument";
	case AGENT_ERR_ORIGIN: return "origin-not-allowed";
	case AGENT_ERR_NOT_SUPPORTED: return "not-supported";
	case AGENT_ERR_CRED_EXCLUDED: return "credential-excluded";
	case AGENT_ERR_NO_CREDENTIALS: return "no-credentials";
	default: return "internal";
	}
}

const char *agent_err_message(int err)
{
	switch (err) {
	case AGENT_OK: return "Listo";
	case AGENT_ERR_CANCELLED: return "Operación cancelada por la persona";
	case AGENT_ERR_PIN_INCORRECT: return "PIN incorrecto";
	case AGENT_ERR_PIN_BLOCKED: return "El PIN está bloqueado; desbloquéalo con el PUK";
	case AGENT_ERR_NO_TOKEN: return "No se encontró una tarjeta, e.firma o llave de seguridad";
	case AGENT_ERR_TIMEOUT: return "Se agotó el tiempo de espera";
	case AGENT_ERR_BAD_ARG: return "Solicitud mal formada";
	case AGENT_ERR_ORIGIN: return "Origen no permitido";
	case AGENT_ERR_NOT_SUPPORTED: return "Operación no admitida";
	case AGENT_ERR_CRED_EXCLUDED: return "La llave ya tiene una credencial para este sitio";
	case AGENT_ERR_NO_CREDENTIALS: return "La llave no tiene credenciales para este sitio";
	default: return "Error interno";
	}
}

json_t *agent_error_json(int err, const char *message, int retries_left)
{
	json_t *e = json_pack("{s:s, s:s}", "code", agent_err_code(err), "message",
			      message && *message ? message : agent_err_message(err));
	if (e && err == AGENT_ERR_PIN_INCORRECT)
		json_object_set_new(e, "retriesLeft",
				    retries_left >= 0 ? json_integer(retries_left) : json_null());
	return json_pack("{s:o}", "error", e);
}

static const char *const commands[] = { "version", "authenticate", "get-signing-certificate",
	"sign", "webauthn-create", "webauthn-get" };

static int dispatch(struct agent_ctx *a, const char *cmd, json_t *args, json_t **out)
{
	if (strcmp(cmd, "version") == 0) {
		char app[64];
		snprintf(app, sizeof(app), "llavero/%s", LLAVERO_VERSION);
		json_t *list = json_array();
		for (size_t i = 0; list && i < sizeof(commands) / sizeof(commands[0]); i++)
			json_array_append_new(list, json_string(commands[i]));
		*out = json_pack("{s:s, s:s, s:o}", "version", LLAVERO_VERSION, "appVersion", app,
				 "commands", list);
		return *out ? AGENT_OK : AGENT_ERR_INTERNAL;
	}
	bool known = false;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		known = known || strcmp(cmd, commands[i]) == 0;
	if (!known) {
		snprintf(a->detail, sizeof(a->detail), "Orden desconocida: %.64s", cmd);
		return AGENT_ERR_NOT_SUPPORTED;
	}
	const char *origin = NULL;
	if (llv_json_get_str(args, "origin", &origin) != 0) {
		snprintf(a->detail, sizeof(a->detail), "Falta origin");
		return AGENT_ERR_BAD_ARG;
	}
	if (!agent_origin_allowed(origin, &a->cfg)) {
		llv_warn("origin not allowed: %.128s", origin);
		snprintf(a->detail, sizeof(a->detail), "Origen no permitido: %.128s", origin);
		return AGENT_ERR_ORIGIN;
	}
	if (strcmp(cmd, "authenticate") == 0) {
		const char *nonce = NULL;
		if (llv_json_get_str(args, "challengeNonce", &nonce) != 0) {
			snprintf(a->detail, sizeof(a->detail), "Falta challengeNonce");
			return AGENT_ERR_BAD_ARG;
		}
		return agent_op_authenticate(a, origin, nonce, out);
	}
	if (strcmp(cmd, "get-signing-certificate") == 0)
		return agent_op_signing_certificate(a, origin, out);
	if (strcmp(cmd, "sign") == 0) {
		const char *cert = NULL, *hash = NULL, *hf = NULL, *fmt = "raw";
		if (llv_json_get_str(args, "certificate", &cert) != 0 ||
		    llv_json_get_str(args, "hash", &hash) != 0 ||
		    llv_json_get_str(args, "hashFunction", &hf) != 0 ||
		    (json_object_get(args, "format") && llv_json_get_str(args, "format", &fmt) != 0)) {
			snprintf(a->detail, sizeof(a->detail),
				 "sign necesita certificate, hash y hashFunction (texto)");
			return AGENT_ERR_BAD_ARG;
		}
		if (strcmp(fmt, "raw") != 0 && strcmp(fmt, "cms") != 0) {
			snprintf(a->detail, sizeof(a->detail), "format debe ser raw o cms");
			return AGENT_ERR_BAD_ARG;
		}
		uint8_t *c = NULL, *h = NULL;
		size_t cl = 0, hl = 0;
		int rc = AGENT_ERR_BAD_ARG;
		if (llv_base64_decode(cert, strlen(cert), &c, &cl) != 0 || cl == 0 ||
		    llv_base64_decode(hash, strlen(hash), &h, &hl) != 0)
			snprintf(a->detail, sizeof(a->detail), "certificate y hash deben ser base64");
		else
			rc = agent_op_sign(a, origin, c, cl, hf, h, hl, strcmp(fmt, "cms") == 0, out);
		free(c);
		free(h);
		return rc;
	}
	/* webauthn-create / webauthn-get */
	json_t *options = json_object_get(args, "options");
	const char *device = NULL;
	if (!json_is_object(options) ||
	    (json_object_get(args, "device") && llv_json_get_str(args, "device", &device) != 0)) {
		snprintf(a->detail, sizeof(a->detail), "Falta options (objeto)");
		return AGENT_ERR_BAD_ARG;
	}
	return agent_op_webauthn(a, strcmp(cmd, "webauthn-create") == 0, origin, options, device, out);
}

char *agent_handle(struct agent_ctx *a, const char *body, size_t len)
{
	char err[128];
	json_t *req = NULL, *resp = NULL, *rid = NULL;
	int rc = AGENT_ERR_BAD_ARG;
	a->detail[0] = '\0';
	a->retries_left = -1;
	if (memchr(body, '\0', len)) {
		snprintf(a->detail, sizeof(a->detail), "El mensaje contiene bytes NUL");
		goto reply;
	}
	req = llv_json_parse_object(body, len, AGENT_MAX_IN, err, sizeof(err));
	if (!req) {
		snprintf(a->detail, sizeof(a->detail), "JSON inválido: %s", err);
		goto reply;
	}
	rid = json_object_get(req, "requestId");
	if (rid && !json_is_string(rid) && !json_is_integer(rid))
		rid = NULL;
	const char *cmd = NULL;
	if (llv_json_get_str(req, "command", &cmd) != 0) {
		snprintf(a->detail, sizeof(a->detail), "Falta command");
		goto reply;
	}
	json_t *args = json_object_get(req, "arguments");
	if (!args)
		args = req;
	if (!json_is_object(args)) {
		snprintf(a->detail, sizeof(a->detail), "arguments debe ser un objeto");
		goto reply;
	}
	llv_info("request: %.64s", cmd);
	rc = dispatch(a, cmd, args, &resp);
reply:
	if (rc != AGENT_OK) {
		json_decref(resp);
		resp = agent_error_json(rc, a->detail, a->retries_left);
		llv_info("answer: %s (%s)", agent_err_code(rc), a->detail);
	}
	if (resp && rid)
		json_object_set(resp, "requestId", rid);
	char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	json_decref(resp);
	json_decref(req);
	if (!text || strlen(text) > AGENT_MAX_OUT) {
		free(text);
		text = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"Error interno\"}}");
	}
	return text;
}
