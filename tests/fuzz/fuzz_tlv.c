/* libFuzzer target for common/tlv.c: walks any input as nested BER-TLV and
 * checks that every element lies inside its parent and that writing it back
 * gives an element that parses to the same tag and value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 16

static void check_round_trip(const struct llv_tlv *t)
{
	struct llv_buf b = LLV_BUF_INIT;
	struct llv_tlv again;

	llv_tlv_put(&b, t->tag, t->value, t->len);
	if (!llv_buf_ok(&b))
		abort();
	/* Writing is minimal, so it is never longer than what was read. */
	if (b.len > t->raw_len)
		abort();
	if (llv_tlv_parse(b.data, b.len, &again) != 0 || again.tag != t->tag ||
	    again.constructed != t->constructed || again.len != t->len ||
	    again.raw_len != b.len || (t->len > 0 && memcmp(again.value, t->value, t->len) != 0))
		abort();
	llv_buf_free(&b);
}

static void walk(const uint8_t *p, size_t len, int depth)
{
	struct llv_tlv_iter it;
	struct llv_tlv t;
	size_t covered = 0;

	llv_tlv_iter_init(&it, p, len);
	while (llv_tlv_next(&it, &t)) {
		/* Inside the span, and consecutive. */
		if (t.raw != p + covered || t.raw_len > len - covered ||
		    t.value < t.raw || t.value + t.len != t.raw + t.raw_len)
			abort();
		covered += t.raw_len;
		check_round_trip(&t);
		if (t.constructed && depth < MAX_DEPTH)
			walk(t.value, t.len, depth + 1);
	}
	if (!it.failed && covered != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llv_tlv t;

	walk(data, size, 0);
	if (size >= 4) {
		uint32_t tag = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];

		(void)llv_tlv_find(data + 3, size - 3, tag, &t);
	}
	return 0;
}
