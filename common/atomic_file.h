/* Whole-file state storage that survives a crash at any instant: write to a
 * temporary file in the same directory, fsync it, rename over the target,
 * fsync the directory. A reader sees either the old or the new content. */
#ifndef LLAVERO_COMMON_ATOMIC_FILE_H
#define LLAVERO_COMMON_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0, or -1 with errno set (and the target untouched). mode is used
 * for a newly created file (e.g. 0600). */
int llv_atomic_write(const char *path, const void *data, size_t len, unsigned mode);
/* Reads a whole file (at most max_len bytes) into a malloc'd buffer.
 * Returns 0, or -1 with errno set (EFBIG when larger than max_len). */
int llv_read_file(const char *path, size_t max_len, uint8_t **out, size_t *out_len);

#endif
