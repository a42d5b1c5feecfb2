/* Unit tests of pkcs11/efirma_files.c: the e.firma .cer/.key loader.
 *
 * Fixtures: tests/fixtures/gen-fixtures.sh (run here, idempotent) and, when
 * present, SAT's published test files in ../shared/testdata/sat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "efirma_files.h"

/* ---- fixtures ---------------------------------------------------------------- */

#define MAX_VARS 128
static char *var_names[MAX_VARS], *var_values[MAX_VARS];
static size_t n_vars;
static char tmpdir[256];

static const char *fix(const char *name)
{
	for (size_t i = 0; i < n_vars; i++)
		if (!strcmp(var_names[i], name))
			return var_values[i];
	fail_msg("fixtures.env has no %s", name);
	return NULL;
}

static int load_env(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n_vars < MAX_VARS) {
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		v[strcspn(v, "\n")] = '\0';
		size_t len = strlen(v);
		if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
			v[len - 1] = '\0';
			v++;
		}
		var_names[n_vars] = strdup(line);
		var_values[n_vars] = strdup(v);
		n_vars++;
	}
	fclose(f);
	return 0;
}

static int group_setup(void **state)
{
	char cmd[1024];
	const char *dir = getenv("LLAVERO_FIXTURES_DIR");
	if (!dir)
		dir = EFIRMA_FIXTURES_DIR;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >/dev/null", EFIRMA_GEN_FIXTURES, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "gen-fixtures.sh failed\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s/fixtures.env", dir);
	if (load_env(cmd) < 0)
		return -1;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/efirma-unit.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (tmpdir[0] && system(cmd) != 0)
		return -1;
	for (size_t i = 0; i < n_vars; i++) {
		free(var_names[i]);
		free(var_values[i]);
	}
	return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *data = NULL;
	if (llv_read_file(path, 1 << 20, &data, len) < 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return data;
}

static void put(const char *path, const void *data, size_t len)
{
	assert_int_equal(llv_atomic_write(path, data, len, 0600), 0);
}

static void copy(const char *from, const char *to)
{
	size_t len;
	uint8_t *d = slurp(from, &len);
	put(to, d, len);
	free(d);
}

static char *tmp_path(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

/* Loads cer + key and opens the key with password; returns the rc. */
static enum efirma_rc open_with(const char *cer, const char *key, const char *pass)
{
	struct efirma_cert c;
	struct efirma_key_file k;
	EVP_PKEY *pkey = NULL;
	assert_int_equal(efirma_cert_load(cer, &c), EFIRMA_OK);
	assert_int_equal(efirma_key_load(key, &k), EFIRMA_OK);
	enum efirma_rc rc = efirma_key_decrypt(&k, pass, strlen(pass), &pkey);
	if (rc == EFIRMA_OK) {
		assert_non_null(pkey);
		rc = efirma_key_matches_cert(pkey, &c);
	} else {
		assert_null(pkey);
	}
	EVP_PKEY_free(pkey);
	efirma_key_file_free(&k);
	efirma_cert_free(&c);
	return rc;
}

/* ---- certificates ------------------------------------------------------------ */

static void test_fisica_cert(void **state)
{
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_FISICA_CER"), &c), EFIRMA_OK);
	assert_int_equal(c.kind, EFIRMA_KIND_FIEL);
	assert_false(c.moral);
	assert_false(c.expired);
	assert_int_equal(c.key_bits, 2048);
	assert_string_equal(c.rfc, fix("FIX_FISICA_RFC"));
	assert_string_equal(c.rep_rfc, "");
	assert_string_equal(c.curp, fix("FIX_FISICA_CURP"));
	assert_string_equal(c.rep_curp, "");
	assert_string_equal(c.name, fix("FIX_FISICA_NAME"));
	assert_string_equal(c.serial, fix("FIX_FISICA_SERIAL"));
	/* The DER is kept byte for byte. */
	size_t len;
	uint8_t *der = slurp(fix("FIX_FISICA_CER"), &len);
	assert_int_equal(c.der_len, len);
	assert_memory_equal(c.der, der, len);
	free(der);
	efirma_cert_free(&c);
}

static void test_moral_cert(void **state)
{
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_MORAL_CER"), &c), EFIRMA_OK);
	assert_int_equal(c.kind, EFIRMA_KIND_FIEL);
	assert_true(c.moral);
	assert_string_equal(c.rfc, fix("FIX_MORAL_RFC"));
	assert_string_equal(c.rep_rfc, fix("FIX_MORAL_REP_RFC"));
	assert_string_equal(c.curp, "");
	assert_string_equal(c.rep_curp, fix("FIX_MORAL_REP_CURP"));
	assert_string_equal(c.name, fix("FIX_MORAL_NAME"));
	assert_string_equal(c.serial, fix("FIX_MORAL_SERIAL"));
	efirma_cert_free(&c);
}

static void test_csd_cert(void **state)
{
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_CSD_CER"), &c), EFIRMA_OK);
	assert_int_equal(c.kind, EFIRMA_KIND_CSD);
	assert_string_equal(efirma_kind_str(c.kind), "CSD");
	assert_string_equal(c.rfc, fix("FIX_CSD_RFC"));
	efirma_cert_free(&c);
}

static void test_expired_cert(void **state)
{
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_EXPIRED_CER"), &c), EFIRMA_OK);
	assert_true(c.expired);
	assert_int_equal(c.kind, EFIRMA_KIND_FIEL);
	assert_string_equal(c.rfc, fix("FIX_EXPIRED_RFC"));
	assert_string_equal(c.curp, fix("FIX_EXPIRED_CURP"));
	efirma_cert_free(&c);
	/* An expired e.firma still opens (the verifier decides what to accept). */
	assert_int_equal(open_with(fix("FIX_EXPIRED_CER"), fix("FIX_EXPIRED_KEY"),
				   fix("FIX_EXPIRED_PASSWORD")),
			 EFIRMA_OK);
}

static void test_pem_cert_accepted(void **state)
{
	struct efirma_cert a, b;
	assert_int_equal(efirma_cert_load(fix("FIX_FISICA_CERT_PEM"), &a), EFIRMA_OK);
	assert_int_equal(efirma_cert_load(fix("FIX_FISICA_CER"), &b), EFIRMA_OK);
	assert_int_equal(a.der_len, b.der_len);
	assert_memory_equal(a.der, b.der, a.der_len);
	assert_memory_equal(a.id, b.id, sizeof(a.id));
	efirma_cert_free(&a);
	efirma_cert_free(&b);
}

static void test_ec_cert_unsupported(void **state)
{
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_EC256_CER"), &c), EFIRMA_ERR_UNSUPPORTED);
	assert_null(c.der);
}

static void test_bad_certs(void **state)
{
	struct efirma_cert c;
	size_t len;
	uint8_t *der = slurp(fix("FIX_FISICA_CER"), &len);
	/* Truncated anywhere. */
	for (size_t cut = 0; cut < len; cut += 97)
		assert_int_equal(efirma_cert_parse(der, cut, &c), EFIRMA_ERR_CORRUPT);
	assert_int_equal(efirma_cert_parse(der, len - 1, &c), EFIRMA_ERR_CORRUPT);
	/* Trailing garbage. */
	uint8_t *more = malloc(len + 3);
	memcpy(more, der, len);
	memcpy(more + len, "xyz", 3);
	assert_int_equal(efirma_cert_parse(more, len + 3, &c), EFIRMA_ERR_CORRUPT);
	free(more);
	/* Not a certificate at all: the .key. */
	size_t klen;
	uint8_t *key = slurp(fix("FIX_FISICA_KEY"), &klen);
	assert_int_equal(efirma_cert_parse(key, klen, &c), EFIRMA_ERR_CORRUPT);
	free(key);
	free(der);
	assert_int_equal(efirma_cert_load(tmp_path("does-not-exist.cer"), &c), EFIRMA_ERR_IO);
	assert_int_equal(efirma_cert_parse(NULL, 0, &c), EFIRMA_ERR_CORRUPT);
}

/* ---- keys ------------------------------------------------------------------- */

static void test_key_params(void **state)
{
	struct efirma_key_file k;
	assert_int_equal(efirma_key_load(fix("FIX_FISICA_KEY"), &k), EFIRMA_OK);
	assert_int_equal(k.iterations, 2048);
	assert_int_equal(k.cipher_nid, NID_des_ede3_cbc);
	assert_int_equal(k.prf_nid, NID_hmacWithSHA1);
	efirma_key_file_free(&k);
}

static void test_right_password(void **state)
{
	assert_int_equal(open_with(fix("FIX_FISICA_CER"), fix("FIX_FISICA_KEY"),
				   fix("FIX_FISICA_PASSWORD")),
			 EFIRMA_OK);
	assert_string_equal(fix("FIX_FISICA_PASSWORD"), "12345678a");
	assert_int_equal(open_with(fix("FIX_MORAL_CER"), fix("FIX_MORAL_KEY"),
				   fix("FIX_MORAL_PASSWORD")),
			 EFIRMA_OK);
	assert_int_equal(open_with(fix("FIX_CSD_CER"), fix("FIX_CSD_KEY"),
				   fix("FIX_CSD_PASSWORD")),
			 EFIRMA_OK);
}

static void test_wrong_password(void **state)
{
	const char *wrong[] = { "12345678b", "", "12345678a ", "x", "12345678A",
				"contraseña incorrecta muy larga 0123456789" };
	for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++)
		assert_int_equal(open_with(fix("FIX_FISICA_CER"), fix("FIX_FISICA_KEY"), wrong[i]),
				 EFIRMA_ERR_BAD_PASSWORD);
	/* The password length is what counts, not a NUL. */
	struct efirma_key_file k;
	EVP_PKEY *pkey = NULL;
	assert_int_equal(efirma_key_load(fix("FIX_FISICA_KEY"), &k), EFIRMA_OK);
	assert_int_equal(efirma_key_decrypt(&k, "12345678a", 8, &pkey), EFIRMA_ERR_BAD_PASSWORD);
	/* (A trailing NUL is no different: HMAC zero-pads its key, so PBKDF2
	 * cannot tell "12345678a" from "12345678a\0".) */
	assert_int_equal(efirma_key_decrypt(&k, "12345678a", 9, &pkey), EFIRMA_OK);
	EVP_PKEY_free(pkey);
	efirma_key_file_free(&k);
}

static void test_corrupt_key(void **state)
{
	struct efirma_key_file k;
	size_t len;
	uint8_t *der = slurp(fix("FIX_FISICA_KEY"), &len);

	/* Truncated at every length: always a corrupt file, never "wrong password". */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(efirma_key_parse(der, cut, 0, &k), EFIRMA_ERR_CORRUPT);
	/* Through the file path too. */
	put(tmp_path("truncated.key"), der, len / 2);
	assert_int_equal(efirma_key_load(tmp_path("truncated.key"), &k), EFIRMA_ERR_CORRUPT);
	put(tmp_path("empty.key"), "", 0);
	assert_int_equal(efirma_key_load(tmp_path("empty.key"), &k), EFIRMA_ERR_CORRUPT);
	assert_int_equal(efirma_key_load(tmp_path("missing.key"), &k), EFIRMA_ERR_IO);
	/* A certificate is not a key. */
	size_t clen;
	uint8_t *cer = slurp(fix("FIX_FISICA_CER"), &clen);
	assert_int_equal(efirma_key_parse(cer, clen, 0, &k), EFIRMA_ERR_CORRUPT);
	free(cer);
	/* Trailing bytes. */
	uint8_t *more = malloc(len + 1);
	memcpy(more, der, len);
	more[len] = 0;
	assert_int_equal(efirma_key_parse(more, len + 1, 0, &k), EFIRMA_ERR_CORRUPT);
	/* The outer tag broken. */
	memcpy(more, der, len);
	more[0] = 0x31;
	assert_int_equal(efirma_key_parse(more, len, 0, &k), EFIRMA_ERR_CORRUPT);
	/* A damaged ciphertext cannot be told from a wrong password (no MAC):
	 * wherever the damage is, the key must never open as good. Damage in the
	 * padding or the DER reads as a wrong password; damage inside a private
	 * value is caught by the test signature (corrupt). */
	assert_int_equal(efirma_key_parse(der, len, 0, &k), EFIRMA_OK);
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *enc;
	X509_SIG_get0(k.p8, &alg, &enc);
	size_t enc_len = (size_t)ASN1_STRING_length(enc);
	efirma_key_file_free(&k);
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(fix("FIX_FISICA_CER"), &c), EFIRMA_OK);
	int seen_bad_pass = 0, seen_corrupt = 0;
	for (size_t pos = len - enc_len; pos < len; pos += 5) {
		memcpy(more, der, len);
		more[pos] ^= 0x01;
		assert_int_equal(efirma_key_parse(more, len, 0, &k), EFIRMA_OK);
		EVP_PKEY *pkey = NULL;
		enum efirma_rc rc = efirma_key_decrypt(&k, "12345678a", 9, &pkey);
		if (rc == EFIRMA_OK) {
			rc = efirma_key_matches_cert(pkey, &c);
			EVP_PKEY_free(pkey);
		} else {
			assert_null(pkey);
		}
		assert_int_not_equal(rc, EFIRMA_OK);
		seen_bad_pass += rc == EFIRMA_ERR_BAD_PASSWORD;
		seen_corrupt += rc == EFIRMA_ERR_CORRUPT || rc == EFIRMA_ERR_MISMATCH;
		efirma_key_file_free(&k);
	}
	assert_true(seen_bad_pass > 0);
	print_message("damaged ciphertext: %d read as a wrong password, %d as a damaged key\n",
		      seen_bad_pass, seen_corrupt);
	efirma_cert_free(&c);
	free(more);
	free(der);
}

