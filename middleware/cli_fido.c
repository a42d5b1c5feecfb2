/* `llavero fido ...`: security keys through the FIDO2 bridge. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "base64url.h"
#include "cli.h"
#include "fido_bridge.h"
#include "json.h"
#include "log.h"
#include "secmem.h"

#define PIN_MAX 256
#define MAX_IDS 64
#define MAX_OPTIONS_FILE (1024 * 1024)

struct fido_args {
	const char *device, *pin_file, *new_pin_file, *origin, *rp_id, *options_file;
	const char *user, *display_name, *challenge, *resident_key, *uv, *attestation;
	const char *prf_first, *prf_second, *delete_id;
	const char *ids[MAX_IDS];
	size_t nids;
	long timeout_ms;
	bool json, yes, empty_allow, cred_props, prf;
};

static void usage_fido(FILE *f)
{
	fprintf(f, "%s",
		T("uso: llavero fido ORDEN [opciones]\n"
		  "  list                         llaves encontradas (USB, simuladas, lectores PC/SC)\n"
		  "  info                         capacidades de la llave y estado del PIN\n"
		  "  set-pin                      pone el PIN de una llave que no tiene\n"
		  "  change-pin                   cambia el PIN\n"
		  "  reset                        borra todas las credenciales y el PIN\n"
		  "  creds [--delete ID]          credenciales detectables (pide el PIN)\n"
		  "  register --origin O [--rp-id R] [--options F|-] [--user N] [--challenge B64]\n"
		  "           [--resident-key required|preferred|discouraged] [--uv NIVEL]\n"
		  "           [--attestation none|direct] [--exclude ID]... [--cred-props] [--prf]\n"
		  "  login    --origin O [--rp-id R] [--options F|-] [--challenge B64] [--allow ID]...\n"
		  "           [--uv NIVEL] [--prf-first B64 [--prf-second B64]]\n"
		  "opciones comunes: --device RUTA (hid:..., vkey:..., pcsc:...), --json,\n"
		  "  --pin-file F (PIN en la primera línea; si no, se pide en la terminal sin eco),\n"
		  "  --new-pin-file F, --timeout MS, --yes (reset sin preguntar)\n"
		  "register/login escriben el PublicKeyCredential JSON que da toJSON() en un navegador.\n",
		  "usage: llavero fido COMMAND [options]\n"
		  "  list                         keys found (USB, simulated, PC/SC readers)\n"
		  "  info                         key capabilities and PIN state\n"
		  "  set-pin                      sets the PIN of a key that has none\n"
		  "  change-pin                   changes the PIN\n"
		  "  reset                        deletes every credential and the PIN\n"
		  "  creds [--delete ID]          discoverable credentials (asks the PIN)\n"
		  "  register --origin O [--rp-id R] [--options F|-] [--user N] [--challenge B64]\n"
		  "           [--resident-key required|preferred|discouraged] [--uv LEVEL]\n"
		  "           [--attestation none|direct] [--exclude ID]... [--cred-props] [--prf]\n"
		  "  login    --origin O [--rp-id R] [--options F|-] [--challenge B64] [--allow ID]...\n"
		  "           [--uv LEVEL] [--prf-first B64 [--prf-second B64]]\n"
		  "common options: --device PATH (hid:..., vkey:..., pcsc:...), --json,\n"
		  "  --pin-file F (PIN on the first line; otherwise asked on the terminal, no echo),\n"
		  "  --new-pin-file F, --timeout MS, --yes (reset without asking)\n"
		  "register/login print the PublicKeyCredential JSON a browser's toJSON() gives.\n"));
}

static int exit_code(int err)
{
	switch (err) {
	case FIDO_BRIDGE_OK: return CLI_OK;
	case FIDO_BRIDGE_ERR_BAD_ARG: return CLI_USAGE;
	case FIDO_BRIDGE_ERR_NO_DEVICE: return CLI_NO_DEVICE;
	case FIDO_BRIDGE_ERR_PIN_REQUIRED:
	case FIDO_BRIDGE_ERR_PIN_INVALID:
	case FIDO_BRIDGE_ERR_PIN_BLOCKED:
	case FIDO_BRIDGE_ERR_PIN_POLICY: return CLI_PIN;
	case FIDO_BRIDGE_ERR_CANCELLED:
	case FIDO_BRIDGE_ERR_TIMEOUT:
	case FIDO_BRIDGE_ERR_NOT_ALLOWED: return CLI_CANCELLED;
	case FIDO_BRIDGE_ERR_ORIGIN:
	case FIDO_BRIDGE_ERR_RPID: return CLI_ORIGIN;
	case FIDO_BRIDGE_ERR_EXCLUDED:
	case FIDO_BRIDGE_ERR_NO_CREDENTIALS: return CLI_CREDENTIAL;
	case FIDO_BRIDGE_ERR_DEVICE: return CLI_DEVICE_LOST;
	default: return CLI_ERR;
	}
}

static const char *err_text(int err)
{
	switch (err) {
	case FIDO_BRIDGE_ERR_BAD_ARG: return T("opciones o argumentos no válidos", "invalid options or arguments");
	case FIDO_BRIDGE_ERR_ORIGIN: return T("origen no permitido (solo https, o http://localhost)", "origin not allowed (https only, or http://localhost)");
	case FIDO_BRIDGE_ERR_RPID: return T("el RP ID no corresponde al origen o es un sufijo público", "the RP ID does not match the origin or is a public suffix");
	case FIDO_BRIDGE_ERR_NO_DEVICE: return T("no se encontró la llave de seguridad", "security key not found");
	case FIDO_BRIDGE_ERR_DEVICE: return T("la llave dejó de responder (¿se retiró?)", "the key stopped answering (was it removed?)");
	case FIDO_BRIDGE_ERR_PIN_REQUIRED: return T("la llave necesita su PIN", "the key needs its PIN");
	case FIDO_BRIDGE_ERR_PIN_INVALID: return T("PIN incorrecto (no se reintenta)", "wrong PIN (not retried)");
	case FIDO_BRIDGE_ERR_PIN_BLOCKED: return T("PIN bloqueado: desconecte y vuelva a conectar la llave, o restablézcala", "PIN blocked: unplug and replug the key, or reset it");
	case FIDO_BRIDGE_ERR_PIN_POLICY: return T("la llave no acepta ese PIN (al menos 4 caracteres)", "the key refuses that PIN (at least 4 characters)");
	case FIDO_BRIDGE_ERR_CANCELLED: return T("operación cancelada o presencia denegada", "operation cancelled or presence denied");
	case FIDO_BRIDGE_ERR_TIMEOUT: return T("se agotó el tiempo sin que se tocara la llave", "timed out waiting for a touch");
	case FIDO_BRIDGE_ERR_EXCLUDED: return T("esta llave ya está registrada para esta cuenta", "this key is already registered for this account");
	case FIDO_BRIDGE_ERR_NO_CREDENTIALS: return T("la llave no tiene credenciales para este sitio", "the key has no credentials for this site");
	case FIDO_BRIDGE_ERR_UNSUPPORTED: return T("la llave no admite lo que se pidió", "the key does not support what was asked");
	case FIDO_BRIDGE_ERR_NOT_ALLOWED: return T("la llave no lo permite ahora", "the key does not allow it now");
	default: return T("error interno", "internal error");
	}
}

static int fail(const struct fido_args *a, int err, const char *detail)
{
	fprintf(stderr, "llavero: %s%s%s\n", err_text(err), detail && *detail ? ": " : "",
		detail ? detail : "");
	if (a->json) {
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", fido_bridge_err_name(err),
				      "message", err_text(err));

		if (j != NULL) {
			json_dumpf(j, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(j);
		}
	}
	return exit_code(err);
}

static void print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* ---- PINs ---------------------------------------------------------------- */

