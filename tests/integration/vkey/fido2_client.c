/* Acceptance test 1 of the simulated security key: Debian's unmodified
 * libfido2 (public API only) drives llavero-vkey over its SOCK_SEQPACKET
 * socket through custom io functions. Also checks the raw CTAPHID transport
 * (socket and UDP) and the user-presence control channel.
 *
 * usage: fido2_client --socket PATH --vkey BIN --state FILE --outdir DIR
 *                     [--udp DEVPORT:HOSTPORT]
 * Prints one line per check and "N passed, M failed"; exit 0 only when none
 * failed. */
#include <errno.h>
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

#include <fido.h>
#include <fido/credman.h>
#include <fido/es256.h>
#include <fido/eddsa.h>

static const char *g_socket, *g_vkey, *g_state, *g_outdir;
static unsigned g_udp_dev, g_udp_host;
static int g_pass, g_fail;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FALLA");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		g_pass++;
	else
		g_fail++;
}

static bool expect_rc(int got, int want, const char *what)
{
	check(got == want, "%s: %s (0x%x), se esperaba %s (0x%x)", what, fido_strerr(got), got,
	      fido_strerr(want), want);
	return got == want;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int vkey_cmd(const char *args)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "'%s' %s --state '%s'", g_vkey, args, g_state);
	return system(cmd);
}

/* ---- libfido2 custom io over the SOCK_SEQPACKET socket ------------------- */

struct sock_handle { int fd; };

static void *io_open(const char *path)
{
	struct sockaddr_un sa;
	struct sock_handle *h;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return NULL;
	}
	h = malloc(sizeof(*h));
	if (h == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

static void io_close(void *handle)
{
	struct sock_handle *h = handle;

	close(h->fd);
	free(h);
}

static int io_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sock_handle *h = handle;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	n = recv(h->fd, buf, len, 0);
	if (n <= 0)
		return -1;
	return (int)n;
}

/* libfido2 hands over a HID output report: report ID 0, then 64 bytes. */
static int io_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sock_handle *h = handle;

	if (len < 2)
		return -1;
	if (send(h->fd, buf + 1, len - 1, MSG_NOSIGNAL) != (ssize_t)(len - 1))
		return -1;
	return (int)len;
}

static fido_dev_t *dev_open(void)
{
	fido_dev_io_t io = { io_open, io_close, io_read, io_write };
	fido_dev_t *dev = fido_dev_new();
	int r;

	/* Every NULL is a failed check: callers stop the run (goto out), and
	 * the skipped checks must not end in "0 failed". */
	if (dev == NULL) {
		check(false, "fido_dev_new");
		return NULL;
	}
	if ((r = fido_dev_set_io_functions(dev, &io)) != FIDO_OK) {
		check(false, "fido_dev_set_io_functions: %s", fido_strerr(r));
		fido_dev_free(&dev);
		return NULL;
	}
	r = fido_dev_open(dev, g_socket);
	if (r != FIDO_OK) {
		check(false, "fido_dev_open(%s): %s", g_socket, fido_strerr(r));
		fido_dev_free(&dev);
		return NULL;
	}
	fido_dev_set_timeout(dev, 20000);
	return dev;
}

static void dev_close(fido_dev_t **dev)
{
	if (*dev == NULL)
		return;
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

/* Unplug and plug the key back: the vkey drops our connection. */
static fido_dev_t *power_cycle(fido_dev_t **dev)
{
	dev_close(dev);
	check(vkey_cmd("power-cycle") == 0, "llavero-vkey power-cycle");
	*dev = dev_open();
	return *dev;
}

/* ---- raw CTAPHID (socket or UDP) ------------------------------------------ */

struct raw {
	int fd;
	bool udp;
	struct sockaddr_in dev;
};

static bool raw_open_socket(struct raw *r)
{
	struct sock_handle *h = io_open(g_socket);

	if (h == NULL)
		return false;
	r->fd = h->fd;
	r->udp = false;
	free(h);
	return true;
}

static bool raw_open_udp(struct raw *r)
{
	struct sockaddr_in sa;

	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)g_udp_host);
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(r->fd);
		return false;
	}
	r->udp = true;
	memset(&r->dev, 0, sizeof(r->dev));
	r->dev.sin_family = AF_INET;
	r->dev.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->dev.sin_port = htons((uint16_t)g_udp_dev);
	return true;
}

static void raw_send_report(struct raw *r, const uint8_t *pkt)
{
	if (r->udp)
		sendto(r->fd, pkt, 64, 0, (struct sockaddr *)&r->dev, sizeof(r->dev));
	else
		send(r->fd, pkt, 64, MSG_NOSIGNAL);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void raw_send(struct raw *r, uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t pkt[64];
	size_t off, n;
	uint8_t seq = 0;

	memset(pkt, 0, sizeof(pkt));
	put32(pkt, cid);
	pkt[4] = cmd;
	pkt[5] = (uint8_t)(len >> 8);
	pkt[6] = (uint8_t)len;
	n = len < 57 ? len : 57;
	if (n)
		memcpy(pkt + 7, data, n);
	raw_send_report(r, pkt);
	for (off = n; off < len; off += n) {
		memset(pkt, 0, sizeof(pkt));
		put32(pkt, cid);
		pkt[4] = seq++;
		n = len - off < 59 ? len - off : 59;
		memcpy(pkt + 5, data + off, n);
		raw_send_report(r, pkt);
	}
}

/* One message on cid (keepalives included); -1 on timeout. */
static int raw_recv(struct raw *r, uint32_t cid, uint8_t *cmd, uint8_t *data, size_t cap, size_t *len, int ms)
{
	uint8_t pkt[64];
	size_t bcnt = 0, got = 0, n;
	bool started = false;
	uint8_t seq = 0;

	for (;;) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

		if (poll(&pfd, 1, ms) <= 0)
			return -1;
		if (recv(r->fd, pkt, sizeof(pkt), 0) != 64)
			return -1;
		if (get32(pkt) != cid)
			continue;
		if (!started) {
			if (!(pkt[4] & 0x80))
				continue;
			*cmd = pkt[4];
			bcnt = (size_t)pkt[5] << 8 | pkt[6];
			if (bcnt > cap)
				return -1;
			n = bcnt < 57 ? bcnt : 57;
			memcpy(data, pkt + 7, n);
			got = n;
			started = true;
		} else {
			if (pkt[4] != seq++)
				return -1;
			n = bcnt - got < 59 ? bcnt - got : 59;
			memcpy(data + got, pkt + 5, n);
			got += n;
		}
		if (got == bcnt) {
			*len = bcnt;
			return 0;
		}
	}
}