static void test_iteration_limit(void **state)
{
	struct efirma_key_file k;
	size_t len;
	uint8_t *der = slurp(fix("FIX_FISICA_KEY"), &len);
	assert_int_equal(efirma_key_parse(der, len, 2047, &k), EFIRMA_ERR_UNSUPPORTED);
	assert_int_equal(efirma_key_parse(der, len, 2048, &k), EFIRMA_OK);
	efirma_key_file_free(&k);
	free(der);
}

static void test_mismatched_pair(void **state)
{
	assert_int_equal(open_with(fix("FIX_MORAL_CER"), fix("FIX_FISICA_KEY"),
				   fix("FIX_FISICA_PASSWORD")),
			 EFIRMA_ERR_MISMATCH);
	/* Through a pair: the key opens but is refused. */
	struct efirma_pair p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(efirma_cert_load(fix("FIX_MORAL_CER"), &p.cert), EFIRMA_OK);
	p.key_paths[0] = strdup(fix("FIX_FISICA_KEY"));
	p.n_keys = 1;
	EVP_PKEY *pkey = (EVP_PKEY *)1;
	assert_int_equal(efirma_pair_open(&p, "12345678a", 9, &pkey), EFIRMA_ERR_MISMATCH);
	assert_null(pkey);
	efirma_pair_free(&p);
}

