/* agent_crypto.c: digests, PKCS#1 DigestInfo, ECDSA signature forms,
 * supportedSignatureAlgorithms, and the detached CAdES-BES built with
 * OpenSSL's CMS over a digest computed elsewhere, signed through a callback
 * (the token). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "agent.h"
#include "buf.h"
#include "log.h"

static const struct {
	const char *name;
	size_t len;
	uint8_t prefix[19];
} digests[] = {
	{ "SHA-256", 32, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			   0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 } },
	{ "SHA-384", 48, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			   0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 } },
	{ "SHA-512", 64, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			   0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 } },
};

size_t agent_hash_len(const char *h)
{
	for (size_t i = 0; h && i < sizeof(digests) / sizeof(digests[0]); i++)
		if (strcmp(h, digests[i].name) == 0)
			return digests[i].len;
	return 0;
}

size_t agent_digest_info(const char *h, const uint8_t *hash, size_t len, uint8_t *out, size_t cap)
{
	for (size_t i = 0; h && i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (strcmp(h, digests[i].name) != 0)
			continue;
		if (len != digests[i].len || cap < 19 + len)
			return 0;
		memcpy(out, digests[i].prefix, 19);
		memcpy(out + 19, hash, len);
		return 19 + len;
	}
	return 0;
}

int agent_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len)
{
	if (len == 0 || len % 2 || len > 264)
		return -1;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)(len / 2), NULL), *ss = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	if (!s || !r || !ss || ECDSA_SIG_set0(s, r, ss) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return -1;
	}
	unsigned char *p = NULL;
	int n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	if (!*der) {
		OPENSSL_free(p);
		return -1;
	}
	memcpy(*der, p, (size_t)n);
	*der_len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

static json_t *alg(const char *crypto, const char *hash, const char *padding)
{
	return json_pack("{s:s, s:s, s:s}", "cryptoAlgorithm", crypto, "hashFunction", hash,
			 "paddingScheme", padding);
}

json_t *agent_supported_algorithms(const struct agent_cert *c)
{
	json_t *a = json_array();
	const char *hashes[] = { "SHA-256", "SHA-384", "SHA-512" };
	for (size_t i = 0; a && i < 3; i++)
		json_array_append_new(a, c->kind == AGENT_KEY_EC ? alg("ECC", hashes[i], "NONE")
								 : alg("RSA", hashes[i], "PKCS1.5"));
	return a;
}

static const EVP_MD *md_of(const char *h)
{
	if (strcmp(h, "SHA-256") == 0)
		return EVP_sha256();
	if (strcmp(h, "SHA-384") == 0)
		return EVP_sha384();
	if (strcmp(h, "SHA-512") == 0)
		return EVP_sha512();
	return NULL;
}

static int cmp_der(const void *a, const void *b)
{
	const struct llv_buf *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->data, y->data, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_der_len(struct llv_buf *b, size_t n)
{
	if (n < 0x80) {
		llv_buf_put_u8(b, (uint8_t)n);
	} else if (n < 0x100) {
		llv_buf_put_u8(b, 0x81);
		llv_buf_put_u8(b, (uint8_t)n);
	} else if (n < 0x10000) {
		llv_buf_put_u8(b, 0x82);
		llv_buf_put_be16(b, (uint16_t)n);
	} else {
		llv_buf_put_u8(b, 0x83);
		llv_buf_put_u8(b, (uint8_t)(n >> 16));
		llv_buf_put_be16(b, (uint16_t)n);
	}
}

/* The DER of the signed attributes as signed: SET OF Attribute, sorted by
 * encoding (what a verifier re-encodes). */
static int signed_attrs_der(CMS_SignerInfo *si, struct llv_buf *out)
{
	int n = CMS_signed_get_attr_count(si);
	if (n <= 0 || n > 32)
		return -1;
	struct llv_buf items[32];
	size_t total = 0;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		llv_buf_init(&items[i]);
		unsigned char *p = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &p);
		if (l <= 0) {
			rc = -1;
			continue;
		}
		llv_buf_put(&items[i], p, (size_t)l);
		OPENSSL_free(p);
		total += (size_t)l;
	}
	if (rc == 0) {
		qsort(items, (size_t)n, sizeof(items[0]), cmp_der);
		llv_buf_put_u8(out, 0x31);
		put_der_len(out, total);
		for (int i = 0; i < n; i++)
			llv_buf_put(out, items[i].data, items[i].len);
		rc = llv_buf_ok(out) ? 0 : -1;
	}
	for (int i = 0; i < n; i++)
		llv_buf_free(&items[i]);
	return rc;
}

int agent_cms_sign(const uint8_t *cert_der, size_t cert_len, const char *hash_function,
		   const uint8_t *hash, size_t hash_len, agent_cms_signer_fn *signer, void *arg,
		   uint8_t **der, size_t *der_len)
{
	const EVP_MD *md = md_of(hash_function);
	if (!md || (size_t)EVP_MD_get_size(md) != hash_len)
		return AGENT_ERR_BAD_ARG;
	const uint8_t *p = cert_der;
	X509 *cert = d2i_X509(NULL, &p, (long)cert_len);
	if (!cert)
		return AGENT_ERR_BAD_ARG;
	int rc = AGENT_ERR_INTERNAL;
	struct llv_buf attrs = LLV_BUF_INIT;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	ASN1_TIME *now = NULL;
	unsigned char *out = NULL;
	/* The certificate's public key stands in for the private key (OpenSSL only
	 * checks that they match and picks the signature algorithm from it). */
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned flags = CMS_DETACHED | CMS_PARTIAL | CMS_BINARY;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = cms && pub ? CMS_add1_signer(cms, cert, pub, md,
		flags | CMS_CADES | CMS_NOSMIMECAP) : NULL;
	if (!si) {
		llv_error("cms: cannot add the signer");
		goto out;
	}
	now = X509_time_adj_ex(NULL, 0, 0, NULL);
	if (!now ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
					OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, now->type, now, -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, hash,
					(int)hash_len) != 1) {
		llv_error("cms: cannot add the signed attributes");
		goto out;
	}
	if (signed_attrs_der(si, &attrs) != 0)
		goto out;
	rc = signer(arg, hash_function, attrs.data, attrs.len, &sig, &sig_len);
	if (rc != AGENT_OK)
		goto out;
	rc = AGENT_ERR_INTERNAL;
	ASN1_OCTET_STRING *os = CMS_SignerInfo_get0_signature(si);
	if (!os || ASN1_STRING_set(os, sig, (int)sig_len) != 1)
		goto out;
	int n = i2d_CMS_ContentInfo(cms, &out);
	if (n <= 0 || !(*der = malloc((size_t)n)))
		goto out;
	memcpy(*der, out, (size_t)n);
	*der_len = (size_t)n;
	rc = AGENT_OK;
out:
	OPENSSL_free(out);
	free(sig);
	ASN1_TIME_free(now);
	llv_buf_free(&attrs);
	CMS_ContentInfo_free(cms);
	X509_free(cert);
	return rc;
}
