/* Signing (by the token) and verification (in software with the public
 * key): C_SignInit/C_Sign/C_SignUpdate/C_SignFinal and the C_Verify* ones.
 * The core hashes and pads; the driver's sign() gets a modulus-sized block
 * (RSA) or a hash (ECDSA). A key with CKA_ALWAYS_AUTHENTICATE needs
 * C_Login(CKU_CONTEXT_SPECIFIC) between C_SignInit and C_Sign.
 * An operation ends on any result but CKR_BUFFER_TOO_SMALL and a length
 * query (NULL signature buffer). */
#include "p11_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "log.h"
#include "secmem.h"

#define MAX_RAW_INPUT 1024

enum mkind { MK_RSA_PKCS, MK_RSA_PSS, MK_ECDSA };

struct mdesc {
	CK_MECHANISM_TYPE type;
	enum mkind kind;
	CK_MECHANISM_TYPE hash;     /* 0: raw input */
};

static const struct mdesc mdescs[] = {
	{ CKM_RSA_PKCS, MK_RSA_PKCS, 0 },
	{ CKM_SHA1_RSA_PKCS, MK_RSA_PKCS, CKM_SHA_1 },
	{ CKM_SHA224_RSA_PKCS, MK_RSA_PKCS, CKM_SHA224 },
	{ CKM_SHA256_RSA_PKCS, MK_RSA_PKCS, CKM_SHA256 },
	{ CKM_SHA384_RSA_PKCS, MK_RSA_PKCS, CKM_SHA384 },
	{ CKM_SHA512_RSA_PKCS, MK_RSA_PKCS, CKM_SHA512 },
	{ CKM_RSA_PKCS_PSS, MK_RSA_PSS, 0 },
	{ CKM_SHA1_RSA_PKCS_PSS, MK_RSA_PSS, CKM_SHA_1 },
	{ CKM_SHA224_RSA_PKCS_PSS, MK_RSA_PSS, CKM_SHA224 },
	{ CKM_SHA256_RSA_PKCS_PSS, MK_RSA_PSS, CKM_SHA256 },
	{ CKM_SHA384_RSA_PKCS_PSS, MK_RSA_PSS, CKM_SHA384 },
	{ CKM_SHA512_RSA_PKCS_PSS, MK_RSA_PSS, CKM_SHA512 },
	{ CKM_ECDSA, MK_ECDSA, 0 },
	{ CKM_ECDSA_SHA1, MK_ECDSA, CKM_SHA_1 },
	{ CKM_ECDSA_SHA224, MK_ECDSA, CKM_SHA224 },
	{ CKM_ECDSA_SHA256, MK_ECDSA, CKM_SHA256 },
	{ CKM_ECDSA_SHA384, MK_ECDSA, CKM_SHA384 },
	{ CKM_ECDSA_SHA512, MK_ECDSA, CKM_SHA512 },
};

static const struct mdesc *mdesc_of(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < sizeof(mdescs) / sizeof(mdescs[0]); i++)
		if (mdescs[i].type == t)
			return &mdescs[i];
	return NULL;
}

static size_t sig_len(const struct p11_object *key)
{
	size_t bytes = (key->bits + 7) / 8;

	return key->key_type == CKK_EC ? 2 * bytes : bytes;
}

/* Validates mechanism and key and builds the operation. */
static CK_RV op_init(struct p11_session *s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hKey, bool verify,
                     struct p11_sign_op **out)
{
	struct p11_token *t = s->slot->token;
	const struct mdesc *d;
	struct p11_object *key = NULL;
	struct p11_sign_op *op;
	CK_MECHANISM_INFO mi;

