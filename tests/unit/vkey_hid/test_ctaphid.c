/* CTAPHID state machine (firmware-test/vkey/ctaphid.c) with a fake clock and
 * a fake authenticator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ctaphid.h"

#define MAX_OUT 300

struct env {
	uint64_t clock;
	uint8_t out[MAX_OUT][CTAPHID_REPORT_LEN];
	size_t n_out;
	struct ctaphid *h;
	/* fake authenticator */
	int cbor_calls;
	int msg_calls;
	int wink_calls;
	uint8_t last_req[CTAPHID_MAX_PAYLOAD];
	size_t last_req_len;
	/* run during the cbor callback, to play "host talks while we wait" */
	void (*during)(struct env *e);
	bool saw_cancel;
};

static void fake_send(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct env *e = arg;

	assert_true(e->n_out < MAX_OUT);
	memcpy(e->out[e->n_out++], report, CTAPHID_REPORT_LEN);
}

static uint64_t fake_now(void *arg)
{
	return ((struct env *)arg)->clock;
}

static void fake_cbor(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct env *e = arg;

	(void)cid;
	e->cbor_calls++;
	memcpy(e->last_req, req, len);
	e->last_req_len = len;
	if (e->during != NULL)
		e->during(e);
	if (ctaphid_cancelled(e->h)) {
		e->saw_cancel = true;
		llv_buf_put_u8(resp, 0x2d);
		return;
	}
	llv_buf_put_u8(resp, 0x00);
	llv_buf_put(resp, req, len);
}

static void fake_msg(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct env *e = arg;

	(void)cid;
	(void)req;
	(void)len;
	e->msg_calls++;
	llv_buf_put_be16(resp, 0x9000);
}

static void fake_wink(void *arg, uint32_t cid)
{
	(void)cid;
	((struct env *)arg)->wink_calls++;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ctaphid_callbacks cb = {
		.send = fake_send, .now_ms = fake_now, .cbor = fake_cbor,
		.msg = fake_msg, .wink = fake_wink, .version = { 0, 1, 0 },
	};

	assert_non_null(e);
	e->clock = 1000;
	cb.arg = e;
	e->h = ctaphid_new(&cb);
	assert_non_null(e->h);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	ctaphid_free(e->h);
	free(e);
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sends a request fragmented the way a host does. */
static void host_send(struct env *e, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t pkt[CTAPHID_REPORT_LEN];
	size_t off, n;
	uint8_t seq = 0;

	memset(pkt, 0, sizeof(pkt));
	put32(pkt, cid);
	pkt[4] = cmd;
	pkt[5] = (uint8_t)(len >> 8);
	pkt[6] = (uint8_t)len;
	n = len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA;
	if (n)
		memcpy(pkt + 7, data, n);
	ctaphid_input(e->h, pkt, sizeof(pkt));
	for (off = n; off < len; off += n) {
		memset(pkt, 0, sizeof(pkt));
		put32(pkt, cid);
		pkt[4] = seq++;
		n = len - off < CTAPHID_CONT_DATA ? len - off : CTAPHID_CONT_DATA;
		memcpy(pkt + 5, data + off, n);
		ctaphid_input(e->h, pkt, sizeof(pkt));
	}
}

static void host_send_cont(struct env *e, uint32_t cid, uint8_t seq)
{
	uint8_t pkt[CTAPHID_REPORT_LEN];

	memset(pkt, 0xab, sizeof(pkt));
	put32(pkt, cid);
	pkt[4] = seq;
	ctaphid_input(e->h, pkt, sizeof(pkt));
}

/* Reassembles the response that starts at out[*idx]; returns its command. */
static uint8_t read_response(struct env *e, size_t *idx, uint32_t cid, uint8_t *data, size_t *len)
{
	const uint8_t *p;
	size_t bcnt, got, n;
	uint8_t cmd, seq = 0;

	assert_true(*idx < e->n_out);
	p = e->out[(*idx)++];
	assert_int_equal(be32(p), cid);
	assert_true(p[4] & 0x80);
	cmd = p[4];
	bcnt = (size_t)p[5] << 8 | p[6];
	n = bcnt < CTAPHID_INIT_DATA ? bcnt : CTAPHID_INIT_DATA;
	memcpy(data, p + 7, n);
	for (got = n; got < bcnt; got += n) {
		assert_true(*idx < e->n_out);
		p = e->out[(*idx)++];
		assert_int_equal(be32(p), cid);
		assert_int_equal(p[4], seq);
		seq++;
		n = bcnt - got < CTAPHID_CONT_DATA ? bcnt - got : CTAPHID_CONT_DATA;
		memcpy(data + got, p + 5, n);
	}
	*len = bcnt;
	return cmd;
}

static void expect_error(struct env *e, size_t *idx, uint32_t cid, uint8_t code)
{
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len;

	assert_int_equal(read_response(e, idx, cid, d, &len), CTAPHID_ERROR);
	assert_int_equal(len, 1);
	assert_int_equal(d[0], code);
}

static uint32_t alloc_channel(struct env *e)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t d[64];
	size_t len, idx = e->n_out;

	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_INIT, nonce, 8);
	assert_int_equal(read_response(e, &idx, CTAPHID_BROADCAST_CID, d, &len), CTAPHID_INIT);
	assert_int_equal(len, 17);
	assert_memory_equal(d, nonce, 8);
	return be32(d + 8);
}

