/* llavero-idp configuration file (JSON) and development defaults. */
#include "idp_config.h"

#include "atomic_file.h"
#include "hex.h"
#include "json.h"
#include "log.h"
#include "secmem.h"
#include "verify_errors.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDP_CONFIG_MAX (256 * 1024)
#define IDP_DEMO_CLIENT "beca-rita-cetina"

void idp_config_defaults(struct idp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->demo = true;
	c->open_registration = true;
	c->require_uv = true;
	c->session_lifetime = 3600;
	c->code_lifetime = 60;
	c->token_lifetime = 600;
	c->rate_limit_ip = 30;
	c->rate_limit_account = 10;
}

static int set_str(char **dst, const json_t *v, const char *what)
{
	if (!json_is_string(v)) {
		llv_error("config: \"%s\" debe ser texto", what);
		return -1;
	}
	free(*dst);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : -1;
}

static int set_str_list(char **list, size_t max, size_t *n, const json_t *v, const char *what)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v) || json_array_size(v) > max) {
		llv_error("config: \"%s\" debe ser una lista de a lo más %zu textos", what, max);
		return -1;
	}
	for (i = 0; i < *n; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*n = 0;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			llv_error("config: \"%s\" debe contener solo textos", what);
			return -1;
		}
		if (!(list[*n] = strdup(json_string_value(e))))
			return -1;
		(*n)++;
	}
	return 0;
}

static int set_bool(bool *dst, const json_t *v, const char *what)
{
	if (!json_is_boolean(v)) {
		llv_error("config: \"%s\" debe ser true o false", what);
		return -1;
	}
	*dst = json_is_true(v);
	return 0;
}

static int set_long(long *dst, const json_t *v, const char *what)
{
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 86400 * 30) {
		llv_error("config: \"%s\" debe ser un entero positivo", what);
		return -1;
	}
	*dst = (long)json_integer_value(v);
	return 0;
}

static int parse_client(struct idp_client *cl, const json_t *o)
{
	const char *key;
	json_t *v;
	if (!json_is_object(o)) {
		llv_error("config: cada cliente debe ser un objeto");
		return -1;
	}
	json_object_foreach((json_t *)o, key, v) {
		int rc;
		if (!strcmp(key, "client_id"))
			rc = set_str(&cl->client_id, v, "client_id");
		else if (!strcmp(key, "client_secret"))
			rc = set_str(&cl->client_secret, v, "client_secret");
		else if (!strcmp(key, "name"))
			rc = set_str(&cl->name, v, "name");
		else if (!strcmp(key, "redirect_uris"))
			rc = set_str_list(cl->redirect_uris, IDP_MAX_REDIRECTS, &cl->n_redirect_uris, v,
					  "redirect_uris");
		else {
			llv_error("config: miembro desconocido en un cliente: \"%s\"", key);
			rc = -1;
		}
		if (rc)
			return -1;
	}
	if (!cl->client_id || !*cl->client_id || !cl->n_redirect_uris) {
		llv_error("config: un cliente necesita client_id y redirect_uris");
		return -1;
	}
	return 0;
}

int idp_config_parse(struct idp_config *c, const char *text, size_t len)
{
	char err[160];
	json_t *root = llv_json_parse_object(text, len, IDP_CONFIG_MAX, err, sizeof(err));
	const char *key;
	json_t *v;
	int rc = 0;

	if (!root) {
		llv_error("config: JSON inválido: %s", err);
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "origin"))
			rc = set_str(&c->origin, v, key);
		else if (!strcmp(key, "rp_id"))
			rc = set_str(&c->rp_id, v, key);
		else if (!strcmp(key, "rp_name"))
			rc = set_str(&c->rp_name, v, key);
		else if (!strcmp(key, "allowed_origins"))
			rc = set_str_list(c->origins, IDP_MAX_ORIGINS, &c->n_origins, v, key);
		else if (!strcmp(key, "trusted_cas"))
			rc = set_str_list(c->trusted_cas, IDP_MAX_CAS, &c->n_trusted_cas, v, key);
		else if (!strcmp(key, "ocsp_url"))
			rc = set_str(&c->ocsp_url, v, key);
		else if (!strcmp(key, "ocsp_responders"))
			rc = set_str_list(c->ocsp_responders, IDP_MAX_OCSP_RESPONDERS,
					  &c->n_ocsp_responders, v, key);
		else if (!strcmp(key, "tls_cert"))
			rc = set_str(&c->tls_cert, v, key);
		else if (!strcmp(key, "tls_key"))
			rc = set_str(&c->tls_key, v, key);
		else if (!strcmp(key, "demo"))
			rc = set_bool(&c->demo, v, key);
		else if (!strcmp(key, "open_registration"))
			rc = set_bool(&c->open_registration, v, key);
		else if (!strcmp(key, "conformance"))
			rc = set_bool(&c->conformance, v, key);
		else if (!strcmp(key, "require_user_verification"))
			rc = set_bool(&c->require_uv, v, key);
		else if (!strcmp(key, "session_lifetime"))
			rc = set_long(&c->session_lifetime, v, key);
		else if (!strcmp(key, "code_lifetime"))
			rc = set_long(&c->code_lifetime, v, key);
		else if (!strcmp(key, "token_lifetime"))
			rc = set_long(&c->token_lifetime, v, key);
		else if (!strcmp(key, "rate_limit_ip"))
			rc = set_long(&c->rate_limit_ip, v, key);
		else if (!strcmp(key, "rate_limit_account"))
			rc = set_long(&c->rate_limit_account, v, key);
		else if (!strcmp(key, "clients")) {
			size_t i;
			json_t *e;
			if (!json_is_array(v) || json_array_size(v) + c->n_clients > IDP_MAX_CLIENTS - 1) {
				llv_error("config: \"clients\" debe ser una lista (a lo más %d)",
					  IDP_MAX_CLIENTS - 1);
				rc = -1;
			} else {
				json_array_foreach(v, i, e) {
					if ((rc = parse_client(&c->clients[c->n_clients++], e)))
						break;
				}
			}
		} else {
			llv_error("config: miembro desconocido \"%s\"", key);
			rc = -1;
		}
		if (rc)
			break;
	}
	json_decref(root);
	if (!rc && !c->tls_cert != !c->tls_key) {
		llv_error("config: tls_cert y tls_key van juntos");
		rc = -1;
	}
	if (!rc && c->n_ocsp_responders && !c->ocsp_url) {
		llv_error("config: ocsp_responders necesita ocsp_url");
		rc = -1;
	}
	return rc;
}

