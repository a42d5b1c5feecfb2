/* Unit tests of llavero-agent's pieces that need no token: framing, origin
 * rules, Assuan escaping, request errors, the config file, DigestInfo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent.h"

struct mem {
	const uint8_t *p;
	size_t left;
	size_t chunk;   /* max bytes per read (short reads) */
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	if (n > m->left)
		n = m->left;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

static size_t frame(uint8_t *out, const char *body, uint32_t declared)
{
	memcpy(out, &declared, 4);
	size_t n = strlen(body);
	memcpy(out + 4, body, n);
	return 4 + n;
}

static void test_frame_ok_and_eof(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = frame(buf, "{\"a\":1}", 7);
	n += frame(buf + n, "{}", 2);
	struct mem m = { buf, n, 1 };
	char *body;
	size_t len;
	uint32_t decl;
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, &decl), AGENT_FRAME_OK);
	assert_int_equal(len, 7);
	assert_string_equal(body, "{\"a\":1}");
	free(body);
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, &decl), AGENT_FRAME_OK);
	assert_string_equal(body, "{}");
	free(body);
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, &decl), AGENT_FRAME_EOF);
	assert_null(body);
}

static void test_frame_too_big_is_skipped(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = frame(buf, "0123456789", 10);
	n += frame(buf + n, "{}", 2);
	struct mem m = { buf, n, 3 };
	char *body;
	size_t len;
	uint32_t decl = 0;
	assert_int_equal(agent_frame_read(mem_read, &m, 8, &body, &len, &decl), AGENT_FRAME_TOO_BIG);
	assert_int_equal(decl, 10);
	assert_int_equal(agent_frame_read(mem_read, &m, 8, &body, &len, &decl), AGENT_FRAME_OK);
	assert_string_equal(body, "{}");
	free(body);
}

static void test_frame_truncated(void **state)
{
	(void)state;
	uint8_t buf[64];
	char *body;
	size_t len;
	struct mem m = { (const uint8_t *)"\x05\x00", 2, 0 };
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, NULL), AGENT_FRAME_TRUNCATED);
	size_t n = frame(buf, "{\"a", 9);
	m = (struct mem){ buf, n, 0 };
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, NULL), AGENT_FRAME_TRUNCATED);
	n = frame(buf, "{\"a", 200);
	m = (struct mem){ buf, n, 0 };
	assert_int_equal(agent_frame_read(mem_read, &m, 100, &body, &len, NULL), AGENT_FRAME_TRUNCATED);
}

static void test_frame_write_roundtrip(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(agent_frame_write(fds[1], "{\"x\":true}", 10), 0);
	close(fds[1]);
	char *body;
	size_t len;
	assert_int_equal(agent_frame_read(agent_fd_read, &fds[0], 100, &body, &len, NULL), AGENT_FRAME_OK);
	assert_string_equal(body, "{\"x\":true}");
	free(body);
	close(fds[0]);
}