static void test_init_allocation(void **state)
{
	struct env *e = *state;
	static const uint8_t nonce[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	uint8_t d[64];
	size_t len, idx;
	uint32_t a, b;

	idx = 0;
	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_INIT, nonce, 8);
	assert_int_equal(e->n_out, 1);
	assert_int_equal(read_response(e, &idx, CTAPHID_BROADCAST_CID, d, &len), CTAPHID_INIT);
	assert_int_equal(len, 17);
	assert_memory_equal(d, nonce, 8);
	a = be32(d + 8);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(a, CTAPHID_BROADCAST_CID);
	assert_int_equal(d[12], 2);                 /* CTAPHID protocol version */
	assert_int_equal(d[13], 0);
	assert_int_equal(d[14], 1);
	assert_int_equal(d[15], 0);
	assert_int_equal(d[16], CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR);   /* MSG implemented: no NMSG */

	b = alloc_channel(e);
	assert_int_not_equal(a, b);

	/* INIT on an allocated channel resynchronises it and keeps the CID. */
	idx = e->n_out;
	host_send(e, a, CTAPHID_INIT, nonce, 8);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_INIT);
	assert_memory_equal(d, nonce, 8);
	assert_int_equal(be32(d + 8), a);

	/* INIT with a nonce of the wrong size. */
	idx = e->n_out;
	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_INIT, nonce, 7);
	expect_error(e, &idx, CTAPHID_BROADCAST_CID, CTAPHID_ERR_INVALID_LEN);
	assert_int_equal(idx, e->n_out);
}

static void test_ping_echo(void **state)
{
	struct env *e = *state;
	uint32_t cid = alloc_channel(e);
	static const uint8_t msg[] = "hola llavero";
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx = e->n_out;

	host_send(e, cid, CTAPHID_PING, msg, sizeof(msg));
	assert_int_equal(read_response(e, &idx, cid, d, &len), CTAPHID_PING);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(d, msg, sizeof(msg));

	/* empty ping */
	host_send(e, cid, CTAPHID_PING, NULL, 0);
	assert_int_equal(read_response(e, &idx, cid, d, &len), CTAPHID_PING);
	assert_int_equal(len, 0);
	assert_int_equal(idx, e->n_out);
}

static void test_max_payload(void **state)
{
	struct env *e = *state;
	uint32_t cid = alloc_channel(e);
	static uint8_t big[CTAPHID_MAX_PAYLOAD + 1];
	static uint8_t d[CTAPHID_MAX_PAYLOAD + 64];
	size_t i, len, idx = e->n_out;

	assert_int_equal(CTAPHID_MAX_PAYLOAD, 7609);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);

	host_send(e, cid, CTAPHID_PING, big, CTAPHID_MAX_PAYLOAD);
	assert_int_equal(e->n_out - idx, 129);       /* 1 init + 128 continuation */
	assert_int_equal(read_response(e, &idx, cid, d, &len), CTAPHID_PING);
	assert_int_equal(len, CTAPHID_MAX_PAYLOAD);
	assert_memory_equal(d, big, CTAPHID_MAX_PAYLOAD);

	/* the same through CBOR: reassembled request reaches the authenticator whole */
	host_send(e, cid, CTAPHID_CBOR, big, CTAPHID_MAX_PAYLOAD - 1);
	assert_int_equal(e->cbor_calls, 1);
	assert_int_equal(e->last_req_len, CTAPHID_MAX_PAYLOAD - 1);
	assert_memory_equal(e->last_req, big, CTAPHID_MAX_PAYLOAD - 1);
	assert_int_equal(read_response(e, &idx, cid, d, &len), CTAPHID_CBOR);
	assert_int_equal(len, CTAPHID_MAX_PAYLOAD);
	assert_int_equal(d[0], 0);

	/* one byte more than fits is refused at the first packet */
	e->n_out = 0;
	idx = 0;
	{
		uint8_t pkt[CTAPHID_REPORT_LEN] = { 0 };

		put32(pkt, cid);
		pkt[4] = CTAPHID_PING;
		pkt[5] = (uint8_t)((CTAPHID_MAX_PAYLOAD + 1) >> 8);
		pkt[6] = (uint8_t)(CTAPHID_MAX_PAYLOAD + 1);
		ctaphid_input(e->h, pkt, sizeof(pkt));
	}
	expect_error(e, &idx, cid, CTAPHID_ERR_INVALID_LEN);
	assert_false(ctaphid_busy(e->h));
}

