/* Unit tests of common/json.c: typed getters and parse limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static const char doc[] =
	"{\"s\":\"texto\",\"i\":42,\"neg\":-7,\"big\":9007199254740993,"
	"\"t\":true,\"f\":false,\"r\":1.5,\"one\":1.0,\"n\":null,\"a\":[1],"
	"\"o\":{},\"b64\":\"Zm9vYmFy\",\"padded\":\"Zm9vYg==\",\"std\":\"+/8\","
	"\"bad64\":\"Zm9v!\",\"empty\":\"\"}";

static int setup(void **state)
{
	char err[128];

	*state = llv_json_parse_object(doc, strlen(doc), 4096, err, sizeof(err));
	return *state != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	json_decref(*state);
	return 0;
}

static void test_get_str(void **state)
{
	const json_t *o = *state;
	const char *s = "unchanged";

	assert_int_equal(llv_json_get_str(o, "s", &s), 0);
	assert_string_equal(s, "texto");
	assert_int_equal(llv_json_get_str(o, "empty", &s), 0);
	assert_string_equal(s, "");
	s = "unchanged";
	assert_int_equal(llv_json_get_str(o, "i", &s), -1);
	assert_int_equal(llv_json_get_str(o, "n", &s), -1);
	assert_int_equal(llv_json_get_str(o, "missing", &s), -1);
	assert_int_equal(llv_json_get_str(NULL, "s", &s), -1);
	assert_string_equal(s, "unchanged");
}

static void test_get_str_refuses_embedded_nul(void **state)
{
	json_t *o = json_object();
	const char *s = "unchanged";

	json_object_set_new(o, "k", json_stringn("ab\0cd", 5));
	assert_int_equal(llv_json_get_str(o, "k", &s), -1);
	assert_string_equal(s, "unchanged");
	json_decref(o);
}

static void test_get_int(void **state)
{
	const json_t *o = *state;
	long long v = 99;

	assert_int_equal(llv_json_get_int(o, "i", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(llv_json_get_int(o, "neg", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(llv_json_get_int(o, "big", &v), 0);
	assert_true(v == 9007199254740993LL);
	v = 99;
	assert_int_equal(llv_json_get_int(o, "r", &v), -1);
	assert_int_equal(llv_json_get_int(o, "one", &v), -1);
	assert_int_equal(llv_json_get_int(o, "s", &v), -1);
	assert_int_equal(llv_json_get_int(o, "t", &v), -1);
	assert_int_equal(llv_json_get_int(o, "missing", &v), -1);
	assert_int_equal(v, 99);
}

static void test_get_bool(void **state)
{
	const json_t *o = *state;
	bool b = false;

	assert_int_equal(llv_json_get_bool(o, "t", &b), 0);
	assert_true(b);
	assert_int_equal(llv_json_get_bool(o, "f", &b), 0);
	assert_false(b);
	b = true;
	assert_int_equal(llv_json_get_bool(o, "i", &b), -1);
	assert_int_equal(llv_json_get_bool(o, "n", &b), -1);
	assert_int_equal(llv_json_get_bool(o, "s", &b), -1);
	assert_int_equal(llv_json_get_bool(o, "missing", &b), -1);
	assert_true(b);
}

static void test_get_b64url(void **state)
{
	const json_t *o = *state;
	uint8_t *data = (uint8_t *)"unchanged";
	size_t len = 77;

	assert_int_equal(llv_json_get_b64url(o, "b64", &data, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "foobar", 6);
	free(data);
	assert_int_equal(llv_json_get_b64url(o, "padded", &data, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "foob", 4);
	free(data);
	data = (uint8_t *)"unchanged";
	len = 77;
	assert_int_equal(llv_json_get_b64url(o, "bad64", &data, &len), -1);
	assert_int_equal(llv_json_get_b64url(o, "std", &data, &len), -1);
	assert_int_equal(llv_json_get_b64url(o, "i", &data, &len), -1);
	assert_int_equal(llv_json_get_b64url(o, "missing", &data, &len), -1);
	assert_string_equal((char *)data, "unchanged");
	assert_int_equal(len, 77);
}

static void test_set_b64url(void **state)
{
	json_t *o = json_object();
	json_t *a = json_array();
	const char *s;
	uint8_t *data;
	size_t len;

	assert_int_equal(llv_json_set_b64url(o, "sig", (const uint8_t *)"\xfb\xff", 2), 0);
	assert_int_equal(llv_json_get_str(o, "sig", &s), 0);
	assert_string_equal(s, "-_8");
	assert_int_equal(llv_json_get_b64url(o, "sig", &data, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(data, "\xfb\xff", 2);
	free(data);
	/* Replaces an existing member. */
	assert_int_equal(llv_json_set_b64url(o, "sig", NULL, 0), 0);
	assert_int_equal(llv_json_get_str(o, "sig", &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(llv_json_set_b64url(a, "sig", (const uint8_t *)"x", 1), -1);
	assert_int_equal(llv_json_set_b64url(NULL, "sig", (const uint8_t *)"x", 1), -1);
	json_decref(a);
	json_decref(o);
}

static void expect_parse_error(const char *text, size_t len, size_t max_len,
			       const char *err_part)
{
	char err[160] = "";
	json_t *j = llv_json_parse_object(text, len, max_len, err, sizeof(err));

	assert_null(j);
	if (strstr(err, err_part) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, err_part);
}

static void test_parse_limits(void **state)
{
	static const char obj[] = "{\"a\":1}";
	char err[160];
	json_t *j;

	/* Exactly at the limit is fine; one byte over is not. */
	j = llv_json_parse_object(obj, strlen(obj), strlen(obj), err, sizeof(err));
	assert_non_null(j);
	json_decref(j);
	expect_parse_error(obj, strlen(obj), strlen(obj) - 1, "too large");

	expect_parse_error("[1,2]", 5, 100, "not an object");
	expect_parse_error("\"s\"", 3, 100, "not an object");
	expect_parse_error("{\"a\":", 5, 100, "malformed");
	expect_parse_error("{\"a\":1} x", 9, 100, "malformed");
	expect_parse_error("{\"a\":1,\"a\":2}", 13, 100, "malformed");
	expect_parse_error("{\"a\":\"x\0y\"}", 11, 100, "malformed");
	expect_parse_error("{\"a\":\"\\u0000\"}", 14, 100, "malformed");
	expect_parse_error("", 0, 100, "malformed");
	expect_parse_error(NULL, 0, 100, "no JSON");

	/* Only len bytes are read. */
	j = llv_json_parse_object("{\"a\":1}garbage", 7, 100, NULL, 0);
	assert_non_null(j);
	json_decref(j);

	/* A short err buffer gets a truncated, terminated message. */
	memset(err, 'x', sizeof(err));
	assert_null(llv_json_parse_object("[]", 2, 100, err, 8));
	assert_int_equal(strlen(err), 7);
	assert_null(llv_json_parse_object("[]", 2, 100, NULL, 0));
}

static void test_parse_refuses_deep_nesting(void **state)
{
	enum { DEPTH = 100000 };
	char *text = malloc(2 * DEPTH + 8);
	size_t n = 0;

	memcpy(text, "{\"a\":", 5);
	n = 5;
	memset(text + n, '[', DEPTH);
	n += DEPTH;
	memset(text + n, ']', DEPTH);
	n += DEPTH;
	text[n++] = '}';
	expect_parse_error(text, n, 4 * DEPTH, "malformed");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_str, setup, teardown),
		cmocka_unit_test(test_get_str_refuses_embedded_nul),
		cmocka_unit_test_setup_teardown(test_get_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_b64url, setup, teardown),
		cmocka_unit_test(test_set_b64url),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_refuses_deep_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
