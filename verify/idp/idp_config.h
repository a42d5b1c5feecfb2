/* llavero-idp configuration: a JSON file (--config), every member optional,
 * with development defaults that work out of the box (http://localhost:PORT,
 * RP ID "localhost", that origin allowed, the demo portal as a client).
 *
 * {
 *   "origin": "https://idp.example.gob.mx",    public origin (issuer)
 *   "rp_id": "idp.example.gob.mx",             WebAuthn RP ID
 *   "rp_name": "Llavero (desarrollo)",
 *   "allowed_origins": ["https://idp.example.gob.mx"],
 *   "trusted_cas": ["/etc/llavero/ac-uat.pem"],  e.firma issuers (PEM/DER)
 *   "ocsp_url": "http://127.0.0.1:8888",       OCSP responder (optional)
 *   "ocsp_responders": ["/etc/llavero/ocsp.ac5_sat.cer"]  pre-approved OCSP
 *                                 responder certificates (PEM/DER, each with
 *                                 id-kp-OCSPSigning); needs ocsp_url
 *   "tls_cert": "cert.pem", "tls_key": "key.pem"  serve HTTPS (PEM files);
 *                                 the default origin becomes https://localhost:PORT
 *   "clients": [{"client_id": "portal", "client_secret": "s3cr3t" (optional:
 *                 a public client without it), "name": "Portal",
 *                 "redirect_uris": ["https://portal.example/callback"]}],
 *   "demo": true,                 the /demo portal and its built-in client
 *   "open_registration": true,    passkey accounts by username, no sign-in
 *   "conformance": false,         FIDO conformance-tools mode: JSON API
 *                                 without CSRF token, re-registration
 *   "require_user_verification": true,
 *   "session_lifetime": 3600, "code_lifetime": 60, "token_lifetime": 600,
 *   "rate_limit_ip": 30, "rate_limit_account": 10     sign-in attempts/min
 * }
 */
#ifndef LLAVERO_IDP_CONFIG_H
#define LLAVERO_IDP_CONFIG_H

#include "verify_ocsp.h"

#include <stdbool.h>
#include <stddef.h>

#define IDP_MAX_CLIENTS 16
#define IDP_MAX_REDIRECTS 8
#define IDP_MAX_ORIGINS 8
#define IDP_MAX_CAS 16
#define IDP_MAX_OCSP_RESPONDERS 16

struct idp_client {
	char *client_id;
	char *client_secret;         /* NULL: public client (PKCE only) */
	char *name;
	char *redirect_uris[IDP_MAX_REDIRECTS];
	size_t n_redirect_uris;
};

struct idp_config {
	char *origin;                /* NULL until set or defaulted */
	char *rp_id;
	char *rp_name;
	char *origins[IDP_MAX_ORIGINS];
	size_t n_origins;
	char *trusted_cas[IDP_MAX_CAS];
	size_t n_trusted_cas;
	char *ocsp_url;
	char *ocsp_responders[IDP_MAX_OCSP_RESPONDERS];   /* certificate files */
	size_t n_ocsp_responders;
	char *tls_cert;              /* PEM paths: serve HTTPS */
	char *tls_key;
	struct idp_client clients[IDP_MAX_CLIENTS];
	size_t n_clients;
	bool demo;
	bool open_registration;
	bool conformance;
	bool require_uv;
	long session_lifetime;
	long code_lifetime;
	long token_lifetime;
	long rate_limit_ip;
	long rate_limit_account;
	bool secure_cookies;         /* origin is https: */
};

/* Development defaults (no file). */
void idp_config_defaults(struct idp_config *c);
/* Reads path over the defaults. 0 or -1 (logged). */
int idp_config_load(struct idp_config *c, const char *path);
/* Parses JSON text over the defaults (also the fuzz entry). 0 or -1. */
int idp_config_parse(struct idp_config *c, const char *text, size_t len);
/* Fills what depends on the listening port: the origin
 * (http://localhost:PORT), allowed origins, the demo client. 0 or -1. */
int idp_config_finish(struct idp_config *c, unsigned port);
const struct idp_client *idp_config_client(const struct idp_config *c, const char *client_id);
bool idp_config_origin_allowed(const struct idp_config *c, const char *origin);
void idp_config_free(struct idp_config *c);

/* The OCSP options llavero-idp hands libllavero-verify for this config
 * (without the transport, which idp_ocsp.c adds): responder URL, clock skew,
 * and the "ocsp_responders" certificates loaded with
 * verify_ocsp_responders_add_file() into *responders (o->responders points
 * at it; free with sk_X509_pop_free(*responders, X509_free)). Returns 0,
 * 1 when the config names no OCSP responder (o zeroed), -1 when a responder
 * file is unreadable or no OCSP signer (logged; nothing kept). */
int idp_config_ocsp_opts(const struct idp_config *c, struct verify_ocsp_opts *o,
			 STACK_OF(X509) **responders);

#endif
