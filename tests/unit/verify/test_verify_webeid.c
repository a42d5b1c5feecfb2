/* Web eID authentication tokens made here with OpenSSL from the generated
 * SAT-shaped identities (and SAT's test e.firma when present): the good ones
 * verify, every tampering case is refused with its own code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vt_util.h"
#include "base64url.h"
#include "verify_errors.h"
#include "verify_webeid.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORIGIN "https://llave.pruebas.invalid"

struct ctx {
	struct verify_trust *trust;
	struct verify_nonce_store *nonces;
	char nonce[VERIFY_NONCE_TEXT_MAX];
	struct verify_webeid_opts opts;
};

static int setup(void **state)
{
	if (!vt_fixtures())
		return -1;
	struct ctx *c = calloc(1, sizeof(*c));
	c->trust = verify_trust_new();
	assert_int_equal(verify_trust_add_file(c->trust, vt_fix("ca-issuer.crt.pem")), VERIFY_OK);
	c->nonces = verify_nonce_store_memory_new(64);
	assert_int_equal(verify_nonce_issue(c->nonces, 300, 0, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	c->opts.origin = ORIGIN;
	c->opts.nonce = c->nonce;
	c->opts.nonces = c->nonces;
	c->opts.trust = c->trust;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	verify_trust_free(c->trust);
	verify_nonce_store_free(c->nonces);
	free(c);
	return 0;
}

/* Token for identity `who` (fixture base name) with alg, verified with c->opts. */
static int run(struct ctx *c, const char *who, const char *format, const char *alg,
	       const char *sign_origin, struct verify_webeid_result *res)
{
	char cert_name[64], key_name[64];
	snprintf(cert_name, sizeof(cert_name), "%s.crt.pem", who);
	snprintf(key_name, sizeof(key_name), "%s.key.pem", who);
	X509 *cert = vt_load_cert(vt_fix(cert_name));
	EVP_PKEY *key = vt_load_key(vt_fix(key_name), NULL);
	assert_non_null(cert);
	assert_non_null(key);
	char *tok = vt_token(format, cert, key, alg, sign_origin, c->nonce);
	assert_non_null(tok);
	int rc = verify_webeid_token(tok, strlen(tok), &c->opts, res);
	free(tok);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static void test_fisica_rs256(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_OK);
	assert_int_equal(r.identity.persona, VERIFY_PERSONA_FISICA);
	assert_string_equal(r.identity.rfc, "PEPJ800101AB1");
	assert_string_equal(r.identity.curp, "PEPJ800101HDFRRN09");
	assert_string_equal(r.identity.name, "JUAN PEREZ PRUEBA");
	assert_string_equal(r.identity.serial, "30001000000900000001");
	assert_string_equal(r.algorithm, "RS256");
	assert_non_null(r.certificate);
	assert_int_equal(sk_X509_num(r.chain), 2);
	verify_webeid_result_clear(&r);
}

static void test_moral_ps256_v11(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "moral", "web-eid:1.1", "PS256", ORIGIN, &r), VERIFY_OK);
	assert_int_equal(r.identity.persona, VERIFY_PERSONA_MORAL);
	assert_string_equal(r.identity.rfc, "EPL010101AB2");
	assert_string_equal(r.identity.rep_rfc, "MALM850505QX3");
	assert_string_equal(r.identity.rep_curp, "MALM850505MDFRPR07");
	assert_string_equal(r.identity.curp, "");
	assert_string_equal(r.format, "web-eid:1.1");
	assert_int_equal(r.n_signing_certificates, 1);
	verify_webeid_result_clear(&r);
}

static void test_ec256_es256(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "ec256", "web-eid:1.0", "ES256", ORIGIN, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
}

static void test_ec384_es384(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "ec384", "web-eid:1.1", "ES384", ORIGIN, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
}

static void test_rs512(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "fisica", "web-eid:1.0", "RS512", ORIGIN, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
}

static void test_wrong_origin_rsa(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "fisica", "web-eid:1.0", "RS256", "https://phishing.invalid", &r),
			 VERIFY_ERR_TOKEN_ORIGIN_MISMATCH);
	assert_null(r.certificate);
}

