/* Growable byte buffer: the one way Llavero builds variable-length messages
 * (APDUs, DER, CBOR frames). Appends never truncate: on allocation failure the
 * buffer is marked failed and every later append is a no-op, so callers can
 * chain appends and check once with llv_buf_ok(). */
#ifndef LLAVERO_COMMON_BUF_H
#define LLAVERO_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct llv_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;    /* an append could not allocate */
	bool secret;    /* wipe on growth and on free */
};

#define LLV_BUF_INIT { NULL, 0, 0, false, false }

void llv_buf_init(struct llv_buf *b);
/* Like llv_buf_init, but the content is wiped whenever it moves or is freed. */
void llv_buf_init_secret(struct llv_buf *b);
/* Frees the storage (wiping it when the buffer is secret) and resets *b. */
void llv_buf_free(struct llv_buf *b);
/* Empties the buffer but keeps its storage (wiped when secret). */
void llv_buf_clear(struct llv_buf *b);
bool llv_buf_ok(const struct llv_buf *b);
/* Makes room for at least extra more bytes; false on failure. */
bool llv_buf_reserve(struct llv_buf *b, size_t extra);

void llv_buf_put(struct llv_buf *b, const void *data, size_t len);
void llv_buf_put_u8(struct llv_buf *b, uint8_t v);
void llv_buf_put_be16(struct llv_buf *b, uint16_t v);
void llv_buf_put_be32(struct llv_buf *b, uint32_t v);
void llv_buf_put_str(struct llv_buf *b, const char *s);
/* Removes the first n bytes (n > len removes all). */
void llv_buf_consume(struct llv_buf *b, size_t n);
/* Hands the storage to the caller (who frees it) and resets *b. */
uint8_t *llv_buf_steal(struct llv_buf *b, size_t *len);

/* Bounds-checked reader over a byte span: reads past the end fail instead of
 * overrunning, and the failure is sticky like llv_buf's. */
struct llv_reader {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void llv_reader_init(struct llv_reader *r, const void *data, size_t len);
bool llv_reader_ok(const struct llv_reader *r);
uint8_t llv_reader_u8(struct llv_reader *r);
uint16_t llv_reader_be16(struct llv_reader *r);
uint32_t llv_reader_be32(struct llv_reader *r);
/* Returns a pointer to the next n bytes and advances, or NULL (and fails). */
const uint8_t *llv_reader_take(struct llv_reader *r, size_t n);

#endif
