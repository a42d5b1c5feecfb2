/* llavero-ctap-conformance: CTAPHID and CTAP2 conformance checks against a
 * security key on any of its transports:
 *
 *   --socket PATH           CTAPHID, one 64-byte report per SOCK_SEQPACKET
 *                           message (llavero-vkey run --socket)
 *   --udp HOST:PORT         CTAPHID over UDP: reports to HOST:PORT (8111),
 *                           replies on 127.0.0.1:7112 (--udp-listen PORT)
 *   --hidraw /dev/hidrawN   a real key (reports written with report ID 0)
 *   --pcsc SUBSTRING        CTAP over ISO 7816 through pcscd: SELECT the FIDO
 *                           AID, NFCCTAP_MSG with command chaining, 61xx +
 *                           GET RESPONSE, 9100 + NFCCTAP_GETRESPONSE
 *
 * CTAPHID transport checks (not for PC/SC) follow CTAP 2.1 §11.2; CTAP2
 * checks follow §6 and §8 (status codes for malformed and out-of-order
 * requests). No check changes the key's persistent state (no setPIN, no
 * reset, no credential is created), so it can run against a real key. It
 * prints "PASS name" or "FAIL name: expected X got Y" per check, then
 * "N passed, M failed"; the exit status is 1 when M > 0, 2 on usage or
 * device errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cbor.h>
#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "buf.h"
#include "hex.h"

#define PROG "llavero-ctap-conformance"
#define REPORT 64
#define INIT_DATA 57
#define CONT_DATA 59
#define MAX_PAYLOAD (INIT_DATA + 128 * CONT_DATA)   /* 7609 */
#define BROADCAST 0xffffffffu
#define TIMEOUT_MS 5000

enum { HID_PING = 0x81, HID_MSG = 0x83, HID_LOCK = 0x84, HID_INIT = 0x86, HID_WINK = 0x88,
       HID_CBOR = 0x90, HID_CANCEL = 0x91, HID_KEEPALIVE = 0xbb, HID_ERROR = 0xbf };
enum { ERR_INVALID_CMD = 0x01, ERR_INVALID_PAR = 0x02, ERR_INVALID_LEN = 0x03,
       ERR_INVALID_SEQ = 0x04, ERR_MSG_TIMEOUT = 0x05, ERR_CHANNEL_BUSY = 0x06,
       ERR_INVALID_CHANNEL = 0x0b };

enum dev_kind { DEV_SOCKET, DEV_UDP, DEV_HIDRAW, DEV_PCSC };

struct dev {
	enum dev_kind kind;
	int fd;
	struct sockaddr_in udp_peer;
	SCARDCONTEXT pc_ctx;
	SCARDHANDLE pc_card;
	DWORD pc_proto;
	char reader[256];
	uint32_t cid;          /* the channel used for CTAP2 checks over HID */
	uint8_t caps;
	bool verbose;
};

static unsigned n_pass, n_fail;

static void pass(const char *name)
{
	n_pass++;
	printf("PASS %s\n", name);
	fflush(stdout);
}

