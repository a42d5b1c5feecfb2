/* Internals of the CTAP 2.1 authenticator core shared by its files. Not part
 * of the contract with the transports (that is ctap_authenticator.h). */
#ifndef LLAVERO_VKEY_CTAP_INTERNAL_H
#define LLAVERO_VKEY_CTAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "buf.h"
#include "ctap_authenticator.h"
#include "ctap_status.h"

/* Commands (CTAP 2.1 section 6). */
#define CTAP_CMD_MAKE_CREDENTIAL   0x01
#define CTAP_CMD_GET_ASSERTION     0x02
#define CTAP_CMD_GET_INFO          0x04
#define CTAP_CMD_CLIENT_PIN        0x06
#define CTAP_CMD_RESET             0x07
#define CTAP_CMD_GET_NEXT_ASSERTION 0x08
#define CTAP_CMD_CRED_MGMT         0x0A
#define CTAP_CMD_SELECTION         0x0B
#define CTAP_CMD_CRED_MGMT_PRE     0x41

/* Limits. */
#define CTAP_MAX_RK            50      /* discoverable credential slots */
#define CTAP_MAX_REQUEST       7609    /* largest CTAPHID message */
#define CTAP_DEFAULT_MSG_SIZE  1200
#define CTAP_RP_ID_MAX         255
#define CTAP_NAME_MAX          64      /* names are truncated to this (UTF-8 safe) */
#define CTAP_USER_ID_MAX       64
#define CTAP_CERT_MAX          1024
#define CTAP_CRED_ID_LEN       (1 + 12 + 36 + 16)
#define CTAP_MAX_CRED_IN_LIST  16
#define CTAP_PIN_RETRIES       8
#define CTAP_PIN_MIN_LEN       4
#define CTAP_PIN_MAX_BYTES     63
#define CTAP_RESET_WINDOW_MS   10000
#define CTAP_NEXT_ASSERTION_MS 30000
#define CTAP_TOKEN_INITIAL_MS  30000
#define CTAP_TOKEN_MAX_MS      600000
#define CTAP_FIRMWARE_VERSION  0x00010000u

/* COSE algorithm identifiers. */
#define COSE_ES256 (-7)
#define COSE_EDDSA (-8)
#define COSE_ECDH_ES_HKDF_256 (-25)

/* pinUvAuthToken permissions. */
#define CTAP_PERM_MC   0x01
#define CTAP_PERM_GA   0x02
#define CTAP_PERM_CM   0x04
#define CTAP_PERM_BE   0x08
#define CTAP_PERM_LBW  0x10
#define CTAP_PERM_ACFG 0x20

/* authData flags. */
#define CTAP_FLAG_UP 0x01
#define CTAP_FLAG_UV 0x04
#define CTAP_FLAG_AT 0x40
#define CTAP_FLAG_ED 0x80

struct ctap_text {
	bool present;
	uint16_t len;
	char s[CTAP_RP_ID_MAX + 1];
};

/* A credential's key material and policy, as wrapped in its ID. */
struct ctap_cred {
	uint8_t id[CTAP_CRED_ID_LEN];
	int32_t alg;                /* COSE_ES256 or COSE_EDDSA */
	uint8_t priv[32];           /* P-256 scalar or Ed25519 seed */
	uint8_t rp_id_hash[32];
	uint8_t cred_protect;       /* 1..3 */
	bool hmac_secret;
	bool resident;
};

/* A discoverable credential. */
struct ctap_rk {
	bool used;
	uint64_t seq;               /* creation order, newest = largest */
	struct ctap_cred cred;
	struct ctap_text rp_id;
	struct ctap_text rp_name;
	uint8_t user_id[CTAP_USER_ID_MAX];
	size_t user_id_len;
	struct ctap_text user_name;
	struct ctap_text display_name;
	uint8_t cred_random[2][32]; /* [0] without UV, [1] with UV */
};

/* Everything that survives a power cycle (saved by ctap_state.c). */
struct ctap_persist {
	uint8_t device_secret[32];
	uint8_t aaguid[16];
	uint8_t ca_cert[CTAP_CERT_MAX];
	size_t ca_cert_len;
	uint8_t batch_cert[CTAP_CERT_MAX];
	size_t batch_cert_len;
	uint8_t batch_priv[32];
	bool pin_set;
	uint8_t pin_hash[16];       /* LEFT(SHA-256(pin), 16) */
	uint8_t pin_retries;
	uint32_t counter;
	uint64_t next_seq;
	struct ctap_rk rk[CTAP_MAX_RK];
};

