/* agent_ops.c: what each command does. The origin is checked by the caller
 * (agent_request.c) before anything here runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/evp.h>

#include "agent.h"
#include "base64url.h"
#include "fido_bridge.h"
#include "hex.h"
#include "log.h"
#include "secmem.h"

void agent_ctx_init(struct agent_ctx *a)
{
	memset(a, 0, sizeof(*a));
	a->retries_left = -1;
}

void agent_ctx_clear(struct agent_ctx *a)
{
	agent_p11_close(a->p11);
	a->p11 = NULL;
	agent_config_free(&a->cfg);
}

static void detail(struct agent_ctx *a, const char *msg)
{
	snprintf(a->detail, sizeof(a->detail), "%s", msg);
}

static int certs(struct agent_ctx *a, struct agent_cert **list, size_t *n)
{
	if (!a->p11) {
		int rc = agent_p11_open(&a->cfg, &a->p11);
		if (rc != AGENT_OK) {
			agent_p11_close(a->p11);
			a->p11 = NULL;
			detail(a, "No se pudo cargar ningún módulo PKCS#11");
			return rc;
		}
	}
	return agent_p11_certs(a->p11, list, n);
}

/* Preferred certificate for a role: valid before expired, e.firma before CSD. */
static const struct agent_cert *pick(const struct agent_cert *l, size_t n, bool auth)
{
	const struct agent_cert *best = NULL;
	int best_score = -1;
	for (size_t i = 0; i < n; i++) {
		if (auth ? !l[i].for_auth : !l[i].for_sign)
			continue;
		int score = (l[i].expired ? 0 : 2) + (l[i].csd ? 0 : 1);
		if (score > best_score) {
			best = &l[i];
			best_score = score;
		}
	}
	return best;
}

/* ---- the PIN dialog ---------------------------------------------------- */

struct ask_ctx {
	struct agent_ctx *a;
	const char *desc;
	bool used_file;
};

static int ask_pin(void *arg, const char *error, char *pin, size_t cap)
{
	struct ask_ctx *x = arg;
	if (x->a->pin_file) {
		if (x->used_file)
			return AGENT_ERR_CANCELLED; /* a wrong PIN from a file is not retried */
		x->used_file = true;
		FILE *f = fopen(x->a->pin_file, "r");
		if (!f) {
			llv_error("cannot read the PIN file %s", x->a->pin_file);
			return AGENT_ERR_BAD_ARG;
		}
		bool ok = fgets(pin, (int)cap, f) != NULL;
		fclose(f);
		if (!ok)
			return AGENT_ERR_BAD_ARG;
		pin[strcspn(pin, "\r\n")] = '\0';
		return AGENT_OK;
	}
	struct agent_prompt p = {
		.title = "Llavero",
		.desc = x->desc,
		.prompt = "PIN:",
		.error = error,
	};
	return agent_pinentry_getpin(x->a->cfg.pinentry, x->a->cfg.pin_timeout, &p, pin, cap);
}

static void holder_text(const struct agent_cert *c, char *out, size_t cap)
{
	snprintf(out, cap, "Titular: %s\nRFC: %s", c->name[0] ? c->name : "(sin nombre)",
		 c->rfc[0] ? c->rfc : "(sin RFC)");
}

static int finish_sign_error(struct agent_ctx *a, int rc, int retries)
{
	a->retries_left = retries;
	switch (rc) {
	case AGENT_ERR_PIN_INCORRECT:
		if (retries == 1)
			detail(a, "PIN incorrecto, queda 1 intento");
		else if (retries > 1)
			snprintf(a->detail, sizeof(a->detail), "PIN incorrecto, quedan %d intentos", retries);
		else
			detail(a, "PIN incorrecto");
		break;
	default:
		detail(a, agent_err_message(rc));
	}
	return rc;
}

/* ---- authenticate ------------------------------------------------------- */

