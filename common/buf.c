/* Growable byte buffer and bounds-checked reader (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "secmem.h"

#define BUF_MAX_SIZE ((size_t)PTRDIFF_MAX)

void llv_buf_init(struct llv_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void llv_buf_init_secret(struct llv_buf *b)
{
	llv_buf_init(b);
	b->secret = true;
}

void llv_buf_free(struct llv_buf *b)
{
	bool secret = b->secret;

	if (b->data != NULL && secret)
		llv_wipe(b->data, b->cap);
	free(b->data);
	llv_buf_init(b);
	/* A secret buffer stays secret if the caller reuses it. */
	b->secret = secret;
}

/* Clearing starts a new message, so it also forgets an earlier failure. */
void llv_buf_clear(struct llv_buf *b)
{
	if (b->data != NULL && b->secret)
		llv_wipe(b->data, b->len);
	b->len = 0;
	b->failed = false;
}

bool llv_buf_ok(const struct llv_buf *b)
{
	return !b->failed;
}

/* Moves the content to a new block of new_cap bytes. realloc is not used for
 * secret buffers because it may leave a copy of the old block behind. */
static bool buf_grow(struct llv_buf *b, size_t new_cap)
{
	uint8_t *p;

	if (!b->secret) {
		p = realloc(b->data, new_cap);
		if (p == NULL)
			return false;
	} else {
		p = malloc(new_cap);
		if (p == NULL)
			return false;
		if (b->data != NULL) {
			memcpy(p, b->data, b->len);
			llv_wipe(b->data, b->cap);
			free(b->data);
		}
	}
	b->data = p;
	b->cap = new_cap;
	return true;
}

bool llv_buf_reserve(struct llv_buf *b, size_t extra)
{
	size_t need, new_cap;

	if (b->failed)
		return false;
	/* No object may exceed PTRDIFF_MAX (pointer differences would
	 * overflow), so such a size fails here rather than in malloc. */
	if (extra > BUF_MAX_SIZE - b->len)
		goto fail;
	need = b->len + extra;
	if (need <= b->cap)
		return true;
	/* Doubling keeps a long run of appends linear in total cost. */
	new_cap = b->cap < 64 ? 64 : b->cap;
	while (new_cap < need) {
		if (new_cap > BUF_MAX_SIZE / 2) {
			new_cap = need;
			break;
		}
		new_cap *= 2;
	}
	if (buf_grow(b, new_cap))
		return true;
fail:
	b->failed = true;
	return false;
}

void llv_buf_put(struct llv_buf *b, const void *data, size_t len)
{
	if (!llv_buf_reserve(b, len))
		return;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
}

void llv_buf_put_u8(struct llv_buf *b, uint8_t v)
{
	llv_buf_put(b, &v, 1);
}

void llv_buf_put_be16(struct llv_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	llv_buf_put(b, x, sizeof(x));
}

void llv_buf_put_be32(struct llv_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	llv_buf_put(b, x, sizeof(x));
}

void llv_buf_put_str(struct llv_buf *b, const char *s)
{
	llv_buf_put(b, s, strlen(s));
}

void llv_buf_consume(struct llv_buf *b, size_t n)
{
	if (n >= b->len) {
		if (b->data != NULL && b->secret)
			llv_wipe(b->data, b->len);
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	/* The tail still holds the last n bytes of the old content. */
	if (b->secret)
		llv_wipe(b->data + b->len, n);
}

/* A failed buffer gives NULL (its storage is freed). An empty one gives a
 * 1-byte block, so that NULL always means failure. */
uint8_t *llv_buf_steal(struct llv_buf *b, size_t *len)
{
	uint8_t *p;

	*len = 0;
	if (b->failed) {
		llv_buf_free(b);
		return NULL;
	}
	if (b->data == NULL && !llv_buf_reserve(b, 1)) {
		llv_buf_free(b);
		return NULL;
	}
	p = b->data;
	*len = b->len;
	b->data = NULL;
	llv_buf_free(b);
	return p;
}

void llv_reader_init(struct llv_reader *r, const void *data, size_t len)
{
	/* p is never NULL, so take(0) on an empty span still gives a pointer. */
	static const uint8_t empty[1];

	r->p = data != NULL ? data : empty;
	r->left = data != NULL ? len : 0;
	r->failed = false;
}

bool llv_reader_ok(const struct llv_reader *r)
{
	return !r->failed;
}

const uint8_t *llv_reader_take(struct llv_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > r->left) {
		r->failed = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t llv_reader_u8(struct llv_reader *r)
{
	const uint8_t *p = llv_reader_take(r, 1);

	return p != NULL ? p[0] : 0;
}

uint16_t llv_reader_be16(struct llv_reader *r)
{
	const uint8_t *p = llv_reader_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t llv_reader_be32(struct llv_reader *r)
{
	const uint8_t *p = llv_reader_take(r, 4);

	return p != NULL ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			   (uint32_t)p[2] << 8 | (uint32_t)p[3]
			 : 0;
}