/* Re-encrypts the fisica key with openssl pkcs8 ARGS into name. */
static int reencrypt(const char *name, const char *args, const char *form)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "openssl pkcs8 -topk8 -in '%s' %s -outform %s -passout pass:otra-clave -out '%s' 2>/dev/null",
		 fix("FIX_FISICA_KEY_PEM"), args, form, tmp_path(name));
	return system(cmd);
}

static void test_other_pbes2_ciphers(void **state)
{
	struct efirma_key_file k;
	static const struct {
		const char *name, *args;
		int nid;
	} cases[] = {
		{ "aes256.key", "-v2 aes-256-cbc -v2prf hmacWithSHA256", NID_aes_256_cbc },
		{ "aes128.key", "-v2 aes-128-cbc", NID_aes_128_cbc },
		{ "des3-sha512.key", "-v2 des3 -v2prf hmacWithSHA512 -iter 10000", NID_des_ede3_cbc },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(reencrypt(cases[i].name, cases[i].args, "DER"), 0);
		assert_int_equal(efirma_key_load(tmp_path(cases[i].name), &k), EFIRMA_OK);
		assert_int_equal(k.cipher_nid, cases[i].nid);
		efirma_key_file_free(&k);
		assert_int_equal(open_with(fix("FIX_FISICA_CER"), tmp_path(cases[i].name),
					   "otra-clave"),
				 EFIRMA_OK);
		assert_int_equal(open_with(fix("FIX_FISICA_CER"), tmp_path(cases[i].name),
					   "12345678a"),
				 EFIRMA_ERR_BAD_PASSWORD);
	}
	/* A PEM "ENCRYPTED PRIVATE KEY" is accepted too. */
	assert_int_equal(reencrypt("pem.key", "-v2 aes-256-cbc", "PEM"), 0);
	assert_int_equal(open_with(fix("FIX_FISICA_CER"), tmp_path("pem.key"), "otra-clave"),
			 EFIRMA_OK);
	/* PBES1 (PKCS#12 PBE) is refused as unsupported, not as a bad password. */
	assert_int_equal(reencrypt("pbes1.key", "-v1 PBE-SHA1-3DES", "DER"), 0);
	assert_int_equal(efirma_key_load(tmp_path("pbes1.key"), &k), EFIRMA_ERR_UNSUPPORTED);
	/* An unencrypted PKCS#8 is not an e.firma .key. */
	assert_int_equal(efirma_key_load(fix("FIX_FISICA_KEY_PEM"), &k), EFIRMA_ERR_CORRUPT);
}

