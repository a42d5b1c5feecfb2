/* OCSP response checks on responses built here with OpenSSL (the live
 * responder cases are in tests/integration/verify_ocsp.sh): nonce echoed,
 * missing or different, responder status, malformed DER, another
 * certificate, thisUpdate/nextUpdate windows, signer authorization. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vt_util.h"
#include "verify_errors.h"
#include "verify_ocsp.h"

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

static X509 *leaf, *other, *issuer;
static EVP_PKEY *issuer_key, *leaf_key;

static int setup(void **state)
{
	if (!vt_fixtures())
		return -1;
	leaf = vt_load_cert(vt_fix("fisica.crt.pem"));
	other = vt_load_cert(vt_fix("moral.crt.pem"));
	issuer = vt_load_cert(vt_fix("ca-issuer.crt.pem"));
	issuer_key = vt_load_key(vt_fix("ca-issuer.key.pem"), NULL);
	leaf_key = vt_load_key(vt_fix("fisica.key.pem"), NULL);
	return leaf && other && issuer && issuer_key && leaf_key ? 0 : -1;
}

static int teardown(void **state)
{
	X509_free(leaf);
	X509_free(other);
	X509_free(issuer);
	EVP_PKEY_free(issuer_key);
	EVP_PKEY_free(leaf_key);
	return 0;
}

struct resp_case {
	X509 *about;               /* certificate the answer is about */
	int status;                /* V_OCSP_CERTSTATUS_* */
	long this_off, next_off;   /* seconds from now; next_off 0: no nextUpdate */
	int nonce;                 /* 0 copy, 1 none, 2 different */
	X509 *signer;
	EVP_PKEY *signer_key;
	int resp_status;           /* OCSP_RESPONSE_STATUS_* */
	bool corrupt_sig;
	const EVP_MD *id_md;       /* CertID hash in the response (NULL: SHA-1) */
	bool no_certs;             /* leave the signer's certificate out */
};

static int check(const struct resp_case *c, const struct verify_ocsp_opts *o)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, OCSP_cert_to_id(NULL, leaf, issuer));
	OCSP_request_add1_nonce(req, NULL, 16);
	unsigned char *req_der = NULL;
	int req_len = i2d_OCSP_REQUEST(req, &req_der);

	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	time_t now = time(NULL);
	ASN1_TIME *tu = ASN1_TIME_adj(NULL, now, 0, c->this_off);
	ASN1_TIME *nu = c->next_off ? ASN1_TIME_adj(NULL, now, 0, c->next_off) : NULL;
	ASN1_TIME *rev = ASN1_TIME_adj(NULL, now, -1, 0);
	OCSP_CERTID *cid = OCSP_cert_to_id(c->id_md, c->about ? c->about : leaf, issuer);
	OCSP_basic_add1_status(bs, cid, c->status,
			       c->status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
			       c->status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL, tu, nu);
	if (c->nonce == 0)
		OCSP_copy_nonce(bs, req);
	else if (c->nonce == 2)
		OCSP_basic_add1_nonce(bs, (unsigned char *)"0123456789abcdef", 16);
	OCSP_basic_sign(bs, c->signer ? c->signer : issuer, c->signer_key ? c->signer_key : issuer_key,
			EVP_sha256(), NULL, c->no_certs ? OCSP_NOCERTS : 0);
	if (c->corrupt_sig) {
		unsigned char *sig = (unsigned char *)ASN1_STRING_get0_data(OCSP_resp_get0_signature(bs));
		sig[10] ^= 0x01;
	}
	OCSP_RESPONSE *r = OCSP_response_create(c->resp_status, c->resp_status ? NULL : bs);
	unsigned char *resp_der = NULL;
	int resp_len = i2d_OCSP_RESPONSE(r, &resp_der);
	int rc = verify_ocsp_check_response(leaf, issuer, req_der, (size_t)req_len, resp_der,
					    (size_t)resp_len, o, now);
	/* Truncated, it is malformed. */
	if (rc == VERIFY_OK)
		assert_int_equal(verify_ocsp_check_response(leaf, issuer, req_der, (size_t)req_len, resp_der,
							    (size_t)resp_len - 1, o, now),
				 VERIFY_ERR_OCSP_MALFORMED);
	OPENSSL_free(resp_der);
	OPENSSL_free(req_der);
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(cid);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rev);
	return rc;
}