static uint32_t raw_init(struct raw *r, const char *label)
{
	uint8_t nonce[8] = { 'l', 'l', 'a', 'v', 'e', 'r', 'o', 0 };
	uint8_t d[64], cmd = 0;
	size_t len = 0;
	int rc;

	nonce[7] = (uint8_t)rand();
	raw_send(r, 0xffffffffu, 0x86, nonce, 8);
	rc = raw_recv(r, 0xffffffffu, &cmd, d, sizeof(d), &len, 2000);
	check(rc == 0 && cmd == 0x86 && len == 17 && memcmp(d, nonce, 8) == 0 && d[12] == 2 &&
	      (d[16] & 0x04) && !(d[16] & 0x08),
	      "%s: INIT por difusión asigna canal (protocolo 2, CBOR, MSG)", label);
	return rc == 0 && len == 17 ? get32(d + 8) : 0;
}

static void raw_transport_checks(struct raw *r, const char *label)
{
	static uint8_t big[7609], d[7700];
	uint32_t cid = raw_init(r, label);
	uint8_t cmd = 0;
	size_t len = 0, i;
	uint8_t getinfo = 0x04;
	int rc;

	if (cid == 0)
		return;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	raw_send(r, cid, 0x81, big, sizeof(big));
	rc = raw_recv(r, cid, &cmd, d, sizeof(d), &len, 5000);
	check(rc == 0 && cmd == 0x81 && len == sizeof(big) && memcmp(d, big, len) == 0,
	      "%s: PING de 7609 bytes (carga máxima) vuelve intacto", label);

	raw_send(r, cid, 0x90, &getinfo, 1);
	rc = raw_recv(r, cid, &cmd, d, sizeof(d), &len, 5000);
	check(rc == 0 && cmd == 0x90 && len > 1 && d[0] == 0x00, "%s: CBOR authenticatorGetInfo", label);

	raw_send(r, cid + 1000, 0x81, big, 4);
	rc = raw_recv(r, cid + 1000, &cmd, d, sizeof(d), &len, 2000);
	check(rc == 0 && cmd == 0xbf && len == 1 && d[0] == 0x0b, "%s: canal sin asignar -> ERR_INVALID_CHANNEL",
	      label);
}

/* User presence through the control channel, with keepalives and CANCEL, on
 * raw CTAPHID: authenticatorSelection (0x0B) needs a touch. */
static void presence_checks(void)
{
	struct raw a, b;
	uint32_t ca, cb;
	uint8_t sel = 0x0b, d[256], cmd = 0;
	size_t len = 0;
	int rc, keepalives = 0;
	bool busy = false;

	if (!raw_open_socket(&a) || !raw_open_socket(&b)) {
		check(false, "conexión al socket para las pruebas de presencia");
		return;
	}
	ca = raw_init(&a, "presencia A");
	cb = raw_init(&b, "presencia B");

	check(vkey_cmd("up wait:5000") == 0, "llavero-vkey up wait:5000");
	raw_send(&a, ca, 0x90, &sel, 1);
	/* keepalives UPNEEDED while waiting; the other channel is busy */
	for (;;) {
		rc = raw_recv(&a, ca, &cmd, d, sizeof(d), &len, 1000);
		if (rc != 0 || cmd != 0xbb)
			break;
		if (len == 1 && d[0] == 2)
			keepalives++;
		if (keepalives == 3 && !busy) {
			uint8_t x = 1;

			raw_send(&b, cb, 0x81, &x, 1);
			busy = raw_recv(&b, cb, &cmd, d, sizeof(d), &len, 1000) == 0 && cmd == 0xbf && d[0] == 0x06;
			raw_send(&a, ca, 0x91, NULL, 0);     /* CANCEL */
		}
	}
	check(keepalives >= 3, "KEEPALIVE UPNEEDED mientras espera un toque (%d)", keepalives);
	check(busy, "otro canal recibe ERR_CHANNEL_BUSY mientras espera");
	check(rc == 0 && cmd == 0x90 && len >= 1 && d[0] == 0x2d, "CTAPHID_CANCEL -> CTAP2_ERR_KEEPALIVE_CANCEL (%02x)",
	      rc == 0 && len ? d[0] : 0xff);

	/* a touch through the control channel (it waits for the request) */
	raw_send(&a, ca, 0x90, &sel, 1);
	check(vkey_cmd("up touch") == 0, "llavero-vkey up touch");
	do
		rc = raw_recv(&a, ca, &cmd, d, sizeof(d), &len, 3000);
	while (rc == 0 && cmd == 0xbb);
	check(rc == 0 && cmd == 0x90 && len >= 1 && d[0] == 0x00, "toque entregado: authenticatorSelection OK");

	/* nobody touches */
	check(vkey_cmd("up wait:300") == 0, "llavero-vkey up wait:300");
	raw_send(&a, ca, 0x90, &sel, 1);
	do
		rc = raw_recv(&a, ca, &cmd, d, sizeof(d), &len, 3000);
	while (rc == 0 && cmd == 0xbb);
	check(rc == 0 && cmd == 0x90 && len >= 1 && d[0] == 0x2f, "sin toque -> CTAP2_ERR_USER_ACTION_TIMEOUT");

	check(vkey_cmd("up deny") == 0, "llavero-vkey up deny");
	raw_send(&a, ca, 0x90, &sel, 1);
	rc = raw_recv(&a, ca, &cmd, d, sizeof(d), &len, 3000);
	check(rc == 0 && cmd == 0x90 && len >= 1 && d[0] == 0x27, "deny -> CTAP2_ERR_OPERATION_DENIED");

	check(vkey_cmd("up auto") == 0, "llavero-vkey up auto");
	close(a.fd);
	close(b.fd);
}

