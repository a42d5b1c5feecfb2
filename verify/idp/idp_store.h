/* llavero-idp storage: a small interface (users, WebAuthn credentials,
 * sessions, authorization codes, access tokens, nonces, rate-limit counters)
 * so a PostgreSQL backend can follow the SQLite one (idp_store_sqlite.c).
 * Every function returns 0 on success, IDP_STORE_NOT_FOUND when the row does
 * not exist, or -1 on a storage error (logged by the backend). Secrets that
 * identify a bearer (session IDs, codes, access tokens) are stored only as
 * their SHA-256 (hex), so a copy of the database opens no session. */
#ifndef LLAVERO_IDP_STORE_H
#define LLAVERO_IDP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define IDP_STORE_NOT_FOUND 1

struct idp_user {
	int64_t id;
	char username[128];        /* login name (passkey accounts) or RFC */
	char display_name[256];    /* nombre */
	char curp[24];
	char rfc[16];
	char email[256];
	uint8_t handle[32];        /* WebAuthn user.id */
	bool efirma;               /* identity verified with an e.firma */
	char persona[8];           /* "fisica", "moral" (e.firma) or "" */
	char rep_rfc[16];          /* persona moral: legal representative */
	char rep_curp[24];
};

struct idp_credential {
	int64_t user_id;
	uint8_t cred_id[1024];
	size_t cred_id_len;
	uint8_t spki[1024];        /* SubjectPublicKeyInfo DER */
	size_t spki_len;
	long alg;                  /* COSE algorithm */
	uint32_t sign_count;
};

struct idp_session_row {
	char id_hash[65];          /* SHA-256 hex of the cookie value */
	int64_t user_id;           /* 0: nobody signed in */
	char csrf[64];
	time_t expires;
	char *data;                /* JSON text (malloc'd, owned by the caller) */
};

struct idp_code_row {
	char code_hash[65];
	char client_id[128];
	char redirect_uri[1024];
	char code_challenge[128];
	char method[32];           /* how the person signed in: efirma, llave_seguridad */
	int64_t user_id;
	time_t expires;
	bool used;
};

struct idp_token_row {
	char token_hash[65];
	char code_hash[65];
	char client_id[128];
	char method[32];
	int64_t user_id;
	time_t expires;
};

struct idp_store_ops {
	void (*close)(void *ctx);
	/* users */
	int (*user_get)(void *ctx, int64_t id, struct idp_user *out);
	int (*user_by_username)(void *ctx, const char *username, struct idp_user *out);
	int (*user_by_rfc)(void *ctx, const char *rfc, struct idp_user *out);
	int (*user_by_handle)(void *ctx, const uint8_t *handle, size_t len, struct idp_user *out);
	/* Inserts (u->id == 0, sets it) or updates the user. */
	int (*user_put)(void *ctx, struct idp_user *u);
	/* credentials */
	int (*cred_add)(void *ctx, const struct idp_credential *c);
	int (*cred_get)(void *ctx, const uint8_t *cred_id, size_t len, struct idp_credential *out);
	/* Up to max credentials of a user; *n gets how many. */
	int (*cred_list)(void *ctx, int64_t user_id, struct idp_credential *out, size_t max, size_t *n);
	int (*cred_set_count)(void *ctx, const uint8_t *cred_id, size_t len, uint32_t count);
	/* sessions */
	int (*session_get)(void *ctx, const char *id_hash, time_t now, struct idp_session_row *out);
	int (*session_put)(void *ctx, const struct idp_session_row *s);
	int (*session_delete)(void *ctx, const char *id_hash);
	/* authorization codes (single use) */
	int (*code_put)(void *ctx, const struct idp_code_row *c);
	/* Marks the code used and returns it as it was (out->used tells a reuse). */
	int (*code_take)(void *ctx, const char *code_hash, struct idp_code_row *out);
	/* access tokens */
	int (*token_put)(void *ctx, const struct idp_token_row *t);
	int (*token_get)(void *ctx, const char *token_hash, time_t now, struct idp_token_row *out);
	int (*token_revoke_by_code)(void *ctx, const char *code_hash);
	/* nonces: 0, IDP_STORE_NOT_FOUND (unknown), 2 (used), 3 (expired) */
	int (*nonce_put)(void *ctx, const char *nonce, time_t expires);
	int (*nonce_take)(void *ctx, const char *nonce, time_t now);
	/* rate limits: adds one hit to key's counter for the window starting at
	 * window and returns the count after it in *count. */
	int (*rate_hit)(void *ctx, const char *key, time_t window, long *count);
	/* drops expired sessions, codes, tokens, nonces and old counters */
	int (*purge)(void *ctx, time_t now);
};

struct idp_store {
	const struct idp_store_ops *ops;
	void *ctx;
};

#define IDP_NONCE_USED 2
#define IDP_NONCE_EXPIRED 3

/* Opens (creating and migrating) the SQLite database at path. NULL on error. */
struct idp_store *idp_store_sqlite_open(const char *path);
void idp_store_close(struct idp_store *s);

/* SHA-256 hex (65 bytes with NUL) of a bearer secret, for the *_hash keys. */
void idp_store_hash(const char *secret, char out[65]);

#endif
