/* The HTTP side of llavero-idp on libmicrohttpd: one internal polling
 * thread (so handlers and the store run one at a time), bodies bounded,
 * routes dispatched by method and path, security headers on every answer. */
#include "idp.h"
#include "idp_session.h"

#include "base64url.h"
#include "atomic_file.h"
#include "json.h"
#include "log.h"
#include "secmem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct route {
	const char *method;
	const char *path;
	idp_handler handler;
};

static const struct route routes[] = {
	{ "GET", "/", idp_route_home },
	{ "GET", "/entrar", idp_route_signin },
	{ "GET", "/cuenta", idp_route_account },
	{ "POST", "/salir", idp_route_logout },
	{ "GET", "/static/idp.js", idp_route_static },
	{ "GET", "/static/llavero.js", idp_route_static },	/* web/llavero.js */
	{ "GET", "/static/idp.css", idp_route_static },
	{ "GET", "/authorize", idp_route_authorize },
	{ "GET", "/continuar", idp_route_continue },
	{ "POST", "/token", idp_route_token },
	{ "GET", "/userinfo", idp_route_userinfo },
	{ "GET", "/.well-known/oauth-authorization-server", idp_route_metadata },
	{ "POST", "/attestation/options", idp_route_att_options },
	{ "POST", "/attestation/result", idp_route_att_result },
	{ "POST", "/assertion/options", idp_route_asr_options },
	{ "POST", "/assertion/result", idp_route_asr_result },
	{ "POST", "/efirma/challenge", idp_route_efirma_challenge },
	{ "POST", "/efirma/login", idp_route_efirma_login },
	{ "GET", "/demo", idp_route_demo },
	{ "GET", "/demo/entrar", idp_route_demo_login },
	{ "GET", "/demo/callback", idp_route_demo_callback },
	{ "POST", "/demo/salir", idp_route_demo_logout },
};

/* ---- helpers ---- */

char *idp_random_b64url(size_t n)
{
	unsigned char rnd[64];
	char *out;
	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return NULL;
	out = llv_base64url_encode(rnd, n);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return out;
}

void idp_html_escape(struct llv_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': llv_buf_put_str(b, "&lt;"); break;
		case '>': llv_buf_put_str(b, "&gt;"); break;
		case '&': llv_buf_put_str(b, "&amp;"); break;
		case '"': llv_buf_put_str(b, "&quot;"); break;
		case '\'': llv_buf_put_str(b, "&#39;"); break;
		default: llv_buf_put_u8(b, (uint8_t)*s);
		}
	}
}

void idp_url_escape(struct llv_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			llv_buf_put_u8(b, c);
		} else {
			llv_buf_put_u8(b, '%');
			llv_buf_put_u8(b, (uint8_t)hex[c >> 4]);
			llv_buf_put_u8(b, (uint8_t)hex[c & 15]);
		}
	}
}

/* ---- request accessors ---- */

const char *idp_req_header(struct idp_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *idp_req_query(struct idp_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *idp_req_cookie(struct idp_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct repeat_scan {
	const char *names[IDP_FORM_MAX];
	size_t n;
	bool repeated;
};

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct repeat_scan *r = cls;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], key)) {
			r->repeated = true;
			return MHD_NO;
		}
	if (r->n >= IDP_FORM_MAX) {
		r->repeated = true;   /* too many parameters: refused the same way */
		return MHD_NO;
	}
	r->names[r->n++] = key;
	return MHD_YES;
}

bool idp_req_query_repeated(struct idp_request *req)
{
	struct repeat_scan r;
	memset(&r, 0, sizeof(r));
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, scan_arg, &r);
	return r.repeated;
}

