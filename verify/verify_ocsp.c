/* OCSP request building and response checking. */
#include "verify_ocsp.h"
#include "verify_errors.h"

#include "log.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#define OCSP_RESP_MAX (256u << 10)

/* Is signer allowed to answer for certificates issued by issuer? */
static int responder_authorized(X509 *signer, X509 *issuer, time_t now)
{
	if (X509_cmp(signer, issuer) == 0)
		return VERIFY_OK;
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	if (!ipk || X509_check_issued(issuer, signer) != X509_V_OK ||
	    X509_verify(signer, ipk) != 1) {
		llv_info("verify: OCSP signer not issued by the certificate's CA");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	if (X509_check_purpose(signer, -1, 0) != 1 ||
	    !(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
		llv_info("verify: OCSP signer lacks id-kp-OCSPSigning");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	if (X509_cmp_time(X509_get0_notBefore(signer), &now) >= 0 ||
	    X509_cmp_time(X509_get0_notAfter(signer), &now) <= 0) {
		llv_info("verify: OCSP signer certificate outside its validity");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	return VERIFY_OK;
}

static int check_basic(OCSP_BASICRESP *bs, OCSP_REQUEST *req, OCSP_CERTID *id,
		       X509 *issuer, const struct verify_ocsp_opts *o, time_t now)
{
	/* Signature, with the signer found among the response's certificates
	 * or the issuer; authorization is checked by hand below. */
	STACK_OF(X509) *extra = sk_X509_new_null();
	if (!extra || !sk_X509_push(extra, issuer)) {
		sk_X509_free(extra);
		return VERIFY_ERR_NOMEM;
	}
	X509 *signer = NULL;
	int rc = VERIFY_OK;
	if (OCSP_resp_get0_signer(bs, &signer, extra) != 1 || !signer) {
		rc = VERIFY_ERR_OCSP_RESPONDER;
	} else if (OCSP_basic_verify(bs, extra, NULL, OCSP_NOVERIFY | OCSP_NOCHECKS) <= 0) {
		rc = VERIFY_ERR_OCSP_SIGNATURE;
	} else {
		rc = responder_authorized(signer, issuer, now);
	}
	sk_X509_free(extra);
	if (rc != VERIFY_OK)
		return rc;

	int n = OCSP_check_nonce(req, bs);
	if (n != 1 && !(o->allow_missing_nonce && n == -1)) {
		llv_info("verify: OCSP nonce check %d", n);
		return VERIFY_ERR_OCSP_NONCE;
	}

	int status = -1, reason = -1;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) != 1)
		return VERIFY_ERR_OCSP_NOT_FOUND;

	/* thisUpdate <= now + skew, nextUpdate >= now - skew, thisUpdate not
	 * older than max_age (OCSP_check_validity uses the real clock, so do
	 * it by hand against now). */
	long skew = o->skew_seconds > 0 ? o->skew_seconds : 0;
	time_t t = now + skew;
	if (!thisupd || X509_cmp_time(thisupd, &t) > 0)
		return VERIFY_ERR_OCSP_STALE;
	if (nextupd) {
		t = now - skew;
		if (X509_cmp_time(nextupd, &t) < 0)
			return VERIFY_ERR_OCSP_STALE;
	}
	if (o->max_age_seconds > 0) {
		t = now - skew - o->max_age_seconds;
		if (X509_cmp_time(thisupd, &t) < 0)
			return VERIFY_ERR_OCSP_STALE;
	}
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		return VERIFY_OK;
	case V_OCSP_CERTSTATUS_REVOKED:
		llv_info("verify: certificate revoked (reason %d)", reason);
		return VERIFY_ERR_OCSP_REVOKED;
	default:
		return VERIFY_ERR_OCSP_UNKNOWN;
	}
}

int verify_ocsp_check_response(X509 *leaf, X509 *issuer, const uint8_t *req_der,
			       size_t req_len, const uint8_t *resp, size_t resp_len,
			       const struct verify_ocsp_opts *o, time_t now)
{
	if (!leaf || !issuer || !req_der || !o)
		return VERIFY_ERR_ARGUMENT;
	if (!resp || resp_len == 0 || resp_len > OCSP_RESP_MAX)
		return VERIFY_ERR_OCSP_MALFORMED;
	if (now == 0)
		now = time(NULL);
	const unsigned char *p = req_der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)req_len);
	p = resp;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len);
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	int rc;
	if (!req) {
		rc = VERIFY_ERR_ARGUMENT;
	} else if (!r || p != resp + resp_len) {
		rc = VERIFY_ERR_OCSP_MALFORMED;
	} else if (OCSP_response_status(r) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		llv_info("verify: OCSP response status %s",
			 OCSP_response_status_str(OCSP_response_status(r)));
		rc = VERIFY_ERR_OCSP_STATUS;
	} else if (!(bs = OCSP_response_get1_basic(r))) {
		rc = VERIFY_ERR_OCSP_MALFORMED;
	} else if (!(id = OCSP_cert_to_id(NULL, leaf, issuer))) {
		rc = VERIFY_ERR_NOMEM;
	} else {
		rc = check_basic(bs, req, id, issuer, o, now);
	}
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}

int verify_ocsp_check(X509 *leaf, X509 *issuer, const struct verify_ocsp_opts *o,
		      time_t now)
{
	if (!leaf || !issuer || !o || !o->responder_url || !o->transport)
		return VERIFY_ERR_ARGUMENT;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
	unsigned char *der = NULL;
	int der_len = -1;
	int rc = VERIFY_ERR_NOMEM;
	if (req && id && OCSP_request_add0_id(req, id)) {
		id = NULL;   /* owned by req now */
		if (OCSP_request_add1_nonce(req, NULL, 16) == 1)
			der_len = i2d_OCSP_REQUEST(req, &der);
	}
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	if (der_len <= 0) {
		ERR_clear_error();
		return rc;
	}
	uint8_t *resp = NULL;
	size_t resp_len = 0;
	if (o->transport(o->transport_ctx, o->responder_url, der, (size_t)der_len,
			 &resp, &resp_len) != 0) {
		llv_warn("verify: OCSP transport to %s failed", o->responder_url);
		rc = VERIFY_ERR_OCSP_TRANSPORT;
	} else {
		rc = verify_ocsp_check_response(leaf, issuer, der, (size_t)der_len,
						 resp, resp_len, o, now);
	}
	free(resp);
	OPENSSL_free(der);
	return rc;
}
