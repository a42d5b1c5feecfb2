/* p11_internal.h: the core's shared state (slots, tokens, sessions, objects)
 * and the helpers the p11_*.c files use among themselves. Not for drivers:
 * they see token_driver.h only.
 *
 * Locking: g_p11.lock (short) guards the slot and session tables and handle
 * counters; each slot's lock is held while a driver runs for that slot and
 * while a session of that slot is used. Order: slot lock, then g_p11.lock.
 * Slots are never freed before C_Finalize, so a slot pointer stays valid;
 * a session is freed only with both its slot lock and g_p11.lock held. */
#ifndef LLAVERO_PKCS11_P11_INTERNAL_H
#define LLAVERO_PKCS11_P11_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "buf.h"
#include "p11_cryptoki.h"
#include "token_driver.h"

#define P11_MAX_SLOTS 64
#define P11_NO_USER ((CK_USER_TYPE)0xFFFFFFFFUL)

#define P11_MANUFACTURER "Llavero"
#define P11_LIBRARY_DESCRIPTION "Llavero PKCS#11 (PIV, e.firma)"

/* ---- mutexes: the application's, or pthread ------------------------------ */
struct p11_mutex;
CK_RV p11_mutex_new(struct p11_mutex **m);
void p11_mutex_free(struct p11_mutex *m);
void p11_lock(struct p11_mutex *m);
void p11_unlock(struct p11_mutex *m);

/* ---- objects --------------------------------------------------------------- */
struct p11_attr {
	CK_ATTRIBUTE_TYPE type;
	void *value;
	CK_ULONG len;
};

struct p11_object {
	CK_OBJECT_HANDLE handle;
	CK_OBJECT_CLASS cls;
	bool private_obj;          /* visible only with CKU_USER logged in */
	struct p11_attr *attrs;
	size_t nattrs;
	/* keys */
	CK_KEY_TYPE key_type;
	CK_ULONG bits;             /* RSA modulus bits, EC field bits */
	bool always_auth;
	bool can_sign;
	uintptr_t drv_ref;
	EVP_PKEY *pub;             /* public key (for verify and sizes) */
};

/* Attribute that is never revealed (private key material). */
bool p11_attr_is_sensitive(const struct p11_object *o, CK_ATTRIBUTE_TYPE type);
const struct p11_attr *p11_object_attr(const struct p11_object *o, CK_ATTRIBUTE_TYPE type);
void p11_object_free(struct p11_object *o);
/* Does o match the template (every attribute present with equal bytes)? */
bool p11_object_match(const struct p11_object *o, const CK_ATTRIBUTE *templ, CK_ULONG count);
/* C_GetAttributeValue on one object (spec 5.7 semantics). */
CK_RV p11_object_get_attrs(const struct p11_object *o, CK_ATTRIBUTE *templ, CK_ULONG count);

/* ---- tokens and slots ------------------------------------------------------ */
struct p11_token {
	struct p11_slot *slot;
	const struct p11_driver *drv;
	void *priv;
	struct p11_object **objs;
	size_t nobjs;
	CK_USER_TYPE user;          /* P11_NO_USER, CKU_USER, CKU_SO */
	CK_ULONG rsa_min, rsa_max, ec_min, ec_max;
};

struct p11_card;

struct p11_slot {
	CK_SLOT_ID id;
	char *key;                  /* reader name, or the file driver's key */
	char description[65];
	bool is_file;
	const struct p11_driver *file_drv;
	char *file_arg;
	bool listed;                /* the reader is there now (files: always) */
	struct p11_mutex *lock;
	/* card state (reader slots) */
	struct p11_card *card;
	bool card_present;
	bool unrecognized;          /* card in, no driver claims it */
	unsigned long pcsc_state;   /* last dwEventState seen (for presence) */
	struct p11_token *token;
	unsigned long token_gen;    /* bumped each time the token goes away */
	/* C_WaitForSlotEvent: state last reported to the application */
	bool reported_present;
	unsigned long reported_gen;
	bool event_pending;
};

/* ---- sessions -------------------------------------------------------------- */
struct p11_sign_op {
	CK_MECHANISM_TYPE mech;
	struct p11_object *key;
	bool verify;                /* a C_VerifyInit operation */
	const EVP_MD *md;           /* hash the core computes (NULL: raw input) */
	EVP_MD_CTX *mdctx;
	struct llv_buf data;        /* raw mechanisms: data gathered so far */
	bool multipart;             /* C_SignUpdate was called */
	CK_MECHANISM_TYPE pss_hash; /* PSS parameters */
	CK_RSA_PKCS_MGF_TYPE pss_mgf;
	CK_ULONG pss_salt;
	bool context_login;         /* CKU_CONTEXT_SPECIFIC done for this op */
};

