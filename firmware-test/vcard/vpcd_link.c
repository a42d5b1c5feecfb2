/* llavero-vcard's transport: joins vpcd over TCP (reconnecting with backoff),
 * feeds the card, persists state before answering, and serves a small
 * control channel on a Unix socket. The only part of the vcard with I/O. */
#include "vpcd_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define IO_TIMEOUT_S 10
#define LOG_HEX_MAX 64

struct link {
	const struct vpcd_link_config *cfg;
	struct vcard_card *card;
	int vpcd;                 /* -1 when not connected */
	int listen_fd;            /* control socket, -1 when none */
	int sig_fd;
	bool inserted;            /* false after "remove" */
	bool stop;
	unsigned backoff_ms;
	int64_t next_try_ms;
	bool warned_unreachable;
	uint64_t apdus;           /* APDUs answered (control messages excluded) */
	uint64_t saves, save_failures, connects;
	struct llv_buf cmd;       /* the frame being read; reused, wiped after each */
	struct llv_buf resp;
	bool holding;             /* resp is an answer held back (cfg->hold_ms) */
	int64_t hold_until;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- logging with redaction ---------------------------------------------- */

static void append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	if (*pos >= outlen)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < outlen - *pos ? (size_t)n : outlen - *pos - 1;
}

static void append_hex(char *out, size_t outlen, size_t *pos, const uint8_t *d, size_t n)
{
	size_t shown = n > LOG_HEX_MAX ? LOG_HEX_MAX : n;
	for (size_t i = 0; i < shown; i++)
		append(out, outlen, pos, "%02X", d[i]);
	if (shown < n)
		append(out, outlen, pos, "...(%zu bytes)", n);
}

static bool command_data_secret(const uint8_t *a, size_t len)
{
	if (len < 4)
		return false;
	switch (a[1]) {
	case 0x20:   /* VERIFY */
	case 0x24:   /* CHANGE REFERENCE DATA */
	case 0x2C:   /* RESET RETRY COUNTER */
	case 0xFE:   /* YubiKey IMPORT ASYMMETRIC KEY */
	case 0xFF:   /* YubiKey SET MANAGEMENT KEY */
		return true;
	case 0x87:   /* GENERAL AUTHENTICATE with the management key */
		return a[3] == 0x9B;
	default:
		return false;
	}
}

static bool response_data_secret(const uint8_t *cmd, size_t len)
{
	if (len < 4)
		return false;
	/* Management-key witnesses/challenges and key-agreement results. */
	return cmd[1] == 0x87 && (cmd[3] == 0x9B || cmd[3] == 0x9D);
}

void vpcd_link_format_command(const uint8_t *a, size_t len, char *out, size_t outlen)
{
	size_t pos = 0;
	out[0] = '\0';
	if (len < 4) {
		append(out, outlen, &pos, "> ");
		append_hex(out, outlen, &pos, a, len);
		return;
	}
	append(out, outlen, &pos, "> %02X %02X %02X %02X", a[0], a[1], a[2], a[3]);
	if (len == 4)
		return;
	if (command_data_secret(a, len)) {
		append(out, outlen, &pos, " [%zu bytes redacted]", len - 4);
		return;
	}
	append(out, outlen, &pos, " ");
	append_hex(out, outlen, &pos, a + 4, len - 4);
}

void vpcd_link_format_response(const uint8_t *cmd, size_t cmdlen, const uint8_t *r,
			       size_t rlen, char *out, size_t outlen)
{
	size_t pos = 0;
	out[0] = '\0';
	if (rlen < 2) {
		append(out, outlen, &pos, "< (malformed)");
		return;
	}
	append(out, outlen, &pos, "< %02X%02X", r[rlen - 2], r[rlen - 1]);
	if (rlen == 2)
		return;
	if (response_data_secret(cmd, cmdlen)) {
		append(out, outlen, &pos, " [%zu bytes redacted]", rlen - 2);
		return;
	}
	append(out, outlen, &pos, " ");
	append_hex(out, outlen, &pos, r, rlen - 2);
}