struct pin_ctx {
	const char *file;
};

static int pin_cb(void *arg, const char *device, int retries, char *pin, size_t len)
{
	struct pin_ctx *p = arg;
	char prompt[256];

	if (p->file != NULL)
		return cli_pin_from_file(p->file, pin, len);
	if (retries >= 0 && cli_english())
		snprintf(prompt, sizeof(prompt), "PIN of key %s (%d attempts left): ", device, retries);
	else if (retries >= 0)
		snprintf(prompt, sizeof(prompt), "PIN de la llave %s (quedan %d intentos): ", device, retries);
	else
		snprintf(prompt, sizeof(prompt), "%s %s: ", T("PIN de la llave", "PIN of key"), device);
	return cli_pin_from_tty(prompt, pin, len);
}

static char *read_pin(const char *file, const char *prompt)
{
	char *pin = llv_secure_alloc(PIN_MAX);

	if (pin == NULL)
		return NULL;
	if ((file ? cli_pin_from_file(file, pin, PIN_MAX) : cli_pin_from_tty(prompt, pin, PIN_MAX)) != 0) {
		llv_secure_free(pin, PIN_MAX);
		return NULL;
	}
	return pin;
}

static void free_pin(char *pin)
{
	if (pin != NULL)
		llv_secure_free(pin, PIN_MAX);
}