static void test_invalid_seq(void **state)
{
	struct env *e = *state;
	uint32_t cid = alloc_channel(e);
	uint8_t data[200] = { 0 };
	uint8_t pkt[CTAPHID_REPORT_LEN] = { 0 };
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx;

	put32(pkt, cid);
	pkt[4] = CTAPHID_PING;
	pkt[5] = 0;
	pkt[6] = sizeof(data);
	ctaphid_input(e->h, pkt, sizeof(pkt));
	assert_true(ctaphid_busy(e->h));
	idx = e->n_out;
	host_send_cont(e, cid, 1);      /* expected 0 */
	expect_error(e, &idx, cid, CTAPHID_ERR_INVALID_SEQ);
	assert_false(ctaphid_busy(e->h));
	/* the rest of the aborted message is ignored */
	host_send_cont(e, cid, 2);
	assert_int_equal(idx, e->n_out);

	/* a new request in the middle of a reassembly on the same channel */
	ctaphid_input(e->h, pkt, sizeof(pkt));
	host_send_cont(e, cid, 0);
	ctaphid_input(e->h, pkt, sizeof(pkt));
	expect_error(e, &idx, cid, CTAPHID_ERR_INVALID_SEQ);
	assert_false(ctaphid_busy(e->h));

	/* after that the channel works */
	host_send(e, cid, CTAPHID_PING, data, sizeof(data));
	assert_int_equal(read_response(e, &idx, cid, d, &len), CTAPHID_PING);
	assert_int_equal(len, sizeof(data));
}

static void test_cont_without_transaction(void **state)
{
	struct env *e = *state;
	uint32_t cid = alloc_channel(e);
	size_t before = e->n_out;

	host_send_cont(e, cid, 0);
	host_send_cont(e, 0x12345678, 3);
	host_send_cont(e, CTAPHID_BROADCAST_CID, 0);
	assert_int_equal(e->n_out, before);
	assert_false(ctaphid_busy(e->h));
}

static void test_channel_busy(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e), b = alloc_channel(e);
	uint8_t data[100];
	uint8_t pkt[CTAPHID_REPORT_LEN] = { 0 };
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx;

	memset(data, 0x5a, sizeof(data));
	put32(pkt, a);
	pkt[4] = CTAPHID_PING;
	pkt[6] = sizeof(data);
	memcpy(pkt + 7, data, CTAPHID_INIT_DATA);
	ctaphid_input(e->h, pkt, sizeof(pkt));
	idx = e->n_out;

	host_send(e, b, CTAPHID_PING, data, 3);
	expect_error(e, &idx, b, CTAPHID_ERR_CHANNEL_BUSY);
	/* a continuation of b is not a transaction of b: ignored */
	host_send_cont(e, b, 0);
	assert_int_equal(idx, e->n_out);

	/* a finishes normally */
	memset(pkt, 0, sizeof(pkt));
	put32(pkt, a);
	pkt[4] = 0;
	memcpy(pkt + 5, data + CTAPHID_INIT_DATA, sizeof(data) - CTAPHID_INIT_DATA);
	ctaphid_input(e->h, pkt, sizeof(pkt));
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_PING);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(d, data, sizeof(data));

	/* and b may talk again */
	host_send(e, b, CTAPHID_PING, data, 3);
	assert_int_equal(read_response(e, &idx, b, d, &len), CTAPHID_PING);
}

static uint32_t g_other;