static void test_wrong_origin_ecdsa(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "ec256", "web-eid:1.0", "ES256", "https://phishing.invalid", &r),
			 VERIFY_ERR_TOKEN_SIGNATURE);
}

static void test_server_origin_invalid(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.origin = "https://llave.pruebas.invalid/path";
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", c->opts.origin, &r), VERIFY_ERR_ORIGIN);
	assert_false(verify_origin_valid("http://evil.example"));
	assert_false(verify_origin_valid("https://UPPER.example"));
	assert_false(verify_origin_valid("https://a.example:99999"));
	assert_true(verify_origin_valid("http://localhost:8080"));
	assert_true(verify_origin_valid("https://a.example:8443"));
}

static void test_reused_nonce(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_NONCE_REUSED);
}

static void test_expired_nonce(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.now = time(NULL) + 301;
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_NONCE_EXPIRED);
}

static void test_unknown_nonce(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	strcpy(c->nonce, "bm90LWlzc3VlZC1ieS10aGlzLXNlcnZlcg==");
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_NONCE_UNKNOWN);
}

static void test_expired_cert(void **state)
{
	struct verify_webeid_result r;
	assert_int_equal(run(*state, "expired", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_EXPIRED);
}

static void test_csd_cert(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	assert_int_equal(run(c, "csd", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_CSD);
	/* Even when CSDs are let through, it lacks clientAuth. */
	assert_int_equal(verify_nonce_issue(c->nonces, 300, 0, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	c->opts.allow_csd = true;
	assert_int_equal(run(c, "csd", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_EKU);
}

static void test_unknown_ca(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	/* Only the root is trusted: the issuing CA is not configured. */
	struct verify_trust *t = verify_trust_new();
	assert_int_equal(verify_trust_add_file(t, vt_fix("ca-root.crt.pem")), VERIFY_OK);
	c->opts.trust = t;
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_UNTRUSTED);
	verify_trust_free(t);
	/* Nothing configured at all. */
	t = verify_trust_new();
	c->opts.trust = t;
	assert_int_equal(verify_nonce_issue(c->nonces, 300, 0, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_UNTRUSTED);
	verify_trust_free(t);
}

/* Takes a good token, lets `edit` change its JSON, and verifies. */
static int run_edited(struct ctx *c, void (*edit)(json_t *), const char *alg)
{
	X509 *cert = vt_load_cert(vt_fix("fisica.crt.pem"));
	EVP_PKEY *key = vt_load_key(vt_fix("fisica.key.pem"), NULL);
	char *tok = vt_token("web-eid:1.0", cert, key, alg, ORIGIN, c->nonce);
	json_t *o = json_loads(tok, 0, NULL);
	edit(o);
	char *t2 = json_dumps(o, JSON_COMPACT);
	struct verify_webeid_result r;
	int rc = verify_webeid_token(t2, strlen(t2), &c->opts, &r);
	verify_webeid_result_clear(&r);
	free(t2);
	json_decref(o);
	free(tok);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static void flip_signature(json_t *o)
{
	char *s = strdup(json_string_value(json_object_get(o, "signature")));
	s[10] = s[10] == 'A' ? 'B' : 'A';
	json_object_set_new(o, "signature", json_string(s));
	free(s);
}
static void bad_base64(json_t *o) { json_object_set_new(o, "signature", json_string("@@not base64@@")); }
static void bad_cert_base64(json_t *o) { json_object_set_new(o, "unverifiedCertificate", json_string("MII%")); }
static void bad_cert_der(json_t *o) { json_object_set_new(o, "unverifiedCertificate", json_string("MIIBAAAA")); }
static void alg_es256(json_t *o) { json_object_set_new(o, "algorithm", json_string("ES256")); }
static void alg_hs256(json_t *o) { json_object_set_new(o, "algorithm", json_string("HS256")); }
static void alg_ps256(json_t *o) { json_object_set_new(o, "algorithm", json_string("PS256")); }
static void format_v2(json_t *o) { json_object_set_new(o, "format", json_string("web-eid:2")); }
static void no_app_version(json_t *o) { json_object_del(o, "appVersion"); }
static void sig_number(json_t *o) { json_object_set_new(o, "signature", json_integer(5)); }
static void v11_without_certs(json_t *o) { json_object_set_new(o, "format", json_string("web-eid:1.1")); }
static void v11_bad_certs(json_t *o)
{
	json_object_set_new(o, "format", json_string("web-eid:1.1"));
	json_object_set_new(o, "unverifiedSigningCertificates", json_pack("[{s:s}]", "certificate", "AAAA"));
}

static void test_bad_signature(void **state)
{
	assert_int_equal(run_edited(*state, flip_signature, "RS256"), VERIFY_ERR_TOKEN_SIGNATURE);
}

static void test_wrong_algorithm(void **state)
{
	struct ctx *c = *state;
	c->opts.nonces = NULL;   /* one nonce for several tokens */
	assert_int_equal(run_edited(c, alg_es256, "RS256"), VERIFY_ERR_TOKEN_ALG_MISMATCH);
	assert_int_equal(run_edited(c, alg_hs256, "RS256"), VERIFY_ERR_TOKEN_ALGORITHM);
	/* RS256 signature presented as PS256. */
	assert_int_equal(run_edited(c, alg_ps256, "RS256"), VERIFY_ERR_TOKEN_SIGNATURE);
}

static void test_malformed(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.nonces = NULL;   /* parse errors, not nonce bookkeeping */
	assert_int_equal(verify_webeid_token("{\"format\":", 10, &c->opts, &r), VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(verify_webeid_token("[1,2]", 5, &c->opts, &r), VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(verify_webeid_token("", 0, &c->opts, &r), VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(verify_webeid_token("{\"a\":1}\0x", 9, &c->opts, &r), VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(verify_webeid_token("{}", 2, &c->opts, &r), VERIFY_ERR_TOKEN_FORMAT);
	assert_int_equal(run_edited(c, bad_base64, "RS256"), VERIFY_ERR_TOKEN_BASE64);
	assert_int_equal(run_edited(c, bad_cert_base64, "RS256"), VERIFY_ERR_TOKEN_BASE64);
	assert_int_equal(run_edited(c, bad_cert_der, "RS256"), VERIFY_ERR_CERT_PARSE);
	assert_int_equal(run_edited(c, format_v2, "RS256"), VERIFY_ERR_TOKEN_FORMAT);
	assert_int_equal(run_edited(c, no_app_version, "RS256"), VERIFY_ERR_TOKEN_FIELD);
	assert_int_equal(run_edited(c, sig_number, "RS256"), VERIFY_ERR_TOKEN_FIELD);
	assert_int_equal(run_edited(c, v11_without_certs, "RS256"), VERIFY_ERR_TOKEN_FIELD);
	assert_int_equal(run_edited(c, v11_bad_certs, "RS256"), VERIFY_ERR_TOKEN_SIGNING_CERTS);
}

/* The same token as different JSON texts: the flat fast path (plain
 * strings) and jansson (escapes, whitespace, unknown members) agree on what
 * is accepted; duplicates and trailing bytes are refused either way. */
static int run_text(struct ctx *c, const char *who, const char *fmt_text, bool keep_nonce)
{
	char cert_name[64], key_name[64];
	snprintf(cert_name, sizeof(cert_name), "%s.crt.pem", who);
	snprintf(key_name, sizeof(key_name), "%s.key.pem", who);
	X509 *cert = vt_load_cert(vt_fix(cert_name));
	EVP_PKEY *key = vt_load_key(vt_fix(key_name), NULL);
	char *tok = vt_token("web-eid:1.0", cert, key, "RS256", ORIGIN, c->nonce);
	json_t *o = json_loads(tok, 0, NULL);
	assert_non_null(o);
	const char *cb = json_string_value(json_object_get(o, "unverifiedCertificate"));
	const char *sg = json_string_value(json_object_get(o, "signature"));
	/* fmt_text names the certificate %s first, then the signature %s */
	size_t cap = strlen(fmt_text) + strlen(cb) + strlen(sg) + 1;
	char *text = malloc(cap), *w = text;
	const char *subst[2] = { cb, sg };
	int k = 0;
	for (const char *p = fmt_text; *p; p++) {
		if (p[0] == '%' && p[1] == 's' && k < 2) {
			strcpy(w, subst[k]);
			w += strlen(subst[k++]);
			p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	assert_int_equal(k, 2);
	struct verify_webeid_result r;
	if (!keep_nonce)
		c->opts.nonces = NULL;
	int rc = verify_webeid_token(text, strlen(text), &c->opts, &r);
	verify_webeid_result_clear(&r);
	free(text);
	json_decref(o);
	free(tok);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static void test_token_texts(void **state)
{
	struct ctx *c = *state;
#define F "\"format\":\"web-eid:1.0\""
#define A "\"algorithm\":\"RS256\""
#define V "\"appVersion\":\"https://web-eid.eu/web-eid-app/releases/2.5.0+0\""
	/* fast path, with the nonce spent */
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V "}", true),
			 VERIFY_OK);
	/* whitespace, unknown string members: still the fast path */
	assert_int_equal(run_text(c, "fisica", " \r\n{ " F " ,\t\"unverifiedCertificate\" : \"%s\" , " A ",\"signature\":\"%s\"," V
				  ",\"x\":\"\"} \n", false), VERIFY_OK);
	/* escapes, numbers, nesting, non-ASCII: jansson */
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\","
				  "\"appVersion\":\"https:\\/\\/web-eid.eu\\u002f\",\"n\":[1,{\"a\":null}],\"\u00f1\":\"\u00f1\"}", false),
			 VERIFY_OK);
	/* an escaped field name is the same name */
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\",\"algo\\u0072ithm\":\"RS256\",\"signature\":\"%s\"," V "}", false),
			 VERIFY_OK);
	/* duplicates (plain or escaped), trailing bytes, a second object */
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A "," A ",\"signature\":\"%s\"," V "}", false),
			 VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"algorith\\u006d\":\"ES256\",\"signature\":\"%s\"," V "}", false),
			 VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V "}x", false),
			 VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V "}{}", false),
			 VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V ",}", false),
			 VERIFY_ERR_TOKEN_JSON);
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V, false),
			 VERIFY_ERR_TOKEN_JSON);
	/* a control character inside a string is not JSON */
	assert_int_equal(run_text(c, "fisica", "{" F ",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\",\"appVersion\":\"a\tb\"}", false),
			 VERIFY_ERR_TOKEN_JSON);
	/* web-eid:1.1 needs its array: a flat 1.1 token lacks a field */
	assert_int_equal(run_text(c, "fisica", "{\"format\":\"web-eid:1.1\",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V "}", false),
			 VERIFY_ERR_TOKEN_FIELD);
	assert_int_equal(run_text(c, "fisica", "{\"format\":\"web-eid:1.1\",\"unverifiedCertificate\":\"%s\"," A ",\"signature\":\"%s\"," V
				  ",\"unverifiedSigningCertificates\":\"x\"}", false),
			 VERIFY_ERR_TOKEN_SIGNING_CERTS);