/* ---- cancellation: Ctrl-C aborts the ceremony on the key ---------------- */

struct watcher {
	struct fido_bridge_ceremony *c;
	volatile bool done;
	sigset_t set;
};

static void *watch_signals(void *arg)
{
	struct watcher *w = arg;
	struct timespec ts = { 0, 200 * 1000000L };

	while (!w->done) {
		if (sigtimedwait(&w->set, NULL, &ts) > 0) {
			fido_bridge_cancel(w->c);
			fprintf(stderr, "llavero: %s\n", T("cancelando…", "cancelling…"));
		}
	}
	return NULL;
}

static int run_ceremony(struct fido_bridge_ceremony *c, bool create, json_t **out)
{
	struct watcher w = { .c = c, .done = false };
	pthread_t th;
	bool started;
	int r;

	sigemptyset(&w.set);
	sigaddset(&w.set, SIGINT);
	sigaddset(&w.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &w.set, NULL);
	started = pthread_create(&th, NULL, watch_signals, &w) == 0;
	r = create ? fido_bridge_webauthn_create(c, out) : fido_bridge_webauthn_get(c, out);
	w.done = true;
	if (started)
		pthread_join(th, NULL);
	pthread_sigmask(SIG_UNBLOCK, &w.set, NULL);
	return r;
}

/* ---- options ------------------------------------------------------------- */

static json_t *load_options(const char *file, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	if (strcmp(file, "-") == 0)
		j = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
	else
		j = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		snprintf(err, errlen, "%s:%d: %s", file, je.line, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: %s", file, T("no es un objeto JSON", "not a JSON object"));
		json_decref(j);
		return NULL;
	}
	/* WebAuthn's JSON forms sometimes come wrapped as {publicKey: {...}}. */
	if (json_is_object(json_object_get(j, "publicKey"))) {
		json_t *inner = json_incref(json_object_get(j, "publicKey"));

		json_decref(j);
		j = inner;
	}
	return j;
}

static int set_random_challenge(json_t *o)
{
	uint8_t ch[32];

	if (RAND_bytes(ch, sizeof(ch)) != 1)
		return -1;
	return llv_json_set_b64url(o, "challenge", ch, sizeof(ch));
}

static json_t *cred_list(const struct fido_args *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < a->nids; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "type", "public-key", "id", a->ids[i]));
	return arr;
}