static void host_talks_during_execution(struct env *e)
{
	uint32_t cur = ctaphid_current_cid(e->h);
	uint8_t x = 1;

	assert_int_not_equal(cur, 0);
	assert_true(ctaphid_busy(e->h));
	ctaphid_keepalive(e->h, CTAPHID_STATUS_UPNEEDED);
	host_send(e, g_other, CTAPHID_CBOR, &x, 1);      /* other channel: busy */
	host_send(e, cur, CTAPHID_PING, &x, 1);          /* same channel: busy */
	assert_false(ctaphid_cancelled(e->h));
	host_send(e, g_other, CTAPHID_CANCEL, NULL, 0);  /* not its transaction */
	assert_false(ctaphid_cancelled(e->h));
	host_send(e, cur, CTAPHID_CANCEL, NULL, 0);
	assert_true(ctaphid_cancelled(e->h));
}

static void test_busy_while_executing_and_cancel(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e);
	uint8_t req[] = { 0x01, 0xa0 };
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx;

	g_other = alloc_channel(e);
	idx = e->n_out;
	e->during = host_talks_during_execution;
	host_send(e, a, CTAPHID_CBOR, req, sizeof(req));
	assert_int_equal(e->cbor_calls, 1);
	assert_true(e->saw_cancel);

	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_KEEPALIVE);
	assert_int_equal(len, 1);
	assert_int_equal(d[0], CTAPHID_STATUS_UPNEEDED);
	expect_error(e, &idx, g_other, CTAPHID_ERR_CHANNEL_BUSY);
	expect_error(e, &idx, a, CTAPHID_ERR_CHANNEL_BUSY);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_CBOR);
	assert_int_equal(len, 1);
	assert_int_equal(d[0], 0x2d);          /* CTAP2_ERR_KEEPALIVE_CANCEL */
	assert_int_equal(idx, e->n_out);
	assert_false(ctaphid_busy(e->h));
	/* keepalive outside a request does nothing */
	ctaphid_keepalive(e->h, CTAPHID_STATUS_PROCESSING);
	assert_int_equal(idx, e->n_out);
}

static void host_resyncs_during_execution(struct env *e)
{
	static const uint8_t nonce[8] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2 };

	host_send(e, ctaphid_current_cid(e->h), CTAPHID_INIT, nonce, 8);
	/* a broadcast INIT still allocates while busy */
	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_INIT, nonce, 8);
}

static void test_init_resync_during_execution(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e);
	uint8_t req[] = { 0x04 };
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx = e->n_out;

	e->during = host_resyncs_during_execution;
	host_send(e, a, CTAPHID_CBOR, req, sizeof(req));
	assert_true(e->saw_cancel);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_INIT);
	assert_int_equal(be32(d + 8), a);
	assert_int_equal(read_response(e, &idx, CTAPHID_BROADCAST_CID, d, &len), CTAPHID_INIT);
	assert_int_not_equal(be32(d + 8), a);
	/* the response to the abandoned request is not sent */
	assert_int_equal(idx, e->n_out);
}

static void test_invalid_channel(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e);
	uint8_t x = 0;
	size_t idx = e->n_out;

	host_send(e, 0, CTAPHID_PING, &x, 1);
	expect_error(e, &idx, 0, CTAPHID_ERR_INVALID_CHANNEL);
	host_send(e, a + 1000, CTAPHID_PING, &x, 1);
	expect_error(e, &idx, a + 1000, CTAPHID_ERR_INVALID_CHANNEL);
	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_PING, &x, 1);
	expect_error(e, &idx, CTAPHID_BROADCAST_CID, CTAPHID_ERR_INVALID_CHANNEL);
	host_send(e, 0, CTAPHID_INIT, (const uint8_t *)"12345678", 8);
	expect_error(e, &idx, 0, CTAPHID_ERR_INVALID_CHANNEL);

	/* a power cycle forgets every channel */
	ctaphid_reset(e->h);
	host_send(e, a, CTAPHID_PING, &x, 1);
	expect_error(e, &idx, a, CTAPHID_ERR_INVALID_CHANNEL);
	assert_int_equal(idx, e->n_out);
}

static void test_invalid_cmd(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e);
	uint8_t x = 0;
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx = e->n_out;
	uint8_t apdu[] = { 0x00, 0x03, 0x00, 0x00, 0x00 };

	host_send(e, a, 0xc2, &x, 1);
	expect_error(e, &idx, a, CTAPHID_ERR_INVALID_CMD);
	/* a CANCEL with nothing running gets no answer */
	host_send(e, a, CTAPHID_CANCEL, NULL, 0);
	assert_int_equal(idx, e->n_out);
	/* CBOR without a body */
	host_send(e, a, CTAPHID_CBOR, NULL, 0);
	expect_error(e, &idx, a, CTAPHID_ERR_INVALID_LEN);
	/* MSG reaches the U2F side */
	host_send(e, a, CTAPHID_MSG, apdu, sizeof(apdu));
	assert_int_equal(e->msg_calls, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_MSG);
	assert_int_equal(len, 2);
	assert_int_equal(d[0], 0x90);
	/* WINK */
	host_send(e, a, CTAPHID_WINK, NULL, 0);
	assert_int_equal(e->wink_calls, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_WINK);
	assert_int_equal(len, 0);
	/* reports of the wrong size are dropped */
	ctaphid_input(e->h, d, 65);
	ctaphid_input(e->h, d, 63);
	assert_int_equal(idx, e->n_out);
}

