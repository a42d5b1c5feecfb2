/* libFuzzer target: the FIDO2 bridge's WebAuthn options parsing
 * (fido/fido_webauthn_create.c, fido_webauthn_get.c, fido_options.c): origin
 * and RP ID checks, challenge, user, pubKeyCredParams, authenticatorSelection,
 * timeout, excludeCredentials / allowCredentials, extensions (credProps, prf
 * eval / evalByCredential) and the clientDataJSON built from them.
 * Input: one selector byte (bit 0: get instead of create; bits 1-2: the
 * caller's origin), then the options JSON. The device path names no
 * transport, so a ceremony that parses stops at opening the device without
 * touching anything. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

#include <jansson.h>

#include "fido_bridge.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const origins[] = {
		"https://login.llavero.example", "http://localhost:8080",
		"https://www.gob.mx", "http://example.com",
	};
	struct fido_bridge_ceremony c;
	json_t *opts, *out = NULL;
	int r;

	llv_log_set_level(LLV_LOG_ERROR);
	if (size < 1)
		return 0;
	opts = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
	if (opts == NULL)
		return 0;
	fido_bridge_ceremony_init(&c);
	c.device = "fuzz:none";
	c.origin = origins[(data[0] >> 1) & 3];
	c.options = opts;
	r = (data[0] & 1) ? fido_bridge_webauthn_get(&c, &out) : fido_bridge_webauthn_create(&c, &out);
	/* No device: parsing either refuses the options or stops at opening. */
	if (r == FIDO_BRIDGE_OK || out != NULL)
		abort();
	fido_bridge_ceremony_clear(&c);
	json_decref(opts);
	return 0;
}
