/* libFuzzer target: Web eID authentication token JSON through
 * verify_webeid_token (JSON, format, fields, algorithm, base64, DER
 * certificate, profile checks, chain) and, on a leading 0x01 byte, a DER
 * certificate through the identity and profile checks. */
#include "verify_cert.h"
#include "verify_identity.h"
#include "verify_webeid.h"

#include "log.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct verify_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	llv_log_set_level(LLV_LOG_ERROR);
	/* One self-signed CA, so chain building has something to try. */
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *ca = X509_new();
	X509_set_version(ca, 2);
	X509_gmtime_adj(X509_getm_notBefore(ca), 0);
	X509_gmtime_adj(X509_getm_notAfter(ca), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(ca), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz CA", -1, -1, 0);
	X509_set_issuer_name(ca, X509_get_subject_name(ca));
	X509_set_pubkey(ca, k);
	X509_sign(ca, k, EVP_sha256());
	trust = verify_trust_new();
	verify_trust_add_x509(trust, ca);
	X509_free(ca);
	EVP_PKEY_free(k);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 0x01) {
		X509 *x = verify_cert_parse_der(data + 1, size - 1);
		if (x) {
			struct verify_identity id;
			verify_identity_from_cert(x, &id);
			verify_cert_auth_profile(x, true, true);
			verify_cert_dates(x, 0);
			X509_free(x);
		}
		return 0;
	}
	struct verify_webeid_opts o = {
		.origin = "https://llave.pruebas.invalid",
		.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		.trust = trust,
	};
	struct verify_webeid_result r;
	verify_webeid_token((const char *)data, size, &o, &r);
	verify_webeid_result_clear(&r);
	return 0;
}