static void test_msg_timeout(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e), b = alloc_channel(e);
	uint8_t pkt[CTAPHID_REPORT_LEN] = { 0 };
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx;

	assert_int_equal(ctaphid_next_timeout_ms(e->h), -1);
	put32(pkt, a);
	pkt[4] = CTAPHID_PING;
	pkt[6] = 120;
	ctaphid_input(e->h, pkt, sizeof(pkt));
	idx = e->n_out;
	assert_int_equal(ctaphid_next_timeout_ms(e->h), 500);

	e->clock += 300;
	ctaphid_tick(e->h);
	host_send_cont(e, a, 0);            /* progress restarts the timer */
	assert_int_equal(ctaphid_next_timeout_ms(e->h), 500);
	e->clock += 499;
	ctaphid_tick(e->h);
	assert_int_equal(idx, e->n_out);
	assert_int_equal(ctaphid_next_timeout_ms(e->h), 1);
	e->clock += 1;
	ctaphid_tick(e->h);
	expect_error(e, &idx, a, CTAPHID_ERR_MSG_TIMEOUT);
	assert_false(ctaphid_busy(e->h));
	assert_int_equal(ctaphid_next_timeout_ms(e->h), -1);

	/* the late continuation is ignored, and the device is free again */
	host_send_cont(e, a, 1);
	assert_int_equal(idx, e->n_out);
	host_send(e, b, CTAPHID_PING, d, 2);
	assert_int_equal(read_response(e, &idx, b, d, &len), CTAPHID_PING);
}

static void test_lock(void **state)
{
	struct env *e = *state;
	uint32_t a = alloc_channel(e), b = alloc_channel(e);
	uint8_t d[CTAPHID_MAX_PAYLOAD];
	size_t len, idx = e->n_out;
	uint8_t secs;

	secs = 11;
	host_send(e, a, CTAPHID_LOCK, &secs, 1);
	expect_error(e, &idx, a, CTAPHID_ERR_INVALID_PAR);
	host_send(e, a, CTAPHID_LOCK, d, 2);
	expect_error(e, &idx, a, CTAPHID_ERR_INVALID_LEN);

	secs = 2;
	host_send(e, a, CTAPHID_LOCK, &secs, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_LOCK);
	assert_int_equal(len, 0);
	assert_int_equal(ctaphid_next_timeout_ms(e->h), 2000);

	host_send(e, b, CTAPHID_PING, d, 1);
	expect_error(e, &idx, b, CTAPHID_ERR_CHANNEL_BUSY);
	host_send(e, b, CTAPHID_LOCK, &secs, 1);
	expect_error(e, &idx, b, CTAPHID_ERR_CHANNEL_BUSY);
	host_send(e, CTAPHID_BROADCAST_CID, CTAPHID_INIT, d, 8);
	expect_error(e, &idx, CTAPHID_BROADCAST_CID, CTAPHID_ERR_CHANNEL_BUSY);
	host_send(e, a, CTAPHID_PING, d, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_PING);

	e->clock += 1999;
	host_send(e, b, CTAPHID_PING, d, 1);
	expect_error(e, &idx, b, CTAPHID_ERR_CHANNEL_BUSY);
	e->clock += 1;
	ctaphid_tick(e->h);
	assert_int_equal(ctaphid_next_timeout_ms(e->h), -1);
	host_send(e, b, CTAPHID_PING, d, 1);
	assert_int_equal(read_response(e, &idx, b, d, &len), CTAPHID_PING);

	/* lock 0 releases early */
	secs = 10;
	host_send(e, a, CTAPHID_LOCK, &secs, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_LOCK);
	secs = 0;
	host_send(e, a, CTAPHID_LOCK, &secs, 1);
	assert_int_equal(read_response(e, &idx, a, d, &len), CTAPHID_LOCK);
	host_send(e, b, CTAPHID_PING, d, 1);
	assert_int_equal(read_response(e, &idx, b, d, &len), CTAPHID_PING);
	assert_int_equal(idx, e->n_out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cont_without_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_while_executing_and_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_resync_during_execution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_cmd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