	if (!m)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < t->nobjs; i++)
		if (t->objs[i]->handle == hKey)
			key = t->objs[i];
	if (!key)
		return CKR_KEY_HANDLE_INVALID;
	if (!p11_object_visible(t, key))
		return CKR_USER_NOT_LOGGED_IN;
	d = mdesc_of(m->mechanism);
	if (!d || p11_mech_info(t, m->mechanism, &mi) != CKR_OK)
		return CKR_MECHANISM_INVALID;
	if (key->cls != (verify ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY))
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((d->kind == MK_ECDSA) != (key->key_type == CKK_EC))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!verify && !key->can_sign)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (key->bits < mi.ulMinKeySize || key->bits > mi.ulMaxKeySize)
		return CKR_KEY_SIZE_RANGE;
	op = calloc(1, sizeof(*op));
	if (!op)
		return CKR_HOST_MEMORY;
	llv_buf_init_secret(&op->data);
	op->mech = m->mechanism;
	op->key = key;
	op->verify = verify;
	if (d->kind == MK_RSA_PSS) {
		const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;

		if (!p || m->ulParameterLen != sizeof(*p) || !p11_md_of_mech(p->hashAlg) ||
		    !p11_md_of_mgf(p->mgf) || (d->hash && p->hashAlg != d->hash) ||
		    p->sLen > (key->bits + 7) / 8) {
			p11_sign_op_free(op);
			return CKR_MECHANISM_PARAM_INVALID;
		}
		op->pss_hash = p->hashAlg;
		op->pss_mgf = p->mgf;
		op->pss_salt = p->sLen;
	} else if (m->pParameter || m->ulParameterLen) {
		p11_sign_op_free(op);
		return CKR_MECHANISM_PARAM_INVALID;
	}
	if (d->hash) {
		op->md = p11_md_of_mech(d->hash);
		op->mdctx = EVP_MD_CTX_new();
		if (!op->mdctx || !EVP_DigestInit_ex(op->mdctx, op->md, NULL)) {
			p11_sign_op_free(op);
			return CKR_HOST_MEMORY;
		}
	}
	*out = op;
	return CKR_OK;
}

/* data may be NULL when len is 0. */
static CK_RV op_update(struct p11_sign_op *op, const CK_BYTE *data, CK_ULONG len)
{
	if (!data)
		data = (const CK_BYTE *)"";
	op->multipart = true;
	if (op->md)
		return EVP_DigestUpdate(op->mdctx, data, len) ? CKR_OK : CKR_GENERAL_ERROR;
	if (op->data.len + len > MAX_RAW_INPUT)
		return CKR_DATA_LEN_RANGE;
	llv_buf_put(&op->data, data, len);
	return llv_buf_ok(&op->data) ? CKR_OK : CKR_HOST_MEMORY;
}

/* The bytes to be signed: the hash (hashed mechanisms) or the raw input.
 * For RSA PKCS#1 v1.5 with a hash, the DigestInfo. */
