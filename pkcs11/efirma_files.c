/* e.firma file pairs: certificate and encrypted key loading, directory scan
 * and configuration. See efirma_files.h. */
#include "efirma_files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "atomic_file.h"
#include "log.h"
#include "secmem.h"

const char *efirma_rc_str(enum efirma_rc rc)
{
	switch (rc) {
	case EFIRMA_OK: return "ok";
	case EFIRMA_ERR_IO: return "cannot read the file";
	case EFIRMA_ERR_CORRUPT: return "the file is damaged or not in the expected format";
	case EFIRMA_ERR_UNSUPPORTED: return "unsupported key or encryption";
	case EFIRMA_ERR_BAD_PASSWORD: return "wrong password";
	case EFIRMA_ERR_MISMATCH: return "the key is not the certificate's";
	case EFIRMA_ERR_NOMEM: return "out of memory";
	case EFIRMA_ERR_ARG: return "bad argument";
	}
	return "unknown error";
}

const char *efirma_kind_str(enum efirma_kind kind)
{
	switch (kind) {
	case EFIRMA_KIND_FIEL: return "e.firma";
	case EFIRMA_KIND_CSD: return "CSD";
	case EFIRMA_KIND_OTHER: break;
	}
	return "other";
}

/* ---- certificate ---------------------------------------------------------- */

/* UTF-8 text of the first subject entry with nid, trimmed; false when absent
 * or not a string. */
static bool subject_text(X509_NAME *name, int nid, char *out, size_t cap)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	out[0] = '\0';
	if (idx < 0)
		return false;
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	unsigned char *utf8 = NULL;
	int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
	if (n < 0) {
		/* x500UniqueIdentifier is formally a BIT STRING; take printable bytes. */
		if (!s)
			return false;
		const unsigned char *d = ASN1_STRING_get0_data(s);
		int len = ASN1_STRING_length(s);
		if (len < 0)
			return false;
		size_t j = 0;
		for (int i = 0; i < len && j + 1 < cap; i++)
			if (d[i] >= 0x20 && d[i] < 0x7f)
				out[j++] = (char)d[i];
		out[j] = '\0';
		return true;
	}
	size_t len = (size_t)n;
	/* Drop embedded NULs: they would silently cut the text short. */
	size_t j = 0;
	for (size_t i = 0; i < len && j + 1 < cap; i++)
		if (utf8[i] != '\0')
			out[j++] = (char)utf8[i];
	out[j] = '\0';
	OPENSSL_free(utf8);
	return true;
}

static void trim_copy(const char *s, size_t len, char *out, size_t cap)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= cap) {
		out[0] = '\0'; /* too long to be an RFC/CURP: leave it empty */
		return;
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Splits "A / B" into A and B (trimmed); without '/', all of it is A.
 * Returns true when there was a '/'. */
static bool split_slash(const char *s, char *a, size_t acap, char *b, size_t bcap)
{
	const char *slash = strchr(s, '/');
	if (!slash) {
		trim_copy(s, strlen(s), a, acap);
		b[0] = '\0';
		return false;
	}
	trim_copy(s, (size_t)(slash - s), a, acap);
	trim_copy(slash + 1, strlen(slash + 1), b, bcap);
	return true;
}

static void cert_serial(X509 *x, char *out, size_t cap)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = ai ? ASN1_INTEGER_to_BN(ai, NULL) : NULL;
	uint8_t bytes[64];
	int n = bn ? BN_num_bytes(bn) : -1;
	out[0] = '\0';
	if (n > 0 && (size_t)n < sizeof(bytes) && BN_bn2bin(bn, bytes) == n) {
		bool ascii = (size_t)n < cap;
		for (int i = 0; i < n && ascii; i++)
			ascii = bytes[i] >= '0' && bytes[i] <= '9';
		if (ascii) {
			memcpy(out, bytes, (size_t)n);
			out[n] = '\0';
		} else {
			size_t j = 0;
			for (int i = 0; i < n && j + 2 < cap; i++, j += 2)
				snprintf(out + j, 3, "%02X", bytes[i]);
		}
	}
	BN_free(bn);
}

static enum efirma_kind classify(X509 *x, X509_NAME *subject)
{
	bool has_ou = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, -1) >= 0;
	uint32_t flags = X509_get_extension_flags(x);
	bool has_eku = (flags & EXFLAG_XKUSAGE) != 0;
	uint32_t eku = X509_get_extended_key_usage(x);

	if (has_eku && (eku & XKU_SSL_CLIENT) && (eku & XKU_SMIME) && !has_ou)
		return EFIRMA_KIND_FIEL;
	if (!has_eku && has_ou)
		return EFIRMA_KIND_CSD;
	return EFIRMA_KIND_OTHER;
}

