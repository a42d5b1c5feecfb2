/* llavero-agent: the native messaging host (PROTOCOL.md) and the pieces the
 * `llavero` CLI shares with it (tokens through PKCS#11, PIN via pinentry,
 * CMS). Public names carry the agent_ prefix. */
#ifndef LLAVERO_AGENT_H
#define LLAVERO_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define AGENT_MAX_IN (1024u * 1024u)
#define AGENT_MAX_OUT (1024u * 1024u)

/* Protocol errors (agent_err_code gives the stable text). */
enum agent_err {
	AGENT_OK = 0,
	AGENT_ERR_CANCELLED,
	AGENT_ERR_PIN_INCORRECT,
	AGENT_ERR_PIN_BLOCKED,
	AGENT_ERR_NO_TOKEN,
	AGENT_ERR_TIMEOUT,
	AGENT_ERR_BAD_ARG,
	AGENT_ERR_ORIGIN,
	AGENT_ERR_NOT_SUPPORTED,
	AGENT_ERR_INTERNAL,
	AGENT_ERR_CRED_EXCLUDED,    /* WebAuthn: a credential in excludeCredentials is on the key */
	AGENT_ERR_NO_CREDENTIALS,   /* WebAuthn: no credential for this RP on the key */
};
const char *agent_err_code(int err);
/* Default Spanish (or English) message for an error code. */
const char *agent_err_message(int err);

/* ---- agent_frame.c: native messaging framing ---------------------------- */

/* Reads up to n bytes; returns bytes read, 0 at EOF, -1 on error. */
typedef ssize_t agent_read_fn(void *ctx, void *buf, size_t n);

enum agent_frame_rc {
	AGENT_FRAME_OK = 0,
	AGENT_FRAME_EOF,        /* clean end of input between frames */
	AGENT_FRAME_TRUNCATED,  /* input ended inside a frame */
	AGENT_FRAME_TOO_BIG,    /* declared length > max: the body was skipped */
	AGENT_FRAME_IO,         /* read error or out of memory */
};
/* Reads one frame: *out is malloc'd, NUL-terminated (len excludes the NUL). */
int agent_frame_read(agent_read_fn *rd, void *ctx, size_t max, char **out, size_t *len,
		     uint32_t *declared);
ssize_t agent_fd_read(void *ctx, void *buf, size_t n);
/* Writes one frame to fd; 0 or -1. */
int agent_frame_write(int fd, const char *data, size_t len);

/* ---- agent_config.c ------------------------------------------------------ */

#define AGENT_MAX_MODULES 8
#define AGENT_MAX_ORIGINS 32

struct agent_config {
	char *modules[AGENT_MAX_MODULES];
	size_t n_modules;
	char *origins[AGENT_MAX_ORIGINS];
	size_t n_origins;
	char *pinentry;
	int pin_timeout;        /* seconds for each pinentry answer */
	int p11kit;             /* enum agent_p11kit: pkcs11-modules = ... */
	bool kiosk;             /* kiosk = true (agent_kiosk.h) */
	int kiosk_port;         /* kiosk-port (default AGENT_KIOSK_PORT) */
	char *kiosk_origins[AGENT_MAX_ORIGINS];  /* kiosk-origin lines */
	size_t n_kiosk_origins;
};

#define AGENT_KIOSK_PORT 27362

/* pkcs11-modules: whether p11-kit's module list is used too. */
enum agent_p11kit {
	AGENT_P11KIT_AUTO = 0,  /* only when none of the configured modules loads */
	AGENT_P11KIT_ON,        /* "p11-kit": after the configured ones */
	AGENT_P11KIT_OFF,       /* "configured": never */
};
/* Defaults, then /etc/llavero/agent.conf and the user's file (or only
 * $LLAVERO_AGENT_CONF), then the environment. 0 or -1. */
int agent_config_load(struct agent_config *c);
/* Parses one file into c (missing file: 0). */
int agent_config_read_file(struct agent_config *c, const char *path);
void agent_config_free(struct agent_config *c);
/* Strips leading and trailing white space (in place; returns the start). */
char *agent_trim(char *s);

/* ---- agent_p11kit.c ----------------------------------------------------- */

/* The modules p11-kit's configuration lists for program prog (full paths;
 * trust-policy modules and those disabled for prog left out). *out and its
 * strings are malloc'd. 0 or -1. */
int agent_p11kit_modules(const char *prog, char ***out, size_t *n);

/* ---- agent_origin.c ------------------------------------------------------ */

/* https://host[:port], http://localhost[:port], http://127.0.0.1[:port] or
 * exactly one of the configured extra origins. */
bool agent_origin_allowed(const char *origin, const struct agent_config *c);

/* ---- agent_assuan.c: pinentry ------------------------------------------- */

/* Percent-escapes '%', CR, LF and other control characters for an Assuan
 * command line. Returns the length written (NUL-terminated), or -1 when out
 * (size cap) is too small. */
long agent_assuan_escape(const char *in, char *out, size_t cap);
/* Decodes %XX escapes in place; -1 on a malformed escape. */
int agent_assuan_unescape(char *s);

struct agent_prompt {
	const char *title;
	const char *desc;       /* what is asked, for whom, what is signed */
	const char *prompt;     /* "PIN:" */
	const char *error;      /* NULL, or the previous attempt's error */
};
/* Runs the pinentry program and asks for a PIN. AGENT_OK with a
 * NUL-terminated PIN in pin (size cap), AGENT_ERR_CANCELLED,
 * AGENT_ERR_TIMEOUT or AGENT_ERR_INTERNAL. */
int agent_pinentry_getpin(const char *program, int timeout_s, const struct agent_prompt *p,
			  char *pin, size_t cap);

