/* Origins and RP IDs: the registrable-domain rules, refused before any
 * device is touched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fido_bridge.h"

static void test_origin_host(void **state)
{
	char host[256];

	assert_int_equal(fido_bridge_origin_host("https://Login.Gob.MX", host, sizeof(host)), FIDO_BRIDGE_OK);
	assert_string_equal(host, "login.gob.mx");
	assert_int_equal(fido_bridge_origin_host("https://example.com:8443", host, sizeof(host)), FIDO_BRIDGE_OK);
	assert_string_equal(host, "example.com");
	assert_int_equal(fido_bridge_origin_host("http://localhost:3000", host, sizeof(host)), FIDO_BRIDGE_OK);
	assert_string_equal(host, "localhost");
	/* refused */
	assert_int_equal(fido_bridge_origin_host("http://example.com", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("ftp://example.com", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://example.com/path", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://user@example.com", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://example.com:0", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://example.com:99999", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://127.0.0.1", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://exa mple.com", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("https://a..b", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host("null", host, sizeof(host)), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_origin_host(NULL, host, sizeof(host)), FIDO_BRIDGE_ERR_BAD_ARG);
}

static void test_rpid_ok(void **state)
{
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", "example.com"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", "www.example.com"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("https://a.b.example.com:444", "b.example.com"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("https://login.gob.mx", "login.gob.mx"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("https://www.sat.gob.mx", "sat.gob.mx"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("http://localhost", "localhost"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("http://localhost:8080", "localhost"), FIDO_BRIDGE_OK);
	assert_int_equal(fido_bridge_rpid_check("https://localhost", "localhost"), FIDO_BRIDGE_OK);
}

static void test_rpid_refused(void **state)
{
	/* gob.mx and com.mx are public suffixes: no site may claim them. */
	assert_int_equal(fido_bridge_rpid_check("https://login.gob.mx", "gob.mx"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://tienda.com.mx", "com.mx"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", "com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://foo.github.io", "github.io"), FIDO_BRIDGE_ERR_RPID);
	/* not a suffix of the host */
	assert_int_equal(fido_bridge_rpid_check("https://evil.com", "example.com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://notexample.com", "example.com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://example.com", "www.example.com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://example.com.evil.com", "example.com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("http://localhost", "example.com"), FIDO_BRIDGE_ERR_RPID);
	/* malformed RP IDs */
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", "Example.com"), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", ""), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", NULL), FIDO_BRIDGE_ERR_RPID);
	assert_int_equal(fido_bridge_rpid_check("https://www.example.com", ".example.com"), FIDO_BRIDGE_ERR_RPID);
	/* bad origins fail as origins, before the RP ID is looked at */
	assert_int_equal(fido_bridge_rpid_check("http://example.com", "example.com"), FIDO_BRIDGE_ERR_ORIGIN);
	assert_int_equal(fido_bridge_rpid_check("http://www.example.com", "example.com"), FIDO_BRIDGE_ERR_ORIGIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_host),
		cmocka_unit_test(test_rpid_ok),
		cmocka_unit_test(test_rpid_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