/* ---- pairs and scanning ------------------------------------------------------- */

static void test_scan_dir(void **state)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/scan", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	char path[700];
#define IN(name) (snprintf(path, sizeof(path), "%s/%s", dir, name), path)
	copy(fix("FIX_FISICA_CER"), IN("fisica.cer"));
	copy(fix("FIX_FISICA_KEY"), IN("fisica.key"));
	copy(fix("FIX_MORAL_CER"), IN("moral.CER"));
	copy(fix("FIX_MORAL_KEY"), IN("moral.key"));
	copy(fix("FIX_CSD_CER"), IN("csd.cer"));
	copy(fix("FIX_CSD_KEY"), IN("csd.key"));
	/* SAT's download names: the .key does not share the .cer's name. */
	copy(fix("FIX_EXPIRED_CER"), IN("00001000000900000004.cer"));
	copy(fix("FIX_EXPIRED_KEY"), IN("Claveprivada_FIEL_LOCM700202XY4_20200101.key"));
	/* Noise: a .cer without a key, an EC certificate, junk, a directory. */
	copy(fix("FIX_CA_ROOT_DER"), IN("ca-root.cer"));
	put(IN("junk.cer"), "not a certificate", 17);
	assert_int_equal(mkdir(IN("sub.cer"), 0700), 0);

	struct efirma_pair_list list = { 0 };
	assert_int_equal(efirma_scan_dir(dir, &list), EFIRMA_OK);
	/* CA certificates (SAT's sit next to pairs) are no token. */
	size_t want = 4;
	assert_int_equal(list.n, want);
	const char *expect[] = { "00001000000900000004.cer", "csd.cer", "fisica.cer", "moral.CER" };
	for (size_t i = 0; i < want; i++) {
		const char *base = strrchr(list.items[i].cer_path, '/') + 1;
		assert_string_equal(base, expect[i]);
		assert_true(list.items[i].n_keys >= 1);
	}
	/* Name pairing. */
	assert_int_equal(list.items[2].n_keys, 1);
	assert_string_equal(strrchr(list.items[2].key_paths[0], '/') + 1, "fisica.key");
	assert_int_equal(list.items[1].cert.kind, EFIRMA_KIND_CSD);
	/* SAT naming: the unclaimed .key, found by the RFC in its name. */
	assert_int_equal(list.items[0].n_keys, 1);
	EVP_PKEY *pkey = NULL;
	assert_int_equal(efirma_pair_open(&list.items[0], "wrong", 5, &pkey),
			 EFIRMA_ERR_BAD_PASSWORD);
	assert_int_equal(efirma_pair_open(&list.items[0], fix("FIX_EXPIRED_PASSWORD"),
					  strlen(fix("FIX_EXPIRED_PASSWORD")), &pkey),
			 EFIRMA_OK);
	EVP_PKEY_free(pkey);
	efirma_pair_list_free(&list);
	assert_int_equal(list.n, 0);

	assert_int_equal(efirma_scan_dir(tmp_path("no-such-dir"), &list), EFIRMA_ERR_IO);
