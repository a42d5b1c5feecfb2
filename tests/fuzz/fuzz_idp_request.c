/* libFuzzer target for what llavero-idp parses from requests: the first byte
 * picks the parser, the rest is the input.
 *   0: application/x-www-form-urlencoded (bodies, the token endpoint)
 *   1: a JSON body, then the conformance API's registration credential
 *   2: a JSON body, then the assertion credential
 *   3: the configuration file (JSON)
 * Seeds: corpus/idp_request/. */
#include "idp_config.h"
#include "idp_form.h"
#include "idp_pkce.h"
#include "idp_webauthn.h"

#include "json.h"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *text;
	size_t len;

	if (!init) {
		llv_log_init("fuzz_idp_request");
		llv_log_set_level(LLV_LOG_ERROR);
		init = 1;
	}
	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 4) {
	case 0: {
		struct idp_form f;
		if (idp_form_parse(text, len, &f) == 0) {
			const char *v = idp_form_get(&f, "code_verifier");
			const char *c = idp_form_get(&f, "code_challenge");
			if (v && c && idp_pkce_challenge_well_formed(c))
				(void)idp_pkce_s256_ok(v, c);
			idp_form_free(&f);
		}
		break;
	}
	case 1:
	case 2: {
		char err[160];
		json_t *j = llv_json_parse_object(text, len, 64 * 1024, err, sizeof(err));
		struct idp_wa_cred c;
		if (j && idp_wa_parse_credential(j, data[0] % 4 == 2, &c, err, sizeof(err)) == 0)
			idp_wa_cred_free(&c);
		json_decref(j);
		break;
	}
	default: {
		struct idp_config cfg;
		idp_config_defaults(&cfg);
		if (idp_config_parse(&cfg, text, len) == 0)
			(void)idp_config_finish(&cfg, 8443);
		idp_config_free(&cfg);
		break;
	}
	}
	return 0;
}
