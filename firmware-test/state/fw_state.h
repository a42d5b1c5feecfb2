/* State files of the simulated tokens (vcard, vkey): a small header
 * ("LLVS", format version, the token kind), named sections of bytes, and a
 * SHA-256 trailer over everything before it. Written atomically (temporary
 * file, fsync, rename, fsync of the directory), so a crash at any instant
 * leaves either the old or the new state. A file that is truncated, corrupt,
 * of another kind or of an unknown version is refused with a clear reason;
 * it is never silently reset. */
#ifndef LLAVERO_FW_STATE_H
#define LLAVERO_FW_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FW_STATE_MAX_SIZE (4u * 1024u * 1024u)
#define FW_STATE_MAX_SECTIONS 8

struct fw_state_section {
	char name[16];           /* e.g. "piv", "fido" */
	struct llv_buf data;
};

struct fw_state {
	char kind[16];           /* "vcard" or "vkey" */
	size_t n_sections;
	struct fw_state_section sections[FW_STATE_MAX_SECTIONS];
};

void fw_state_init(struct fw_state *st, const char *kind);
void fw_state_free(struct fw_state *st);
/* Returns the section's buffer, creating it (empty) when absent; NULL when full. */
struct llv_buf *fw_state_section(struct fw_state *st, const char *name);
/* Returns the section's buffer or NULL when absent. */
const struct llv_buf *fw_state_find(const struct fw_state *st, const char *name);

int fw_state_save(const struct fw_state *st, const char *path);
/* Loads path into st (initialised by the caller with the expected kind).
 * 0, or -1 with a human-readable reason in err. */
int fw_state_load(struct fw_state *st, const char *path, char *err, size_t errlen);

#endif