void efirma_cert_free(struct efirma_cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

enum efirma_rc efirma_cert_parse(const uint8_t *der, size_t len, struct efirma_cert *out)
{
	enum efirma_rc rc = EFIRMA_ERR_CORRUPT;
	X509 *x = NULL;

	if (!out || (!der && len))
		return EFIRMA_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > EFIRMA_MAX_CER_SIZE || len > LONG_MAX)
		return EFIRMA_ERR_CORRUPT;

	ERR_set_mark();
	if (len > 11 && !memcmp(der, "-----BEGIN ", 11)) {
		/* A PEM copy of the certificate is accepted too. */
		BIO *bio = BIO_new_mem_buf(der, (int)len);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		const unsigned char *p = der;
		x = d2i_X509(NULL, &p, (long)len);
		if (x && p != der + len) {
			llv_warn("efirma: certificate has %zu trailing bytes", (size_t)(der + len - p));
			X509_free(x);
			x = NULL;
		}
	}
	if (!x) {
		llv_warn("efirma: not a DER X.509 certificate");
		goto out;
	}
	/* Keep the canonical DER (what CKA_VALUE returns). */
	unsigned char *enc = NULL;
	int enc_len = i2d_X509(x, &enc);
	if (enc_len <= 0) {
		llv_warn("efirma: certificate does not re-encode");
		goto out;
	}
	out->der = malloc((size_t)enc_len);
	if (!out->der) {
		OPENSSL_free(enc);
		rc = EFIRMA_ERR_NOMEM;
		goto out;
	}
	memcpy(out->der, enc, (size_t)enc_len);
	out->der_len = (size_t)enc_len;
	OPENSSL_free(enc);

	EVP_PKEY *pub = X509_get0_pubkey(x);
	if (!pub) {
		llv_warn("efirma: certificate public key does not decode");
		goto out;
	}
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		llv_warn("efirma: certificate key is not RSA");
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	out->key_bits = EVP_PKEY_get_bits(pub);
	if (out->key_bits < EFIRMA_MIN_RSA_BITS || out->key_bits > 16384) {
		llv_warn("efirma: RSA key of %d bits refused (%d..16384)", out->key_bits,
			 EFIRMA_MIN_RSA_BITS);
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	/* Computes the extension flags; a certificate whose extensions do not
	 * decode is flagged EXFLAG_INVALID. */
	if (X509_get_extension_flags(x) & EXFLAG_INVALID) {
		llv_warn("efirma: certificate extensions are malformed");
		goto out;
	}

	X509_NAME *subject = X509_get_subject_name(x);
	if (!subject) {
		llv_warn("efirma: certificate has no subject");
		goto out;
	}
	if (!subject_text(subject, NID_name, out->name, sizeof(out->name)) || !out->name[0])
		subject_text(subject, NID_commonName, out->name, sizeof(out->name));

	char text[EFIRMA_NAME_MAX];
	if (subject_text(subject, NID_x500UniqueIdentifier, text, sizeof(text)))
		out->moral = split_slash(text, out->rfc, sizeof(out->rfc), out->rep_rfc,
					 sizeof(out->rep_rfc));
	if (subject_text(subject, NID_serialNumber, text, sizeof(text))) {
		if (out->moral || strchr(text, '/'))
			split_slash(text, out->curp, sizeof(out->curp), out->rep_curp,
				    sizeof(out->rep_curp));
		else
			trim_copy(text, strlen(text), out->curp, sizeof(out->curp));
	}

	out->kind = classify(x, subject);
	out->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
	cert_serial(x, out->serial, sizeof(out->serial));

	unsigned int md_len = 0;
	if (!X509_pubkey_digest(x, EVP_sha1(), out->id, &md_len) || md_len != sizeof(out->id)) {
		llv_warn("efirma: cannot hash the public key");
		goto out;
	}
	out->x509 = x;
	out->pubkey = pub;
	x = NULL;
	rc = EFIRMA_OK;
out:
	ERR_pop_to_mark();
	X509_free(x);
	if (rc != EFIRMA_OK) {
		free(out->der);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

static enum efirma_rc read_whole(const char *path, size_t max, uint8_t **data, size_t *len)
{
	if (llv_read_file(path, max, data, len) < 0) {
		llv_warn("efirma: cannot read %s: %s", path, strerror(errno));
		return EFIRMA_ERR_IO;
	}
	return EFIRMA_OK;
}

enum efirma_rc efirma_cert_load(const char *path, struct efirma_cert *out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!path || !out)
		return EFIRMA_ERR_ARG;
	memset(out, 0, sizeof(*out));
	enum efirma_rc rc = read_whole(path, EFIRMA_MAX_CER_SIZE, &data, &len);
	if (rc != EFIRMA_OK)
		return rc;
	rc = efirma_cert_parse(data, len, out);
	if (rc != EFIRMA_OK)
		llv_warn("efirma: %s: %s", path, efirma_rc_str(rc));
	free(data);
	return rc;
}

/* ---- encrypted key ---------------------------------------------------------- */

void efirma_key_file_free(struct efirma_key_file *k)
{
	if (!k)
		return;
	X509_SIG_free(k->p8);
	free(k->der);
	memset(k, 0, sizeof(*k));
}

/* Checks PBES2 parameters; fills iterations, cipher and PRF. */
static enum efirma_rc check_pbes2(const X509_ALGOR *alg, unsigned long max_iter,
				  struct efirma_key_file *k, size_t enc_len)
{
	enum efirma_rc rc = EFIRMA_ERR_CORRUPT;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	EVP_CIPHER *cipher = NULL;
	uint64_t iter = 0;

	int nid = OBJ_obj2nid(alg->algorithm);
	if (nid != NID_pbes2) {
		llv_warn("efirma: key encryption %s is not PBES2",
			 nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
		return EFIRMA_ERR_UNSUPPORTED;
	}
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
	if (!pbe2 || !pbe2->keyfunc || !pbe2->encryption) {
		llv_warn("efirma: PBES2 parameters do not decode");
		goto out;
	}
	if (OBJ_obj2nid(pbe2->keyfunc->algorithm) != NID_id_pbkdf2) {
		llv_warn("efirma: PBES2 key derivation is not PBKDF2");
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
	if (!kdf || !kdf->salt || !kdf->iter || ASN1_INTEGER_get_uint64(&iter, kdf->iter) != 1) {
		llv_warn("efirma: PBKDF2 parameters do not decode");
		goto out;
	}
	if (kdf->salt->type != V_ASN1_OCTET_STRING) {
		llv_warn("efirma: PBKDF2 salt is not an OCTET STRING");
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	if (iter == 0 || iter > max_iter) {
		llv_warn("efirma: PBKDF2 iteration count %llu out of range (1..%lu)",
			 (unsigned long long)iter, max_iter);
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	k->iterations = (unsigned long)iter;
	k->prf_nid = kdf->prf ? OBJ_obj2nid(kdf->prf->algorithm) : NID_hmacWithSHA1;
	int md_nid = 0;
	if (!EVP_PBE_find(EVP_PBE_TYPE_PRF, k->prf_nid, NULL, &md_nid, NULL)) {
		llv_warn("efirma: unsupported PBKDF2 PRF");
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	k->cipher_nid = OBJ_obj2nid(pbe2->encryption->algorithm);
	const char *cname = k->cipher_nid != NID_undef ? OBJ_nid2sn(k->cipher_nid) : NULL;
	cipher = cname ? EVP_CIPHER_fetch(NULL, cname, NULL) : NULL;
	if (!cipher) {
		llv_warn("efirma: unsupported key cipher %s", cname ? cname : "(unknown)");
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	int mode = EVP_CIPHER_get_mode(cipher);
	int block = EVP_CIPHER_get_block_size(cipher);
	if (mode != EVP_CIPH_CBC_MODE && mode != EVP_CIPH_ECB_MODE) {
		/* Counter/stream modes (and AEAD) are not what PBES2 .key files use. */
		llv_warn("efirma: key cipher %s is not a CBC block cipher", cname);
		rc = EFIRMA_ERR_UNSUPPORTED;
		goto out;
	}
	if (block <= 1 || enc_len == 0 || enc_len % (size_t)block) {
		llv_warn("efirma: encrypted key length %zu is not a whole number of blocks", enc_len);
		goto out;
	}
	rc = EFIRMA_OK;
out:
	EVP_CIPHER_free(cipher);
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
	return rc;
}

enum efirma_rc efirma_key_parse(const uint8_t *der, size_t len, unsigned long max_iter,
				struct efirma_key_file *out)
{
	enum efirma_rc rc = EFIRMA_ERR_CORRUPT;
	X509_SIG *p8 = NULL;

	if (!out || (!der && len))
		return EFIRMA_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (!max_iter)
		max_iter = EFIRMA_MAX_PBKDF2_ITER;
	if (len == 0 || len > EFIRMA_MAX_KEY_SIZE) {
		llv_warn("efirma: key file of %zu bytes refused", len);
		return EFIRMA_ERR_CORRUPT;
	}

	ERR_set_mark();
	if (len > 11 && !memcmp(der, "-----BEGIN ", 11)) {
		BIO *bio = BIO_new_mem_buf(der, (int)len);
		p8 = bio ? PEM_read_bio_PKCS8(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		const unsigned char *p = der;
		p8 = d2i_X509_SIG(NULL, &p, (long)len);
		if (p8 && p != der + len) {
			llv_warn("efirma: key file has %zu trailing bytes", (size_t)(der + len - p));
			X509_SIG_free(p8);
			p8 = NULL;
		}
	}
	if (!p8) {
		llv_warn("efirma: not a DER PKCS#8 EncryptedPrivateKeyInfo");
		goto out;
	}
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *enc = NULL;
	X509_SIG_get0(p8, &alg, &enc);
	if (!alg || !enc) {
		llv_warn("efirma: EncryptedPrivateKeyInfo is incomplete");
		goto out;
	}
	rc = check_pbes2(alg, max_iter, out, (size_t)ASN1_STRING_length(enc));
	if (rc != EFIRMA_OK)
		goto out;
	out->der = malloc(len);
	if (!out->der) {
		rc = EFIRMA_ERR_NOMEM;
		goto out;
	}
	memcpy(out->der, der, len);
	out->der_len = len;
	out->p8 = p8;
	p8 = NULL;
out:
	ERR_pop_to_mark();
	X509_SIG_free(p8);
	if (rc != EFIRMA_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum efirma_rc efirma_key_load(const char *path, struct efirma_key_file *out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!path || !out)
		return EFIRMA_ERR_ARG;
	memset(out, 0, sizeof(*out));
	enum efirma_rc rc = read_whole(path, EFIRMA_MAX_KEY_SIZE, &data, &len);
	if (rc != EFIRMA_OK)
		return rc;
	rc = efirma_key_parse(data, len, 0, out);
	if (rc != EFIRMA_OK)
		llv_warn("efirma: %s: %s", path, efirma_rc_str(rc));
	free(data);
	return rc;
}

enum efirma_rc efirma_key_decrypt(const struct efirma_key_file *k, const char *pass,
				  size_t pass_len, EVP_PKEY **pkey)
{
	enum efirma_rc rc = EFIRMA_ERR_BAD_PASSWORD;
	EVP_CIPHER_CTX *ctx = NULL;
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	uint8_t *plain = NULL;
	size_t plain_cap = 0;
	int n1 = 0, n2 = 0;

	if (!k || !k->p8 || !pkey || (!pass && pass_len) || pass_len > INT_MAX)
		return EFIRMA_ERR_ARG;
	*pkey = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *enc = NULL;
	X509_SIG_get0(k->p8, &alg, &enc);
	int enc_len = ASN1_STRING_length(enc);
	if (enc_len <= 0)
		return EFIRMA_ERR_CORRUPT;

	ERR_set_mark();
	ctx = EVP_CIPHER_CTX_new();
	plain_cap = (size_t)enc_len + EVP_MAX_BLOCK_LENGTH;
	plain = llv_secure_alloc(plain_cap);
	if (!ctx || !plain) {
		rc = EFIRMA_ERR_NOMEM;
		goto out;
	}
	/* Derives the key with PBKDF2 and sets up the cipher: only the file's
	 * parameters can make this fail, never the password. */
	if (!EVP_PBE_CipherInit_ex(alg->algorithm, pass ? pass : "", (int)pass_len,
				   alg->parameter, ctx, 0, NULL, NULL)) {
		llv_warn("efirma: key encryption parameters refused by OpenSSL");
		rc = EFIRMA_ERR_CORRUPT;
		goto out;
	}
	if (!EVP_CipherUpdate(ctx, plain, &n1, ASN1_STRING_get0_data(enc), enc_len)) {
		rc = EFIRMA_ERR_CORRUPT;
		goto out;
	}
	/* Bad padding: the usual sign of a wrong password. */
	if (!EVP_CipherFinal_ex(ctx, plain + n1, &n2))
		goto out;
	const unsigned char *p = plain;
	long plain_len = (long)n1 + n2;
	p8inf = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, plain_len);
	/* Garbage that happened to end in valid padding: also a wrong password. */
	if (!p8inf || p != plain + plain_len)
		goto out;
	*pkey = EVP_PKCS82PKEY(p8inf);
	if (!*pkey)
		goto out;
	rc = EFIRMA_OK;
out:
	ERR_pop_to_mark();
	PKCS8_PRIV_KEY_INFO_free(p8inf); /* clears the key octets */
	EVP_CIPHER_CTX_free(ctx);        /* clears the derived key */
	llv_secure_free(plain, plain_cap);
	return rc;
}

/* Signs a fixed message with pkey and verifies it with pub: proves the
 * private half is whole (a damaged .key can decrypt to well-formed DER whose
 * CRT values are wrong). */
static bool sign_roundtrip(EVP_PKEY *pkey, EVP_PKEY *pub)
{
	static const unsigned char msg[] = "llavero efirma key check";
	unsigned char sig[2048];
	size_t sig_len = sizeof(sig);
	bool ok = false;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md && EVP_PKEY_get_size(pkey) <= (int)sizeof(sig) &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg) - 1) == 1) {
		EVP_MD_CTX_reset(md);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		     EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg) - 1) == 1;
	}
	EVP_MD_CTX_free(md);
	return ok;
}

/* Checks the RSA private values against each other without primality tests
 * (EVP_PKEY_pairwise_check costs ~60 ms): n = p*q, e*dP = 1 mod p-1,
 * e*dQ = 1 mod q-1, qInv*q = 1 mod p, d = dP mod p-1 and d = dQ mod q-1.
 * OpenSSL would paper over bad CRT values by falling back to d on every
 * signature; a damaged .key must be refused instead. */
static bool rsa_values_consistent(EVP_PKEY *pkey)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	enum { N, E, D, P, Q, DP, DQ, QINV, COUNT };
	BIGNUM *v[COUNT] = { 0 };
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *t = BN_secure_new(), *pm1 = BN_secure_new(), *qm1 = BN_secure_new();
	bool ok = false;
	BIGNUM *f3 = NULL;

	if (!ctx || !t || !pm1 || !qm1)
		goto out;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &f3) == 1) {
		ok = true; /* multi-prime: left to the test signature */
		goto out;
	}
	for (int i = 0; i < COUNT; i++)
		if (EVP_PKEY_get_bn_param(pkey, names[i], &v[i]) != 1)
			goto out;
	if (BN_is_zero(v[P]) || BN_is_zero(v[Q]) || BN_is_one(v[P]) || BN_is_one(v[Q]))
		goto out;
	if (!BN_mul(t, v[P], v[Q], ctx) || BN_cmp(t, v[N]) != 0)
		goto out;
	if (!BN_sub(pm1, v[P], BN_value_one()) || !BN_sub(qm1, v[Q], BN_value_one()))
		goto out;
	if (!BN_mod_mul(t, v[E], v[DP], pm1, ctx) || !BN_is_one(t))
		goto out;
	if (!BN_mod_mul(t, v[E], v[DQ], qm1, ctx) || !BN_is_one(t))
		goto out;
	if (!BN_mod_mul(t, v[QINV], v[Q], v[P], ctx) || !BN_is_one(t))
		goto out;
	if (!BN_nnmod(t, v[D], pm1, ctx) || BN_cmp(t, v[DP]) != 0)
		goto out;
	if (!BN_nnmod(t, v[D], qm1, ctx) || BN_cmp(t, v[DQ]) != 0)
		goto out;
	ok = true;
out:
	for (int i = 0; i < COUNT; i++)
		BN_clear_free(v[i]);
	BN_clear_free(f3);
	BN_clear_free(t);
	BN_clear_free(pm1);
	BN_clear_free(qm1);
	BN_CTX_free(ctx);
	return ok;
}

enum efirma_rc efirma_key_matches_cert(EVP_PKEY *pkey, const struct efirma_cert *c)
{
	enum efirma_rc rc = EFIRMA_ERR_MISMATCH;
	if (!pkey || !c || !c->pubkey)
		return EFIRMA_ERR_ARG;
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_get_base_id(c->pubkey))
		return EFIRMA_ERR_MISMATCH;
	ERR_set_mark();
	if (EVP_PKEY_eq(pkey, c->pubkey) == 1) {
		rc = EFIRMA_OK;
		if ((EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && !rsa_values_consistent(pkey)) ||
		    !sign_roundtrip(pkey, c->pubkey)) {
			llv_warn("efirma: the .key opens but its private key is damaged");
			rc = EFIRMA_ERR_CORRUPT;
		}
	}
	ERR_pop_to_mark();
	return rc;
}

