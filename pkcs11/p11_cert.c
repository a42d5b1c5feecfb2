/* Objects derived from a certificate: the certificate, its public key and
 * (when the driver has it) its private key, sharing CKA_ID, with labels from
 * the holder's name (2.5.4.41 name, else CN) and RFC (2.5.4.45), as e.firma
 * certificates carry them. Drivers call p11_token_add_cert / _add_key. */
#include "p11_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "log.h"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int add_attr(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	struct p11_attr *na = realloc(o->attrs, (o->nattrs + 1) * sizeof(*na));
	void *copy = NULL;

	if (!na)
		return -1;
	o->attrs = na;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -1;
		memcpy(copy, v, len);
	}
	na[o->nattrs].type = type;
	na[o->nattrs].value = copy;
	na[o->nattrs].len = len;
	o->nattrs++;
	return 0;
}

static int add_bool(struct p11_object *o, CK_ATTRIBUTE_TYPE type, bool v)
{
	return add_attr(o, type, v ? &yes : &no, sizeof(CK_BBOOL));
}

static int add_ulong(struct p11_object *o, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return add_attr(o, type, &v, sizeof(v));
}

static int add_str(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const char *s)
{
	return add_attr(o, type, s, s ? strlen(s) : 0);
}

static int add_serial(struct p11_object *o, const ASN1_INTEGER *serial)
{
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER(serial, &der);
	int r = n > 0 ? add_attr(o, CKA_SERIAL_NUMBER, der, (size_t)n) : -1;

	OPENSSL_free(der);
	return r;
}

static int add_name(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const X509_NAME *name)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(name, &der);
	int r = n > 0 ? add_attr(o, type, der, (size_t)n) : -1;

	OPENSSL_free(der);
	return r;
}

static int add_bn(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const EVP_PKEY *pk, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char *buf;
	int n, r;

	if (!EVP_PKEY_get_bn_param(pk, param, &bn))
		return -1;
	n = BN_num_bytes(bn);
	buf = malloc(n ? (size_t)n : 1);
	if (!buf) {
		BN_free(bn);
		return -1;
	}
	BN_bn2bin(bn, buf);
	r = add_attr(o, type, buf, (size_t)n);
	free(buf);
	BN_free(bn);
	return r;
}

/* Text of the first entry nid in name, UTF-8; NULL when absent. */
static char *name_entry(const X509_NAME *name, int nid)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *utf8 = NULL;
	char *s;
	int n;

	if (i < 0)
		return NULL;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return NULL;
	s = strndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return s;
}

/* The holder's name and RFC (the persona moral's: the company's). */
static void holder_parts(const X509 *x, char **name, char **rfc)
{
	const X509_NAME *subj = X509_get_subject_name(x);

	*name = name_entry(subj, NID_name);
	*rfc = name_entry(subj, NID_x500UniqueIdentifier);
	if (!*name)
		*name = name_entry(subj, NID_commonName);
	if (*rfc) {
		/* persona moral: "RFC-EMPRESA / RFC-REPRESENTANTE": the first */
		char *slash = strchr(*rfc, '/');

		if (slash) {
			*slash = '\0';
			while (slash > *rfc && slash[-1] == ' ')
				*--slash = '\0';
		}
	}
}

int p11_cert_token_label(const uint8_t *der, size_t len, char *out, size_t size)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char *name = NULL, *rfc = NULL;

	if (!x || size < 2)
		goto fail;
	holder_parts(x, &name, &rfc);
	X509_free(x);
	if (!name)
		goto fail;
	if (rfc && *rfc && strlen(rfc) + 4 < size) {
		/* "NAME (RFC)", the name shortened so the RFC always fits */
		name[p11_utf8_prefix(name, size - 1 - strlen(rfc) - 3)] = '\0';
		snprintf(out, size, "%s (%s)", name, rfc);
	} else {
		name[p11_utf8_prefix(name, size - 1)] = '\0';
		snprintf(out, size, "%s", name);
	}
	free(name);
	free(rfc);
	return 0;
fail:
	free(name);
	free(rfc);
	return -1;
}

static char *holder_label(const X509 *x)
{
	char *name, *rfc;
	char *label;

	holder_parts(x, &name, &rfc);
	if (name && rfc && *rfc) {
		size_t n = strlen(name) + strlen(rfc) + 4;

		label = malloc(n);
		if (label)
			snprintf(label, n, "%s (%s)", name, rfc);
	} else if (name) {
		label = strdup(name);
	} else {
		label = strdup("Certificado");
	}
	free(name);
	free(rfc);
	return label;
}

static struct p11_object *obj_new(CK_OBJECT_CLASS cls, bool private_obj)
{
	struct p11_object *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->cls = cls;
	o->private_obj = private_obj;
	if (add_ulong(o, CKA_CLASS, cls) || add_bool(o, CKA_TOKEN, true) ||
	    add_bool(o, CKA_PRIVATE, private_obj) || add_bool(o, CKA_MODIFIABLE, false) ||
	    add_bool(o, CKA_COPYABLE, false) || add_bool(o, CKA_DESTROYABLE, false)) {
		p11_object_free(o);
		return NULL;
	}
	return o;
}