/* ---- libfido2 flows -------------------------------------------------------- */

static const char *RP = "llavero.example";

static void rand_bytes(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)rand();
}

static void write_file(const char *name, const unsigned char *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_outdir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(p, 1, len, f);
	fclose(f);
}

/* CBOR head (major type, length) into out; returns its size. */
static size_t cbor_head(unsigned char *out, unsigned major, size_t len)
{
	if (len < 24) {
		out[0] = (unsigned char)(major << 5 | len);
		return 1;
	}
	if (len < 256) {
		out[0] = (unsigned char)(major << 5 | 24);
		out[1] = (unsigned char)len;
		return 2;
	}
	out[0] = (unsigned char)(major << 5 | 25);
	out[1] = (unsigned char)(len >> 8);
	out[2] = (unsigned char)len;
	return 3;
}

/* The credential as the attestationObject a browser would hand the server
 * ({"fmt", "attStmt", "authData"}); as_none: fmt "none", attStmt {}. Seeds
 * for the verify/ fuzz target tests/fuzz/corpus/fuzz_attestation_cbor. */
static void write_attobj(const char *name, const fido_cred_t *c, bool as_none)
{
	const char *fmt = as_none ? "none" : fido_cred_fmt(c);
	static const unsigned char empty_map = 0xa0;
	const unsigned char *st = as_none ? &empty_map : fido_cred_attstmt_ptr(c);
	size_t st_len = as_none ? 1 : fido_cred_attstmt_len(c);
	const unsigned char *ad = fido_cred_authdata_raw_ptr(c);
	size_t ad_len = fido_cred_authdata_raw_len(c);
	unsigned char *buf, *p;

	if (fmt == NULL || st == NULL || ad == NULL || (buf = malloc(64 + st_len + ad_len)) == NULL)
		return;
	p = buf;
	*p++ = 0xa3;
	p += cbor_head(p, 3, 3);
	memcpy(p, "fmt", 3), p += 3;
	p += cbor_head(p, 3, strlen(fmt));
	memcpy(p, fmt, strlen(fmt)), p += strlen(fmt);
	p += cbor_head(p, 3, 7);
	memcpy(p, "attStmt", 7), p += 7;
	memcpy(p, st, st_len), p += st_len;
	p += cbor_head(p, 3, 8);
	memcpy(p, "authData", 8), p += 8;
	p += cbor_head(p, 2, ad_len);
	memcpy(p, ad, ad_len), p += ad_len;
	write_file(name, buf, (size_t)(p - buf));
	free(buf);
}

static fido_cred_t *make_cred(fido_dev_t *dev, const char *rp, int alg, bool rk, const char *pin,
			      int ext, int prot, const char *uname, int *rc_out)
{
	fido_cred_t *c = fido_cred_new();
	unsigned char cdh[32], uid[16];
	int r;

	rand_bytes(cdh, sizeof(cdh));
	rand_bytes(uid, sizeof(uid));
	fido_cred_set_type(c, alg);
	fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh));
	fido_cred_set_rp(c, rp, "Llavero de prueba");
	fido_cred_set_user(c, uid, sizeof(uid), uname, "Usuario de prueba", NULL);
	fido_cred_set_rk(c, rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT);
	if (ext)
		fido_cred_set_extensions(c, ext);
	if (prot)
		fido_cred_set_prot(c, prot);
	r = fido_dev_make_cred(dev, c, pin);
	*rc_out = r;
	if (r != FIDO_OK) {
		fido_cred_free(&c);
		return NULL;
	}
	return c;
}

static int cred_verify(fido_cred_t *c)
{
	return fido_cred_verify(c);
}

/* Assertion over cred (allow list) or discoverable (cred == NULL). */
static fido_assert_t *get_assert(fido_dev_t *dev, const char *rp, const fido_cred_t *cred, const char *pin,
				 const unsigned char *salt, int *rc_out)
{
	fido_assert_t *a = fido_assert_new();
	unsigned char cdh[32];
	int r;

	rand_bytes(cdh, sizeof(cdh));
	fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh));
	fido_assert_set_rp(a, rp);
	if (cred != NULL)
		fido_assert_allow_cred(a, fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	if (salt != NULL) {
		fido_assert_set_extensions(a, FIDO_EXT_HMAC_SECRET);
		fido_assert_set_hmac_salt(a, salt, 32);
	}
	r = fido_dev_get_assert(dev, a, pin);
	*rc_out = r;
	if (r != FIDO_OK) {
		fido_assert_free(&a);
		return NULL;
	}
	return a;
}