static CK_RV op_tbs(struct p11_sign_op *op, struct llv_buf *tbs)
{
	uint8_t hash[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (op->md) {
		if (!EVP_DigestFinal_ex(op->mdctx, hash, &hl))
			return CKR_GENERAL_ERROR;
		if (op->key->key_type == CKK_RSA && op->pss_hash == 0)
			return p11_digest_info(op->md, hash, hl, tbs) ? CKR_GENERAL_ERROR : CKR_OK;
		llv_buf_put(tbs, hash, hl);
	} else {
		llv_buf_put(tbs, op->data.data, op->data.len);
	}
	return llv_buf_ok(tbs) ? CKR_OK : CKR_HOST_MEMORY;
}

/* Builds the driver's input from tbs. */
static CK_RV encode(struct p11_sign_op *op, const struct llv_buf *tbs, uint8_t *block, size_t *blen)
{
	size_t k = (op->key->bits + 7) / 8;

	if (op->key->key_type == CKK_EC) {
		if (tbs->len == 0 || tbs->len > 64)
			return CKR_DATA_LEN_RANGE;
		memcpy(block, tbs->data, tbs->len);
		*blen = tbs->len;
		return CKR_OK;
	}
	if (op->pss_hash) {
		const EVP_MD *h = p11_md_of_mech(op->pss_hash);

		if (tbs->len != (size_t)EVP_MD_get_size(h))
			return CKR_DATA_LEN_RANGE;
		if (p11_pad_pss(op->key->pub, h, p11_md_of_mgf(op->pss_mgf), tbs->data, op->pss_salt,
		                block, k))
			return CKR_MECHANISM_PARAM_INVALID;
	} else if (p11_pad_pkcs1_type1(tbs->data, tbs->len, block, k)) {
		return CKR_DATA_LEN_RANGE;
	}
	*blen = k;
	return CKR_OK;
}

/* Finishes a sign operation into sig (never NULL: the callers answer length
 * queries themselves); the op is kept on CKR_BUFFER_TOO_SMALL. */
static CK_RV sign_final(struct p11_session *s, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len_p,
                        bool *keep)
{
	struct p11_sign_op *op = s->sign;
	struct p11_token *t = s->slot->token;
	struct llv_buf tbs;
	uint8_t *block = NULL;
	size_t blen = 0, need = sig_len(op->key), outl;
	CK_RV rv;

	*keep = false;
	if (*sig_len_p < need) {
		*sig_len_p = need;
		*keep = true;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (t->user != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	if (op->key->always_auth && !op->context_login)
		return CKR_USER_NOT_LOGGED_IN;
	llv_buf_init_secret(&tbs);
	block = llv_secure_alloc(1024);
	if (!block)
		return CKR_HOST_MEMORY;
	rv = op_tbs(op, &tbs);
	if (rv == CKR_OK)
		rv = encode(op, &tbs, block, &blen);
	if (rv == CKR_OK) {
		outl = *sig_len_p;
		rv = t->drv->sign(t->priv, op->key, block, blen, sig, &outl);
		rv = p11_slot_driver_rv(s->slot, rv);
		if (rv == CKR_OK)
			*sig_len_p = outl;
	}
	llv_buf_free(&tbs);
	llv_secure_free(block, 1024);
	return rv;
}

/* ---- verification in software --------------------------------------------- */

static CK_RV verify_final(struct p11_sign_op *op, const CK_BYTE *sig, CK_ULONG slen)
{
	struct llv_buf tbs = LLV_BUF_INIT;
	EVP_PKEY_CTX *ctx = NULL;
	CK_RV rv;
	int ok = 0;

	if (slen != sig_len(op->key))
		return CKR_SIGNATURE_LEN_RANGE;
	rv = op_tbs(op, &tbs);
	if (rv != CKR_OK)
		goto out;
	ctx = EVP_PKEY_CTX_new(op->key->pub, NULL);
	if (!ctx) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (op->key->key_type == CKK_EC) {
		size_t half = slen / 2;
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *sv = BN_bin2bn(sig + half, (int)half, NULL);
		unsigned char *der = NULL;
		int dl;

		if (!es || !r || !sv || !ECDSA_SIG_set0(es, r, sv)) {
			BN_free(r);
			BN_free(sv);
			ECDSA_SIG_free(es);
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		dl = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (tbs.len == 0 || tbs.len > 64) {
			OPENSSL_free(der);
			rv = CKR_DATA_LEN_RANGE;
			goto out;
		}
		ok = dl > 0 && EVP_PKEY_verify_init(ctx) == 1 &&
		     EVP_PKEY_verify(ctx, der, (size_t)dl, tbs.data, tbs.len) == 1;
		OPENSSL_free(der);
	} else if (op->pss_hash) {
		const EVP_MD *h = p11_md_of_mech(op->pss_hash);

		if (tbs.len != (size_t)EVP_MD_get_size(h)) {
			rv = CKR_DATA_LEN_RANGE;
			goto out;
		}
		ok = EVP_PKEY_verify_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, h) == 1 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, p11_md_of_mgf(op->pss_mgf)) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)op->pss_salt) == 1 &&
		     EVP_PKEY_verify(ctx, sig, slen, tbs.data, tbs.len) == 1;
	} else {
		/* PKCS#1 v1.5: recover and compare (raw and DigestInfo alike) */
		uint8_t rec[1024];
		size_t rl = sizeof(rec);

		if (tbs.len > slen - 11) {
			rv = CKR_DATA_LEN_RANGE;
			goto out;
		}
		ok = EVP_PKEY_verify_recover_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_verify_recover(ctx, rec, &rl, sig, slen) == 1 && rl == tbs.len &&
		     memcmp(rec, tbs.data, rl) == 0;
	}
	rv = ok ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
	EVP_PKEY_CTX_free(ctx);
	llv_buf_free(&tbs);
	return rv;
}

