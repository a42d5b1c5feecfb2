/* llavero-agent-kiosk: kiosk mode of llavero-agent (agent_kiosk.c), a
 * program of its own so that the native messaging host does not load
 * libmicrohttpd (and GnuTLS through it) and pcsclite at every start.
 * `llavero-agent --kiosk [--port N]` runs it; so does the systemd user unit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agent_kiosk.h"
#include "log.h"

int main(int argc, char **argv)
{
	llv_log_init("llavero-agent");
	int port = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			char *end = NULL;
			long p = strtol(argv[++i], &end, 10);
			if (!end || *end || p < 0 || p > 65535) {
				fprintf(stderr, "llavero-agent: --port fuera de rango\n");
				return 2;
			}
			port = (int)p;
		} else if (strcmp(argv[i], "--kiosk") == 0) {
			continue;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("llavero-agent-kiosk %s\n", LLAVERO_VERSION);
			return 0;
		} else {
			fprintf(stderr, "uso: llavero-agent-kiosk [--port N]\n");
			return 2;
		}
	}
	openlog("llavero-agent", LOG_PID, LOG_USER);
	int rc = agent_kiosk_run(port);
	closelog();
	return rc;
}
