/* agent_frame.c: native messaging framing. Each message is a 4-byte length
 * in native byte order and that many bytes of UTF-8 JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

ssize_t agent_fd_read(void *ctx, void *buf, size_t n)
{
	int fd = *(int *)ctx;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

/* Reads exactly n bytes (buf NULL: reads and drops them). Returns n, fewer at
 * EOF, -1 on error. */
static ssize_t read_full(agent_read_fn *rd, void *ctx, uint8_t *buf, size_t n)
{
	uint8_t scratch[4096];
	size_t got = 0;
	while (got < n) {
		size_t want = n - got;
		uint8_t *dst = buf ? buf + got : scratch;
		if (!buf && want > sizeof(scratch))
			want = sizeof(scratch);
		ssize_t r = rd(ctx, dst, want);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int agent_frame_read(agent_read_fn *rd, void *ctx, size_t max, char **out, size_t *len,
		     uint32_t *declared)
{
	uint8_t hdr[4];
	uint32_t n;
	*out = NULL;
	*len = 0;
	ssize_t r = read_full(rd, ctx, hdr, sizeof(hdr));
	if (r < 0)
		return AGENT_FRAME_IO;
	if (r == 0)
		return AGENT_FRAME_EOF;
	if (r < 4)
		return AGENT_FRAME_TRUNCATED;
	memcpy(&n, hdr, sizeof(n));
	if (declared)
		*declared = n;
	if (n > max) {
		r = read_full(rd, ctx, NULL, n);
		if (r < 0)
			return AGENT_FRAME_IO;
		return (size_t)r < n ? AGENT_FRAME_TRUNCATED : AGENT_FRAME_TOO_BIG;
	}
	char *body = malloc((size_t)n + 1);
	if (!body)
		return AGENT_FRAME_IO;
	r = read_full(rd, ctx, (uint8_t *)body, n);
	if (r < 0 || (size_t)r < n) {
		free(body);
		return r < 0 ? AGENT_FRAME_IO : AGENT_FRAME_TRUNCATED;
	}
	body[n] = '\0';
	*out = body;
	*len = n;
	return AGENT_FRAME_OK;
}

static int write_full(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int agent_frame_write(int fd, const char *data, size_t len)
{
	if (len > AGENT_MAX_OUT) {
		llv_error("response of %zu bytes exceeds the %u-byte limit", len, AGENT_MAX_OUT);
		return -1;
	}
	uint32_t n = (uint32_t)len;
	uint8_t hdr[4];
	memcpy(hdr, &n, sizeof(hdr));
	if (write_full(fd, hdr, sizeof(hdr)) != 0 || write_full(fd, data, len) != 0) {
		llv_error("cannot write a response: %s", strerror(errno));
		return -1;
	}
	return 0;
}
