/* `llavero-vkey run`: see vkey_daemon.h.
 *
 * Transports:
 *   - Unix SOCK_SEQPACKET (--socket PATH): every message is one 64-byte
 *     CTAPHID report, both directions. Several hosts may connect at once, as
 *     several programs may open one hidraw device; a response goes to the
 *     connection that last spoke on its channel.
 *   - UDP (--udp): 127.0.0.1:8111 receives reports, replies go to
 *     127.0.0.1:7112, one report per datagram.
 * Control socket STATE.ctl (SOCK_STREAM, one line per request, one line per
 * answer): "up auto|deny|wait[:MS]", "touch", "power-cycle", "status". */
#include "vkey_daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "buf.h"
#include "log.h"
#include "fw_state.h"
#include "ctap_authenticator.h"
#include "ctaphid.h"

#define MAX_CONNS 16
#define MAX_CTL 8
#define CID_ROUTES 64
#define CTL_LINE_MAX 128
#define KEEPALIVE_MS 100u

/* CTAP2 status codes used here (ctap_status.h may define them too). */
#ifndef CTAP2_OK
#define CTAP2_OK 0x00
#endif
#ifndef CTAP1_ERR_OTHER
#define CTAP1_ERR_OTHER 0x7f
#endif
#ifndef CTAP2_ERR_OPERATION_DENIED
#define CTAP2_ERR_OPERATION_DENIED 0x27
#endif
#ifndef CTAP2_ERR_KEEPALIVE_CANCEL
#define CTAP2_ERR_KEEPALIVE_CANCEL 0x2d
#endif
#ifndef CTAP2_ERR_USER_ACTION_TIMEOUT
#define CTAP2_ERR_USER_ACTION_TIMEOUT 0x2f
#endif
#define VKEY_CMD_CLIENT_PIN 0x06

/* Where a report came from, so its answers go back there. */
enum { SRC_NONE = -1, SRC_UDP = MAX_CONNS };

struct ctl_client {
	int fd;
	char line[CTL_LINE_MAX];
	size_t len;
	bool wants_touch;       /* "touch" waiting for a user-presence request */
	bool wants_power_cycle; /* "power-cycle" waiting for the request to end */
};

struct daemon {
	const struct vkey_run_options *opt;
	struct fw_state st;
	struct ctap_auth *auth;
	struct ctaphid *hid;

	int listen_fd;
	int conns[MAX_CONNS];
	int udp_fd;
	struct sockaddr_in udp_host;
	int ctl_fd;
	struct ctl_client ctl[MAX_CTL];
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	struct { uint32_t cid; int src; } routes[CID_ROUTES];
	size_t route_next;
	int current_src;        /* source of the report being processed */
	unsigned rotate;

	enum vkey_up_mode up_mode;
	uint32_t up_timeout_ms;
	bool up_waiting;
	bool touched;
	bool power_cycle_pending;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_cb(void *arg)
{
	(void)arg;
	return mono_ms();
}

int vkey_parse_up_mode(const char *s, enum vkey_up_mode *mode, uint32_t *timeout_ms)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "auto") == 0) {
		*mode = VKEY_UP_AUTO;
		return 0;
	}
	if (strcmp(s, "deny") == 0) {
		*mode = VKEY_UP_DENY;
		return 0;
	}
	if (strncmp(s, "wait", 4) == 0) {
		if (s[4] == '\0') {
			*mode = VKEY_UP_WAIT;
			*timeout_ms = VKEY_UP_DEFAULT_TIMEOUT_MS;
			return 0;
		}
		if (s[4] == ':' && s[5] >= '0' && s[5] <= '9') {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(s + 5, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 || v > 3600000ul)
				return -1;
			*mode = VKEY_UP_WAIT;
			*timeout_ms = (uint32_t)v;
			return 0;
		}
	}
	return -1;
}