struct ctap_token_state {
	bool in_use;
	uint8_t permissions;
	bool has_rp;
	uint8_t rp_id_hash[32];
	bool user_verified;
	bool used;
	uint64_t issued_ms;
};

/* getNextAssertion state. */
struct ctap_ga_state {
	bool active;
	uint64_t last_ms;
	uint8_t client_data_hash[32];
	uint8_t rp_id_hash[32];
	uint8_t flags;              /* UP/UV of the original request */
	size_t n, next;
	int idx[CTAP_MAX_RK];       /* resident credential slots, newest first */
	bool hmac;                  /* hmac-secret requested */
	int hmac_proto;
	uint8_t hmac_shared[64];
	uint8_t salts[64];
	size_t salts_len;
};

/* credentialManagement enumeration state. */
struct ctap_cm_state {
	int kind;                   /* 0 none, 1 RPs, 2 credentials */
	size_t n, next;
	int idx[CTAP_MAX_RK];
};

struct ctap_auth {
	struct ctap_auth_callbacks cb;
	bool dirty;
	bool initialised;
	size_t max_msg_size;
	unsigned transports;
	struct ctap_persist p;
	/* volatile */
	uint64_t power_up_ms;
	uint8_t pin_mismatches;     /* consecutive, since power-up */
	EVP_PKEY *ka_key[2];        /* key agreement of protocols 1 and 2 */
	uint8_t token[2][32];       /* pinUvAuthToken of protocols 1 and 2 */
	struct ctap_token_state ts;
	struct ctap_ga_state ga;
	struct ctap_cm_state cm;
};

/* ---- ctap_auth.c ---- */
uint64_t ctap_now(struct ctap_auth *a);
uint8_t ctap_user_presence(struct ctap_auth *a);
void ctap_mark_dirty(struct ctap_auth *a);
/* Increments and returns the signature counter. */
uint32_t ctap_next_counter(struct ctap_auth *a);

/* ---- ctap_cbor.c: canonical encoder ---- */
void ctap_enc_uint(struct llv_buf *b, uint64_t v);
void ctap_enc_int(struct llv_buf *b, int64_t v);
void ctap_enc_bytes(struct llv_buf *b, const void *p, size_t n);
void ctap_enc_text(struct llv_buf *b, const char *s, size_t n);
void ctap_enc_textz(struct llv_buf *b, const char *s);
void ctap_enc_array(struct llv_buf *b, size_t n);
void ctap_enc_map(struct llv_buf *b, size_t n);
void ctap_enc_bool(struct llv_buf *b, bool v);

/* ---- ctap_cbor.c: strict decoder ---- */
/* Checks that data is exactly one well-formed item with definite lengths, no
 * tags, at most 16 levels deep and no duplicate map keys, then decodes it.
 * CTAP2_OK and *out (caller decrefs) or CTAP2_ERR_INVALID_CBOR. */
uint8_t ctap_dec_load(const uint8_t *data, size_t len, cbor_item_t **out);
/* Like ctap_dec_load, and the item must be a map (else
 * CTAP2_ERR_CBOR_UNEXPECTED_TYPE). Empty input: CTAP2_ERR_MISSING_PARAMETER. */
uint8_t ctap_dec_params(const uint8_t *data, size_t len, cbor_item_t **out);
/* Value of an integer / text key of a map, or NULL when absent. */
cbor_item_t *ctap_dec_get(const cbor_item_t *map, int64_t key);
cbor_item_t *ctap_dec_get_s(const cbor_item_t *map, const char *key);
/* Typed reads; CTAP2_ERR_CBOR_UNEXPECTED_TYPE on a wrong type. */
uint8_t ctap_dec_bytes(const cbor_item_t *it, const uint8_t **p, size_t *n);
uint8_t ctap_dec_text(const cbor_item_t *it, const char **p, size_t *n);
uint8_t ctap_dec_uint(const cbor_item_t *it, uint64_t *v);
uint8_t ctap_dec_int(const cbor_item_t *it, int64_t *v);
uint8_t ctap_dec_bool(const cbor_item_t *it, bool *v);
uint8_t ctap_dec_expect_map(const cbor_item_t *it);
uint8_t ctap_dec_expect_array(const cbor_item_t *it);
/* Raw bytes of the value of integer key `key` in the encoded map at data
 * (well-formed, as checked by ctap_dec_load). false when absent. */
