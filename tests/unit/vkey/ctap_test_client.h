/* A minimal CTAP2 platform for the authenticator core's unit tests: builds
 * requests with libcbor, decodes responses, and does the host side of the
 * PIN/UV auth protocols and signature checks with OpenSSL, independently of
 * the core's own code. */
#ifndef LLAVERO_TESTS_CTAP_TEST_CLIENT_H
#define LLAVERO_TESTS_CTAP_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "ctap_authenticator.h"

struct tc {
	struct ctap_auth *a;
	uint64_t now;          /* the authenticator's clock (ms) */
	uint8_t up_result;     /* what the user-presence callback answers */
	int up_calls;
};

struct tc *tc_new(void);
void tc_free(struct tc *t);
/* Power cycle: the clock moves on by 1 s first. */
void tc_power_cycle(struct tc *t);

/* ---- CBOR building ---- */
cbor_item_t *tc_int(int64_t v);
cbor_item_t *tc_text(const char *s);
cbor_item_t *tc_bytes(const void *p, size_t n);
cbor_item_t *tc_bool(bool v);
/* A definite map from n (key, value) pairs; keys and values are moved in. */
cbor_item_t *tc_map(size_t n, ...);
/* A definite array of n items (moved in). */
cbor_item_t *tc_array(size_t n, ...);
/* {"alg": alg, "type": "public-key"} */
cbor_item_t *tc_param(int64_t alg);
/* {"id": id, "type": "public-key"} */
cbor_item_t *tc_desc(const uint8_t *id, size_t n);

/* ---- running commands ---- */
/* Sends cmd with params (consumed; NULL for none). Returns the status and
 * the decoded response in *resp (NULL when none; caller decrefs). */
uint8_t tc_cmd(struct tc *t, uint8_t cmd, cbor_item_t *params, cbor_item_t **resp);
/* Raw bytes in, status out (response data ignored). */
uint8_t tc_raw(struct tc *t, const uint8_t *req, size_t len);
/* Member of a response map. */
cbor_item_t *tc_get(const cbor_item_t *map, int64_t key);
cbor_item_t *tc_get_s(const cbor_item_t *map, const char *key);
/* Copies a byte string member (asserts on type). */
size_t tc_get_bytes(const cbor_item_t *map, int64_t key, uint8_t *out, size_t cap);
uint64_t tc_get_uint(const cbor_item_t *map, int64_t key);

/* ---- makeCredential / getAssertion ---- */
struct tc_mc {
	const char *rp_id;             /* default "example.com" */
	const uint8_t *user_id;        /* default "user-1" */
	size_t user_id_len;
	const char *user_name;
	const char *display_name;
	int64_t alg;                   /* default -7 */
	bool rk;
	int cred_protect;              /* 0: no extension */
	bool hmac_secret;
	cbor_item_t *exclude;          /* moved in */
	cbor_item_t *options;          /* overrides rk when set; moved in */
	const uint8_t *token;          /* pinUvAuthToken (32 bytes) */
	int proto;                     /* with token; default 2 */
	uint8_t cdh[32];               /* clientDataHash; zero = use a fixed one */
};

struct tc_cred {
	uint8_t id[256];
	size_t id_len;
	EVP_PKEY *pub;
	uint8_t flags;
	uint32_t counter;
	uint8_t aaguid[16];
	cbor_item_t *ext;              /* authData extensions (or NULL) */
};
void tc_cred_clear(struct tc_cred *c);

/* makeCredential (the moved-in members of o are consumed and cleared); on success verifies the packed attestation (signature with
 * x5c[0], the chain to the attestation CA) and parses the credential. */
uint8_t tc_make_credential(struct tc *t, struct tc_mc *o, struct tc_cred *out);

struct tc_ga {
	const char *rp_id;
	const uint8_t *allow_id;       /* one credential, or NULL */
	size_t allow_len;
	cbor_item_t *allow;            /* a whole list instead (moved in) */
	cbor_item_t *options;          /* moved in */
	cbor_item_t *extensions;       /* moved in */
	const uint8_t *token;
	int proto;
	uint8_t cdh[32];
};

/* getAssertion; *resp is the decoded response map on success. When pub is
 * given the signature is checked with it. */
uint8_t tc_get_assertion(struct tc *t, struct tc_ga *o, EVP_PKEY *pub, cbor_item_t **resp);
/* Checks an assertion response's signature over authData || cdh. */
bool tc_check_assertion(const cbor_item_t *resp, const uint8_t cdh[32], EVP_PKEY *pub);
/* The clientDataHash used when none is given. */
extern const uint8_t tc_default_cdh[32];

/* ---- PIN/UV auth protocol, host side ---- */
struct tc_pin {
	int proto;
	uint8_t shared[64];
	size_t shared_len;
	cbor_item_t *platform_key;     /* our COSE key for the request */
};
/* getKeyAgreement and ECDH. 0 or the CTAP status. */
uint8_t tc_pin_agree(struct tc *t, int proto, struct tc_pin *p);
void tc_pin_clear(struct tc_pin *p);
/* authenticate(): 16 (v1) or 32 (v2) bytes into out; returns the length. */
size_t tc_pin_auth(int proto, const uint8_t *key, const uint8_t *msg, size_t n, uint8_t *out);
/* encrypt()/decrypt() with the shared secret; return the output length. */
size_t tc_pin_encrypt(const struct tc_pin *p, const uint8_t *in, size_t n, uint8_t *out);
size_t tc_pin_decrypt(const struct tc_pin *p, const uint8_t *in, size_t n, uint8_t *out);

uint8_t tc_set_pin(struct tc *t, int proto, const char *pin);
uint8_t tc_change_pin(struct tc *t, int proto, const char *old_pin, const char *new_pin);
/* getPinToken (permissions == 0) or getPinUvAuthTokenUsingPinWithPermissions. */
uint8_t tc_get_token(struct tc *t, int proto, const char *pin, uint8_t permissions, const char *rp_id,
		     uint8_t token[32]);
uint8_t tc_get_retries(struct tc *t, uint64_t *retries);

/* ---- misc ---- */
EVP_PKEY *tc_cose_to_pkey(const cbor_item_t *cose);

#endif