int vkey_ctl_path(const char *state_path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s.ctl", state_path);

	if (n < 0 || (size_t)n >= outlen || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -1;
	return 0;
}

static const char *mode_name(enum vkey_up_mode m)
{
	switch (m) {
	case VKEY_UP_AUTO: return "auto";
	case VKEY_UP_DENY: return "deny";
	case VKEY_UP_WAIT: return "wait";
	}
	return "?";
}

/* ---- state ------------------------------------------------------------ */

static int save_state(struct daemon *d)
{
	struct llv_buf *sec = fw_state_section(&d->st, "ctap");

	if (sec == NULL) {
		llv_error("no cabe la sección ctap en el estado");
		return -1;
	}
	llv_buf_clear(sec);
	if (ctap_auth_save(d->auth, sec) != 0 || !llv_buf_ok(sec)) {
		llv_error("no se pudo serializar el estado del autenticador");
		return -1;
	}
	if (fw_state_save(&d->st, d->opt->state_path) != 0) {
		llv_error("no se pudo guardar el estado en %s: %s", d->opt->state_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- routing of outgoing reports ---------------------------------------- */

static uint32_t report_cid(const uint8_t *r)
{
	return (uint32_t)r[0] << 24 | (uint32_t)r[1] << 16 | (uint32_t)r[2] << 8 | r[3];
}

static void route_set(struct daemon *d, uint32_t cid, int src)
{
	size_t i;

	if (cid == 0 || cid == CTAPHID_BROADCAST_CID)
		return;
	for (i = 0; i < CID_ROUTES; i++) {
		if (d->routes[i].cid == cid) {
			d->routes[i].src = src;
			return;
		}
	}
	d->routes[d->route_next].cid = cid;
	d->routes[d->route_next].src = src;
	d->route_next = (d->route_next + 1) % CID_ROUTES;
}

static int route_get(const struct daemon *d, uint32_t cid)
{
	size_t i;

	for (i = 0; i < CID_ROUTES; i++)
		if (d->routes[i].cid == cid && cid != 0)
			return d->routes[i].src;
	return SRC_NONE;
}

static void route_forget_src(struct daemon *d, int src)
{
	size_t i;

	for (i = 0; i < CID_ROUTES; i++)
		if (d->routes[i].src == src)
			d->routes[i].cid = 0;
}

static void log_report(const char *dir, const uint8_t *r)
{
	if (llv_log_get_level() < LLV_LOG_INFO)
		return;
	if (r[4] & 0x80)
		llv_info("%s cid=%08x cmd=%02x bcnt=%u", dir, (unsigned)report_cid(r), r[4],
			 (unsigned)(r[5] << 8 | r[6]));
	else
		llv_info("%s cid=%08x seq=%u", dir, (unsigned)report_cid(r), r[4]);
}

static void send_to_src(struct daemon *d, int src, const uint8_t *r)
{
	ssize_t n;

	if (src == SRC_UDP) {
		if (d->udp_fd < 0)
			return;
		n = sendto(d->udp_fd, r, CTAPHID_REPORT_LEN, 0,
			   (const struct sockaddr *)&d->udp_host, sizeof(d->udp_host));
	} else if (src >= 0 && src < MAX_CONNS && d->conns[src] >= 0) {
		n = send(d->conns[src], r, CTAPHID_REPORT_LEN, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		return;
	}
	if (n != (ssize_t)CTAPHID_REPORT_LEN)
		llv_warn("no se pudo enviar un reporte: %s", n < 0 ? strerror(errno) : "envío corto");
}

static void hid_send(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct daemon *d = arg;
	uint32_t cid = report_cid(report);
	int src = route_get(d, cid);

	log_report("->", report);
	if (src == SRC_NONE || cid == CTAPHID_BROADCAST_CID)
		src = d->current_src;
	if (src == SRC_NONE) {
		llv_debug("reporte para el canal %08x sin destino", (unsigned)cid);
		return;
	}
	send_to_src(d, src, report);
}

/* ---- the authenticator behind CTAPHID ------------------------------------ */

static void log_payload(const char *what, uint32_t cid, const uint8_t *p, size_t len, bool secret)
{
	if (llv_log_get_level() < LLV_LOG_INFO)
		return;
	if (secret) {
		llv_info("%s canal %08x: %zu bytes (clientPIN: contenido omitido)", what, (unsigned)cid, len);
		return;
	}
	llv_info("%s canal %08x: %zu bytes", what, (unsigned)cid, len);
	llv_log_hex(LLV_LOG_INFO, what, p, len);
}

static void hid_cbor(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct daemon *d = arg;
	bool pin = len > 0 && req[0] == VKEY_CMD_CLIENT_PIN;

	log_payload("CBOR <-", cid, req, len, pin);
	ctap_auth_cbor(d->auth, req, len, resp);
	if (ctap_auth_take_dirty(d->auth) && save_state(d) != 0) {
		/* The change is in memory only; say so rather than pretend. */
		llv_buf_clear(resp);
		llv_buf_put_u8(resp, CTAP1_ERR_OTHER);
	}
	if (resp->len > 0)
		llv_info("CBOR -> canal %08x: estado %02x", (unsigned)cid, resp->data[0]);
	log_payload("CBOR ->", cid, resp->data, resp->len, pin);
}

static void hid_msg(void *arg, uint32_t cid, const uint8_t *req, size_t len, struct llv_buf *resp)
{
	struct daemon *d = arg;

	log_payload("MSG <-", cid, req, len, false);
	ctap_auth_u2f(d->auth, req, len, resp);
	if (ctap_auth_take_dirty(d->auth) && save_state(d) != 0) {
		llv_buf_clear(resp);
		llv_buf_put_be16(resp, 0x6f00);
	}
	log_payload("MSG ->", cid, resp->data, resp->len, false);
}

static void hid_wink(void *arg, uint32_t cid)
{
	(void)arg;
	llv_info("WINK en el canal %08x: *parpadeo*", (unsigned)cid);
}

/* ---- sockets ---------------------------------------------------------- */

static int accept_nb(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void close_conn(struct daemon *d, int i)
{
	if (d->conns[i] < 0)
		return;
	close(d->conns[i]);
	d->conns[i] = -1;
	route_forget_src(d, i);
	llv_info("conexión %d cerrada", i);
}

static void accept_conn(struct daemon *d)
{
	int fd = accept_nb(d->listen_fd);
	int i;

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			llv_warn("accept: %s", strerror(errno));
		return;
	}
	for (i = 0; i < MAX_CONNS; i++) {
		if (d->conns[i] < 0) {
			d->conns[i] = fd;
			llv_info("conexión %d abierta", i);
			return;
		}
	}
	llv_warn("demasiadas conexiones (%d); se rechaza una", MAX_CONNS);
	close(fd);
}

/* A report from src: answers to its channel go back to src. */
static void input_report(struct daemon *d, const uint8_t *r, int src)
{
	log_report("<-", r);
	route_set(d, report_cid(r), src);
	d->current_src = src;
	ctaphid_input(d->hid, r, CTAPHID_REPORT_LEN);
	d->current_src = SRC_NONE;
}

static void read_conn(struct daemon *d, int i)
{
	uint8_t r[CTAPHID_REPORT_LEN + 1];
	ssize_t n = recv(d->conns[i], r, sizeof(r), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn(d, i);
		return;
	}
	if (n < 0)
		return;
	if (n != (ssize_t)CTAPHID_REPORT_LEN) {
		llv_warn("conexión %d: mensaje de %zd bytes ignorado (un reporte son %u)", i, n,
			 CTAPHID_REPORT_LEN);
		return;
	}
	input_report(d, r, i);
}

static void read_udp(struct daemon *d)
{
	uint8_t r[CTAPHID_REPORT_LEN + 1];
	ssize_t n = recv(d->udp_fd, r, sizeof(r), MSG_DONTWAIT);

	if (n < 0)
		return;
	if (n != (ssize_t)CTAPHID_REPORT_LEN) {
		llv_warn("UDP: datagrama de %zd bytes ignorado (un reporte son %u)", n, CTAPHID_REPORT_LEN);
		return;
	}
	input_report(d, r, SRC_UDP);
}

/* A Unix socket path that may be left over from a process that died: in use
 * (someone answers) is an error, stale is removed. */
static int claim_unix_path(const char *path, int type)
{
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		llv_error("ruta de socket demasiado larga (máximo %zu bytes): %s", sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0) {
		llv_error("%s ya está en uso: ¿otro llavero-vkey con el mismo estado? / already in use", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		llv_error("no se puede quitar %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_unix(const char *path, int type)
{
	struct sockaddr_un sa;
	int fd;

	if (claim_unix_path(path, type) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		llv_error("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0) {
		llv_error("no se puede escuchar en %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, 0600);
	return fd;
}

static int open_udp(struct daemon *d)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		llv_error("socket UDP: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(d->opt->udp_device_port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		llv_error("no se puede escuchar en UDP 127.0.0.1:%u: %s", d->opt->udp_device_port, strerror(errno));
		close(fd);
		return -1;
	}
	memset(&d->udp_host, 0, sizeof(d->udp_host));
	d->udp_host.sin_family = AF_INET;
	d->udp_host.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->udp_host.sin_port = htons(d->opt->udp_host_port);
	return fd;
}

/* ---- control channel ----------------------------------------------------- */

static void ctl_reply(struct ctl_client *c, const char *msg)
{
	size_t len = strlen(msg);

	if (c->fd >= 0 && send(c->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		llv_warn("canal de control: no se pudo responder");
}

static void ctl_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void ctl_accept(struct daemon *d)
{
	int fd = accept_nb(d->ctl_fd);
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CTL; i++) {
		if (d->ctl[i].fd < 0) {
			memset(&d->ctl[i], 0, sizeof(d->ctl[i]));
			d->ctl[i].fd = fd;
			return;
		}
	}
	close(fd);
}

/* Hands a pending "touch" to the request that waits for presence. */
static void deliver_touch(struct daemon *d)
{
	int i;

	if (!d->up_waiting || d->touched)
		return;
	for (i = 0; i < MAX_CTL; i++) {
		if (d->ctl[i].fd >= 0 && d->ctl[i].wants_touch) {
			d->touched = true;
			ctl_reply(&d->ctl[i], "ok\n");
			d->ctl[i].wants_touch = false;
			llv_info("toque entregado");
			return;
		}
	}
}

static void apply_power_cycle(struct daemon *d)
{
	int i;

	ctap_auth_power_cycle(d->auth);
	ctaphid_reset(d->hid);
	/* Unplugged: hosts see their connection end and reopen the device. */
	for (i = 0; i < MAX_CONNS; i++)
		close_conn(d, i);
	d->power_cycle_pending = false;
	llv_info("ciclo de encendido");
	for (i = 0; i < MAX_CTL; i++) {
		if (d->ctl[i].fd >= 0 && d->ctl[i].wants_power_cycle) {
			ctl_reply(&d->ctl[i], "ok\n");
			d->ctl[i].wants_power_cycle = false;
		}
	}
}

static void ctl_command(struct daemon *d, struct ctl_client *c, const char *line)
{
	char buf[160];

	if (strncmp(line, "up ", 3) == 0) {
		enum vkey_up_mode m = d->up_mode;
		uint32_t t = d->up_timeout_ms;

		if (vkey_parse_up_mode(line + 3, &m, &t) != 0) {
			ctl_reply(c, "error: modo desconocido (auto, deny, wait[:MS])\n");
			return;
		}
		d->up_mode = m;
		d->up_timeout_ms = t;
		llv_info("presencia del usuario: %s", line + 3);
		ctl_reply(c, "ok\n");
	} else if (strcmp(line, "touch") == 0) {
		if (d->up_mode != VKEY_UP_WAIT) {
			ctl_reply(c, "ok\n");   /* nothing waits for a touch in auto/deny */
			return;
		}
		c->wants_touch = true;
		deliver_touch(d);
	} else if (strcmp(line, "power-cycle") == 0) {
		c->wants_power_cycle = true;
		d->power_cycle_pending = true;
		if (!ctaphid_busy(d->hid))
			apply_power_cycle(d);
	} else if (strcmp(line, "status") == 0) {
		snprintf(buf, sizeof(buf), "ok mode=%s timeout_ms=%u waiting=%d\n", mode_name(d->up_mode),
			 (unsigned)d->up_timeout_ms, d->up_waiting ? 1 : 0);
		ctl_reply(c, buf);
	} else {
		ctl_reply(c, "error: orden desconocida (up, touch, power-cycle, status)\n");
	}
}

static void ctl_read(struct daemon *d, struct ctl_client *c)
{
	ssize_t n;
	char *nl;

	n = recv(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		ctl_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	while ((nl = strchr(c->line, '\n')) != NULL) {
		size_t used = (size_t)(nl - c->line) + 1;

		*nl = '\0';
		if (nl > c->line && nl[-1] == '\r')
			nl[-1] = '\0';
		ctl_command(d, c, c->line);
		if (c->fd < 0)
			return;
		memmove(c->line, c->line + used, c->len - used + 1);
		c->len -= used;
	}
	if (c->len >= sizeof(c->line) - 1) {
		ctl_reply(c, "error: línea demasiado larga\n");
		ctl_close(c);
	}
}

/* ---- the loop ------------------------------------------------------------ */

enum { PFD_MAX = 3 + MAX_CONNS + MAX_CTL };

/* One poll() and the events it reports. Returns after the first CTAPHID
 * report: handling it may run a nested loop (user presence) that changes the
 * set of connections. */
static void pump(struct daemon *d, int timeout_ms)
{
	struct pollfd pfd[PFD_MAX];
	int kind[PFD_MAX], idx[PFD_MAX];
	int n = 0, i, k, rc, hid_to;
	enum { K_LISTEN, K_CONN, K_UDP, K_CTLL, K_CTL };

	hid_to = ctaphid_next_timeout_ms(d->hid);
	if (hid_to >= 0 && (timeout_ms < 0 || hid_to < timeout_ms))
		timeout_ms = hid_to;

	if (d->listen_fd >= 0) {
		pfd[n] = (struct pollfd){ .fd = d->listen_fd, .events = POLLIN };
		kind[n] = K_LISTEN; idx[n++] = 0;
	}
	if (d->udp_fd >= 0) {
		pfd[n] = (struct pollfd){ .fd = d->udp_fd, .events = POLLIN };
		kind[n] = K_UDP; idx[n++] = 0;
	}
	if (d->ctl_fd >= 0) {
		pfd[n] = (struct pollfd){ .fd = d->ctl_fd, .events = POLLIN };
		kind[n] = K_CTLL; idx[n++] = 0;
	}
	for (k = 0; k < MAX_CONNS; k++) {
		i = (int)((unsigned)k + d->rotate) % MAX_CONNS;
		if (d->conns[i] >= 0) {
			pfd[n] = (struct pollfd){ .fd = d->conns[i], .events = POLLIN };
			kind[n] = K_CONN; idx[n++] = i;
		}
	}
	for (i = 0; i < MAX_CTL; i++) {
		if (d->ctl[i].fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = d->ctl[i].fd, .events = POLLIN };
			kind[n] = K_CTL; idx[n++] = i;
		}
	}
	d->rotate++;

	rc = poll(pfd, (nfds_t)n, timeout_ms);
	if (rc < 0) {
		if (errno != EINTR)
			llv_error("poll: %s", strerror(errno));
		return;
	}
	ctaphid_tick(d->hid);
	if (rc == 0)
		return;
	/* Control requests first: a touch may be what a waiting request needs. */
	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (kind[k] == K_CTLL)
			ctl_accept(d);
		else if (kind[k] == K_CTL && d->ctl[idx[k]].fd == pfd[k].fd)
			ctl_read(d, &d->ctl[idx[k]]);
		else if (kind[k] == K_LISTEN)
			accept_conn(d);
	}
	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (kind[k] == K_CONN && d->conns[idx[k]] == pfd[k].fd) {
			read_conn(d, idx[k]);
			return;
		}
		if (kind[k] == K_UDP) {
			read_udp(d);
			return;
		}
	}
}

static uint8_t user_presence(void *arg)
{
	struct daemon *d = arg;
	uint64_t start, deadline, next_ka, t;
	uint8_t result;

	switch (d->up_mode) {
	case VKEY_UP_AUTO:
		llv_info("presencia del usuario: concedida (auto)");
		return CTAP2_OK;
	case VKEY_UP_DENY:
		llv_info("presencia del usuario: denegada (deny)");
		return CTAP2_ERR_OPERATION_DENIED;
	case VKEY_UP_WAIT:
		break;
	}
	if (d->up_waiting) {
		llv_error("petición de presencia anidada");
		return CTAP2_ERR_OPERATION_DENIED;
	}
	llv_info("esperando un toque (hasta %u ms)", (unsigned)d->up_timeout_ms);
	start = mono_ms();
	deadline = start + d->up_timeout_ms;
	next_ka = start;
	d->up_waiting = true;
	d->touched = false;
	deliver_touch(d);
	for (;;) {
		if (d->touched) {
			result = CTAP2_OK;
			break;
		}
		if (ctaphid_cancelled(d->hid)) {
			result = CTAP2_ERR_KEEPALIVE_CANCEL;
			break;
		}
		if (d->up_mode == VKEY_UP_AUTO) {
			result = CTAP2_OK;
			break;
		}
		if (d->up_mode == VKEY_UP_DENY) {
			result = CTAP2_ERR_OPERATION_DENIED;
			break;
		}
		t = mono_ms();
		if (t >= deadline || stop_requested) {
			result = CTAP2_ERR_USER_ACTION_TIMEOUT;
			break;
		}
		if (t >= next_ka) {
			ctaphid_keepalive(d->hid, CTAPHID_STATUS_UPNEEDED);
			next_ka = t + KEEPALIVE_MS;
		}
		t = (next_ka < deadline ? next_ka : deadline) - t;
		pump(d, (int)t);
	}
	d->up_waiting = false;
	d->touched = false;
	llv_info("presencia del usuario: resultado %02x", result);
	return result;
}

int vkey_load_state(const char *path, struct fw_state *st, struct ctap_auth *a)
{
	char err[256];
	const struct llv_buf *sec;
	struct stat sb;

	if (stat(path, &sb) != 0 && errno == ENOENT) {
		fprintf(stderr, "llavero-vkey: el estado %s no existe; créelo con «llavero-vkey init --state %s».\n"
			"llavero-vkey: state file %s does not exist; create it with llavero-vkey init.\n",
			path, path, path);
		return -1;
	}
	if (fw_state_load(st, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "llavero-vkey: el estado %s no es válido: %s. No se reinicia: "
			"corríjalo o cree otro con «llavero-vkey init --force» (se pierden las credenciales).\n"
			"llavero-vkey: state file %s is invalid and was left untouched.\n",
			path, err, path);
		return -1;
	}
	sec = fw_state_find(st, "ctap");
	if (sec == NULL) {
		fprintf(stderr, "llavero-vkey: el estado %s no tiene la sección «ctap»; no se reinicia.\n"
			"llavero-vkey: state file %s has no ctap section.\n",
			path, path);
		return -1;
	}
	if (ctap_auth_load(a, sec->data, sec->len, err, sizeof(err)) != 0) {
		fprintf(stderr, "llavero-vkey: el estado del autenticador en %s no es válido: %s. No se reinicia.\n"
			"llavero-vkey: authenticator state in %s is invalid and was left untouched.\n",
			path, err, path);
		return -1;
	}
	return 0;
}

static int load_auth(struct daemon *d)
{
	if (vkey_load_state(d->opt->state_path, &d->st, d->auth) != 0)
		return -1;
	(void)ctap_auth_take_dirty(d->auth);
	ctap_auth_power_cycle(d->auth);
	return 0;
}

int vkey_run(const struct vkey_run_options *opt)
{
	struct daemon *d;
	struct ctap_auth_callbacks acb;
	struct ctaphid_callbacks hcb;
	struct sigaction sa;
	int i, rc = VKEY_EXIT_OK;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return VKEY_EXIT_INTERNAL;
	d->opt = opt;
	d->listen_fd = d->udp_fd = d->ctl_fd = -1;
	for (i = 0; i < MAX_CONNS; i++)
		d->conns[i] = -1;
	for (i = 0; i < MAX_CTL; i++)
		d->ctl[i].fd = -1;
	d->current_src = SRC_NONE;
	d->up_mode = opt->up_mode;
	d->up_timeout_ms = opt->up_timeout_ms ? opt->up_timeout_ms : VKEY_UP_DEFAULT_TIMEOUT_MS;
	fw_state_init(&d->st, "vkey");

	memset(&acb, 0, sizeof(acb));
	acb.user_presence = user_presence;
	acb.now_ms = now_cb;
	acb.arg = d;
	d->auth = ctap_auth_new(&acb);
	memset(&hcb, 0, sizeof(hcb));
	hcb.send = hid_send;
	hcb.now_ms = now_cb;
	hcb.cbor = hid_cbor;
	hcb.msg = hid_msg;
	hcb.wink = hid_wink;
	hcb.arg = d;
	hcb.version[0] = 0;
	hcb.version[1] = 1;
	hcb.version[2] = 0;
	d->hid = ctaphid_new(&hcb);
	if (d->auth == NULL || d->hid == NULL) {
		rc = VKEY_EXIT_INTERNAL;
		goto out;
	}
	if (load_auth(d) != 0) {
		rc = VKEY_EXIT_STATE;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (vkey_ctl_path(opt->state_path, d->ctl_path, sizeof(d->ctl_path)) != 0) {
		fprintf(stderr, "llavero-vkey: la ruta del estado es demasiado larga para el socket de control %s.ctl\n",
			opt->state_path);
		rc = VKEY_EXIT_IO;
		goto out;
	}
	d->ctl_fd = listen_unix(d->ctl_path, SOCK_STREAM);
	if (d->ctl_fd < 0) {
		d->ctl_path[0] = '\0';
		rc = VKEY_EXIT_IO;
		goto out;
	}
	if (opt->socket_path != NULL) {
		d->listen_fd = listen_unix(opt->socket_path, SOCK_SEQPACKET);
		if (d->listen_fd < 0) {
			rc = VKEY_EXIT_IO;
			goto out;
		}
	}
	if (opt->udp) {
		d->udp_fd = open_udp(d);
		if (d->udp_fd < 0) {
			rc = VKEY_EXIT_IO;
			goto out;
		}
	}
	llv_info("listo: socket=%s udp=%s control=%s presencia=%s",
		 opt->socket_path ? opt->socket_path : "-", opt->udp ? "sí" : "no", d->ctl_path,
		 mode_name(d->up_mode));

	while (!stop_requested) {
		pump(d, -1);
		if (d->power_cycle_pending && !ctaphid_busy(d->hid))
			apply_power_cycle(d);
	}
	llv_info("terminando");
out:
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(opt->socket_path);
	}
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->ctl_path);
	}
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	for (i = 0; i < MAX_CONNS; i++)
		if (d->conns[i] >= 0)
			close(d->conns[i]);
	for (i = 0; i < MAX_CTL; i++)
		ctl_close(&d->ctl[i]);
	ctaphid_free(d->hid);
	ctap_auth_free(d->auth);
	fw_state_free(&d->st);
	free(d);
	return rc;
}
