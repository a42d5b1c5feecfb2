/* Unit tests of llavero-idp's core (verify/idp): form parsing, PKCE S256,
 * the configuration file, the WebAuthn credential JSON, and the SQLite store
 * (users, credentials, sessions, single-use codes, token revocation, nonces,
 * rate-limit counters, schema version). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idp_config.h"
#include "idp_form.h"
#include "idp_pkce.h"
#include "idp_store.h"
#include "idp_webauthn.h"
#include "json.h"
#include "log.h"
#include "verify_errors.h"
#include "vt_util.h"

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_form(void **state)
{
	struct idp_form f;
	const char *t = "a=1&b=x%20y+z&c=&d&e=%C3%B1";
	assert_int_equal(idp_form_parse(t, strlen(t), &f), 0);
	assert_int_equal(f.n, 5);
	assert_string_equal(idp_form_get(&f, "a"), "1");
	assert_string_equal(idp_form_get(&f, "b"), "x y z");
	assert_string_equal(idp_form_get(&f, "c"), "");
	assert_string_equal(idp_form_get(&f, "d"), "");
	assert_string_equal(idp_form_get(&f, "e"), "\xc3\xb1");
	assert_null(idp_form_get(&f, "z"));
	idp_form_free(&f);

	assert_int_equal(idp_form_parse("", 0, &f), 0);
	assert_int_equal(f.n, 0);
	/* repeated names, bad escapes, an encoded NUL: refused */
	assert_int_equal(idp_form_parse("a=1&a=2", 7, &f), -1);
	assert_int_equal(idp_form_parse("a=%z1", 5, &f), -1);
	assert_int_equal(idp_form_parse("a=%4", 4, &f), -1);
	assert_int_equal(idp_form_parse("a=%00", 5, &f), -1);
	assert_int_equal(f.n, 0);
	/* the length bounds the parse, not a NUL */
	assert_int_equal(idp_form_parse("a=1&b=2", 3, &f), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(idp_form_get(&f, "a"), "1");
	idp_form_free(&f);
}

static void test_form_too_many(void **state)
{
	char buf[IDP_FORM_MAX * 8 + 16];
	size_t o = 0;
	struct idp_form f;
	for (int i = 0; i <= IDP_FORM_MAX; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "k%d=v&", i);
	assert_int_equal(idp_form_parse(buf, o, &f), -1);
}

