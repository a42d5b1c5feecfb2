/* libFuzzer target: CTAPHID reassembly (firmware-test/vkey/ctaphid.c) in
 * front of the real authenticator core, as llavero-vkey runs them, with a
 * fake clock. Each input starts from the same factory-fresh core (generated
 * once, then loaded from its saved bytes per input).
 *
 * Input: records of 1 control byte + one 64-byte report. Control bits 0-5
 * advance the fake clock (x 20 ms, so MSG_TIMEOUT and LOCK expiry happen),
 * bit 6 runs the timers, bit 7 makes a user-presence request wait: it sends
 * KEEPALIVE and feeds the following records (CANCEL, other channels, INIT
 * resync) before it answers. Checks: reports the key sends never announce
 * more than the maximum payload; a CBOR answer always starts with a status
 * byte; the saved state of the core still loads afterwards. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_authenticator.h"
#include "ctaphid.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint64_t clock;
	const uint8_t *p;
	size_t left;
	bool wait_up;
	int depth;
	struct ctaphid *h;
	struct ctap_auth *a;
};

static uint8_t *fresh_state;
static size_t fresh_len;

static void feed(struct fz *f, int max);

static void fz_send(void *arg, const uint8_t r[CTAPHID_REPORT_LEN])
{
	(void)arg;
	if ((r[4] & 0x80) && ((size_t)r[5] << 8 | r[6]) > CTAPHID_MAX_PAYLOAD)
		abort();
}

static uint64_t fz_now(void *arg)
{
	return ((struct fz *)arg)->clock;
}

static uint8_t fz_up(void *arg)
{
	struct fz *f = arg;

	if (f->wait_up && f->depth == 0) {
		f->wait_up = false;
		f->depth++;
		ctaphid_keepalive(f->h, CTAPHID_STATUS_UPNEEDED);
		feed(f, 4);
		f->depth--;
	}
	return ctaphid_cancelled(f->h) ? 0x2D : 0x00;
}

static void fz_cbor(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct fz *f = arg;
	size_t before = resp->len;

	(void)cid;
	ctap_auth_cbor(f->a, req, len, resp);
	if (llv_buf_ok(resp) && resp->len == before)
		abort();                 /* no status byte */
}

static void fz_msg(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct fz *f = arg;
	size_t before = resp->len;

	(void)cid;
	ctap_auth_u2f(f->a, req, len, resp);
	if (llv_buf_ok(resp) && resp->len < before + 2)
		abort();                 /* no status word */
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
		if (ctl & 0x80)
			f->wait_up = true;
		ctaphid_input(f->h, r, CTAPHID_REPORT_LEN);
	}
}

static void make_fresh(void)
{
	struct ctap_auth_callbacks cb = { 0 };
	struct ctap_auth *a = ctap_auth_new(&cb);
	struct llv_buf b = LLV_BUF_INIT;

	if (a == NULL || ctap_auth_init_fresh(a) != 0 || ctap_auth_save(a, &b) != 0 || !llv_buf_ok(&b))
		abort();
	fresh_state = llv_buf_steal(&b, &fresh_len);
	ctap_auth_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .clock = 1, .p = data, .left = size };
	char err[128];

	if (fresh_state == NULL) {
		llv_log_set_level(LLV_LOG_ERROR);
		make_fresh();
	}
	struct ctap_auth_callbacks acb = { .user_presence = fz_up, .now_ms = fz_now, .arg = &f };
	struct ctaphid_callbacks hcb = {
		.send = fz_send, .now_ms = fz_now, .cbor = fz_cbor, .msg = fz_msg, .arg = &f,
		.version = { 1, 0, 0 },
	};
	f.a = ctap_auth_new(&acb);
	if (f.a == NULL)
		return 0;
	if (ctap_auth_load(f.a, fresh_state, fresh_len, err, sizeof(err)) != 0)
		abort();
	f.h = ctaphid_new(&hcb);
	if (f.h == NULL) {
		ctap_auth_free(f.a);
		return 0;
	}
	feed(&f, -1);
	ctaphid_reset(f.h);
	ctap_auth_power_cycle(f.a);

	/* Whatever happened, the persistent state still saves and loads. */
	struct llv_buf b = LLV_BUF_INIT;
	if (ctap_auth_save(f.a, &b) != 0 || !llv_buf_ok(&b))
		abort();
	struct ctap_auth *again = ctap_auth_new(&acb);
	if (again && ctap_auth_load(again, b.data, b.len, err, sizeof(err)) != 0)
		abort();
	ctap_auth_free(again);
	llv_buf_free(&b);
	ctaphid_free(f.h);
	ctap_auth_free(f.a);
	return 0;
}