/* ---- pairs ------------------------------------------------------------------ */

void efirma_pair_free(struct efirma_pair *p)
{
	if (!p)
		return;
	free(p->cer_path);
	for (size_t i = 0; i < p->n_keys; i++)
		free(p->key_paths[i]);
	efirma_cert_free(&p->cert);
	memset(p, 0, sizeof(*p));
}

enum efirma_rc efirma_pair_open(struct efirma_pair *p, const char *pass, size_t pass_len,
				EVP_PKEY **pkey)
{
	enum efirma_rc first_err = EFIRMA_OK;
	bool any_bad_pass = false, any_mismatch = false;

	if (!p || !pkey || p->n_keys == 0)
		return EFIRMA_ERR_ARG;
	*pkey = NULL;
	for (size_t i = 0; i < p->n_keys; i++) {
		struct efirma_key_file kf;
		EVP_PKEY *k = NULL;
		enum efirma_rc rc = efirma_key_load(p->key_paths[i], &kf);
		if (rc == EFIRMA_OK) {
			rc = efirma_key_decrypt(&kf, pass, pass_len, &k);
			efirma_key_file_free(&kf);
		}
		if (rc == EFIRMA_OK) {
			rc = efirma_key_matches_cert(k, &p->cert);
			if (rc == EFIRMA_OK) {
				/* Bind the pair to this file from now on. */
				if (i != 0) {
					char *tmp = p->key_paths[0];
					p->key_paths[0] = p->key_paths[i];
					p->key_paths[i] = tmp;
				}
				for (size_t j = 1; j < p->n_keys; j++) {
					free(p->key_paths[j]);
					p->key_paths[j] = NULL;
				}
				p->n_keys = 1;
				*pkey = k;
				return EFIRMA_OK;
			}
			EVP_PKEY_free(k);
			llv_info("efirma: %s opens but is not the key of %s", p->key_paths[i],
				 p->cer_path ? p->cer_path : "the certificate");
		}
		if (rc == EFIRMA_ERR_BAD_PASSWORD)
			any_bad_pass = true;
		else if (rc == EFIRMA_ERR_MISMATCH)
			any_mismatch = true;
		else if (first_err == EFIRMA_OK)
			first_err = rc;
	}
	if (any_bad_pass)
		return EFIRMA_ERR_BAD_PASSWORD;
	if (any_mismatch)
		return EFIRMA_ERR_MISMATCH;
	return first_err;
}

