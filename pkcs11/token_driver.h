/* token_driver.h: the contract between the Cryptoki core of llavero-pkcs11.so
 * and its token drivers (`piv` for PIV cards over PC/SC, `efirma` for an
 * e.firma .cer/.key file pair).
 *
 * Who does what
 * -------------
 * The core owns everything Cryptoki: slots and their stable IDs, sessions,
 * handles, login state (who is logged in, CKR_USER_ALREADY_LOGGED_IN,
 * CKR_USER_NOT_LOGGED_IN, CKR_SESSION_READ_ONLY_EXISTS ...), object storage,
 * template matching, attribute semantics, mechanisms, hashing and padding
 * (PKCS#1 v1.5 DigestInfo, PSS with MGF1, ECDSA hashing) and locking.
 * A driver only knows its token:
 *   - card drivers (P11_DRIVER_CARD) recognise a card in a PC/SC reader:
 *     the core connects, then calls probe() on each card driver in turn;
 *     recognition is data driven (ATR/AID tables inside the driver);
 *   - file drivers (P11_DRIVER_FILE) add slots of their own: discover() is
 *     called at C_Initialize (and again, throttled, on C_GetSlotList(NULL)) and calls
 *     p11_slot_add_file() once per token it finds (e.g. per .cer/.key pair
 *     in the directory from /etc/llavero/pkcs11.conf `efirma_dir = ...` or
 *     LLAVERO_EFIRMA_DIR); the core then calls open() for that slot.
 *   - both fill token info, hand over their objects (certificates; the core
 *     derives the public and private key objects from each certificate, see
 *     p11_token_add_cert), verify PINs and do the one private-key primitive.
 *
 * The private-key primitive (sign)
 * --------------------------------
 *   RSA: in is a block exactly the modulus length, already padded by the
 *        core (PKCS#1 v1.5 type 1 with DigestInfo, or PSS); the driver does
 *        the raw RSA private operation (m^d mod n) and writes modulus-length
 *        bytes.
 *   EC:  in is the hash (any length; the driver/card truncates per ECDSA);
 *        the driver writes r || s, each the field size, big-endian (the
 *        PKCS#11 form; PIV's DER ECDSA-Sig-Value is converted by the driver).
 * The core sizes out; *out_len is in/out.
 *
 * Login
 * -----
 *   login(CKU_USER, pin): verify the PIN (PIV VERIFY 80). Exactly one try per
 *     call: never retry, never cache the PIN beyond the call.
 *   login(CKU_SO, puk): PIV has no VERIFY for the PUK; the driver may check it
 *     in a way the card counts (e.g. CHANGE REFERENCE DATA 81 PUK->PUK) and
 *     keep it, in llv_secure_alloc memory, only until logout() or
 *     init_pin(), because RESET RETRY COUNTER needs it again. This is the only
 *     secret a driver may keep after a call returns (besides efirma's
 *     decrypted key while logged in).
 *   login(CKU_CONTEXT_SPECIFIC, pin, key): re-verify for a key with
 *     CKA_ALWAYS_AUTHENTICATE (PIV 9C) just before sign().
 *   pin may be NULL (len 0) when the token has CKF_PROTECTED_AUTHENTICATION_PATH.
 *   Return codes: CKR_PIN_INCORRECT (a try was used), CKR_PIN_LOCKED (no tries
 *   left), CKR_PIN_LEN_RANGE, CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR.
 *   set_pin(who, old, new): CHANGE REFERENCE DATA (80 or 81 when the SO is
 *     logged in). init_pin(new): unblock with the PUK given at SO login
 *     (RESET RETRY COUNTER).
 *   The core keeps PIN bytes in llv_secure_alloc memory and wipes them after
 *   the driver call; drivers must never log them.
 *
 * Token info and PIN counters
 * ---------------------------
 * token_info() fills a CK_TOKEN_INFO the core has pre-filled (session counts,
 * memory = CK_UNAVAILABLE_INFORMATION, CKF_TOKEN_INITIALIZED |
 * CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_RNG, label etc.
 * blank-padded empty). A driver whose token nothing can change (no set_pin,
 * e.g. efirma) adds CKF_WRITE_PROTECTED. The driver sets label, manufacturerID, model,
 * serialNumber (use p11_pad), ulMin/MaxPinLen and ORs the counter flags that
 * p11_pin_flags() computes from the live retry counters, so
 * CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED (and the SO_ ones) stay true.
 * It is called on every C_GetTokenInfo; a card driver may cost an APDU here
 * (VERIFY with no data gives the counter) but no more.
 *
 * Removal
 * -------
 * Any op may return CKR_DEVICE_REMOVED: the card left (or the reader, or
 * pcscd, went away). The core then drops the token: every session on the
 * slot gets CKR_DEVICE_REMOVED on its next call and CKR_SESSION_HANDLE_INVALID
 * after, release() is called, and the next card in the reader is probed
 * afresh. A driver never frees core objects itself.
 *
 * Building
 * --------
 * pkcs11/CMakeLists.txt builds the core and piv into llavero_pkcs11_core and
 * includes every pkcs11/NAME.cmake; a driver adds itself there, e.g. efirma.cmake:
 *   target_sources(llavero_pkcs11_core PRIVATE driver_efirma.c efirma_files.c)
 *   target_compile_definitions(llavero_pkcs11_core PRIVATE LLAVERO_P11_EFIRMA=1)
 * (the slot layer lists p11_driver_efirma only with LLAVERO_P11_EFIRMA).
 *
 * Threads
 * -------
 * The core serialises calls per token (a driver instance is never entered by
 * two threads at once) but different tokens run in parallel, so drivers keep
 * no mutable globals. Calls may block on I/O; the core never holds the global
 * lock while a driver runs.
 */
