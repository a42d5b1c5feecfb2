/* agent_assuan.c: the PIN dialog through a pinentry program, speaking the
 * Assuan protocol GnuPG's pinentries understand:
 *   <- OK greeting
 *   -> SETTITLE / SETDESC / SETPROMPT / SETERROR / SETOK / SETCANCEL  <- OK
 *   -> GETPIN     <- D <percent-escaped PIN>  <- OK    (or ERR 83886179 cancel)
 *   -> BYE
 * The PIN only ever sits in wiped buffers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "secmem.h"

long agent_assuan_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p == '%' || *p < 0x20 || *p == 0x7f) {
			if (o + 3 >= cap)
				return -1;
			snprintf(out + o, 4, "%%%02X", *p);
			o += 3;
		} else {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)*p;
		}
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (long)o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int agent_assuan_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
		if (hi < 0 || lo < 0)
			return -1;
		char v = (char)(hi << 4 | lo);
		if (v == '\0')
			return -1;
		*w++ = v;
		r += 2;
	}
	*w = '\0';
	return 0;
}

struct pe {
	pid_t pid;
	int in;                 /* we write */
	int out;                /* we read */
	char buf[2048];         /* may hold a PIN: wiped */
	size_t len;
	int timeout_ms;
};

/* Reads one line (without the LF) into line (size cap). 0, -1 on EOF/error,
 * -2 on timeout. */
static int pe_line(struct pe *p, char *line, size_t cap)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		char *nl = memchr(p->buf, '\n', p->len);
		if (nl) {
			size_t n = (size_t)(nl - p->buf);
			if (n >= cap)
				return -1;
			memcpy(line, p->buf, n);
			line[n] = '\0';
			memmove(p->buf, nl + 1, p->len - n - 1);
			p->len -= n + 1;
			llv_wipe(p->buf + p->len, n + 1);
			return 0;
		}
		if (p->len == sizeof(p->buf))
			return -1;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (el >= p->timeout_ms)
			return -2;
		struct pollfd pfd = { .fd = p->out, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(p->timeout_ms - el));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return -2;
		ssize_t got = read(p->out, p->buf + p->len, sizeof(p->buf) - p->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p->len += (size_t)got;
	}
}

