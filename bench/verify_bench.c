/* verify-bench: libllavero-verify's throughput against raw signature
 * verification with the very same key and message size, in one run
 * (bench/verify-rate.sh runs it beside `openssl speed`).
 *
 * Web eID authentication tokens (verify_webeid_token): the trust store is
 * built once (cached chain, no OCSP); every token carries its own nonce, put
 * into the in-memory nonce store (verify_nonce_store_memory_new, the README's
 * 10000 entries) right before the token is verified and consumed by it.
 * Tokens are signed before the clock starts (a pool, cycled with a new store
 * per pass, since a nonce is single-use; making and freeing that store is
 * left off the clock); the raw reference is one
 * EVP_DigestVerify of the same 2*hash-size message (H(origin) || H(nonce))
 * with the certificate's key, parsed once.
 *
 * WebAuthn assertions (verify_webauthn_authenticate): ES256 and EdDSA
 * credentials generated here, a pool of assertions with their own challenges
 * and growing counters; the raw reference verifies the same
 * authenticatorData || SHA-256(clientDataJSON) (69 bytes) with the same key.
 *
 * Usage: verify-bench --fixtures DIR [--seconds S] [--only NAME]
 * DIR is tests/fixtures/gen-fixtures.sh's output (fisica: RSA-2048 e.firma,
 * ec256: P-256, issued by ca-issuer). Prints one line per case:
 *   CASE name=... alg=... verified=N seconds=S per_sec=X raw_per_sec=Y ratio=R
 */
#include "verify_errors.h"
#include "verify_nonce.h"
#include "verify_trust.h"
#include "verify_webauthn_auth.h"
#include "verify_webeid.h"
#include "verify_cose.h"

#include "base64url.h"
#include "buf.h"
#include "log.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORIGIN "https://llave.bench.invalid"
#define RP_ID "llave.bench.invalid"
#define POOL 256
#define NONCE_CAP 10000

static double seconds = 3.0;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "verify-bench: %s\n", what);
	exit(1);
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!k)
		die(path);
	return k;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!x)
		die(path);
	return x;
}

/* One signature with EVP_DigestSign (md NULL: EdDSA); ECDSA as DER. */
static void sign(EVP_PKEY *k, const char *md, const uint8_t *msg, size_t len,
		 uint8_t **sig, size_t *sig_len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	*sig_len = 0;
	if (!c || EVP_DigestSignInit_ex(c, NULL, md, NULL, NULL, k, NULL) != 1 ||
	    EVP_DigestSign(c, NULL, sig_len, msg, len) != 1 || !(*sig = malloc(*sig_len)) ||
	    EVP_DigestSign(c, *sig, sig_len, msg, len) != 1)
		die("sign");
	EVP_MD_CTX_free(c);
}

/* The raw reference: EVP_DigestVerify of sig over msg with k, as many as fit
 * in the time. */
static double raw_rate(EVP_PKEY *k, const char *md, const uint8_t *msg, size_t len,
		       const uint8_t *sig, size_t sig_len)
{
	long n = 0;
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < 64; i++) {
			EVP_MD_CTX *c = EVP_MD_CTX_new();
			if (!c || EVP_DigestVerifyInit_ex(c, NULL, md, NULL, NULL, k, NULL) != 1 ||
			    EVP_DigestVerify(c, sig, sig_len, msg, len) != 1)
				die("raw verify");
			EVP_MD_CTX_free(c);
			n++;
		}
		t = now_s() - t0;
	} while (t < seconds);
	return (double)n / t;
}

static void report(const char *name, const char *alg, long n, double t, double raw)
{
	double rate = (double)n / t;
	printf("CASE name=%s alg=%s verified=%ld seconds=%.2f per_sec=%.0f raw_per_sec=%.0f ratio=%.3f\n",
	       name, alg, n, t, rate, raw, rate / raw);
	fflush(stdout);
}

/* ---- Web eID ------------------------------------------------------------ */

