/* `llavero login --server URL [--fido [--register]] [--json] ...`: sign-in
 * without a browser (kiosk apps, scripts) against llavero-idp, speaking to
 * it as its sign-in page does, with libcurl:
 *
 *   GET  /entrar                 session cookie + CSRF token (<meta name="csrf-token">)
 *   e.firma:
 *   POST /efirma/challenge       {nonce}
 *        agent_op_authenticate   the agent's own code: the Web eID token for
 *                                origin = the server's origin and that nonce
 *   POST /efirma/login           {authToken}
 *   security key (--fido):
 *   POST /assertion/options      {username:"", userVerification:"required"}
 *        agent_op_webauthn(get)  through the fido/ bridge, same origin
 *   POST /assertion/result       the AuthenticationResponseJSON
 *   --register first signs in with the e.firma and adds the key to that
 *   account (POST /attestation/options + agent_op_webauthn(create) +
 *   /attestation/result), then signs in with the key in a new session.
 *   GET  /cuenta                 who signed in: nombre, CURP, RFC
 *
 * The origin is the server URL's (scheme://host[:port]); the agent's rules
 * apply to it (https, or http://localhost / 127.0.0.1 for development). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "agent.h"
#include "buf.h"
#include "cli.h"
#include "log.h"

#define LOGIN_MAX_BODY (1024u * 1024u)

static void usage(FILE *f)
{
	fprintf(f, "%s", T(
		"uso: llavero login --server URL [--fido [--register]] [--json] [--pin-file P]\n"
		"                   [--device RUTA] [--module RUTA] [--cookie-jar ARCHIVO]\n"
		"  Inicia sesión en un servidor de identidad (llavero-idp) sin navegador: con la\n"
		"  e.firma de la tarjeta o de los archivos (PIN por pinentry o --pin-file) o, con\n"
		"  --fido, con una llave de seguridad. --register: primero entra con la e.firma y\n"
		"  registra la llave en esa cuenta. Muestra nombre, RFC y CURP de quien entró.\n"
		"  El origen es el del servidor: https, o http://localhost para desarrollo.\n"
		"  --cookie-jar guarda la cookie de la sesión iniciada.\n"
		"Códigos de salida: 0 sesión iniciada; 1 otro error; 2 uso incorrecto; 3 no hay\n"
		"  tarjeta, e.firma ni llave; 4 PIN incorrecto o bloqueado; 5 cancelado o tiempo\n"
		"  agotado; 6 origen no permitido; 7 la llave no tiene credencial para el sitio o ya\n"
		"  está registrada; 8 la llave dejó de responder; 9 el servidor rechazó el inicio de\n"
		"  sesión; 10 no se pudo hablar con el servidor.\n",
		"usage: llavero login --server URL [--fido [--register]] [--json] [--pin-file P]\n"
		"                     [--device PATH] [--module PATH] [--cookie-jar FILE]\n"
		"  Signs in to an identity server (llavero-idp) without a browser: with the\n"
		"  e.firma on the card or in files (PIN through pinentry or --pin-file) or, with\n"
		"  --fido, with a security key. --register: first signs in with the e.firma and\n"
		"  registers the key on that account. Prints the name, RFC and CURP signed in.\n"
		"  The origin is the server's: https, or http://localhost for development.\n"
		"  --cookie-jar keeps the cookie of the session.\n"
		"Exit codes: 0 signed in; 1 other error; 2 bad usage; 3 no card, e.firma or\n"
		"  key; 4 PIN wrong or blocked; 5 cancelled or timed out; 6 origin not allowed;\n"
		"  7 the key has no credential for the site, or it is already registered; 8 the\n"
		"  key stopped answering; 9 the server refused the sign-in; 10 could not talk to\n"
		"  the server.\n"));
}

struct login {
	CURL *curl;
	char base[1024];     /* the server URL without a trailing '/' */
	char origin[512];
	char csrf[256];
	bool json;
	char err[512];       /* why, for the person */
	const char *err_code;
	/* who signed in */
	char nombre[256], rfc[32], curp[32];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct llv_buf *b = arg;
	size_t len = size * n;
	if (b->len + len > LOGIN_MAX_BODY)
		return 0;
	llv_buf_put(b, p, len);
	return llv_buf_ok(b) ? len : 0;
}