/* ---- agent_p11.c: tokens through PKCS#11 -------------------------------- */

enum agent_key_kind { AGENT_KEY_RSA = 1, AGENT_KEY_EC };

struct agent_cert {
	size_t module;          /* index into the module list */
	unsigned long slot;
	uint8_t id[64];
	size_t id_len;
	uint8_t *der;
	size_t der_len;
	char label[128];
	char token_label[33];
	bool for_auth;          /* may sign in (9A, or an e.firma; never a CSD) */
	bool for_sign;          /* may sign documents (9C, or an e.firma/CSD file) */
	bool csd;
	enum agent_key_kind kind;
	int bits;               /* RSA modulus or EC field size */
	char name[256];         /* holder (2.5.4.41 or CN) */
	char rfc[16];
	char curp[24];
	bool expired;
};

struct agent_p11;

int agent_p11_open(const struct agent_config *c, struct agent_p11 **out);
void agent_p11_close(struct agent_p11 *p);
/* Path of loaded module i (agent_cert.module), or "". */
const char *agent_p11_module_path(const struct agent_p11 *p, size_t i);
/* Every certificate on every present token. *out is malloc'd. */
int agent_p11_certs(struct agent_p11 *p, struct agent_cert **out, size_t *n);
void agent_certs_free(struct agent_cert *c, size_t n);
/* Token label and whether the module says a PIN is blocked. */
int agent_p11_token_flags(struct agent_p11 *p, const struct agent_cert *c, unsigned long *flags);

/* Asks the person for the PIN: error is NULL on the first attempt, else the
 * text of why the last one failed. AGENT_OK with the PIN, or an error. */
typedef int agent_pin_fn(void *arg, const char *error, char *pin, size_t cap);

enum agent_mech {
	AGENT_MECH_RSA_PKCS,         /* data = DigestInfo or anything */
	AGENT_MECH_SHA256_RSA_PKCS,  /* hash-and-sign */
	AGENT_MECH_SHA384_RSA_PKCS,
	AGENT_MECH_SHA512_RSA_PKCS,
	AGENT_MECH_ECDSA,            /* data = the hash; result raw r||s */
};

/* Logs in (PIN through ask, PIN pad when the reader has one; at most 3
 * attempts; CKU_CONTEXT_SPECIFIC for always-authenticate keys), signs data
 * with the private key of c and logs out. *retries_left is set on
 * AGENT_ERR_PIN_INCORRECT (-1: the token does not say). */
int agent_p11_sign(struct agent_p11 *p, const struct agent_cert *c, enum agent_mech mech,
		   const uint8_t *data, size_t len, agent_pin_fn *ask, void *ask_arg,
		   uint8_t *sig, size_t *sig_len, int *retries_left);

/* ---- agent_crypto.c ------------------------------------------------------ */

/* "SHA-256" / "SHA-384" / "SHA-512" -> digest length, or 0. */
size_t agent_hash_len(const char *hash_function);
/* DigestInfo for PKCS#1 v1.5; returns its length or 0 (out >= 19 + len). */
size_t agent_digest_info(const char *hash_function, const uint8_t *hash, size_t len,
			 uint8_t *out, size_t cap);
/* Raw r||s -> DER ECDSA-Sig-Value; malloc'd. 0 or -1. */
int agent_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len);
/* supportedSignatureAlgorithms for a certificate. */
json_t *agent_supported_algorithms(const struct agent_cert *c);

/* A signer for agent_cms_sign: signs data (the DER signed attributes) with
 * the certificate's key, hashing with hash_function. */
typedef int agent_cms_signer_fn(void *arg, const char *hash_function, const uint8_t *data,
				size_t len, uint8_t **sig, size_t *sig_len);
/* Detached CAdES-BES over a pre-computed digest: content-type, message-digest,
 * signing-time and signing-certificate-v2 signed attributes. *der malloc'd. */
int agent_cms_sign(const uint8_t *cert_der, size_t cert_len, const char *hash_function,
		   const uint8_t *hash, size_t hash_len, agent_cms_signer_fn *signer, void *arg,
		   uint8_t **der, size_t *der_len);

/* ---- agent_ops.c: the operations behind the commands -------------------- */

struct agent_ctx {
	struct agent_config cfg;
	struct agent_p11 *p11;   /* opened on first use */
	const char *pin_file;    /* CLI: read the PIN from this file instead */
	const char *subject;     /* CLI: what is signed, for the PIN dialog */
	int retries_left;        /* of the last pin-incorrect */
	char detail[256];        /* message of the last error */
};

void agent_ctx_init(struct agent_ctx *a);
void agent_ctx_clear(struct agent_ctx *a);
/* Web eID token for origin and nonce; *out owns a new object. */
int agent_op_authenticate(struct agent_ctx *a, const char *origin, const char *nonce,
			  json_t **out);
int agent_op_signing_certificate(struct agent_ctx *a, const char *origin, json_t **out);
/* Signs hash; cert_der NULL: the first signing certificate. cms: detached CMS. */
int agent_op_sign(struct agent_ctx *a, const char *origin, const uint8_t *cert_der,
		  size_t cert_len, const char *hash_function, const uint8_t *hash,
		  size_t hash_len, bool cms, json_t **out);
int agent_op_webauthn(struct agent_ctx *a, bool create, const char *origin,
		      const json_t *options, const char *device, json_t **out);

/* ---- agent_request.c ----------------------------------------------------- */

/* Handles one request body: returns the malloc'd response JSON text. */
char *agent_handle(struct agent_ctx *a, const char *body, size_t len);
/* An error response object ({"error": {...}}). */
json_t *agent_error_json(int err, const char *message, int retries_left);

#endif