static int token_push(struct p11_token *tok, struct p11_object *o)
{
	struct p11_object **n = realloc(tok->objs, (tok->nobjs + 1) * sizeof(*n));

	if (!n)
		return -1;
	tok->objs = n;
	p11_lock(g_p11.lock);
	o->handle = g_p11.next_object++;
	p11_unlock(g_p11.lock);
	tok->objs[tok->nobjs++] = o;
	return 0;
}

/* Attributes every key object has (PKCS#11 3.0 4.7, 4.8). */
static int key_common(struct p11_object *o, const EVP_PKEY *pk, const uint8_t *id, size_t id_len,
                      const char *label, const X509_NAME *subject, bool is_rsa)
{
	CK_MECHANISM_TYPE rsa_mechs[] = {
		CKM_RSA_PKCS, CKM_SHA1_RSA_PKCS, CKM_SHA256_RSA_PKCS, CKM_SHA384_RSA_PKCS,
		CKM_SHA512_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA1_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
		CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS,
	};
	CK_MECHANISM_TYPE ec_mechs[] = { CKM_ECDSA, CKM_ECDSA_SHA1, CKM_ECDSA_SHA256,
		                         CKM_ECDSA_SHA384, CKM_ECDSA_SHA512 };
	unsigned char *spki = NULL;
	int n, r = 0;

	r |= add_ulong(o, CKA_KEY_TYPE, is_rsa ? CKK_RSA : CKK_EC);
	r |= add_attr(o, CKA_ID, id, id_len);
	r |= add_str(o, CKA_LABEL, label);
	r |= add_attr(o, CKA_START_DATE, NULL, 0);
	r |= add_attr(o, CKA_END_DATE, NULL, 0);
	r |= add_bool(o, CKA_DERIVE, false);
	r |= add_bool(o, CKA_LOCAL, false);
	r |= add_ulong(o, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	if (is_rsa)
		r |= add_attr(o, CKA_ALLOWED_MECHANISMS, rsa_mechs, sizeof(rsa_mechs));
	else
		r |= add_attr(o, CKA_ALLOWED_MECHANISMS, ec_mechs, sizeof(ec_mechs));
	if (subject)
		r |= add_name(o, CKA_SUBJECT, subject);
	else
		r |= add_attr(o, CKA_SUBJECT, NULL, 0);
	n = i2d_PUBKEY(pk, &spki);
	r |= n > 0 ? add_attr(o, CKA_PUBLIC_KEY_INFO, spki, (size_t)n) : -1;
	OPENSSL_free(spki);
	if (is_rsa) {
		r |= add_bn(o, CKA_MODULUS, pk, OSSL_PKEY_PARAM_RSA_N);
		r |= add_bn(o, CKA_PUBLIC_EXPONENT, pk, OSSL_PKEY_PARAM_RSA_E);
		r |= add_ulong(o, CKA_MODULUS_BITS, (CK_ULONG)EVP_PKEY_get_bits(pk));
	} else {
		/* CKA_EC_PARAMS: the DER of the curve's OID */
		char curve[64];
		size_t cl = 0;
		ASN1_OBJECT *oid;
		unsigned char *der = NULL;

		if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve,
		                                    sizeof(curve), &cl))
			return -1;
		oid = OBJ_txt2obj(curve, 0);
		n = oid ? i2d_ASN1_OBJECT(oid, &der) : -1;
		r |= n > 0 ? add_attr(o, CKA_EC_PARAMS, der, (size_t)n) : -1;
		OPENSSL_free(der);
		ASN1_OBJECT_free(oid);
	}
	return r ? -1 : 0;
}

static int ec_point(struct p11_object *o, const EVP_PKEY *pk)
{
	unsigned char pt[200];
	size_t len = 0;
	ASN1_OCTET_STRING *os;
	unsigned char *der = NULL;
	int n, r;

	if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len))
		return -1;
	os = ASN1_OCTET_STRING_new();
	if (!os || !ASN1_OCTET_STRING_set(os, pt, (int)len)) {
		ASN1_OCTET_STRING_free(os);
		return -1;
	}
	n = i2d_ASN1_OCTET_STRING(os, &der);
	r = n > 0 ? add_attr(o, CKA_EC_POINT, der, (size_t)n) : -1;
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);
	return r;
}

