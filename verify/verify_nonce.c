/* Single-use nonces: generation and the in-memory store. */
#include "verify_nonce.h"
#include "verify_errors.h"

#include "base64url.h"
#include "log.h"
#include "secmem.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Entries live in a fixed array, indexed by a hash of the nonce text
 * (chained through next) so issue and consume do not scan the whole store:
 * with the README's 10000 entries a scan cost more than a token's RSA
 * signature check (bench/verify-rate.sh). Unused entries are on a free list;
 * when it runs dry, entries whose lifetime has passed twice are swept back. */
#define MEM_NONE UINT32_MAX

struct mem_entry {
	char nonce[VERIFY_NONCE_TEXT_MAX];
	time_t issued_at;     /* expires_at - lifetime, for the grace period */
	time_t expires_at;
	uint32_t hash;
	uint32_t next;        /* next entry in the bucket, or in the free list */
	bool used;
	bool live;
};

struct mem_store {
	pthread_mutex_t lock;
	struct mem_entry *e;
	size_t cap;
	uint32_t *bucket;     /* heads, nbuckets (a power of two) */
	size_t nbuckets;
	uint32_t free_head;
};

/* An entry is forgotten once its lifetime has passed twice. */
static bool mem_forgettable(const struct mem_entry *e, time_t now)
{
	time_t life = e->expires_at - e->issued_at;
	return now > e->expires_at + (life > 0 ? life : 0);
}

static uint32_t mem_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Moves every forgettable entry to the free list. */
static void mem_sweep(struct mem_store *m, time_t now)
{
	for (size_t b = 0; b < m->nbuckets; b++) {
		uint32_t *link = &m->bucket[b];
		while (*link != MEM_NONE) {
			struct mem_entry *e = &m->e[*link];
			uint32_t idx = *link;
			if (mem_forgettable(e, now)) {
				*link = e->next;
				llv_wipe(e, sizeof(*e));
				e->next = m->free_head;
				m->free_head = idx;
			} else {
				link = &e->next;
			}
		}
	}
}

static int mem_issue(void *ctx, const char *nonce, time_t now, time_t expires_at)
{
	struct mem_store *m = ctx;
	size_t len = strlen(nonce);
	if (len == 0 || len >= VERIFY_NONCE_TEXT_MAX)
		return VERIFY_ERR_ARGUMENT;
	uint32_t h = mem_hash(nonce, len);
	pthread_mutex_lock(&m->lock);
	size_t b = h & (m->nbuckets - 1);
	for (uint32_t i = m->bucket[b]; i != MEM_NONE; i = m->e[i].next) {
		if (m->e[i].hash == h && strcmp(m->e[i].nonce, nonce) == 0) {
			pthread_mutex_unlock(&m->lock);
			return VERIFY_ERR_ARGUMENT;   /* never issue twice */
		}
	}
	if (m->free_head == MEM_NONE)
		mem_sweep(m, now);
	if (m->free_head == MEM_NONE) {
		pthread_mutex_unlock(&m->lock);
		llv_warn("verify: nonce store full (%zu)", m->cap);
		return VERIFY_ERR_NONCE_STORE_FULL;
	}
	uint32_t idx = m->free_head;
	struct mem_entry *slot = &m->e[idx];
	m->free_head = slot->next;
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->nonce, nonce, len + 1);
	slot->expires_at = expires_at;
	slot->issued_at = now < expires_at ? now : expires_at;
	slot->live = true;
	slot->hash = h;
	slot->next = m->bucket[b];
	m->bucket[b] = idx;
	pthread_mutex_unlock(&m->lock);
	return VERIFY_OK;
}

static int mem_consume(void *ctx, const char *nonce, time_t now)
{
	struct mem_store *m = ctx;
	size_t len = strlen(nonce);
	uint32_t h = mem_hash(nonce, len);
	int rc = VERIFY_ERR_NONCE_UNKNOWN;
	pthread_mutex_lock(&m->lock);
	for (uint32_t i = m->bucket[h & (m->nbuckets - 1)]; i != MEM_NONE; i = m->e[i].next) {
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
	free(m->bucket);
	free(m);
}

struct verify_nonce_store *verify_nonce_store_memory_new(size_t max_entries)
{
	if (max_entries == 0 || max_entries > (1u << 24))
		return NULL;
	struct verify_nonce_store *s = calloc(1, sizeof(*s));
	struct mem_store *m = calloc(1, sizeof(*m));
	size_t nb = 16;
	while (nb < max_entries)
		nb <<= 1;
	if (m) {
		m->e = calloc(max_entries, sizeof(*m->e));
		m->bucket = malloc(nb * sizeof(*m->bucket));
	}
	if (!s || !m || !m->e || !m->bucket) {
		if (m) {
			free(m->e);
			free(m->bucket);
		}
		free(m);
		free(s);
		return NULL;
	}
	m->cap = max_entries;
	m->nbuckets = nb;
	for (size_t i = 0; i < nb; i++)
		m->bucket[i] = MEM_NONE;
	/* Free list in array order, so entries are used first to last. */
	for (size_t i = 0; i < max_entries; i++)
		m->e[i].next = i + 1 < max_entries ? (uint32_t)(i + 1) : MEM_NONE;
	m->free_head = 0;
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
