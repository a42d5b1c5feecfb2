/* Web eID authentication token verification. */
#include "verify_webeid.h"
#include "verify_cert.h"
#include "verify_errors.h"

#include "base64url.h"
#include "json.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX (64u << 10)
#define SIGNING_CERTS_MAX 8
#define SIG_MAX 1024           /* longest signature accepted (RSA-8192) */

enum alg_kind { ALG_RSA_PKCS1, ALG_RSA_PSS, ALG_ECDSA };

struct token_alg {
	const char *name;
	const char *md;
	int hidx;              /* 0 SHA-256, 1 SHA-384, 2 SHA-512 */
	enum alg_kind kind;
	const char *group;     /* ECDSA curve */
	size_t field;          /* ECDSA coordinate size */
};

static const struct token_alg algs[] = {
	{ "RS256", "SHA256", 0, ALG_RSA_PKCS1, NULL, 0 },
	{ "RS384", "SHA384", 1, ALG_RSA_PKCS1, NULL, 0 },
	{ "RS512", "SHA512", 2, ALG_RSA_PKCS1, NULL, 0 },
	{ "PS256", "SHA256", 0, ALG_RSA_PSS, NULL, 0 },
	{ "PS384", "SHA384", 1, ALG_RSA_PSS, NULL, 0 },
	{ "PS512", "SHA512", 2, ALG_RSA_PSS, NULL, 0 },
	{ "ES256", "SHA256", 0, ALG_ECDSA, "prime256v1", 32 },
	{ "ES384", "SHA384", 1, ALG_ECDSA, "secp384r1", 48 },
	{ "ES512", "SHA512", 2, ALG_ECDSA, "secp521r1", 66 },
};

static const struct token_alg *find_alg(const char *name)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

bool verify_origin_valid(const char *o)
{
	const char *host;
	if (!o)
		return false;
	if (strncmp(o, "https://", 8) == 0)
		host = o + 8;
	else if (strncmp(o, "http://localhost", 16) == 0 || strncmp(o, "http://127.0.0.1", 16) == 0)
		host = o + 7;
	else
		return false;
	size_t hl = strcspn(host, ":");
	if (hl == 0 || hl > 253)
		return false;
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)host[i];
		if (!(islower(c) || isdigit(c) || c == '-' || c == '.'))
			return false;
	}
	if (strncmp(o, "http://", 7) == 0 && hl != 9)   /* "localhost" / "127.0.0.1" */
		return false;
	const char *port = host + hl;
	if (*port == '\0')
		return true;
	port++;
	size_t pl = strlen(port);
	if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl || port[0] == '0')
		return false;
	return atol(port) <= 65535;
}

static const size_t hash_len[3] = { 32, 48, 64 };

/* One hash with the algorithm's function, the EVP_MD fetched once per
 * process (SHA256() and EVP_Digest by name fetch it on every call, which
 * cost several times the hashing of these few bytes). */
static EVP_MD *hash_md[3];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_fetch(void)
{
	static const char *const names[3] = { "SHA256", "SHA384", "SHA512" };
	for (int i = 0; i < 3; i++)
		hash_md[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static bool hash(int hidx, const void *d, size_t n, unsigned char *out)
{
	pthread_once(&hash_once, hash_fetch);
	return hash_md[hidx] && EVP_Digest(d, n, out, NULL, hash_md[hidx], NULL) == 1;
}

/* H(origin) for the server's origin, remembered per thread and hash while
 * the origin text stays the same (a server has one or a few origins). */
#define ORIGIN_CACHE_MAX 256
struct origin_hash {
	size_t len;            /* 0: empty */
	char text[ORIGIN_CACHE_MAX];
	unsigned char h[64];
};
static _Thread_local struct origin_hash origin_cache[3];

static bool origin_hash(int hidx, const char *origin, unsigned char *out)
{
	struct origin_hash *c = &origin_cache[hidx];
	size_t n = strlen(origin);
	if (n > 0 && n == c->len && memcmp(c->text, origin, n) == 0) {
		memcpy(out, c->h, hash_len[hidx]);
		return true;
	}
	c->len = 0;
	if (!hash(hidx, origin, n, out))
		return false;
	if (n > 0 && n < ORIGIN_CACHE_MAX) {
		memcpy(c->text, origin, n);
		memcpy(c->h, out, hash_len[hidx]);
		c->len = n;
	}
	return true;
}

static int signed_data(const struct token_alg *a, const char *origin, const char *nonce,
		       unsigned char out[128])
{
	size_t l = hash_len[a->hidx];
	if (!origin_hash(a->hidx, origin, out) || !hash(a->hidx, nonce, strlen(nonce), out + l))
		return -1;
	return (int)(2 * l);
}

int verify_webeid_signed_data(const char *algorithm, const char *origin,
			      const char *nonce, unsigned char out[128])
{
	const struct token_alg *a = algorithm ? find_alg(algorithm) : NULL;
	if (!a || !origin || !nonce)
		return -1;
	return signed_data(a, origin, nonce, out);
}

/* Does the key fit the algorithm? */
static bool key_fits(EVP_PKEY *pk, const struct token_alg *a)
{
	if (a->kind != ALG_ECDSA)
		return EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) >= 2048;
	char group[32];
	size_t gl = 0;
	return EVP_PKEY_is_a(pk, "EC") &&
	       EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
					      sizeof(group), &gl) == 1 &&
	       strcmp(group, a->group) == 0;
}

