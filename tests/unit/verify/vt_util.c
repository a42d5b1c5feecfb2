#include "vt_util.h"

#include "verify_webeid.h"
#include "base64url.h"
#include "atomic_file.h"

#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vt_fixtures(void)
{
	static char dir[1024];
	static int state;   /* 0 not yet, 1 ok, -1 failed */
	if (state == 0) {
		const char *d = getenv("LLAVERO_FIXTURES_DIR");
		snprintf(dir, sizeof(dir), "%s", d && *d ? d : VT_FIXTURES_DIR);
		char cmd[2300];
		snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >/dev/null", VT_GEN_FIXTURES, dir);
		state = system(cmd) == 0 ? 1 : -1;
		if (state < 0)
			fprintf(stderr, "gen-fixtures.sh failed\n");
	}
	return state > 0 ? dir : NULL;
}

const char *vt_fix(const char *name)
{
	static char bufs[8][1200];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", vt_fixtures(), name);
	return b;
}

const char *vt_sat_dir(void)
{
	static char dir[1024];
	const char *d = getenv("LLAVERO_SAT_DIR");
	snprintf(dir, sizeof(dir), "%s", d && *d ? d : VT_SAT_DIR);
	char probe[1200];
	snprintf(probe, sizeof(probe), "%s/fiel-EKU9003173C9/EKU9003173C9.cer", dir);
	FILE *f = fopen(probe, "rb");
	if (!f) {
		fprintf(stderr, "SKIP: SAT test files absent (%s): SAT e.firma cases not run\n", dir);
		return NULL;
	}
	fclose(f);
	return dir;
}

X509 *vt_load_cert(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (llv_read_file(path, 1 << 20, &data, &len) != 0)
		return NULL;
	X509 *x = NULL;
	if (len && data[0] == 0x30) {
		const unsigned char *p = data;
		x = d2i_X509(NULL, &p, (long)len);
	} else {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	free(data);
	return x;
}

EVP_PKEY *vt_load_key(const char *path, const char *pass)
{
	BIO *b = BIO_new_file(path, "rb");
	if (!b)
		return NULL;
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)pass);
	if (!k) {
		BIO_reset(b);
		k = d2i_PKCS8PrivateKey_bio(b, NULL, NULL, (void *)pass);
	}
	BIO_free(b);
	return k;
}

uint8_t *vt_cert_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);
	if (n <= 0)
		return NULL;
	*len = (size_t)n;
	return p;
}

int vt_sign(EVP_PKEY *key, const char *alg, const uint8_t *data, size_t len,
	    uint8_t **sig, size_t *sig_len)
{
	const char *md = strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ? "SHA384" : "SHA512";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	int ok = EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL) == 1;
	if (ok && alg[0] == 'P')
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestSign(ctx, NULL, &n, data, len) == 1;
	uint8_t *s = ok ? malloc(n) : NULL;
	ok = s && EVP_DigestSign(ctx, s, &n, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(s);
		return -1;
	}
	if (alg[0] == 'E') {
		size_t field = strstr(alg, "256") ? 32 : strstr(alg, "384") ? 48 : 66;
		const unsigned char *p = s;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
		uint8_t *raw = calloc(1, 2 * field);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)field);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + field, (int)field);
		ECDSA_SIG_free(es);
		free(s);
		s = raw;
		n = 2 * field;
	}
	*sig = s;
	*sig_len = n;
	return 0;
}

char *vt_token(const char *format, X509 *cert, EVP_PKEY *key, const char *alg,
	       const char *origin, const char *nonce)
{
	unsigned char data[128];
	/* Sign with the hash the algorithm names, even for "wrong algorithm"
	 * cases where the verifier should refuse first. */
	const char *sign_alg = alg;
	int dlen = verify_webeid_signed_data(alg, origin, nonce, data);
	if (dlen < 0) {
		sign_alg = "RS256";
		dlen = verify_webeid_signed_data(sign_alg, origin, nonce, data);
	}
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	if (vt_sign(key, sign_alg, data, (size_t)dlen, &sig, &sig_len) != 0)
		return NULL;
	size_t der_len;
	uint8_t *der = vt_cert_der(cert, &der_len);
	char *cert_b64 = llv_base64_encode(der, der_len);
	char *sig_b64 = llv_base64_encode(sig, sig_len);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "format", format,
			      "unverifiedCertificate", cert_b64, "algorithm", alg,
			      "signature", sig_b64, "appVersion", "https://llavero.invalid/1.0.0");
	if (strcmp(format, "web-eid:1.1") == 0)
		json_object_set_new(o, "unverifiedSigningCertificates",
			json_pack("[{s:s, s:[{s:s, s:s, s:s}]}]", "certificate", cert_b64,
				  "supportedSignatureAlgorithms", "cryptoAlgorithm", "RSA",
				  "hashFunction", "SHA-256", "paddingScheme", "PKCS1.5"));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(cert_b64);
	free(sig_b64);
	OPENSSL_free(der);
	free(sig);
	return text;
}
