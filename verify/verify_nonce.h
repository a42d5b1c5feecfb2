/* Single-use challenge nonces with a lifetime, behind a small store interface
 * so a server can keep them in memory (one process), SQLite or anything else.
 * A nonce is 32 random bytes as base64 text (44 characters, as Web eID uses
 * it; the same text is what the authentication token's signature covers). */
#ifndef LLAVERO_VERIFY_NONCE_H
#define LLAVERO_VERIFY_NONCE_H

#include <stddef.h>
#include <time.h>

#define VERIFY_NONCE_BYTES 32
#define VERIFY_NONCE_TEXT_MAX 64   /* buffer size for a nonce's text */

struct verify_nonce_store {
	void *ctx;
	/* Remembers nonce, issued at now, until expires_at. Returns VERIFY_OK
	 * or an error (VERIFY_ERR_NONCE_STORE_FULL, VERIFY_ERR_NOMEM). */
	int (*issue)(void *ctx, const char *nonce, time_t now, time_t expires_at);
	/* Marks nonce used. Returns VERIFY_OK the first time within its
	 * lifetime, else VERIFY_ERR_NONCE_UNKNOWN, _REUSED or _EXPIRED. */
	int (*consume)(void *ctx, const char *nonce, time_t now);
	/* Frees the store (may be NULL for stores owned elsewhere). */
	void (*destroy)(void *ctx);
};

/* Makes a fresh nonce (base64 of VERIFY_NONCE_BYTES random bytes) into out
 * (size outlen >= VERIFY_NONCE_TEXT_MAX), stores it with the given lifetime
 * in seconds (> 0) and returns VERIFY_OK or an error. now = 0: time(NULL). */
int verify_nonce_issue(struct verify_nonce_store *s, long lifetime, time_t now,
		       char *out, size_t outlen);
/* Consumes a nonce; see verify_nonce_store.consume. now = 0: time(NULL). */
int verify_nonce_consume(struct verify_nonce_store *s, const char *nonce, time_t now);

/* In-memory store (thread-safe) holding at most max_entries nonces. A used
 * or expired nonce is remembered for one more lifetime, so a late replay is
 * still told apart from a never-issued nonce. NULL on allocation failure. */
struct verify_nonce_store *verify_nonce_store_memory_new(size_t max_entries);
/* Calls destroy and frees the handle. NULL is fine. */
void verify_nonce_store_free(struct verify_nonce_store *s);

#endif
