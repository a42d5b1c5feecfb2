/* Persistent state as one canonical CBOR map (the vkey section of the state
 * file): device secret, AAGUID, attestation certificates and batch key, PIN
 * hash and retries, signature counter, discoverable credentials. Loading
 * checks everything (types, lengths, that credential IDs unwrap to their
 * keys, that the batch key matches its certificate and the CA issued it)
 * and refuses the whole state with a reason on the first problem. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctap_internal.h"
#include "secmem.h"

#define STATE_VERSION 1

enum {
	K_VERSION = 1, K_SECRET, K_AAGUID, K_CA, K_BATCH_CERT, K_BATCH_KEY, K_PIN_HASH, K_PIN_RETRIES,
	K_COUNTER, K_NEXT_SEQ, K_RKS,
};
enum {
	R_ID = 1, R_ALG, R_PRIV, R_PROTECT, R_HMAC, R_RP_ID, R_RP_NAME, R_USER_ID, R_USER_NAME, R_DISPLAY,
	R_RANDOM0, R_RANDOM1, R_SEQ,
};

static void put_text(struct llv_buf *b, int key, const struct ctap_text *t)
{
	ctap_enc_uint(b, (uint64_t)key);
	ctap_enc_text(b, t->s, t->len);
}

static void put_rk(struct llv_buf *b, const struct ctap_rk *rk)
{
	const struct ctap_cred *c = &rk->cred;

	ctap_enc_map(b, 10 + (size_t)rk->rp_name.present + (size_t)rk->user_name.present +
				(size_t)rk->display_name.present);
	ctap_enc_uint(b, R_ID);
	ctap_enc_bytes(b, c->id, CTAP_CRED_ID_LEN);
	ctap_enc_uint(b, R_ALG);
	ctap_enc_int(b, c->alg);
	ctap_enc_uint(b, R_PRIV);
	ctap_enc_bytes(b, c->priv, 32);
	ctap_enc_uint(b, R_PROTECT);
	ctap_enc_uint(b, c->cred_protect);
	ctap_enc_uint(b, R_HMAC);
	ctap_enc_bool(b, c->hmac_secret);
	put_text(b, R_RP_ID, &rk->rp_id);
	if (rk->rp_name.present)
		put_text(b, R_RP_NAME, &rk->rp_name);
	ctap_enc_uint(b, R_USER_ID);
	ctap_enc_bytes(b, rk->user_id, rk->user_id_len);
	if (rk->user_name.present)
		put_text(b, R_USER_NAME, &rk->user_name);
	if (rk->display_name.present)
		put_text(b, R_DISPLAY, &rk->display_name);
	ctap_enc_uint(b, R_RANDOM0);
	ctap_enc_bytes(b, rk->cred_random[0], 32);
	ctap_enc_uint(b, R_RANDOM1);
	ctap_enc_bytes(b, rk->cred_random[1], 32);
	ctap_enc_uint(b, R_SEQ);
	ctap_enc_uint(b, rk->seq);
}

int ctap_auth_save(const struct ctap_auth *a, struct llv_buf *out)
{
	const struct ctap_persist *p = &a->p;
	size_t nrk = ctap_rk_count(a);

	if (!a->initialised)
		return -1;
	ctap_enc_map(out, 10 + (size_t)p->pin_set);
	ctap_enc_uint(out, K_VERSION);
	ctap_enc_uint(out, STATE_VERSION);
	ctap_enc_uint(out, K_SECRET);
	ctap_enc_bytes(out, p->device_secret, 32);
	ctap_enc_uint(out, K_AAGUID);
	ctap_enc_bytes(out, p->aaguid, 16);
	ctap_enc_uint(out, K_CA);
	ctap_enc_bytes(out, p->ca_cert, p->ca_cert_len);
	ctap_enc_uint(out, K_BATCH_CERT);
	ctap_enc_bytes(out, p->batch_cert, p->batch_cert_len);
	ctap_enc_uint(out, K_BATCH_KEY);
	ctap_enc_bytes(out, p->batch_priv, 32);
	if (p->pin_set) {
		ctap_enc_uint(out, K_PIN_HASH);
		ctap_enc_bytes(out, p->pin_hash, 16);
	}
	ctap_enc_uint(out, K_PIN_RETRIES);
	ctap_enc_uint(out, p->pin_retries);
	ctap_enc_uint(out, K_COUNTER);
	ctap_enc_uint(out, p->counter);
	ctap_enc_uint(out, K_NEXT_SEQ);
	ctap_enc_uint(out, p->next_seq);
	ctap_enc_uint(out, K_RKS);
	ctap_enc_array(out, nrk);
	for (int i = 0; i < CTAP_MAX_RK; i++)
		if (p->rk[i].used)
			put_rk(out, &p->rk[i]);
	return llv_buf_ok(out) ? 0 : -1;
}

/* ---- loading ---- */

