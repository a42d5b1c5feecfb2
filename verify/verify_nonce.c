/* Single-use nonces: generation and the in-memory store. */
#include "verify_nonce.h"
#include "verify_errors.h"

#include "base64url.h"
#include "log.h"
#include "secmem.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int verify_nonce_issue(struct verify_nonce_store *s, long lifetime, time_t now,
		       char *out, size_t outlen)
{
	uint8_t raw[VERIFY_NONCE_BYTES];
	if (!s || !s->issue || !out || outlen < VERIFY_NONCE_TEXT_MAX || lifetime <= 0)
		return VERIFY_ERR_ARGUMENT;
	if (now == 0)
		now = time(NULL);
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		llv_error("verify: RAND_bytes failed");
		return VERIFY_ERR_INTERNAL;
	}
	char *text = llv_base64_encode(raw, sizeof(raw));
	if (!text)
		return VERIFY_ERR_NOMEM;
	size_t n = strlen(text);
	if (n >= outlen) {
		free(text);
		return VERIFY_ERR_INTERNAL;
	}
	memcpy(out, text, n + 1);
	free(text);
	int rc = s->issue(s->ctx, out, now, now + lifetime);
	if (rc != VERIFY_OK)
		out[0] = '\0';
	return rc;
}

int verify_nonce_consume(struct verify_nonce_store *s, const char *nonce, time_t now)
{
	if (!s || !s->consume || !nonce)
		return VERIFY_ERR_ARGUMENT;
	if (nonce[0] == '\0' || strlen(nonce) >= VERIFY_NONCE_TEXT_MAX)
		return VERIFY_ERR_NONCE_UNKNOWN;
	if (now == 0)
		now = time(NULL);
	return s->consume(s->ctx, nonce, now);
}

/* ---- in-memory store --------------------------------------------------- */

struct mem_entry {
	char nonce[VERIFY_NONCE_TEXT_MAX];
	time_t issued_at;     /* expires_at - lifetime, for the grace period */
	time_t expires_at;
	bool used;
	bool live;
};

struct mem_store {
	pthread_mutex_t lock;
	struct mem_entry *e;
	size_t cap;
};

/* An entry is forgotten once its lifetime has passed twice. */
static bool mem_forgettable(const struct mem_entry *e, time_t now)
{
	time_t life = e->expires_at - e->issued_at;
	return now > e->expires_at + (life > 0 ? life : 0);
}

static int mem_issue(void *ctx, const char *nonce, time_t now, time_t expires_at)
{
	struct mem_store *m = ctx;
	size_t len = strlen(nonce);
	if (len == 0 || len >= VERIFY_NONCE_TEXT_MAX)
		return VERIFY_ERR_ARGUMENT;
	pthread_mutex_lock(&m->lock);
	struct mem_entry *slot = NULL;
	for (size_t i = 0; i < m->cap; i++) {
		struct mem_entry *e = &m->e[i];
		if (e->live && strcmp(e->nonce, nonce) == 0) {
			pthread_mutex_unlock(&m->lock);
			return VERIFY_ERR_ARGUMENT;   /* never issue twice */
		}
		if (!slot && (!e->live || mem_forgettable(e, now)))
			slot = e;
	}
	if (!slot) {
		pthread_mutex_unlock(&m->lock);
		llv_warn("verify: nonce store full (%zu)", m->cap);
		return VERIFY_ERR_NONCE_STORE_FULL;
	}
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->nonce, nonce, len + 1);
	slot->expires_at = expires_at;
	slot->issued_at = now < expires_at ? now : expires_at;
	slot->live = true;
	pthread_mutex_unlock(&m->lock);
	return VERIFY_OK;
}

static int mem_consume(void *ctx, const char *nonce, time_t now)
{
	struct mem_store *m = ctx;
	size_t len = strlen(nonce);
	int rc = VERIFY_ERR_NONCE_UNKNOWN;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->cap; i++) {
		struct mem_entry *e = &m->e[i];
		if (!e->live || strlen(e->nonce) != len ||
		    llv_ct_memcmp(e->nonce, nonce, len) != 0)
			continue;
		if (e->used)
			rc = VERIFY_ERR_NONCE_REUSED;
		else if (now > e->expires_at)
			rc = VERIFY_ERR_NONCE_EXPIRED;
		else
			rc = VERIFY_OK;
		e->used = true;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static void mem_destroy(void *ctx)
{
	struct mem_store *m = ctx;
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	llv_wipe(m->e, m->cap * sizeof(*m->e));
	free(m->e);
	free(m);
}

struct verify_nonce_store *verify_nonce_store_memory_new(size_t max_entries)
{
	if (max_entries == 0 || max_entries > (1u << 24))
		return NULL;
	struct verify_nonce_store *s = calloc(1, sizeof(*s));
	struct mem_store *m = calloc(1, sizeof(*m));
	if (m)
		m->e = calloc(max_entries, sizeof(*m->e));
	if (!s || !m || !m->e) {
		if (m)
			free(m->e);
		free(m);
		free(s);
		return NULL;
	}
	m->cap = max_entries;
	pthread_mutex_init(&m->lock, NULL);
	s->ctx = m;
	s->issue = mem_issue;
	s->consume = mem_consume;
	s->destroy = mem_destroy;
	return s;
}

void verify_nonce_store_free(struct verify_nonce_store *s)
{
	if (!s)
		return;
	if (s->destroy)
		s->destroy(s->ctx);
	free(s);
}