static char *make_token(X509 *cert, EVP_PKEY *key, const char *alg, const char *md,
			size_t field, const char *nonce)
{
	unsigned char data[128];
	int dlen = verify_webeid_signed_data(alg, ORIGIN, nonce, data);
	uint8_t *sig = NULL, *raw = NULL;
	size_t sig_len = 0;
	if (dlen < 0)
		die("signed data");
	sign(key, md, data, (size_t)dlen, &sig, &sig_len);
	if (field) {   /* ECDSA: DER to raw r||s */
		const unsigned char *p = sig;
		ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
		raw = calloc(1, 2 * field);
		if (!s || !raw || BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, (int)field) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + field, (int)field) < 0)
			die("ecdsa sig");
		ECDSA_SIG_free(s);
		free(sig);
		sig = raw;
		sig_len = 2 * field;
	}
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	char *cert_b64 = llv_base64_encode(der, (size_t)der_len);
	char *sig_b64 = llv_base64_encode(sig, sig_len);
	size_t cap = strlen(cert_b64) + strlen(sig_b64) + 256;
	char *tok = malloc(cap);
	if (!tok)
		die("nomem");
	snprintf(tok, cap,
		 "{\"format\":\"web-eid:1.0\",\"unverifiedCertificate\":\"%s\","
		 "\"algorithm\":\"%s\",\"signature\":\"%s\",\"appVersion\":\"https://llavero.invalid/1.0\"}",
		 cert_b64, alg, sig_b64);
	OPENSSL_free(der);
	free(cert_b64);
	free(sig_b64);
	free(sig);
	return tok;
}

static void bench_webeid(const char *dir, const char *ident, const char *alg, const char *md,
			 size_t field)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s.crt.pem", dir, ident);
	X509 *cert = load_cert(path);
	snprintf(path, sizeof(path), "%s/%s.key.pem", dir, ident);
	EVP_PKEY *key = load_key(path);
	struct verify_trust *trust = verify_trust_new();
	snprintf(path, sizeof(path), "%s/ca-issuer.crt.pem", dir);
	if (!trust || verify_trust_add_file(trust, path) != VERIFY_OK)
		die("trust");

	/* The pool: nonces as verify_nonce_issue makes them, tokens signed. */
	static char nonces[POOL][VERIFY_NONCE_TEXT_MAX];
	static char *tokens[POOL];
	struct verify_nonce_store *gen = verify_nonce_store_memory_new(POOL);
	for (int i = 0; i < POOL; i++) {
		if (verify_nonce_issue(gen, 300, 0, nonces[i], sizeof(nonces[i])) != VERIFY_OK)
			die("nonce");
		tokens[i] = make_token(cert, key, alg, md, field, nonces[i]);
	}
	verify_nonce_store_free(gen);

	struct verify_webeid_opts o = { .origin = ORIGIN, .trust = trust };
	long n = 0;
	double t = 0;
	do {
		/* A fresh store per pass: each nonce is issued once, then spent.
		 * Making and freeing it (a 10000-entry table, wiped) is the
		 * bench's doing, not a server's per-token cost: left off the clock. */
		struct verify_nonce_store *ns = verify_nonce_store_memory_new(NONCE_CAP);
		if (!ns)
			die("store");
		o.nonces = ns;
		double t0 = now_s();
		for (int i = 0; i < POOL; i++) {
			time_t now = time(NULL);
			if (ns->issue(ns->ctx, nonces[i], now, now + 300) != VERIFY_OK)
				die("issue");
			o.nonce = nonces[i];
			struct verify_webeid_result r;
			int rc = verify_webeid_token(tokens[i], strlen(tokens[i]), &o, &r);
			if (rc != VERIFY_OK) {
				fprintf(stderr, "token: %s\n", verify_error_id(rc));
				die("token rejected");
			}
			verify_webeid_result_clear(&r);
			n++;
		}
		t += now_s() - t0;
		verify_nonce_store_free(ns);
	} while (t < seconds);

	/* The reference: same key, same message size, DER signature. */
	unsigned char data[128];
	int dlen = verify_webeid_signed_data(alg, ORIGIN, nonces[0], data);
	uint8_t *sig;
	size_t sig_len;
	sign(key, md, data, (size_t)dlen, &sig, &sig_len);
	double raw = raw_rate(X509_get0_pubkey(cert), md, data, (size_t)dlen, sig, sig_len);
	char name[64];
	snprintf(name, sizeof(name), "webeid-%s", ident);
	report(name, alg, n, t, raw);

	free(sig);
	for (int i = 0; i < POOL; i++)
		free(tokens[i]);
	verify_trust_free(trust);
	EVP_PKEY_free(key);
	X509_free(cert);
}

/* ---- WebAuthn ----------------------------------------------------------- */

struct assertion {
	char *cdj;
	uint8_t ad[37];
	uint8_t chal[32];
	uint8_t *sig;
	size_t sig_len;
};