/* ---- Cryptoki functions ---------------------------------------------------- */

/* The session's sign or verify operation. */
static struct p11_sign_op **op_of(struct p11_session *s, bool verify)
{
	return verify ? &s->verify : &s->sign;
}

/* C_SignInit and C_VerifyInit. */
static CK_RV op_begin(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                      CK_OBJECT_HANDLE hKey, bool verify)
{
	struct p11_session *s;
	struct p11_sign_op **op;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	op = op_of(s, verify);
	if (*op)
		rv = CKR_OPERATION_ACTIVE;
	else
		rv = op_init(s, pMechanism, hKey, verify, op);
	p11_session_release(s);
	return rv;
}

/* C_SignUpdate and C_VerifyUpdate: an error ends the operation. */
static CK_RV op_part(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, bool verify)
{
	struct p11_session *s;
	struct p11_sign_op **op;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	op = op_of(s, verify);
	if (!*op)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else if (!pPart && ulPartLen)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = op_update(*op, pPart, ulPartLen);
	if (rv != CKR_OK && rv != CKR_OPERATION_NOT_INITIALIZED)
		p11_sign_op_end(op);
	p11_session_release(s);
	return rv;
}

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return op_begin(hSession, pMechanism, hKey, false);
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);
	bool keep = false;

	if (rv != CKR_OK)
		return rv;
	if (!s->sign) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if ((!pData && ulDataLen) || !pulSignatureLen) {
		rv = CKR_ARGUMENTS_BAD;
		p11_sign_op_end(&s->sign);
		goto out;
	}
	if (s->sign->multipart) {
		/* C_Sign cannot finish a multi-part operation */
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (!pSignature) {
		*pulSignatureLen = sig_len(s->sign->key);
		goto out;
	}
	rv = op_update(s->sign, pData, ulDataLen);
	s->sign->multipart = false;
	if (rv == CKR_OK)
		rv = sign_final(s, pSignature, pulSignatureLen, &keep);
	if (keep && s->sign) {
		/* the data is taken again on the next call */
		if (s->sign->md) {
			EVP_DigestInit_ex(s->sign->mdctx, s->sign->md, NULL);
		} else {
			llv_buf_clear(&s->sign->data);
		}
	}
	if (!keep && s->slot->token)
		p11_sign_op_end(&s->sign);
out:
	p11_session_release(s);
	return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return op_part(hSession, pPart, ulPartLen, false);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);
	bool keep = false;

	if (rv != CKR_OK)
		return rv;
	if (!s->sign) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else if (!pulSignatureLen) {
		rv = CKR_ARGUMENTS_BAD;
		p11_sign_op_end(&s->sign);
	} else {
		if (!pSignature) {
			*pulSignatureLen = sig_len(s->sign->key);
			keep = true;
		} else {
			/* sign_final checks the buffer size before it finishes
			 * the digest, so CKR_BUFFER_TOO_SMALL keeps the operation */
			rv = sign_final(s, pSignature, pulSignatureLen, &keep);
		}
		if (!keep && s->slot->token)
			p11_sign_op_end(&s->sign);
	}
	p11_session_release(s);
	return rv;
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return op_begin(hSession, pMechanism, hKey, true);
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->verify) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out;
	}
	if ((!pData && ulDataLen) || !pSignature)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->verify->multipart)
		rv = CKR_OPERATION_ACTIVE;
	else
		rv = op_update(s->verify, pData, ulDataLen);
	if (rv == CKR_OK)
		rv = verify_final(s->verify, pSignature, ulSignatureLen);
	if (rv != CKR_OPERATION_ACTIVE)
		p11_sign_op_end(&s->verify);
out:
	p11_session_release(s);
	return rv;
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return op_part(hSession, pPart, ulPartLen, true);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->verify) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		rv = pSignature ? verify_final(s->verify, pSignature, ulSignatureLen) : CKR_ARGUMENTS_BAD;
		p11_sign_op_end(&s->verify);
	}
	p11_session_release(s);
	return rv;
}
