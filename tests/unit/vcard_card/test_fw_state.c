/* fw_state: round trip, and refusal (with a reason) of truncated, corrupt,
 * foreign-kind and unknown-version files, which stay untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "atomic_file.h"
#include "fw_state.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/llv-fwstate-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_sample(void)
{
	struct fw_state st;
	fw_state_init(&st, "vcard");
	struct llv_buf *b = fw_state_section(&st, "piv");
	assert_non_null(b);
	llv_buf_put(b, "hello piv", 9);
	b = fw_state_section(&st, "fido");
	assert_non_null(b);
	for (int i = 0; i < 1000; i++)
		llv_buf_put_u8(b, (uint8_t)i);
	/* Same name: same section. */
	assert_ptr_equal(fw_state_section(&st, "piv"), fw_state_find(&st, "piv"));
	assert_int_equal(fw_state_save(&st, path), 0);
	fw_state_free(&st);
}

static void read_raw(uint8_t **d, size_t *n)
{
	assert_int_equal(llv_read_file(path, FW_STATE_MAX_SIZE, d, n), 0);
}

static void write_raw(const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	fclose(f);
}

static void expect_refused(const char *needle)
{
	struct fw_state st;
	char err[256] = "";
	fw_state_init(&st, "vcard");
	struct llv_buf *keep = fw_state_section(&st, "mine");
	llv_buf_put(keep, "x", 1);
	assert_int_equal(fw_state_load(&st, path, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", err, needle);
	/* st is unchanged. */
	assert_int_equal(st.n_sections, 1);
	assert_non_null(fw_state_find(&st, "mine"));
	fw_state_free(&st);
}

static void test_round_trip(void **state)
{
	struct fw_state st;
	char err[256];
	write_sample();
	fw_state_init(&st, "vcard");
	assert_int_equal(fw_state_load(&st, path, err, sizeof(err)), 0);
	assert_int_equal(st.n_sections, 2);
	const struct llv_buf *b = fw_state_find(&st, "piv");
	assert_non_null(b);
	assert_int_equal(b->len, 9);
	assert_memory_equal(b->data, "hello piv", 9);
	b = fw_state_find(&st, "fido");
	assert_non_null(b);
	assert_int_equal(b->len, 1000);
	assert_int_equal(b->data[999], (uint8_t)999);
	assert_null(fw_state_find(&st, "nothere"));
	/* Saving what was loaded gives the same bytes. */
	uint8_t *d1, *d2;
	size_t n1, n2;
	read_raw(&d1, &n1);
	assert_int_equal(fw_state_save(&st, path), 0);
	read_raw(&d2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(d1, d2, n1);
	free(d1);
	free(d2);
	fw_state_free(&st);
}

static void test_empty_state(void **state)
{
	struct fw_state st;
	char err[256];
	fw_state_init(&st, "vkey");
	assert_int_equal(fw_state_save(&st, path), 0);
	fw_state_init(&st, "vkey");
	assert_int_equal(fw_state_load(&st, path, err, sizeof(err)), 0);
	assert_int_equal(st.n_sections, 0);
}

static void test_truncated(void **state)
{
	uint8_t *d;
	size_t n;
	write_sample();
	read_raw(&d, &n);
	/* Every truncation point is refused. */
	for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 97)) {
		write_raw(d, cut);
		struct fw_state st;
		char err[256] = "";
		fw_state_init(&st, "vcard");
		assert_int_equal(fw_state_load(&st, path, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		fw_state_free(&st);
	}
	write_raw(d, n - 1);
	expect_refused("truncado");
	write_raw(d, n / 2);
	expect_refused("truncado");
	/* Trailing garbage. */
	uint8_t *longer = malloc(n + 3);
	memcpy(longer, d, n);
	memset(longer + n, 0, 3);
	write_raw(longer, n + 3);
	expect_refused("dañado");
	free(longer);
	free(d);
}

static void test_flipped_byte(void **state)
{
	uint8_t *d;
	size_t n;
	write_sample();
	read_raw(&d, &n);
	for (size_t i = 12; i < n; i += 13) {
		d[i] ^= 0x01;
		write_raw(d, n);
		expect_refused(i < 12 + 16 + 2 ? "" : "dañado");
		d[i] ^= 0x01;
	}
	d[40] ^= 0x80;
	write_raw(d, n);
	expect_refused("suma de verificación");
	free(d);
}

static void test_wrong_kind(void **state)
{
	struct fw_state st;
	char err[256];
	write_sample();
	fw_state_init(&st, "vkey");
	assert_int_equal(fw_state_load(&st, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "otro tipo"));
	assert_non_null(strstr(err, "vcard"));
	fw_state_free(&st);
}

static void test_unknown_version(void **state)
{
	uint8_t *d;
	size_t n;
	write_sample();
	read_raw(&d, &n);
	d[5] = 9;    /* version 9, with a valid checksum */
	SHA256(d, n - 32, d + n - 32);
	write_raw(d, n);
	expect_refused("versión");
	free(d);
}

static void test_not_ours(void **state)
{
	write_raw((const uint8_t *)"{\"json\": true}\n", 15);
	expect_refused("no es un archivo de estado");
	unlink(path);
	expect_refused("no existe");
}

static void test_atomic_replace(void **state)
{
	/* A failed save (directory gone) leaves nothing half-written. */
	struct fw_state st;
	char bad[160];
	fw_state_init(&st, "vcard");
	llv_buf_put(fw_state_section(&st, "piv"), "a", 1);
	snprintf(bad, sizeof(bad), "%s/missing/state", dir);
	assert_int_equal(fw_state_save(&st, bad), -1);
	fw_state_free(&st);
	/* Section table limits. */
	fw_state_init(&st, "vcard");
	char name[16];
	for (int i = 0; i < FW_STATE_MAX_SECTIONS; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_non_null(fw_state_section(&st, name));
	}
	assert_null(fw_state_section(&st, "onemore"));
	assert_null(fw_state_section(&st, "a-name-much-too-long"));
	fw_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