#undef IN
}

static void test_unpaired_candidates(void **state)
{
	/* Two .cer and two .key, none sharing a name: each .cer gets both
	 * .key files as candidates, and login binds the one that matches. */
	char dir[600], path[700];
	snprintf(dir, sizeof(dir), "%s/unpaired", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
#define IN(name) (snprintf(path, sizeof(path), "%s/%s", dir, name), path)
	copy(fix("FIX_FISICA_CER"), IN("a.cer"));
	copy(fix("FIX_MORAL_CER"), IN("b.cer"));
	copy(fix("FIX_MORAL_KEY"), IN("x.key"));
	copy(fix("FIX_FISICA_KEY"), IN("y.key"));
#undef IN
	struct efirma_pair_list list = { 0 };
	assert_int_equal(efirma_scan_dir(dir, &list), EFIRMA_OK);
	assert_int_equal(list.n, 2);
	assert_int_equal(list.items[0].n_keys, 2);
	EVP_PKEY *pkey = NULL;
	/* fisica's password opens y.key only (x.key: wrong password). */
	assert_int_equal(efirma_pair_open(&list.items[0], "12345678a", 9, &pkey), EFIRMA_OK);
	EVP_PKEY_free(pkey);
	assert_int_equal(list.items[0].n_keys, 1);
	assert_string_equal(strrchr(list.items[0].key_paths[0], '/') + 1, "y.key");
	/* Once bound, the other file is no longer tried. */
	assert_int_equal(efirma_pair_open(&list.items[0], fix("FIX_MORAL_PASSWORD"),
					  strlen(fix("FIX_MORAL_PASSWORD")), &pkey),
			 EFIRMA_ERR_BAD_PASSWORD);
	efirma_pair_list_free(&list);
}

static void test_config(void **state)
{
	const char *conf = tmp_path("pkcs11.conf");
	const char text[] = "# llavero pkcs11\n"
			    "reader_filter = foo\n"
			    "efirma_dir = /srv/efirma   # comment\n"
			    "  efirma_dir=~/mis-firmas\n"
			    "efirma_dir =\n"
			    "garbage line\n"
			    "efirma_directory = /not/this\n";
	put(conf, text, sizeof(text) - 1);
	char **dirs = calloc(1, sizeof(*dirs));
	size_t n = 0;
	assert_int_equal(efirma_config_read(conf, &dirs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(dirs[0], "/srv/efirma");
	char want[512];
	snprintf(want, sizeof(want), "%s/mis-firmas", getenv("HOME") ? getenv("HOME") : "~");
	if (getenv("HOME") && *getenv("HOME"))
		assert_string_equal(dirs[1], want);
	assert_null(dirs[2]);
	efirma_dirs_free(dirs);

	/* The environment wins over every file. */
	setenv("LLAVERO_EFIRMA_DIR", "/a:/b::/c", 1);
	dirs = efirma_config_dirs();
	assert_non_null(dirs);
	assert_string_equal(dirs[0], "/a");
	assert_string_equal(dirs[1], "/b");
	assert_string_equal(dirs[2], "/c");
	assert_null(dirs[3]);
	efirma_dirs_free(dirs);
	unsetenv("LLAVERO_EFIRMA_DIR");

	setenv("LLAVERO_PKCS11_CONF", conf, 1);
	dirs = efirma_config_dirs();
	assert_string_equal(dirs[0], "/srv/efirma");
	efirma_dirs_free(dirs);
	unsetenv("LLAVERO_PKCS11_CONF");

	/* User config under XDG_CONFIG_HOME. */
	char xdg[600];
	snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	char sub[700];
	snprintf(sub, sizeof(sub), "%s/llavero", xdg);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/llavero/pkcs11.conf", xdg);
	put(sub, "efirma_dir = /home/x/efirma\n", 28);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	dirs = efirma_config_dirs();
	size_t i = 0;
	while (dirs[i] && strcmp(dirs[i], "/home/x/efirma"))
		i++;
	assert_non_null(dirs[i]);
	efirma_dirs_free(dirs);
	unsetenv("XDG_CONFIG_HOME");
}

static void test_scan_config(void **state)
{
	char dir[600], path[700];
	snprintf(dir, sizeof(dir), "%s/cfgscan", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/fisica.cer", dir);
	copy(fix("FIX_FISICA_CER"), path);
	snprintf(path, sizeof(path), "%s/fisica.key", dir);
	copy(fix("FIX_FISICA_KEY"), path);
	char env[1600];
	/* The same directory twice (once with a trailing slash) and a missing one. */
	snprintf(env, sizeof(env), "%s:%s/:%s/missing", dir, dir, tmpdir);
	setenv("LLAVERO_EFIRMA_DIR", env, 1);
	struct efirma_pair_list list = { 0 };
	assert_int_equal(efirma_scan_config(&list), EFIRMA_OK);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.items[0].cert.rfc, fix("FIX_FISICA_RFC"));
	efirma_pair_list_free(&list);
	unsetenv("LLAVERO_EFIRMA_DIR");
}

/* ---- SAT's published test files ---------------------------------------------- */

static bool sat_path(char *out, size_t cap, const char *rel)
{
	const char *dir = getenv("LLAVERO_SAT_DIR");
	snprintf(out, cap, "%s/%s", dir ? dir : EFIRMA_SAT_DIR, rel);
	if (access(out, R_OK) == 0)
		return true;
	fprintf(stderr, "SKIPPED: SAT test file %s is absent (../shared/testdata/sat)\n", out);
	return false;
}

static void test_sat_fiel(void **state)
{
	char cer[1024], key[1024];
	if (!sat_path(cer, sizeof(cer), "fiel-EKU9003173C9/EKU9003173C9.cer") ||
	    !sat_path(key, sizeof(key), "fiel-EKU9003173C9/EKU9003173C9.key"))
		skip();
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(cer, &c), EFIRMA_OK);
	assert_int_equal(c.kind, EFIRMA_KIND_FIEL);
	assert_true(c.moral);
	assert_string_equal(c.rfc, "EKU9003173C9");
	assert_string_equal(c.rep_rfc, "VADA800927DJ3");
	assert_string_equal(c.curp, "");
	assert_string_equal(c.rep_curp, "VADA800927HSRSRL05");
	assert_string_equal(c.name, "ESCUELA KEMPER URGATE SA DE CV");
	assert_int_equal(c.key_bits, 2048);
	assert_int_equal(strlen(c.serial), 20);
	efirma_cert_free(&c);
	struct efirma_key_file k;
	assert_int_equal(efirma_key_load(key, &k), EFIRMA_OK);
	assert_int_equal(k.iterations, 2048);
	assert_int_equal(k.cipher_nid, NID_des_ede3_cbc);
	efirma_key_file_free(&k);
	assert_int_equal(open_with(cer, key, "12345678a"), EFIRMA_OK);
	assert_int_equal(open_with(cer, key, "12345678b"), EFIRMA_ERR_BAD_PASSWORD);
}

static void test_sat_csd(void **state)
{
	char cer[1024], key[1024], fiel[1024];
	if (!sat_path(cer, sizeof(cer), "csd-EKU9003173C9/EKU9003173C9.cer") ||
	    !sat_path(key, sizeof(key), "csd-EKU9003173C9/EKU9003173C9.key") ||
	    !sat_path(fiel, sizeof(fiel), "fiel-EKU9003173C9/EKU9003173C9.cer"))
		skip();
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(cer, &c), EFIRMA_OK);
	assert_int_equal(c.kind, EFIRMA_KIND_CSD);
	assert_string_equal(c.rfc, "EKU9003173C9");
	assert_string_equal(c.rep_rfc, "VADA800927DJ3");
	assert_string_equal(c.rep_curp, "VADA800927HSRSRL05");
	efirma_cert_free(&c);
	assert_int_equal(open_with(cer, key, "12345678a"), EFIRMA_OK);
	/* Same holder, different key: the CSD key is not the e.firma's. */
	assert_int_equal(open_with(fiel, key, "12345678a"), EFIRMA_ERR_MISMATCH);
}

static void test_sat_expired(void **state)
{
	char cer[1024], key[1024];
	if (!sat_path(cer, sizeof(cer), "fiel-AAA010101AAA-expired/certificate.cer") ||
	    !sat_path(key, sizeof(key), "fiel-AAA010101AAA-expired/private_key.key"))
		skip();
	struct efirma_cert c;
	assert_int_equal(efirma_cert_load(cer, &c), EFIRMA_OK);
	assert_true(c.expired);
	assert_int_equal(c.kind, EFIRMA_KIND_FIEL);
	assert_string_equal(c.rfc, "AAA010101AAA");
	assert_string_equal(c.rep_rfc, "HEGT7610034S2");
	assert_string_equal(c.rep_curp, "HEGT761003MDFRNN09");
	efirma_cert_free(&c);
	assert_int_equal(open_with(cer, key, "12345678a"), EFIRMA_OK);

	/* certificate.cer + private_key.key: paired by the directory scan. */
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", cer);
	*strrchr(dir, '/') = '\0';
	struct efirma_pair_list list = { 0 };
	assert_int_equal(efirma_scan_dir(dir, &list), EFIRMA_OK);
	assert_int_equal(list.n, 1);
	EVP_PKEY *pkey = NULL;
	assert_int_equal(efirma_pair_open(&list.items[0], "12345678a", 9, &pkey), EFIRMA_OK);
	EVP_PKEY_free(pkey);
	efirma_pair_list_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fisica_cert),
		cmocka_unit_test(test_moral_cert),
		cmocka_unit_test(test_csd_cert),
		cmocka_unit_test(test_expired_cert),
		cmocka_unit_test(test_pem_cert_accepted),
		cmocka_unit_test(test_ec_cert_unsupported),
		cmocka_unit_test(test_bad_certs),
		cmocka_unit_test(test_key_params),
		cmocka_unit_test(test_right_password),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_corrupt_key),
		cmocka_unit_test(test_iteration_limit),
		cmocka_unit_test(test_mismatched_pair),
		cmocka_unit_test(test_other_pbes2_ciphers),
		cmocka_unit_test(test_scan_dir),
		cmocka_unit_test(test_unpaired_candidates),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_scan_config),
		cmocka_unit_test(test_sat_fiel),
		cmocka_unit_test(test_sat_csd),
		cmocka_unit_test(test_sat_expired),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
