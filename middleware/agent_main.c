/* llavero-agent: the native messaging host. The browser starts one process
 * per connection; requests are answered one at a time until stdin ends. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/stat.h>

#include "agent.h"
#include "log.h"

#ifndef LLAVERO_KIOSK_PATH
#define LLAVERO_KIOSK_PATH "/usr/libexec/llavero/llavero-agent-kiosk"
#endif

/* Kiosk mode is its own program (libmicrohttpd and pcsclite stay out of the
 * native messaging host, which a browser starts for every connection): the
 * one beside this executable (build tree), else the installed one. */
static int exec_kiosk(int port)
{
	char self[4096], path[4200], portarg[16];
	const char *prog = LLAVERO_KIOSK_PATH;
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		self[l] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/llavero-agent-kiosk", self);
			if (access(path, X_OK) == 0)
				prog = path;
		}
	}
	snprintf(portarg, sizeof(portarg), "%d", port);
	if (port >= 0)
		execl(prog, "llavero-agent-kiosk", "--port", portarg, (char *)NULL);
	else
		execl(prog, "llavero-agent-kiosk", (char *)NULL);
	fprintf(stderr, "llavero-agent: no se pudo iniciar %s (modo quiosco)\n", prog);
	return 1;
}

int main(int argc, char **argv)
{
	llv_log_init("llavero-agent");
	if (argc > 1 && (strcmp(argv[1], "--version") == 0)) {
		printf("llavero-agent %s\n", LLAVERO_VERSION);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("uso: llavero-agent [--kiosk [--port N]]\n"
		       "  Anfitrión de mensajería nativa de Llavero: el navegador lo inicia y le habla\n"
		       "  por stdin/stdout (middleware/PROTOCOL.md). Configuración: /etc/llavero/agent.conf\n"
		       "  y ~/.config/llavero/agent.conf.\n"
		       "  --kiosk: modo quiosco, las mismas órdenes por HTTP en 127.0.0.1 (POST /v1/ORDEN),\n"
		       "  con el secreto de emparejamiento de $XDG_RUNTIME_DIR/llavero/kiosk-secret;\n"
		       "  también con «kiosk = true» si no lo inició un navegador. --port N (0: libre).\n");
		return 0;
	}
	int kiosk_port = -1;
	bool kiosk = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kiosk") == 0)
			kiosk = true;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			kiosk_port = atoi(argv[++i]);
	}
	if (kiosk && (kiosk_port < -1 || kiosk_port > 65535)) {
		fprintf(stderr, "llavero-agent: --port fuera de rango\n");
		return 2;
	}
	if (!kiosk && argc == 1) {
		/* `kiosk = true` in the configuration, when no browser started us
		 * (browsers give an argument and a pipe on stdin). */
		struct stat st;
		struct agent_config c;
		if (fstat(STDIN_FILENO, &st) == 0 && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) &&
		    agent_config_load(&c) == 0) {
			kiosk = c.kiosk;
			agent_config_free(&c);
		}
	}
	if (kiosk)
		return exec_kiosk(kiosk_port);
	/* Chromium passes the caller's origin (chrome-extension://ID/) and, on
	 * some platforms, --parent-window; Firefox the manifest path and the
	 * extension ID. Neither matters: the page origin comes in each request. */
	openlog("llavero-agent", LOG_PID, LOG_USER);

	/* stdout is the browser's channel: keep a private copy and point fd 1 at
	 * stderr, so nothing a library prints can corrupt a frame. */
	int out = dup(STDOUT_FILENO);
	if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		llv_error("cannot set up the output channel");
		return 1;
	}
	fcntl(out, F_SETFD, FD_CLOEXEC);

	struct agent_ctx a;
	agent_ctx_init(&a);
	if (agent_config_load(&a.cfg) != 0) {
		llv_error("cannot load the configuration");
		return 1;
	}
	int in = STDIN_FILENO, status = 0;
	for (;;) {
		char *body = NULL;
		size_t len = 0;
		uint32_t declared = 0;
		int fr = agent_frame_read(agent_fd_read, &in, AGENT_MAX_IN, &body, &len, &declared);
		if (fr == AGENT_FRAME_EOF)
			break;
		if (fr == AGENT_FRAME_TRUNCATED || fr == AGENT_FRAME_IO) {
			llv_warn("input ended inside a message");
			status = 1;
			break;
		}
		char *resp;
		if (fr == AGENT_FRAME_TOO_BIG) {
			char msg[96];
			snprintf(msg, sizeof(msg), "Mensaje de %u bytes; el máximo es %u", declared,
				 AGENT_MAX_IN);
			json_t *e = agent_error_json(AGENT_ERR_BAD_ARG, msg, -1);
			resp = e ? json_dumps(e, JSON_COMPACT) : NULL;
			json_decref(e);
		} else {
			resp = agent_handle(&a, body, len);
		}
		free(body);
		int w = resp ? agent_frame_write(out, resp, strlen(resp)) : -1;
		free(resp);
		if (w != 0) {
			status = 1;
			break;
		}
	}
	agent_ctx_clear(&a);
	closelog();
	return status;
}