static bool content_type_is(struct idp_request *req, const char *type)
{
	const char *ct = idp_req_header(req, "Content-Type");
	size_t n = strlen(type);
	return ct && !strncasecmp(ct, type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

json_t *idp_req_json(struct idp_request *req, struct idp_response *resp)
{
	char err[160];
	json_t *j;
	if (!content_type_is(req, "application/json")) {
		json_t *e = json_pack("{s:s,s:s}", "status", "failed", "errorMessage",
				      "Se espera Content-Type: application/json");
		idp_resp_json(resp, 415, e);
		return NULL;
	}
	j = llv_json_parse_object((const char *)req->body.data, req->body.len, IDP_BODY_MAX, err,
				  sizeof(err));
	if (!j) {
		char msg[200];
		snprintf(msg, sizeof(msg), "JSON inválido: %s", err);
		idp_resp_json(resp, 400, json_pack("{s:s,s:s}", "status", "failed", "errorMessage", msg));
	}
	return j;
}

/* ---- responses ---- */

void idp_resp_header(struct idp_response *resp, const char *name, const char *value)
{
	if (resp->n_headers >= IDP_MAX_HEADERS) {
		llv_error("http: demasiados encabezados en una respuesta");
		return;
	}
	resp->headers[resp->n_headers][0] = strdup(name);
	resp->headers[resp->n_headers][1] = strdup(value);
	resp->n_headers++;
}

void idp_resp_json(struct idp_response *resp, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	llv_buf_clear(&resp->body);
	resp->status = text ? status : 500;
	resp->content_type = "application/json";
	llv_buf_put_str(&resp->body, text ? text : "{\"error\":\"server_error\"}");
	free(text);
}

void idp_resp_html(struct idp_response *resp, unsigned status, struct llv_buf *html)
{
	llv_buf_free(&resp->body);
	resp->body = *html;
	llv_buf_init(html);
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
}

void idp_resp_text(struct idp_response *resp, unsigned status, const char *type, const char *text)
{
	llv_buf_clear(&resp->body);
	llv_buf_put_str(&resp->body, text);
	resp->status = status;
	resp->content_type = type;
}

void idp_resp_redirect(struct idp_response *resp, const char *location)
{
	llv_buf_clear(&resp->body);
	resp->status = 303;
	resp->content_type = "text/plain; charset=utf-8";
	idp_resp_header(resp, "Location", location);
}

void idp_resp_oauth_error(struct idp_response *resp, unsigned status, const char *code, const char *desc)
{
	idp_resp_json(resp, status, json_pack("{s:s,s:s}", "error", code, "error_description", desc));
}

/* ---- dispatch ---- */

static const struct route *find_route(const char *method, const char *path, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, path))
			continue;
		*path_known = true;
		if (!strcmp(routes[i].method, method))
			return &routes[i];
	}
	return NULL;
}

static void dispatch(struct idp_ctx *ctx, struct idp_request *req, struct idp_response *resp)
{
	bool known;
	const struct route *r;
	const char *m = !strcmp(req->method, "HEAD") ? "GET" : req->method;

	r = find_route(m, req->path, &known);
	if (!r) {
		if (known) {
			idp_resp_header(resp, "Allow", !strcmp(m, "GET") ? "POST" : "GET");
			idp_resp_error_page(resp, 405, "Método no permitido",
					    "Esta dirección no acepta ese método HTTP.");
		} else {
			idp_resp_error_page(resp, 404, "Página no encontrada",
					    "La dirección solicitada no existe.");
		}
		return;
	}
	if (req->too_big) {
		idp_resp_error_page(resp, 413, "Solicitud demasiado grande",
				    "El cuerpo de la solicitud excede el límite.");
		return;
	}
	if (!strcmp(m, "POST") && content_type_is(req, "application/x-www-form-urlencoded") &&
	    idp_form_parse((const char *)req->body.data, req->body.len, &req->form)) {
		if (!strcmp(req->path, "/token"))
			idp_resp_oauth_error(resp, 400, "invalid_request",
					     "Parámetros mal formados o repetidos");
		else
			idp_resp_error_page(resp, 400, "Solicitud inválida",
					    "El formulario enviado está mal formado.");
		return;
	}
	req->session = idp_session_load(ctx, req, IDP_SESSION_COOKIE);
	r->handler(ctx, req, resp);
	if (idp_session_save(ctx, req->session) || idp_session_save(ctx, req->demo_session))
		llv_error("http: no se pudo guardar la sesión");
}

struct conn_state {
	struct idp_request req;
};

static void add_common_headers(struct MHD_Response *r, const struct idp_response *resp, bool tls)
{
	if (tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type
								   : "text/plain; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
				" frame-ancestors 'none'; form-action 'self' http: https:; base-uri 'none'");
	for (size_t i = 0; i < resp->n_headers; i++)
		if (resp->headers[i][0] && resp->headers[i][1])
			MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
}

static void resp_free(struct idp_response *resp)
{
	llv_buf_free(&resp->body);
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i][0]);
		free(resp->headers[i][1]);
	}
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, outlen, "?");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
			  out, (socklen_t)outlen);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
			  out, (socklen_t)outlen);
}

static time_t last_purge;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct idp_ctx *ctx = cls;
	struct conn_state *st = *con_cls;
	struct idp_response resp;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	uint8_t *body;
	time_t now;

	if (!st) {
		if (!(st = calloc(1, sizeof(*st))))
			return MHD_NO;
		st->req.conn = conn;
		snprintf(st->req.method, sizeof(st->req.method), "%s", method);
		st->req.path = strdup(url);
		llv_buf_init(&st->req.body);
		client_ip(conn, st->req.ip, sizeof(st->req.ip));
		*con_cls = st;
		if (!st->req.path)
			return MHD_NO;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (st->req.body.len + *upload_data_size > IDP_BODY_MAX)
			st->req.too_big = true;
		else
			llv_buf_put(&st->req.body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!llv_buf_ok(&st->req.body))
		return MHD_NO;
	llv_buf_put_u8(&st->req.body, 0);  /* NUL-terminated for parsers; not counted */
	st->req.body.len--;

	memset(&resp, 0, sizeof(resp));
	llv_buf_init(&resp.body);
	resp.status = 500;
	dispatch(ctx, &st->req, &resp);
	llv_info("%s %s %s -> %u", st->req.ip, st->req.method, st->req.path, resp.status);

	len = resp.body.len;
	body = llv_buf_steal(&resp.body, &len);
	r = MHD_create_response_from_buffer(len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE
										   : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		resp_free(&resp);
		return MHD_NO;
	}
	add_common_headers(r, &resp, ctx->cfg.tls_cert != NULL);
	ret = MHD_queue_response(conn, resp.status, r);
	MHD_destroy_response(r);
	resp_free(&resp);

	now = time(NULL);
	if (now - last_purge > 60) {
		last_purge = now;
		ctx->store->ops->purge(ctx->store->ctx, now);
	}
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;
	if (!st)
		return;
	free(st->req.path);
	llv_buf_free(&st->req.body);
	idp_form_free(&st->req.form);
	idp_session_free(st->req.session);
	idp_session_free(st->req.demo_session);
	free(st);
	*con_cls = NULL;
}