static int pe_send(struct pe *p, const char *line)
{
	size_t n = strlen(line);
	const char *s = line;
	while (n > 0) {
		ssize_t w = write(p->in, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ERR code -> agent error: GPG_ERR_CANCELED (99) and GPG_ERR_TIMEOUT (62)
 * in any error source. */
static int map_err(const char *line)
{
	unsigned long code = strtoul(line + 3, NULL, 10);
	switch (code & 0xffff) {
	case 99:
		return AGENT_ERR_CANCELLED;
	case 62:
		return AGENT_ERR_TIMEOUT;
	default:
		llv_warn("pinentry: %s", line);
		return AGENT_ERR_INTERNAL;
	}
}

/* Waits for OK, skipping comments and status lines. */
static int pe_ok(struct pe *p)
{
	char line[1024];
	for (;;) {
		int r = pe_line(p, line, sizeof(line));
		if (r == -2)
			return AGENT_ERR_TIMEOUT;
		if (r != 0)
			return AGENT_ERR_INTERNAL;
		if (strncmp(line, "OK", 2) == 0 && (line[2] == '\0' || line[2] == ' '))
			return AGENT_OK;
		if (strncmp(line, "ERR", 3) == 0)
			return map_err(line);
		if (line[0] == '#' || strncmp(line, "S ", 2) == 0)
			continue;
		llv_warn("pinentry: unexpected line");
		return AGENT_ERR_INTERNAL;
	}
}

static int pe_cmd(struct pe *p, const char *cmd, const char *arg)
{
	size_t cap = strlen(cmd) + 3 * (arg ? strlen(arg) : 0) + 4;
	char *line = malloc(cap);
	if (!line)
		return AGENT_ERR_INTERNAL;
	size_t n = (size_t)snprintf(line, cap, "%s", cmd);
	if (arg) {
		line[n++] = ' ';
		if (agent_assuan_escape(arg, line + n, cap - n - 1) < 0) {
			free(line);
			return AGENT_ERR_INTERNAL;
		}
		n = strlen(line);
	}
	line[n++] = '\n';
	line[n] = '\0';
	int rc = pe_send(p, line) == 0 ? pe_ok(p) : AGENT_ERR_INTERNAL;
	free(line);
	return rc;
}

static int pe_spawn(struct pe *p, const char *program)
{
	int to[2], from[2];
	if (pipe(to) != 0)
		return -1;
	if (pipe(from) != 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(to[0]); close(to[1]); close(from[0]); close(from[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		/* stdout of the agent is the browser's channel: never inherit it. */
		close(to[0]); close(to[1]); close(from[0]); close(from[1]);
		execlp(program, program, (char *)NULL);
		fprintf(stderr, "llavero-agent: cannot run %s: %s\n", program, strerror(errno));
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	fcntl(to[1], F_SETFD, FD_CLOEXEC);
	fcntl(from[0], F_SETFD, FD_CLOEXEC);
	p->pid = pid;
	p->in = to[1];
	p->out = from[0];
	return 0;
}

static void pe_finish(struct pe *p)
{
	if (p->in >= 0) {
		pe_send(p, "BYE\n");
		close(p->in);
	}
	llv_wipe(p->buf, sizeof(p->buf));
	/* The read end stays open until the program is gone, so its answer to
	 * BYE does not meet a broken pipe. */
	if (p->pid > 0) {
		int st;
		bool done = false;
		for (int i = 0; i < 50 && !done; i++) {
			pid_t r = waitpid(p->pid, &st, WNOHANG);
			if (r == p->pid || r < 0) {
				done = true;
				break;
			}
			char junk[256];
			struct pollfd pfd = { .fd = p->out, .events = POLLIN };
			if (p->out >= 0 && poll(&pfd, 1, 20) > 0 && read(p->out, junk, sizeof(junk)) <= 0) {
				close(p->out);
				p->out = -1;
			} else if (p->out < 0) {
				struct timespec ts = { 0, 20 * 1000000L };
				nanosleep(&ts, NULL);
			}
		}
		if (!done) {
			kill(p->pid, SIGTERM);
			waitpid(p->pid, &st, 0);
		}
	}
	if (p->out >= 0)
		close(p->out);
}

int agent_pinentry_getpin(const char *program, int timeout_s, const struct agent_prompt *pr,
			  char *pin, size_t cap)
{
	struct pe p = { .pid = -1, .in = -1, .out = -1 };
	p.timeout_ms = (timeout_s > 0 ? timeout_s : 120) * 1000;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	if (pe_spawn(&p, program) != 0) {
		llv_error("pinentry: cannot start %s: %s", program, strerror(errno));
		signal(SIGPIPE, old);
		return AGENT_ERR_INTERNAL;
	}
	int rc = pe_ok(&p);
	if (rc == AGENT_OK && pr->title)
		rc = pe_cmd(&p, "SETTITLE", pr->title);
	if (rc == AGENT_OK && pr->desc)
		rc = pe_cmd(&p, "SETDESC", pr->desc);
	if (rc == AGENT_OK)
		rc = pe_cmd(&p, "SETPROMPT", pr->prompt ? pr->prompt : "PIN:");
	if (rc == AGENT_OK)
		rc = pe_cmd(&p, "SETOK", "Aceptar");
	if (rc == AGENT_OK)
		rc = pe_cmd(&p, "SETCANCEL", "Cancelar");
	if (rc == AGENT_OK && pr->error)
		rc = pe_cmd(&p, "SETERROR", pr->error);
	if (rc == AGENT_OK)
		rc = pe_send(&p, "GETPIN\n") == 0 ? AGENT_OK : AGENT_ERR_INTERNAL;
	bool got = false;
	char line[1024];
	while (rc == AGENT_OK) {
		int r = pe_line(&p, line, sizeof(line));
		if (r != 0) {
			rc = r == -2 ? AGENT_ERR_TIMEOUT : AGENT_ERR_INTERNAL;
			break;
		}
		if (strncmp(line, "D ", 2) == 0) {
			if (agent_assuan_unescape(line + 2) != 0 || strlen(line + 2) >= cap) {
				rc = AGENT_ERR_INTERNAL;
				break;
			}
			strcpy(pin, line + 2);
			got = true;
		} else if (strncmp(line, "OK", 2) == 0) {
			break;
		} else if (strncmp(line, "ERR", 3) == 0) {
			rc = map_err(line);
		} else if (line[0] != '#' && strncmp(line, "S ", 2) != 0) {
			rc = AGENT_ERR_INTERNAL;
		}
	}
	llv_wipe(line, sizeof(line));
	if (rc == AGENT_OK && (!got || !pin[0]))
		rc = AGENT_ERR_CANCELLED; /* an empty PIN is a refusal */
	if (rc != AGENT_OK)
		llv_wipe(pin, cap);
	pe_finish(&p);
	signal(SIGPIPE, old);
	return rc;
}