bool ctap_dec_raw_value(const uint8_t *data, size_t len, int64_t key, const uint8_t **vp, size_t *vn);

/* A credential descriptor {type, id}. type_ok: type is "public-key". */
struct ctap_desc {
	bool type_ok;
	const uint8_t *id;
	size_t id_len;
};
uint8_t ctap_dec_descriptor(const cbor_item_t *it, struct ctap_desc *d);
/* Copies a text item into t (truncating to max bytes on a UTF-8 boundary
 * when truncate, else CTAP1_ERR_INVALID_LENGTH when longer). */
uint8_t ctap_dec_text_into(const cbor_item_t *it, struct ctap_text *t, size_t max, bool truncate);

/* ---- ctap_keys.c: credential and attestation keys ---- */
/* New key pair of alg; raw private key into priv[32]. 0 or -1. */
int ctap_key_generate(int32_t alg, uint8_t priv[32]);
/* EVP_PKEY from a raw private key (NULL on error). */
EVP_PKEY *ctap_key_from_raw(int32_t alg, const uint8_t priv[32]);
/* ES256 (DER) or Ed25519 signature over msg. 0 or -1. */
int ctap_key_sign(int32_t alg, const uint8_t priv[32], const uint8_t *msg, size_t len, struct llv_buf *sig);
/* COSE_Key of the public key. 0 or -1. */
int ctap_key_put_cose(struct llv_buf *b, int32_t alg, const uint8_t priv[32]);
/* Uncompressed P-256 point (65 bytes) of an ES256 key. 0 or -1. */
int ctap_key_p256_point(const uint8_t priv[32], uint8_t out[65]);
void ctap_sha256(const void *data, size_t len, uint8_t out[32]);

/* ---- ctap_cred_id.c ---- */
/* Generates the key and wraps it into c->id (rp_id_hash, alg, flags set by
 * the caller). 0 or -1. */
int ctap_cred_create(const struct ctap_auth *a, struct ctap_cred *c);
/* Unwraps id for rp_id_hash. 0 when it is ours for that RP (resident ones
 * must still exist: see ctap_cred_resolve), -1 otherwise. */
int ctap_cred_unwrap(const struct ctap_auth *a, const uint8_t *id, size_t len, const uint8_t rp_id_hash[32], struct ctap_cred *c);
/* Unwraps and, for a discoverable credential, finds its slot (*rk_idx, or -1
 * for a non-resident one). 0 or -1 (not ours, or a deleted resident one). */
int ctap_cred_resolve(const struct ctap_auth *a, const uint8_t *id, size_t len, const uint8_t rp_id_hash[32], struct ctap_cred *c, int *rk_idx);
/* CredRandom of the hmac-secret extension. */
void ctap_cred_random(const struct ctap_auth *a, const struct ctap_cred *c, bool uv, uint8_t out[32]);

/* ---- ctap_rk.c: discoverable credential store ---- */
int ctap_rk_find_user(const struct ctap_auth *a, const uint8_t rp_id_hash[32], const uint8_t *uid, size_t uid_len);
int ctap_rk_find_id(const struct ctap_auth *a, const uint8_t *id, size_t len);
int ctap_rk_free_slot(const struct ctap_auth *a);
size_t ctap_rk_count(const struct ctap_auth *a);
/* Slots for rp_id_hash (or all when NULL), newest first. */
size_t ctap_rk_list(const struct ctap_auth *a, const uint8_t *rp_id_hash, int *idx, size_t max);
void ctap_rk_delete(struct ctap_auth *a, int idx);
/* Writes the user entity; names only when with_names. */
void ctap_rk_put_user(struct llv_buf *b, const struct ctap_rk *rk, bool with_names);

/* ---- ctap_authdata.c ---- */
/* rpIdHash || flags || counter [|| attested credential data] [|| extensions
 * (ext, already CBOR, may be NULL)]. */
int ctap_authdata(struct ctap_auth *a, struct llv_buf *out, const uint8_t rp_id_hash[32], uint8_t flags,
		  const struct ctap_cred *attested, const struct llv_buf *ext);