static int assert_verify(const fido_assert_t *a, size_t idx, const fido_cred_t *c)
{
	int alg = fido_cred_type(c), r = FIDO_ERR_INTERNAL;

	if (alg == COSE_ES256) {
		es256_pk_t *pk = es256_pk_new();

		if (es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c), fido_cred_pubkey_len(c)) == FIDO_OK)
			r = fido_assert_verify(a, idx, COSE_ES256, pk);
		es256_pk_free(&pk);
	} else if (alg == COSE_EDDSA) {
		eddsa_pk_t *pk = eddsa_pk_new();

		if (eddsa_pk_from_ptr(pk, fido_cred_pubkey_ptr(c), fido_cred_pubkey_len(c)) == FIDO_OK)
			r = fido_assert_verify(a, idx, COSE_EDDSA, pk);
		eddsa_pk_free(&pk);
	}
	return r;
}

static bool info_has(char **list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void info_checks(fido_dev_t *dev, unsigned char aaguid[16])
{
	fido_cbor_info_t *ci = fido_cbor_info_new();
	int r = fido_dev_get_cbor_info(dev, ci);
	char **v;
	size_t i, n;
	bool es256 = false, eddsa = false, rk = false, cp = false, cm = false;

	if (!expect_rc(r, FIDO_OK, "fido_dev_get_cbor_info")) {
		fido_cbor_info_free(&ci);
		return;
	}
	v = fido_cbor_info_versions_ptr(ci);
	n = fido_cbor_info_versions_len(ci);
	check(info_has(v, n, "FIDO_2_0") && info_has(v, n, "FIDO_2_1") && info_has(v, n, "U2F_V2"),
	      "getInfo: versiones FIDO_2_0, FIDO_2_1, U2F_V2");
	v = fido_cbor_info_extensions_ptr(ci);
	n = fido_cbor_info_extensions_len(ci);
	check(info_has(v, n, "hmac-secret") && info_has(v, n, "credProtect"),
	      "getInfo: extensiones hmac-secret y credProtect");
	for (i = 0; i < fido_cbor_info_algorithm_count(ci); i++) {
		es256 |= fido_cbor_info_algorithm_cose(ci, i) == COSE_ES256;
		eddsa |= fido_cbor_info_algorithm_cose(ci, i) == COSE_EDDSA;
	}
	check(es256 && eddsa, "getInfo: algoritmos ES256 y EdDSA");
	v = fido_cbor_info_options_name_ptr(ci);
	n = fido_cbor_info_options_len(ci);
	for (i = 0; i < n; i++) {
		const bool *val = fido_cbor_info_options_value_ptr(ci);

		rk |= strcmp(v[i], "rk") == 0 && val[i];
		cp |= strcmp(v[i], "clientPin") == 0;
		cm |= strcmp(v[i], "credMgmt") == 0 && val[i];
	}
	check(rk && cp && cm, "getInfo: opciones rk, clientPin, credMgmt");
	check(fido_cbor_info_maxmsgsiz(ci) >= 1024, "getInfo: maxMsgSize %llu",
	      (unsigned long long)fido_cbor_info_maxmsgsiz(ci));
	check(fido_cbor_info_aaguid_len(ci) == 16, "getInfo: AAGUID de 16 bytes");
	if (fido_cbor_info_aaguid_len(ci) == 16)
		memcpy(aaguid, fido_cbor_info_aaguid_ptr(ci), 16);
	check(fido_dev_supports_pin(dev) && !fido_dev_has_pin(dev), "llave nueva: admite PIN, sin PIN");
	check(fido_dev_supports_credman(dev) && fido_dev_supports_cred_prot(dev),
	      "libfido2 ve credMgmt y credProtect");
	fido_cbor_info_free(&ci);
}

static void registration_checks(fido_dev_t *dev, const char *pin, const unsigned char aaguid[16],
				const char *tag)
{
	fido_cred_t *c;
	fido_assert_t *a;
	int r, alg;
	uint32_t count0 = 0;

	for (alg = 0; alg < 2; alg++) {
		int cose = alg == 0 ? COSE_ES256 : COSE_EDDSA;
		const char *an = alg == 0 ? "ES256" : "EdDSA";

		c = make_cred(dev, RP, cose, false, pin, 0, 0, "ana", &r);
		if (!expect_rc(r, FIDO_OK, "makeCredential no residente"))
			continue;
		check(strcmp(fido_cred_fmt(c), "packed") == 0 && fido_cred_x5c_len(c) > 0,
		      "%s %s: atestación packed con x5c", tag, an);
		expect_rc(cred_verify(c), FIDO_OK, "fido_cred_verify");
		check(fido_cred_aaguid_len(c) == 16 && memcmp(fido_cred_aaguid_ptr(c), aaguid, 16) == 0,
		      "%s %s: el AAGUID de la credencial es el de getInfo", tag, an);
		check((fido_cred_flags(c) & 0x01) && (pin == NULL || (fido_cred_flags(c) & 0x04)),
		      "%s %s: banderas UP%s (0x%02x)", tag, an, pin ? "+UV" : "", fido_cred_flags(c));
		if (alg == 0 && pin == NULL)
			write_file("x5c-packed.der", fido_cred_x5c_ptr(c), fido_cred_x5c_len(c));
		if (pin == NULL) {
			write_attobj(alg == 0 ? "attobj-packed-es256.cbor" : "attobj-packed-eddsa.cbor", c, false);
			write_attobj(alg == 0 ? "attobj-none-es256.cbor" : "attobj-none-eddsa.cbor", c, true);
		}

		a = get_assert(dev, RP, c, pin, NULL, &r);
		if (expect_rc(r, FIDO_OK, "getAssertion con allowList")) {
			expect_rc(assert_verify(a, 0, c), FIDO_OK, "fido_assert_verify");
			check((fido_assert_flags(a, 0) & 0x01) && (pin == NULL || (fido_assert_flags(a, 0) & 0x04)),
			      "%s %s: aserción con UP%s (0x%02x)", tag, an, pin ? "+UV" : "",
			      fido_assert_flags(a, 0));
			count0 = fido_assert_sigcount(a, 0);
			fido_assert_free(&a);
		}
		a = get_assert(dev, RP, c, pin, NULL, &r);
		if (expect_rc(r, FIDO_OK, "segunda getAssertion")) {
			check(fido_assert_sigcount(a, 0) > count0, "%s %s: el contador de firmas crece (%u > %u)", tag,
			      an, fido_assert_sigcount(a, 0), count0);
			fido_assert_free(&a);
		}
		/* the same credential under another RP is unknown */
		a = get_assert(dev, "otro.example", c, pin, NULL, &r);
		expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "credencial de otro RP");
		fido_assert_free(&a);
		fido_cred_free(&c);
	}
}