/* Options from --options, completed or overridden by the command line. */
static json_t *build_options(const struct fido_args *a, bool create, char *err, size_t errlen)
{
	json_t *o = a->options_file ? load_options(a->options_file, err, errlen) : json_object();

	if (o == NULL)
		return NULL;
	if (a->challenge != NULL)
		json_object_set_new(o, "challenge", json_string(a->challenge));
	else if (json_object_get(o, "challenge") == NULL && set_random_challenge(o) != 0)
		goto bad;
	if (a->timeout_ms > 0)
		json_object_set_new(o, "timeout", json_integer(a->timeout_ms));
	if (create) {
		json_t *rp = json_object_get(o, "rp"), *user = json_object_get(o, "user"), *sel;

		if (rp == NULL) {
			rp = json_object();
			json_object_set_new(o, "rp", rp);
		}
		if (!json_is_object(rp))
			goto bad;
		if (a->rp_id != NULL)
			json_object_set_new(rp, "id", json_string(a->rp_id));
		if (json_object_get(rp, "name") == NULL)
			json_object_set_new(rp, "name", json_string(a->rp_id ? a->rp_id : "Llavero"));
		if (user == NULL) {
			const char *name = a->user ? a->user : "usuario";
			uint8_t uid[16];

			if (RAND_bytes(uid, sizeof(uid)) != 1)
				goto bad;
			user = json_pack("{s:s,s:s}", "name", name, "displayName",
					 a->display_name ? a->display_name : name);
			if (user == NULL || llv_json_set_b64url(user, "id", uid, sizeof(uid)) != 0)
				goto bad;
			json_object_set_new(o, "user", user);
		}
		if (json_object_get(o, "pubKeyCredParams") == NULL)
			json_object_set_new(o, "pubKeyCredParams",
					    json_pack("[{s:s,s:i},{s:s,s:i},{s:s,s:i}]", "type", "public-key",
						      "alg", -7, "type", "public-key", "alg", -8,
						      "type", "public-key", "alg", -257));
		if (a->resident_key || a->uv) {
			sel = json_object_get(o, "authenticatorSelection");
			if (sel == NULL) {
				sel = json_object();
				json_object_set_new(o, "authenticatorSelection", sel);
			}
			if (a->resident_key)
				json_object_set_new(sel, "residentKey", json_string(a->resident_key));
			if (a->uv)
				json_object_set_new(sel, "userVerification", json_string(a->uv));
		}
		if (a->attestation)
			json_object_set_new(o, "attestation", json_string(a->attestation));
		if (a->nids > 0)
			json_object_set_new(o, "excludeCredentials", cred_list(a));
		if (a->cred_props || a->prf) {
			json_t *ext = json_object_get(o, "extensions");

			if (ext == NULL) {
				ext = json_object();
				json_object_set_new(o, "extensions", ext);
			}
			if (a->cred_props)
				json_object_set_new(ext, "credProps", json_true());
			if (a->prf)
				json_object_set_new(ext, "prf", json_object());
		}
	} else {
		if (a->rp_id != NULL)
			json_object_set_new(o, "rpId", json_string(a->rp_id));
		if (a->uv)
			json_object_set_new(o, "userVerification", json_string(a->uv));
		if (a->nids > 0 || a->empty_allow)
			json_object_set_new(o, "allowCredentials", cred_list(a));
		if (a->prf_first) {
			json_t *eval = json_pack("{s:s}", "first", a->prf_first);

			if (a->prf_second)
				json_object_set_new(eval, "second", json_string(a->prf_second));
			json_object_set_new(o, "extensions", json_pack("{s:{s:o}}", "prf", "eval", eval));
		}
	}
	return o;
bad:
	snprintf(err, errlen, "%s", T("no se pudieron armar las opciones", "could not build the options"));
	json_decref(o);
	return NULL;
}

/* ---- subcommands --------------------------------------------------------- */

static int cmd_list(const struct fido_args *a)
{
	struct fido_bridge_device *list = NULL;
	size_t n = 0;
	int r = fido_bridge_discover(&list, &n);
	static const char *tnames[] = { "hid", "vkey", "pcsc" };

	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, NULL);
	if (a->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "path", list[i].path,
							     "transport", tnames[list[i].transport],
							     "product", list[i].product));
		print_json(arr);
		json_decref(arr);
	} else if (n == 0) {
		printf("%s\n", T("No se encontró ninguna llave de seguridad.", "No security key found."));
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\n", list[i].path, list[i].product);
	}
	free(list);
	return n == 0 && !a->json ? CLI_NO_DEVICE : CLI_OK;
}

static int open_device(const struct fido_args *a, fido_dev_t **dev, char *chosen, size_t len)
{
	struct fido_bridge_device *list = NULL;
	size_t n = 0;
	int r;

	if (a->device != NULL) {
		snprintf(chosen, len, "%s", a->device);
	} else {
		if ((r = fido_bridge_discover(&list, &n)) != FIDO_BRIDGE_OK)
			return r;
		if (n == 0) {
			free(list);
			return FIDO_BRIDGE_ERR_NO_DEVICE;
		}
		snprintf(chosen, len, "%s", list[0].path);
		free(list);
	}
	return fido_bridge_open(chosen, dev);
}

