/* Unit tests of common/atomic_file.c, in a private temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "atomic_file.h"

struct dir {
	char path[256];
	char file[300];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");

	if (d == NULL)
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/llv-atomic-XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(d->path) == NULL)
		return -1;
	snprintf(d->file, sizeof(d->file), "%s/state", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	struct dirent *e;
	DIR *dir = opendir(d->path);
	char p[600];

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(d->path);
	free(d);
	return 0;
}

/* Names in the directory, sorted and joined with spaces. */
static const char *dir_listing(const char *path)
{
	static char out[512];
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	out[0] = '\0';
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (out[0] != '\0')
				strcat(out, " ");
			strncat(out, names[i]->d_name, sizeof(out) - strlen(out) - 2);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static void expect_content(const char *path, const void *want, size_t want_len)
{
	uint8_t *data;
	size_t len;

	assert_int_equal(llv_read_file(path, 1 << 20, &data, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(data, want, want_len);
	assert_int_equal(data[len], '\0');
	free(data);
}

static void test_write_creates_file_with_mode(void **state)
{
	struct dir *d = *state;
	struct stat st;

	assert_int_equal(llv_atomic_write(d->file, "hola\0mundo", 10, 0600), 0);
	expect_content(d->file, "hola\0mundo", 10);
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(dir_listing(d->path), "state");
}

static void test_write_replaces_and_keeps_mode(void **state)
{
	struct dir *d = *state;
	struct stat st;

	assert_int_equal(llv_atomic_write(d->file, "a long first version", 20, 0600), 0);
	assert_int_equal(chmod(d->file, 0640), 0);
	assert_int_equal(llv_atomic_write(d->file, "v2", 2, 0600), 0);
	expect_content(d->file, "v2", 2);
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_string_equal(dir_listing(d->path), "state");

	assert_int_equal(llv_atomic_write(d->file, NULL, 0, 0600), 0);
	expect_content(d->file, "", 0);
	assert_string_equal(dir_listing(d->path), "state");
}

static void test_write_big(void **state)
{
	struct dir *d = *state;
	size_t len = 300000;
	uint8_t *big = malloc(len);

	for (size_t i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(llv_atomic_write(d->file, big, len, 0600), 0);
	expect_content(d->file, big, len);
	free(big);
}

static void test_write_failure_leaves_nothing(void **state)
{
	struct dir *d = *state;
	char p[400];
	struct stat st;

	/* Missing directory: nothing can be created. */
	snprintf(p, sizeof(p), "%s/missing/state", d->path);
	errno = 0;
	assert_int_equal(llv_atomic_write(p, "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);

	/* The target is a directory: rename fails after the temporary file was
	 * written, which must then be removed and the target left alone. */
	snprintf(p, sizeof(p), "%s/sub", d->path);
	assert_int_equal(mkdir(p, 0700), 0);
	errno = 0;
	assert_int_equal(llv_atomic_write(p, "x", 1, 0600), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(dir_listing(d->path), "sub");
}

static void test_read_limits(void **state)
{
	struct dir *d = *state;
	uint8_t *data = (uint8_t *)"unchanged";
	size_t len = 5;

	assert_int_equal(llv_atomic_write(d->file, "0123456789", 10, 0600), 0);
	assert_int_equal(llv_read_file(d->file, 10, &data, &len), 0);
	assert_int_equal(len, 10);
	free(data);
	data = (uint8_t *)"unchanged";
	len = 5;
	errno = 0;
	assert_int_equal(llv_read_file(d->file, 9, &data, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_string_equal((char *)data, "unchanged");
	assert_int_equal(len, 5);
	errno = 0;
	assert_int_equal(llv_read_file(d->file, 0, &data, &len), -1);
	assert_int_equal(errno, EFBIG);

	/* A device has no size to trust: the limit still holds. */
	errno = 0;
	assert_int_equal(llv_read_file("/dev/zero", 100, &data, &len), -1);
	assert_int_equal(errno, EFBIG);
	errno = 0;
	assert_int_equal(llv_read_file("/dev/null", 100, &data, &len), 0);
	assert_int_equal(len, 0);
	free(data);
}

static void test_read_errors(void **state)
{
	struct dir *d = *state;
	uint8_t *data;
	size_t len;

	errno = 0;
	assert_int_equal(llv_read_file(d->file, 100, &data, &len), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(llv_read_file(d->path, 100, &data, &len), -1);
	assert_int_equal(errno, EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_creates_file_with_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces_and_keeps_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
