/* agent_kiosk.c: kiosk mode (`llavero-agent --kiosk`, or `kiosk = true`).
 * The native-messaging commands as POST /v1/<command> with the arguments as
 * the JSON body, served by libmicrohttpd on 127.0.0.1 only:
 *
 *   - Host must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding): 403
 *   - Origin, when sent, must be one of the `kiosk-origin` lines: 403; it is
 *     the operation's origin (a page cannot choose another); without Origin
 *     (a kiosk app) arguments.origin must be one of them
 *   - X-Llavero-Secret must be the per-boot pairing secret, 32 random bytes
 *     in hex written to $XDG_RUNTIME_DIR/llavero/kiosk-secret (0600, in a
 *     0700 directory; a new one at every start): 401
 *   - bodies up to AGENT_MAX_IN (413); answers are the agent's JSON
 *   - a successful card operation opens a session (X-Llavero-Session in the
 *     answer); pulling the card ends it and wipes every cache (the PKCS#11
 *     modules are finalized and unloaded, the last error text wiped); a
 *     request naming an ended session gets 409 session-ended
 *   - POST /v1/session: {session, cardPresent, sessionsEnded, wipes}
 * CORS preflights from allowed origins are answered (POST, the two headers,
 * Private Network Access). Requests are served one at a time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "agent_kiosk.h"
#include "atomic_file.h"
#include "buf.h"
#include "hex.h"
#include "log.h"
#include "secmem.h"

static struct agent_kiosk K;
static char secret_path[1024];
static char port_path[1024];

struct conn {
	struct llv_buf body;
	bool too_big;
};

/* ---- sessions and the card ------------------------------------------------ */

static void wipe_locked(struct agent_kiosk *k)
{
	agent_p11_close(k->a.p11);
	k->a.p11 = NULL;
	llv_wipe(k->a.detail, sizeof(k->a.detail));
	k->a.retries_left = -1;
	k->wipes++;
}

void agent_kiosk_card_removed(struct agent_kiosk *k)
{
	pthread_mutex_lock(&k->lock);
	if (k->session[0]) {
		k->sessions_ended++;
		syslog(LOG_INFO, "kiosk: the card left the reader: session ended, caches wiped");
		llv_info("kiosk: la tarjeta salió del lector: sesión terminada");
	}
	llv_wipe(k->session, sizeof(k->session));
	wipe_locked(k);
	pthread_mutex_unlock(&k->lock);
}

void agent_kiosk_card_state(struct agent_kiosk *k, bool present)
{
	pthread_mutex_lock(&k->lock);
	k->card_present = present;
	pthread_mutex_unlock(&k->lock);
}

/* ---- HTTP ---------------------------------------------------------------- */

static bool kiosk_origin_ok(const char *origin)
{
	for (size_t i = 0; i < K.a.cfg.n_kiosk_origins; i++)
		if (strcmp(K.a.cfg.kiosk_origins[i], origin) == 0)
			return true;
	return false;
}

static bool host_ok(const char *host)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "127.0.0.1:%u", K.port);
	snprintf(b, sizeof(b), "localhost:%u", K.port);
	return host && (strcmp(host, a) == 0 || strcasecmp(host, b) == 0);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *json,
			     const char *origin, const char *session)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (origin) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(r, "Vary", "Origin");
		MHD_add_response_header(r, "Access-Control-Expose-Headers", AGENT_KIOSK_SESSION_HEADER);
	}
	if (session && *session)
		MHD_add_response_header(r, AGENT_KIOSK_SESSION_HEADER, session);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *code,
			      const char *msg, const char *origin)
{
	json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	enum MHD_Result r = reply(c, status, t ? t : "{}", origin, NULL);
	free(t);
	return r;
}

static enum MHD_Result preflight(struct MHD_Connection *c, const char *origin)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Vary", "Origin");
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
				"Content-Type, " AGENT_KIOSK_SECRET_HEADER ", " AGENT_KIOSK_SESSION_HEADER);
	MHD_add_response_header(r, "Access-Control-Allow-Private-Network", "true");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

static bool command_ok(const char *cmd)
{
	size_t n = strlen(cmd);
	return n >= 1 && n <= 32 && strspn(cmd, "abcdefghijklmnopqrstuvwxyz-") == n;
}