/* ---- ctap_attestation.c ---- */
int ctap_attestation_init(struct ctap_persist *p);
/* attStmt of the packed format over authData || clientDataHash. */
int ctap_attestation_packed(const struct ctap_auth *a, const uint8_t *auth_data, size_t ad_len,
			    const uint8_t cdh[32], struct llv_buf *att_stmt);
/* Checks that batch_priv matches the batch certificate and the CA issued
 * it. 0 or -1. */
int ctap_attestation_check(const struct ctap_persist *p);

/* ---- ctap_pin_protocol.c: PIN/UV auth protocols 1 and 2 ---- */
int ctap_pp_new_key(EVP_PKEY **k);
int ctap_pp_put_key_agreement(struct llv_buf *b, EVP_PKEY *k);
/* Shared secret with the platform's COSE key: 32 bytes (v1) or 64 (v2).
 * CTAP2_OK, or MISSING_PARAMETER / CBOR_UNEXPECTED_TYPE / INVALID_PARAMETER. */
uint8_t ctap_pp_decapsulate(int proto, EVP_PKEY *own, const cbor_item_t *cose, uint8_t shared[64], size_t *shared_len);
int ctap_pp_encrypt(int proto, const uint8_t *shared, const uint8_t *in, size_t n, struct llv_buf *out);
/* Decrypts into out (capacity cap); -1 on a bad length. */
int ctap_pp_decrypt(int proto, const uint8_t *shared, const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);
bool ctap_pp_verify(int proto, const uint8_t *key, const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);
/* HMAC-SHA-256 one-shot (32 bytes). */
void ctap_hmac_sha256(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen, uint8_t out[32]);
/* 1 or 2 from a pinUvAuthProtocol item: CTAP2_OK or CBOR_UNEXPECTED_TYPE /
 * CTAP1_ERR_INVALID_PARAMETER. */
uint8_t ctap_pp_protocol(const cbor_item_t *it, int *proto);

/* ---- ctap_pin_token.c ---- */
void ctap_token_reset(struct ctap_auth *a);
void ctap_token_begin(struct ctap_auth *a, uint8_t permissions, const uint8_t *rp_id_hash);
/* Verifies a pinUvAuthParam made with the token over msg and the permission
 * (and RP, when rp_id_hash is not NULL; it binds an unbound token).
 * CTAP2_OK or CTAP2_ERR_PIN_AUTH_INVALID. */
uint8_t ctap_token_check(struct ctap_auth *a, int proto, const uint8_t *msg, size_t msg_len,
			 const uint8_t *param, size_t param_len, uint8_t permission, const uint8_t *rp_id_hash);
/* After user presence in makeCredential/getAssertion. */
void ctap_token_consume(struct ctap_auth *a);
/* Regenerates the key agreement keys (power-up, after a PIN mismatch). */
int ctap_pin_regenerate(struct ctap_auth *a, int proto);

/* ---- commands ---- */
uint8_t ctap_cmd_get_info(struct ctap_auth *a, struct llv_buf *out);
uint8_t ctap_cmd_make_credential(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out);
uint8_t ctap_cmd_get_assertion(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out);
uint8_t ctap_cmd_get_next_assertion(struct ctap_auth *a, struct llv_buf *out);
uint8_t ctap_cmd_client_pin(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out);
uint8_t ctap_cmd_reset(struct ctap_auth *a);
uint8_t ctap_cmd_selection(struct ctap_auth *a);
uint8_t ctap_cmd_cred_mgmt(struct ctap_auth *a, const uint8_t *p, size_t n, struct llv_buf *out);
/* pinUvAuthParam / pinUvAuthProtocol of a request. */
struct ctap_pin_params {
	bool present;
	const uint8_t *param;
	size_t param_len;
	bool has_proto;
	uint64_t proto_raw;
	int proto;                  /* 1 or 2 once checked */
};
/* Type checks (CBOR_UNEXPECTED_TYPE). */
uint8_t ctap_pin_params_parse(const cbor_item_t *req, int64_t param_key, int64_t proto_key, struct ctap_pin_params *pp);
/* CTAP 2.1 steps 1-2 of makeCredential/getAssertion: the zero-length
 * pinUvAuthParam probe (touch, then PIN_INVALID or PIN_NOT_SET),
 * a missing (MISSING_PARAMETER) or unsupported (INVALID_PARAMETER) protocol. */
uint8_t ctap_pin_params_check(struct ctap_auth *a, struct ctap_pin_params *pp);

#endif