static int cmd_info(const struct fido_args *a)
{
	fido_dev_t *dev = NULL;
	char path[512];
	json_t *info = NULL;
	int r = open_device(a, &dev, path, sizeof(path));

	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, a->device);
	r = fido_bridge_info(dev, &info);
	fido_bridge_close(&dev);
	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, path);
	json_object_set_new(info, "path", json_string(path));
	if (a->json) {
		print_json(info);
	} else {
		const json_t *retries = json_object_get(info, "pinRetries");
		const char *aaguid = json_string_value(json_object_get(info, "aaguid"));

		printf("%s: %s\n", T("Llave", "Key"), path);
		printf("AAGUID: %s\n", aaguid ? aaguid : "-");
		char *versions = json_dumps(json_object_get(info, "versions"), JSON_COMPACT);

		printf("%s: %s\n", T("Versiones", "Versions"), versions ? versions : "-");
		free(versions);
		printf("%s: %s\n", T("PIN puesto", "PIN set"),
		       json_is_true(json_object_get(info, "pinSet")) ? T("sí", "yes") : T("no", "no"));
		if (retries != NULL)
			printf("%s: %lld\n", T("Intentos de PIN restantes", "PIN attempts left"),
			       (long long)json_integer_value(retries));
	}
	json_decref(info);
	return CLI_OK;
}

static int cmd_set_pin(const struct fido_args *a, bool change)
{
	fido_dev_t *dev = NULL;
	char path[512], *old = NULL, *new1 = NULL, *new2 = NULL;
	int r;

	if ((r = open_device(a, &dev, path, sizeof(path))) != FIDO_BRIDGE_OK)
		return fail(a, r, a->device);
	if (change && (old = read_pin(a->pin_file, T("PIN actual: ", "Current PIN: "))) == NULL) {
		r = FIDO_BRIDGE_ERR_CANCELLED;
		goto out;
	}
	if ((new1 = read_pin(a->new_pin_file, T("PIN nuevo: ", "New PIN: "))) == NULL) {
		r = FIDO_BRIDGE_ERR_CANCELLED;
		goto out;
	}
	if (a->new_pin_file == NULL) {
		if ((new2 = read_pin(NULL, T("Repita el PIN nuevo: ", "Repeat the new PIN: "))) == NULL ||
		    strcmp(new1, new2) != 0) {
			fprintf(stderr, "llavero: %s\n", T("los PIN no coinciden", "the PINs differ"));
			r = FIDO_BRIDGE_ERR_BAD_ARG;
			goto out;
		}
	}
	r = change ? fido_bridge_change_pin(dev, old, new1) : fido_bridge_set_pin(dev, new1);
out:
	fido_bridge_close(&dev);
	free_pin(old);
	free_pin(new1);
	free_pin(new2);
	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, path);
	if (!a->json)
		printf("%s\n", change ? T("PIN cambiado.", "PIN changed.") : T("PIN puesto.", "PIN set."));
	else
		printf("{\"ok\":true}\n");
	return CLI_OK;
}

static int cmd_reset(const struct fido_args *a)
{
	fido_dev_t *dev = NULL;
	char path[512], answer[16];
	int r;

	fprintf(stderr, "%s\n",
		T("El restablecimiento borra TODAS las credenciales y el PIN de la llave; no se puede deshacer.\n"
		  "Las llaves solo lo aceptan en los 10 segundos siguientes a conectarlas (o a acercarlas al\n"
		  "lector) y piden que las toque: desconecte la llave, vuelva a conectarla y tóquela cuando parpadee.",
		  "Reset deletes ALL credentials and the PIN of the key; it cannot be undone.\n"
		  "Keys only accept it within 10 seconds of being plugged in (or placed on the reader)\n"
		  "and want a touch: unplug the key, plug it back in and touch it when it blinks."));
	if (!a->yes) {
		fprintf(stderr, "%s", T("¿Continuar? escriba «si»: ", "Continue? type \"yes\": "));
		if (fgets(answer, sizeof(answer), stdin) == NULL ||
		    (strncmp(answer, "si", 2) != 0 && strncmp(answer, "sí", 3) != 0 &&
		     strncmp(answer, "yes", 3) != 0))
			return fail(a, FIDO_BRIDGE_ERR_CANCELLED, NULL);
	}
	if ((r = open_device(a, &dev, path, sizeof(path))) != FIDO_BRIDGE_OK)
		return fail(a, r, a->device);
	r = fido_bridge_reset(dev);
	fido_bridge_close(&dev);
	if (r == FIDO_BRIDGE_ERR_NOT_ALLOWED)
		return fail(a, r, T("pasaron más de 10 segundos desde que se conectó la llave",
				    "more than 10 seconds since the key was plugged in"));
	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, path);
	if (a->json)
		printf("{\"ok\":true}\n");
	else
		printf("%s\n", T("Llave restablecida.", "Key reset."));
	return CLI_OK;
}

