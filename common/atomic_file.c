/* Crash-safe whole-file writes and bounded whole-file reads (see
 * atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secmem.h"

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync on the directory makes the rename itself durable. */
static int sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc, saved;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int llv_atomic_write(const char *path, const void *data, size_t len, unsigned mode)
{
	static const char suffix[] = ".tmpXXXXXX";
	size_t path_len = strlen(path);
	const char *step;
	struct stat st;
	char *tmp;
	int fd, saved;

	tmp = malloc(path_len + sizeof(suffix));
	if (tmp == NULL)
		return -1;
	memcpy(tmp, path, path_len);
	memcpy(tmp + path_len, suffix, sizeof(suffix));

	/* Same directory as the target, so the rename cannot cross devices. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		saved = errno;
		llv_error("%s: cannot create a temporary file: %s", path, strerror(saved));
		free(tmp);
		errno = saved;
		return -1;
	}
	/* mkostemp would set this atomically, but glibc hides it behind
	 * _GNU_SOURCE; a child forked in between would only hold a temp file. */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* A replaced file keeps its permissions; a new one gets mode. */
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	step = "set the mode of";
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	step = "write";
	if (write_all(fd, data, len) != 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	step = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	/* The new content is in place now; failing here would make the caller
	 * believe the old content survived. Only durability is at stake. */
	if (sync_parent_dir(path) != 0)
		llv_warn("%s: cannot fsync its directory: %s", path, strerror(errno));
	free(tmp);
	return 0;
fail:
	saved = errno;
	llv_error("%s: cannot %s the temporary file %s: %s", path, step, tmp,
		  strerror(saved));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

/* Grows *buf to cap bytes, wiping the old block: state files hold keys. */
static int grow_wiped(uint8_t **buf, size_t used, size_t *cap, size_t new_cap)
{
	uint8_t *p = malloc(new_cap);

	if (p == NULL)
		return -1;
	if (*buf != NULL) {
		memcpy(p, *buf, used);
		llv_wipe(*buf, *cap);
		free(*buf);
	}
	*buf = p;
	*cap = new_cap;
	return 0;
}

/* The buffer gets a NUL after the last byte (not counted in *out_len), so
 * text files can be used as strings. */
int llv_read_file(const char *path, size_t max_len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = NULL;
	size_t used = 0, cap = 0, want;
	struct stat st;
	int fd, saved;

	if (max_len == SIZE_MAX)
		max_len--;      /* room for the NUL */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The size is only a hint: the file may change while we read it, and
	 * pipes and devices have none. Reading stops one byte past max_len. */
	want = 4096;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
		if ((unsigned long long)st.st_size > max_len) {
			errno = EFBIG;
			goto fail;
		}
		want = (size_t)st.st_size + 1;
	}
	for (;;) {
		ssize_t n;

		if (used == cap) {
			size_t new_cap = cap == 0 ? want : cap * 2;

			if (new_cap > max_len + 1 || new_cap < cap)
				new_cap = max_len + 1;
			if (new_cap <= cap) {
				errno = EFBIG;
				goto fail;
			}
			if (grow_wiped(&buf, used, &cap, new_cap) != 0)
				goto fail;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max_len) {
		errno = EFBIG;
		goto fail;
	}
	if (used == cap && grow_wiped(&buf, used, &cap, used + 1) != 0)
		goto fail;
	buf[used] = '\0';
	close(fd);
	*out = buf;
	*out_len = used;
	return 0;
fail:
	saved = errno;
	llv_debug("%s: cannot read: %s", path, strerror(saved));
	close(fd);
	if (buf != NULL) {
		llv_wipe(buf, cap);
		free(buf);
	}
	errno = saved;
	return -1;
}
