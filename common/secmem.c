/* Memory for secrets (see secmem.h).
 *
 * Every secure allocation is rounded up to whole pages and page-aligned, so
 * madvise(MADV_DONTDUMP) and mlock apply to our bytes only and never to a
 * neighbour's. Secrets are few and small, so the waste is a page each. Both
 * calls are best effort: a low RLIMIT_MEMLOCK must not stop a signature. */
#include "secmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

/* Size of the block behind a secure allocation of len bytes; 0 on overflow.
 * llv_secure_free recomputes it from len, so both sides must agree. */
static size_t secure_block_size(size_t len)
{
	size_t ps = page_size();

	if (len == 0)
		len = 1;
	if (len > SIZE_MAX - (ps - 1))
		return 0;
	return (len + ps - 1) / ps * ps;
}

void *llv_secure_alloc(size_t len)
{
	size_t size = secure_block_size(len);
	void *p = NULL;

	if (size == 0 || posix_memalign(&p, page_size(), size) != 0)
		return NULL;
	memset(p, 0, size);
#ifdef MADV_DONTDUMP
	(void)madvise(p, size, MADV_DONTDUMP);
#endif
	(void)mlock(p, size);
	return p;
}

void llv_secure_free(void *p, size_t len)
{
	size_t size;

	if (p == NULL)
		return;
	size = secure_block_size(len);
	OPENSSL_cleanse(p, size);
	(void)munlock(p, size);
#ifdef MADV_DODUMP
	/* The pages go back to malloc, which may hand them to anyone. */
	(void)madvise(p, size, MADV_DODUMP);
#endif
	free(p);
}

void llv_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

char *llv_secure_strdup(const char *s)
{
	size_t len;
	char *copy;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	copy = llv_secure_alloc(len + 1);
	if (copy != NULL)
		memcpy(copy, s, len + 1);
	return copy;
}

void llv_secure_strfree(char *s)
{
	if (s != NULL)
		llv_secure_free(s, strlen(s) + 1);
}

int llv_ct_memcmp(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 0;
	return CRYPTO_memcmp(a, b, len) != 0;
}