/* Raw r||s to DER. */
static int ecdsa_raw_to_der(const uint8_t *sig, size_t len, size_t field,
			    unsigned char **der, int *der_len)
{
	if (len != 2 * field)
		return -1;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)field, NULL);
	BIGNUM *ss = BN_bin2bn(sig + field, (int)field, NULL);
	if (!s || !r || !ss || ECDSA_SIG_set0(s, r, ss) != 1) {
		BN_free(r);
		BN_free(ss);
		ECDSA_SIG_free(s);
		return -1;
	}
	*der = NULL;
	*der_len = i2d_ECDSA_SIG(s, der);
	ECDSA_SIG_free(s);
	return *der_len > 0 ? 0 : -1;
}

/* RSA PKCS#1 v1.5: a well-formed signature by this key over another digest
 * means the token was made for another origin or nonce. */
static bool rsa_signed_other(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *sig, size_t len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	unsigned char out[512];
	size_t outlen = sizeof(out);
	bool other = c && EVP_PKEY_verify_recover_init(c) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(c, md) == 1 &&
		     EVP_PKEY_verify_recover(c, out, &outlen, sig, len) == 1 &&
		     outlen == (size_t)EVP_MD_get_size(md);
	EVP_PKEY_CTX_free(c);
	return other;
}

/* A context set up to verify a's signatures with pk (the digest is passed
 * in: H(H(origin) || H(nonce))), or NULL. */
static EVP_PKEY_CTX *new_verify_ctx(EVP_PKEY *pk, const struct token_alg *a)
{
	EVP_MD *md = EVP_MD_fetch(NULL, a->md, NULL);
	EVP_PKEY_CTX *c = md ? EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL) : NULL;
	int ok = c && EVP_PKEY_verify_init(c) == 1;
	if (ok && a->kind == ALG_RSA_PKCS1)
		ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
	if (ok && a->kind == ALG_RSA_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_PKEY_CTX_set_signature_md(c, md) == 1;
	EVP_MD_free(md);
	if (!ok) {
		EVP_PKEY_CTX_free(c);
		return NULL;
	}
	return c;
}

/* The signature check: EVP_PKEY_verify of the hash of the rebuilt signed
 * data (what EVP_DigestVerify does) with a context duplicated from the
 * template kept beside the cached certificate (verify_trust.h), so the key's
 * provider set-up is not redone per token. */
static int check_signature(const struct verify_trust *t, X509 *cert, const struct token_alg *a,
			   const char *origin, const char *nonce, const uint8_t *sig,
			   size_t sig_len)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	unsigned char data[128], dgst[64];
	int dlen = signed_data(a, origin, nonce, data);
	unsigned char *der = NULL;
	int der_len = 0;
	const uint8_t *s = sig;
	size_t sl = sig_len;
	int rc = VERIFY_ERR_TOKEN_SIGNATURE;
	EVP_PKEY_CTX *pc = NULL;
	if (!pk || dlen < 0 || !hash(a->hidx, data, (size_t)dlen, dgst)) {
		rc = VERIFY_ERR_INTERNAL;
		goto out;
	}
	if (a->kind == ALG_ECDSA) {
		if (ecdsa_raw_to_der(sig, sig_len, a->field, &der, &der_len) != 0)
			goto out;
		s = der;
		sl = (size_t)der_len;
	}
	pc = verify_trust_cached_verify_ctx(t, cert, a);
	if (!pc) {
		if (!(pc = new_verify_ctx(pk, a))) {
			rc = VERIFY_ERR_INTERNAL;
			goto out;
		}
		verify_trust_cache_verify_ctx(t, cert, a, EVP_PKEY_CTX_dup(pc));
	}
	if (EVP_PKEY_verify(pc, s, sl, dgst, hash_len[a->hidx]) == 1)
		rc = VERIFY_OK;
	if (rc != VERIFY_OK && a->kind == ALG_RSA_PKCS1) {
		EVP_MD *md = EVP_MD_fetch(NULL, a->md, NULL);
		if (md && rsa_signed_other(pk, md, sig, sig_len))
			rc = VERIFY_ERR_TOKEN_ORIGIN_MISMATCH;
		EVP_MD_free(md);
	}