#undef F
#undef A
#undef V
}

static void test_sat_efirma(void **state)
{
	struct ctx *c = *state;
	const char *sat = vt_sat_dir();
	if (!sat)
		skip();
	char p[1200];
	struct verify_trust *t = verify_trust_new();
	snprintf(p, sizeof(p), "%s/ca/AC_UAT_2022.crt", sat);
	assert_int_equal(verify_trust_add_file(t, p), VERIFY_OK);
	snprintf(p, sizeof(p), "%s/ca/ARC_UAT_2022.crt", sat);
	assert_int_equal(verify_trust_add_file(t, p), VERIFY_OK);
	snprintf(p, sizeof(p), "%s/fiel-EKU9003173C9/EKU9003173C9.cer", sat);
	X509 *cert = vt_load_cert(p);
	snprintf(p, sizeof(p), "%s/fiel-EKU9003173C9/EKU9003173C9.key", sat);
	EVP_PKEY *key = vt_load_key(p, "12345678a");
	assert_non_null(cert);
	assert_non_null(key);
	c->opts.trust = t;
	c->opts.now = 1735689600;   /* 2025-01-01: inside the SAT test certificate's validity */
	assert_int_equal(verify_nonce_issue(c->nonces, 300, c->opts.now, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	char *tok = vt_token("web-eid:1.1", cert, key, "RS256", ORIGIN, c->nonce);
	struct verify_webeid_result r;
	assert_int_equal(verify_webeid_token(tok, strlen(tok), &c->opts, &r), VERIFY_OK);
	assert_int_equal(r.identity.persona, VERIFY_PERSONA_MORAL);
	assert_string_equal(r.identity.rfc, "EKU9003173C9");
	assert_string_equal(r.identity.rep_rfc, "VADA800927DJ3");
	assert_string_equal(r.identity.rep_curp, "VADA800927HSRSRL05");
	assert_string_equal(r.identity.name, "ESCUELA KEMPER URGATE SA DE CV");
	verify_webeid_result_clear(&r);
	free(tok);

	/* The SAT CSD of the same taxpayer is refused. */
	snprintf(p, sizeof(p), "%s/csd-EKU9003173C9/EKU9003173C9.cer", sat);
	X509 *csd = vt_load_cert(p);
	snprintf(p, sizeof(p), "%s/csd-EKU9003173C9/EKU9003173C9.key", sat);
	EVP_PKEY *csd_key = vt_load_key(p, "12345678a");
	assert_non_null(csd);
	assert_non_null(csd_key);
	assert_int_equal(verify_nonce_issue(c->nonces, 300, c->opts.now, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	tok = vt_token("web-eid:1.0", csd, csd_key, "RS256", ORIGIN, c->nonce);
	assert_int_equal(verify_webeid_token(tok, strlen(tok), &c->opts, &r), VERIFY_ERR_CERT_CSD);
	free(tok);

	/* The generated identities do not chain to SAT's CA. */
	assert_int_equal(verify_nonce_issue(c->nonces, 300, c->opts.now, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	c->opts.now = 0;
	assert_int_equal(verify_nonce_issue(c->nonces, 300, 0, c->nonce, sizeof(c->nonce)), VERIFY_OK);
	assert_int_equal(run(c, "fisica", "web-eid:1.0", "RS256", ORIGIN, &r), VERIFY_ERR_CERT_UNTRUSTED);

	X509_free(csd);
	EVP_PKEY_free(csd_key);
	X509_free(cert);
	EVP_PKEY_free(key);
	verify_trust_free(t);
}

/* ---- what is cached beside a certificate (verify_trust.h) ---------------- */

static time_t asn1_time(const ASN1_TIME *a)
{
	struct tm tm;
	assert_int_equal(ASN1_TIME_to_tm(a, &tm), 1);
	return timegm(&tm);
}

static int verify_at(struct ctx *c, const char *tok, time_t now, struct verify_webeid_result *r)
{
	c->opts.now = now;
	int rc = verify_webeid_token(tok, strlen(tok), &c->opts, r);
	c->opts.now = 0;
	return rc;
}

/* A cached certificate's dates are checked for every token: out of its
 * validity it is refused as before, exactly at the edges too, and in it the
 * cache serves again. */
static void test_cache_dates(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.nonces = NULL;   /* one nonce for tokens at other times */
	X509 *cert = vt_load_cert(vt_fix("fisica.crt.pem"));
	EVP_PKEY *key = vt_load_key(vt_fix("fisica.key.pem"), NULL);
	char *tok = vt_token("web-eid:1.0", cert, key, "RS256", ORIGIN, c->nonce);
	time_t nb = asn1_time(X509_get0_notBefore(cert)), na = asn1_time(X509_get0_notAfter(cert));
	time_t mid = nb + (na - nb) / 2;

	assert_int_equal(verify_at(c, tok, mid, &r), VERIFY_OK);   /* now cached */
	verify_webeid_result_clear(&r);
	assert_int_equal(verify_at(c, tok, na + 1, &r), VERIFY_ERR_CERT_EXPIRED);
	assert_int_equal(verify_at(c, tok, na + 86400 * 365, &r), VERIFY_ERR_CERT_EXPIRED);
	assert_int_equal(verify_at(c, tok, na, &r), VERIFY_ERR_CERT_EXPIRED);
	assert_null(r.certificate);
	assert_int_equal(verify_at(c, tok, nb - 1, &r), VERIFY_ERR_CERT_NOT_YET_VALID);
	assert_int_equal(verify_at(c, tok, nb - 86400, &r), VERIFY_ERR_CERT_NOT_YET_VALID);
	assert_int_equal(verify_at(c, tok, na - 1, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
	assert_int_equal(verify_at(c, tok, nb, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
	assert_int_equal(verify_at(c, tok, mid, &r), VERIFY_OK);
	assert_string_equal(r.identity.rfc, "PEPJ800101AB1");
	verify_webeid_result_clear(&r);
	/* The cached dates answer "valid" only strictly inside, with a second
	 * to spare; everything else goes to X509_cmp_time (and the chain check
	 * refuses an expired leaf on its own as well). */
	size_t der_len = 0;
	uint8_t *der = vt_cert_der(cert, &der_len);
	char *b64 = llv_base64_encode(der, der_len);
	X509 *cached = verify_trust_cached_cert(c->trust, b64);
	assert_non_null(cached);
	assert_true(verify_trust_cached_dates_ok(c->trust, cached, mid));
	assert_true(verify_trust_cached_dates_ok(c->trust, cached, na - 2));
	assert_true(verify_trust_cached_dates_ok(c->trust, cached, nb + 2));
	assert_false(verify_trust_cached_dates_ok(c->trust, cached, na - 1));
	assert_false(verify_trust_cached_dates_ok(c->trust, cached, na));
	assert_false(verify_trust_cached_dates_ok(c->trust, cached, na + 1));
	assert_false(verify_trust_cached_dates_ok(c->trust, cached, nb + 1));
	assert_false(verify_trust_cached_dates_ok(c->trust, cached, nb - 1));
	assert_false(verify_trust_cached_dates_ok(c->trust, cert, mid));   /* not the cached object */
	X509_free(cached);
	free(b64);
	OPENSSL_free(der);
	/* The expired fixture, cached by a first refusal, stays refused. */
	X509 *old = vt_load_cert(vt_fix("expired.crt.pem"));
	EVP_PKEY *old_key = vt_load_key(vt_fix("expired.key.pem"), NULL);
	char *old_tok = vt_token("web-eid:1.0", old, old_key, "RS256", ORIGIN, c->nonce);
	for (int i = 0; i < 3; i++)
		assert_int_equal(verify_at(c, old_tok, 0, &r), VERIFY_ERR_CERT_EXPIRED);
	free(old_tok);
	X509_free(old);
	EVP_PKEY_free(old_key);
	free(tok);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* A second certificate with the very same subject (another key and serial,
 * same issuer) gets nothing of the first one's cache: not its identity, not
 * its verify context; and the first is still served right afterwards. */
static void test_cache_same_subject(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.nonces = NULL;
	X509 *cert = vt_load_cert(vt_fix("fisica.crt.pem"));
	EVP_PKEY *key = vt_load_key(vt_fix("fisica.key.pem"), NULL);
	EVP_PKEY *ca_key = vt_load_key(vt_fix("ca-issuer.key.pem"), NULL);
	EVP_PKEY *key2 = EVP_RSA_gen(2048);
	X509 *twin = X509_dup(cert);
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	assert_non_null(key2);
	assert_non_null(twin);
	assert_int_equal(ASN1_STRING_set(sn, "30001000000900000077", 20), 1);
	assert_int_equal(X509_set_serialNumber(twin, sn), 1);
	assert_int_equal(X509_set_pubkey(twin, key2), 1);
	assert_true(X509_sign(twin, ca_key, EVP_sha256()) > 0);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(twin), X509_get_subject_name(cert)), 0);

	char *tok = vt_token("web-eid:1.0", cert, key, "RS256", ORIGIN, c->nonce);
	char *tok2 = vt_token("web-eid:1.0", twin, key2, "RS256", ORIGIN, c->nonce);
	char *forged = vt_token("web-eid:1.0", twin, key, "RS256", ORIGIN, c->nonce);
	char *forged2 = vt_token("web-eid:1.0", cert, key2, "RS256", ORIGIN, c->nonce);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(verify_webeid_token(tok, strlen(tok), &c->opts, &r), VERIFY_OK);
		assert_string_equal(r.identity.serial, "30001000000900000001");
		assert_int_equal(X509_cmp(r.certificate, cert), 0);
		verify_webeid_result_clear(&r);
		assert_int_equal(verify_webeid_token(tok2, strlen(tok2), &c->opts, &r), VERIFY_OK);
		assert_string_equal(r.identity.serial, "30001000000900000077");
		assert_string_equal(r.identity.rfc, "PEPJ800101AB1");
		assert_int_equal(X509_cmp(r.certificate, twin), 0);
		verify_webeid_result_clear(&r);
		/* each key only verifies under its own certificate */
		assert_int_equal(verify_webeid_token(forged, strlen(forged), &c->opts, &r),
				 VERIFY_ERR_TOKEN_SIGNATURE);
		assert_int_equal(verify_webeid_token(forged2, strlen(forged2), &c->opts, &r),
				 VERIFY_ERR_TOKEN_SIGNATURE);
	}
	/* Several algorithms on one cached certificate, each with its own
	 * context; a PKCS#1 signature presented as PSS still fails. */
	const char *algs[] = { "RS256", "PS256", "RS512", "PS384", "RS256" };
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		char *t = vt_token("web-eid:1.0", cert, key, algs[i], ORIGIN, c->nonce);
		assert_int_equal(verify_webeid_token(t, strlen(t), &c->opts, &r), VERIFY_OK);
		verify_webeid_result_clear(&r);
		free(t);
	}
	/* a new anchor empties the cache; everything still verifies */
	assert_int_equal(verify_trust_add_file(c->trust, vt_fix("ca-root.crt.pem")), VERIFY_OK);
	assert_int_equal(verify_webeid_token(tok2, strlen(tok2), &c->opts, &r), VERIFY_OK);
	assert_string_equal(r.identity.serial, "30001000000900000077");
	verify_webeid_result_clear(&r);
	free(tok);
	free(tok2);
	free(forged);
	free(forged2);
	ASN1_INTEGER_free(sn);
	X509_free(twin);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(ca_key);
}

/* The 8-bytes-at-a-time string scan: a control character, DEL or a byte
 * beyond ASCII at any offset of a long string takes the token off the fast
 * path (jansson then refuses the control character; DEL and UTF-8 are JSON
 * but not base64). */
static void test_scan_offsets(void **state)
{
	struct ctx *c = *state;
	struct verify_webeid_result r;
	c->opts.nonces = NULL;
	X509 *cert = vt_load_cert(vt_fix("fisica.crt.pem"));
	EVP_PKEY *key = vt_load_key(vt_fix("fisica.key.pem"), NULL);
	char *tok = vt_token("web-eid:1.0", cert, key, "RS256", ORIGIN, c->nonce);
	char *cp = strstr(tok, "\"unverifiedCertificate\":\"");
	assert_non_null(cp);
	size_t at = (size_t)(cp - tok) + strlen("\"unverifiedCertificate\":\"");
	static const struct { char ch; int rc; } bad[] = {
		{ '\x01', VERIFY_ERR_TOKEN_JSON }, { '\x1f', VERIFY_ERR_TOKEN_JSON },
		{ '\x7f', VERIFY_ERR_TOKEN_BASE64 }, { ' ', VERIFY_ERR_TOKEN_BASE64 },
		{ '!', VERIFY_ERR_TOKEN_BASE64 }, { '~', VERIFY_ERR_TOKEN_BASE64 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		for (size_t off = 0; off < 24; off++) {
			char *t = strdup(tok);
			t[at + 100 + off] = bad[k].ch;
			assert_int_equal(verify_webeid_token(t, strlen(t), &c->opts, &r), bad[k].rc);
			free(t);
		}
	}
	/* a two-byte UTF-8 character (valid JSON) */
	for (size_t off = 0; off < 16; off++) {
		char *t = strdup(tok);
		t[at + 200 + off] = (char)0xc3;
		t[at + 201 + off] = (char)0xb1;
		assert_int_equal(verify_webeid_token(t, strlen(t), &c->opts, &r), VERIFY_ERR_TOKEN_BASE64);
		free(t);
	}
	/* the string ending at every offset within a block of eight */
	for (size_t off = 0; off < 16; off++) {
		char *t = strdup(tok);
		t[at + 300 + off] = '"';
		assert_int_equal(verify_webeid_token(t, strlen(t), &c->opts, &r), VERIFY_ERR_TOKEN_JSON);
		free(t);
	}
	assert_int_equal(verify_webeid_token(tok, strlen(tok), &c->opts, &r), VERIFY_OK);
	verify_webeid_result_clear(&r);
	free(tok);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* The flat scanner against jansson, byte by byte: every one-byte edit
 * (replace, insert, delete) of a small token is refused as JSON exactly
 * when jansson (duplicates refused) refuses it, and otherwise gets the same
 * answer as the same text pushed onto jansson's path by an escaped unknown
 * member ("\u007fz"). The values are not a real certificate or signature:
 * what is compared is which fields each parse reads ("y" edited to "x" is a
 * duplicate). */
static int webeid_rc(struct ctx *c, const char *t, size_t n)
{
	struct verify_webeid_result r;
	int rc = verify_webeid_token(t, n, &c->opts, &r);
	verify_webeid_result_clear(&r);
	return rc;
}

static void scan_agree(struct ctx *c, const char *t, size_t n)
{
	json_t *j = json_loadb(t, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	bool object = j && json_is_object(j);
	json_decref(j);
	int rc = webeid_rc(c, t, n);
	if (!object) {
		if (rc != VERIFY_ERR_TOKEN_JSON)
			fail_msg("accepted, jansson refuses: %.*s", (int)n, t);
		return;
	}
	if (rc == VERIFY_ERR_TOKEN_JSON)
		fail_msg("refused, jansson accepts: %.*s", (int)n, t);
	static const char force[] = "\"\\u007fz\":\"\"";
	const char *brace = memchr(t, '{', n);
	assert_non_null(brace);
	size_t at = (size_t)(brace - t) + 1, k = at;
	while (k < n && strchr(" \t\r\n", t[k]))
		k++;
	bool empty = k < n && t[k] == '}';
	char *f = malloc(n + sizeof(force) + 1);
	memcpy(f, t, at);
	size_t w = at;
	memcpy(f + w, force, sizeof(force) - 1);
	w += sizeof(force) - 1;
	if (!empty)
		f[w++] = ',';
	memcpy(f + w, t + at, n - at);
	w += n - at;
	int frc = webeid_rc(c, f, w);
	if (frc != rc)
		fail_msg("flat %d, jansson %d: %.*s", rc, frc, (int)n, t);
	free(f);
}

static void test_scan_agrees_with_jansson(void **state)
{
	struct ctx *c = *state;
	c->opts.nonces = NULL;
	static const char tmpl[] = "{\"format\":\"web-eid:1.0\",\"unverifiedCertificate\":\"MIIB\","
				   "\"algorithm\":\"RS256\",\"signature\":\"AAAA\",\"appVersion\":\"x\","
				   "\"x\":\"\",\"y\":\"\"}";
	static const char edits[] = "\"\\,:{}[] \t\x01\x7f\xc3u0xa";
	const size_t n = sizeof(tmpl) - 1;
	char buf[sizeof(tmpl) + 1];
	scan_agree(c, tmpl, n);
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			/* delete byte i */
			memcpy(buf, tmpl, i);
			memcpy(buf + i, tmpl + i + 1, n - i - 1);
			scan_agree(c, buf, n - 1);
		}
		for (const char *e = edits; *e; e++) {
			/* insert before byte i */
			memcpy(buf, tmpl, i);
			buf[i] = *e;
			memcpy(buf + i + 1, tmpl + i, n - i);
			scan_agree(c, buf, n + 1);
			if (i < n) {
				/* replace byte i */
				memcpy(buf, tmpl, n);
				buf[i] = *e;
				scan_agree(c, buf, n);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_fisica_rs256),
		T(test_moral_ps256_v11),
		T(test_ec256_es256),
		T(test_token_texts),
		T(test_ec384_es384),
		T(test_rs512),
		T(test_wrong_origin_rsa),
		T(test_wrong_origin_ecdsa),
		T(test_server_origin_invalid),
		T(test_reused_nonce),
		T(test_expired_nonce),
		T(test_unknown_nonce),
		T(test_expired_cert),
		T(test_csd_cert),
		T(test_unknown_ca),
		T(test_bad_signature),
		T(test_wrong_algorithm),
		T(test_malformed),
		T(test_sat_efirma),
		T(test_cache_dates),
		T(test_cache_same_subject),
		T(test_scan_offsets),
		T(test_scan_agrees_with_jansson),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