#ifndef LLAVERO_PKCS11_TOKEN_DRIVER_H
#define LLAVERO_PKCS11_TOKEN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p11_cryptoki.h"

struct p11_card;      /* PC/SC card connection (pcsc_card.h) */
struct p11_token;     /* the core's token: objects, login state */
struct p11_object;    /* the core's object */

enum p11_driver_kind {
	P11_DRIVER_CARD = 1, /* tokens are cards in PC/SC readers */
	P11_DRIVER_FILE = 2, /* tokens are files; the driver creates slots */
};

/* What a private key can do, as the driver reports it for p11_token_add_cert.
 * drv_ref is the driver's own reference (PIV key reference 0x9A/0x9C/...,
 * efirma: an index); the core passes it back in sign(). */
struct p11_key_spec {
	uintptr_t drv_ref;
	bool always_authenticate;  /* CKA_ALWAYS_AUTHENTICATE (PIV 9C) */
	bool sign;                 /* CKA_SIGN */
	bool decrypt;              /* CKA_DECRYPT (reported only; no decrypt op yet) */
	bool derive;               /* CKA_DERIVE (reported only) */
	const char *key_label;     /* NULL: the core derives the label from the cert */
	const char *cert_label;    /* NULL: "<holder name> (<RFC>)" from the subject */
};

struct p11_driver {
	const char *name;              /* "piv", "efirma" */
	enum p11_driver_kind kind;

	/* Card drivers: is the connected card ours? Use the ATR (the card's
	 * p11_card_atr()) and/or SELECT. CKR_OK with *priv set: ours.
	 * CKR_TOKEN_NOT_RECOGNIZED: not ours (the core tries the next driver;
	 * when none claims it, C_GetTokenInfo says CKR_TOKEN_NOT_RECOGNIZED).
	 * CKR_DEVICE_REMOVED / CKR_DEVICE_ERROR: transport failure. */
	CK_RV (*probe)(struct p11_card *card, void **priv);

	/* File drivers: add slots with p11_slot_add_file(). Called with no
	 * locks held; must be idempotent (the core ignores keys it already has).
	 * full: at C_Initialize (the core's slot table is new: add every slot);
	 * else on C_GetSlotList(NULL), called often: the driver may skip the
	 * scan when nothing it looks at changed. */
	void (*discover)(const struct p11_driver *self, bool full);
	/* File drivers (optional): drop what discover() remembers between calls
	 * (directory stamps, scan memo); called by C_Finalize, so nothing of a
	 * finalized library stays in memory. */
	void (*forget)(const struct p11_driver *self);
	/* File drivers: open the token of a slot the driver added (arg as given
	 * to p11_slot_add_file). CKR_OK with *priv set, or CKR_DEVICE_REMOVED
	 * when the files have gone, CKR_TOKEN_NOT_RECOGNIZED when unusable. */
	CK_RV (*open)(const char *arg, void **priv);

	/* Hands the token's objects to the core (p11_token_add_cert and, for
	 * objects without a certificate, p11_token_add_data/key helpers). Called
	 * once per token instance, right after probe()/open(). Results are
	 * cached by the core while the token stays. */
	CK_RV (*load_objects)(void *priv, struct p11_token *tok);