static void test_pkce(void **state)
{
	/* RFC 7636 Appendix B */
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	assert_true(idp_pkce_challenge_well_formed(c));
	assert_true(idp_pkce_s256_ok(v, c));
	assert_false(idp_pkce_s256_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", c));
	assert_false(idp_pkce_s256_ok("short", c));
	assert_false(idp_pkce_s256_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX!", c));
	assert_false(idp_pkce_s256_ok(NULL, c));
	assert_false(idp_pkce_challenge_well_formed("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	assert_false(idp_pkce_challenge_well_formed("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
}

static void test_config(void **state)
{
	struct idp_config c;
	const char *good =
		"{\"origin\":\"https://idp.example.gob.mx\",\"trusted_cas\":[\"/x.pem\"],"
		"\"clients\":[{\"client_id\":\"p\",\"client_secret\":\"s\",\"redirect_uris\":[\"https://p/cb\"]}],"
		"\"demo\":false,\"rate_limit_ip\":5}";
	idp_config_defaults(&c);
	assert_int_equal(idp_config_parse(&c, good, strlen(good)), 0);
	assert_int_equal(idp_config_finish(&c, 8443), 0);
	assert_string_equal(c.rp_id, "idp.example.gob.mx");
	assert_true(c.secure_cookies);
	assert_true(idp_config_origin_allowed(&c, "https://idp.example.gob.mx"));
	assert_false(idp_config_origin_allowed(&c, "http://localhost:8443"));
	assert_non_null(idp_config_client(&c, "p"));
	assert_null(idp_config_client(&c, "beca-rita-cetina"));  /* demo off */
	assert_int_equal(c.rate_limit_ip, 5);
	idp_config_free(&c);

	/* development defaults */
	idp_config_defaults(&c);
	assert_int_equal(idp_config_finish(&c, 8080), 0);
	assert_string_equal(c.origin, "http://localhost:8080");
	assert_string_equal(c.rp_id, "localhost");
	assert_false(c.secure_cookies);
	assert_true(idp_config_origin_allowed(&c, "http://localhost:8080"));
	assert_non_null(idp_config_client(&c, "beca-rita-cetina"));
	assert_non_null(idp_config_client(&c, "beca-rita-cetina")->client_secret);
	assert_string_equal(idp_config_client(&c, "beca-rita-cetina")->redirect_uris[0],
			    "http://localhost:8080/demo/callback");
	idp_config_free(&c);

	/* refusals: unknown member, wrong types, client without redirect URIs */
	static const char *const bad[] = {
		"{\"origen\":\"x\"}", "{\"demo\":1}", "{\"rate_limit_ip\":-1}",
		"{\"clients\":[{\"client_id\":\"p\"}]}", "{\"allowed_origins\":\"x\"}", "[]", "{",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		idp_config_defaults(&c);
		assert_int_equal(idp_config_parse(&c, bad[i], strlen(bad[i])), -1);
		idp_config_free(&c);
	}
}

/* "ocsp_responders": pre-approved OCSP responder certificates (SAT's
 * ocsp.acN_sat.cer) reach the verify options llavero-idp uses; a response
 * signed by one, not carrying the certificate and not issued by the leaf's
 * CA, is accepted with the config and refused without it. */
static X509 *self_signed_responder(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"OCSP preaprobado", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, "OCSPSigning");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	return x;
}

/* A "good" answer about leaf signed by signer, without its certificate,
 * checked against the request with the options o. */
static int ocsp_answer(X509 *leaf, X509 *issuer, X509 *signer, EVP_PKEY *signer_key,
		       const struct verify_ocsp_opts *o)
{
	time_t now = time(NULL);
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, OCSP_cert_to_id(NULL, leaf, issuer));
	OCSP_request_add1_nonce(req, NULL, 16);
	unsigned char *req_der = NULL, *resp_der = NULL;
	int req_len = i2d_OCSP_REQUEST(req, &req_der);
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	ASN1_TIME *tu = ASN1_TIME_adj(NULL, now, 0, -60), *nu = ASN1_TIME_adj(NULL, now, 0, 3600);
	OCSP_CERTID *cid = OCSP_cert_to_id(NULL, leaf, issuer);
	OCSP_basic_add1_status(bs, cid, V_OCSP_CERTSTATUS_GOOD, -1, NULL, tu, nu);
	OCSP_copy_nonce(bs, req);
	assert_int_equal(OCSP_basic_sign(bs, signer, signer_key, EVP_sha256(), NULL, OCSP_NOCERTS), 1);
	assert_true(sk_X509_num(OCSP_resp_get0_certs(bs)) <= 0);   /* no certificate carried */
	OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	int resp_len = i2d_OCSP_RESPONSE(r, &resp_der);
	int rc = verify_ocsp_check_response(leaf, issuer, req_der, (size_t)req_len, resp_der,
					    (size_t)resp_len, o, now);
	OPENSSL_free(req_der);
	OPENSSL_free(resp_der);
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(cid);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

static void test_config_ocsp_responders(void **state)
{
	(void)state;
	assert_non_null(vt_fixtures());
	X509 *leaf = vt_load_cert(vt_fix("fisica.crt.pem"));
	X509 *issuer = vt_load_cert(vt_fix("ca-issuer.crt.pem"));
	EVP_PKEY *rkey = EVP_EC_gen("P-256");
	X509 *resp_cert = self_signed_responder(rkey);
	char path[] = "/tmp/idp-ocsp-resp.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_int_equal(PEM_write_X509(f, resp_cert), 1);
	fclose(f);

	struct idp_config c;
	struct verify_ocsp_opts o;
	STACK_OF(X509) *list = NULL;
	char text[512];

	/* configured: accepted */
	snprintf(text, sizeof(text),
		 "{\"ocsp_url\":\"http://127.0.0.1:1/\",\"ocsp_responders\":[\"%s\"]}", path);
	idp_config_defaults(&c);
	assert_int_equal(idp_config_parse(&c, text, strlen(text)), 0);
	assert_int_equal(c.n_ocsp_responders, 1);
	assert_int_equal(idp_config_ocsp_opts(&c, &o, &list), 0);
	assert_non_null(list);
	assert_ptr_equal(o.responders, list);
	assert_int_equal(sk_X509_num(list), 1);
	assert_string_equal(o.responder_url, "http://127.0.0.1:1/");
	assert_int_equal(ocsp_answer(leaf, issuer, resp_cert, rkey, &o), VERIFY_OK);
	sk_X509_pop_free(list, X509_free);
	idp_config_free(&c);

	/* not configured: the same answer is refused */
	snprintf(text, sizeof(text), "{\"ocsp_url\":\"http://127.0.0.1:1/\"}");
	idp_config_defaults(&c);
	assert_int_equal(idp_config_parse(&c, text, strlen(text)), 0);
	assert_int_equal(idp_config_ocsp_opts(&c, &o, &list), 0);
	assert_null(list);
	assert_null(o.responders);
	assert_int_equal(ocsp_answer(leaf, issuer, resp_cert, rkey, &o), VERIFY_ERR_OCSP_RESPONDER);
	idp_config_free(&c);

	/* no ocsp_url: no OCSP at all */
	idp_config_defaults(&c);
	assert_int_equal(idp_config_ocsp_opts(&c, &o, &list), 1);
	idp_config_free(&c);

	/* a CA certificate (no id-kp-OCSPSigning) or a missing file: refused */
	const char *bad_files[] = { vt_fix("ca-issuer.crt.pem"), "/nonexistent/ocsp.cer" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(text, sizeof(text),
			 "{\"ocsp_url\":\"http://127.0.0.1:1/\",\"ocsp_responders\":[\"%s\",\"%s\"]}",
			 path, bad_files[i]);
		idp_config_defaults(&c);
		assert_int_equal(idp_config_parse(&c, text, strlen(text)), 0);
		assert_int_equal(idp_config_ocsp_opts(&c, &o, &list), -1);
		assert_null(list);
		idp_config_free(&c);
	}
	/* shapes: a list of texts, and only with ocsp_url */
	static const char *const bad[] = {
		"{\"ocsp_url\":\"http://x/\",\"ocsp_responders\":\"a.cer\"}",
		"{\"ocsp_url\":\"http://x/\",\"ocsp_responders\":[1]}",
		"{\"ocsp_responders\":[\"a.cer\"]}",
		"{\"ocsp_url\":\"http://x/\",\"ocsp_responder\":[\"a.cer\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		idp_config_defaults(&c);
		assert_int_equal(idp_config_parse(&c, bad[i], strlen(bad[i])), -1);
		idp_config_free(&c);
	}
	unlink(path);
	X509_free(resp_cert);
	EVP_PKEY_free(rkey);
	X509_free(leaf);
	X509_free(issuer);
}

static json_t *parse(const char *t)
{
	char err[128];
	return llv_json_parse_object(t, strlen(t), 65536, err, sizeof(err));
}

static void test_credential_json(void **state)
{
	struct idp_wa_cred c;
	char err[160];
	json_t *j = parse("{\"id\":\"AQID\",\"rawId\":\"AQID\",\"type\":\"public-key\",\"response\":"
			  "{\"clientDataJSON\":\"e30\",\"authenticatorData\":\"AAAA\",\"signature\":\"AQ\","
			  "\"userHandle\":\"\"}}");
	assert_int_equal(idp_wa_parse_credential(j, true, &c, err, sizeof(err)), 0);
	assert_int_equal(c.raw_id_len, 3);
	assert_int_equal(c.client_data_len, 2);
	assert_null(c.user_handle);
	idp_wa_cred_free(&c);
	/* a registration needs attestationObject */
	assert_int_equal(idp_wa_parse_credential(j, false, &c, err, sizeof(err)), -1);
	json_decref(j);

	j = parse("{\"id\":\"AQIE\",\"rawId\":\"AQID\",\"type\":\"public-key\",\"response\":"
		  "{\"clientDataJSON\":\"e30\",\"attestationObject\":\"oA\"}}");
	assert_int_equal(idp_wa_parse_credential(j, false, &c, err, sizeof(err)), -1);  /* id != rawId */
	json_decref(j);
	j = parse("{\"id\":\"AQID\",\"rawId\":\"AQID\",\"type\":\"password\",\"response\":{}}");
	assert_int_equal(idp_wa_parse_credential(j, false, &c, err, sizeof(err)), -1);
	json_decref(j);
	j = parse("{\"id\":\"AQ+D\",\"rawId\":\"AQ+D\",\"type\":\"public-key\",\"response\":"
		  "{\"clientDataJSON\":\"e30\",\"attestationObject\":\"oA\"}}");
	assert_int_equal(idp_wa_parse_credential(j, false, &c, err, sizeof(err)), -1);  /* not base64url */
	json_decref(j);
}

static void test_store(void **state)
{
	char dir[] = "/tmp/test_idp_store.XXXXXX";
	char path[128];
	struct idp_store *s;
	struct idp_user u, got;
	struct idp_credential cr, list[4];
	struct idp_session_row sr, sg;
	struct idp_code_row code, taken;
	struct idp_token_row tok, tg;
	size_t n;
	long count;
	time_t now = time(NULL);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/idp.db", dir);
	s = idp_store_sqlite_open(path);
	assert_non_null(s);
	{
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}

	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "efirma:PEPJ800101AB1");
	snprintf(u.display_name, sizeof(u.display_name), "JUAN PÉREZ");
	snprintf(u.rfc, sizeof(u.rfc), "PEPJ800101AB1");
	u.handle[0] = 7;
	u.efirma = true;
	assert_int_equal(s->ops->user_put(s->ctx, &u), 0);
	assert_true(u.id > 0);
	assert_int_equal(s->ops->user_by_rfc(s->ctx, "PEPJ800101AB1", &got), 0);
	assert_string_equal(got.display_name, "JUAN PÉREZ");
	assert_int_equal(s->ops->user_by_handle(s->ctx, u.handle, sizeof(u.handle), &got), 0);
	assert_int_equal(got.id, u.id);
	assert_int_equal(s->ops->user_by_username(s->ctx, "nadie", &got), IDP_STORE_NOT_FOUND);
	/* a second user with the same username is refused */
	got = u;
	got.id = 0;
	got.handle[0] = 8;
	assert_int_equal(s->ops->user_put(s->ctx, &got), -1);

	memset(&cr, 0, sizeof(cr));
	cr.user_id = u.id;
	memcpy(cr.cred_id, "\x01\x02\x03", 3);
	cr.cred_id_len = 3;
	memcpy(cr.spki, "\x30\x00", 2);
	cr.spki_len = 2;
	cr.alg = -7;
	cr.sign_count = 5;
	assert_int_equal(s->ops->cred_add(s->ctx, &cr), 0);
	assert_int_equal(s->ops->cred_add(s->ctx, &cr), -1);  /* same ID twice */
	assert_int_equal(s->ops->cred_set_count(s->ctx, cr.cred_id, 3, 9), 0);
	assert_int_equal(s->ops->cred_list(s->ctx, u.id, list, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].sign_count, 9);
	assert_int_equal(list[0].alg, -7);

	memset(&sr, 0, sizeof(sr));
	idp_store_hash("cookie-value", sr.id_hash);
	snprintf(sr.csrf, sizeof(sr.csrf), "tok");
	sr.user_id = u.id;
	sr.expires = now + 60;
	sr.data = (char *)"{\"a\":1}";
	assert_int_equal(s->ops->session_put(s->ctx, &sr), 0);
	assert_int_equal(s->ops->session_get(s->ctx, sr.id_hash, now, &sg), 0);
	assert_string_equal(sg.data, "{\"a\":1}");
	free(sg.data);
	assert_int_equal(s->ops->session_get(s->ctx, sr.id_hash, now + 61, &sg), IDP_STORE_NOT_FOUND);
	assert_int_equal(s->ops->session_delete(s->ctx, sr.id_hash), 0);
	assert_int_equal(s->ops->session_get(s->ctx, sr.id_hash, now, &sg), IDP_STORE_NOT_FOUND);

	memset(&code, 0, sizeof(code));
	idp_store_hash("the-code", code.code_hash);
	snprintf(code.client_id, sizeof(code.client_id), "p");
	code.user_id = u.id;
	code.expires = now + 60;
	assert_int_equal(s->ops->code_put(s->ctx, &code), 0);
	assert_int_equal(s->ops->code_take(s->ctx, code.code_hash, &taken), 0);
	assert_false(taken.used);
	assert_int_equal(s->ops->code_take(s->ctx, code.code_hash, &taken), 0);
	assert_true(taken.used);

	memset(&tok, 0, sizeof(tok));
	idp_store_hash("the-token", tok.token_hash);
	memcpy(tok.code_hash, code.code_hash, sizeof(tok.code_hash));
	tok.user_id = u.id;
	tok.expires = now + 60;
	assert_int_equal(s->ops->token_put(s->ctx, &tok), 0);
	assert_int_equal(s->ops->token_get(s->ctx, tok.token_hash, now, &tg), 0);
	assert_int_equal(s->ops->token_revoke_by_code(s->ctx, code.code_hash), 0);
	assert_int_equal(s->ops->token_get(s->ctx, tok.token_hash, now, &tg), IDP_STORE_NOT_FOUND);

	assert_int_equal(s->ops->nonce_put(s->ctx, "n1", now + 60), 0);
	assert_int_equal(s->ops->nonce_take(s->ctx, "n1", now), 0);
	assert_int_equal(s->ops->nonce_take(s->ctx, "n1", now), IDP_NONCE_USED);
	assert_int_equal(s->ops->nonce_take(s->ctx, "n2", now), IDP_STORE_NOT_FOUND);
	assert_int_equal(s->ops->nonce_put(s->ctx, "n3", now - 1), 0);
	assert_int_equal(s->ops->nonce_take(s->ctx, "n3", now), IDP_NONCE_EXPIRED);

	assert_int_equal(s->ops->rate_hit(s->ctx, "ip:127.0.0.1", 60, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(s->ops->rate_hit(s->ctx, "ip:127.0.0.1", 60, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(s->ops->rate_hit(s->ctx, "ip:127.0.0.1", 120, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(s->ops->purge(s->ctx, now + 7200), 0);
	idp_store_close(s);

	/* reopening: schema already at its version, data kept */
	s = idp_store_sqlite_open(path);
	assert_non_null(s);
	assert_int_equal(s->ops->user_get(s->ctx, u.id, &got), 0);
	idp_store_close(s);

	/* a version-1 database (before persona/representative) is migrated */
	{
		sqlite3 *db;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "ALTER TABLE users DROP COLUMN persona;"
					      "ALTER TABLE users DROP COLUMN rep_rfc;"
					      "ALTER TABLE users DROP COLUMN rep_curp;"
					      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		s = idp_store_sqlite_open(path);
		assert_non_null(s);
		assert_int_equal(s->ops->user_get(s->ctx, u.id, &got), 0);
		assert_string_equal(got.persona, "");
		snprintf(got.persona, sizeof(got.persona), "moral");
		snprintf(got.rep_rfc, sizeof(got.rep_rfc), "MALM850505QX3");
		assert_int_equal(s->ops->user_put(s->ctx, &got), 0);
		assert_int_equal(s->ops->user_get(s->ctx, u.id, &got), 0);
		assert_string_equal(got.persona, "moral");
		assert_string_equal(got.rep_rfc, "MALM850505QX3");
		idp_store_close(s);
	}

	/* a database from a newer version is refused */
	{
		sqlite3 *db;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		assert_null(idp_store_sqlite_open(path));
	}
	for (const char *suffix = ""; suffix; suffix = !*suffix ? "-wal" : !strcmp(suffix, "-wal") ? "-shm" : NULL) {
		char f[160];
		snprintf(f, sizeof(f), "%s%s", path, suffix);
		unlink(f);
	}
	rmdir(dir);
}

static void test_hash(void **state)
{
	char h[65];
	idp_store_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_too_many),
		cmocka_unit_test(test_pkce),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_ocsp_responders),
		cmocka_unit_test(test_credential_json),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_hash),
	};
	llv_log_init("test_idp_core");
	llv_log_set_level(LLV_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