static void hmac_secret_checks(fido_dev_t *dev, const char *pin)
{
	unsigned char salt1[32], salt2[32], out1[32] = { 0 };
	fido_cred_t *c;
	fido_assert_t *a;
	int r;

	rand_bytes(salt1, sizeof(salt1));
	rand_bytes(salt2, sizeof(salt2));
	c = make_cred(dev, RP, COSE_ES256, false, pin, FIDO_EXT_HMAC_SECRET, 0, "hmac", &r);
	if (!expect_rc(r, FIDO_OK, "makeCredential con hmac-secret"))
		return;
	expect_rc(cred_verify(c), FIDO_OK, "fido_cred_verify (hmac-secret)");
	a = get_assert(dev, RP, c, pin, salt1, &r);
	if (expect_rc(r, FIDO_OK, "getAssertion con hmac-secret")) {
		expect_rc(assert_verify(a, 0, c), FIDO_OK, "fido_assert_verify (hmac-secret)");
		check(fido_assert_hmac_secret_len(a, 0) == 32, "hmac-secret devuelve 32 bytes");
		if (fido_assert_hmac_secret_len(a, 0) == 32)
			memcpy(out1, fido_assert_hmac_secret_ptr(a, 0), 32);
		fido_assert_free(&a);
	}
	a = get_assert(dev, RP, c, pin, salt1, &r);
	if (expect_rc(r, FIDO_OK, "hmac-secret, misma sal")) {
		check(fido_assert_hmac_secret_len(a, 0) == 32 &&
		      memcmp(fido_assert_hmac_secret_ptr(a, 0), out1, 32) == 0, "misma sal -> mismo secreto");
		fido_assert_free(&a);
	}
	a = get_assert(dev, RP, c, pin, salt2, &r);
	if (expect_rc(r, FIDO_OK, "hmac-secret, otra sal")) {
		check(fido_assert_hmac_secret_len(a, 0) == 32 &&
		      memcmp(fido_assert_hmac_secret_ptr(a, 0), out1, 32) != 0, "otra sal -> otro secreto");
		fido_assert_free(&a);
	}
	fido_cred_free(&c);
}

/* A discoverable credential; returns it (caller frees) for later checks. */
static fido_cred_t *resident_checks(fido_dev_t *dev, const char *rp, const char *pin, const char *uname)
{
	fido_cred_t *c;
	fido_assert_t *a;
	int r;
	size_t i;
	bool found = false;

	c = make_cred(dev, rp, COSE_ES256, true, pin, 0, 0, uname, &r);
	if (!expect_rc(r, FIDO_OK, "makeCredential residente"))
		return NULL;
	expect_rc(cred_verify(c), FIDO_OK, "fido_cred_verify (residente)");
	a = get_assert(dev, rp, NULL, pin, NULL, &r);
	if (expect_rc(r, FIDO_OK, "getAssertion sin allowList (descubrible)")) {
		for (i = 0; i < fido_assert_count(a); i++) {
			if (fido_assert_user_id_len(a, i) == fido_cred_user_id_len(c) &&
			    memcmp(fido_assert_user_id_ptr(a, i), fido_cred_user_id_ptr(c),
				   fido_cred_user_id_len(c)) == 0) {
				found = true;
				expect_rc(assert_verify(a, i, c), FIDO_OK, "fido_assert_verify (residente)");
			}
		}
		check(found, "la aserción descubrible devuelve el usuario de la credencial (%zu aserciones)",
		      fido_assert_count(a));
		/* newest first */
		check(fido_assert_count(a) >= 1 && fido_assert_user_id_len(a, 0) == fido_cred_user_id_len(c) &&
		      memcmp(fido_assert_user_id_ptr(a, 0), fido_cred_user_id_ptr(c), fido_cred_user_id_len(c)) == 0,
		      "la credencial más reciente va primero");
		fido_assert_free(&a);
	}
	return c;
}