/* ---- vpcd framing --------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= (size_t)r;
#ifdef TCP_QUICKACK
		/* vpcd (libifdvpcd) writes the 2-byte length and the APDU in two
		 * send() calls without TCP_NODELAY: Nagle holds the APDU until the
		 * length is acknowledged, and Linux delays that ACK by up to 40 ms.
		 * Acknowledging at once takes ~40 ms off every APDU. QUICKACK is
		 * not sticky, so it is set again after each read. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#endif
	}
	return 0;
}

/* Header and payload in one sendmsg, so vpcd reads the frame in one go,
 * without copying the (possibly secret) answer into a scratch buffer. */
static int send_frame(int fd, const uint8_t *p, size_t n)
{
	uint8_t hdr[2];
	if (n > 0xFFFF) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr[0] = (uint8_t)(n >> 8);
	hdr[1] = (uint8_t)n;
	struct iovec iov[2] = { { hdr, 2 }, { (void *)p, n } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = n + 2;
	while (left > 0) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		left -= (size_t)w;
		/* A short send: move past what went out. */
		for (size_t k = (size_t)w; k > 0;) {
			size_t step = k < mh.msg_iov->iov_len ? k : mh.msg_iov->iov_len;
			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + step;
			mh.msg_iov->iov_len -= step;
			k -= step;
			if (mh.msg_iov->iov_len == 0) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}

static void disconnect(struct link *l, const char *why)
{
	if (l->vpcd >= 0) {
		close(l->vpcd);
		l->vpcd = -1;
		llv_info("desconectado de vpcd (%s)", why);
	}
	/* A card out of the reader has no power; a held answer is lost. */
	vcard_card_power_off(l->card);
	l->holding = false;
	llv_buf_clear(&l->resp);
	l->backoff_ms = BACKOFF_MIN_MS;
	l->next_try_ms = now_ms() + l->backoff_ms;
}

static void try_connect(struct link *l)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		llv_error("socket: %s", strerror(errno));
		goto retry;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(l->cfg->port);
	if (inet_pton(AF_INET, l->cfg->host, &sa.sin_addr) != 1) {
		llv_error("dirección de vpcd inválida: %s", l->cfg->host);
		close(fd);
		goto retry;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (!l->warned_unreachable) {
			llv_info("vpcd no responde en %s:%u (%s); reintentando",
				 l->cfg->host, (unsigned)l->cfg->port, strerror(errno));
			l->warned_unreachable = true;
		}
		close(fd);
		goto retry;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	l->vpcd = fd;
	l->connects++;
	l->warned_unreachable = false;
	l->backoff_ms = BACKOFF_MIN_MS;
	llv_info("conectado a vpcd en %s:%u", l->cfg->host, (unsigned)l->cfg->port);
	return;
retry:
	l->next_try_ms = now_ms() + l->backoff_ms;
	l->backoff_ms *= 2;
	if (l->backoff_ms > BACKOFF_MAX_MS)
		l->backoff_ms = BACKOFF_MAX_MS;
}

static void handle_apdu(struct link *l, const uint8_t *cmd, size_t len)
{
	char line[512];

	l->apdus++;
	if (l->cfg->verbose) {
		vpcd_link_format_command(cmd, len, line, sizeof(line));
		fprintf(stderr, "llavero-vcard: %s\n", line);
	}
	vcard_card_transmit(l->card, cmd, len, &l->resp);
	if (!llv_buf_ok(&l->resp) || l->resp.len < 2) {
		llv_buf_free(&l->resp);
		llv_buf_init_secret(&l->resp);
		llv_buf_put_be16(&l->resp, SW_UNKNOWN);
	}
	/* Commit to "EEPROM" before answering. */
	if (vcard_card_take_dirty(l->card) && l->cfg->persist) {
		if (l->cfg->persist(l->cfg->persist_ctx) == 0) {
			l->saves++;
		} else {
			l->save_failures++;
			llv_buf_clear(&l->resp);
			llv_buf_put_be16(&l->resp, SW_MEMORY_FAILURE);
		}
	}
	if (l->cfg->verbose) {
		vpcd_link_format_response(cmd, len, l->resp.data, l->resp.len, line, sizeof(line));
		fprintf(stderr, "llavero-vcard: %s\n", line);
	}
	if (l->cfg->hold_ms != NULL) {
		unsigned ms = l->cfg->hold_ms(l->cfg->hold_ctx, cmd, len);

		if (ms > 0) {
			l->holding = true;
			l->hold_until = now_ms() + ms;
			return;   /* sent by send_held() */
		}
	}
	if (send_frame(l->vpcd, l->resp.data, l->resp.len) != 0)
		disconnect(l, strerror(errno));
	llv_buf_clear(&l->resp);
}

/* Sends the held answer once its time has come (test hook, see hold_ms). */
static void send_held(struct link *l)
{
	if (!l->holding || now_ms() < l->hold_until)
		return;
	l->holding = false;
	if (l->vpcd >= 0 && send_frame(l->vpcd, l->resp.data, l->resp.len) != 0)
		disconnect(l, strerror(errno));
	llv_buf_clear(&l->resp);
}

static void handle_vpcd(struct link *l)
{
	uint8_t hdr[2];
	uint8_t *msg;
	size_t len;

	if (read_all(l->vpcd, hdr, 2) != 0) {
		disconnect(l, errno == ECONNRESET ? "vpcd cerró la conexión" : strerror(errno));
		return;
	}
	len = ((size_t)hdr[0] << 8) | hdr[1];
	/* The command may carry a PIN or a key: read it into the link's secret
	 * buffer (kept between APDUs, wiped after each) rather than the heap. */
	llv_buf_clear(&l->cmd);
	if (!llv_buf_reserve(&l->cmd, len ? len : 1)) {
		disconnect(l, "sin memoria");
		return;
	}
	l->cmd.len = len;
	msg = l->cmd.data;
	if (read_all(l->vpcd, msg, len) != 0) {
		llv_buf_clear(&l->cmd);
		disconnect(l, "mensaje incompleto");
		return;
	}
	if (len == 1) {
		switch (msg[0]) {
		case VPCD_CTRL_OFF:
			if (l->cfg->verbose)
				fprintf(stderr, "llavero-vcard: power off\n");
			vcard_card_power_off(l->card);
			break;
		case VPCD_CTRL_ON:
			if (l->cfg->verbose)
				fprintf(stderr, "llavero-vcard: power on\n");
			vcard_card_power_on(l->card);
			break;
		case VPCD_CTRL_RESET:
			if (l->cfg->verbose)
				fprintf(stderr, "llavero-vcard: reset\n");
			vcard_card_reset(l->card);
			break;
		case VPCD_CTRL_ATR:
			if (send_frame(l->vpcd, vcard_atr, sizeof(vcard_atr)) != 0)
				disconnect(l, strerror(errno));
			break;
		default:
			llv_warn("mensaje de control de vpcd desconocido: %u", (unsigned)msg[0]);
			break;
		}
	} else {
		handle_apdu(l, msg, len);
	}
	llv_buf_clear(&l->cmd);
}

/* ---- control channel ------------------------------------------------------ */

static int ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	if (ctl_addr(path, &sa) != 0) {
		llv_error("la ruta del canal de control es demasiado larga: %s", path);
		return -1;
	}
	/* Refuse to run twice on one state file; clean up after a crash. */
	char reply[64];
	if (vpcd_link_control(path, "ping", reply, sizeof(reply)) == 0) {
		llv_error("ya hay un llavero-vcard en ejecución con este estado (%s)", path);
		return -1;
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		llv_error("socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || listen(fd, 8) != 0) {
		llv_error("no se pudo abrir el canal de control %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void handle_ctl(struct link *l)
{
	char cmd[64];
	char reply[256];
	size_t n = 0;
	int fd = accept(l->listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < sizeof(cmd) - 1) {
		ssize_t r = recv(fd, cmd + n, 1, 0);
		if (r <= 0 || cmd[n] == '\n')
			break;
		n++;
	}
	cmd[n] = '\0';

	if (strcmp(cmd, "remove") == 0) {
		l->inserted = false;
		disconnect(l, "tarjeta retirada");
		snprintf(reply, sizeof(reply), "ok removed");
	} else if (strcmp(cmd, "insert") == 0) {
		if (!l->inserted) {
			l->inserted = true;
			l->backoff_ms = BACKOFF_MIN_MS;
			l->next_try_ms = now_ms();
		}
		snprintf(reply, sizeof(reply), "ok inserted");
	} else if (strcmp(cmd, "stats") == 0) {
		snprintf(reply, sizeof(reply),
			 "apdus=%llu inserted=%d connected=%d connects=%llu saves=%llu save_failures=%llu power_cycles=%llu",
			 (unsigned long long)l->apdus, l->inserted ? 1 : 0, l->vpcd >= 0 ? 1 : 0,
			 (unsigned long long)l->connects, (unsigned long long)l->saves,
			 (unsigned long long)l->save_failures,
			 (unsigned long long)l->card->power_cycles);
	} else if (strcmp(cmd, "ping") == 0) {
		snprintf(reply, sizeof(reply), "ok pid=%ld", (long)getpid());
	} else if (strcmp(cmd, "stop") == 0) {
		l->stop = true;
		snprintf(reply, sizeof(reply), "ok stopping");
	} else {
		snprintf(reply, sizeof(reply), "error unknown command");
	}
	size_t rl = strlen(reply);
	reply[rl++] = '\n';
	(void)write_all(fd, (const uint8_t *)reply, rl);
	close(fd);
}

int vpcd_link_control(const char *ctl_path, const char *command, char *reply, size_t replylen)
{
	struct sockaddr_un sa;
	char buf[256];
	size_t n = 0;

	if (replylen)
		reply[0] = '\0';
	if (ctl_addr(ctl_path, &sa) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", command);
	if (write_all(fd, (const uint8_t *)buf, strlen(buf)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	while (n < sizeof(buf) - 1) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl == NULL) {
		errno = EPROTO;
		return -1;
	}
	*nl = '\0';
	if (replylen)
		snprintf(reply, replylen, "%s", buf);
	return 0;
}

/* ---- main loop ------------------------------------------------------------ */

int vpcd_link_run(const struct vpcd_link_config *cfg, struct vcard_card *card)
{
	struct link l;
	sigset_t mask;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.card = card;
	l.vpcd = -1;
	l.listen_fd = -1;
	l.inserted = true;
	l.backoff_ms = BACKOFF_MIN_MS;
	l.next_try_ms = now_ms();
	llv_buf_init_secret(&l.cmd);
	llv_buf_init_secret(&l.resp);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (l.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		llv_error("signalfd: %s", strerror(errno));
		return -1;
	}
	if (cfg->ctl_path) {
		l.listen_fd = ctl_listen(cfg->ctl_path);
		if (l.listen_fd < 0) {
			close(l.sig_fd);
			return -1;
		}
	}
	vcard_card_power_off(card);

	while (!l.stop) {
		if (l.inserted && l.vpcd < 0 && now_ms() >= l.next_try_ms)
			try_connect(&l);

		struct pollfd pfd[3];
		int n = 0, i_sig, i_ctl = -1, i_vpcd = -1;
		pfd[n].fd = l.sig_fd;
		pfd[n].events = POLLIN;
		i_sig = n++;
		if (l.listen_fd >= 0) {
			pfd[n].fd = l.listen_fd;
			pfd[n].events = POLLIN;
			i_ctl = n++;
		}
		send_held(&l);
		if (l.vpcd >= 0 && !l.holding) {
			pfd[n].fd = l.vpcd;
			pfd[n].events = POLLIN;
			i_vpcd = n++;
		}
		int timeout = -1;
		if (l.inserted && l.vpcd < 0) {
			int64_t wait = l.next_try_ms - now_ms();
			timeout = wait < 0 ? 0 : (int)wait;
		}
		if (l.holding) {
			int64_t wait = l.hold_until - now_ms();
			timeout = wait < 0 ? 0 : (int)wait;
		}
		int rc = poll(pfd, (nfds_t)n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			llv_error("poll: %s", strerror(errno));
			break;
		}
		if (pfd[i_sig].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(l.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				llv_info("señal %u recibida; terminando", (unsigned)si.ssi_signo);
			l.stop = true;
			break;
		}
		if (i_vpcd >= 0 && (pfd[i_vpcd].revents & (POLLIN | POLLHUP | POLLERR)))
			handle_vpcd(&l);
		if (i_ctl >= 0 && (pfd[i_ctl].revents & POLLIN))
			handle_ctl(&l);
	}

	if (l.vpcd >= 0)
		close(l.vpcd);
	if (l.listen_fd >= 0) {
		close(l.listen_fd);
		unlink(cfg->ctl_path);
	}
	close(l.sig_fd);
	llv_buf_free(&l.cmd);
	llv_buf_free(&l.resp);
	return 0;
}
