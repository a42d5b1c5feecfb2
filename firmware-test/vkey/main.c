/* llavero-vkey: a simulated CTAP 2.1 security key. See usage() below. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "log.h"
#include "fw_state.h"
#include "ctap_authenticator.h"
#include "vkey_daemon.h"

static void usage(FILE *f)
{
	fputs(
"Uso: llavero-vkey ORDEN --state ARCHIVO [opciones]\n"
"Llave de seguridad FIDO2 simulada (CTAP 2.1 + U2F) para pruebas.\n"
"\n"
"Órdenes:\n"
"  init --state F [--force]     crea un estado nuevo (secreto del dispositivo,\n"
"                               AAGUID, CA de atestación, sin PIN ni credenciales);\n"
"                               --force reemplaza uno existente\n"
"  run --state F [--socket RUTA] [--udp] [--udp-ports DISP:HOST]\n"
"      [--up auto|deny|wait[:MS]] [-v]\n"
"                               atiende CTAPHID en un socket Unix SOCK_SEQPACKET\n"
"                               (un reporte de 64 bytes por mensaje) y/o por UDP\n"
"                               (escucha 127.0.0.1:8111, responde a 127.0.0.1:7112);\n"
"                               -v registra las tramas (sin material de PIN)\n"
"  attestation-ca --state F     imprime la CA de atestación en PEM\n"
"  up --state F auto|deny|wait[:MS]|touch|status\n"
"                               cambia la presencia del usuario del proceso en marcha;\n"
"                               touch espera (hasta --timeout MS, 10000 por omisión)\n"
"                               a que una petición pida presencia y la concede\n"
"  power-cycle --state F        simula desconectar y conectar la llave (nueva ventana\n"
"                               de 10 s para reset, olvida tokens de PIN y canales)\n"
"\n"
"Presencia del usuario (--up): auto concede al instante (omisión), deny la niega\n"
"(CTAP2_ERR_OPERATION_DENIED), wait espera un «up touch» (30000 ms o MS) enviando\n"
"KEEPALIVE UPNEEDED cada 100 ms; CTAPHID_CANCEL da CTAP2_ERR_KEEPALIVE_CANCEL.\n"
"Canal de control: socket Unix ARCHIVO.ctl, una línea por orden.\n"
"\n"
"Códigos de salida: 0 bien; 1 uso incorrecto; 2 estado inexistente, dañado,\n"
"ya existente o imposible de guardar; 3 error de socket (ruta en uso, puerto\n"
"ocupado); 4 ningún llavero-vkey responde en ARCHIVO.ctl, o rechazó la orden o\n"
"venció el plazo; 5 error interno.\n"
"\n"
"Usage: llavero-vkey init|run|attestation-ca|up|power-cycle --state FILE ...\n"
"Exit codes: 0 ok, 1 usage, 2 state, 3 socket, 4 control channel, 5 internal.\n",
	f);
}

static uint8_t no_presence(void *arg)
{
	(void)arg;
	return 0x27;
}

static uint64_t mono_now(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct ctap_auth *new_auth(void)
{
	struct ctap_auth_callbacks cb = { .user_presence = no_presence, .now_ms = mono_now, .arg = NULL };

	return ctap_auth_new(&cb);
}

static int cmd_init(const char *state, bool force)
{
	struct ctap_auth *a;
	struct fw_state st;
	struct llv_buf *sec;
	struct stat sb;
	int rc = VKEY_EXIT_OK;

	if (!force && stat(state, &sb) == 0) {
		fprintf(stderr, "llavero-vkey: %s ya existe; no se sobrescribe (use --force).\n"
			"llavero-vkey: %s already exists (use --force).\n", state, state);
		return VKEY_EXIT_STATE;
	}
	a = new_auth();
	if (a == NULL)
		return VKEY_EXIT_INTERNAL;
	if (ctap_auth_init_fresh(a) != 0) {
		fprintf(stderr, "llavero-vkey: no se pudo crear el autenticador.\n");
		ctap_auth_free(a);
		return VKEY_EXIT_INTERNAL;
	}
	fw_state_init(&st, "vkey");
	sec = fw_state_section(&st, "ctap");
	if (sec == NULL || ctap_auth_save(a, sec) != 0 || !llv_buf_ok(sec)) {
		fprintf(stderr, "llavero-vkey: no se pudo serializar el estado.\n");
		rc = VKEY_EXIT_INTERNAL;
	} else if (fw_state_save(&st, state) != 0) {
		fprintf(stderr, "llavero-vkey: no se pudo guardar %s: %s\n", state, strerror(errno));
		rc = VKEY_EXIT_STATE;
	}
	fw_state_free(&st);
	ctap_auth_free(a);
	return rc;
}

static int load_for_reading(const char *state, struct ctap_auth **out)
{
	struct fw_state st;
	struct ctap_auth *a = new_auth();
	int rc = VKEY_EXIT_OK;

	if (a == NULL)
		return VKEY_EXIT_INTERNAL;
	fw_state_init(&st, "vkey");
	if (vkey_load_state(state, &st, a) != 0) {
		ctap_auth_free(a);
		rc = VKEY_EXIT_STATE;
	} else {
		*out = a;
	}
	fw_state_free(&st);
	return rc;
}

static int cmd_attestation_ca(const char *state)
{
	struct ctap_auth *a = NULL;
	const uint8_t *der, *p;
	size_t len = 0;
	X509 *x;
	int rc = load_for_reading(state, &a);

	if (rc != VKEY_EXIT_OK)
		return rc;
	der = ctap_auth_attestation_ca(a, &len);
	p = der;
	x = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
	if (x == NULL || PEM_write_X509(stdout, x) != 1) {
		fprintf(stderr, "llavero-vkey: el estado no contiene una CA de atestación legible.\n");
		rc = VKEY_EXIT_INTERNAL;
	}
	X509_free(x);
	ctap_auth_free(a);
	return rc;
}

/* Sends one line to STATE.ctl and waits for the one-line answer. */
static int ctl_request(const char *state, const char *line, int timeout_ms)
{
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path)];
	char reply[256];
	size_t got = 0;
	int fd;
	struct pollfd pfd;

	if (vkey_ctl_path(state, path, sizeof(path)) != 0) {
		fprintf(stderr, "llavero-vkey: ruta de estado demasiado larga.\n");
		return VKEY_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "llavero-vkey: ningún llavero-vkey en marcha responde en %s (%s).\n"
			"llavero-vkey: no running llavero-vkey at %s.\n", path, strerror(errno), path);
		if (fd >= 0)
			close(fd);
		return VKEY_EXIT_CTL;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line) ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "llavero-vkey: no se pudo enviar la orden: %s\n", strerror(errno));
		close(fd);
		return VKEY_EXIT_CTL;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < sizeof(reply) - 1) {
		ssize_t n;
		int prc = poll(&pfd, 1, timeout_ms);

		if (prc == 0) {
			fprintf(stderr, "llavero-vkey: sin respuesta en %d ms (¿ninguna petición esperaba un toque?).\n"
				"llavero-vkey: timed out.\n", timeout_ms);
			close(fd);
			return VKEY_EXIT_CTL;
		}
		if (prc < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(reply, '\n', got) != NULL)
			break;
	}
	close(fd);
	reply[got] = '\0';
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "llavero-vkey: %s", got ? reply : "el proceso cerró el canal sin responder\n");
		return VKEY_EXIT_CTL;
	}
	if (strncmp(line, "status", 6) == 0)
		fputs(reply + 3, stdout);
	return VKEY_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 'S' },
		{ "udp", no_argument, NULL, 'u' },
		{ "udp-ports", required_argument, NULL, 'P' },
		{ "up", required_argument, NULL, 'U' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vkey_run_options ro;
	const char *cmd;
	bool force = false;
	int c, timeout_ms = 10000;

	llv_log_init("llavero-vkey");
	memset(&ro, 0, sizeof(ro));
	ro.udp_device_port = VKEY_UDP_DEVICE_PORT;
	ro.udp_host_port = VKEY_UDP_HOST_PORT;
	ro.up_mode = VKEY_UP_AUTO;
	ro.up_timeout_ms = VKEY_UP_DEFAULT_TIMEOUT_MS;

	if (argc < 2) {
		usage(stderr);
		return VKEY_EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return VKEY_EXIT_OK;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': ro.state_path = optarg; break;
		case 'f': force = true; break;
		case 'S': ro.socket_path = optarg; break;
		case 'u': ro.udp = true; break;
		case 'P': {
			unsigned dp, hp;
			char extra;

			if (sscanf(optarg, "%u:%u%c", &dp, &hp, &extra) != 2 || dp == 0 || dp > 65535 ||
			    hp == 0 || hp > 65535) {
				fprintf(stderr, "llavero-vkey: --udp-ports espera DISPOSITIVO:HOST, p. ej. 8111:7112\n");
				return VKEY_EXIT_USAGE;
			}
			ro.udp_device_port = (uint16_t)dp;
			ro.udp_host_port = (uint16_t)hp;
			ro.udp = true;
			break;
		}
		case 'U':
			if (vkey_parse_up_mode(optarg, &ro.up_mode, &ro.up_timeout_ms) != 0) {
				fprintf(stderr, "llavero-vkey: --up espera auto, deny o wait[:MS]\n");
				return VKEY_EXIT_USAGE;
			}
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end != '\0' || v <= 0 || v > 3600000) {
				fprintf(stderr, "llavero-vkey: --timeout espera milisegundos\n");
				return VKEY_EXIT_USAGE;
			}
			timeout_ms = (int)v;
			break;
		}
		case 'v': ro.verbose = true; break;
		case 'h': usage(stdout); return VKEY_EXIT_OK;
		default: usage(stderr); return VKEY_EXIT_USAGE;
		}
	}
	if (ro.state_path == NULL) {
		fprintf(stderr, "llavero-vkey: falta --state ARCHIVO\n");
		usage(stderr);
		return VKEY_EXIT_USAGE;
	}

	if (strcmp(cmd, "init") == 0) {
		if (optind != argc)
			goto extra;
		return cmd_init(ro.state_path, force);
	}
	if (strcmp(cmd, "run") == 0) {
		if (optind != argc)
			goto extra;
		if (ro.verbose)
			llv_log_set_level(LLV_LOG_DEBUG);
		if (ro.socket_path == NULL && !ro.udp)
			fprintf(stderr, "llavero-vkey: aviso: sin --socket ni --udp solo hay canal de control\n");
		return vkey_run(&ro);
	}
	if (strcmp(cmd, "attestation-ca") == 0) {
		if (optind != argc)
			goto extra;
		return cmd_attestation_ca(ro.state_path);
	}
	if (strcmp(cmd, "up") == 0) {
		enum vkey_up_mode m;
		uint32_t t;
		char line[64];
		const char *what;

		if (optind + 1 != argc) {
			fprintf(stderr, "llavero-vkey: up espera auto, deny, wait[:MS], touch o status\n");
			return VKEY_EXIT_USAGE;
		}
		what = argv[optind];
		if (strcmp(what, "touch") == 0 || strcmp(what, "status") == 0)
			return ctl_request(ro.state_path, what, timeout_ms);
		if (vkey_parse_up_mode(what, &m, &t) != 0) {
			fprintf(stderr, "llavero-vkey: up espera auto, deny, wait[:MS], touch o status\n");
			return VKEY_EXIT_USAGE;
		}
		snprintf(line, sizeof(line), "up %s", what);
		return ctl_request(ro.state_path, line, timeout_ms);
	}
	if (strcmp(cmd, "power-cycle") == 0) {
		if (optind != argc)
			goto extra;
		return ctl_request(ro.state_path, "power-cycle", timeout_ms);
	}
	fprintf(stderr, "llavero-vkey: orden desconocida «%s»\n", cmd);
	usage(stderr);
	return VKEY_EXIT_USAGE;
extra:
	fprintf(stderr, "llavero-vkey: argumento de más «%s»\n", argv[optind]);
	return VKEY_EXIT_USAGE;
}