static void u2f_checks(void)
{
	fido_dev_t *dev = dev_open();
	fido_cred_t *c;
	fido_assert_t *a;
	int r;

	if (dev == NULL)
		return;
	fido_dev_force_u2f(dev);
	c = make_cred(dev, RP, COSE_ES256, false, NULL, 0, 0, "u2f", &r);
	if (expect_rc(r, FIDO_OK, "U2F (CTAPHID_MSG) register")) {
		check(strcmp(fido_cred_fmt(c), "fido-u2f") == 0, "U2F: atestación fido-u2f");
		write_attobj("attobj-fido-u2f.cbor", c, false);
		expect_rc(cred_verify(c), FIDO_OK, "fido_cred_verify (fido-u2f)");
		a = get_assert(dev, RP, c, NULL, NULL, &r);
		if (expect_rc(r, FIDO_OK, "U2F authenticate")) {
			expect_rc(assert_verify(a, 0, c), FIDO_OK, "fido_assert_verify (U2F)");
			fido_assert_free(&a);
		}
		fido_cred_free(&c);
	}
	dev_close(&dev);
}

static void pin_wrong(fido_dev_t *dev, const char *wrong, int want, const char *what)
{
	fido_assert_t *a;
	int r;

	a = get_assert(dev, RP, NULL, wrong, NULL, &r);
	fido_assert_free(&a);
	expect_rc(r, want, what);
}

static int retries(fido_dev_t *dev)
{
	int n = -1;

	if (fido_dev_get_retry_count(dev, &n) != FIDO_OK)
		return -1;
	return n;
}

static void credman_checks(fido_dev_t *dev, const char *pin, fido_cred_t *rk_a, fido_cred_t *rk_b)
{
	fido_credman_metadata_t *meta = fido_credman_metadata_new();
	fido_credman_rp_t *rps = fido_credman_rp_new();
	fido_credman_rk_t *rks = fido_credman_rk_new();
	uint64_t existing = 0;
	size_t i;
	bool has_rp = false;
	int r;

	r = fido_credman_get_dev_metadata(dev, meta, pin);
	if (expect_rc(r, FIDO_OK, "credMgmt getCredsMetadata")) {
		existing = fido_credman_rk_existing(meta);
		check(existing == 2, "credMgmt: %llu credenciales residentes (se esperaban 2)",
		      (unsigned long long)existing);
		check(fido_credman_rk_remaining(meta) > 0, "credMgmt: quedan %llu huecos",
		      (unsigned long long)fido_credman_rk_remaining(meta));
	}
	r = fido_credman_get_dev_metadata(dev, meta, "0000");
	expect_rc(r, FIDO_ERR_PIN_INVALID, "credMgmt con PIN equivocado");
	r = fido_credman_get_dev_metadata(dev, meta, pin);   /* resets the mismatch count */
	expect_rc(r, FIDO_OK, "credMgmt con el PIN correcto");

	r = fido_credman_get_dev_rp(dev, rps, pin);
	if (expect_rc(r, FIDO_OK, "credMgmt enumerateRPs")) {
		for (i = 0; i < fido_credman_rp_count(rps); i++)
			has_rp |= strcmp(fido_credman_rp_id(rps, i), RP) == 0;
		check(fido_credman_rp_count(rps) == 2 && has_rp, "credMgmt: 2 RP, incluido %s", RP);
	}
	r = fido_credman_get_dev_rk(dev, RP, rks, pin);
	if (expect_rc(r, FIDO_OK, "credMgmt enumerateCredentials") && rk_a != NULL) {
		const fido_cred_t *c = fido_credman_rk_count(rks) == 1 ? fido_credman_rk(rks, 0) : NULL;

		check(c != NULL && fido_cred_id_len(c) == fido_cred_id_len(rk_a) &&
		      memcmp(fido_cred_id_ptr(c), fido_cred_id_ptr(rk_a), fido_cred_id_len(c)) == 0,
		      "credMgmt: la credencial enumerada es la creada");
		check(c != NULL && fido_cred_user_name(c) && strcmp(fido_cred_user_name(c), "bea") == 0,
		      "credMgmt: nombre de usuario guardado");
		if (c != NULL) {
			fido_cred_t *upd = fido_cred_new();

			fido_cred_set_id(upd, fido_cred_id_ptr(c), fido_cred_id_len(c));
			fido_cred_set_user(upd, fido_cred_user_id_ptr(c), fido_cred_user_id_len(c), "beatriz",
					   "Beatriz", NULL);
			r = fido_credman_set_dev_rk(dev, upd, pin);
			expect_rc(r, FIDO_OK, "credMgmt updateUserInformation");
			fido_cred_free(&upd);
			fido_credman_rk_free(&rks);
			rks = fido_credman_rk_new();
			if (fido_credman_get_dev_rk(dev, RP, rks, pin) == FIDO_OK && fido_credman_rk_count(rks) == 1)
				check(fido_cred_user_name(fido_credman_rk(rks, 0)) &&
				      strcmp(fido_cred_user_name(fido_credman_rk(rks, 0)), "beatriz") == 0,
				      "credMgmt: usuario actualizado");
			else
				check(false, "credMgmt: releer tras actualizar");
		}
	}
	r = fido_credman_get_dev_rk(dev, "nadie.example", rks, pin);
	expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "credMgmt enumerateCredentials de un RP sin credenciales");

	if (rk_a != NULL) {
		fido_assert_t *a;

		r = fido_credman_del_dev_rk(dev, fido_cred_id_ptr(rk_a), fido_cred_id_len(rk_a), pin);
		expect_rc(r, FIDO_OK, "credMgmt deleteCredential");
		r = fido_credman_del_dev_rk(dev, fido_cred_id_ptr(rk_a), fido_cred_id_len(rk_a), pin);
		expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "credMgmt deleteCredential repetido");
		a = get_assert(dev, RP, rk_a, pin, NULL, &r);
		fido_assert_free(&a);
		expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "getAssertion de la credencial borrada");
		if (fido_credman_get_dev_metadata(dev, meta, pin) == FIDO_OK)
			check(fido_credman_rk_existing(meta) == existing - 1, "credMgmt: una residente menos");
	}
	(void)rk_b;
	fido_credman_rk_free(&rks);
	fido_credman_rp_free(&rps);
	fido_credman_metadata_free(&meta);
}

