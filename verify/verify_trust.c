/* Trusted CA set and chain verification on OpenSSL's X509_STORE. */
#include "verify_trust.h"
#include "verify_errors.h"

#include "atomic_file.h"
#include "log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>

#define TRUST_FILE_MAX (4u << 20)

struct verify_trust {
	X509_STORE *store;
	size_t count;
};

struct verify_trust *verify_trust_new(void)
{
	struct verify_trust *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->store = X509_STORE_new();
	if (!t->store) {
		free(t);
		return NULL;
	}
	return t;
}

void verify_trust_free(struct verify_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	free(t);
}

size_t verify_trust_count(const struct verify_trust *t)
{
	return t ? t->count : 0;
}

int verify_trust_add_x509(struct verify_trust *t, X509 *cert)
{
	if (!t || !cert)
		return VERIFY_ERR_ARGUMENT;
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(t->store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *have = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (have && X509_cmp(have, cert) == 0)
			return VERIFY_OK;
	}
	if (X509_STORE_add_cert(t->store, cert) != 1) {
		/* Adding the same certificate twice is not an error. */
		unsigned long e = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
			return VERIFY_ERR_NOMEM;
		return VERIFY_OK;
	}
	t->count++;
	return VERIFY_OK;
}

int verify_trust_add_der(struct verify_trust *t, const uint8_t *der, size_t len)
{
	if (!t || !der || len == 0 || len > TRUST_FILE_MAX)
		return VERIFY_ERR_ARGUMENT;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		ERR_clear_error();
		return VERIFY_ERR_CERT_PARSE;
	}
	int rc = verify_trust_add_x509(t, x);
	X509_free(x);
	return rc;
}

int verify_trust_add_file(struct verify_trust *t, const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!t || !path)
		return VERIFY_ERR_ARGUMENT;
	if (llv_read_file(path, TRUST_FILE_MAX, &data, &len) != 0) {
		llv_error("verify: cannot read trusted certificate file %s", path);
		return VERIFY_ERR_ARGUMENT;
	}
	int rc;
	if (len > 0 && data[0] == 0x30) {
		rc = verify_trust_add_der(t, data, len);
	} else {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		size_t added = 0;
		rc = bio ? VERIFY_OK : VERIFY_ERR_NOMEM;
		X509 *x;
		while (rc == VERIFY_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			rc = verify_trust_add_x509(t, x);
			X509_free(x);
			added++;
		}
		ERR_clear_error();
		BIO_free(bio);
		if (rc == VERIFY_OK && added == 0)
			rc = VERIFY_ERR_CERT_PARSE;
	}
	free(data);
	if (rc != VERIFY_OK)
		llv_error("verify: %s: %s", path, verify_strerror_en(rc));
	return rc;
}

static int map_x509_error(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
		return VERIFY_ERR_CERT_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return VERIFY_ERR_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return VERIFY_ERR_CERT_NOT_YET_VALID;
	default:
		return VERIFY_ERR_CERT_CHAIN;
	}
}

int verify_trust_check(const struct verify_trust *t, X509 *leaf,
		       STACK_OF(X509) *untrusted, time_t now,
		       STACK_OF(X509) **chain_out)
{
	if (chain_out)
		*chain_out = NULL;
	if (!t || !leaf)
		return VERIFY_ERR_ARGUMENT;
	if (t->count == 0) {
		llv_error("verify: no trusted CA certificates configured");
		return VERIFY_ERR_CERT_UNTRUSTED;
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx)
		return VERIFY_ERR_NOMEM;
	int rc = VERIFY_ERR_INTERNAL;
	if (X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1)
		goto out;
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_time(param, now ? now : time(NULL));
	X509_VERIFY_PARAM_set_depth(param, 8);
	if (X509_verify_cert(ctx) == 1) {
		rc = VERIFY_OK;
		if (chain_out) {
			*chain_out = X509_STORE_CTX_get1_chain(ctx);
			if (!*chain_out)
				rc = VERIFY_ERR_NOMEM;
		}
	} else {
		int e = X509_STORE_CTX_get_error(ctx);
		rc = map_x509_error(e);
		llv_info("verify: chain rejected at depth %d: %s",
			 X509_STORE_CTX_get_error_depth(ctx),
			 X509_verify_cert_error_string(e));
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}
