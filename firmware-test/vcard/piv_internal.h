/* Internals of the PIV applet shared by its files (piv_*.c): the state
 * struct, the slot table and the helpers each command handler uses. Not part
 * of the applet's interface (piv_applet.h is). */
#ifndef LLAVERO_VCARD_PIV_INTERNAL_H
#define LLAVERO_VCARD_PIV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <openssl/evp.h>

#include "apdu.h"
#include "buf.h"
#include "piv_applet.h"

/* Algorithm identifiers (SP 800-78-4 table 6-2, YubiKey extensions). */
enum {
	PIV_ALG_3DES_ALT = 0x00,   /* '00': 3DES-ECB, same as '03' */
	PIV_ALG_3DES = 0x03,
	PIV_ALG_RSA1024 = 0x06,
	PIV_ALG_RSA2048 = 0x07,
	PIV_ALG_AES128 = 0x08,
	PIV_ALG_AES192 = 0x0A,
	PIV_ALG_AES256 = 0x0C,
	PIV_ALG_ECCP256 = 0x11,
	PIV_ALG_ECCP384 = 0x14,
};

/* Instructions (SP 800-73-4 part 2, YubiKey PIV extensions). */
enum {
	PIV_INS_VERIFY = 0x20,
	PIV_INS_CHANGE_REFERENCE = 0x24,
	PIV_INS_RESET_RETRY = 0x2C,
	PIV_INS_GENERATE = 0x47,
	PIV_INS_GENERAL_AUTH = 0x87,
	PIV_INS_GET_DATA = 0xCB,
	PIV_INS_PUT_DATA = 0xDB,
	PIV_INS_YK_GET_METADATA = 0xF7,
	PIV_INS_YK_GET_SERIAL = 0xF8,
	PIV_INS_YK_ATTEST = 0xF9,
	PIV_INS_YK_SET_PIN_RETRIES = 0xFA,
	PIV_INS_YK_RESET = 0xFB,
	PIV_INS_YK_GET_VERSION = 0xFD,
	PIV_INS_YK_IMPORT_KEY = 0xFE,
	PIV_INS_YK_SET_MGMT_KEY = 0xFF,
};

/* YubiKey PIN and touch policies (0 = the slot's default). */
enum {
	PIV_PIN_POLICY_DEFAULT = 0,
	PIV_PIN_POLICY_NEVER = 1,
	PIV_PIN_POLICY_ONCE = 2,
	PIV_PIN_POLICY_ALWAYS = 3,
	PIV_TOUCH_POLICY_MAX = 3,
	PIV_ORIGIN_GENERATED = 1,
	PIV_ORIGIN_IMPORTED = 2,
};

/* The version the applet reports to GET VERSION (YubiKey 5.4.3). */
#define PIV_VERSION_MAJOR 5
#define PIV_VERSION_MINOR 4
#define PIV_VERSION_PATCH 3

#define PIV_PIN_LEN 8                   /* PIN and PUK fields, FF-padded */
#define PIV_DEFAULT_TRIES 3
#define PIV_MGMT_MAX 32
#define PIV_BLOCK_MAX 16                /* AES block; 3DES uses 8 */
#define PIV_MAX_OBJECT (8u * 1024u)     /* one data object, tag and length included */
#define PIV_MAX_OBJECTS 64

/* Key slots: 9A, 9C, 9D, 9E and the 20 retired key management slots 82..95. */
#define PIV_NUM_SLOTS 24

struct piv_key {
	EVP_PKEY *pkey;                 /* NULL: the slot is empty */
	uint8_t alg;
	uint8_t pin_policy;
	uint8_t touch_policy;
	uint8_t origin;
};

/* A data object as GET DATA returns it: a complete TLV (53 ..., or 7E ... for
 * the discovery object, 7F61 ... for the BIT group template). */
struct piv_object {
	uint32_t tag;                   /* 0x5FC102, 0x7E, 0x7F61, ... */
	uint8_t *data;
	size_t len;
};

struct piv_ref {
	uint8_t value[PIV_PIN_LEN];     /* FF-padded */
	uint8_t max;                    /* tries allowed, 1..255 */
	uint8_t left;                   /* tries left; 0 = blocked */
};

enum piv_mgmt_step {
	PIV_MGMT_IDLE = 0,
	PIV_MGMT_MUTUAL_WITNESS,        /* witness sent, waiting for 80+81 */
	PIV_MGMT_EXTERNAL_CHALLENGE,    /* challenge sent, waiting for 82 */
};

struct piv_applet {
	/* Persistent. */
	struct piv_ref pin;
	struct piv_ref puk;
	uint8_t mgmt_alg;
	uint8_t mgmt_key[PIV_MGMT_MAX];
	uint32_t serial;
	struct piv_key keys[PIV_NUM_SLOTS];
	struct piv_object objects[PIV_MAX_OBJECTS];
	size_t n_objects;

	/* Volatile: lost on power cycle, SELECT and deselection. */
	bool dirty;
	bool pin_verified;
	bool pin_always;                /* a VERIFY not yet used by a PIN-always key */
	bool mgmt_authenticated;
	enum piv_mgmt_step mgmt_step;
	uint8_t mgmt_step_alg;
	uint8_t mgmt_expect[PIV_BLOCK_MAX];
	size_t mgmt_expect_len;
};