static void failf(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(const char *name, const char *fmt, ...)
{
	va_list ap;

	n_fail++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* PASS when got == want, else FAIL with both in hex. */
static bool expect_u(const char *name, const char *what, unsigned long want, unsigned long got)
{
	if (want == got) {
		pass(name);
		return true;
	}
	failf(name, "expected %s 0x%02lx got 0x%02lx", what, want, got);
	return false;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void dump(const struct dev *d, const char *dir, const uint8_t *p, size_t n)
{
	if (!d->verbose)
		return;
	char *h = llv_hex_encode_alloc(p, n);
	fprintf(stderr, "%s %s\n", dir, h ? h : "?");
	free(h);
}

/* ---- CTAPHID reports ------------------------------------------------------ */

static int hid_send(struct dev *d, const uint8_t r[REPORT])
{
	ssize_t n;

	dump(d, ">>", r, REPORT);
	if (d->kind == DEV_HIDRAW) {
		uint8_t buf[REPORT + 1];
		buf[0] = 0;      /* report ID */
		memcpy(buf + 1, r, REPORT);
		n = write(d->fd, buf, sizeof(buf));
		return n == (ssize_t)sizeof(buf) ? 0 : -1;
	}
	if (d->kind == DEV_UDP)
		n = sendto(d->fd, r, REPORT, 0, (const struct sockaddr *)&d->udp_peer, sizeof(d->udp_peer));
	else
		n = send(d->fd, r, REPORT, 0);
	return n == REPORT ? 0 : -1;
}

/* 1 with a report, 0 on timeout, -1 on error. */
static int hid_recv(struct dev *d, uint8_t r[REPORT], int timeout_ms)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	uint8_t buf[REPORT + 8];
	uint64_t end = now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		int left = (int)(end > now_ms() ? end - now_ms() : 0);
		int pr = poll(&pfd, 1, left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0)
			return 0;
		ssize_t n = read(d->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0 && d->kind == DEV_SOCKET)
			return -1;
		if (n != REPORT)
			continue;        /* not a report: ignore */
		memcpy(r, buf, REPORT);
		dump(d, "<<", r, REPORT);
		return 1;
	}
}

static void hid_drain(struct dev *d)
{
	uint8_t r[REPORT];
	while (hid_recv(d, r, 50) == 1)
		;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An initialization packet announcing bcnt bytes, carrying up to 57 of data. */
static int hid_send_init(struct dev *d, uint32_t cid, uint8_t cmd, uint16_t bcnt, const uint8_t *data, size_t n)
{
	uint8_t r[REPORT] = { 0 };
	put_be32(r, cid);
	r[4] = cmd;
	r[5] = (uint8_t)(bcnt >> 8);
	r[6] = (uint8_t)bcnt;
	if (n > INIT_DATA)
		n = INIT_DATA;
	if (n)
		memcpy(r + 7, data, n);
	return hid_send(d, r);
}

static int hid_send_cont(struct dev *d, uint32_t cid, uint8_t seq, const uint8_t *data, size_t n)
{
	uint8_t r[REPORT] = { 0 };
	put_be32(r, cid);
	r[4] = seq;
	if (n > CONT_DATA)
		n = CONT_DATA;
	if (n)
		memcpy(r + 5, data, n);
	return hid_send(d, r);
}

/* Sends a whole message, fragmented. */
static int hid_write_msg(struct dev *d, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	size_t off = len < INIT_DATA ? len : INIT_DATA;
	if (hid_send_init(d, cid, cmd, (uint16_t)len, data, off) != 0)
		return -1;
	for (uint8_t seq = 0; off < len; seq++) {
		size_t n = len - off < CONT_DATA ? len - off : CONT_DATA;
		if (hid_send_cont(d, cid, seq, data + off, n) != 0)
			return -1;
		off += n;
	}
	return 0;
}

/* Reads one whole message on cid (keepalives skipped, reports of other
 * channels ignored). Returns its command byte, or -1 on timeout/error;
 * the payload goes into out (cleared first). */
static int hid_read_msg(struct dev *d, uint32_t cid, struct llv_buf *out, int timeout_ms)
{
	uint8_t r[REPORT];
	int cmd = -1;
	size_t need = 0;
	uint8_t seq = 0;
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	llv_buf_clear(out);
	for (;;) {
		int left = (int)(end > now_ms() ? end - now_ms() : 0);
		if (hid_recv(d, r, left) != 1)
			return -1;
		if (get_be32(r) != cid)
			continue;
		if (cmd < 0) {
			if (!(r[4] & 0x80))
				continue;
			if (r[4] == HID_KEEPALIVE) {
				end = now_ms() + (uint64_t)timeout_ms;
				continue;
			}
			cmd = r[4];
			need = (size_t)r[5] << 8 | r[6];
			size_t n = need < INIT_DATA ? need : INIT_DATA;
			llv_buf_put(out, r + 7, n);
		} else {
			if (r[4] != seq++)
				return -1;
			size_t n = need - out->len < CONT_DATA ? need - out->len : CONT_DATA;
			llv_buf_put(out, r + 5, n);
		}
		if (out->len >= need)
			return llv_buf_ok(out) ? cmd : -1;
	}
}

static int hid_xfer(struct dev *d, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len,
		    struct llv_buf *out, int timeout_ms)
{
	if (hid_write_msg(d, cid, cmd, data, len) != 0)
		return -1;
	return hid_read_msg(d, cid, out, timeout_ms);
}

/* Allocates a channel with a broadcast INIT. 0 or -1. */
static int hid_alloc_cid(struct dev *d, uint32_t *cid)
{
	uint8_t nonce[8];
	struct llv_buf out = LLV_BUF_INIT;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)rand();
	int c = hid_xfer(d, BROADCAST, HID_INIT, nonce, sizeof(nonce), &out, TIMEOUT_MS);
	int rc = -1;
	if (c == HID_INIT && out.len >= 17 && memcmp(out.data, nonce, 8) == 0) {
		*cid = get_be32(out.data + 8);
		d->caps = out.data[16];
		rc = 0;
	}
	llv_buf_free(&out);
	return rc;
}

/* PASS when the answer is CTAPHID_ERROR with this code; else FAIL saying
 * what came instead (another error, another command, or nothing). */
static bool expect_err(const char *name, uint8_t want, int cmd, const struct llv_buf *out)
{
	if (cmd == HID_ERROR && out->len == 1 && out->data[0] == want) {
		pass(name);
		return true;
	}
	if (cmd == HID_ERROR && out->len == 1)
		failf(name, "expected ERROR 0x%02x got ERROR 0x%02x", want, out->data[0]);
	else if (cmd < 0)
		failf(name, "expected ERROR 0x%02x got no answer", want);
	else
		failf(name, "expected ERROR 0x%02x got command 0x%02x with %zu bytes", want, (unsigned)cmd, out->len);
	return false;
}

/* ---- CTAPHID transport checks ------------------------------------------- */

static void hid_checks(struct dev *d)
{
	uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct llv_buf out = LLV_BUF_INIT;
	uint32_t a = 0, b = 0;
	int c;

	hid_drain(d);
	/* INIT on the broadcast channel allocates a channel and echoes the nonce. */
	c = hid_xfer(d, BROADCAST, HID_INIT, nonce, sizeof(nonce), &out, TIMEOUT_MS);
	if (c == HID_INIT && out.len == 17) {
		pass("hid.init.broadcast_response");
		a = get_be32(out.data + 8);
		if (memcmp(out.data, nonce, 8) == 0)
			pass("hid.init.nonce_echo");
		else
			failf("hid.init.nonce_echo", "expected 0102030405060708 got another nonce");
		if (a != 0 && a != BROADCAST)
			pass("hid.init.allocates_cid");
		else
			failf("hid.init.allocates_cid", "expected a CID other than 0 and ffffffff got %08x", a);
		expect_u("hid.init.protocol_version", "version", 2, out.data[12]);
		d->caps = out.data[16];
	} else {
		failf("hid.init.broadcast_response", "expected INIT with 17 bytes got cmd 0x%02x len %zu", (unsigned)c, out.len);
	}
	if (hid_alloc_cid(d, &b) == 0 && b != a)
		pass("hid.init.distinct_cids");
	else
		failf("hid.init.distinct_cids", "expected a second, different CID got %08x (first %08x)", b, a);
	d->cid = a;

	/* INIT on an allocated channel resynchronises it and keeps the CID. */
	nonce[0] = 0x55;
	c = hid_xfer(d, a, HID_INIT, nonce, sizeof(nonce), &out, TIMEOUT_MS);
	if (c == HID_INIT && out.len == 17 && memcmp(out.data, nonce, 8) == 0 && get_be32(out.data + 8) == a)
		pass("hid.init.resync_same_cid");
	else
		failf("hid.init.resync_same_cid", "expected INIT echo with CID %08x got cmd 0x%02x len %zu", a, (unsigned)c, out.len);

	/* INIT in the middle of a transaction aborts it; the channel works on. */
	{
		uint8_t big[200];
		memset(big, 0xA5, sizeof(big));
		hid_send_init(d, a, HID_PING, sizeof(big), big, INIT_DATA);
		nonce[0] = 0x66;
		c = hid_xfer(d, a, HID_INIT, nonce, sizeof(nonce), &out, TIMEOUT_MS);
		bool init_ok = c == HID_INIT && out.len == 17 && memcmp(out.data, nonce, 8) == 0;
		c = hid_xfer(d, a, HID_PING, big, 10, &out, TIMEOUT_MS);
		if (init_ok && c == HID_PING && out.len == 10 && memcmp(out.data, big, 10) == 0)
			pass("hid.init.aborts_transaction");
		else
			failf("hid.init.aborts_transaction", "expected INIT echo then a PING echo got cmd 0x%02x len %zu", (unsigned)c, out.len);
	}
	/* INIT with a nonce that is not 8 bytes. */
	c = hid_xfer(d, BROADCAST, HID_INIT, nonce, 7, &out, TIMEOUT_MS);
	expect_err("hid.init.bad_length", ERR_INVALID_LEN, c, &out);

	/* Invalid channels. */
	c = hid_xfer(d, 0, HID_PING, nonce, 4, &out, TIMEOUT_MS);
	expect_err("hid.cid0.invalid_channel", ERR_INVALID_CHANNEL, c, &out);
	{
		uint32_t u = 0x5a5a0001u;
		while (u == a || u == b)
			u++;
		c = hid_xfer(d, u, HID_PING, nonce, 4, &out, TIMEOUT_MS);
		expect_err("hid.unallocated_cid.invalid_channel", ERR_INVALID_CHANNEL, c, &out);
	}
	c = hid_xfer(d, BROADCAST, HID_PING, nonce, 4, &out, TIMEOUT_MS);
	expect_err("hid.broadcast_ping.invalid_channel", ERR_INVALID_CHANNEL, c, &out);

	/* An unknown command. */
	c = hid_xfer(d, a, 0xA5, nonce, 4, &out, TIMEOUT_MS);
	expect_err("hid.unknown_cmd.invalid_cmd", ERR_INVALID_CMD, c, &out);

	/* A payload longer than the maximum. */
	hid_send_init(d, a, HID_PING, MAX_PAYLOAD + 1, nonce, 8);
	c = hid_read_msg(d, a, &out, TIMEOUT_MS);
	expect_err("hid.bcnt_over_max.invalid_len", ERR_INVALID_LEN, c, &out);
	hid_drain(d);

	/* Continuation out of order. */
	{
		uint8_t p[100];
		memset(p, 0x3C, sizeof(p));
		hid_send_init(d, a, HID_PING, sizeof(p), p, INIT_DATA);
		hid_send_cont(d, a, 1, p + INIT_DATA, sizeof(p) - INIT_DATA);
		c = hid_read_msg(d, a, &out, TIMEOUT_MS);
		expect_err("hid.cont_out_of_order.invalid_seq", ERR_INVALID_SEQ, c, &out);
		hid_drain(d);

		/* A continuation packet with no transaction is ignored. */
		hid_send_cont(d, a, 0, p, 10);
		uint8_t r[REPORT];
		int got = hid_recv(d, r, 300);
		if (got == 0)
			pass("hid.stray_cont.ignored");
		else
			failf("hid.stray_cont.ignored", "expected no answer got a report (cmd 0x%02x)", got == 1 ? r[4] : 0);

		/* A missing continuation times out. */
		uint64_t t0 = now_ms();
		hid_send_init(d, a, HID_PING, sizeof(p), p, INIT_DATA);
		c = hid_read_msg(d, a, &out, 3000);
		uint64_t dt = now_ms() - t0;
		if (expect_err("hid.missing_cont.msg_timeout", ERR_MSG_TIMEOUT, c, &out)) {
			if (dt >= 100 && dt <= 2500)
				pass("hid.missing_cont.timeout_window");
			else
				failf("hid.missing_cont.timeout_window", "expected MSG_TIMEOUT after 100..2500 ms got %llu ms",
				      (unsigned long long)dt);
		}
		hid_drain(d);

		/* Another channel while a message is being reassembled. */
		hid_send_init(d, a, HID_PING, sizeof(p), p, INIT_DATA);
		c = hid_xfer(d, b, HID_PING, nonce, 4, &out, TIMEOUT_MS);
		expect_err("hid.second_cid.channel_busy", ERR_CHANNEL_BUSY, c, &out);
		hid_send_cont(d, a, 0, p + INIT_DATA, sizeof(p) - INIT_DATA);
		c = hid_read_msg(d, a, &out, TIMEOUT_MS);
		if (c == HID_PING && out.len == sizeof(p) && memcmp(out.data, p, sizeof(p)) == 0)
			pass("hid.busy.first_transaction_completes");
		else
			failf("hid.busy.first_transaction_completes", "expected the PING echo got cmd 0x%02x len %zu", (unsigned)c, out.len);
	}

	/* PING echoes multi-packet payloads, up to the maximum. */
	{
		static uint8_t p[MAX_PAYLOAD];
		for (size_t i = 0; i < sizeof(p); i++)
			p[i] = (uint8_t)(i * 7 + 3);
		c = hid_xfer(d, a, HID_PING, p, 1000, &out, TIMEOUT_MS);
		if (c == HID_PING && out.len == 1000 && memcmp(out.data, p, 1000) == 0)
			pass("hid.ping.multi_packet_echo");
		else
			failf("hid.ping.multi_packet_echo", "expected 1000 bytes echoed got cmd 0x%02x len %zu", (unsigned)c, out.len);
		c = hid_xfer(d, a, HID_PING, p, MAX_PAYLOAD, &out, TIMEOUT_MS);
		if (c == HID_PING && out.len == MAX_PAYLOAD && memcmp(out.data, p, MAX_PAYLOAD) == 0)
			pass("hid.ping.max_payload_echo");
		else
			failf("hid.ping.max_payload_echo", "expected %d bytes echoed got cmd 0x%02x len %zu", MAX_PAYLOAD, (unsigned)c, out.len);
		c = hid_xfer(d, a, HID_PING, p, 0, &out, TIMEOUT_MS);
		if (c == HID_PING && out.len == 0)
			pass("hid.ping.empty_echo");
		else
			failf("hid.ping.empty_echo", "expected an empty PING got cmd 0x%02x len %zu", (unsigned)c, out.len);
	}

	/* WINK: an empty answer when the capability is announced. */
	c = hid_xfer(d, a, HID_WINK, NULL, 0, &out, TIMEOUT_MS);
	if (d->caps & 0x01) {
		if (c == HID_WINK && out.len == 0)
			pass("hid.wink");
		else
			failf("hid.wink", "expected WINK with no data got cmd 0x%02x len %zu", (unsigned)c, out.len);
	} else {
		expect_err("hid.wink.not_announced", ERR_INVALID_CMD, c, &out);
	}

	/* LOCK: the other channel is busy until the lock is released. */
	{
		uint8_t secs = 5;
		c = hid_xfer(d, a, HID_LOCK, &secs, 1, &out, TIMEOUT_MS);
		if (c == HID_LOCK && out.len == 0)
			pass("hid.lock.acquire");
		else
			failf("hid.lock.acquire", "expected LOCK with no data got cmd 0x%02x len %zu", (unsigned)c, out.len);
		c = hid_xfer(d, b, HID_PING, nonce, 4, &out, TIMEOUT_MS);
		expect_err("hid.lock.other_cid_busy", ERR_CHANNEL_BUSY, c, &out);
		c = hid_xfer(d, a, HID_PING, nonce, 4, &out, TIMEOUT_MS);
		if (c == HID_PING && out.len == 4)
			pass("hid.lock.owner_works");
		else
			failf("hid.lock.owner_works", "expected a PING echo got cmd 0x%02x len %zu", (unsigned)c, out.len);
		secs = 0;
		c = hid_xfer(d, a, HID_LOCK, &secs, 1, &out, TIMEOUT_MS);
		bool released = c == HID_LOCK && out.len == 0;
		c = hid_xfer(d, b, HID_PING, nonce, 4, &out, TIMEOUT_MS);
		if (released && c == HID_PING && out.len == 4)
			pass("hid.lock.release");
		else
			failf("hid.lock.release", "expected LOCK 0 then a PING echo on the other CID got cmd 0x%02x", (unsigned)c);
		secs = 11;
		c = hid_xfer(d, a, HID_LOCK, &secs, 1, &out, TIMEOUT_MS);
		expect_err("hid.lock.over_10s.invalid_par", ERR_INVALID_PAR, c, &out);
		c = hid_xfer(d, a, HID_LOCK, NULL, 0, &out, TIMEOUT_MS);
		expect_err("hid.lock.no_data.invalid_len", ERR_INVALID_LEN, c, &out);
		/* Whatever happened above, leave no lock behind. */
		secs = 0;
		hid_xfer(d, a, HID_LOCK, &secs, 1, &out, TIMEOUT_MS);
	}

	/* CANCEL with nothing to cancel gets no answer. */
	{
		uint8_t r[REPORT];
		hid_send_init(d, a, HID_CANCEL, 0, NULL, 0);
		int got = hid_recv(d, r, 300);
		if (got == 0)
			pass("hid.cancel.idle_no_answer");
		else
			failf("hid.cancel.idle_no_answer", "expected no answer got a report (cmd 0x%02x)", got == 1 ? r[4] : 0);
	}
	llv_buf_free(&out);
}

/* ---- PC/SC ---------------------------------------------------------------- */

static const uint8_t fido_aid[] = { 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01 };

/* One APDU; the response (data + SW) replaces resp. */
static int pc_transmit(struct dev *d, const uint8_t *apdu, size_t len, struct llv_buf *resp)
{
	uint8_t buf[65536 + 2];
	DWORD n = sizeof(buf);
	const SCARD_IO_REQUEST *pci = d->pc_proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;

	dump(d, ">>", apdu, len);
	LONG rv = SCardTransmit(d->pc_card, pci, apdu, (DWORD)len, NULL, buf, &n);
	llv_buf_clear(resp);
	if (rv != SCARD_S_SUCCESS || n < 2) {
		fprintf(stderr, PROG ": SCardTransmit: %s\n", pcsc_stringify_error(rv));
		return -1;
	}
	dump(d, "<<", buf, n);
	llv_buf_put(resp, buf, n);
	return llv_buf_ok(resp) ? 0 : -1;
}

static uint16_t sw_of(const struct llv_buf *r)
{
	return (uint16_t)(r->data[r->len - 2] << 8 | r->data[r->len - 1]);
}

/* An APDU with command chaining (segments of 255 bytes) and response
 * chaining (61xx + GET RESPONSE). Returns the final SW (0 on error); data
 * without SW into out. */
static uint16_t pc_apdu(struct dev *d, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
			const uint8_t *data, size_t len, struct llv_buf *out)
{
	struct llv_buf r = LLV_BUF_INIT, a = LLV_BUF_INIT;
	uint16_t sw = 0;
	size_t off = 0;

	llv_buf_clear(out);
	while (len - off > 255) {
		llv_buf_clear(&a);
		uint8_t h[5] = { (uint8_t)(cla | 0x10), ins, p1, p2, 255 };
		llv_buf_put(&a, h, 5);
		llv_buf_put(&a, data + off, 255);
		if (pc_transmit(d, a.data, a.len, &r) != 0)
			goto out;
		sw = sw_of(&r);
		if (sw != 0x9000)
			goto out;
		off += 255;
	}
	llv_buf_clear(&a);
	uint8_t h[4] = { cla, ins, p1, p2 };
	llv_buf_put(&a, h, 4);
	if (len - off > 0) {
		llv_buf_put_u8(&a, (uint8_t)(len - off));
		llv_buf_put(&a, data + off, len - off);
	}
	llv_buf_put_u8(&a, 0x00);      /* Le = 256 */
	if (pc_transmit(d, a.data, a.len, &r) != 0) {
		sw = 0;
		goto out;
	}
	for (;;) {
		sw = sw_of(&r);
		llv_buf_put(out, r.data, r.len - 2);
		if ((sw & 0xFF00) != 0x6100)
			break;
		uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, (uint8_t)(sw & 0xFF) };
		if (pc_transmit(d, gr, sizeof(gr), &r) != 0) {
			sw = 0;
			break;
		}
	}
out:
	llv_buf_free(&r);
	llv_buf_free(&a);
	return sw;
}