static int cmd_creds(const struct fido_args *a)
{
	fido_dev_t *dev = NULL;
	char path[512], *pin;
	json_t *list = NULL;
	int r;

	if ((r = open_device(a, &dev, path, sizeof(path))) != FIDO_BRIDGE_OK)
		return fail(a, r, a->device);
	if ((pin = read_pin(a->pin_file, T("PIN de la llave: ", "PIN of the key: "))) == NULL) {
		fido_bridge_close(&dev);
		return fail(a, FIDO_BRIDGE_ERR_CANCELLED, NULL);
	}
	if (a->delete_id != NULL) {
		uint8_t *id = NULL;
		size_t len = 0;

		if (llv_base64url_decode(a->delete_id, strlen(a->delete_id), &id, &len) != 0)
			r = FIDO_BRIDGE_ERR_BAD_ARG;
		else
			r = fido_bridge_creds_delete(dev, pin, id, len);
		free(id);
	} else {
		r = fido_bridge_creds_list(dev, pin, &list);
	}
	free_pin(pin);
	fido_bridge_close(&dev);
	if (r != FIDO_BRIDGE_OK)
		return fail(a, r, path);
	if (a->delete_id != NULL) {
		if (a->json)
			printf("{\"ok\":true}\n");
		else
			printf("%s\n", T("Credencial borrada.", "Credential deleted."));
	} else if (a->json) {
		print_json(list);
	} else {
		size_t i;
		json_t *c;

		json_array_foreach(list, i, c)
			printf("%s\t%s\t%s\n", json_string_value(json_object_get(c, "rpId")),
			       json_string_value(json_object_get(c, "userName")) ? json_string_value(json_object_get(c, "userName")) : "",
			       json_string_value(json_object_get(c, "id")));
		if (json_array_size(list) == 0)
			printf("%s\n", T("La llave no guarda credenciales detectables.",
					 "The key holds no discoverable credentials."));
	}
	json_decref(list);
	return CLI_OK;
}

static int cmd_ceremony(const struct fido_args *a, bool create)
{
	struct fido_bridge_ceremony c;
	struct pin_ctx pc = { a->pin_file };
	char err[512] = "";
	json_t *opts, *out = NULL;
	int r;

	if (a->origin == NULL) {
		fprintf(stderr, "llavero: %s\n", T("falta --origin", "--origin is missing"));
		return CLI_USAGE;
	}
	if ((opts = build_options(a, create, err, sizeof(err))) == NULL) {
		fprintf(stderr, "llavero: %s\n", err);
		return CLI_USAGE;
	}
	fido_bridge_ceremony_init(&c);
	c.device = a->device;
	c.origin = a->origin;
	c.options = opts;
	c.pin_cb = pin_cb;
	c.pin_arg = &pc;
	if (!a->json)
		fprintf(stderr, "%s %s\n", T("Origen:", "Origin:"), a->origin);
	r = run_ceremony(&c, create, &out);
	if (r != FIDO_BRIDGE_OK) {
		int code = fail(a, r, c.error);

		fido_bridge_ceremony_clear(&c);
		json_decref(opts);
		return code;
	}
	if (a->json) {
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		printf("%s %s\n", create ? T("Credencial registrada:", "Credential registered:")
					 : T("Sesión iniciada con la credencial:", "Signed in with credential:"),
		       json_string_value(json_object_get(out, "id")));
		print_json(out);
	}
	json_decref(out);
	json_decref(opts);
	fido_bridge_ceremony_clear(&c);
	return CLI_OK;
}