static enum MHD_Result session_status(struct MHD_Connection *c, const char *origin)
{
	pthread_mutex_lock(&K.lock);
	json_t *j = json_pack("{s:o, s:b, s:I, s:I}", "session",
			      K.session[0] ? json_string(K.session) : json_null(), "cardPresent",
			      K.card_present, "sessionsEnded", (json_int_t)K.sessions_ended, "wipes",
			      (json_int_t)K.wipes);
	pthread_mutex_unlock(&K.lock);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	enum MHD_Result r = reply(c, MHD_HTTP_OK, t ? t : "{}", origin, NULL);
	free(t);
	return r;
}

static enum MHD_Result run_command(struct MHD_Connection *c, const char *cmd, struct conn *cn,
				   const char *origin)
{
	json_t *args;
	if (cn->body.len == 0) {
		args = json_object();
	} else {
		json_error_t e;
		args = json_loadb((const char *)cn->body.data, cn->body.len, JSON_REJECT_DUPLICATES, &e);
		if (!json_is_object(args)) {
			json_decref(args);
			return refuse(c, MHD_HTTP_BAD_REQUEST, "bad-argument",
				      "El cuerpo debe ser un objeto JSON (los argumentos de la orden)", origin);
		}
	}
	if (strcmp(cmd, "version") != 0) {
		/* The browser's Origin is the operation's origin; an app without
		 * one names an allowed origin itself. */
		const char *o = origin ? origin : json_string_value(json_object_get(args, "origin"));
		if (!o || !kiosk_origin_ok(o)) {
			json_decref(args);
			return refuse(c, MHD_HTTP_FORBIDDEN, "origin-not-allowed",
				      "Origen no permitido en modo quiosco", origin);
		}
		json_object_set_new(args, "origin", json_string(o));
	}
	json_t *req = json_pack("{s:s, s:o}", "command", cmd, "arguments", args);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return refuse(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "Sin memoria", origin);
	pthread_mutex_lock(&K.lock);
	char *resp = agent_handle(&K.a, text, strlen(text));
	char session[33] = "";
	json_t *rj = resp ? json_loads(resp, 0, NULL) : NULL;
	if (rj && !json_object_get(rj, "error") && strcmp(cmd, "version") != 0) {
		if (!K.session[0]) {
			uint8_t rnd[16];
			if (RAND_bytes(rnd, sizeof(rnd)) == 1) {
				llv_hex_encode(rnd, sizeof(rnd), K.session);
				syslog(LOG_INFO, "kiosk: session started");
			}
		}
		memcpy(session, K.session, sizeof(session));
	}
	pthread_mutex_unlock(&K.lock);
	json_decref(rj);
	free(text);
	enum MHD_Result r = reply(c, MHD_HTTP_OK, resp ? resp : "{}", origin, session);
	free(resp);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct conn *cn = *con_cls;
	if (!cn) {
		if (!(cn = calloc(1, sizeof(*cn))))
			return MHD_NO;
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->body.len + *upload_size > AGENT_MAX_IN)
			cn->too_big = true;
		else
			llv_buf_put(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!host_ok(host)) {
		llv_warn("kiosk: Host not allowed: %.64s", host ? host : "(none)");
		return refuse(c, MHD_HTTP_FORBIDDEN, "host-not-allowed", "Host no permitido", NULL);
	}
	if (origin && !kiosk_origin_ok(origin)) {
		llv_warn("kiosk: Origin not allowed: %.128s", origin);
		return refuse(c, MHD_HTTP_FORBIDDEN, "origin-not-allowed",
			      "Origen no permitido en modo quiosco", NULL);
	}
	if (strcmp(method, "OPTIONS") == 0 && origin)
		return preflight(c, origin);
	if (strcmp(method, "POST") != 0)
		return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, "bad-argument", "Solo POST", origin);
	const char *secret = MHD_lookup_connection_value(c, MHD_HEADER_KIND, AGENT_KIOSK_SECRET_HEADER);
	if (!secret || strlen(secret) != strlen(K.secret) ||
	    llv_ct_memcmp(secret, K.secret, strlen(K.secret)) != 0) {
		llv_warn("kiosk: missing or wrong pairing secret");
		return refuse(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
			      "Falta el secreto de emparejamiento o no es el correcto", origin);
	}
	if (cn->too_big || !llv_buf_ok(&cn->body))
		return refuse(c, 413, "bad-argument", "Mensaje demasiado grande",
			      origin);
	if (strncmp(url, "/v1/", 4) != 0 || !command_ok(url + 4))
		return refuse(c, MHD_HTTP_NOT_FOUND, "not-supported", "Ruta desconocida: /v1/<orden>", origin);
	const char *cmd = url + 4;
	if (strcmp(cmd, "session") == 0)
		return session_status(c, origin);
	const char *want = MHD_lookup_connection_value(c, MHD_HEADER_KIND, AGENT_KIOSK_SESSION_HEADER);
	if (want) {
		pthread_mutex_lock(&K.lock);
		bool same = K.session[0] && strcmp(want, K.session) == 0;
		pthread_mutex_unlock(&K.lock);
		if (!same)
			return refuse(c, MHD_HTTP_CONFLICT, "session-ended",
				      "La sesión terminó (se retiró la tarjeta)", origin);
	}
	return run_command(c, cmd, cn, origin);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct conn *cn = *con_cls;
	if (cn) {
		llv_buf_free(&cn->body);
		free(cn);
	}
	*con_cls = NULL;
}

