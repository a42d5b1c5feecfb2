/* BER-TLV walking and writing (see tlv.h).
 *
 * Every read is checked against the bytes left in the span before it is
 * made, so a card or a file cannot make the parser look past its input. */
#include "tlv.h"

#include "log.h"

#define TLV_MAX_TAG_BYTES 3
#define TLV_MAX_LEN_BYTES 3

/* Reads the tag at p (left bytes available); returns its size or 0. */
static size_t parse_tag(const uint8_t *p, size_t left, uint32_t *tag)
{
	size_t n = 1;

	if (left < 1)
		return 0;
	*tag = p[0];
	if ((p[0] & 0x1f) != 0x1f)
		return 1;
	/* Multi-byte tag: subsequent bytes carry 7 bits each, bit 8 set on all
	 * but the last. */
	for (;;) {
		if (n >= left || n >= TLV_MAX_TAG_BYTES)
			return 0;
		/* A first subsequent byte of 0x80 is a leading zero group:
		 * ISO 7816-4 and X.690 both forbid it. */
		if (n == 1 && p[1] == 0x80)
			return 0;
		*tag = *tag << 8 | p[n];
		if ((p[n++] & 0x80) == 0)
			return n;
	}
}

/* Reads the length at p; returns its size or 0. Long form may be non-minimal
 * (BER allows it and some cards use 0x81 for short values). */
static size_t parse_len(const uint8_t *p, size_t left, size_t *len)
{
	size_t count;

	if (left < 1)
		return 0;
	if (p[0] < 0x80) {
		*len = p[0];
		return 1;
	}
	count = p[0] & 0x7f;
	/* 0x80 is the indefinite form: BER only, never in DER or on our cards. */
	if (count == 0 || count > TLV_MAX_LEN_BYTES || count >= left)
		return 0;
	*len = 0;
	for (size_t i = 1; i <= count; i++)
		*len = *len << 8 | p[i];
	return count + 1;
}

int llv_tlv_parse(const uint8_t *data, size_t len, struct llv_tlv *out)
{
	size_t tag_size, len_size, value_len, header;
	uint32_t tag;

	if (data == NULL)
		return -1;
	tag_size = parse_tag(data, len, &tag);
	if (tag_size == 0) {
		llv_debug("tlv: bad or truncated tag");
		return -1;
	}
	len_size = parse_len(data + tag_size, len - tag_size, &value_len);
	if (len_size == 0) {
		llv_debug("tlv: bad, indefinite or truncated length (tag %X)", tag);
		return -1;
	}
	header = tag_size + len_size;
	if (value_len > len - header) {
		llv_debug("tlv: tag %X claims %zu bytes, %zu left", tag, value_len,
			  len - header);
		return -1;
	}
	out->tag = tag;
	out->constructed = (data[0] & 0x20) != 0;
	out->value = data + header;
	out->len = value_len;
	out->raw = data;
	out->raw_len = header + value_len;
	return 0;
}

void llv_tlv_iter_init(struct llv_tlv_iter *it, const uint8_t *data, size_t len)
{
	it->p = data;
	it->left = data != NULL ? len : 0;
	it->failed = false;
}

bool llv_tlv_next(struct llv_tlv_iter *it, struct llv_tlv *out)
{
	if (it->failed || it->left == 0)
		return false;
	if (llv_tlv_parse(it->p, it->left, out) != 0) {
		it->failed = true;
		return false;
	}
	it->p += out->raw_len;
	it->left -= out->raw_len;
	return true;
}

int llv_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct llv_tlv *out)
{
	struct llv_tlv_iter it;
	struct llv_tlv t;

	llv_tlv_iter_init(&it, data, len);
	while (llv_tlv_next(&it, &t)) {
		if (t.tag == tag) {
			*out = t;
			return 0;
		}
	}
	return -1;
}

void llv_tlv_put_tag(struct llv_buf *b, uint32_t tag)
{
	if (tag > 0xffffff) {
		/* No such tag in our formats: a programming error, reported
		 * through the buffer like any other failed append. */
		llv_error("tlv: tag %X is longer than %d bytes", tag, TLV_MAX_TAG_BYTES);
		b->failed = true;
		return;
	}
	if (tag > 0xffff)
		llv_buf_put_u8(b, (uint8_t)(tag >> 16));
	if (tag > 0xff)
		llv_buf_put_u8(b, (uint8_t)(tag >> 8));
	llv_buf_put_u8(b, (uint8_t)tag);
}

size_t llv_tlv_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xff)
		return 2;
	if (len <= 0xffff)
		return 3;
	if (len <= 0xffffff)
		return 4;
	return 0;
}

void llv_tlv_put_len(struct llv_buf *b, size_t len)
{
	size_t size = llv_tlv_len_size(len);

	if (size == 0) {
		llv_error("tlv: length %zu does not fit in %d bytes", len,
			  TLV_MAX_LEN_BYTES);
		b->failed = true;
		return;
	}
	if (size == 1) {
		llv_buf_put_u8(b, (uint8_t)len);
		return;
	}
	llv_buf_put_u8(b, (uint8_t)(0x80 | (size - 1)));
	for (size_t i = size - 1; i > 0; i--)
		llv_buf_put_u8(b, (uint8_t)(len >> (8 * (i - 1))));
}

void llv_tlv_put(struct llv_buf *b, uint32_t tag, const void *value, size_t len)
{
	llv_tlv_put_tag(b, tag);
	llv_tlv_put_len(b, len);
	llv_buf_put(b, value, len);
}