static void test_responses(void **state)
{
	struct verify_ocsp_opts o = { .skew_seconds = 60 };
	assert_int_equal(check(&(struct resp_case){ .status = V_OCSP_CERTSTATUS_GOOD, .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .status = V_OCSP_CERTSTATUS_REVOKED, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_REVOKED);
	assert_int_equal(check(&(struct resp_case){ .status = V_OCSP_CERTSTATUS_UNKNOWN, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_UNKNOWN);
	assert_int_equal(check(&(struct resp_case){ .about = other, .next_off = 3600 }, &o), VERIFY_ERR_OCSP_NOT_FOUND);
	assert_int_equal(check(&(struct resp_case){ .nonce = 2, .next_off = 3600 }, &o), VERIFY_ERR_OCSP_NONCE);
	assert_int_equal(check(&(struct resp_case){ .nonce = 1, .next_off = 3600 }, &o), VERIFY_ERR_OCSP_NONCE);
	o.allow_missing_nonce = true;
	assert_int_equal(check(&(struct resp_case){ .nonce = 1, .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .nonce = 2, .next_off = 3600 }, &o), VERIFY_ERR_OCSP_NONCE);
	o.allow_missing_nonce = false;
	/* windows: thisUpdate ahead of the skew, nextUpdate passed, too old */
	assert_int_equal(check(&(struct resp_case){ .this_off = 600, .next_off = 3600 }, &o), VERIFY_ERR_OCSP_STALE);
	assert_int_equal(check(&(struct resp_case){ .this_off = 30, .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .this_off = -7200, .next_off = -3600 }, &o), VERIFY_ERR_OCSP_STALE);
	assert_int_equal(check(&(struct resp_case){ .this_off = -7200 }, &o), VERIFY_OK);
	o.max_age_seconds = 3600;
	assert_int_equal(check(&(struct resp_case){ .this_off = -7200 }, &o), VERIFY_ERR_OCSP_STALE);
	o.max_age_seconds = 0;
	/* signed by the certificate holder, not the CA */
	assert_int_equal(check(&(struct resp_case){ .signer = leaf, .signer_key = leaf_key, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	/* a damaged signature */
	assert_int_equal(check(&(struct resp_case){ .corrupt_sig = true, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_SIGNATURE);
	assert_int_equal(check(&(struct resp_case){ .resp_status = OCSP_RESPONSE_STATUS_TRYLATER }, &o),
			 VERIFY_ERR_OCSP_STATUS);
	static const uint8_t junk[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	assert_int_equal(verify_ocsp_check_response(leaf, issuer, junk, sizeof(junk), junk, sizeof(junk), &o, 0),
			 VERIFY_ERR_ARGUMENT);
}

/* CertIDs hashed with something other than SHA-1: the response is matched
 * with the hash it uses. */
static void test_certid_hash(void **state)
{
	struct verify_ocsp_opts o = { .skew_seconds = 60 };
	assert_int_equal(check(&(struct resp_case){ .id_md = EVP_sha256(), .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .id_md = EVP_sha384(), .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .id_md = EVP_sha512(), .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .id_md = EVP_sha256(), .status = V_OCSP_CERTSTATUS_REVOKED,
						    .next_off = 3600 }, &o), VERIFY_ERR_OCSP_REVOKED);
	assert_int_equal(check(&(struct resp_case){ .id_md = EVP_sha256(), .about = other, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_NOT_FOUND);
}

/* A certificate for an OCSP responder (id-kp-OCSPSigning), self-signed or
 * issued by ca/ca_key, valid from now+nb to now+na seconds. */
static X509 *make_responder(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *ca_key, bool eku,
			    long nb, long na)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(uintptr_t)cn & 0x7fffffff);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	if (eku) {
		X509V3_CTX v3;
		X509V3_set_ctx_nodb(&v3);
		X509V3_set_ctx(&v3, ca ? ca : x, x, NULL, NULL, 0);
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "OCSPSigning");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, ca_key ? ca_key : key, EVP_sha256());
	return x;
}

/* Fixed, pre-approved responders (RFC 6960 4.2.2.2: "matches a local
 * configuration of OCSP signing authority"), as SAT's: not issued by the
 * leaf's CA, and the response need not carry the certificate. */
static void test_fixed_responder(void **state)
{
	EVP_PKEY *rkey = EVP_EC_gen("P-256"), *rkey2 = EVP_EC_gen("P-256");
	X509 *r = make_responder(rkey, "Servicio OCSP de prueba", NULL, NULL, true, -3600, 86400);
	X509 *r2 = make_responder(rkey2, "Otro OCSP", NULL, NULL, true, -3600, 86400);
	X509 *r_old = make_responder(rkey, "Servicio OCSP vencido", NULL, NULL, true, -7200, -3600);
	X509 *r_noeku = make_responder(rkey, "Servicio OCSP sin EKU", NULL, NULL, false, -3600, 86400);
	/* delegated by the CA but with no EKU: still refused */
	X509 *deleg_noeku = make_responder(rkey, "Delegado sin EKU", issuer, issuer_key, false, -3600, 86400);
	X509 *deleg = make_responder(rkey, "Delegado", issuer, issuer_key, true, -3600, 86400);
	assert_non_null(r);
	STACK_OF(X509) *cfg = sk_X509_new_null();
	sk_X509_push(cfg, r);

	struct verify_ocsp_opts o = { .skew_seconds = 60 };
	/* not configured: refused, with or without the certificate in the response */
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600,
						    .no_certs = true }, &o), VERIFY_ERR_OCSP_RESPONDER);
	o.responders = cfg;
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600,
						    .no_certs = true }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600,
						    .status = V_OCSP_CERTSTATUS_REVOKED }, &o), VERIFY_ERR_OCSP_REVOKED);
	/* another responder, not configured */
	assert_int_equal(check(&(struct resp_case){ .signer = r2, .signer_key = rkey2, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	/* the configured responder's response, damaged */
	assert_int_equal(check(&(struct resp_case){ .signer = r, .signer_key = rkey, .next_off = 3600,
						    .no_certs = true, .corrupt_sig = true }, &o),
			 VERIFY_ERR_OCSP_SIGNATURE);
	/* the CA and its delegated responders still answer */
	assert_int_equal(check(&(struct resp_case){ .next_off = 3600 }, &o), VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .signer = deleg, .signer_key = rkey, .next_off = 3600 }, &o),
			 VERIFY_OK);
	assert_int_equal(check(&(struct resp_case){ .signer = deleg_noeku, .signer_key = rkey, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	/* a configured responder outside its validity, or without id-kp-OCSPSigning */
	sk_X509_set(cfg, 0, r_old);
	assert_int_equal(check(&(struct resp_case){ .signer = r_old, .signer_key = rkey, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	sk_X509_set(cfg, 0, r_noeku);
	assert_int_equal(check(&(struct resp_case){ .signer = r_noeku, .signer_key = rkey, .next_off = 3600 }, &o),
			 VERIFY_ERR_OCSP_RESPONDER);
	sk_X509_free(cfg);

	/* SAT's responder certificates load from their files (DER and PEM) */
	const char *sat = vt_sat_dir();
	if (sat) {
		static const char *const files[] = { "ocsp.ac4_sat.cer", "ocsp.ac5_sat.cer",
						      "OCSP.AC6_SAT.cer", "OCSP7.crt" };
		STACK_OF(X509) *sat_resp = NULL;
		char path[1024];
		for (size_t i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/ca/%s", sat, files[i]);
			assert_int_equal(verify_ocsp_responders_add_file(&sat_resp, path), VERIFY_OK);
		}
		assert_int_equal(sk_X509_num(sat_resp), 4);
		/* a CA certificate is no responder (no id-kp-OCSPSigning) */
		snprintf(path, sizeof(path), "%s/ca/AC7.crt", sat);
		assert_int_equal(verify_ocsp_responders_add_file(&sat_resp, path), VERIFY_ERR_OCSP_RESPONDER);
		assert_int_equal(sk_X509_num(sat_resp), 4);
		sk_X509_pop_free(sat_resp, X509_free);
	}
	X509_free(r);
	X509_free(r2);
	X509_free(r_old);
	X509_free(r_noeku);
	X509_free(deleg);
	X509_free(deleg_noeku);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(rkey2);
}

static int fail_transport(void *ctx, const char *url, const uint8_t *req, size_t req_len,
			  uint8_t **resp, size_t *resp_len)
{
	return -1;
}

static void test_transport(void **state)
{
	struct verify_ocsp_opts o = { .responder_url = "http://127.0.0.1:1/", .transport = fail_transport };
	assert_int_equal(verify_ocsp_check(leaf, issuer, &o, 0), VERIFY_ERR_OCSP_TRANSPORT);
	o.transport = NULL;
	assert_int_equal(verify_ocsp_check(leaf, issuer, &o, 0), VERIFY_ERR_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_certid_hash),
		cmocka_unit_test(test_fixed_responder),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
