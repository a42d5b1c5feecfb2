/* Trusted CA set and chain verification on OpenSSL's X509_STORE. */
#include "verify_trust.h"
#include "verify_errors.h"

#include "atomic_file.h"
#include "log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TRUST_FILE_MAX (4u << 20)
#define CACHE_SLOTS 64

/* Certificates recently seen in tokens (keyed by their exact base64 text)
 * and the chain each verified to. Parsing a certificate with OpenSSL 3 (its
 * key through the decoder framework) and building its chain cost several
 * times the token's signature check; the same people sign in again and
 * again. A cached chain is reused only at a time inside the validity of
 * every certificate in it, so the answer is the one X509_verify_cert would
 * give (the store has no CRLs, and adding a CA empties the cache). */
struct cache_slot {
	char *text;                 /* base64 DER as the token carried it */
	size_t text_len;
	uint64_t hash;
	X509 *leaf;
	STACK_OF(X509) *chain;      /* NULL until verified */
	time_t from, to;            /* the chain holds for from < now < to */
	uint64_t used;              /* LRU clock */
	/* What follows from the leaf's exact bytes alone, worked out once: */
	time_t not_before, not_after;   /* the leaf's own validity ... */
	bool dates_known;               /* ... when it converted */
	bool id_known;                  /* identity extracted (VERIFY_OK only) */
	struct verify_identity id;
	const void *vctx_key;           /* what vctx was set up for */
	EVP_PKEY_CTX *vctx;             /* verify template on the leaf's key */
};

struct trust_cache {
	pthread_mutex_t lock;
	struct cache_slot slot[CACHE_SLOTS];
	uint64_t clock;
};

struct verify_trust {
	X509_STORE *store;
	size_t count;
	struct trust_cache *cache;
};

static void slot_clear(struct cache_slot *c)
{
	free(c->text);
	X509_free(c->leaf);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_CTX_free(c->vctx);
	memset(c, 0, sizeof(*c));
}

static void cache_flush(struct trust_cache *tc)
{
	pthread_mutex_lock(&tc->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&tc->slot[i]);
	pthread_mutex_unlock(&tc->lock);
}

/* A quick filter only (a hit is confirmed with memcmp): the length and the
 * last 128 characters, where certificates differ (key, signature). */
static uint64_t text_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ n;
	for (size_t i = n > 128 ? n - 128 : 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

X509 *verify_trust_cached_cert(const struct verify_trust *t, const char *b64)
{
	if (!t || !t->cache || !b64)
		return NULL;
	struct trust_cache *tc = t->cache;
	size_t n = strlen(b64);
	uint64_t h = text_hash(b64, n);
	X509 *x = NULL;
	pthread_mutex_lock(&tc->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *c = &tc->slot[i];
		if (c->leaf && c->hash == h && c->text_len == n && memcmp(c->text, b64, n) == 0) {
			if (X509_up_ref(c->leaf) == 1)
				x = c->leaf;
			c->used = ++tc->clock;
			break;
		}
	}
	pthread_mutex_unlock(&tc->lock);
	return x;
}

static bool asn1_time_t(const ASN1_TIME *a, time_t *out)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(a, &tm) != 1)
		return false;
	*out = timegm(&tm);
	return true;
}

void verify_trust_cache_cert(const struct verify_trust *t, const char *b64, X509 *cert)
{
	if (!t || !t->cache || !b64 || !cert)
		return;
	struct trust_cache *tc = t->cache;
	size_t n = strlen(b64);
	char *copy = malloc(n + 1);
	if (!copy || X509_up_ref(cert) != 1) {
		free(copy);
		return;
	}
	memcpy(copy, b64, n + 1);
	time_t nb = 0, na = 0;
	bool dates = asn1_time_t(X509_get0_notBefore(cert), &nb) &&
		     asn1_time_t(X509_get0_notAfter(cert), &na);
	ERR_clear_error();
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *victim = &tc->slot[0];
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *c = &tc->slot[i];
		if (!c->leaf) {
			victim = c;
			break;
		}
		if (c->used < victim->used)
			victim = c;
	}
	slot_clear(victim);
	victim->text = copy;
	victim->text_len = n;
	victim->hash = text_hash(b64, n);
	victim->leaf = cert;
	victim->not_before = nb;
	victim->not_after = na;
	victim->dates_known = dates;
	victim->used = ++tc->clock;
	pthread_mutex_unlock(&tc->lock);
}

/* The chain verified earlier for leaf (the very object the cache handed
 * out), when now lies inside it; a copy the caller owns. */