out:
	EVP_PKEY_CTX_free(pc);
	OPENSSL_free(der);
	ERR_clear_error();
	return rc;
}

static int b64_cert(const char *text, X509 **out)
{
	uint8_t *der = NULL;
	size_t len = 0;
	*out = NULL;
	if (llv_base64_decode(text, strlen(text), &der, &len) != 0)
		return VERIFY_ERR_TOKEN_BASE64;
	*out = verify_cert_parse_der(der, len);
	free(der);
	return *out ? VERIFY_OK : VERIFY_ERR_CERT_PARSE;
}

/* web-eid:1.1 signing certificates: well-formed, same holder and issuer as
 * the authentication certificate. */
static int check_signing_certs(const json_t *arr, X509 *auth, size_t *count)
{
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > SIGNING_CERTS_MAX)
		return VERIFY_ERR_TOKEN_SIGNING_CERTS;
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		const char *c = NULL;
		json_t *algs_arr = json_object_get(item, "supportedSignatureAlgorithms");
		if (!json_is_object(item) || llv_json_get_str(item, "certificate", &c) != 0 ||
		    !json_is_array(algs_arr) || json_array_size(algs_arr) == 0)
			return VERIFY_ERR_TOKEN_SIGNING_CERTS;
		size_t j;
		json_t *alg;
		json_array_foreach(algs_arr, j, alg) {
			const char *x;
			if (!json_is_object(alg) || llv_json_get_str(alg, "cryptoAlgorithm", &x) != 0 ||
			    llv_json_get_str(alg, "hashFunction", &x) != 0 ||
			    llv_json_get_str(alg, "paddingScheme", &x) != 0)
				return VERIFY_ERR_TOKEN_SIGNING_CERTS;
		}
		X509 *sc = NULL;
		if (b64_cert(c, &sc) != VERIFY_OK)
			return VERIFY_ERR_TOKEN_SIGNING_CERTS;
		bool same = X509_NAME_cmp(X509_get_subject_name(sc), X509_get_subject_name(auth)) == 0 &&
			    X509_NAME_cmp(X509_get_issuer_name(sc), X509_get_issuer_name(auth)) == 0;
		X509_free(sc);
		if (!same)
			return VERIFY_ERR_TOKEN_SIGNING_CERTS;
	}
	*count = json_array_size(arr);
	return VERIFY_OK;
}

/* A token is almost always a flat object of plain strings ({"format":
 * "web-eid:1.0", "unverifiedCertificate": "MII...", ...}); jansson's
 * character-at-a-time parse of it cost as much as the RSA signature check
 * (bench/verify-rate.sh). This reads exactly that subset of JSON: one
 * object, keys and values strings of printable ASCII with no escapes, JSON
 * whitespace, no duplicate keys, nothing after the object. Anything else
 * (escapes, non-ASCII, numbers, nesting, web-eid:1.1's array, duplicates,
 * trailing bytes) goes to jansson, so what is accepted and refused is what
 * jansson accepts and refuses. */
#define FLAT_KEYS 16

struct flat {
	char *buf;
	const char *key[FLAT_KEYS];
	const char *val[FLAT_KEYS];
	size_t n;
};

static size_t flat_ws(const char *b, size_t i, size_t len)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	return i;
}

/* Does any of the 8 bytes in x need a closer look: a control character
 * (< 0x20), DEL or beyond (>= 0x7f), '"' or '\\'? (Exact as a yes/no.) */
static bool flat_special8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
	uint64_t lt20 = (x - ones * 0x20) & ~x;              /* byte < 0x20 */
	uint64_t ge7f = ((x & ~high) + ones) | x;            /* byte >= 0x7f */
	uint64_t zq = (q - ones) & ~q, zbs = (bs - ones) & ~bs;
	return ((lt20 | ge7f | zq | zbs) & high) != 0;
}

