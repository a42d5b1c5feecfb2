/* clientDataJSON bytes exactly as browsers serialise them, their hash, and
 * the PRF salt derivation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "fido_bridge.h"

static void test_create_bytes(void **state)
{
	const uint8_t challenge[] = { 0xfb, 0xef, 0xff, 0x00, 0x01, 0x02 };
	const char *want = "{\"type\":\"webauthn.create\",\"challenge\":\"--__AAEC\","
			   "\"origin\":\"https://login.gob.mx\",\"crossOrigin\":false}";
	uint8_t hash[32], want_hash[32];
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(fido_bridge_client_data("webauthn.create", challenge, sizeof(challenge),
						 "https://login.gob.mx", false, &out, &len, hash),
			 FIDO_BRIDGE_OK);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	SHA256((const uint8_t *)want, strlen(want), want_hash);
	assert_memory_equal(hash, want_hash, 32);
	free(out);
}

static void test_get_bytes(void **state)
{
	const uint8_t challenge[32] = { 0 };
	char *out = NULL;
	size_t len;
	uint8_t hash[32];

	assert_int_equal(fido_bridge_client_data("webauthn.get", challenge, sizeof(challenge),
						 "http://localhost:8080", true, &out, &len, hash),
			 FIDO_BRIDGE_OK);
	assert_string_equal(out, "{\"type\":\"webauthn.get\",\"challenge\":"
				 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
				 "\"origin\":\"http://localhost:8080\",\"crossOrigin\":true}");
	free(out);
}

static void test_escaping(void **state)
{
	const uint8_t challenge[] = { 1 };
	char *out = NULL;
	size_t len;

	/* Origins never carry these, but the serialiser must still be exact. */
	assert_int_equal(fido_bridge_client_data("webauthn.get", challenge, 1, "a\"b\\c\x01", false,
						 &out, &len, NULL), FIDO_BRIDGE_OK);
	assert_string_equal(out, "{\"type\":\"webauthn.get\",\"challenge\":\"AQ\","
				 "\"origin\":\"a\\\"b\\\\c\\u0001\",\"crossOrigin\":false}");
	free(out);
}

static void test_prf_salt(void **state)
{
	const uint8_t input[] = { 'x' };
	uint8_t salt[32], want[32];
	const uint8_t msg[] = "WebAuthn PRF\0x";   /* label, 0x00, input */

	fido_bridge_prf_salt(input, sizeof(input), salt);
	SHA256(msg, sizeof(msg) - 1, want);
	assert_memory_equal(salt, want, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bytes),
		cmocka_unit_test(test_get_bytes),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_prf_salt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