void efirma_pair_list_free(struct efirma_pair_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		efirma_pair_free(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

/* Directory entry names ending in .cer / .key (any case). */
struct name_list {
	char **v;
	size_t n, cap;
};

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcasecmp(name + n - e, ext) == 0;
}

static int names_add(struct name_list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static void names_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Length of name without its 4-character extension. */
static size_t stem_len(const char *name)
{
	return strlen(name) - 4;
}

static bool same_stem(const char *a, const char *b)
{
	size_t la = stem_len(a), lb = stem_len(b);
	return la == lb && memcmp(a, b, la) == 0;
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return false;
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

static enum efirma_rc list_append(struct efirma_pair_list *list, struct efirma_pair *p)
{
	struct efirma_pair *v = realloc(list->items, (list->n + 1) * sizeof(*v));
	if (!v)
		return EFIRMA_ERR_NOMEM;
	list->items = v;
	list->items[list->n++] = *p;
	memset(p, 0, sizeof(*p));
	return EFIRMA_OK;
}

/* ---- scan memo ---------------------------------------------------------------- */

enum memo_kind { MEMO_UNUSABLE = 1, MEMO_NO_KEY = 2 };

struct efirma_memo_entry {
	char *path;
	enum memo_kind kind;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

void efirma_scan_memo_free(struct efirma_scan_memo *memo)
{
	if (!memo)
		return;
	for (size_t i = 0; i < memo->n; i++)
		free(memo->v[i].path);
	free(memo->v);
	memset(memo, 0, sizeof(*memo));
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The entry for path with kind when the file is still the same one. */
static bool memo_has(const struct efirma_scan_memo *memo, const char *path, enum memo_kind kind,
		     const struct stat *st)
{
	for (size_t i = 0; memo && i < memo->n; i++) {
		const struct efirma_memo_entry *e = &memo->v[i];
		if (e->kind == kind && !strcmp(e->path, path))
			return e->dev == st->st_dev && e->ino == st->st_ino &&
			       e->size == st->st_size && same_time(&e->mtime, &st->st_mtim) &&
			       same_time(&e->ctime, &st->st_ctim);
	}
	return false;
}

/* Remembers (or updates) path; files changed within the settle time are not
 * remembered. Allocation failure: not remembered (logged again next time). */
static void memo_put(struct efirma_scan_memo *memo, const char *path, enum memo_kind kind,
		     const struct stat *st)
{
	struct efirma_memo_entry *e = NULL;
	struct timespec now;

	if (!memo)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec - st->st_mtim.tv_sec < EFIRMA_MEMO_SETTLE_S ||
	    now.tv_sec - st->st_ctim.tv_sec < EFIRMA_MEMO_SETTLE_S)
		return;
	for (size_t i = 0; i < memo->n && !e; i++)
		if (memo->v[i].kind == kind && !strcmp(memo->v[i].path, path))
			e = &memo->v[i];
	if (!e) {
		if (memo->n == memo->cap) {
			size_t cap = memo->cap ? memo->cap * 2 : 8;
			struct efirma_memo_entry *v = realloc(memo->v, cap * sizeof(*v));
			if (!v)
				return;
			memo->v = v;
			memo->cap = cap;
		}
		char *copy = strdup(path);
		if (!copy)
			return;
		e = &memo->v[memo->n++];
		e->path = copy;
		e->kind = kind;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
}

enum efirma_rc efirma_scan_dir(const char *dir, struct efirma_pair_list *list)
{
	return efirma_scan_dir_memo(dir, list, NULL);
}

enum efirma_rc efirma_scan_dir_memo(const char *dir, struct efirma_pair_list *list,
				    struct efirma_scan_memo *memo)
{
	struct name_list cers = { 0 }, keys = { 0 };
	enum efirma_rc rc = EFIRMA_OK;

	if (!dir || !list)
		return EFIRMA_ERR_ARG;
	DIR *d = opendir(dir);
	if (!d) {
		llv_warn("efirma: cannot open directory %s: %s", dir, strerror(errno));
		return EFIRMA_ERR_IO;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		bool cer = has_ext(e->d_name, ".cer"), key = has_ext(e->d_name, ".key");
		if (!cer && !key)
			continue;
		char *path = join_path(dir, e->d_name);
		struct stat st;
		bool regular = path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
		free(path);
		if (!regular)
			continue;
		if (names_add(cer ? &cers : &keys, e->d_name) < 0) {
			rc = EFIRMA_ERR_NOMEM;
			break;
		}
	}
	closedir(d);
	if (rc != EFIRMA_OK)
		goto out;
	if (cers.n)
		qsort(cers.v, cers.n, sizeof(*cers.v), cmp_str);
	if (keys.n)
		qsort(keys.v, keys.n, sizeof(*keys.v), cmp_str);

	for (size_t i = 0; i < cers.n && rc == EFIRMA_OK; i++) {
		struct efirma_pair p;
		memset(&p, 0, sizeof(p));
		p.cer_path = join_path(dir, cers.v[i]);
		if (!p.cer_path) {
			rc = EFIRMA_ERR_NOMEM;
			break;
		}
		struct stat cst;
		bool have_st = stat(p.cer_path, &cst) == 0;
		if (have_st && memo_has(memo, p.cer_path, MEMO_UNUSABLE, &cst)) {
			llv_debug("efirma: %s: unusable, unchanged since it was reported; skipped",
				  p.cer_path);
			efirma_pair_free(&p);
			continue;
		}
		if (efirma_cert_load(p.cer_path, &p.cert) != EFIRMA_OK) {
			if (have_st)
				memo_put(memo, p.cer_path, MEMO_UNUSABLE, &cst);
			efirma_pair_free(&p);
			continue; /* logged by the loader */
		}
		if (X509_check_ca(p.cert.x509)) {
			/* SAT's CA certificates often sit next to the pair. */
			llv_debug("efirma: %s is a CA certificate; skipped", p.cer_path);
			efirma_pair_free(&p);
			continue;
		}
		/* 1. NAME.key next to NAME.cer. */
		for (size_t j = 0; j < keys.n && !p.n_keys; j++)
			if (same_stem(cers.v[i], keys.v[j]))
				p.key_paths[p.n_keys++] = join_path(dir, keys.v[j]);
		/* 2. Otherwise the .key files no .cer claims by name (SAT's
		 * "Claveprivada_FIEL_RFC_....key" next to "0000100000....cer"),
		 * those naming the certificate's RFC first. */
		for (int pass = 0; pass < 2 && !p.n_keys; pass++) {
			for (size_t j = 0; j < keys.n && p.n_keys < EFIRMA_MAX_KEY_CANDIDATES; j++) {
				bool claimed = false;
				for (size_t c = 0; c < cers.n && !claimed; c++)
					claimed = same_stem(cers.v[c], keys.v[j]);
				if (claimed)
					continue;
				bool names_rfc = contains_ci(keys.v[j], p.cert.rfc);
				if ((pass == 0) != names_rfc)
					continue;
				p.key_paths[p.n_keys++] = join_path(dir, keys.v[j]);
			}
		}
		for (size_t j = 0; j < p.n_keys; j++)
			if (!p.key_paths[j])
				rc = EFIRMA_ERR_NOMEM;
		if (rc == EFIRMA_OK && p.n_keys == 0) {
			if (have_st && memo_has(memo, p.cer_path, MEMO_NO_KEY, &cst)) {
				llv_debug("efirma: %s has no .key file next to it; skipped",
					  p.cer_path);
			} else {
				llv_info("efirma: %s has no .key file next to it; skipped",
					 p.cer_path);
				if (have_st)
					memo_put(memo, p.cer_path, MEMO_NO_KEY, &cst);
			}
			efirma_pair_free(&p);
			continue;
		}
		if (rc == EFIRMA_OK)
			rc = list_append(list, &p);
		efirma_pair_free(&p);
	}
out:
	names_free(&cers);
	names_free(&keys);
	return rc;
}

/* ---- configuration ------------------------------------------------------------ */

static int dirs_add(char ***dirs, size_t *n, const char *s, size_t len)
{
	char **v = realloc(*dirs, (*n + 2) * sizeof(*v));
	if (!v)
		return -1;
	*dirs = v;
	const char *home = getenv("HOME");
	char *copy;
	if (len >= 2 && s[0] == '~' && s[1] == '/' && home && *home) {
		size_t hl = strlen(home);
		copy = malloc(hl + len);
		if (copy) {
			memcpy(copy, home, hl);
			memcpy(copy + hl, s + 1, len - 1);
			copy[hl + len - 1] = '\0';
		}
	} else {
		copy = strndup(s, len);
	}
	if (!copy)
		return -1;
	v[(*n)++] = copy;
	v[*n] = NULL;
	return 0;
}

int efirma_config_read(const char *path, char ***dirs, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0;
	if (!f)
		return 0; /* no config file is fine */
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			llv_warn("efirma: %s:%d: expected KEY = VALUE", path, lineno);
			continue;
		}
		char *kend = eq;
		while (kend > s && isspace((unsigned char)kend[-1]))
			kend--;
		char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		size_t vlen = strlen(v);
		while (vlen && isspace((unsigned char)v[vlen - 1]))
			vlen--;
		if ((size_t)(kend - s) != strlen("efirma_dir") || strncmp(s, "efirma_dir", 10))
			continue; /* other modules' keys */
		if (!vlen)
			continue;
		if (dirs_add(dirs, n, v, vlen) < 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

void efirma_dirs_free(char **dirs)
{
	if (!dirs)
		return;
	for (char **d = dirs; *d; d++)
		free(*d);
	free(dirs);
}

char **efirma_config_dirs(void)
{
	char **dirs = calloc(1, sizeof(*dirs));
	size_t n = 0;
	if (!dirs)
		return NULL;
	const char *env = getenv("LLAVERO_EFIRMA_DIR");
	if (env) {
		const char *s = env;
		while (*s) {
			size_t len = strcspn(s, ":");
			if (len && dirs_add(&dirs, &n, s, len) < 0)
				goto fail;
			s += len;
			if (*s == ':')
				s++;
		}
		return dirs;
	}
	const char *conf = getenv("LLAVERO_PKCS11_CONF");
	if (conf) {
		if (efirma_config_read(conf, &dirs, &n) < 0)
			goto fail;
		return dirs;
	}
	if (efirma_config_read("/etc/llavero/pkcs11.conf", &dirs, &n) < 0)
		goto fail;
	char path[PATH_MAX];
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int len = -1;
	if (xdg && *xdg)
		len = snprintf(path, sizeof(path), "%s/llavero/pkcs11.conf", xdg);
	else if (home && *home)
		len = snprintf(path, sizeof(path), "%s/.config/llavero/pkcs11.conf", home);
	if (len > 0 && (size_t)len < sizeof(path) && efirma_config_read(path, &dirs, &n) < 0)
		goto fail;
	return dirs;
fail:
	efirma_dirs_free(dirs);
	return NULL;
}

enum efirma_rc efirma_scan_config(struct efirma_pair_list *list)
{
	return efirma_scan_config_memo(list, NULL);
}

enum efirma_rc efirma_scan_config_memo(struct efirma_pair_list *list,
				       struct efirma_scan_memo *memo)
{
	char **dirs = efirma_config_dirs();
	if (!dirs)
		return EFIRMA_ERR_NOMEM;
	enum efirma_rc rc = EFIRMA_OK;
	for (char **d = dirs; *d && rc != EFIRMA_ERR_NOMEM; d++) {
		struct efirma_pair_list found = { 0 };
		char *real = realpath(*d, NULL); /* "dir" and "dir/" are one */
		enum efirma_rc r = efirma_scan_dir_memo(real ? real : *d, &found, memo);
		free(real);
		if (r == EFIRMA_ERR_NOMEM)
			rc = r;
		for (size_t i = 0; i < found.n && rc == EFIRMA_OK; i++) {
			bool dup = false;
			for (size_t j = 0; j < list->n && !dup; j++)
				dup = !strcmp(list->items[j].cer_path, found.items[i].cer_path);
			if (!dup)
				rc = list_append(list, &found.items[i]);
		}
		efirma_pair_list_free(&found);
	}
	efirma_dirs_free(dirs);
	return rc;
}
