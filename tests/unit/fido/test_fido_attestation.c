/* The attestation object (CBOR {fmt, attStmt, authData}, canonical key
 * order), the extension outputs of authenticator data, and the SPKI of a
 * credential public key. The fixture is a packed attestation that
 * llavero-vkey produced through the bridge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base64url.h"
#include "fido_internal.h"

static const char att_b64[] =
	"o2NmbXRmcGFja2VkZ2F0dFN0bXSjY2FsZyZjc2lnWEgwRgIhAKlID5rOl6PQli3MrJrvu5cjySBOKU-cvnQTSTJOlN"
	"MrAiEAydjWkQVucaq1BBl9HA1zb5ZNnrMvsavSWLykm-L9LqpjeDVjgVkCLzCCAiswggHQoAMCAQICEEN3VBwu-"
	"N1wss6sqRd4Q0UwCgYIKoZIzj0EAwIwRTELMAkGA1UEBhMCTVgxEDAOBgNVBAoMB0xsYXZlcm8xJDAiBgNVBAMMG0x"
	"sYXZlcm8gdmtleSBBdHRlc3RhdGlvbiBDQTAeFw0yNjExMjUxNTI1NDlaFw00NjExMjExNTI1NDlaMGIxCzAJBgNVB"
	"AYTAk1YMRAwDgYDVQQKDAdMbGF2ZXJvMSIwIAYDVQQLDBlBdXRoZW50aWNhdG9yIEF0dGVzdGF0aW9uMR0wGwYDVQQ"
	"DDBRMbGF2ZXJvIHZrZXkgQmF0Y2ggMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJEo6pmZaD9XNyuxAu7YIUzkG"
	"w0DxJTwP6neErhkFxjFbE05doP0nFgf5JU6bp8ZzZ69a-"
	"8JXU7spvJ258UEkkGjgYQwgYEwDAYDVR0TAQH_BAIwADAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0OBBYEFNj2odIbrUEX"
	"6VV5kWga6dZOJWfZMB8GA1UdIwQYMBaAFDMknpPl0tYNrnq__xpKPbvkFY0tMCEGCysGAQQBguUcAQEEBBIEEK1sZU"
	"OfUUHIuGfC1pctztQwCgYIKoZIzj0EAwIDSQAwRgIhAMrgxtpUyrDcPPEDpMN8Y5vdSB1zKl8LtNKfDm3C7jPUAiEA"
	"sqbBbF4CW0GfkfiXPPPeoEu9CzzVUSZFmtwfKG9D56poYXV0aERhdGFY06N5pvbur7mlXjeMEYA04nUeaC-rny0wqx"
	"PSElWGzhlHwQAAAAGtbGVDn1FByLhnwtaXLc7UAEEBbQ6lQAd9ylh1D43FJR2QAAWhQHruh_DzgK9m8K8sW8r5mX_n"
	"oIxL_tUhtFbK3GlbRRMqEI07_2DTgej0ugX-EaUBAgMmIAEhWCAGfN-NODGec_zyFcH9JNs9GJrwUgloyeRZQYZIzg"
	"dEoiJYIDksRxV23JEC0nD1_5s4PxY14Hy7ltYuOupjvbFu0BafoWtobWFjLXNlY3JldPU";

struct parts {
	uint8_t *att;
	size_t att_len;
	cbor_item_t *map;
	const char *fmt;
	size_t fmt_len;
	unsigned char *stmt;
	size_t stmt_len;
	const uint8_t *ad;
	size_t ad_len;
};

static cbor_item_t *value_of(cbor_item_t *map, const char *key)
{
	struct cbor_pair *p = cbor_map_handle(map);

	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_isa_string(p[i].key) && cbor_string_length(p[i].key) == strlen(key) &&
		    memcmp(cbor_string_handle(p[i].key), key, strlen(key)) == 0)
			return p[i].value;
	return NULL;
}

static void split(struct parts *p)
{
	struct cbor_load_result res;
	cbor_item_t *v;
	size_t cap = 0;

	memset(p, 0, sizeof(*p));
	assert_int_equal(llv_base64url_decode(att_b64, strlen(att_b64), &p->att, &p->att_len), 0);
	p->map = cbor_load(p->att, p->att_len, &res);
	assert_non_null(p->map);
	assert_true(cbor_isa_map(p->map));
	v = value_of(p->map, "fmt");
	p->fmt = (const char *)cbor_string_handle(v);
	p->fmt_len = cbor_string_length(v);
	p->stmt_len = cbor_serialize_alloc(value_of(p->map, "attStmt"), &p->stmt, &cap);
	v = value_of(p->map, "authData");
	p->ad = cbor_bytestring_handle(v);
	p->ad_len = cbor_bytestring_length(v);
}

static void parts_free(struct parts *p)
{
	free(p->att);
	free(p->stmt);
	cbor_decref(&p->map);
}

static fido_cred_t *cred_from(const struct parts *p)
{
	fido_cred_t *cred = fido_cred_new();
	char fmt[32];

	assert_non_null(cred);
	memcpy(fmt, p->fmt, p->fmt_len);
	fmt[p->fmt_len] = '\0';
	assert_int_equal(fido_cred_set_type(cred, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_fmt(cred, fmt), FIDO_OK);
	assert_int_equal(fido_cred_set_authdata_raw(cred, p->ad, p->ad_len), FIDO_OK);
	assert_int_equal(fido_cred_set_attstmt(cred, p->stmt, p->stmt_len), FIDO_OK);
	return cred;
}

static void test_round_trip(void **state)
{
	struct parts p;
	fido_cred_t *cred;
	uint8_t *out = NULL;
	size_t len = 0;

	split(&p);
	cred = cred_from(&p);
	assert_int_equal(fido_bridge_attestation_object(cred, false, &out, &len), FIDO_BRIDGE_OK);
	/* Same bytes as the canonical encoding: keys fmt, attStmt, authData. */
	assert_int_equal(len, p.att_len);
	assert_memory_equal(out, p.att, len);
	free(out);
	fido_cred_free(&cred);
	parts_free(&p);
}

