/* Identity extraction (name, RFC, CURP, persona física/moral, legal
 * representative) and certificate profile checks on the generated
 * identities and SAT's test certificates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vt_util.h"
#include "verify_cert.h"
#include "verify_errors.h"
#include "verify_identity.h"
#include "verify_trust.h"

#include <stdio.h>
#include <string.h>

static void test_fisica(void **state)
{
	X509 *x = vt_load_cert(vt_fix("fisica.cer"));
	struct verify_identity id;
	assert_non_null(x);
	assert_int_equal(verify_identity_from_cert(x, &id), VERIFY_OK);
	assert_int_equal(id.persona, VERIFY_PERSONA_FISICA);
	assert_string_equal(id.name, "JUAN PEREZ PRUEBA");
	assert_string_equal(id.rfc, "PEPJ800101AB1");
	assert_string_equal(id.curp, "PEPJ800101HDFRRN09");
	assert_string_equal(id.rep_rfc, "");
	assert_string_equal(id.rep_curp, "");
	assert_string_equal(id.email, "juan.perez@pruebas.llavero.invalid");
	assert_string_equal(id.serial, "30001000000900000001");
	assert_false(verify_cert_is_csd(x));
	assert_int_equal(verify_cert_auth_profile(x, true, true), VERIFY_OK);
	assert_int_equal(verify_cert_dates(x, 0), VERIFY_OK);
	assert_int_equal(verify_cert_dates(x, 946684800), VERIFY_ERR_CERT_NOT_YET_VALID);
	X509_free(x);
}

static void test_moral_and_csd(void **state)
{
	X509 *x = vt_load_cert(vt_fix("moral.cer"));
	struct verify_identity id;
	assert_int_equal(verify_identity_from_cert(x, &id), VERIFY_OK);
	assert_int_equal(id.persona, VERIFY_PERSONA_MORAL);
	assert_string_equal(id.name, "EMPRESA DE PRUEBAS LLAVERO SA DE CV");
	assert_string_equal(id.rfc, "EPL010101AB2");
	assert_string_equal(id.rep_rfc, "MALM850505QX3");
	assert_string_equal(id.rep_curp, "MALM850505MDFRPR07");
	assert_string_equal(id.curp, "");
	X509_free(x);

	x = vt_load_cert(vt_fix("csd.cer"));
	assert_true(verify_cert_is_csd(x));
	assert_int_equal(verify_cert_auth_profile(x, true, true), VERIFY_ERR_CERT_CSD);
	assert_int_equal(verify_cert_auth_profile(x, false, true), VERIFY_ERR_CERT_EKU);
	assert_int_equal(verify_cert_auth_profile(x, false, false), VERIFY_OK);
	X509_free(x);

	x = vt_load_cert(vt_fix("expired.cer"));
	assert_int_equal(verify_cert_dates(x, 0), VERIFY_ERR_CERT_EXPIRED);
	X509_free(x);
}

static void test_formats(void **state)
{
	assert_true(verify_identity_rfc_valid("PEPJ800101AB1"));
	assert_true(verify_identity_rfc_valid("EKU9003173C9"));
	assert_true(verify_identity_rfc_valid("A&B010101AB2"));
	assert_true(verify_identity_rfc_valid("PE\xc3\x91" "A800101AB1"));
	assert_false(verify_identity_rfc_valid("PEPJ80010AB1"));
	assert_false(verify_identity_rfc_valid("pepj800101ab1"));
	assert_false(verify_identity_rfc_valid("PEPJ800101AB12"));
	assert_false(verify_identity_rfc_valid(""));
	assert_true(verify_identity_curp_valid("PEPJ800101HDFRRN09"));
	assert_false(verify_identity_curp_valid("PEPJ800101HDFRRN0"));
	assert_false(verify_identity_curp_valid("PEPJ8001011DFRRN09"));
}

static void test_trust_files(void **state)
{
	struct verify_trust *t = verify_trust_new();
	assert_int_equal(verify_trust_add_file(t, vt_fix("chain.pem")), VERIFY_OK);
	assert_int_equal(verify_trust_count(t), 2);
	assert_int_equal(verify_trust_add_file(t, vt_fix("ca-root.cer")), VERIFY_OK);   /* DER, again */
	assert_int_equal(verify_trust_count(t), 2);
	assert_int_equal(verify_trust_add_file(t, vt_fix("fisica.pass")), VERIFY_ERR_CERT_PARSE);
	assert_int_equal(verify_trust_add_file(t, "/nonexistent/ca.pem"), VERIFY_ERR_ARGUMENT);
	X509 *x = vt_load_cert(vt_fix("fisica.cer"));
	STACK_OF(X509) *chain = NULL;
	assert_int_equal(verify_trust_check(t, x, NULL, 0, &chain), VERIFY_OK);
	assert_int_equal(sk_X509_num(chain), 2);   /* stops at the first trusted CA */
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(verify_trust_check(t, x, NULL, 946684800, NULL), VERIFY_ERR_CERT_NOT_YET_VALID);
	X509_free(x);
	verify_trust_free(t);
}

static void test_sat(void **state)
{
	const char *sat = vt_sat_dir();
	if (!sat)
		skip();
	char p[1200];
	struct verify_identity id;
	snprintf(p, sizeof(p), "%s/fiel-EKU9003173C9/EKU9003173C9.cer", sat);
	X509 *x = vt_load_cert(p);
	assert_int_equal(verify_identity_from_cert(x, &id), VERIFY_OK);
	assert_int_equal(id.persona, VERIFY_PERSONA_MORAL);
	assert_string_equal(id.rfc, "EKU9003173C9");
	assert_string_equal(id.rep_rfc, "VADA800927DJ3");
	assert_string_equal(id.rep_curp, "VADA800927HSRSRL05");
	assert_int_equal(strlen(id.serial), 20);
	assert_int_equal(verify_cert_auth_profile(x, true, true), VERIFY_OK);
	X509_free(x);
	snprintf(p, sizeof(p), "%s/csd-EKU9003173C9/EKU9003173C9.cer", sat);
	x = vt_load_cert(p);
	assert_true(verify_cert_is_csd(x));
	X509_free(x);
	snprintf(p, sizeof(p), "%s/fiel-AAA010101AAA-expired/certificate.cer", sat);
	x = vt_load_cert(p);
	if (x) {
		assert_int_equal(verify_cert_dates(x, 0), VERIFY_ERR_CERT_EXPIRED);
		assert_int_equal(verify_identity_from_cert(x, &id), VERIFY_OK);
		assert_string_equal(id.rfc, "AAA010101AAA");
		X509_free(x);
	}
}

int main(void)
{
	if (!vt_fixtures())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fisica),
		cmocka_unit_test(test_moral_and_csd),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_trust_files),
		cmocka_unit_test(test_sat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
