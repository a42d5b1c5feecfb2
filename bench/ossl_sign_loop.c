/* ossl-sign-loop: raw OpenSSL signing throughput with a given key, the
 * reference the soft-token bench (bench/efirma-vs-softhsm.sh) measures
 * PKCS#11 modules against: the same message and mechanism as
 * p11-sign-bench --sign-loop (SHA-256, RSA PKCS#1 v1.5), one EVP_DigestSign
 * per signature on a key loaded once.
 *
 * Usage: ossl-sign-loop --key KEY.pem --seconds S
 * Prints "signs=N seconds=S signs_per_sec=X". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char message[] = "Llavero benchmark: firma de un tramite";
	const char *key_path = NULL;
	double seconds = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--key"))
			key_path = argv[i + 1];
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
	}
	if (!key_path || seconds <= 0) {
		fprintf(stderr, "usage: ossl-sign-loop --key KEY.pem --seconds S\n");
		return 2;
	}
	FILE *f = fopen(key_path, "r");
	EVP_PKEY *pkey = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!pkey) {
		fprintf(stderr, "ossl-sign-loop: cannot load %s\n", key_path);
		ERR_print_errors_fp(stderr);
		return 1;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	long signs = 0;
	double t0 = now_s(), elapsed = 0;
	do {
		for (int i = 0; i < 16; i++) {
			size_t sig_len = sizeof(sig);
			if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
			    EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)message,
					   sizeof(message) - 1) != 1) {
				fprintf(stderr, "ossl-sign-loop: signing failed\n");
				ERR_print_errors_fp(stderr);
				return 1;
			}
			EVP_MD_CTX_reset(md);
			signs++;
		}
		elapsed = now_s() - t0;
	} while (elapsed < seconds);
	printf("signs=%ld seconds=%.3f signs_per_sec=%.1f\n", signs, elapsed, signs / elapsed);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return 0;
}