/* Public and private key objects for pk. */
static CK_RV add_keys(struct p11_token *tok, EVP_PKEY *pk, const uint8_t *id, size_t id_len,
                      const char *label, const X509_NAME *subject, const struct p11_key_spec *ks)
{
	bool is_rsa = EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
	bool card = tok->drv->kind == P11_DRIVER_CARD;
	struct p11_object *pub = NULL, *priv = NULL;
	const char *key_label = ks && ks->key_label ? ks->key_label : label;

	if (!is_rsa && EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
		llv_warn("token: key of an unsupported type skipped");
		return CKR_OK;
	}
	pub = obj_new(CKO_PUBLIC_KEY, false);
	if (!pub || key_common(pub, pk, id, id_len, key_label, subject, is_rsa) ||
	    add_bool(pub, CKA_ENCRYPT, false) || add_bool(pub, CKA_VERIFY, true) ||
	    add_bool(pub, CKA_VERIFY_RECOVER, false) || add_bool(pub, CKA_WRAP, false) ||
	    add_bool(pub, CKA_TRUSTED, false) || (!is_rsa && ec_point(pub, pk)))
		goto oom;
	pub->key_type = is_rsa ? CKK_RSA : CKK_EC;
	pub->bits = (CK_ULONG)EVP_PKEY_get_bits(pk);
	if (!EVP_PKEY_up_ref(pk))
		goto oom;
	pub->pub = pk;
	if (ks) {
		priv = obj_new(CKO_PRIVATE_KEY, true);
		if (!priv || key_common(priv, pk, id, id_len, key_label, subject, is_rsa) ||
		    add_bool(priv, CKA_SENSITIVE, true) || add_bool(priv, CKA_DECRYPT, ks->decrypt) ||
		    add_bool(priv, CKA_SIGN, ks->sign) || add_bool(priv, CKA_SIGN_RECOVER, false) ||
		    add_bool(priv, CKA_UNWRAP, false) || add_bool(priv, CKA_EXTRACTABLE, false) ||
		    add_bool(priv, CKA_ALWAYS_SENSITIVE, card) ||
		    add_bool(priv, CKA_NEVER_EXTRACTABLE, card) ||
		    add_bool(priv, CKA_WRAP_WITH_TRUSTED, false) ||
		    add_bool(priv, CKA_ALWAYS_AUTHENTICATE, ks->always_authenticate))
			goto oom;
		priv->key_type = pub->key_type;
		priv->bits = pub->bits;
		priv->always_auth = ks->always_authenticate;
		priv->can_sign = ks->sign;
		priv->drv_ref = ks->drv_ref;
		if (!EVP_PKEY_up_ref(pk))
			goto oom;
		priv->pub = pk;
	}
	if (token_push(tok, pub))
		goto oom;
	pub = NULL;
	if (priv && token_push(tok, priv))
		goto oom;
	return CKR_OK;
oom:
	p11_object_free(pub);
	p11_object_free(priv);
	return CKR_HOST_MEMORY;
}

CK_RV p11_token_add_cert(struct p11_token *tok, const uint8_t *der, size_t der_len,
                         const uint8_t *id, size_t id_len, const struct p11_key_spec *key)
{
	const unsigned char *p = der;
	X509 *x;
	EVP_PKEY *pk;
	struct p11_object *c;
	char *label = NULL;
	unsigned char sha1[SHA_DIGEST_LENGTH];
	unsigned char *spki = NULL;
	int r = 0, n;
	CK_RV rv;

	if (!tok || !der || !id || id_len == 0 || id_len > 64)
		return CKR_ARGUMENTS_BAD;
	x = d2i_X509(NULL, &p, (long)der_len);
	if (!x || p != der + der_len) {
		llv_warn("token: a certificate does not parse as DER X.509; skipped");
		X509_free(x);
		return CKR_GENERAL_ERROR;
	}
	label = key && key->cert_label ? strdup(key->cert_label) : holder_label(x);
	c = obj_new(CKO_CERTIFICATE, false);
	if (!label || !c) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	r |= add_ulong(c, CKA_CERTIFICATE_TYPE, CKC_X_509);
	r |= add_bool(c, CKA_TRUSTED, false);
	r |= add_ulong(c, CKA_CERTIFICATE_CATEGORY, 0);
	SHA1(der, der_len, sha1);
	r |= add_attr(c, CKA_CHECK_VALUE, sha1, 3);
	r |= add_attr(c, CKA_START_DATE, NULL, 0);
	r |= add_attr(c, CKA_END_DATE, NULL, 0);
	r |= add_str(c, CKA_LABEL, label);
	r |= add_attr(c, CKA_ID, id, id_len);
	r |= add_name(c, CKA_SUBJECT, X509_get_subject_name(x));
	r |= add_name(c, CKA_ISSUER, X509_get_issuer_name(x));
	r |= add_serial(c, X509_get0_serialNumber(x));
	r |= add_attr(c, CKA_VALUE, der, der_len);
	r |= add_attr(c, CKA_URL, NULL, 0);
	r |= add_ulong(c, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
	r |= add_ulong(c, CKA_NAME_HASH_ALGORITHM, CKM_SHA_1);
	pk = X509_get0_pubkey(x);
	if (pk) {
		n = i2d_PUBKEY(pk, &spki);
		r |= n > 0 ? add_attr(c, CKA_PUBLIC_KEY_INFO, spki, (size_t)n) : -1;
		OPENSSL_free(spki);
	}
	if (r || token_push(tok, c)) {
		p11_object_free(c);
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = pk ? add_keys(tok, pk, id, id_len, label, X509_get_subject_name(x), key) : CKR_OK;
out:
	free(label);
	X509_free(x);
	return rv;
}