struct p11_session {
	CK_SESSION_HANDLE handle;
	struct p11_slot *slot;
	unsigned long token_gen;     /* the token this session was opened on */
	CK_FLAGS flags;
	struct p11_session *next;
	/* C_FindObjects */
	bool find_active;
	CK_OBJECT_HANDLE *found;
	size_t nfound, pos;
	/* C_Sign* / C_Verify* */
	struct p11_sign_op *sign;
	struct p11_sign_op *verify;
};

/* ---- global state -------------------------------------------------------- */
struct p11_global {
	atomic_bool initialized;
	pid_t pid;
	struct p11_mutex *lock;
	bool app_mutexes;
	CK_C_INITIALIZE_ARGS args;
	struct p11_slot *slots[P11_MAX_SLOTS];
	size_t nslots;
	CK_SLOT_ID next_slot_id;
	struct p11_session *sessions;
	CK_SESSION_HANDLE next_session;
	CK_OBJECT_HANDLE next_object;
	atomic_bool finalizing;
	atomic_int waiters;
};

extern struct p11_global g_p11;

CK_RV p11_get_info_version(CK_INFO_PTR pInfo, CK_BYTE major, CK_BYTE minor);

/* Is the library initialized in this process? (fork: a child is not) */
bool p11_ready(void);

/* p11_slots.c */
CK_RV p11_slots_init(void);
void p11_slots_finalize(bool forked);
/* The start of every slot function: CKR_CRYPTOKI_NOT_INITIALIZED before
 * C_Initialize, CKR_SLOT_ID_INVALID for an unknown ID, then
 * CKR_ARGUMENTS_BAD unless args_ok. On CKR_OK *out is the slot, not locked
 * (no lock needed: slots live until C_Finalize). */
CK_RV p11_slot_lookup(CK_SLOT_ID id, bool args_ok, struct p11_slot **out);
/* With the slot lock held: makes slot->token current (probes a new card,
 * drops a gone one). CKR_OK with a token, CKR_TOKEN_NOT_PRESENT,
 * CKR_TOKEN_NOT_RECOGNIZED, CKR_DEVICE_ERROR. */
CK_RV p11_slot_token(struct p11_slot *slot, bool check_presence);
/* With the slot lock held: the driver said CKR_DEVICE_REMOVED; drop the token. */
void p11_slot_drop_token(struct p11_slot *slot);
/* Turns a driver result into the session's answer; drops the token on removal. */
CK_RV p11_slot_driver_rv(struct p11_slot *slot, CK_RV rv);

/* p11_sessions.c */
/* Finds a live session and locks its slot. On CKR_OK the caller holds
 * (*out)->slot->lock and must call p11_session_release(). */
CK_RV p11_session_acquire(CK_SESSION_HANDLE h, struct p11_session **out);
void p11_session_release(struct p11_session *s);
/* For the functions that only check the session: p11_session_acquire's
 * error, else answer (the session is released again). */
CK_RV p11_session_check(CK_SESSION_HANDLE h, CK_RV answer);
/* With the slot lock held: frees every session of slot (token gone). */
void p11_sessions_close_slot(struct p11_slot *slot, bool lock_global);
size_t p11_sessions_count(const struct p11_slot *slot, bool rw_only);
void p11_sessions_free_all(void);
void p11_sign_op_free(struct p11_sign_op *op);
/* Ends the session's operation *op (sign or verify): frees it, *op = NULL. */
void p11_sign_op_end(struct p11_sign_op **op);

/* p11_objects.c */
/* Object by handle on the session's token, honouring visibility. */
struct p11_object *p11_token_object(struct p11_token *tok, CK_OBJECT_HANDLE h);
bool p11_object_visible(const struct p11_token *tok, const struct p11_object *o);
void p11_token_free(struct p11_token *tok);

/* p11_mechs.c */
CK_RV p11_mech_info(const struct p11_token *tok, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
size_t p11_mech_list(const struct p11_token *tok, CK_MECHANISM_TYPE *out, size_t max);

/* p11_padding.c: encoders for the private-key primitive (unit tested). */
/* PKCS#1 v1.5 type 1: 00 01 FF.. 00 || in (in is a DigestInfo or raw). */
int p11_pad_pkcs1_type1(const uint8_t *in, size_t in_len, uint8_t *out, size_t k);
/* DigestInfo for md over a hash of md's size. */
int p11_digest_info(const EVP_MD *md, const uint8_t *hash, size_t hash_len, struct llv_buf *out);
/* EMSA-PSS with MGF1 (OpenSSL's encoder), mhash of hash's size; modulus of
 * bits; salt_len bytes. out is k = ceil(bits/8) bytes. */
int p11_pad_pss(EVP_PKEY *pub, const EVP_MD *hash, const EVP_MD *mgf1,
                const uint8_t *mhash, size_t salt_len, uint8_t *out, size_t k);
const EVP_MD *p11_md_of_mech(CK_MECHANISM_TYPE hash_mech);
const EVP_MD *p11_md_of_mgf(CK_RSA_PKCS_MGF_TYPE mgf);

#endif
