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
	OCSP_CERTID *cid = OCSP_cert_to_id(NULL, c->about ? c->about : leaf, issuer);
	OCSP_basic_add1_status(bs, cid, c->status,
			       c->status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
			       c->status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL, tu, nu);
	if (c->nonce == 0)
		OCSP_copy_nonce(bs, req);
	else if (c->nonce == 2)
		OCSP_basic_add1_nonce(bs, (unsigned char *)"0123456789abcdef", 16);
	OCSP_basic_sign(bs, c->signer ? c->signer : issuer, c->signer_key ? c->signer_key : issuer_key,
			EVP_sha256(), NULL, 0);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