static int pc_open(struct dev *d, const char *want)
{
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &d->pc_ctx);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, PROG ": SCardEstablishContext: %s\n", pcsc_stringify_error(rv));
		return -1;
	}
	DWORD n = 0;
	rv = SCardListReaders(d->pc_ctx, NULL, NULL, &n);
	char *list = rv == SCARD_S_SUCCESS ? calloc(1, n + 1) : NULL;
	if (list == NULL || SCardListReaders(d->pc_ctx, NULL, list, &n) != SCARD_S_SUCCESS) {
		fprintf(stderr, PROG ": no PC/SC readers (%s)\n", pcsc_stringify_error(rv));
		free(list);
		return -1;
	}
	d->reader[0] = '\0';
	for (char *p = list; *p; p += strlen(p) + 1)
		if (strstr(p, want) && d->reader[0] == '\0')
			snprintf(d->reader, sizeof(d->reader), "%s", p);
	free(list);
	if (d->reader[0] == '\0') {
		fprintf(stderr, PROG ": no reader matches \"%s\"\n", want);
		return -1;
	}
	rv = SCardConnect(d->pc_ctx, d->reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			  &d->pc_card, &d->pc_proto);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, PROG ": SCardConnect(%s): %s\n", d->reader, pcsc_stringify_error(rv));
		return -1;
	}
	return 0;
}