int main(int argc, char **argv)
{
	fido_dev_t *dev;
	unsigned char aaguid[16] = { 0 };
	fido_cred_t *rk_a = NULL, *rk_b = NULL, *prot = NULL;
	fido_assert_t *a;
	int i, r, n;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--socket") == 0)
			g_socket = argv[i + 1];
		else if (strcmp(argv[i], "--vkey") == 0)
			g_vkey = argv[i + 1];
		else if (strcmp(argv[i], "--state") == 0)
			g_state = argv[i + 1];
		else if (strcmp(argv[i], "--outdir") == 0)
			g_outdir = argv[i + 1];
		else if (strcmp(argv[i], "--udp") == 0 && sscanf(argv[i + 1], "%u:%u", &g_udp_dev, &g_udp_host) == 2)
			;
		else
			break;
	}
	if (i != argc || !g_socket || !g_vkey || !g_state || !g_outdir) {
		fprintf(stderr, "uso: fido2_client --socket RUTA --vkey BIN --state F --outdir DIR [--udp D:H]\n");
		return 2;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	fido_init(getenv("FIDO_DEBUG") ? FIDO_DEBUG : 0);

	/* 1. the transports themselves */
	{
		struct raw r1;

		if (raw_open_socket(&r1)) {
			raw_transport_checks(&r1, "socket");
			close(r1.fd);
		} else {
			check(false, "conexión SOCK_SEQPACKET a %s", g_socket);
		}
		if (g_udp_dev) {
			if (raw_open_udp(&r1)) {
				raw_transport_checks(&r1, "UDP");
				close(r1.fd);
			} else {
				check(false, "socket UDP 127.0.0.1:%u", g_udp_host);
			}
		}
	}
	presence_checks();

	/* 2. libfido2 without PIN */
	dev = dev_open();
	if (dev == NULL)
		goto out;
	check(fido_dev_is_fido2(dev), "libfido2 abre la llave como FIDO2");
	info_checks(dev, aaguid);
	registration_checks(dev, NULL, aaguid, "sin PIN");
	hmac_secret_checks(dev, NULL);
	rk_a = resident_checks(dev, RP, NULL, "bea");
	u2f_checks();

	/* up deny through libfido2 */
	check(vkey_cmd("up deny") == 0, "llavero-vkey up deny");
	{
		fido_cred_t *c = make_cred(dev, RP, COSE_ES256, false, NULL, 0, 0, "x", &r);

		fido_cred_free(&c);
		expect_rc(r, FIDO_ERR_OPERATION_DENIED, "makeCredential con presencia denegada");
	}
	check(vkey_cmd("up auto") == 0, "llavero-vkey up auto");

	/* 3. PIN */
	n = -1;
	expect_rc(fido_dev_get_retry_count(dev, &n), FIDO_OK, "getPINRetries sin PIN");
	check(n == 8, "sin PIN: 8 intentos (%d)", n);
	expect_rc(fido_dev_set_pin(dev, "123", NULL), FIDO_ERR_PIN_POLICY_VIOLATION, "setPIN de 3 dígitos");
	expect_rc(fido_dev_set_pin(dev, "1234", NULL), FIDO_OK, "setPIN 1234");
	expect_rc(fido_dev_set_pin(dev, "4321", NULL), FIDO_ERR_PIN_AUTH_INVALID, "setPIN con un PIN ya puesto");
	dev_close(&dev);
	dev = dev_open();
	if (dev == NULL)
		goto out;
	check(fido_dev_has_pin(dev), "getInfo: clientPin = true tras setPIN");
	check(retries(dev) == 8, "8 intentos de PIN (%d)", retries(dev));
	{
		/* makeCredUvNotRqd: non-discoverable needs no PIN, discoverable does */
		fido_cred_t *c = make_cred(dev, RP, COSE_ES256, true, NULL, 0, 0, "x", &r);

		fido_cred_free(&c);
		expect_rc(r, FIDO_ERR_PIN_REQUIRED, "makeCredential residente sin PIN con PIN puesto");
		c = make_cred(dev, RP, COSE_ES256, false, NULL, 0, 0, "x", &r);
		fido_cred_free(&c);
		expect_rc(r, FIDO_OK, "makeCredential no residente sin PIN (makeCredUvNotRqd)");
	}
	registration_checks(dev, "1234", aaguid, "con PIN");
	hmac_secret_checks(dev, "1234");
	rk_b = resident_checks(dev, "segundo.example", "1234", "carla");

	/* credProtect: userVerificationRequired is invisible without UV */
	prot = make_cred(dev, "protegido.example", COSE_ES256, true, "1234", 0, FIDO_CRED_PROT_UV_REQUIRED,
			 "dora", &r);
	if (expect_rc(r, FIDO_OK, "makeCredential residente con credProtect=3")) {
		check(fido_cred_prot(prot) == FIDO_CRED_PROT_UV_REQUIRED, "credProtect=3 confirmado");
		a = get_assert(dev, "protegido.example", NULL, NULL, NULL, &r);
		fido_assert_free(&a);
		expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "credProtect=3: invisible sin UV");
		a = get_assert(dev, "protegido.example", NULL, "1234", NULL, &r);
		if (expect_rc(r, FIDO_OK, "credProtect=3: visible con PIN"))
			expect_rc(assert_verify(a, 0, prot), FIDO_OK, "fido_assert_verify (credProtect)");
		fido_assert_free(&a);
		r = fido_credman_del_dev_rk(dev, fido_cred_id_ptr(prot), fido_cred_id_len(prot), "1234");
		expect_rc(r, FIDO_OK, "credMgmt deleteCredential (credProtect)");
	}

	/* wrong PINs: 3 in a row need a power cycle */
	pin_wrong(dev, "9999", FIDO_ERR_PIN_INVALID, "PIN equivocado 1");
	check(retries(dev) == 7, "quedan 7 intentos (%d)", retries(dev));
	pin_wrong(dev, "9999", FIDO_ERR_PIN_INVALID, "PIN equivocado 2");
	pin_wrong(dev, "9999", FIDO_ERR_PIN_AUTH_BLOCKED, "PIN equivocado 3 -> bloqueo hasta reiniciar");
	pin_wrong(dev, "1234", FIDO_ERR_PIN_AUTH_BLOCKED, "PIN correcto sin reiniciar -> sigue bloqueado");
	check(retries(dev) == 5, "quedan 5 intentos (%d)", retries(dev));
	if (power_cycle(&dev) == NULL)
		goto out;
	a = get_assert(dev, RP, NULL, "1234", NULL, &r);
	fido_assert_free(&a);
	expect_rc(r, FIDO_OK, "tras reiniciar, el PIN correcto funciona");
	check(retries(dev) == 8, "el PIN correcto restablece 8 intentos (%d)", retries(dev));

	/* change PIN */
	expect_rc(fido_dev_set_pin(dev, "5678", "0000"), FIDO_ERR_PIN_INVALID, "changePIN con PIN actual equivocado");
	expect_rc(fido_dev_set_pin(dev, "56", "1234"), FIDO_ERR_PIN_POLICY_VIOLATION, "changePIN a 2 dígitos");
	expect_rc(fido_dev_set_pin(dev, "5678", "1234"), FIDO_OK, "changePIN 1234 -> 5678");
	pin_wrong(dev, "1234", FIDO_ERR_PIN_INVALID, "el PIN anterior ya no vale");
	a = get_assert(dev, RP, NULL, "5678", NULL, &r);
	fido_assert_free(&a);
	expect_rc(r, FIDO_OK, "el PIN nuevo vale");
	check(retries(dev) == 8, "8 intentos tras el PIN correcto (%d)", retries(dev));

	/* 4. credential management */
	credman_checks(dev, "5678", rk_a, rk_b);

	/* 5. block the PIN: 8 wrong attempts, a power cycle every 3 */
	for (i = 1; i <= 8; i++) {
		a = get_assert(dev, RP, NULL, "0000", NULL, &r);
		fido_assert_free(&a);
		if (i % 3 == 0) {
			expect_rc(r, FIDO_ERR_PIN_AUTH_BLOCKED, "intento equivocado múltiplo de 3");
			if (power_cycle(&dev) == NULL)
				goto out;
		} else if (i == 8) {
			check(r == FIDO_ERR_PIN_INVALID || r == FIDO_ERR_PIN_BLOCKED,
			      "octavo intento equivocado: %s", fido_strerr(r));
		} else {
			expect_rc(r, FIDO_ERR_PIN_INVALID, "intento equivocado");
		}
	}
	check(retries(dev) == 0, "0 intentos tras 8 fallos (%d)", retries(dev));
	pin_wrong(dev, "5678", FIDO_ERR_PIN_BLOCKED, "PIN bloqueado: ni el correcto vale");
	expect_rc(fido_dev_set_pin(dev, "1111", "5678"), FIDO_ERR_PIN_BLOCKED, "changePIN con PIN bloqueado");

	/* 6. reset: within 10 s of power-up */
	if (power_cycle(&dev) == NULL)
		goto out;
	expect_rc(fido_dev_reset(dev), FIDO_OK, "authenticatorReset tras encender");
	dev_close(&dev);
	dev = dev_open();
	if (dev == NULL)
		goto out;
	check(!fido_dev_has_pin(dev), "tras reset: sin PIN");
	a = get_assert(dev, RP, NULL, NULL, NULL, &r);
	fido_assert_free(&a);
	expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "tras reset: no quedan credenciales residentes");
	if (rk_b != NULL) {
		a = get_assert(dev, "segundo.example", rk_b, NULL, NULL, &r);
		fido_assert_free(&a);
		expect_rc(r, FIDO_ERR_NO_CREDENTIALS, "tras reset: la credencial anterior ya no existe");
	}
	expect_rc(fido_dev_set_pin(dev, "2468", NULL), FIDO_OK, "setPIN tras reset");
	sleep_ms(10500);
	expect_rc(fido_dev_reset(dev), FIDO_ERR_NOT_ALLOWED, "authenticatorReset pasados 10 s");
	dev_close(&dev);
	dev = dev_open();
	if (dev != NULL)
		check(fido_dev_has_pin(dev), "el reset tardío no borró nada");

out:
	dev_close(&dev);
	fido_cred_free(&rk_a);
	fido_cred_free(&rk_b);
	fido_cred_free(&prot);
	printf("%d passed, %d failed\n", g_pass, g_fail);
	return g_fail == 0 && g_pass > 0 ? 0 : 1;
}