static STACK_OF(X509) *cached_chain(const struct verify_trust *t, X509 *leaf, time_t now)
{
	struct trust_cache *tc = t->cache;
	STACK_OF(X509) *chain = NULL;
	if (!tc)
		return NULL;
	pthread_mutex_lock(&tc->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *c = &tc->slot[i];
		if (c->leaf == leaf) {
			if (c->chain && c->from < now && now < c->to)
				chain = X509_chain_up_ref(c->chain);
			break;
		}
	}
	pthread_mutex_unlock(&tc->lock);
	return chain;
}

static void remember_chain(const struct verify_trust *t, X509 *leaf, STACK_OF(X509) *chain)
{
	struct trust_cache *tc = t->cache;
	if (!tc)
		return;
	/* The window in which every certificate of the chain is valid. */
	time_t from = 0, to = 0;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		time_t nb, na;
		X509 *x = sk_X509_value(chain, i);
		if (!asn1_time_t(X509_get0_notBefore(x), &nb) ||
		    !asn1_time_t(X509_get0_notAfter(x), &na))
			return;
		if (i == 0 || nb > from)
			from = nb;
		if (i == 0 || na < to)
			to = na;
	}
	STACK_OF(X509) *copy = X509_chain_up_ref(chain);
	if (!copy)
		return;
	pthread_mutex_lock(&tc->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *c = &tc->slot[i];
		if (c->leaf == leaf) {
			sk_X509_pop_free(c->chain, X509_free);
			c->chain = copy;
			c->from = from;
			c->to = to;
			copy = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&tc->lock);
	sk_X509_pop_free(copy, X509_free);
}

/* The slot holding leaf (the object the cache handed out), lock held. */
static struct cache_slot *slot_of(struct trust_cache *tc, const X509 *leaf)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (tc->slot[i].leaf && tc->slot[i].leaf == leaf)
			return &tc->slot[i];
	return NULL;
}

bool verify_trust_cached_dates_ok(const struct verify_trust *t, const X509 *leaf, time_t now)
{
	if (!t || !t->cache || !leaf)
		return false;
	struct trust_cache *tc = t->cache;
	bool ok = false;
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *c = slot_of(tc, leaf);
	/* A second's margin each side: at the edges (and for anything that
	 * did not convert) the caller asks X509_cmp_time as before. */
	if (c && c->dates_known && c->not_before < now - 1 && now + 1 < c->not_after)
		ok = true;
	pthread_mutex_unlock(&tc->lock);
	return ok;
}

bool verify_trust_cached_identity(const struct verify_trust *t, const X509 *leaf,
				  struct verify_identity *out)
{
	if (!t || !t->cache || !leaf || !out)
		return false;
	struct trust_cache *tc = t->cache;
	bool hit = false;
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *c = slot_of(tc, leaf);
	if (c && c->id_known) {
		*out = c->id;
		hit = true;
	}
	pthread_mutex_unlock(&tc->lock);
	return hit;
}

void verify_trust_cache_identity(const struct verify_trust *t, const X509 *leaf,
				 const struct verify_identity *id)
{
	if (!t || !t->cache || !leaf || !id)
		return;
	struct trust_cache *tc = t->cache;
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *c = slot_of(tc, leaf);
	if (c) {
		c->id = *id;
		c->id_known = true;
	}
	pthread_mutex_unlock(&tc->lock);
}

EVP_PKEY_CTX *verify_trust_cached_verify_ctx(const struct verify_trust *t, const X509 *leaf,
					     const void *key)
{
	if (!t || !t->cache || !leaf || !key)
		return NULL;
	struct trust_cache *tc = t->cache;
	EVP_PKEY_CTX *dup = NULL;
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *c = slot_of(tc, leaf);
	if (c && c->vctx && c->vctx_key == key)
		dup = EVP_PKEY_CTX_dup(c->vctx);
	pthread_mutex_unlock(&tc->lock);
	return dup;
}

void verify_trust_cache_verify_ctx(const struct verify_trust *t, const X509 *leaf,
				   const void *key, EVP_PKEY_CTX *tmpl)
{
	if (!t || !t->cache || !leaf || !key || !tmpl) {
		EVP_PKEY_CTX_free(tmpl);
		return;
	}
	struct trust_cache *tc = t->cache;
	pthread_mutex_lock(&tc->lock);
	struct cache_slot *c = slot_of(tc, leaf);
	if (c) {
		EVP_PKEY_CTX_free(c->vctx);
		c->vctx = tmpl;
		c->vctx_key = key;
		tmpl = NULL;
	}
	pthread_mutex_unlock(&tc->lock);
	EVP_PKEY_CTX_free(tmpl);
}