static void bench_webauthn(const char *alg_name)
{
	bool eddsa = strcmp(alg_name, "EdDSA") == 0;
	const char *md = eddsa ? NULL : "SHA256";
	EVP_PKEY *key = eddsa ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_EC_gen("P-256");
	unsigned char *spki = NULL;
	int spki_len = key ? i2d_PUBKEY(key, &spki) : -1;
	if (spki_len <= 0)
		die("keygen");
	static const char *const origins[] = { ORIGIN };
	struct verify_webauthn_rp rp = { .rp_id = RP_ID, .origins = origins, .n_origins = 1 };
	static struct assertion pool[POOL];
	uint8_t rp_hash[32];
	SHA256((const uint8_t *)RP_ID, strlen(RP_ID), rp_hash);
	for (int i = 0; i < POOL; i++) {
		struct assertion *a = &pool[i];
		RAND_bytes(a->chal, sizeof(a->chal));
		char *c = llv_base64url_encode(a->chal, sizeof(a->chal));
		size_t cap = strlen(c) + 128;
		a->cdj = malloc(cap);
		snprintf(a->cdj, cap,
			 "{\"type\":\"webauthn.get\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}",
			 c, ORIGIN);
		free(c);
		memcpy(a->ad, rp_hash, 32);
		a->ad[32] = VERIFY_AD_UP | VERIFY_AD_UV;
		uint32_t count = (uint32_t)i + 1;
		a->ad[33] = (uint8_t)(count >> 24);
		a->ad[34] = (uint8_t)(count >> 16);
		a->ad[35] = (uint8_t)(count >> 8);
		a->ad[36] = (uint8_t)count;
		uint8_t tbs[37 + 32];
		memcpy(tbs, a->ad, 37);
		SHA256((const uint8_t *)a->cdj, strlen(a->cdj), tbs + 37);
		sign(key, md, tbs, sizeof(tbs), &a->sig, &a->sig_len);
	}
	long n = 0;
	double t0 = now_s(), t;
	do {
		for (int i = 0; i < POOL; i++) {
			struct assertion *a = &pool[i];
			struct verify_webauthn_auth_opts o = {
				.rp = &rp, .challenge = a->chal, .challenge_len = sizeof(a->chal),
				.public_key_spki = spki, .public_key_spki_len = (size_t)spki_len,
				.cose_alg = eddsa ? VERIFY_COSE_EDDSA : VERIFY_COSE_ES256,
				.stored_sign_count = (uint32_t)i,
			};
			struct verify_webauthn_assertion out;
			int rc = verify_webauthn_authenticate((const uint8_t *)a->cdj, strlen(a->cdj),
							      a->ad, sizeof(a->ad), a->sig, a->sig_len,
							      &o, &out);
			if (rc != VERIFY_OK) {
				fprintf(stderr, "assertion: %s\n", verify_error_id(rc));
				die("assertion rejected");
			}
			n++;
		}
		t = now_s() - t0;
	} while (t < seconds);

	uint8_t tbs[37 + 32];
	memcpy(tbs, pool[0].ad, 37);
	SHA256((const uint8_t *)pool[0].cdj, strlen(pool[0].cdj), tbs + 37);
	double raw = raw_rate(key, md, tbs, sizeof(tbs), pool[0].sig, pool[0].sig_len);
	report("webauthn", alg_name, n, t, raw);
	for (int i = 0; i < POOL; i++) {
		free(pool[i].cdj);
		free(pool[i].sig);
	}
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: verify-bench --fixtures DIR [--seconds S] [--only "
					"rs256|es256|wa-es256|wa-eddsa]\n");
			return 2;
		}
	}
	if (!dir || seconds <= 0) {
		fprintf(stderr, "verify-bench: --fixtures DIR is required\n");
		return 2;
	}
	llv_log_set_level(LLV_LOG_ERROR);
	if (!only || strcmp(only, "rs256") == 0)
		bench_webeid(dir, "fisica", "RS256", "SHA256", 0);
	if (!only || strcmp(only, "es256") == 0)
		bench_webeid(dir, "ec256", "ES256", "SHA256", 32);
	if (!only || strcmp(only, "wa-es256") == 0)
		bench_webauthn("ES256");
	if (!only || strcmp(only, "wa-eddsa") == 0)
		bench_webauthn("EdDSA");
	return 0;
}