static void test_none_format(void **state)
{
	struct parts p;
	fido_cred_t *cred;
	uint8_t *out = NULL;
	size_t len = 0;
	struct cbor_load_result res;
	cbor_item_t *m, *v;
	struct cbor_pair *pairs;

	split(&p);
	cred = cred_from(&p);
	assert_int_equal(fido_bridge_attestation_object(cred, true, &out, &len), FIDO_BRIDGE_OK);
	m = cbor_load(out, len, &res);
	assert_non_null(m);
	assert_int_equal(res.read, len);
	assert_int_equal(cbor_map_size(m), 3);
	pairs = cbor_map_handle(m);
	assert_memory_equal(cbor_string_handle(pairs[0].key), "fmt", 3);
	assert_memory_equal(cbor_string_handle(pairs[1].key), "attStmt", 7);
	assert_memory_equal(cbor_string_handle(pairs[2].key), "authData", 8);
	assert_int_equal(cbor_string_length(pairs[0].value), 4);
	assert_memory_equal(cbor_string_handle(pairs[0].value), "none", 4);
	assert_true(cbor_isa_map(pairs[1].value));
	assert_int_equal(cbor_map_size(pairs[1].value), 0);
	v = pairs[2].value;
	assert_int_equal(cbor_bytestring_length(v), p.ad_len);
	assert_memory_equal(cbor_bytestring_handle(v), p.ad, p.ad_len);
	cbor_decref(&m);
	free(out);
	fido_cred_free(&cred);
	parts_free(&p);
}

static void test_ext_flag_and_spki(void **state)
{
	struct parts p;
	fido_cred_t *cred;
	uint8_t *spki = NULL;
	const unsigned char *q;
	size_t len = 0;
	bool v = false;
	EVP_PKEY *key;

	split(&p);
	/* The fixture was made with the prf extension: hmac-secret: true. */
	assert_int_equal(fido_bridge_authdata_ext_flag(p.ad, p.ad_len, "hmac-secret", &v), FIDO_BRIDGE_OK);
	assert_true(v);
	assert_int_equal(fido_bridge_authdata_ext_flag(p.ad, p.ad_len, "credProtect", &v), FIDO_BRIDGE_OK);
	assert_false(v);
	assert_int_not_equal(fido_bridge_authdata_ext_flag(p.ad, 20, "hmac-secret", &v), FIDO_BRIDGE_OK);
	cred = cred_from(&p);
	assert_int_equal(fido_bridge_cred_spki(cred, &spki, &len), FIDO_BRIDGE_OK);
	q = spki;
	key = d2i_PUBKEY(NULL, &q, (long)len);
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	EVP_PKEY_free(key);
	free(spki);
	fido_cred_free(&cred);
	parts_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_none_format),
		cmocka_unit_test(test_ext_flag_and_spki),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