struct verify_trust *verify_trust_new(void)
{
	struct verify_trust *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->store = X509_STORE_new();
	t->cache = calloc(1, sizeof(*t->cache));
	if (!t->store || !t->cache) {
		X509_STORE_free(t->store);
		free(t->cache);
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->cache->lock, NULL);
	return t;
}

void verify_trust_free(struct verify_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	if (t->cache) {
		cache_flush(t->cache);
		pthread_mutex_destroy(&t->cache->lock);
		free(t->cache);
	}
	free(t);
}

size_t verify_trust_count(const struct verify_trust *t)
{
	return t ? t->count : 0;
}

int verify_trust_add_x509(struct verify_trust *t, X509 *cert)
{
	if (!t || !cert)
		return VERIFY_ERR_ARGUMENT;
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(t->store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *have = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (have && X509_cmp(have, cert) == 0)
			return VERIFY_OK;
	}
	if (t->cache)
		cache_flush(t->cache);   /* a new anchor may change chains */
	if (X509_STORE_add_cert(t->store, cert) != 1) {
		/* Adding the same certificate twice is not an error. */
		unsigned long e = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
			return VERIFY_ERR_NOMEM;
		return VERIFY_OK;
	}
	t->count++;
	return VERIFY_OK;
}

int verify_trust_add_der(struct verify_trust *t, const uint8_t *der, size_t len)
{
	if (!t || !der || len == 0 || len > TRUST_FILE_MAX)
		return VERIFY_ERR_ARGUMENT;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return VERIFY_ERR_CERT_PARSE;
	}
	int rc = verify_trust_add_x509(t, x);
	X509_free(x);
	return rc;
}

int verify_trust_add_file(struct verify_trust *t, const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!t || !path)
		return VERIFY_ERR_ARGUMENT;
	if (llv_read_file(path, TRUST_FILE_MAX, &data, &len) != 0) {
		llv_error("verify: cannot read trusted certificate file %s", path);
		return VERIFY_ERR_ARGUMENT;
	}
	int rc;
	if (len > 0 && data[0] == 0x30) {
		rc = verify_trust_add_der(t, data, len);
	} else {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		size_t added = 0;
		rc = bio ? VERIFY_OK : VERIFY_ERR_NOMEM;
		X509 *x;
		while (rc == VERIFY_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			rc = verify_trust_add_x509(t, x);
			X509_free(x);
			added++;
		}
		ERR_clear_error();
		BIO_free(bio);
		if (rc == VERIFY_OK && added == 0)
			rc = VERIFY_ERR_CERT_PARSE;
	}
	free(data);
	if (rc != VERIFY_OK)
		llv_error("verify: %s: %s", path, verify_strerror_en(rc));
	return rc;
}

static int map_x509_error(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
		return VERIFY_ERR_CERT_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return VERIFY_ERR_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return VERIFY_ERR_CERT_NOT_YET_VALID;
	default:
		return VERIFY_ERR_CERT_CHAIN;
	}
}

int verify_trust_check(const struct verify_trust *t, X509 *leaf,
		       STACK_OF(X509) *untrusted, time_t now,
		       STACK_OF(X509) **chain_out)
{
	if (chain_out)
		*chain_out = NULL;
	if (!t || !leaf)
		return VERIFY_ERR_ARGUMENT;
	if (t->count == 0) {
		llv_error("verify: no trusted CA certificates configured");
		return VERIFY_ERR_CERT_UNTRUSTED;
	}
	if (now == 0)
		now = time(NULL);
	if (!untrusted) {
		STACK_OF(X509) *chain = cached_chain(t, leaf, now);
		if (chain) {
			if (chain_out)
				*chain_out = chain;
			else
				sk_X509_pop_free(chain, X509_free);
			return VERIFY_OK;
		}
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx)
		return VERIFY_ERR_NOMEM;
	int rc = VERIFY_ERR_INTERNAL;
	if (X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1)
		goto out;
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_depth(param, 8);
	if (X509_verify_cert(ctx) == 1) {
		rc = VERIFY_OK;
		STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(ctx);
		if (!chain) {
			rc = VERIFY_ERR_NOMEM;
		} else {
			if (!untrusted)
				remember_chain(t, leaf, chain);
			if (chain_out)
				*chain_out = chain;
			else
				sk_X509_pop_free(chain, X509_free);
		}
	} else {
		int e = X509_STORE_CTX_get_error(ctx);
		rc = map_x509_error(e);
		llv_info("verify: chain rejected at depth %d: %s",
			 X509_STORE_CTX_get_error_depth(ctx),
			 X509_verify_cert_error_string(e));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}