struct loader {
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	if (l->err != NULL && l->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int get_bytes(struct loader *l, const cbor_item_t *map, int key, const char *what, uint8_t *dst,
		     size_t min, size_t max, size_t *len)
{
	const cbor_item_t *it = ctap_dec_get(map, key);
	const uint8_t *p;
	size_t n;

	if (it == NULL)
		return fail(l, "%s is missing", what);
	if (ctap_dec_bytes(it, &p, &n) != CTAP2_OK)
		return fail(l, "%s is not a byte string", what);
	if (n < min || n > max)
		return fail(l, "%s has a bad length (%zu bytes)", what, n);
	memcpy(dst, p, n);
	if (len != NULL)
		*len = n;
	return 0;
}

static int get_uint(struct loader *l, const cbor_item_t *map, int key, const char *what, uint64_t max,
		    uint64_t *v)
{
	const cbor_item_t *it = ctap_dec_get(map, key);

	if (it == NULL)
		return fail(l, "%s is missing", what);
	if (ctap_dec_uint(it, v) != CTAP2_OK)
		return fail(l, "%s is not an unsigned integer", what);
	if (*v > max)
		return fail(l, "%s is out of range", what);
	return 0;
}

static int get_text(struct loader *l, const cbor_item_t *map, int key, const char *what, size_t max, bool required,
		    struct ctap_text *t)
{
	const cbor_item_t *it = ctap_dec_get(map, key);

	memset(t, 0, sizeof(*t));
	if (it == NULL)
		return required ? fail(l, "%s is missing", what) : 0;
	if (ctap_dec_text_into(it, t, max, false) != CTAP2_OK)
		return fail(l, "%s is not a text string of at most %zu bytes", what, max);
	return 0;
}

static int load_rk(struct loader *l, const struct ctap_auth *tmp_auth, const cbor_item_t *m, struct ctap_rk *rk,
		   size_t i)
{
	struct ctap_cred c;
	const cbor_item_t *it;
	int64_t alg;
	uint64_t v;
	bool hmac;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (!cbor_isa_map(m))
		return fail(l, "credential %zu is not a map", i);
	rk->used = true;
	if (get_bytes(l, m, R_ID, "credential ID", rk->cred.id, CTAP_CRED_ID_LEN, CTAP_CRED_ID_LEN, NULL) != 0 ||
	    get_bytes(l, m, R_PRIV, "credential key", rk->cred.priv, 32, 32, NULL) != 0 ||
	    get_uint(l, m, R_PROTECT, "credProtect", 3, &v) != 0)
		return -1;
	rk->cred.cred_protect = (uint8_t)v;
	if ((it = ctap_dec_get(m, R_ALG)) == NULL || ctap_dec_int(it, &alg) != CTAP2_OK ||
	    (alg != COSE_ES256 && alg != COSE_EDDSA))
		return fail(l, "credential %zu has a missing or unknown algorithm", i);
	rk->cred.alg = (int32_t)alg;
	if ((it = ctap_dec_get(m, R_HMAC)) == NULL || ctap_dec_bool(it, &hmac) != CTAP2_OK)
		return fail(l, "credential %zu has no hmac-secret flag", i);
	rk->cred.hmac_secret = hmac;
	rk->cred.resident = true;
	if (get_text(l, m, R_RP_ID, "RP ID", CTAP_RP_ID_MAX, true, &rk->rp_id) != 0 ||
	    get_text(l, m, R_RP_NAME, "RP name", CTAP_NAME_MAX, false, &rk->rp_name) != 0 ||
	    get_bytes(l, m, R_USER_ID, "user ID", rk->user_id, 0, CTAP_USER_ID_MAX, &rk->user_id_len) != 0 ||
	    get_text(l, m, R_USER_NAME, "user name", CTAP_NAME_MAX, false, &rk->user_name) != 0 ||
	    get_text(l, m, R_DISPLAY, "display name", CTAP_NAME_MAX, false, &rk->display_name) != 0 ||
	    get_bytes(l, m, R_RANDOM0, "CredRandom", rk->cred_random[0], 32, 32, NULL) != 0 ||
	    get_bytes(l, m, R_RANDOM1, "CredRandom", rk->cred_random[1], 32, 32, NULL) != 0 ||
	    get_uint(l, m, R_SEQ, "credential sequence number", UINT64_MAX - 1, &rk->seq) != 0)
		return -1;
	ctap_sha256(rk->rp_id.s, rk->rp_id.len, rk->cred.rp_id_hash);
	if (ctap_cred_unwrap(tmp_auth, rk->cred.id, CTAP_CRED_ID_LEN, rk->cred.rp_id_hash, &c) != 0)
		fail(l, "credential %zu does not belong to this device or RP", i);
	else if (!c.resident || c.alg != rk->cred.alg || c.cred_protect != rk->cred.cred_protect ||
		 c.hmac_secret != rk->cred.hmac_secret || CRYPTO_memcmp(c.priv, rk->cred.priv, 32) != 0)
		fail(l, "credential %zu does not match its ID", i);
	else if (rk->cred.alg == COSE_ES256 && ctap_key_p256_point(rk->cred.priv, (uint8_t[65]){ 0 }) != 0)
		fail(l, "credential %zu has an invalid key", i);
	else
		rc = 0;
	OPENSSL_cleanse(&c, sizeof(c));
	return rc;
}

static int load_map(struct loader *l, const cbor_item_t *m, struct ctap_auth *tmp)
{
	struct ctap_persist *p = &tmp->p;
	const cbor_item_t *rks;
	uint64_t v;

	if (!cbor_isa_map(m))
		return fail(l, "the state is not a CBOR map");
	if (get_uint(l, m, K_VERSION, "format version", UINT64_MAX, &v) != 0)
		return -1;
	if (v != STATE_VERSION)
		return fail(l, "unsupported state format version %llu", (unsigned long long)v);
	if (get_bytes(l, m, K_SECRET, "device secret", p->device_secret, 32, 32, NULL) != 0 ||
	    get_bytes(l, m, K_AAGUID, "AAGUID", p->aaguid, 16, 16, NULL) != 0 ||
	    get_bytes(l, m, K_CA, "attestation CA certificate", p->ca_cert, 1, CTAP_CERT_MAX, &p->ca_cert_len) != 0 ||
	    get_bytes(l, m, K_BATCH_CERT, "batch certificate", p->batch_cert, 1, CTAP_CERT_MAX, &p->batch_cert_len) != 0 ||
	    get_bytes(l, m, K_BATCH_KEY, "batch key", p->batch_priv, 32, 32, NULL) != 0)
		return -1;
	if (ctap_dec_get(m, K_PIN_HASH) != NULL) {
		if (get_bytes(l, m, K_PIN_HASH, "PIN hash", p->pin_hash, 16, 16, NULL) != 0)
			return -1;
		p->pin_set = true;
	}
	if (get_uint(l, m, K_PIN_RETRIES, "PIN retries", CTAP_PIN_RETRIES, &v) != 0)
		return -1;
	p->pin_retries = (uint8_t)v;
	if (get_uint(l, m, K_COUNTER, "signature counter", UINT32_MAX, &v) != 0)
		return -1;
	p->counter = (uint32_t)v;
	if (get_uint(l, m, K_NEXT_SEQ, "next sequence number", UINT64_MAX, &p->next_seq) != 0)
		return -1;
	if (ctap_attestation_check(p) != 0)
		return fail(l, "the attestation key, batch certificate and CA certificate do not match");
	if ((rks = ctap_dec_get(m, K_RKS)) == NULL || !cbor_isa_array(rks))
		return fail(l, "the credential list is missing");
	if (cbor_array_size(rks) > CTAP_MAX_RK)
		return fail(l, "too many credentials (%zu, at most %d)", cbor_array_size(rks), CTAP_MAX_RK);
	for (size_t i = 0; i < cbor_array_size(rks); i++) {
		struct ctap_rk *rk = &p->rk[i];

		if (load_rk(l, tmp, cbor_array_handle(rks)[i], rk, i) != 0)
			return -1;
		if (rk->seq >= p->next_seq)
			return fail(l, "credential %zu has a sequence number beyond the next one", i);
		for (size_t j = 0; j < i; j++) {
			if (memcmp(p->rk[j].cred.id, rk->cred.id, CTAP_CRED_ID_LEN) == 0)
				return fail(l, "credential %zu is a duplicate", i);
			if (memcmp(p->rk[j].cred.rp_id_hash, rk->cred.rp_id_hash, 32) == 0 &&
			    p->rk[j].user_id_len == rk->user_id_len &&
			    memcmp(p->rk[j].user_id, rk->user_id, rk->user_id_len) == 0)
				return fail(l, "credential %zu repeats an RP and user", i);
		}
	}
	return 0;
}

int ctap_auth_load(struct ctap_auth *a, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct loader l = { err, errlen };
	struct ctap_auth *tmp;
	cbor_item_t *m = NULL;
	int rc = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (data == NULL || len == 0)
		return fail(&l, "the vkey state is empty");
	if (ctap_dec_load(data, len, &m) != CTAP2_OK)
		return fail(&l, "the vkey state is not well-formed CBOR");
	tmp = llv_secure_alloc(sizeof(*tmp));
	if (tmp == NULL) {
		cbor_decref(&m);
		return fail(&l, "out of memory");
	}
	if (load_map(&l, m, tmp) == 0) {
		memcpy(&a->p, &tmp->p, sizeof(a->p));
		a->initialised = true;
		ctap_auth_power_cycle(a);
		a->dirty = false;
		rc = 0;
	}
	llv_secure_free(tmp, sizeof(*tmp));
	cbor_decref(&m);
	return rc;
}
