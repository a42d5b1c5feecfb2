/* Encoders for the private-key primitive: PKCS#1 v1.5 type 1 padding, the
 * DigestInfo of a hash (RFC 8017 9.2 note 1) and EMSA-PSS with MGF1
 * (OpenSSL's encoder). The core pads, the driver does the raw RSA. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "p11_internal.h"

#include <string.h>

#include <openssl/rsa.h>

#include "log.h"

int p11_pad_pkcs1_type1(const uint8_t *in, size_t in_len, uint8_t *out, size_t k)
{
	size_t ps;

	if (k < 11 || in_len > k - 11)
		return -1;
	ps = k - 3 - in_len;
	out[0] = 0x00;
	out[1] = 0x01;
	memset(out + 2, 0xFF, ps);
	out[2 + ps] = 0x00;
	memcpy(out + 3 + ps, in, in_len);
	return 0;
}

/* DER prefixes of DigestInfo (RFC 8017 9.2, note 1). */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
	                           0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha224[] = { 0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                             0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                             0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                             0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

int p11_digest_info(const EVP_MD *md, const uint8_t *hash, size_t hash_len, struct llv_buf *out)
{
	const uint8_t *prefix;
	size_t plen;

	switch (EVP_MD_get_type(md)) {
	case NID_sha1: prefix = di_sha1; plen = sizeof(di_sha1); break;
	case NID_sha224: prefix = di_sha224; plen = sizeof(di_sha224); break;
	case NID_sha256: prefix = di_sha256; plen = sizeof(di_sha256); break;
	case NID_sha384: prefix = di_sha384; plen = sizeof(di_sha384); break;
	case NID_sha512: prefix = di_sha512; plen = sizeof(di_sha512); break;
	default: return -1;
	}
	if (hash_len != (size_t)EVP_MD_get_size(md))
		return -1;
	llv_buf_put(out, prefix, plen);
	llv_buf_put(out, hash, hash_len);
	return llv_buf_ok(out) ? 0 : -1;
}

int p11_pad_pss(EVP_PKEY *pub, const EVP_MD *hash, const EVP_MD *mgf1, const uint8_t *mhash,
                size_t salt_len, uint8_t *out, size_t k)
{
	RSA *rsa = EVP_PKEY_get1_RSA(pub);
	int ok;

	if (!rsa)
		return -1;
	if ((size_t)RSA_size(rsa) != k || salt_len > (size_t)k) {
		RSA_free(rsa);
		return -1;
	}
	ok = RSA_padding_add_PKCS1_PSS_mgf1(rsa, out, mhash, hash, mgf1, (int)salt_len);
	RSA_free(rsa);
	return ok == 1 ? 0 : -1;
}

const EVP_MD *p11_md_of_mech(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_SHA_1: return EVP_sha1();
	case CKM_SHA224: return EVP_sha224();
	case CKM_SHA256: return EVP_sha256();
	case CKM_SHA384: return EVP_sha384();
	case CKM_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

const EVP_MD *p11_md_of_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA1: return EVP_sha1();
	case CKG_MGF1_SHA224: return EVP_sha224();
	case CKG_MGF1_SHA256: return EVP_sha256();
	case CKG_MGF1_SHA384: return EVP_sha384();
	case CKG_MGF1_SHA512: return EVP_sha512();
	default: return NULL;
	}
}