/* l->err = "what: arg" (or only what). */
static void set_err(struct login *l, const char *code, const char *what, const char *arg)
{
	l->err_code = code;
	if (arg && *arg)
		snprintf(l->err, sizeof(l->err), "%.200s: %.300s", what, arg);
	else
		snprintf(l->err, sizeof(l->err), "%.500s", what);
}

/* One request; body NULL: GET. *out is the NUL-terminated answer. 0 or
 * CLI_SERVER (l->err says why). */
static int http(struct login *l, const char *path, const char *body, long *status,
		struct llv_buf *out)
{
	char url[1300];
	int w = snprintf(url, sizeof(url), "%s%s", l->base, path);
	if (w < 0 || (size_t)w >= sizeof(url))
		return CLI_USAGE;
	struct curl_slist *h = NULL;
	char origin_h[600], csrf_h[300];
	snprintf(origin_h, sizeof(origin_h), "Origin: %s", l->origin);
	snprintf(csrf_h, sizeof(csrf_h), "X-CSRF-Token: %s", l->csrf);
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Accept: application/json");
		h = curl_slist_append(h, origin_h);
		h = curl_slist_append(h, csrf_h);
		if (!h)
			return CLI_ERR;
	}
	llv_buf_clear(out);
	curl_easy_setopt(l->curl, CURLOPT_URL, url);
	curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(l->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(l->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(l->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(l->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(l->curl, CURLOPT_WRITEDATA, out);
	CURLcode cc = curl_easy_perform(l->curl);
	curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		llv_info("login: %s: %s", url, curl_easy_strerror(cc));
		set_err(l, "server-unreachable", T("no se pudo hablar con el servidor",
						   "could not talk to the server"), curl_easy_strerror(cc));
		return CLI_SERVER;
	}
	llv_buf_put_u8(out, 0);
	if (!llv_buf_ok(out))
		return CLI_ERR;
	out->len--;
	curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, status);
	llv_debug("login: %s %s: %ld", body ? "POST" : "GET", path, *status);
	return 0;
}

/* POST of a JSON object; *out is the answer object. A {"status":"failed"} or
 * an HTTP error is CLI_REFUSED with the server's errorMessage. */
static int post_json(struct login *l, const char *path, json_t *req, json_t **out)
{
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return CLI_ERR;
	struct llv_buf b = LLV_BUF_INIT;
	long status = 0;
	int rc = http(l, path, text, &status, &b);
	free(text);
	if (rc) {
		llv_buf_free(&b);
		return rc;
	}
	json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
	llv_buf_free(&b);
	const char *st = json_string_value(json_object_get(j, "status"));
	if (!json_is_object(j) || !st) {
		json_decref(j);
		char s[32];
		snprintf(s, sizeof(s), "%ld", status);
		set_err(l, "server-error", T("respuesta inesperada del servidor (HTTP)",
					     "unexpected answer from the server (HTTP)"), s);
		return CLI_SERVER;
	}
	if (strcmp(st, "ok") != 0 || status != 200) {
		const char *m = json_string_value(json_object_get(j, "errorMessage"));
		set_err(l, "server-refused", T("el servidor rechazó el inicio de sesión",
					       "the server refused the sign-in"), m ? m : st);
		json_decref(j);
		return status >= 500 ? CLI_SERVER : CLI_REFUSED;
	}
	*out = j;
	return 0;
}

/* The CSRF token of a page (<meta name="csrf-token" content="...">). */
static int fetch_csrf(struct login *l, const char *path)
{
	struct llv_buf b = LLV_BUF_INIT;
	long status = 0;
	int rc = http(l, path, NULL, &status, &b);
	if (rc) {
		llv_buf_free(&b);
		return rc;
	}
	const char *key = "name=\"csrf-token\" content=\"";
	const char *p = status == 200 ? strstr((const char *)b.data, key) : NULL;
	const char *e = p ? strchr(p + strlen(key), '"') : NULL;
	if (!e || (size_t)(e - p - strlen(key)) >= sizeof(l->csrf)) {
		llv_buf_free(&b);
		set_err(l, "server-error", T("el servidor no parece llavero-idp (sin token CSRF)",
					     "the server does not look like llavero-idp (without a CSRF token)"),
			path);
		return CLI_SERVER;
	}
	p += strlen(key);
	memcpy(l->csrf, p, (size_t)(e - p));
	l->csrf[e - p] = '\0';
	llv_buf_free(&b);
	return 0;
}

/* <tr><th>LABEL</th><td>VALUE</td></tr> of /cuenta, HTML entities decoded. */
static void table_value(const char *html, const char *label, char *out, size_t cap)
{
	char key[96];
	out[0] = '\0';
	snprintf(key, sizeof(key), "<th>%s</th><td>", label);
	const char *p = strstr(html, key);
	if (!p)
		return;
	p += strlen(key);
	const char *e = strstr(p, "</td>");
	if (!e)
		return;
	size_t o = 0;
	static const struct { const char *ent; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&#39;", '\'' },
	};
	while (p < e && o + 1 < cap) {
		char c = *p++;
		if (c == '&') {
			for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t n = strlen(ents[i].ent);
				if ((size_t)(e - p + 1) >= n && strncmp(p - 1, ents[i].ent, n) == 0) {
					c = ents[i].c;
					p += n - 1;
					break;
				}
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (strcmp(out, "\xe2\x80\x94") == 0) /* the page's "—" for an empty value */
		out[0] = '\0';
}

static int who(struct login *l)
{
	struct llv_buf b = LLV_BUF_INIT;
	long status = 0;
	int rc = http(l, "/cuenta", NULL, &status, &b);
	if (rc) {
		llv_buf_free(&b);
		return rc;
	}
	if (status != 200) {
		llv_buf_free(&b);
		set_err(l, "server-error", T("el servidor no muestra la cuenta tras iniciar sesión",
					     "the server does not show the account after signing in"), "");
		return CLI_SERVER;
	}
	const char *html = (const char *)b.data;
	table_value(html, "Nombre", l->nombre, sizeof(l->nombre));
	table_value(html, "RFC", l->rfc, sizeof(l->rfc));
	table_value(html, "CURP", l->curp, sizeof(l->curp));
	/* The page also carries the new session's CSRF token. */
	const char *key = "name=\"csrf-token\" content=\"";
	const char *p = strstr(html, key), *e = p ? strchr(p + strlen(key), '"') : NULL;
	if (e && (size_t)(e - p - strlen(key)) < sizeof(l->csrf)) {
		p += strlen(key);
		memcpy(l->csrf, p, (size_t)(e - p));
		l->csrf[e - p] = '\0';
	}
	llv_buf_free(&b);
	return 0;
}

/* The origin of the server URL: scheme://host[:port], default port dropped,
 * lowercase; base = the URL without trailing '/' (a path prefix is kept). */
static int parse_server(struct login *l, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (port && ((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
		     (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))) {
		curl_free(port);
		port = NULL;
	}
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	int w = snprintf(l->origin, sizeof(l->origin), "%s://%s%s%s", scheme, host, port ? ":" : "",
			 port ? port : "");
	if (w < 0 || (size_t)w >= sizeof(l->origin))
		goto out;
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(l->base))
		goto out;
	memcpy(l->base, url, n);
	l->base[n] = '\0';
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int exit_for_agent(int err)
{
	switch (err) {
	case AGENT_OK: return CLI_OK;
	case AGENT_ERR_NO_TOKEN: return CLI_NO_DEVICE;
	case AGENT_ERR_PIN_INCORRECT:
	case AGENT_ERR_PIN_BLOCKED: return CLI_PIN;
	case AGENT_ERR_CANCELLED:
	case AGENT_ERR_TIMEOUT: return CLI_CANCELLED;
	case AGENT_ERR_ORIGIN: return CLI_ORIGIN;
	case AGENT_ERR_CRED_EXCLUDED:
	case AGENT_ERR_NO_CREDENTIALS: return CLI_CREDENTIAL;
	case AGENT_ERR_BAD_ARG:
	case AGENT_ERR_NOT_SUPPORTED: return CLI_ERR;
	default: return CLI_ERR;
	}
}

static int agent_failed(struct login *l, struct agent_ctx *a, int err)
{
	l->err_code = agent_err_code(err);
	snprintf(l->err, sizeof(l->err), "%s", a->detail[0] ? a->detail : agent_err_message(err));
	return exit_for_agent(err);
}

/* Starts a session on the server (cookie + CSRF token). */
static int new_session(struct login *l)
{
	curl_easy_setopt(l->curl, CURLOPT_COOKIELIST, "ALL");
	return fetch_csrf(l, "/entrar");
}

static int efirma(struct login *l, struct agent_ctx *a)
{
	json_t *req = json_object(), *ch = NULL, *tok = NULL, *res = NULL;
	int rc = req ? post_json(l, "/efirma/challenge", req, &ch) : CLI_ERR;
	json_decref(req);
	if (rc)
		return rc;
	const char *nonce = json_string_value(json_object_get(ch, "nonce"));
	if (!nonce) {
		json_decref(ch);
		set_err(l, "server-error", T("el servidor no dio un reto", "the server gave no challenge"), "");
		return CLI_SERVER;
	}
	int err = agent_op_authenticate(a, l->origin, nonce, &tok);
	json_decref(ch);
	if (err != AGENT_OK)
		return agent_failed(l, a, err);
	req = json_pack("{s:o}", "authToken", tok);
	rc = req ? post_json(l, "/efirma/login", req, &res) : CLI_ERR;
	json_decref(req);
	json_decref(res);
	return rc;
}

static int fido(struct login *l, struct agent_ctx *a, bool create, const char *device)
{
	json_t *req = create
		? json_pack("{s:{s:s, s:b, s:s}, s:s}", "authenticatorSelection", "residentKey", "required",
			    "requireResidentKey", 1, "userVerification", "required", "attestation", "none")
		: json_pack("{s:s, s:s}", "username", "", "userVerification", "required");
	json_t *opts = NULL, *cred = NULL, *res = NULL;
	int rc = req ? post_json(l, create ? "/attestation/options" : "/assertion/options", req, &opts)
		     : CLI_ERR;
	json_decref(req);
	if (rc)
		return rc;
	json_object_del(opts, "status");
	json_object_del(opts, "errorMessage");
	int err = agent_op_webauthn(a, create, l->origin, opts, device, &cred);
	json_decref(opts);
	if (err != AGENT_OK)
		return agent_failed(l, a, err);
	rc = post_json(l, create ? "/attestation/result" : "/assertion/result",
		       json_object_get(cred, "credential"), &res);
	json_decref(cred);
	json_decref(res);
	return rc;
}

int cli_login_main(int argc, char **argv)
{
	const char *server = NULL, *device = NULL, *jar = NULL;
	bool use_fido = false, reg = false, reset = false;
	struct login l;
	memset(&l, 0, sizeof(l));
	struct agent_ctx a;
	agent_ctx_init(&a);
	if (agent_config_load(&a.cfg) != 0)
		return CLI_ERR;
	int rc = CLI_USAGE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			server = argv[++i];
		else if (strcmp(argv[i], "--fido") == 0)
			use_fido = true;
		else if (strcmp(argv[i], "--register") == 0)
			reg = true;
		else if (strcmp(argv[i], "--json") == 0)
			l.json = true;
		else if (strcmp(argv[i], "--pin-file") == 0 && i + 1 < argc)
			a.pin_file = argv[++i];
		else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			device = argv[++i];
		else if (strcmp(argv[i], "--cookie-jar") == 0 && i + 1 < argc)
			jar = argv[++i];
		else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
			if (cli_agent_module_opt(&a.cfg, argv[++i], &reset) != 0)
				goto out;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			rc = CLI_OK;
			goto out;
		} else {
			usage(stderr);
			goto out;
		}
	}
	if (!server || (reg && !use_fido)) {
		usage(stderr);
		goto out;
	}
	if (parse_server(&l, server) != 0) {
		set_err(&l, "bad-argument", T("URL de servidor no válida", "invalid server URL"), server);
		rc = CLI_USAGE;
		goto report;
	}
	if (!agent_origin_allowed(l.origin, &a.cfg)) {
		set_err(&l, agent_err_code(AGENT_ERR_ORIGIN),
			T("origen no permitido (solo https, o http://localhost para desarrollo)",
			  "origin not allowed (https only, or http://localhost for development)"), l.origin);
		rc = CLI_ORIGIN;
		goto report;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(l.curl = curl_easy_init())) {
		rc = CLI_ERR;
		goto out;
	}
	curl_easy_setopt(l.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(l.curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(l.curl, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(l.curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(l.curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(l.curl, CURLOPT_NOSIGNAL, 1L);
	char ua[64];
	snprintf(ua, sizeof(ua), "llavero/%s", LLAVERO_VERSION);
	curl_easy_setopt(l.curl, CURLOPT_USERAGENT, ua);

	const char *method = use_fido ? "llave de seguridad" : "efirma";
	if ((rc = new_session(&l)) != 0)
		goto report;
	if (!use_fido || reg) {
		if ((rc = efirma(&l, &a)) != 0)
			goto report;
	}
	if (reg) {
		/* The key joins the account just signed in (its new CSRF token on
		 * /cuenta); a PIN file was the card's: the key's comes from pinentry. */
		a.pin_file = NULL;
		if ((rc = who(&l)) != 0 || (rc = fido(&l, &a, true, device)) != 0)
			goto report;
		if ((rc = new_session(&l)) != 0)
			goto report;
	}
	if (use_fido && (rc = fido(&l, &a, false, device)) != 0)
		goto report;
	if ((rc = who(&l)) != 0)
		goto report;
	if (jar) {
		curl_easy_setopt(l.curl, CURLOPT_COOKIEJAR, jar);
		curl_easy_setopt(l.curl, CURLOPT_COOKIELIST, "FLUSH");
	}
	if (l.json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "status", "ok", "server", l.base,
				      "metodo", method, "nombre", l.nombre, "rfc", l.rfc, "curp", l.curp,
				      "registrada", reg);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		printf("%s\n", t ? t : "{}");
		free(t);
		json_decref(j);
	} else {
		if (reg)
			printf("%s\n", T("Llave de seguridad registrada en la cuenta.",
					 "Security key registered on the account."));
		printf("%s %s (%s)\n", T("Sesión iniciada en", "Signed in to"), l.base,
		       use_fido ? T("llave de seguridad", "security key") : "e.firma");
		printf("  %s: %s\n", T("Nombre", "Name"), l.nombre[0] ? l.nombre : "-");
		printf("  RFC: %s\n", l.rfc[0] ? l.rfc : "-");
		printf("  CURP: %s\n", l.curp[0] ? l.curp : "-");
	}
	rc = CLI_OK;
	goto out;
report:
	if (rc != CLI_OK) {
		if (!l.err[0])
			snprintf(l.err, sizeof(l.err), "%s", T("error interno", "internal error"));
		if (l.json) {
			json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code",
					      l.err_code ? l.err_code : "internal", "message", l.err);
			if (j && a.retries_left >= 0 && rc == CLI_PIN)
				json_object_set_new(json_object_get(j, "error"), "retriesLeft",
						    json_integer(a.retries_left));
			char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
			printf("%s\n", t ? t : "{}");
			free(t);
			json_decref(j);
		} else {
			fprintf(stderr, "llavero: %s\n", l.err);
		}
	}
out:
	if (l.curl) {
		curl_easy_cleanup(l.curl);
		curl_global_cleanup();
	}
	agent_ctx_clear(&a);
	return rc;
}