/* The plain string starting at b[*i] ('"'), NUL-terminated in place. */
static const char *flat_str(char *b, size_t *i, size_t len)
{
	if (*i >= len || b[*i] != '"')
		return NULL;
	size_t j = *i + 1;
	const char *s = b + j;
	for (;;) {
		/* Eight plain characters at a time (a certificate is ~2 KB). */
		while (j + 8 <= len) {
			uint64_t x;
			memcpy(&x, b + j, 8);
			if (flat_special8(x))
				break;
			j += 8;
		}
		size_t stop = j + 8 <= len ? j + 8 : len;
		for (; j < stop; j++) {
			unsigned char c = (unsigned char)b[j];
			if (c == '"')
				goto end;
			if (c < 0x20 || c >= 0x7f || c == '\\')
				return NULL;
		}
		if (j >= len)
			return NULL;
	}
end:
	b[j] = '\0';
	*i = j + 1;
	return s;
}

/* 1: parsed into *f; 0: not in the subset (use jansson); -1: no memory. */
static int flat_parse(const char *json, size_t len, struct flat *f)
{
	memset(f, 0, sizeof(*f));
	if (!(f->buf = malloc(len + 1)))
		return -1;
	memcpy(f->buf, json, len);
	f->buf[len] = '\0';
	char *b = f->buf;
	size_t i = flat_ws(b, 0, len);
	if (i >= len || b[i] != '{')
		return 0;
	i = flat_ws(b, i + 1, len);
	if (i < len && b[i] == '}') {
		i++;
	} else {
		for (;;) {
			const char *k = flat_str(b, &i, len);
			if (!k || f->n == FLAT_KEYS || strcmp(k, "unverifiedSigningCertificates") == 0)
				return 0;
			i = flat_ws(b, i, len);
			if (i >= len || b[i] != ':')
				return 0;
			i = flat_ws(b, i + 1, len);
			const char *v = flat_str(b, &i, len);
			if (!v)
				return 0;
			for (size_t j = 0; j < f->n; j++)
				if (strcmp(f->key[j], k) == 0)
					return 0;
			f->key[f->n] = k;
			f->val[f->n] = v;
			f->n++;
			i = flat_ws(b, i, len);
			if (i < len && b[i] == ',') {
				i = flat_ws(b, i + 1, len);
				continue;
			}
			if (i < len && b[i] == '}') {
				i++;
				break;
			}
			return 0;
		}
	}
	return flat_ws(b, i, len) == len ? 1 : 0;
}

static int flat_get(const struct flat *f, const char *key, const char **out)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0) {
			*out = f->val[i];
			return 0;
		}
	return -1;
}

/* A string field from whichever parse read the token. */
static int get_str(const struct flat *f, const json_t *root, const char *key, const char **out)
{
	return root ? llv_json_get_str(root, key, out) : flat_get(f, key, out);
}

void verify_webeid_result_clear(struct verify_webeid_result *r)
{
	if (!r)
		return;
	X509_free(r->certificate);
	sk_X509_pop_free(r->chain, X509_free);
	memset(r, 0, sizeof(*r));
}

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int verify_webeid_token(const char *json, size_t len, const struct verify_webeid_opts *o,
			struct verify_webeid_result *out)
{
	if (!out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!o || !o->trust || !o->nonce || !o->origin)
		return VERIFY_ERR_ARGUMENT;
	if (!verify_origin_valid(o->origin)) {
		llv_error("verify: server origin '%s' is not a valid origin", o->origin);
		return VERIFY_ERR_ORIGIN;
	}
	time_t now = o->now ? o->now : time(NULL);
	int rc;
	/* The nonce is spent whatever the token holds (as Web eID does). */
	if (o->nonces) {
		rc = verify_nonce_consume(o->nonces, o->nonce, now);
		if (rc != VERIFY_OK)
			return rc;
	}
	if (!json || len == 0 || len > TOKEN_MAX || memchr(json, 0, len))
		return VERIFY_ERR_TOKEN_JSON;

	char err[128];
	struct flat fl;
	json_t *root = NULL;
	int fp = flat_parse(json, len, &fl);
	if (fp < 0) {
		free(fl.buf);
		return VERIFY_ERR_NOMEM;
	}
	if (fp == 0) {
		free(fl.buf);
		fl.buf = NULL;
		root = llv_json_parse_object(json, len, TOKEN_MAX, err, sizeof(err));
		if (!root) {
			llv_info("verify: token: %s", err);
			return VERIFY_ERR_TOKEN_JSON;
		}
	}
	const char *format = NULL, *cert_b64 = NULL, *alg_name = NULL, *sig_b64 = NULL,
		   *app = NULL;
	X509 *cert = NULL;
	uint8_t sig[SIG_MAX];
	size_t sig_len = 0;
	const struct token_alg *alg = NULL;
	bool v11 = false;

