/* Unit tests of common/secmem.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "secmem.h"

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void test_alloc_is_zeroed_and_page_aligned(void **state)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t sizes[] = { 0, 1, 32, ps - 1, ps, ps + 1, 3 * ps };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = llv_secure_alloc(sizes[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % ps, 0);
		assert_true(all_zero(p, sizes[i]));
		memset(p, 0xA5, sizes[i]);
		llv_secure_free(p, sizes[i]);
	}
	llv_secure_free(NULL, 10);
}

static void test_alloc_refuses_impossible_sizes(void **state)
{
	assert_null(llv_secure_alloc(SIZE_MAX));
	assert_null(llv_secure_alloc(SIZE_MAX - 10));
}

/* mlock is best effort: with no lockable memory left, allocation works. */
static void test_alloc_survives_mlock_limit(void **state)
{
	struct rlimit old, none;
	char *p;

	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	none = old;
	none.rlim_cur = 0;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &none), 0);
	p = llv_secure_alloc(100);
	assert_non_null(p);
	strcpy(p, "123456");
	llv_secure_free(p, 100);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
}

/* Reads the VmFlags of the mapping holding addr from /proc/self/smaps.
 * Returns 1 when found (flags filled), 0 when smaps is not available. */
static int vm_flags_of(const void *addr, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int inside = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%.*s", (int)(size - 1), line + 8);
			fclose(f);
			return 1;
		}
	}
	fclose(f);
	return 0;
}

static void test_alloc_is_kept_out_of_core_dumps(void **state)
{
	char flags[256];
	void *p = llv_secure_alloc(64);

	assert_non_null(p);
	if (!vm_flags_of(p, flags, sizeof(flags))) {
		llv_secure_free(p, 64);
		skip();
	}
	assert_non_null(strstr(flags, " dd"));
	llv_secure_free(p, 64);
}

static void test_wipe(void **state)
{
	uint8_t b[40];

	memset(b, 0xFF, sizeof(b));
	llv_wipe(b + 4, 32);
	assert_int_equal(b[3], 0xFF);
	assert_true(all_zero(b + 4, 32));
	assert_int_equal(b[36], 0xFF);
	llv_wipe(NULL, 10);
	llv_wipe(b, 0);
}

static void test_secure_strdup(void **state)
{
	const char *pin = "123456";
	char *copy = llv_secure_strdup(pin);

	assert_non_null(copy);
	assert_ptr_not_equal(copy, pin);
	assert_string_equal(copy, pin);
	llv_secure_strfree(copy);
	llv_secure_strfree(NULL);
	assert_null(llv_secure_strdup(NULL));
	copy = llv_secure_strdup("");
	assert_string_equal(copy, "");
	llv_secure_strfree(copy);
}

static void test_ct_memcmp(void **state)
{
	const uint8_t a[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t b[8];

	memcpy(b, a, sizeof(a));
	assert_int_equal(llv_ct_memcmp(a, b, sizeof(a)), 0);
	b[0] ^= 0x80;
	assert_int_not_equal(llv_ct_memcmp(a, b, sizeof(a)), 0);
	b[0] ^= 0x80;
	b[7] ^= 0x01;
	assert_int_not_equal(llv_ct_memcmp(a, b, sizeof(a)), 0);
	/* Only len bytes count. */
	assert_int_equal(llv_ct_memcmp(a, b, 7), 0);
	assert_int_equal(llv_ct_memcmp(a, b, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_is_zeroed_and_page_aligned),
		cmocka_unit_test(test_alloc_refuses_impossible_sizes),
		cmocka_unit_test(test_alloc_survives_mlock_limit),
		cmocka_unit_test(test_alloc_is_kept_out_of_core_dumps),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_secure_strdup),
		cmocka_unit_test(test_ct_memcmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