/* ---- secret and start-up ---------------------------------------------------- */

static int make_secret(void)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char dir[900];
	if (!rt || rt[0] != '/') {
		llv_error("kiosk: XDG_RUNTIME_DIR is not set: nowhere to put the pairing secret");
		return -1;
	}
	int w = snprintf(dir, sizeof(dir), "%s/llavero", rt);
	if (w < 0 || (size_t)w >= sizeof(dir))
		return -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		llv_error("kiosk: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    chmod(dir, 0700) != 0) {
		llv_error("kiosk: %s is not a private directory of this user", dir);
		return -1;
	}
	snprintf(secret_path, sizeof(secret_path), "%s/kiosk-secret", dir);
	snprintf(port_path, sizeof(port_path), "%s/kiosk-port", dir);
	uint8_t rnd[32];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	llv_hex_encode(rnd, sizeof(rnd), K.secret);
	llv_wipe(rnd, sizeof(rnd));
	unlink(secret_path);   /* a new file: mode 0600, whatever an old one had */
	char line[80];
	int ll = snprintf(line, sizeof(line), "%s\n", K.secret);
	int rc = llv_atomic_write(secret_path, line, (size_t)ll, 0600);
	llv_wipe(line, sizeof(line));
	if (rc != 0) {
		llv_error("kiosk: cannot write %s: %s", secret_path, strerror(errno));
		return -1;
	}
	return 0;
}

int agent_kiosk_run(int port_override)
{
	memset(&K, 0, sizeof(K));
	agent_ctx_init(&K.a);
	pthread_mutex_init(&K.lock, NULL);
	if (agent_config_load(&K.a.cfg) != 0) {
		llv_error("cannot load the configuration");
		return 1;
	}
	if (K.a.cfg.n_kiosk_origins == 0)
		llv_warn("kiosk: no kiosk-origin configured: every operation will be refused");
	/* Signals go to sigwait below, not to the threads started next. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int port = port_override >= 0 ? port_override : K.a.cfg.kiosk_port;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	socklen_t salen = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		llv_error("kiosk: cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	K.port = ntohs(sa.sin_port);
	if (make_secret() != 0) {
		close(fd);
		return 1;
	}
	if (agent_cardwatch_start(&K) != 0) {
		llv_error("kiosk: cannot start the card watcher");
		close(fd);
		return 1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		NULL, MHD_OPTION_END);
	int status = 0;
	if (!d) {
		llv_error("kiosk: cannot start the HTTP server");
		close(fd);
		status = 1;
	} else {
		char p[16];
		int pl = snprintf(p, sizeof(p), "%u\n", K.port);
		if (llv_atomic_write(port_path, p, (size_t)pl, 0600) != 0)
			llv_warn("kiosk: cannot write %s", port_path);
		syslog(LOG_INFO, "kiosk mode on 127.0.0.1:%u", K.port);
		fprintf(stderr, "llavero-agent: modo quiosco en http://127.0.0.1:%u (secreto en %s)\n",
			K.port, secret_path);
		int sig = 0;
		sigwait(&set, &sig);
		MHD_stop_daemon(d);
	}
	agent_cardwatch_stop();
	unlink(secret_path);
	unlink(port_path);
	llv_wipe(K.secret, sizeof(K.secret));
	pthread_mutex_lock(&K.lock);
	agent_ctx_clear(&K.a);
	pthread_mutex_unlock(&K.lock);
	return status;
}