static int listen_fd(int fd)
{
	return listen(fd, 64);
}

static int parse_listen(const char *where, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(where, ':');
	char *end;
	long port;
	memset(sa, 0, sizeof(*sa));
	if (!colon || (size_t)(colon - where) >= sizeof(host))
		return -1;
	memcpy(host, where, (size_t)(colon - where));
	host[colon - where] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 0 || port > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int idp_http_serve(struct idp_ctx *ctx, const char *where, const char *port_file)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct MHD_Daemon *d;
	unsigned port;
	sigset_t set;
	int fd, one = 1, sig = 0, rc = -1;
	uint8_t *tls_cert = NULL, *tls_key = NULL;
	size_t tls_cert_len = 0, tls_key_len = 0;
	char *tls_cert_z = NULL, *tls_key_z = NULL;

	if (parse_listen(where, &sa)) {
		llv_error("--listen debe ser IPv4:PUERTO, p. ej. 127.0.0.1:8443 (se recibió %s)", where);
		return -1;
	}
	/* Bind first: what depends on the port (origin, demo client) is ready
	 * before any request can arrive. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen_fd(fd) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		llv_error("no se pudo escuchar en %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	port = ntohs(sa.sin_port);
	if (idp_config_finish(&ctx->cfg, port)) {
		close(fd);
		return -1;
	}
	ctx->rp.rp_id = ctx->cfg.rp_id;
	ctx->rp.origins = (const char *const *)ctx->cfg.origins;
	ctx->rp.n_origins = ctx->cfg.n_origins;
	ctx->rp.require_uv = ctx->cfg.require_uv;

	/* SIGINT/SIGTERM are taken by sigwait below, never by MHD's thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (ctx->cfg.tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			llv_error("libmicrohttpd no tiene TLS: quite tls_cert/tls_key");
			close(fd);
			return -1;
		}
		if (llv_read_file(ctx->cfg.tls_cert, 1 << 20, &tls_cert, &tls_cert_len) ||
		    llv_read_file(ctx->cfg.tls_key, 1 << 20, &tls_key, &tls_key_len)) {
			llv_error("no se pudieron leer tls_cert/tls_key");
			goto fail_tls;
		}
		/* NUL-terminated PEM for libmicrohttpd */
		if (!(tls_cert_z = strndup((const char *)tls_cert, tls_cert_len)) ||
		    !(tls_key_z = llv_secure_alloc(tls_key_len + 1)))
			goto fail_tls;
		memcpy(tls_key_z, tls_key, tls_key_len);
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
				     MHD_USE_TLS,
				     0, NULL, NULL, on_request, ctx,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				     MHD_OPTION_HTTPS_MEM_CERT, tls_cert_z,
				     MHD_OPTION_HTTPS_MEM_KEY, tls_key_z,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				     MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG,
				     0, NULL, NULL, on_request, ctx,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
				     MHD_OPTION_END);
	}
	if (!d) {
		llv_error("no se pudo iniciar el servidor HTTP en %s", where);
		goto fail_tls;
	}
	fd = -1;   /* the daemon owns the listening socket now */
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f)) {
			llv_error("no se pudo escribir %s", port_file);
			MHD_stop_daemon(d);
			d = NULL;
			goto fail_tls;
		}
	}
	fprintf(stderr, "llavero-idp: escuchando en %s:%u (origen %s, RP ID %s)\n",
		inet_ntoa(sa.sin_addr), port, ctx->cfg.origin, ctx->cfg.rp_id);

	while (sigwait(&set, &sig) != 0)
		;
	llv_info("señal %d: terminando", sig);
	MHD_stop_daemon(d);
	rc = 0;
fail_tls:
	if (fd >= 0)
		close(fd);
	free(tls_cert);
	free(tls_cert_z);
	if (tls_key)
		llv_wipe(tls_key, tls_key_len);
	free(tls_key);
	if (tls_key_z)
		llv_secure_free(tls_key_z, tls_key_len + 1);
	return rc;
}