static bool nonce_ok(const char *n)
{
	size_t l = strlen(n);
	if (l < 32 || l > 256)
		return false;
	return strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_") == l;
}

static json_t *b64(const uint8_t *d, size_t n)
{
	char *s = llv_base64_encode(d, n);
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

int agent_op_authenticate(struct agent_ctx *a, const char *origin, const char *nonce,
			  json_t **out)
{
	if (!nonce_ok(nonce)) {
		detail(a, "challengeNonce debe ser texto base64 de 32 a 256 caracteres");
		return AGENT_ERR_BAD_ARG;
	}
	struct agent_cert *l = NULL;
	size_t n = 0;
	int rc = certs(a, &l, &n);
	if (rc != AGENT_OK)
		return rc;
	const struct agent_cert *c = pick(l, n, true);
	if (!c) {
		agent_certs_free(l, n);
		detail(a, "No hay una tarjeta ni una e.firma con certificado de autenticación");
		return AGENT_ERR_NO_TOKEN;
	}
	const char *algname;
	const EVP_MD *md;
	enum agent_mech mech;
	if (c->kind == AGENT_KEY_RSA) {
		algname = "RS256"; md = EVP_sha256();
		mech = AGENT_MECH_SHA256_RSA_PKCS;
	} else if (c->bits <= 256) {
		algname = "ES256"; md = EVP_sha256(); mech = AGENT_MECH_ECDSA;
	} else if (c->bits <= 384) {
		algname = "ES384"; md = EVP_sha384(); mech = AGENT_MECH_ECDSA;
	} else {
		algname = "ES512"; md = EVP_sha512(); mech = AGENT_MECH_ECDSA;
	}
	/* H(origin) || H(nonce); RSA signs it with hash-and-sign, ECDSA gets
	 * H(H(origin) || H(nonce)) computed here. */
	uint8_t data[128], digest[64];
	unsigned int l1 = 0, l2 = 0, dl = 0;
	if (EVP_Digest(origin, strlen(origin), data, &l1, md, NULL) != 1 ||
	    EVP_Digest(nonce, strlen(nonce), data + l1, &l2, md, NULL) != 1 ||
	    EVP_Digest(data, l1 + l2, digest, &dl, md, NULL) != 1) {
		agent_certs_free(l, n);
		return AGENT_ERR_INTERNAL;
	}
	char holder[320], desc[1024];
	holder_text(c, holder, sizeof(holder));
	snprintf(desc, sizeof(desc),
		 "El sitio %s solicita que inicies sesión con tu certificado.\n\n%s\n\n"
		 "Escribe el PIN para continuar.", origin, holder);
	struct ask_ctx x = { .a = a, .desc = desc };
	uint8_t sig[1024];
	size_t sl = sizeof(sig);
	int retries = -1;
	syslog(LOG_INFO, "authenticate for %s with the certificate of %s", origin, c->rfc);
	rc = mech == AGENT_MECH_ECDSA
		? agent_p11_sign(a->p11, c, mech, digest, dl, ask_pin, &x, sig, &sl, &retries)
		: agent_p11_sign(a->p11, c, mech, data, l1 + l2, ask_pin, &x, sig, &sl, &retries);
	if (rc != AGENT_OK) {
		agent_certs_free(l, n);
		return finish_sign_error(a, rc, retries);
	}
	json_t *signing = json_array();
	for (size_t i = 0; i < n && signing; i++) {
		if (!l[i].for_sign || l[i].csd)
			continue;
		/* Same holder as the authentication certificate (Web eID 1.1). */
		if (strcmp(l[i].rfc, c->rfc) != 0 || strcmp(l[i].name, c->name) != 0)
			continue;
		json_array_append_new(signing, json_pack("{s:o, s:o}", "certificate",
			b64(l[i].der, l[i].der_len), "supportedSignatureAlgorithms",
			agent_supported_algorithms(&l[i])));
	}
	char app[64];
	snprintf(app, sizeof(app), "llavero/%s", LLAVERO_VERSION);
	json_t *tok = json_pack("{s:s, s:o, s:s, s:o, s:s}",
		"format", json_array_size(signing) ? "web-eid:1.1" : "web-eid:1.0",
		"unverifiedCertificate", b64(c->der, c->der_len),
		"algorithm", algname,
		"signature", b64(sig, sl),
		"appVersion", app);
	if (tok && json_array_size(signing))
		json_object_set(tok, "unverifiedSigningCertificates", signing);
	json_decref(signing);
	agent_certs_free(l, n);
	if (!tok)
		return AGENT_ERR_INTERNAL;
	*out = tok;
	return AGENT_OK;
}

/* ---- signing -------------------------------------------------------------- */

int agent_op_signing_certificate(struct agent_ctx *a, const char *origin, json_t **out)
{
	(void)origin;
	struct agent_cert *l = NULL;
	size_t n = 0;
	int rc = certs(a, &l, &n);
	if (rc != AGENT_OK)
		return rc;
	const struct agent_cert *c = pick(l, n, false);
	if (!c) {
		agent_certs_free(l, n);
		detail(a, "No hay una tarjeta ni una e.firma con certificado de firma");
		return AGENT_ERR_NO_TOKEN;
	}
	*out = json_pack("{s:o, s:o}", "certificate", b64(c->der, c->der_len),
			 "supportedSignatureAlgorithms", agent_supported_algorithms(c));
	agent_certs_free(l, n);
	return *out ? AGENT_OK : AGENT_ERR_INTERNAL;
}

struct cms_arg {
	struct agent_ctx *a;
	const struct agent_cert *c;
	struct ask_ctx *x;
	int retries;
};

static int cms_signer(void *arg, const char *hash_function, const uint8_t *data, size_t len,
		      uint8_t **sig, size_t *sig_len)
{
	struct cms_arg *ca = arg;
	uint8_t buf[1024];
	size_t sl = sizeof(buf);
	int rc;
	if (ca->c->kind == AGENT_KEY_RSA) {
		enum agent_mech m = strcmp(hash_function, "SHA-384") == 0 ? AGENT_MECH_SHA384_RSA_PKCS
				  : strcmp(hash_function, "SHA-512") == 0 ? AGENT_MECH_SHA512_RSA_PKCS
				  : AGENT_MECH_SHA256_RSA_PKCS;
		rc = agent_p11_sign(ca->a->p11, ca->c, m, data, len, ask_pin, ca->x, buf, &sl,
				    &ca->retries);
		if (rc != AGENT_OK)
			return rc;
		if (!(*sig = malloc(sl)))
			return AGENT_ERR_INTERNAL;
		memcpy(*sig, buf, sl);
		*sig_len = sl;
		return AGENT_OK;
	}
	const EVP_MD *md = strcmp(hash_function, "SHA-384") == 0 ? EVP_sha384()
			 : strcmp(hash_function, "SHA-512") == 0 ? EVP_sha512() : EVP_sha256();
	uint8_t h[64];
	unsigned int hl = 0;
	if (EVP_Digest(data, len, h, &hl, md, NULL) != 1)
		return AGENT_ERR_INTERNAL;
	rc = agent_p11_sign(ca->a->p11, ca->c, AGENT_MECH_ECDSA, h, hl, ask_pin, ca->x, buf, &sl,
			    &ca->retries);
	if (rc != AGENT_OK)
		return rc;
	return agent_ecdsa_raw_to_der(buf, sl, sig, sig_len) == 0 ? AGENT_OK : AGENT_ERR_INTERNAL;
}

int agent_op_sign(struct agent_ctx *a, const char *origin, const uint8_t *cert_der,
		  size_t cert_len, const char *hash_function, const uint8_t *hash,
		  size_t hash_len, bool cms, json_t **out)
{
	size_t want = agent_hash_len(hash_function);
	if (!want) {
		detail(a, "hashFunction debe ser SHA-256, SHA-384 o SHA-512");
		return AGENT_ERR_NOT_SUPPORTED;
	}
	if (hash_len != want) {
		detail(a, "hash no tiene la longitud de hashFunction");
		return AGENT_ERR_BAD_ARG;
	}
	struct agent_cert *l = NULL;
	size_t n = 0;
	int rc = certs(a, &l, &n);
	if (rc != AGENT_OK)
		return rc;
	const struct agent_cert *c = NULL;
	if (cert_der) {
		for (size_t i = 0; i < n && !c; i++)
			if (l[i].for_sign && l[i].der_len == cert_len &&
			    memcmp(l[i].der, cert_der, cert_len) == 0)
				c = &l[i];
	} else {
		c = pick(l, n, false);
	}
	if (!c) {
		agent_certs_free(l, n);
		detail(a, cert_der ? "El certificado de firma indicado no está en ninguna tarjeta"
				   : "No hay una tarjeta ni una e.firma con certificado de firma");
		return AGENT_ERR_NO_TOKEN;
	}
	char holder[320], hex[129], desc[1200];
	holder_text(c, holder, sizeof(holder));
	llv_hex_encode(hash, hash_len, hex);
	if (origin)
		snprintf(desc, sizeof(desc),
			 "El sitio %s solicita tu firma electrónica.\n\n%s\n\nHuella (%s) de lo que se "
			 "firma:\n%s\n\nEscribe el PIN para firmar.", origin, holder, hash_function, hex);
	else
		snprintf(desc, sizeof(desc),
			 "Vas a firmar %.300s con tu firma electrónica.\n\n%s\n\nHuella (%s):\n%s\n\n"
			 "Escribe el PIN para firmar.", a->subject ? a->subject : "un documento", holder,
			 hash_function, hex);
	struct ask_ctx x = { .a = a, .desc = desc };
	syslog(LOG_INFO, "sign (%s) for %s with the certificate of %s", cms ? "cms" : "raw",
	       origin ? origin : "the command line", c->rfc);
	const char *crypto = c->kind == AGENT_KEY_RSA ? "RSA" : "ECC";
	const char *pad = c->kind == AGENT_KEY_RSA ? "PKCS1.5" : "NONE";
	if (cms) {
		struct cms_arg ca = { .a = a, .c = c, .x = &x, .retries = -1 };
		uint8_t *der = NULL;
		size_t dl = 0;
		rc = agent_cms_sign(c->der, c->der_len, hash_function, hash, hash_len, cms_signer, &ca,
				    &der, &dl);
		if (rc != AGENT_OK) {
			agent_certs_free(l, n);
			return finish_sign_error(a, rc, ca.retries);
		}
		*out = json_pack("{s:o, s:s, s:{s:s, s:s, s:s}}", "signature", b64(der, dl),
				 "format", "cms", "signatureAlgorithm", "cryptoAlgorithm", crypto,
				 "hashFunction", hash_function, "paddingScheme", pad);
		free(der);
	} else {
		uint8_t in[128], sig[1024];
		size_t il = hash_len, sl = sizeof(sig);
		enum agent_mech m = AGENT_MECH_ECDSA;
		if (c->kind == AGENT_KEY_RSA) {
			il = agent_digest_info(hash_function, hash, hash_len, in, sizeof(in));
			m = AGENT_MECH_RSA_PKCS;
		} else {
			memcpy(in, hash, hash_len);
		}
		int retries = -1;
		rc = il ? agent_p11_sign(a->p11, c, m, in, il, ask_pin, &x, sig, &sl, &retries)
			: AGENT_ERR_INTERNAL;
		if (rc != AGENT_OK) {
			agent_certs_free(l, n);
			return finish_sign_error(a, rc, retries);
		}
		*out = json_pack("{s:o, s:{s:s, s:s, s:s}}", "signature", b64(sig, sl),
				 "signatureAlgorithm", "cryptoAlgorithm", crypto,
				 "hashFunction", hash_function, "paddingScheme", pad);
	}
	agent_certs_free(l, n);
	return *out ? AGENT_OK : AGENT_ERR_INTERNAL;
}

/* ---- WebAuthn through the FIDO bridge ------------------------------------- */

struct fido_ask {
	struct agent_ctx *a;
	const char *origin;
};

static int fido_pin(void *arg, const char *device, int retries, char *pin, size_t len)
{
	struct fido_ask *f = arg;
	char desc[700], err[80];
	snprintf(desc, sizeof(desc),
		 "El sitio %s solicita usar tu llave de seguridad.\n\nLlave: %s\n\n"
		 "Escribe el PIN de la llave.", f->origin, device ? device : "");
	if (retries >= 0 && retries <= 3)
		snprintf(err, sizeof(err), "Quedan %d intentos de PIN", retries);
	struct ask_ctx x = { .a = f->a, .desc = desc };
	int rc = ask_pin(&x, retries >= 0 && retries <= 3 ? err : NULL, pin, len);
	return rc == AGENT_OK ? 0 : -1;
}

static int map_fido(int e)
{
	switch (e) {
	case FIDO_BRIDGE_OK: return AGENT_OK;
	case FIDO_BRIDGE_ERR_BAD_ARG: return AGENT_ERR_BAD_ARG;
	case FIDO_BRIDGE_ERR_ORIGIN:
	case FIDO_BRIDGE_ERR_RPID: return AGENT_ERR_ORIGIN;
	case FIDO_BRIDGE_ERR_NO_DEVICE:
	case FIDO_BRIDGE_ERR_DEVICE: return AGENT_ERR_NO_TOKEN;
	case FIDO_BRIDGE_ERR_PIN_REQUIRED:
	case FIDO_BRIDGE_ERR_CANCELLED:
	case FIDO_BRIDGE_ERR_NOT_ALLOWED: return AGENT_ERR_CANCELLED;
	case FIDO_BRIDGE_ERR_PIN_INVALID: return AGENT_ERR_PIN_INCORRECT;
	case FIDO_BRIDGE_ERR_PIN_BLOCKED: return AGENT_ERR_PIN_BLOCKED;
	case FIDO_BRIDGE_ERR_TIMEOUT: return AGENT_ERR_TIMEOUT;
	case FIDO_BRIDGE_ERR_EXCLUDED: return AGENT_ERR_CRED_EXCLUDED;
	case FIDO_BRIDGE_ERR_NO_CREDENTIALS: return AGENT_ERR_NO_CREDENTIALS;
	case FIDO_BRIDGE_ERR_UNSUPPORTED:
	case FIDO_BRIDGE_ERR_PIN_POLICY: return AGENT_ERR_NOT_SUPPORTED;
	default: return AGENT_ERR_INTERNAL;
	}
}

int agent_op_webauthn(struct agent_ctx *a, bool create, const char *origin,
		      const json_t *options, const char *device, json_t **out)
{
	struct fido_bridge_ceremony c;
	struct fido_ask fa = { .a = a, .origin = origin };
	fido_bridge_ceremony_init(&c);
	c.device = device;
	c.origin = origin;
	c.options = options;
	c.pin_cb = fido_pin;
	c.pin_arg = &fa;
	json_t *cred = NULL;
	syslog(LOG_INFO, "webauthn-%s for %s", create ? "create" : "get", origin);
	int e = create ? fido_bridge_webauthn_create(&c, &cred) : fido_bridge_webauthn_get(&c, &cred);
	int rc = map_fido(e);
	if (rc != AGENT_OK) {
		if (c.error[0])
			llv_info("webauthn: %s", c.error);
		detail(a, agent_err_message(rc));
	} else {
		*out = json_pack("{s:o}", "credential", cred);
		if (!*out)
			rc = AGENT_ERR_INTERNAL;
	}
	fido_bridge_ceremony_clear(&c);
	return rc;
}