static void pc_select_checks(struct dev *d)
{
	struct llv_buf out = LLV_BUF_INIT;
	uint16_t sw = pc_apdu(d, 0x00, 0xA4, 0x04, 0x00, fido_aid, sizeof(fido_aid), &out);
	if (sw == 0x9000 && out.len == 6 && memcmp(out.data, "U2F_V2", 6) == 0)
		pass("pcsc.select_fido_aid.U2F_V2");
	else if (sw == 0x9000 && out.len == 8 && memcmp(out.data, "FIDO_2_0", 8) == 0)
		pass("pcsc.select_fido_aid.FIDO_2_0");
	else
		failf("pcsc.select_fido_aid", "expected \"U2F_V2\" 9000 got %zu bytes SW %04X", out.len, sw);
	/* NFCCTAP_MSG with P1 other than 00/80. */
	uint8_t gi = 0x04;
	sw = pc_apdu(d, 0x80, 0x10, 0x01, 0x00, &gi, 1, &out);
	if (sw != 0x9000)
		pass("pcsc.nfcctap_msg.bad_p1_refused");
	else
		failf("pcsc.nfcctap_msg.bad_p1_refused", "expected an error SW got 9000");
	llv_buf_free(&out);
}

/* ---- CTAP2 over any transport -------------------------------------------- */

