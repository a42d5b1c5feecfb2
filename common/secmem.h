/* Memory for secrets (PINs, private keys, decrypted .key files): wiped with
 * OPENSSL_cleanse when freed, kept out of core dumps and, where the system
 * allows, out of swap. */
#ifndef LLAVERO_COMMON_SECMEM_H
#define LLAVERO_COMMON_SECMEM_H

#include <stddef.h>

/* Zeroed allocation; NULL on failure. */
void *llv_secure_alloc(size_t len);
/* Wipes len bytes and frees; NULL is fine. len must be the allocated size. */
void llv_secure_free(void *p, size_t len);
/* Wipes memory in a way the compiler cannot optimise away. */
void llv_wipe(void *p, size_t len);
/* Copies a NUL-terminated secret into secure memory; NULL on failure. */
char *llv_secure_strdup(const char *s);
/* Wipes and frees a string made by llv_secure_strdup. */
void llv_secure_strfree(char *s);
/* Constant-time comparison: 0 when equal. */
int llv_ct_memcmp(const void *a, const void *b, size_t len);

#endif
