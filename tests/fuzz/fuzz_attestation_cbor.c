/* libFuzzer target: WebAuthn attestationObject CBOR (fmt none / packed /
 * fido-u2f, authenticator data, COSE keys, x5c certificates) through
 * verify_webauthn_attestation, and (on a leading 0x01 byte) a COSE_Key alone. */
#include "verify_cose.h"
#include "verify_webauthn_reg.h"

#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const origins[] = { "http://localhost:8080" };
	static const uint8_t cdh[32] = { 0 };
	const struct verify_webauthn_rp rp = {
		.rp_id = "localhost", .origins = origins, .n_origins = 1,
	};
	const struct verify_webauthn_reg_opts o = { .rp = &rp };
	llv_log_set_level(LLV_LOG_ERROR);
	if (size > 0 && data[0] == 0x01) {
		EVP_PKEY *pk = NULL;
		long alg = 0;
		if (verify_cose_key_decode(data + 1, size - 1, &pk, &alg) == 0) {
			uint8_t *der = NULL;
			size_t len = 0;
			if (verify_cose_spki_encode(pk, &der, &len) == 0) {
				EVP_PKEY *back = verify_cose_spki_decode(der, len);
				EVP_PKEY_free(back);
				free(der);
			}
			EVP_PKEY_free(pk);
		}
		return 0;
	}
	struct verify_webauthn_credential c;
	verify_webauthn_attestation(data, size, cdh, &o, &c);
	verify_webauthn_credential_clear(&c);
	return 0;
}