/* One CTAP2 request (command byte + CBOR). Returns the status byte (or -1
 * on a transport failure); the CBOR after it goes into out. */
static int ctap2(struct dev *d, const uint8_t *req, size_t len, struct llv_buf *out)
{
	struct llv_buf r = LLV_BUF_INIT;
	int st = -1;

	llv_buf_clear(out);
	if (d->kind == DEV_PCSC) {
		uint16_t sw = pc_apdu(d, 0x80, 0x10, 0x80, 0x00, req, len, &r);
		while (sw == 0x9100) {       /* keepalive status: ask again */
			usleep(100000);
			sw = pc_apdu(d, 0x80, 0x11, 0x00, 0x00, NULL, 0, &r);
		}
		if (sw == 0x9000 && r.len >= 1)
			st = r.data[0];
		else
			fprintf(stderr, PROG ": NFCCTAP_MSG answered SW %04X with %zu bytes\n", sw, r.len);
	} else {
		int c = hid_xfer(d, d->cid, HID_CBOR, req, len, &r, 30000);
		if (c == HID_CBOR && r.len >= 1)
			st = r.data[0];
		else
			fprintf(stderr, PROG ": CTAPHID_CBOR answered cmd 0x%02x with %zu bytes\n", (unsigned)c, r.len);
	}
	if (st >= 0)
		llv_buf_put(out, r.data + 1, r.len - 1);
	llv_buf_free(&r);
	return st;
}

/* A CTAP1/U2F APDU (extended encoding over HID, short over PC/SC). Returns
 * the SW (0 on transport failure); data into out. */
static uint16_t u2f(struct dev *d, uint8_t ins, uint8_t p1, const uint8_t *data, size_t len, struct llv_buf *out)
{
	uint16_t sw = 0;
	llv_buf_clear(out);
	if (d->kind == DEV_PCSC)
		return pc_apdu(d, 0x00, ins, p1, 0x00, data, len, out);
	struct llv_buf a = LLV_BUF_INIT, r = LLV_BUF_INIT;
	uint8_t h[4] = { 0x00, ins, p1, 0x00 };
	llv_buf_put(&a, h, 4);
	llv_buf_put_u8(&a, 0);
	if (len) {
		llv_buf_put_be16(&a, (uint16_t)len);
		llv_buf_put(&a, data, len);
	}
	llv_buf_put_be16(&a, 0);
	int c = hid_xfer(d, d->cid, HID_MSG, a.data, a.len, &r, 30000);
	if (c == HID_MSG && r.len >= 2) {
		sw = sw_of(&r);
		llv_buf_put(out, r.data, r.len - 2);
	}
	llv_buf_free(&a);
	llv_buf_free(&r);
	return sw;
}

/* Minimal CBOR encoding, so requests (and malformed ones) are exact. */
static void cb_head(struct llv_buf *b, uint8_t major, uint64_t v)
{
	major = (uint8_t)(major << 5);
	if (v < 24) {
		llv_buf_put_u8(b, (uint8_t)(major | v));
	} else if (v < 0x100) {
		llv_buf_put_u8(b, major | 24);
		llv_buf_put_u8(b, (uint8_t)v);
	} else if (v < 0x10000) {
		llv_buf_put_u8(b, major | 25);
		llv_buf_put_be16(b, (uint16_t)v);
	} else {
		llv_buf_put_u8(b, major | 26);
		llv_buf_put_be32(b, (uint32_t)v);
	}
}

static void cb_int(struct llv_buf *b, int64_t v)
{
	if (v >= 0)
		cb_head(b, 0, (uint64_t)v);
	else
		cb_head(b, 1, (uint64_t)(-1 - v));
}

static void cb_bytes(struct llv_buf *b, const uint8_t *p, size_t n)
{
	cb_head(b, 2, n);
	llv_buf_put(b, p, n);
}

static void cb_text(struct llv_buf *b, const char *s)
{
	cb_head(b, 3, strlen(s));
	llv_buf_put(b, s, strlen(s));
}

static const uint8_t cdh[32] = {
	0x68, 0x71, 0x34, 0x96, 0x82, 0x22, 0xec, 0x17, 0x20, 0x2e, 0x42, 0x50, 0x5f, 0x8e, 0xd2, 0xb1,
	0x6a, 0xe2, 0x2f, 0x16, 0xbb, 0x05, 0xb8, 0x8c, 0x25, 0xdb, 0x9e, 0x60, 0x26, 0x45, 0xf1, 0x41,
};

