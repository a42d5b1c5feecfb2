/* OCSP request building and response checking. */
#include "verify_ocsp.h"
#include "verify_errors.h"

#include "atomic_file.h"
#include "log.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#define OCSP_RESP_MAX (256u << 10)
#define RESPONDER_FILE_MAX (1u << 20)

static bool has_ocsp_signing(X509 *x)
{
	return X509_check_purpose(x, -1, 0) == 1 &&
	       (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) &&
	       (X509_get_extended_key_usage(x) & XKU_OCSP_SIGN);
}

static bool valid_at(X509 *x, time_t now)
{
	return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(x), &now) > 0;
}

static bool configured(X509 *signer, const struct verify_ocsp_opts *o)
{
	for (int i = 0; o->responders && i < sk_X509_num(o->responders); i++)
		if (X509_cmp(signer, sk_X509_value(o->responders, i)) == 0)
			return true;
	return false;
}

/* Is signer allowed to answer for certificates issued by issuer? */
static int responder_authorized(X509 *signer, X509 *issuer, const struct verify_ocsp_opts *o,
				time_t now)
{
	if (X509_cmp(signer, issuer) == 0)
		return VERIFY_OK;
	if (configured(signer, o)) {
		/* Pre-approved: neither issued by the CA nor carried in the
		 * response necessarily, but still a responder, and valid now. */
		if (!has_ocsp_signing(signer) || !valid_at(signer, now)) {
			llv_info("verify: configured OCSP responder lacks id-kp-OCSPSigning "
				 "or is outside its validity");
			return VERIFY_ERR_OCSP_RESPONDER;
		}
		return VERIFY_OK;
	}
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	if (!ipk || X509_check_issued(issuer, signer) != X509_V_OK ||
	    X509_verify(signer, ipk) != 1) {
		llv_info("verify: OCSP signer neither the certificate's CA, delegated by it nor configured");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	if (!has_ocsp_signing(signer)) {
		llv_info("verify: OCSP signer lacks id-kp-OCSPSigning");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	if (!valid_at(signer, now)) {
		llv_info("verify: OCSP signer certificate outside its validity");
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	return VERIFY_OK;
}

/* The CertID of leaf hashed as the response's first matching entry hashes
 * it (SHA-1, SHA-256/384/512: RFC 6960 leaves the choice to the requester
 * and responders answer in kind or always in one). NULL when none fits. */
static OCSP_CERTID *response_id(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
	static const int allowed[] = { NID_sha1, NID_sha256, NID_sha384, NID_sha512 };
	int n = OCSP_resp_count(bs);
	for (int i = 0; i < n; i++) {
		const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, i));
		ASN1_OBJECT *md_oid = NULL;
		if (!cid || OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid) != 1)
			continue;
		int nid = OBJ_obj2nid(md_oid);
		bool ok = false;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			ok = ok || nid == allowed[k];
		if (!ok)
			continue;
		OCSP_CERTID *id = OCSP_cert_to_id(EVP_get_digestbynid(nid), leaf, issuer);
		if (id && OCSP_id_cmp(id, cid) == 0)
			return id;
		OCSP_CERTID_free(id);
	}
	return NULL;
}

static int check_basic(OCSP_BASICRESP *bs, OCSP_REQUEST *req, X509 *leaf,
		       X509 *issuer, const struct verify_ocsp_opts *o, time_t now)
{
	/* Signature, with the signer found among the response's certificates,
	 * the issuer or the configured responders; authorization is checked by
	 * hand below. */
	STACK_OF(X509) *extra = sk_X509_new_null();
	if (!extra || !sk_X509_push(extra, issuer)) {
		sk_X509_free(extra);
		return VERIFY_ERR_NOMEM;
	}
	for (int i = 0; o->responders && i < sk_X509_num(o->responders); i++)
		if (!sk_X509_push(extra, sk_X509_value(o->responders, i))) {
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
		rc = responder_authorized(signer, issuer, o, now);
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
	OCSP_CERTID *id = response_id(bs, leaf, issuer);
	int found = id ? OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) : 0;
	OCSP_CERTID_free(id);
	if (found != 1)
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
	} else {
		rc = check_basic(bs, req, leaf, issuer, o, now);
	}
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

static int add_responder(STACK_OF(X509) *list, X509 *x)
{
	if (!has_ocsp_signing(x)) {
		ERR_clear_error();
		return VERIFY_ERR_OCSP_RESPONDER;
	}
	for (int i = 0; i < sk_X509_num(list); i++)
		if (X509_cmp(sk_X509_value(list, i), x) == 0)
			return VERIFY_OK;
	if (X509_up_ref(x) != 1)
		return VERIFY_ERR_NOMEM;
	if (!sk_X509_push(list, x)) {
		X509_free(x);
		return VERIFY_ERR_NOMEM;
	}
	return VERIFY_OK;
}

int verify_ocsp_responders_add_file(STACK_OF(X509) **list, const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!list || !path)
		return VERIFY_ERR_ARGUMENT;
	if (llv_read_file(path, RESPONDER_FILE_MAX, &data, &len) != 0) {
		llv_error("verify: cannot read OCSP responder certificate file %s", path);
		return VERIFY_ERR_ARGUMENT;
	}
	STACK_OF(X509) *got = sk_X509_new_null();
	int rc = got ? VERIFY_OK : VERIFY_ERR_NOMEM;
	if (rc == VERIFY_OK && len > 0 && data[0] == 0x30) {
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		if (!x || p != data + len || !sk_X509_push(got, x)) {
			X509_free(x);
			rc = VERIFY_ERR_CERT_PARSE;
		}
	} else if (rc == VERIFY_OK) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		X509 *x;
		rc = bio ? VERIFY_OK : VERIFY_ERR_NOMEM;
		while (rc == VERIFY_OK && bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
			if (!sk_X509_push(got, x)) {
				X509_free(x);
				rc = VERIFY_ERR_NOMEM;
			}
		BIO_free(bio);
		if (rc == VERIFY_OK && sk_X509_num(got) == 0)
			rc = VERIFY_ERR_CERT_PARSE;
	}
	/* All or nothing: every certificate must be a responder. */
	for (int i = 0; rc == VERIFY_OK && i < sk_X509_num(got); i++)
		if (!has_ocsp_signing(sk_X509_value(got, i)))
			rc = VERIFY_ERR_OCSP_RESPONDER;
	if (rc == VERIFY_OK && !*list && !(*list = sk_X509_new_null()))
		rc = VERIFY_ERR_NOMEM;
	for (int i = 0; rc == VERIFY_OK && i < sk_X509_num(got); i++)
		rc = add_responder(*list, sk_X509_value(got, i));
	sk_X509_pop_free(got, X509_free);
	free(data);
	ERR_clear_error();
	if (rc != VERIFY_OK)
		llv_error("verify: %s: %s", path, verify_strerror_en(rc));
	return rc;
}