int cli_fido_main(int argc, char **argv)
{
	enum { O_DEVICE = 256, O_PIN_FILE, O_NEW_PIN_FILE, O_ORIGIN, O_RP_ID, O_OPTIONS, O_USER,
	       O_DISPLAY, O_CHALLENGE, O_RK, O_UV, O_ATT, O_EXCLUDE, O_ALLOW, O_EMPTY_ALLOW,
	       O_TIMEOUT, O_JSON, O_YES, O_CRED_PROPS, O_PRF, O_PRF_FIRST, O_PRF_SECOND, O_DELETE,
	       O_HELP };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, O_DEVICE },
		{ "pin-file", required_argument, NULL, O_PIN_FILE },
		{ "new-pin-file", required_argument, NULL, O_NEW_PIN_FILE },
		{ "origin", required_argument, NULL, O_ORIGIN },
		{ "rp-id", required_argument, NULL, O_RP_ID },
		{ "options", required_argument, NULL, O_OPTIONS },
		{ "user", required_argument, NULL, O_USER },
		{ "display-name", required_argument, NULL, O_DISPLAY },
		{ "challenge", required_argument, NULL, O_CHALLENGE },
		{ "resident-key", required_argument, NULL, O_RK },
		{ "uv", required_argument, NULL, O_UV },
		{ "attestation", required_argument, NULL, O_ATT },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "allow", required_argument, NULL, O_ALLOW },
		{ "empty-allow", no_argument, NULL, O_EMPTY_ALLOW },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "yes", no_argument, NULL, O_YES },
		{ "cred-props", no_argument, NULL, O_CRED_PROPS },
		{ "prf", no_argument, NULL, O_PRF },
		{ "prf-first", required_argument, NULL, O_PRF_FIRST },
		{ "prf-second", required_argument, NULL, O_PRF_SECOND },
		{ "delete", required_argument, NULL, O_DELETE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct fido_args a;
	const char *cmd;
	int opt;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage_fido(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_DEVICE: a.device = optarg; break;
		case O_PIN_FILE: a.pin_file = optarg; break;
		case O_NEW_PIN_FILE: a.new_pin_file = optarg; break;
		case O_ORIGIN: a.origin = optarg; break;
		case O_RP_ID: a.rp_id = optarg; break;
		case O_OPTIONS: a.options_file = optarg; break;
		case O_USER: a.user = optarg; break;
		case O_DISPLAY: a.display_name = optarg; break;
		case O_CHALLENGE: a.challenge = optarg; break;
		case O_RK: a.resident_key = optarg; break;
		case O_UV: a.uv = optarg; break;
		case O_ATT: a.attestation = optarg; break;
		case O_EXCLUDE:
		case O_ALLOW:
			if (a.nids == MAX_IDS) {
				fprintf(stderr, "llavero: %s\n", T("demasiadas credenciales", "too many credentials"));
				return CLI_USAGE;
			}
			a.ids[a.nids++] = optarg;
			break;
		case O_EMPTY_ALLOW: a.empty_allow = true; break;
		case O_TIMEOUT:
			a.timeout_ms = strtol(optarg, NULL, 10);
			if (a.timeout_ms <= 0) {
				fprintf(stderr, "llavero: --timeout %s\n", optarg);
				return CLI_USAGE;
			}
			break;
		case O_JSON: a.json = true; break;
		case O_YES: a.yes = true; break;
		case O_CRED_PROPS: a.cred_props = true; break;
		case O_PRF: a.prf = true; break;
		case O_PRF_FIRST: a.prf_first = optarg; break;
		case O_PRF_SECOND: a.prf_second = optarg; break;
		case O_DELETE: a.delete_id = optarg; break;
		case O_HELP: usage_fido(stdout); return CLI_OK;
		default: usage_fido(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "llavero: %s: %s\n", T("argumento de más", "extra argument"), argv[optind]);
		return CLI_USAGE;
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list(&a);
	if (strcmp(cmd, "info") == 0)
		return cmd_info(&a);
	if (strcmp(cmd, "set-pin") == 0)
		return cmd_set_pin(&a, false);
	if (strcmp(cmd, "change-pin") == 0)
		return cmd_set_pin(&a, true);
	if (strcmp(cmd, "reset") == 0)
		return cmd_reset(&a);
	if (strcmp(cmd, "creds") == 0)
		return cmd_creds(&a);
	if (strcmp(cmd, "register") == 0)
		return cmd_ceremony(&a, true);
	if (strcmp(cmd, "login") == 0)
		return cmd_ceremony(&a, false);
	fprintf(stderr, "llavero fido: %s: %s\n", T("orden desconocida", "unknown command"), cmd);
	usage_fido(stderr);
	return CLI_USAGE;
}
