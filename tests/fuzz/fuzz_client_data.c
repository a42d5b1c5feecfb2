/* libFuzzer target: WebAuthn clientDataJSON parsing and checks, and (on a
 * leading 0x01 byte) authenticator data parsing. */
#include "verify_webauthn.h"

#include "log.h"

#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const origins[] = { "http://localhost:8080" };
	static const uint8_t challenge[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const struct verify_webauthn_rp rp = {
		.rp_id = "localhost", .origins = origins, .n_origins = 1,
	};
	llv_log_set_level(LLV_LOG_ERROR);
	if (size > 0 && data[0] == 0x01) {
		struct verify_authdata a;
		if (verify_authdata_parse(data + 1, size - 1, &a) == 0)
			verify_authdata_check(&a, &rp);
		return 0;
	}
	struct verify_client_data cd;
	if (verify_client_data_parse(data, size, &cd) == 0) {
		verify_client_data_check(&cd, "webauthn.get", challenge, sizeof(challenge), &rp);
		verify_client_data_clear(&cd);
	}
	return 0;
}