int idp_config_load(struct idp_config *c, const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;
	if (llv_read_file(path, IDP_CONFIG_MAX, &text, &len)) {
		llv_error("config: no se pudo leer %s", path);
		return -1;
	}
	rc = idp_config_parse(c, (const char *)text, len);
	free(text);
	return rc;
}

static int add_client(struct idp_config *c, const char *id, const char *secret,
		      const char *name, const char *redirect)
{
	struct idp_client *cl;
	if (c->n_clients >= IDP_MAX_CLIENTS)
		return -1;
	cl = &c->clients[c->n_clients++];
	cl->client_id = strdup(id);
	cl->client_secret = secret ? strdup(secret) : NULL;
	cl->name = strdup(name);
	cl->redirect_uris[0] = strdup(redirect);
	cl->n_redirect_uris = 1;
	return cl->client_id && cl->name && cl->redirect_uris[0] ? 0 : -1;
}

int idp_config_finish(struct idp_config *c, unsigned port)
{
	char buf[512];

	if (!c->origin) {
		snprintf(buf, sizeof(buf), "%s://localhost:%u", c->tls_cert ? "https" : "http", port);
		if (!(c->origin = strdup(buf)))
			return -1;
	}
	if (!c->rp_id) {
		/* host of the origin */
		const char *h = strstr(c->origin, "://");
		size_t n;
		h = h ? h + 3 : c->origin;
		n = strcspn(h, ":/");
		if (!(c->rp_id = strndup(h, n)))
			return -1;
	}
	if (!c->rp_name && !(c->rp_name = strdup("Llavero (desarrollo)")))
		return -1;
	if (!c->n_origins) {
		if (!(c->origins[0] = strdup(c->origin)))
			return -1;
		c->n_origins = 1;
	}
	c->secure_cookies = !strncmp(c->origin, "https://", 8);
	if (c->demo && !idp_config_client(c, IDP_DEMO_CLIENT)) {
		unsigned char rnd[32];
		char secret[65];
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		llv_hex_encode(rnd, sizeof(rnd), secret);
		snprintf(buf, sizeof(buf), "%s/demo/callback", c->origin);
		if (add_client(c, IDP_DEMO_CLIENT, secret, "Registro a la Beca Rita Cetina", buf))
			return -1;
	}
	return 0;
}

const struct idp_client *idp_config_client(const struct idp_config *c, const char *client_id)
{
	if (!client_id)
		return NULL;
	for (size_t i = 0; i < c->n_clients; i++)
		if (c->clients[i].client_id && !strcmp(c->clients[i].client_id, client_id))
			return &c->clients[i];
	return NULL;
}

bool idp_config_origin_allowed(const struct idp_config *c, const char *origin)
{
	if (!origin)
		return false;
	for (size_t i = 0; i < c->n_origins; i++)
		if (!strcmp(c->origins[i], origin))
			return true;
	return false;
}

void idp_config_free(struct idp_config *c)
{
	size_t i, j;
	free(c->origin);
	free(c->rp_id);
	free(c->rp_name);
	free(c->ocsp_url);
	free(c->tls_cert);
	free(c->tls_key);
	for (i = 0; i < c->n_origins; i++)
		free(c->origins[i]);
	for (i = 0; i < c->n_trusted_cas; i++)
		free(c->trusted_cas[i]);
	for (i = 0; i < c->n_ocsp_responders; i++)
		free(c->ocsp_responders[i]);
	for (i = 0; i < IDP_MAX_CLIENTS; i++) {
		struct idp_client *cl = &c->clients[i];
		free(cl->client_id);
		if (cl->client_secret)
			llv_wipe(cl->client_secret, strlen(cl->client_secret));
		free(cl->client_secret);
		free(cl->name);
		for (j = 0; j < cl->n_redirect_uris; j++)
			free(cl->redirect_uris[j]);
	}
	memset(c, 0, sizeof(*c));
}

int idp_config_ocsp_opts(const struct idp_config *c, struct verify_ocsp_opts *o,
			 STACK_OF(X509) **responders)
{
	STACK_OF(X509) *list = NULL;
	memset(o, 0, sizeof(*o));
	*responders = NULL;
	if (!c->ocsp_url)
		return 1;
	for (size_t i = 0; i < c->n_ocsp_responders; i++) {
		int vrc = verify_ocsp_responders_add_file(&list, c->ocsp_responders[i]);
		if (vrc != VERIFY_OK) {
			llv_error("config: respondedor OCSP %s: %s", c->ocsp_responders[i],
				  verify_strerror(vrc));
			sk_X509_pop_free(list, X509_free);
			return -1;
		}
	}
	o->responder_url = c->ocsp_url;
	o->skew_seconds = 300;
	o->max_age_seconds = 0;
	o->responders = list;
	*responders = list;
	return 0;
}