/* piv_applet.c */
#define PIV_AID_LEN 11
extern const uint8_t piv_aid[PIV_AID_LEN];      /* A0 00 00 03 08 00 00 10 00 01 00 */
extern const uint8_t piv_default_mgmt_key[24];  /* 3DES 0102030405060708 x3 */
void piv_reset_security(struct piv_applet *piv);
/* Frees keys and objects and wipes secrets; the struct stays allocated. */
void piv_clear_state(struct piv_applet *piv);
/* Puts a fresh card's defaults (PIN, PUK, management key, tries). */
void piv_set_defaults(struct piv_applet *piv);

/* piv_slots.c: key references and the objects that hold their certificates. */
int piv_slot_index(uint8_t slot);                 /* -1 when not a key slot */
uint8_t piv_slot_at(int index);
uint32_t piv_slot_cert_tag(uint8_t slot);         /* 0 when none */
uint8_t piv_slot_default_pin_policy(uint8_t slot);
bool piv_alg_is_asym(uint8_t alg);
bool piv_alg_is_sym(uint8_t alg);
size_t piv_sym_key_len(uint8_t alg);              /* 0 when not symmetric */

/* piv_objects.c */
const struct piv_object *piv_object_find(const struct piv_applet *piv, uint32_t tag);
/* Replaces (or with len 0 deletes) an object; data is the complete TLV.
 * 0, or a SW (6A84 when full). */
uint16_t piv_object_set(struct piv_applet *piv, uint32_t tag, const uint8_t *data, size_t len);
bool piv_object_tag_valid(uint32_t tag);
/* Checks that data is exactly one TLV with the outer tag a GET DATA of tag returns. */
bool piv_object_data_valid(uint32_t tag, const uint8_t *data, size_t len);
int piv_objects_personalize(struct piv_applet *piv);
uint16_t piv_cmd_get_data(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_put_data(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* piv_pin.c */
/* Checks the format of an 8-byte FF-padded PIN (digits) or PUK field. */
bool piv_pin_format_ok(const uint8_t *v, bool digits_only);
/* Pads a text PIN into an 8-byte field; false when not 6..8 valid characters. */
bool piv_pin_from_text(const char *text, bool digits_only, uint8_t out[PIV_PIN_LEN]);
uint16_t piv_cmd_verify(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_change_reference(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_reset_retry(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* piv_key.c: key material helpers (OpenSSL). */
/* The PIV algorithm of a key (07, 11, 14, 06) or 0 when unsupported. */
uint8_t piv_key_alg_of(EVP_PKEY *pkey);
EVP_PKEY *piv_key_generate(uint8_t alg);
/* Appends the 7F49 public key template (81 n 82 e / 86 point). 0 or -1. */
int piv_key_put_public(struct llv_buf *out, EVP_PKEY *pkey, bool with_template);
/* Builds a private key from YubiKey IMPORT components; NULL on bad data. */
EVP_PKEY *piv_key_from_rsa_crt(uint8_t alg, const uint8_t *p, size_t p_len, const uint8_t *q, size_t q_len,
			       const uint8_t *dp, size_t dp_len, const uint8_t *dq, size_t dq_len,
			       const uint8_t *qinv, size_t qinv_len);
EVP_PKEY *piv_key_from_ec_scalar(uint8_t alg, const uint8_t *d, size_t d_len);
/* Stores a key in a slot (taking ownership), replacing any previous one. */
void piv_key_store(struct piv_applet *piv, uint8_t slot, EVP_PKEY *pkey, uint8_t alg,
		   uint8_t pin_policy, uint8_t touch_policy, uint8_t origin);
struct piv_key *piv_key_get(struct piv_applet *piv, uint8_t slot);
/* Private key operations; return a SW. */
uint16_t piv_key_rsa_raw(EVP_PKEY *pkey, const uint8_t *in, size_t len, struct llv_buf *out);
uint16_t piv_key_ecdsa(EVP_PKEY *pkey, const uint8_t *hash, size_t len, struct llv_buf *out);
uint16_t piv_key_ecdh(EVP_PKEY *pkey, const uint8_t *point, size_t len, struct llv_buf *out);

/* piv_keycmd.c */
uint16_t piv_cmd_generate(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_import_key(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* piv_genauth.c: GENERAL AUTHENTICATE (asymmetric slots; 9B goes to piv_mgmt.c). */
uint16_t piv_cmd_general_authenticate(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* piv_mgmt.c */
/* 7C template already parsed into its 80/81/82 parts (present flag, value). */
struct piv_dyn_auth {
	bool has_witness, has_challenge, has_response, has_exponent;
	const uint8_t *witness, *challenge, *response, *exponent;
	size_t witness_len, challenge_len, response_len, exponent_len;
};
uint16_t piv_mgmt_authenticate(struct piv_applet *piv, uint8_t alg, const struct piv_dyn_auth *da, struct llv_buf *resp);
/* Encrypts or decrypts one block with the management key (ECB). 0 or -1. */
int piv_mgmt_cipher(uint8_t alg, const uint8_t *key, bool encrypt, const uint8_t *in, size_t len, uint8_t *out);
size_t piv_mgmt_block_len(uint8_t alg);
uint16_t piv_cmd_set_mgmt_key(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* piv_yubico.c */
uint16_t piv_cmd_get_version(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_get_serial(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_get_metadata(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_set_pin_retries(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);
uint16_t piv_cmd_reset(struct piv_applet *piv, const struct vcard_apdu *apdu, struct llv_buf *resp);

/* Random bytes from OpenSSL; 0 or -1. */
int piv_random(uint8_t *out, size_t len);

#endif
