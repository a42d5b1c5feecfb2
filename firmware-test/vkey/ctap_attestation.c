/* Attestation: at init, a self-signed EC P-256 attestation CA issues a batch
 * certificate with the fields FIDO requires (WebAuthn section 8.2.1: subject
 * C, O, OU "Authenticator Attestation", CN; id-fido-gen-ce-aaguid; basic
 * constraints CA:FALSE). The CA key is discarded once it has signed; only
 * its certificate is kept so verifiers can trust it. Packed attestation
 * statements are signed with the batch key. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctap_internal.h"
#include "log.h"

#define OID_FIDO_AAGUID "1.3.6.1.4.1.45724.1.1.4"

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int add_aaguid(X509 *cert, const uint8_t aaguid[16])
{
	uint8_t der[18] = { 0x04, 0x10 };
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_FIDO_AAGUID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int rc = -1;

	memcpy(der + 2, aaguid, 16);
	if (obj != NULL && os != NULL && ASN1_OCTET_STRING_set(os, der, sizeof(der)) == 1 &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL && X509_add_ext(cert, ext, -1) == 1)
		rc = 0;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return rc;
}

static X509_NAME *make_name(const char *ou, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL ||
	    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8, (const unsigned char *)"MX", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Llavero", -1, -1, 0) != 1 ||
	    (ou != NULL &&
	     X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)ou, -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

/* A certificate for subject_key named subject, signed by signer as issuer
 * (NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *subject_key, X509_NAME *subject, EVP_PKEY *signer, X509 *issuer, bool ca,
		       const uint8_t *aaguid)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	bool ok;

	ok = x != NULL && bn != NULL && X509_set_version(x, 2) == 1 && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
	     (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && X509_set_serialNumber(x, serial) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
	     X509_time_adj_ex(X509_getm_notAfter(x), 20 * 365, 0, NULL) != NULL &&
	     X509_set_subject_name(x, subject) == 1 &&
	     X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) == 1 &&
	     X509_set_pubkey(x, subject_key) == 1;
	if (ok && ca)
		ok = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
		     add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
		     add_ext(x, x, NID_subject_key_identifier, "hash") == 0;
	if (ok && !ca)
		ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		     add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") == 0 &&
		     add_ext(x, issuer, NID_subject_key_identifier, "hash") == 0 &&
		     add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") == 0 &&
		     add_aaguid(x, aaguid) == 0;
	ok = ok && X509_sign(x, signer, EVP_sha256()) > 0;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int to_der(X509 *x, uint8_t *out, size_t *out_len)
{
	int len = i2d_X509(x, NULL);
	uint8_t *p = out;

	if (len <= 0 || (size_t)len > CTAP_CERT_MAX || i2d_X509(x, &p) != len)
		return -1;
	*out_len = (size_t)len;
	return 0;
}

int ctap_attestation_init(struct ctap_persist *p)
{
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *batch_key = NULL;
	X509_NAME *ca_name = make_name(NULL, "Llavero vkey Attestation CA");
	X509_NAME *batch_name = make_name("Authenticator Attestation", "Llavero vkey Batch 1");
	X509 *ca = NULL, *batch = NULL;
	int rc = -1;

	if (ca_key != NULL && ca_name != NULL && batch_name != NULL &&
	    ctap_key_generate(COSE_ES256, p->batch_priv) == 0 &&
	    (batch_key = ctap_key_from_raw(COSE_ES256, p->batch_priv)) != NULL &&
	    (ca = make_cert(ca_key, ca_name, ca_key, NULL, true, NULL)) != NULL &&
	    (batch = make_cert(batch_key, batch_name, ca_key, ca, false, p->aaguid)) != NULL &&
	    to_der(ca, p->ca_cert, &p->ca_cert_len) == 0 && to_der(batch, p->batch_cert, &p->batch_cert_len) == 0)
		rc = 0;
	if (rc != 0)
		llv_error("vkey: cannot create the attestation certificates");
	X509_free(batch);
	X509_free(ca);
	X509_NAME_free(batch_name);
	X509_NAME_free(ca_name);
	EVP_PKEY_free(batch_key);
	EVP_PKEY_free(ca_key);
	return rc;
}

int ctap_attestation_check(const struct ctap_persist *p)
{
	const uint8_t *cp = p->ca_cert, *bp = p->batch_cert;
	X509 *ca = d2i_X509(NULL, &cp, (long)p->ca_cert_len);
	X509 *batch = d2i_X509(NULL, &bp, (long)p->batch_cert_len);
	EVP_PKEY *key = ctap_key_from_raw(COSE_ES256, p->batch_priv);
	EVP_PKEY *ca_pub = ca != NULL ? X509_get0_pubkey(ca) : NULL;
	EVP_PKEY *batch_pub = batch != NULL ? X509_get0_pubkey(batch) : NULL;
	int rc = -1;

	if (ca != NULL && batch != NULL && key != NULL && ca_pub != NULL && batch_pub != NULL &&
	    cp == p->ca_cert + p->ca_cert_len && bp == p->batch_cert + p->batch_cert_len &&
	    EVP_PKEY_eq(batch_pub, key) == 1 && X509_verify(batch, ca_pub) == 1)
		rc = 0;
	EVP_PKEY_free(key);
	X509_free(batch);
	X509_free(ca);
	return rc;
}

int ctap_attestation_packed(const struct ctap_auth *a, const uint8_t *auth_data, size_t ad_len,
			    const uint8_t cdh[32], struct llv_buf *att_stmt)
{
	struct llv_buf msg = LLV_BUF_INIT, sig = LLV_BUF_INIT;
	int rc = -1;

	llv_buf_put(&msg, auth_data, ad_len);
	llv_buf_put(&msg, cdh, 32);
	if (llv_buf_ok(&msg) && ctap_key_sign(COSE_ES256, a->p.batch_priv, msg.data, msg.len, &sig) == 0) {
		ctap_enc_map(att_stmt, 3);
		ctap_enc_textz(att_stmt, "alg");
		ctap_enc_int(att_stmt, COSE_ES256);
		ctap_enc_textz(att_stmt, "sig");
		ctap_enc_bytes(att_stmt, sig.data, sig.len);
		ctap_enc_textz(att_stmt, "x5c");
		ctap_enc_array(att_stmt, 1);
		ctap_enc_bytes(att_stmt, a->p.batch_cert, a->p.batch_cert_len);
		rc = llv_buf_ok(att_stmt) ? 0 : -1;
	}
	llv_buf_free(&msg);
	llv_buf_free(&sig);
	return rc;
}