static void test_origins(void **state)
{
	(void)state;
	const char *good[] = { "https://login.gob.mx", "https://a.b:8443", "https://localhost",
		"http://localhost", "http://localhost:8080", "http://127.0.0.1:3000",
		"https://xn--espaol-zwa.mx", "https://192.168.1.10" };
	const char *bad[] = { "", "http://evil.example", "http://localhost.evil.example",
		"https://login.gob.mx/", "https://login.gob.mx/path", "https://LOGIN.gob.mx",
		"https://a.b:0", "https://a.b:65536", "https://a.b:", "https://a..b", "https://-a.b",
		"https://a-.b", "https://user@a.b", "null", "file://", "chrome-extension://abcdef",
		"https://", "https://a.b:80:80", "http://127.0.0.2", "https://a b", "ftp://a.b",
		"http://localhost:08", "https://a.b?x", "https://a.b#x" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(agent_origin_allowed(good[i], NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (agent_origin_allowed(bad[i], NULL))
			fail_msg("origin allowed: %s", bad[i]);
	}
	assert_false(agent_origin_allowed(NULL, NULL));
	struct agent_config c;
	memset(&c, 0, sizeof(c));
	c.origins[0] = (char *)"http://intranet.example";
	c.n_origins = 1;
	assert_true(agent_origin_allowed("http://intranet.example", &c));
	assert_false(agent_origin_allowed("http://intranet.example:81", &c));
}

static void test_assuan_escape(void **state)
{
	(void)state;
	char out[128];
	assert_int_equal(agent_assuan_escape("a%b\nc\rd", out, sizeof(out)), 13);
	assert_string_equal(out, "a%25b%0Ac%0Dd");
	assert_int_equal(agent_assuan_escape("Titular: JOSÉ", out, sizeof(out)), (long)strlen("Titular: JOSÉ"));
	assert_string_equal(out, "Titular: JOSÉ");
	assert_int_equal(agent_assuan_escape("abc", out, 3), -1);
	assert_int_equal(agent_assuan_escape("%", out, 3), -1);
	assert_int_equal(agent_assuan_escape("%", out, 4), 3);
	char s[] = "12%2534%0Aok";
	assert_int_equal(agent_assuan_unescape(s), 0);
	assert_string_equal(s, "12%34\nok");
	char bad1[] = "ab%2", bad2[] = "%zz", bad3[] = "%00";
	assert_int_equal(agent_assuan_unescape(bad1), -1);
	assert_int_equal(agent_assuan_unescape(bad2), -1);
	assert_int_equal(agent_assuan_unescape(bad3), -1);
	/* round trip of every printable and control byte */
	char all[256], esc[800];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	assert_true(agent_assuan_escape(all, esc, sizeof(esc)) > 0);
	assert_null(strchr(esc, '\n'));
	assert_int_equal(agent_assuan_unescape(esc), 0);
	assert_string_equal(esc, all);
}

static json_t *handle(struct agent_ctx *a, const char *req)
{
	char *t = agent_handle(a, req, strlen(req));
	json_t *j = json_loads(t, 0, NULL);
	free(t);
	assert_non_null(j);
	return j;
}

static const char *code(json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static void test_requests_without_tokens(void **state)
{
	(void)state;
	struct agent_ctx a;
	agent_ctx_init(&a);
	a.cfg.pinentry = strdup("/bin/false");
	a.cfg.modules[0] = strdup("/nonexistent/module.so");
	a.cfg.n_modules = 1;
	json_t *j = handle(&a, "{\"command\":\"version\",\"requestId\":5}");
	assert_string_equal(json_string_value(json_object_get(j, "version")), LLAVERO_VERSION);
	assert_int_equal(json_integer_value(json_object_get(j, "requestId")), 5);
	json_decref(j);
	const struct { const char *req, *code; } cases[] = {
		{ "", "bad-argument" },
		{ "[]", "bad-argument" },
		{ "{\"command\":1}", "bad-argument" },
		{ "{\"command\":\"fly\",\"origin\":\"https://a.b\"}", "not-supported" },
		{ "{\"command\":\"authenticate\"}", "bad-argument" },
		{ "{\"command\":\"authenticate\",\"arguments\":3}", "bad-argument" },
		{ "{\"command\":\"authenticate\",\"arguments\":{\"origin\":\"http://evil.example\",\"challengeNonce\":\"x\"}}", "origin-not-allowed" },
		{ "{\"command\":\"authenticate\",\"arguments\":{\"origin\":\"https://a.b\"}}", "bad-argument" },
		{ "{\"command\":\"authenticate\",\"arguments\":{\"origin\":\"https://a.b\",\"challengeNonce\":\"short\"}}", "bad-argument" },
		{ "{\"command\":\"authenticate\",\"arguments\":{\"origin\":\"https://a.b\",\"challengeNonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}", "no-token" },
		{ "{\"command\":\"sign\",\"origin\":\"https://a.b\",\"certificate\":\"AA==\",\"hash\":\"AA==\",\"hashFunction\":\"MD5\"}", "not-supported" },
		{ "{\"command\":\"sign\",\"origin\":\"https://a.b\",\"certificate\":\"AA==\",\"hash\":\"AA==\",\"hashFunction\":\"SHA-256\"}", "bad-argument" },
		{ "{\"command\":\"sign\",\"origin\":\"https://a.b\",\"certificate\":\"!!\",\"hash\":\"AA==\",\"hashFunction\":\"SHA-256\"}", "bad-argument" },
		{ "{\"command\":\"sign\",\"origin\":\"https://a.b\",\"certificate\":\"AA==\",\"hash\":\"AA==\",\"hashFunction\":\"SHA-256\",\"format\":\"pdf\"}", "bad-argument" },
		{ "{\"command\":\"webauthn-get\",\"origin\":\"https://a.b\"}", "bad-argument" },
		{ "{\"command\":\"webauthn-get\",\"origin\":\"https://a.b\",\"options\":{},\"device\":7}", "bad-argument" },
		{ "{\"command\":\"get-signing-certificate\",\"origin\":\"ftp://a.b\"}", "origin-not-allowed" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		j = handle(&a, cases[i].req);
		if (!code(j) || strcmp(code(j), cases[i].code) != 0)
			fail_msg("%s -> %s, not %s", cases[i].req, code(j) ? code(j) : "(none)", cases[i].code);
		json_decref(j);
	}
	agent_ctx_clear(&a);
}

static void test_config_file(void **state)
{
	(void)state;
	char path[] = "/tmp/agent-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# comentario\n pkcs11-module = /a.so \npkcs11-module=/b.so\n"
			   "pinentry-program = /usr/bin/pinentry-gnome3\nallowed-origin = http://intra\n"
			   "pin-timeout = 30\nbogus line\nunknown = 1\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("LLAVERO_AGENT_CONF", path, 1);
	unsetenv("LLAVERO_AGENT_PKCS11");
	unsetenv("LLAVERO_PINENTRY");
	struct agent_config c;
	assert_int_equal(agent_config_load(&c), 0);
	assert_int_equal(c.n_modules, 2);
	assert_string_equal(c.modules[0], "/a.so");
	assert_string_equal(c.modules[1], "/b.so");
	assert_string_equal(c.pinentry, "/usr/bin/pinentry-gnome3");
	assert_int_equal(c.n_origins, 1);
	assert_int_equal(c.pin_timeout, 30);
	agent_config_free(&c);
	setenv("LLAVERO_AGENT_PKCS11", "/x.so:/y.so", 1);
	setenv("LLAVERO_PINENTRY", "/bin/pe", 1);
	assert_int_equal(agent_config_load(&c), 0);
	assert_int_equal(c.n_modules, 2);
	assert_string_equal(c.modules[1], "/y.so");
	assert_string_equal(c.pinentry, "/bin/pe");
	agent_config_free(&c);
	unlink(path);
}

static void test_digest_info(void **state)
{
	(void)state;
	uint8_t h[64] = { 1 }, out[128];
	assert_int_equal(agent_digest_info("SHA-256", h, 32, out, sizeof(out)), 51);
	assert_int_equal(out[0], 0x30);
	assert_int_equal(out[18], 0x20);
	assert_int_equal(agent_digest_info("SHA-512", h, 64, out, sizeof(out)), 83);
	assert_int_equal(agent_digest_info("SHA-256", h, 31, out, sizeof(out)), 0);
	assert_int_equal(agent_digest_info("SHA-1", h, 20, out, sizeof(out)), 0);
	assert_int_equal(agent_hash_len("SHA-384"), 48);
	assert_int_equal(agent_hash_len("sha-384"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_ok_and_eof),
		cmocka_unit_test(test_frame_too_big_is_skipped),
		cmocka_unit_test(test_frame_truncated),
		cmocka_unit_test(test_frame_write_roundtrip),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_assuan_escape),
		cmocka_unit_test(test_requests_without_tokens),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_digest_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
