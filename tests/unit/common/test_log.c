/* Unit tests of common/log.c: level from LLAVERO_LOG and the line format.
 * Tests run in order in one process; the first one relies on the level not
 * having been read yet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* Redirects fd 2 into a temporary file until end_capture returns its text. */
static int saved_stderr = -1;
static FILE *capture_file;

static void begin_capture(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	assert_non_null(capture_file);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture_file), 2) >= 0);
}

static char *end_capture(void)
{
	static char text[8192];
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved_stderr, 2) >= 0);
	close(saved_stderr);
	rewind(capture_file);
	n = fread(text, 1, sizeof(text) - 1, capture_file);
	text[n] = '\0';
	fclose(capture_file);
	return text;
}

static void test_level_read_lazily_without_init(void **state)
{
	setenv("LLAVERO_LOG", "debug", 1);
	assert_int_equal(llv_log_get_level(), LLV_LOG_DEBUG);
}

static void test_level_from_env(void **state)
{
	static const struct { const char *value; enum llv_log_level level; } cases[] = {
		{ "error", LLV_LOG_ERROR }, { "warn", LLV_LOG_WARN },
		{ "info", LLV_LOG_INFO }, { "debug", LLV_LOG_DEBUG },
		{ "DEBUG", LLV_LOG_DEBUG }, { "warning", LLV_LOG_WARN },
		{ "", LLV_LOG_WARN },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("LLAVERO_LOG", cases[i].value, 1);
		llv_log_init("t");
		assert_int_equal(llv_log_get_level(), cases[i].level);
	}
	unsetenv("LLAVERO_LOG");
	llv_log_set_level(LLV_LOG_DEBUG);
	llv_log_init("t");
	assert_int_equal(llv_log_get_level(), LLV_LOG_WARN);
}

static void test_bad_env_value_warns(void **state)
{
	char *out;

	setenv("LLAVERO_LOG", "verbose", 1);
	begin_capture();
	llv_log_init("t");
	out = end_capture();
	assert_int_equal(llv_log_get_level(), LLV_LOG_WARN);
	assert_string_equal(out, "t: warn: LLAVERO_LOG=verbose is not one of error, "
			    "warn, info, debug; using warn\n");
	unsetenv("LLAVERO_LOG");
}

static void test_line_format_and_filtering(void **state)
{
	char *out;

	unsetenv("LLAVERO_LOG");
	llv_log_init("/usr/bin/llavero-agent");
	llv_log_set_level(LLV_LOG_INFO);
	begin_capture();
	llv_info("reader %s has %d slots", "ACS", 2);
	llv_debug("not shown");
	llv_error("card removed");
	llv_warn("pin retries: %d", 1);
	out = end_capture();
	assert_string_equal(out,
		"llavero-agent: info: reader ACS has 2 slots\n"
		"llavero-agent: error: card removed\n"
		"llavero-agent: warn: pin retries: 1\n");

	llv_log_set_level(LLV_LOG_ERROR);
	begin_capture();
	llv_warn("hidden");
	llv_info("hidden");
	out = end_capture();
	assert_string_equal(out, "");
}

static void test_control_characters_neutralised(void **state)
{
	char *out;

	llv_log_init("t");
	llv_log_set_level(LLV_LOG_WARN);
	begin_capture();
	llv_warn("name %s", "evil\nt: error: forged\x1b[2J");
	out = end_capture();
	assert_string_equal(out, "t: warn: name evil?t: error: forged?[2J\n");
}

static void test_long_line_truncated(void **state)
{
	char big[5000];
	char *out;
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	llv_log_set_level(LLV_LOG_WARN);
	begin_capture();
	llv_warn("%s", big);
	out = end_capture();
	n = strlen(out);
	assert_true(n <= 2048);
	assert_int_equal(strncmp(out, "t: warn: xxx", 12), 0);
	assert_string_equal(out + n - 4, "...\n");
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);    /* one line */
}

static void test_log_hex(void **state)
{
	static const uint8_t apdu[] = { 0x00, 0xA4, 0x04, 0x00 };
	uint8_t big[600];
	char *out;

	llv_log_init("t");
	llv_log_set_level(LLV_LOG_DEBUG);
	begin_capture();
	llv_log_hex(LLV_LOG_DEBUG, "apdu", apdu, sizeof(apdu));
	out = end_capture();
	assert_string_equal(out, "t: debug: apdu: 00a40400 (4 bytes)\n");

	memset(big, 0xAB, sizeof(big));
	begin_capture();
	llv_log_hex(LLV_LOG_DEBUG, "resp", big, sizeof(big));
	out = end_capture();
	/* 512 bytes shown, then a mark and the real size. */
	assert_int_equal(strlen(out), strlen("t: debug: resp: ") + 1024 +
			 strlen("... (600 bytes)\n"));
	assert_string_equal(out + strlen(out) - 16, "... (600 bytes)\n");

	llv_log_set_level(LLV_LOG_INFO);
	begin_capture();
	llv_log_hex(LLV_LOG_DEBUG, "apdu", apdu, sizeof(apdu));
	out = end_capture();
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_read_lazily_without_init),
		cmocka_unit_test(test_level_from_env),
		cmocka_unit_test(test_bad_env_value_warns),
		cmocka_unit_test(test_line_format_and_filtering),
		cmocka_unit_test(test_control_characters_neutralised),
		cmocka_unit_test(test_long_line_truncated),
		cmocka_unit_test(test_log_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