	rc = VERIFY_ERR_TOKEN_FORMAT;
	if (get_str(&fl, root, "format", &format) != 0)
		goto out;
	if (strcmp(format, "web-eid:1.0") == 0 || strcmp(format, "web-eid:1") == 0)
		v11 = false;
	else if (strcmp(format, "web-eid:1.1") == 0)
		v11 = true;
	else
		goto out;
	rc = VERIFY_ERR_TOKEN_FIELD;
	if (get_str(&fl, root, "unverifiedCertificate", &cert_b64) != 0 ||
	    get_str(&fl, root, "algorithm", &alg_name) != 0 ||
	    get_str(&fl, root, "signature", &sig_b64) != 0 ||
	    get_str(&fl, root, "appVersion", &app) != 0 ||
	    copy_str(out->format, sizeof(out->format), format) != 0 ||
	    copy_str(out->app_version, sizeof(out->app_version), app) != 0)
		goto out;
	/* (a flat parse never holds the 1.1 array: see flat_parse) */
	if (v11 && !(root && json_object_get(root, "unverifiedSigningCertificates")))
		goto out;
	rc = VERIFY_ERR_TOKEN_ALGORITHM;
	if (!(alg = find_alg(alg_name)))
		goto out;
	strcpy(out->algorithm, alg->name);
	rc = VERIFY_ERR_TOKEN_BASE64;
	if (llv_base64_decode_buf(sig_b64, strlen(sig_b64), sig, sizeof(sig), &sig_len) != 0 ||
	    sig_len == 0)
		goto out;
	/* A certificate seen before is not parsed again (verify_trust.h). */
	cert = verify_trust_cached_cert(o->trust, cert_b64);
	if (!cert) {
		rc = b64_cert(cert_b64, &cert);
		if (rc != VERIFY_OK)
			goto out;
		verify_trust_cache_cert(o->trust, cert_b64, cert);
	}
	if (v11) {
		rc = check_signing_certs(json_object_get(root, "unverifiedSigningCertificates"),
					 cert, &out->n_signing_certificates);
		if (rc != VERIFY_OK)
			goto out;
	}
	/* Every token's time is checked against the certificate's dates (read
	 * once per cached certificate; at the edges by X509_cmp_time). */
	if (!verify_trust_cached_dates_ok(o->trust, cert, now)) {
		rc = verify_cert_dates(cert, now);
		if (rc != VERIFY_OK)
			goto out;
	}
	rc = verify_cert_auth_profile(cert, !o->allow_csd, !o->skip_client_auth_eku);
	if (rc != VERIFY_OK)
		goto out;
	rc = VERIFY_ERR_TOKEN_ALG_MISMATCH;
	if (!X509_get0_pubkey(cert) || !key_fits(X509_get0_pubkey(cert), alg))
		goto out;
	rc = verify_trust_check(o->trust, cert, NULL, now, &out->chain);
	if (rc != VERIFY_OK)
		goto out;
	rc = check_signature(o->trust, cert, alg, o->origin, o->nonce, sig, sig_len);
	if (rc != VERIFY_OK)
		goto out;
	if (o->ocsp) {
		if (sk_X509_num(out->chain) < 2) {
			llv_error("verify: OCSP needs the issuer; the leaf itself is trusted");
			rc = VERIFY_ERR_ARGUMENT;
			goto out;
		}
		rc = verify_ocsp_check(cert, sk_X509_value(out->chain, 1), o->ocsp, now);
		if (rc != VERIFY_OK)
			goto out;
	}
	/* The identity follows from the certificate's bytes alone. */
	if (!verify_trust_cached_identity(o->trust, cert, &out->identity)) {
		rc = verify_identity_from_cert(cert, &out->identity);
		if (rc != VERIFY_OK)
			goto out;
		verify_trust_cache_identity(o->trust, cert, &out->identity);
	}
	out->certificate = cert;
	cert = NULL;
out:
	if (rc != VERIFY_OK) {
		llv_info("verify: token rejected: %s", verify_error_id(rc));
		verify_webeid_result_clear(out);
	}
	X509_free(cert);
	json_decref(root);
	free(fl.buf);
	return rc;
}
