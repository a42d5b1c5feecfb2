/* libFuzzer target for CTAPHID reassembly (firmware-test/vkey/ctaphid.c).
 * Input: records of 1 control byte + one 64-byte report. Control bits 0-5
 * advance the fake clock (x 20 ms), bit 6 runs the timers, bit 7 makes the
 * fake authenticator feed the following records while it "executes" a
 * request (the host talking while the key waits for a touch). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctaphid.h"

struct fz {
	uint64_t clock;
	const uint8_t *p;
	size_t left;
	bool nest;
	struct ctaphid *h;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_send(void *arg, const uint8_t r[CTAPHID_REPORT_LEN])
{
	(void)arg;
	/* An initialization packet never announces more than fits. */
	if ((r[4] & 0x80) && ((size_t)r[5] << 8 | r[6]) > CTAPHID_MAX_PAYLOAD)
		abort();
}

static uint64_t fz_now(void *arg)
{
	return ((struct fz *)arg)->clock;
}

static void feed(struct fz *f, int max)
{
	while (f->left >= 1 + CTAPHID_REPORT_LEN && max-- != 0) {
		uint8_t ctl = f->p[0];
		const uint8_t *r = f->p + 1;

		f->p += 1 + CTAPHID_REPORT_LEN;
		f->left -= 1 + CTAPHID_REPORT_LEN;
		f->clock += (uint64_t)(ctl & 0x3f) * 20u;
		if (ctl & 0x40)
			ctaphid_tick(f->h);
		f->nest = (ctl & 0x80) != 0;
		ctaphid_input(f->h, r, CTAPHID_REPORT_LEN);
		(void)ctaphid_next_timeout_ms(f->h);
	}
}

static void fz_exec(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct fz *f = arg;

	(void)cid;
	if (f->nest) {
		f->nest = false;
		ctaphid_keepalive(f->h, CTAPHID_STATUS_UPNEEDED);
		feed(f, 4);
	}
	llv_buf_put_u8(resp, ctaphid_cancelled(f->h) ? 0x2d : 0x00);
	llv_buf_put(resp, req, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .clock = 1, .p = data, .left = size };
	struct ctaphid_callbacks cb = {
		.send = fz_send, .now_ms = fz_now, .cbor = fz_exec, .msg = fz_exec, .arg = &f,
	};

	f.h = ctaphid_new(&cb);
	if (f.h == NULL)
		return 0;
	feed(&f, -1);
	ctaphid_reset(f.h);
	ctaphid_free(f.h);
	return 0;
}