/* makeCredential: {1: cdh, 2: rp, 3: user, 4: [{alg, type}]} with options. */
static void make_credential_req(struct llv_buf *b, int64_t alg, bool cdh_as_text, bool with_user)
{
	llv_buf_put_u8(b, 0x01);
	cb_head(b, 5, with_user ? 4 : 3);
	cb_int(b, 1);
	if (cdh_as_text)
		cb_text(b, "not a byte string, but thirty-two");
	else
		cb_bytes(b, cdh, sizeof(cdh));
	cb_int(b, 2);
	cb_head(b, 5, 1);
	cb_text(b, "id");
	cb_text(b, "conformance.example");
	if (with_user) {
		cb_int(b, 3);
		cb_head(b, 5, 1);
		cb_text(b, "id");
		cb_bytes(b, (const uint8_t *)"u1", 2);
	}
	cb_int(b, 4);
	cb_head(b, 4, 1);
	cb_head(b, 5, 2);
	cb_text(b, "alg");
	cb_int(b, alg);
	cb_text(b, "type");
	cb_text(b, "public-key");
}

static struct cbor_pair *map_get(cbor_item_t *map, int64_t key)
{
	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *p = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		cbor_item_t *k = p[i].key;
		int64_t kv;
		if (cbor_isa_uint(k))
			kv = (int64_t)cbor_get_int(k);
		else if (cbor_isa_negint(k))
			kv = -1 - (int64_t)cbor_get_int(k);
		else
			continue;
		if (kv == key)
			return &p[i];
	}
	return NULL;
}

static cbor_item_t *map_get_str(cbor_item_t *map, const char *key)
{
	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	struct cbor_pair *p = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		cbor_item_t *k = p[i].key;
		if (cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == strlen(key) &&
		    memcmp(cbor_string_handle(k), key, strlen(key)) == 0)
			return p[i].value;
	}
	return NULL;
}

static bool array_has_text(cbor_item_t *a, const char *s)
{
	if (a == NULL || !cbor_isa_array(a))
		return false;
	for (size_t i = 0; i < cbor_array_size(a); i++) {
		cbor_item_t *e = cbor_array_handle(a)[i];
		if (cbor_isa_string(e) && cbor_string_length(e) == strlen(s) &&
		    memcmp(cbor_string_handle(e), s, strlen(s)) == 0)
			return true;
	}
	return false;
}

static bool array_has_uint(cbor_item_t *a, uint64_t v)
{
	if (a == NULL || !cbor_isa_array(a))
		return false;
	for (size_t i = 0; i < cbor_array_size(a); i++) {
		cbor_item_t *e = cbor_array_handle(a)[i];
		if (cbor_isa_uint(e) && cbor_get_int(e) == v)
			return true;
	}
	return false;
}

static cbor_item_t *decode(const struct llv_buf *b)
{
	struct cbor_load_result res;
	if (b->len == 0)
		return NULL;
	cbor_item_t *it = cbor_load(b->data, b->len, &res);
	if (it && (res.error.code != CBOR_ERR_NONE || res.read != b->len)) {
		cbor_decref(&it);
		return NULL;
	}
	return it;
}

static int64_t int_of(cbor_item_t *it)
{
	if (it && cbor_isa_uint(it))
		return (int64_t)cbor_get_int(it);
	if (it && cbor_isa_negint(it))
		return -1 - (int64_t)cbor_get_int(it);
	return INT64_MIN;
}

static void get_info_checks(struct dev *d)
{
	struct llv_buf out = LLV_BUF_INIT;
	uint8_t req = 0x04;
	int st = ctap2(d, &req, 1, &out);
	cbor_item_t *info = st == 0 ? decode(&out) : NULL;

	if (!expect_u("ctap2.getInfo.status", "status", 0x00, (unsigned long)st) || info == NULL) {
		if (st == 0)
			failf("ctap2.getInfo.cbor", "expected a CBOR map got %zu undecodable bytes", out.len);
		llv_buf_free(&out);
		return;
	}
	struct cbor_pair *p = map_get(info, 1);
	if (p && array_has_text(p->value, "FIDO_2_0") && array_has_text(p->value, "FIDO_2_1"))
		pass("ctap2.getInfo.versions");
	else
		failf("ctap2.getInfo.versions", "expected versions with FIDO_2_0 and FIDO_2_1");
	if (p && array_has_text(p->value, "U2F_V2"))
		pass("ctap2.getInfo.versions_U2F_V2");
	else
		failf("ctap2.getInfo.versions_U2F_V2", "expected U2F_V2 in versions");
	p = map_get(info, 3);
	if (p && cbor_isa_bytestring(p->value) && cbor_bytestring_length(p->value) == 16)
		pass("ctap2.getInfo.aaguid");
	else
		failf("ctap2.getInfo.aaguid", "expected a 16-byte aaguid (0x03)");
	p = map_get(info, 4);
	cbor_item_t *opt = p ? p->value : NULL;
	cbor_item_t *cp = map_get_str(opt, "clientPin"), *rk = map_get_str(opt, "rk");
	if (cp && cbor_isa_float_ctrl(cp) && cbor_is_bool(cp) && rk && cbor_is_bool(rk))
		pass("ctap2.getInfo.options_clientPin_rk");
	else
		failf("ctap2.getInfo.options_clientPin_rk", "expected boolean options clientPin and rk");
	p = map_get(info, 5);
	int64_t mms = p ? int_of(p->value) : INT64_MIN;
	if (mms >= 1024)
		pass("ctap2.getInfo.maxMsgSize");
	else
		failf("ctap2.getInfo.maxMsgSize", "expected maxMsgSize >= 1024 got %lld", (long long)mms);
	p = map_get(info, 6);
	if (p && array_has_uint(p->value, 1) && array_has_uint(p->value, 2))
		pass("ctap2.getInfo.pinUvAuthProtocols");
	else
		failf("ctap2.getInfo.pinUvAuthProtocols", "expected protocols 1 and 2");
	if (d->kind == DEV_PCSC) {
		p = map_get(info, 9);
		if (p && array_has_text(p->value, "nfc"))
			pass("ctap2.getInfo.transports_nfc");
		else
			failf("ctap2.getInfo.transports_nfc", "expected \"nfc\" in transports (0x09)");
	}
	/* getInfo takes no parameters. */
	uint8_t extra[] = { 0x04, 0xa0 };
	st = ctap2(d, extra, sizeof(extra), &out);
	expect_u("ctap2.getInfo.with_params.invalid_length", "status", 0x03, (unsigned long)st);
	cbor_decref(&info);
	llv_buf_free(&out);
}

