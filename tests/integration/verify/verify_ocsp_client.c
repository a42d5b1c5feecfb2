/* Test driver for verify_ocsp_check: asks an OCSP responder over plain HTTP
 * (a POST on a socket: the library leaves transport to its caller) whether a
 * certificate is revoked, prints the result's identifier and exits 0 when it
 * is the expected one.
 *
 * usage: verify-ocsp-client CERT ISSUER URL EXPECTED_ID [TIME_OFFSET_SECONDS]
 *        verify-ocsp-client --token CERT KEY_PEM ISSUER URL EXPECTED_ID
 * The second form makes a Web eID token with CERT's key and verifies it with
 * ISSUER as the trusted CA and the responder as OCSP service. */
#include "verify_errors.h"
#include "verify_ocsp.h"
#include "verify_webeid.h"
#include "vt_util.h"

#include "log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	if (!x) {
		rewind(f);
		x = d2i_X509_fp(f, NULL);
	}
	fclose(f);
	return x;
}

/* http://127.0.0.1:PORT[/path] only: enough for a loopback test responder. */
static int http_post(void *ctx, const char *url, const uint8_t *req, size_t req_len,
		     uint8_t **resp, size_t *resp_len)
{
	unsigned port = 0;
	char host[64];
	if (sscanf(url, "http://%63[0-9.]:%u", host, &port) != 2 || port == 0 || port > 65535)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char head[256];
	int hl = snprintf(head, sizeof(head),
			  "POST / HTTP/1.0\r\nHost: %s:%u\r\nContent-Type: application/ocsp-request\r\n"
			  "Content-Length: %zu\r\n\r\n", host, port, req_len);
	if (write(fd, head, (size_t)hl) != hl || write(fd, req, req_len) != (ssize_t)req_len) {
		close(fd);
		return -1;
	}
	size_t cap = 65536, len = 0;
	uint8_t *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			break;
	}
	close(fd);
	if (!buf)
		return -1;
	uint8_t *body = NULL;
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			body = buf + i + 4;
			break;
		}
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || memcmp(buf + 9, "200", 3) != 0 || !body) {
		free(buf);
		return -1;
	}
	*resp_len = len - (size_t)(body - buf);
	*resp = malloc(*resp_len ? *resp_len : 1);
	if (*resp)
		memcpy(*resp, body, *resp_len);
	free(buf);
	return *resp ? 0 : -1;
}

static int token_mode(char **argv)
{
	X509 *cert = load(argv[2]), *issuer = load(argv[4]);
	EVP_PKEY *key = vt_load_key(argv[3], NULL);
	if (!cert || !issuer || !key) {
		fprintf(stderr, "cannot load certificate, key or issuer\n");
		return 2;
	}
	struct verify_trust *t = verify_trust_new();
	struct verify_nonce_store *ns = verify_nonce_store_memory_new(4);
	char nonce[VERIFY_NONCE_TEXT_MAX];
	struct verify_ocsp_opts o = {
		.responder_url = argv[5], .transport = http_post, .skew_seconds = 300,
	};
	struct verify_webeid_opts w = {
		.origin = "https://llave.pruebas.invalid", .nonce = nonce, .nonces = ns,
		.trust = t, .ocsp = &o,
	};
	struct verify_webeid_result r;
	verify_trust_add_x509(t, issuer);
	verify_nonce_issue(ns, 60, 0, nonce, sizeof(nonce));
	char *tok = vt_token("web-eid:1.1", cert, key, "RS256", w.origin, nonce);
	int rc = tok ? verify_webeid_token(tok, strlen(tok), &w, &r) : VERIFY_ERR_INTERNAL;
	printf("token %s: %s (%s)\n", argv[2], verify_error_id(rc), verify_strerror(rc));
	if (rc == VERIFY_OK)
		printf("  %s RFC %s\n", r.identity.name, r.identity.rfc);
	verify_webeid_result_clear(&r);
	free(tok);
	verify_trust_free(t);
	verify_nonce_store_free(ns);
	X509_free(cert);
	X509_free(issuer);
	EVP_PKEY_free(key);
	return strcmp(verify_error_id(rc), argv[6]) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "--token") == 0) {
		llv_log_init("verify-ocsp-client");
		return token_mode(argv);
	}
	if (argc < 5) {
		fprintf(stderr, "usage: %s CERT ISSUER URL EXPECTED_ID [TIME_OFFSET]\n", argv[0]);
		return 2;
	}
	llv_log_init("verify-ocsp-client");
	X509 *cert = load(argv[1]), *issuer = load(argv[2]);
	if (!cert || !issuer) {
		fprintf(stderr, "cannot load certificates\n");
		return 2;
	}
	struct verify_ocsp_opts o = {
		.responder_url = argv[3], .transport = http_post, .skew_seconds = 300,
	};
	time_t now = time(NULL) + (argc > 5 ? atol(argv[5]) : 0);
	int rc = verify_ocsp_check(cert, issuer, &o, now);
	printf("%s: %s (%s)\n", argv[1], verify_error_id(rc), verify_strerror(rc));
	X509_free(cert);
	X509_free(issuer);
	return strcmp(verify_error_id(rc), argv[4]) == 0 ? 0 : 1;
}