	/* See "Token info and PIN counters" above. */
	CK_RV (*token_info)(void *priv, CK_TOKEN_INFO *info);
	/* Mechanism capacity: key sizes in bits for RSA and EC (0 = none). */
	void (*key_sizes)(void *priv, CK_ULONG *rsa_min, CK_ULONG *rsa_max,
	                  CK_ULONG *ec_min, CK_ULONG *ec_max);

	/* key is the private key object for CKU_CONTEXT_SPECIFIC, else NULL. */
	CK_RV (*login)(void *priv, CK_USER_TYPE user, const struct p11_object *key,
	               const uint8_t *pin, size_t pin_len);
	/* Drops the card's/driver's security status; wipes kept secrets. */
	CK_RV (*logout)(void *priv);
	/* C_SetPIN: user is who is logged in (CKU_SO changes the PUK) or CKU_USER
	 * when nobody is. The driver checks old itself (one try, as login).
	 * NULL: the core answers CKR_TOKEN_WRITE_PROTECTED. */
	CK_RV (*set_pin)(void *priv, CK_USER_TYPE user, const uint8_t *old_pin, size_t old_len,
	                 const uint8_t *new_pin, size_t new_len);
	/* Unblock / set the user PIN with the SO (PUK) logged in. NULL: the core
	 * answers CKR_TOKEN_WRITE_PROTECTED. */
	CK_RV (*init_pin)(void *priv, const uint8_t *new_pin, size_t new_len);

	/* The private-key primitive, see above. key is a CKO_PRIVATE_KEY made by
	 * p11_token_add_cert; read it with p11_object_key_ref/_key_type/_bits. */
	CK_RV (*sign)(void *priv, const struct p11_object *key, const uint8_t *in,
	              size_t in_len, uint8_t *out, size_t *out_len);

	/* Optional: token randomness. NULL: the core uses OpenSSL's RAND_bytes. */
	CK_RV (*random)(void *priv, uint8_t *out, size_t len);

	/* Frees priv (wiping secrets). Called on removal, C_Finalize, fork. */
	void (*release)(void *priv);
};

/* ---- Core services for drivers ------------------------------------------ */

/* Registers a file slot. key identifies it (stable slot ID across
 * re-enumeration, e.g. "efirma:/path/to/name"); description is the slot
 * description (<= 64 chars, truncated); arg is passed to open(). Returns 0,
 * or -1 on allocation failure or when too many slots exist. */
int p11_slot_add_file(const struct p11_driver *drv, const char *key,
                      const char *description, const char *arg);

/* Adds a certificate (DER X.509) and, derived from it, its public key object
 * and, when key != NULL, its private key object, all sharing CKA_ID id
 * (id_len 1..64). Labels default to the holder's name (2.5.4.41 name or CN)
 * and RFC (2.5.4.45): "NOMBRE (RFC)". CKR_OK, CKR_HOST_MEMORY, or
 * CKR_GENERAL_ERROR when the DER does not parse (logged). */
CK_RV p11_token_add_cert(struct p11_token *tok, const uint8_t *der, size_t der_len,
                         const uint8_t *id, size_t id_len, const struct p11_key_spec *key);

uintptr_t p11_object_key_ref(const struct p11_object *key);
CK_KEY_TYPE p11_object_key_type(const struct p11_object *key);  /* CKK_RSA / CKK_EC */
CK_ULONG p11_object_key_bits(const struct p11_object *key);     /* modulus or field bits */

/* "NOMBRE (RFC)" from a DER certificate's subject (2.5.4.41 name or CN, and
 * 2.5.4.45) for a 32-byte token label: the name is shortened (UTF-8 safe)
 * so that " (RFC)" always fits in size - 1 bytes. 0, or -1 when unparsable. */
int p11_cert_token_label(const uint8_t *der, size_t len, char *out, size_t size);

/* Token flags for the PIN counters: tries_left < 0 means unknown (no flag),
 * 0 = locked, 1 = final try, less than max = count low. */
CK_FLAGS p11_pin_flags(int user_left, int user_max, int so_left, int so_max);

/* Copies s into a blank-padded, unterminated Cryptoki text field. */
void p11_pad(CK_UTF8CHAR *field, size_t size, const char *s);
/* Length of the longest prefix of s of at most max bytes that does not end
 * inside a UTF-8 sequence. */
size_t p11_utf8_prefix(const char *s, size_t max);

/* The drivers this module is built with. */
extern const struct p11_driver p11_driver_piv;
extern const struct p11_driver p11_driver_efirma;

#endif