static void ctap2_error_checks(struct dev *d)
{
	struct llv_buf req = LLV_BUF_INIT, out = LLV_BUF_INIT;
	int st;

	/* Malformed CBOR: a map announcing one pair, with nothing after it. */
	{
		uint8_t r[] = { 0x01, 0xa1 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.malformed_cbor.invalid_cbor", "status", 0x12, (unsigned long)st);
	}
	/* Trailing bytes after the map. */
	{
		uint8_t r[] = { 0x06, 0xa1, 0x01, 0x01, 0xff };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.trailing_bytes.invalid_cbor", "status", 0x12, (unsigned long)st);
	}
	/* Parameters that are not a map. */
	{
		uint8_t r[] = { 0x01, 0x80 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.params_not_map.unexpected_type", "status", 0x11, (unsigned long)st);
	}
	/* An unknown command. */
	{
		uint8_t r[] = { 0x55 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.unknown_command.invalid_command", "status", 0x01, (unsigned long)st);
	}
	/* makeCredential without user (0x03). */
	make_credential_req(&req, -7, false, false);
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.makeCredential.missing_user.missing_parameter", "status", 0x14, (unsigned long)st);
	/* clientDataHash as a text string. */
	llv_buf_clear(&req);
	make_credential_req(&req, -7, true, true);
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.makeCredential.cdh_text.unexpected_type", "status", 0x11, (unsigned long)st);
	/* Only an algorithm the key does not have. */
	llv_buf_clear(&req);
	make_credential_req(&req, -65535, false, true);
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.makeCredential.unsupported_alg", "status", 0x26, (unsigned long)st);
	/* getNextAssertion with no getAssertion before it. */
	{
		uint8_t r[] = { 0x08 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.getNextAssertion.without_getAssertion.not_allowed", "status", 0x30, (unsigned long)st);
	}
	/* getAssertion: missing clientDataHash. */
	llv_buf_clear(&req);
	llv_buf_put_u8(&req, 0x02);
	cb_head(&req, 5, 1);
	cb_int(&req, 1);
	cb_text(&req, "conformance.example");
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.getAssertion.missing_cdh.missing_parameter", "status", 0x14, (unsigned long)st);
	/* getAssertion for an rpId with no credential. */
	llv_buf_clear(&req);
	llv_buf_put_u8(&req, 0x02);
	cb_head(&req, 5, 2);
	cb_int(&req, 1);
	cb_text(&req, "nobody-registered-here.example");
	cb_int(&req, 2);
	cb_bytes(&req, cdh, sizeof(cdh));
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.getAssertion.unknown_rp.no_credentials", "status", 0x2E, (unsigned long)st);
	/* The same with an allowList of 8 unknown 64-byte credential IDs: a
	 * request longer than one APDU (chaining) or one report. */
	llv_buf_clear(&req);
	llv_buf_put_u8(&req, 0x02);
	cb_head(&req, 5, 3);
	cb_int(&req, 1);
	cb_text(&req, "nobody-registered-here.example");
	cb_int(&req, 2);
	cb_bytes(&req, cdh, sizeof(cdh));
	cb_int(&req, 3);
	cb_head(&req, 4, 8);
	for (int i = 0; i < 8; i++) {
		uint8_t id[64];
		memset(id, 0x40 + i, sizeof(id));
		cb_head(&req, 5, 2);
		cb_text(&req, "id");
		cb_bytes(&req, id, sizeof(id));
		cb_text(&req, "type");
		cb_text(&req, "public-key");
	}
	st = ctap2(d, req.data, req.len, &out);
	expect_u("ctap2.getAssertion.long_allowList.no_credentials", "status", 0x2E, (unsigned long)st);
	/* clientPIN getPINRetries (protocol 1). */
	{
		uint8_t r[] = { 0x06, 0xa2, 0x01, 0x01, 0x02, 0x01 };
		st = ctap2(d, r, sizeof(r), &out);
		cbor_item_t *m = st == 0 ? decode(&out) : NULL;
		struct cbor_pair *p = map_get(m, 3);
		int64_t n = p ? int_of(p->value) : INT64_MIN;
		if (st == 0 && n >= 0 && n <= 8)
			pass("ctap2.clientPIN.getPINRetries");
		else
			failf("ctap2.clientPIN.getPINRetries", "expected status 0x00 and pinRetries 0..8 got 0x%02x, %lld",
			      (unsigned)st, (long long)n);
		if (m)
			cbor_decref(&m);
	}
	/* clientPIN getKeyAgreement (protocol 2): a P-256 COSE key. */
	{
		uint8_t r[] = { 0x06, 0xa2, 0x01, 0x02, 0x02, 0x02 };
		st = ctap2(d, r, sizeof(r), &out);
		cbor_item_t *m = st == 0 ? decode(&out) : NULL;
		struct cbor_pair *p = map_get(m, 1);
		cbor_item_t *k = p ? p->value : NULL;
		struct cbor_pair *kty = map_get(k, 1), *crv = map_get(k, -1), *x = map_get(k, -2), *y = map_get(k, -3);
		if (st == 0 && kty && int_of(kty->value) == 2 && crv && int_of(crv->value) == 1 &&
		    x && cbor_isa_bytestring(x->value) && cbor_bytestring_length(x->value) == 32 &&
		    y && cbor_isa_bytestring(y->value) && cbor_bytestring_length(y->value) == 32)
			pass("ctap2.clientPIN.getKeyAgreement");
		else
			failf("ctap2.clientPIN.getKeyAgreement", "expected status 0x00 and an EC2 P-256 key got 0x%02x",
			      (unsigned)st);
		if (m)
			cbor_decref(&m);
	}
	/* getKeyAgreement with a protocol the key does not have (§6.5.5.4). */
	{
		uint8_t r[] = { 0x06, 0xa2, 0x01, 0x09, 0x02, 0x02 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.clientPIN.getKeyAgreement.unknown_protocol.invalid_parameter", "status", 0x02,
			 (unsigned long)st);
	}
	/* getKeyAgreement without a protocol. */
	{
		uint8_t r[] = { 0x06, 0xa1, 0x02, 0x02 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.clientPIN.getKeyAgreement.no_protocol.missing_parameter", "status", 0x14,
			 (unsigned long)st);
	}
	/* clientPIN without subCommand. */
	{
		uint8_t r[] = { 0x06, 0xa1, 0x01, 0x01 };
		st = ctap2(d, r, sizeof(r), &out);
		expect_u("ctap2.clientPIN.missing_subcommand.missing_parameter", "status", 0x14, (unsigned long)st);
	}
	/* CTAP1/U2F. */
	{
		uint16_t sw = u2f(d, 0x03, 0x00, NULL, 0, &out);
		if (sw == 0x9000 && out.len == 6 && memcmp(out.data, "U2F_V2", 6) == 0)
			pass("u2f.version");
		else
			failf("u2f.version", "expected \"U2F_V2\" 9000 got %zu bytes SW %04X", out.len, sw);
		uint8_t short_reg[10] = { 0 };
		sw = u2f(d, 0x01, 0x00, short_reg, sizeof(short_reg), &out);
		expect_u("u2f.register.wrong_length", "SW", 0x6700, sw);
		sw = u2f(d, 0x44, 0x00, NULL, 0, &out);
		expect_u("u2f.unknown_ins", "SW", 0x6D00, sw);
		/* authenticate check-only with an unknown key handle: 6A80. */
		uint8_t auth[32 + 32 + 1 + 64];
		memset(auth, 0x11, sizeof(auth));
		auth[64] = 64;
		sw = u2f(d, 0x02, 0x07, auth, sizeof(auth), &out);
		expect_u("u2f.authenticate.unknown_handle", "SW", 0x6A80, sw);
	}
	llv_buf_free(&req);
	llv_buf_free(&out);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Uso / usage: " PROG " (--socket PATH | --udp HOST:PORT [--udp-listen PORT] |\n"
		"             --pcsc READER_SUBSTRING | --hidraw /dev/hidrawN) [-v]\n"
		"Comprueba CTAPHID (no en PC/SC) y los códigos de estado CTAP2 de una llave;\n"
		"imprime PASS/FAIL por comprobación y al final \"N passed, M failed\".\n"
		"Checks CTAPHID (not over PC/SC) and CTAP2 status codes of a security key.\n"
		"Exit: 0 all passed, 1 some failed, 2 usage or device error.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "udp", required_argument, NULL, 'u' },
		{ "udp-listen", required_argument, NULL, 'l' },
		{ "pcsc", required_argument, NULL, 'p' },
		{ "hidraw", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dev d;
	const char *target = NULL;
	int kinds = 0, c;
	unsigned listen_port = 7112;

	memset(&d, 0, sizeof(d));
	d.fd = -1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': d.kind = DEV_SOCKET; target = optarg; kinds++; break;
		case 'u': d.kind = DEV_UDP; target = optarg; kinds++; break;
		case 'p': d.kind = DEV_PCSC; target = optarg; kinds++; break;
		case 'r': d.kind = DEV_HIDRAW; target = optarg; kinds++; break;
		case 'l': listen_port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'v': d.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (kinds != 1 || optind != argc || listen_port == 0 || listen_port > 65535) {
		usage(stderr);
		return 2;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());

	if (d.kind == DEV_SOCKET) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(target) >= sizeof(sa.sun_path)) {
			fprintf(stderr, PROG ": socket path too long\n");
			return 2;
		}
		strcpy(sa.sun_path, target);
		d.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (d.fd < 0 || connect(d.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			fprintf(stderr, PROG ": cannot connect to %s: %s\n", target, strerror(errno));
			return 2;
		}
	} else if (d.kind == DEV_UDP) {
		char host[64];
		const char *colon = strrchr(target, ':');
		unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;
		if (!colon || (size_t)(colon - target) >= sizeof(host) || port == 0 || port > 65535) {
			fprintf(stderr, PROG ": --udp wants HOST:PORT (127.0.0.1:8111)\n");
			return 2;
		}
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		d.udp_peer.sin_family = AF_INET;
		d.udp_peer.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &d.udp_peer.sin_addr) != 1) {
			fprintf(stderr, PROG ": bad IPv4 address %s\n", host);
			return 2;
		}
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port) };
		me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		d.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (d.fd < 0 || bind(d.fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
			fprintf(stderr, PROG ": cannot listen on 127.0.0.1:%u: %s\n", listen_port, strerror(errno));
			return 2;
		}
	} else if (d.kind == DEV_HIDRAW) {
		d.fd = open(target, O_RDWR | O_CLOEXEC);
		if (d.fd < 0) {
			fprintf(stderr, PROG ": cannot open %s: %s\n", target, strerror(errno));
			return 2;
		}
	} else if (pc_open(&d, target) != 0) {
		return 2;
	}

	if (d.kind == DEV_PCSC) {
		printf("# device: PC/SC reader \"%s\"\n", d.reader);
		pc_select_checks(&d);
	} else {
		printf("# device: CTAPHID over %s %s\n",
		       d.kind == DEV_SOCKET ? "socket" : d.kind == DEV_UDP ? "UDP" : "hidraw", target);
		hid_checks(&d);
		if (hid_alloc_cid(&d, &d.cid) != 0) {
			failf("hid.init.for_ctap2", "expected a channel for the CTAP2 checks, INIT failed");
			printf("%u passed, %u failed\n", n_pass, n_fail);
			return 1;
		}
		if (!(d.caps & 0x04))
			failf("hid.init.cbor_capability", "expected the CBOR capability (0x04) got caps 0x%02x", d.caps);
	}
	get_info_checks(&d);
	ctap2_error_checks(&d);

	if (d.kind == DEV_PCSC) {
		SCardDisconnect(d.pc_card, SCARD_LEAVE_CARD);
		SCardReleaseContext(d.pc_ctx);
	} else {
		close(d.fd);
	}
	printf("%u passed, %u failed\n", n_pass, n_fail);
	return n_fail > 0 ? 1 : 0;
}
