/* BER-TLV walking and writing, as ISO 7816-4 (SIMPLE/BER-TLV data objects),
 * NIST SP 800-73-4 and DER use it. Tags are up to 3 bytes, stored as the
 * big-endian integer of their bytes (0x5FC105, 0x7F49, 0x53). Lengths are
 * short form or long form up to 3 length bytes (0x83); indefinite length is
 * rejected. The parser never reads outside the given span. */
#ifndef LLAVERO_COMMON_TLV_H
#define LLAVERO_COMMON_TLV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "buf.h"

struct llv_tlv {
	uint32_t tag;
	bool constructed;      /* bit 6 of the first tag byte */
	const uint8_t *value;
	size_t len;
	const uint8_t *raw;    /* the whole element: tag, length and value */
	size_t raw_len;
};

/* Parses one element at the start of data. Returns 0, or -1 when the element
 * is malformed or does not fit in len. */
int llv_tlv_parse(const uint8_t *data, size_t len, struct llv_tlv *out);

/* Iterator over consecutive elements of a span (e.g. the value of a
 * constructed element). */
struct llv_tlv_iter {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void llv_tlv_iter_init(struct llv_tlv_iter *it, const uint8_t *data, size_t len);
/* Returns true and fills *out for the next element; false at the end or on a
 * malformed element (then it->failed is set). */
bool llv_tlv_next(struct llv_tlv_iter *it, struct llv_tlv *out);
/* Finds the first element with tag among the elements of the span (one level,
 * no descent). Returns 0, -1 when absent or malformed. */
int llv_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct llv_tlv *out);

/* Writes a tag (1-3 bytes as given), a minimal-length BER length and the value. */
void llv_tlv_put(struct llv_buf *b, uint32_t tag, const void *value, size_t len);
void llv_tlv_put_tag(struct llv_buf *b, uint32_t tag);
void llv_tlv_put_len(struct llv_buf *b, size_t len);
/* Number of bytes llv_tlv_put_len writes for len. */
size_t llv_tlv_len_size(size_t len);

#endif
