/* p11-sign-bench: times the sequence a signing client really performs against
 * a PKCS#11 module, so two modules can be compared in the same run:
 *
 *   C_Initialize -> find the certificate -> find its private key (same CKA_ID)
 *   -> C_Login(CKU_USER) -> C_SignInit -> [C_Login(CKU_CONTEXT_SPECIFIC) when
 *   the key is always-authenticate] -> C_Sign -> C_Finalize
 *
 * Usage: p11-sign-bench --module SO --pin-file F [--id HEX] [--mech sha256-rsa|ecdsa-sha256]
 *                       [--iterations N] [--verify-cert OUT.der]
 * Prints one line per iteration ("iter N: total_ms=...") and a summary line
 * "median_ms=X min_ms=Y" that bench/run-opensc-vcard.sh collects.
 *
 * Sign-loop mode (bench/efirma-vs-softhsm.sh): --sign-loop SECONDS
 * [--token-label LABEL] initializes once, logs in once, then repeats
 * C_SignInit + C_Sign for SECONDS and prints "signs=N seconds=S
 * signs_per_sec=X": the throughput of a logged-in token. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#include "hex.h"
#include "secmem.h"

struct bench_opts {
	const char *module;
	const char *pin_file;
	uint8_t id[64];
	long id_len;
	CK_MECHANISM_TYPE mech;
	int iterations;
	const char *sig_out;
	const char *cert_out;
	double loop_seconds;      /* > 0: sign-loop mode */
	const char *token_label;  /* sign-loop: the slot whose token has this label */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11-sign-bench: %s failed: CKR 0x%08lx\n", what, (unsigned long)rv);
	return -1;
}

static int read_pin(const char *path, char *pin, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "p11-sign-bench: cannot open PIN file %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(pin, (int)cap, f)) {
		fclose(f);
		fprintf(stderr, "p11-sign-bench: empty PIN file %s\n", path);
		return -1;
	}
	fclose(f);
	pin[strcspn(pin, "\r\n")] = '\0';
	return 0;
}

/* Finds the first object of a class whose CKA_ID matches (any when id_len == 0). */
static int find_object(CK_FUNCTION_LIST_PTR p11, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		       const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ULONG n = 0;
	CK_RV rv = p11->C_FindObjectsInit(s, tmpl, id_len ? 2 : 1);
	if (rv != CKR_OK)
		return fail("C_FindObjectsInit", rv);
	rv = p11->C_FindObjects(s, out, 1, &n);
	p11->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return fail("C_FindObjects", rv);
	if (n != 1) {
		fprintf(stderr, "p11-sign-bench: no object of class %lu with that CKA_ID\n", (unsigned long)cls);
		return -1;
	}
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len) {
		if (f)
			fclose(f);
		fprintf(stderr, "p11-sign-bench: cannot write %s\n", path);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int first_slot_with_token(CK_FUNCTION_LIST_PTR p11, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_RV rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return fail("C_GetSlotList", rv);
	if (n == 0) {
		fprintf(stderr, "p11-sign-bench: no token present\n");
		return -1;
	}
	*slot = slots[0];
	return 0;
}

/* One full client sequence; returns 0 and the signature length in *sig_len. */
static int run_once(CK_FUNCTION_LIST_PTR p11, const struct bench_opts *o, const char *pin,
		    uint8_t *sig, CK_ULONG *sig_len, int save_cert)
{
	static const char message[] = "Llavero benchmark: firma de un tramite";
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE cert, key;
	CK_BBOOL always = CK_FALSE;
	CK_MECHANISM mech = { o->mech, NULL, 0 };
	CK_RV rv;
	int ret = -1;

	rv = p11->C_Initialize(NULL);
	if (rv != CKR_OK)
		return fail("C_Initialize", rv);
	if (first_slot_with_token(p11, &slot) < 0)
		goto out;
	rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		fail("C_OpenSession", rv);
		goto out;
	}
	if (find_object(p11, s, CKO_CERTIFICATE, o->id, (size_t)o->id_len, &cert) < 0)
		goto out;
	if (save_cert && o->cert_out) {
		uint8_t der[8192];
		CK_ATTRIBUTE a = { CKA_VALUE, der, sizeof(der) };
		rv = p11->C_GetAttributeValue(s, cert, &a, 1);
		if (rv != CKR_OK || write_file(o->cert_out, der, a.ulValueLen) < 0) {
			fail("C_GetAttributeValue(CKA_VALUE)", rv);
			goto out;
		}
	}
	rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK) {
		fail("C_Login", rv);
		goto out;
	}
	if (find_object(p11, s, CKO_PRIVATE_KEY, o->id, (size_t)o->id_len, &key) < 0)
		goto out;
	CK_ATTRIBUTE aa = { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) };
	if (p11->C_GetAttributeValue(s, key, &aa, 1) != CKR_OK)
		always = CK_FALSE;
	rv = p11->C_SignInit(s, &mech, key);
	if (rv != CKR_OK) {
		fail("C_SignInit", rv);
		goto out;
	}
	if (always) {
		rv = p11->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)pin, strlen(pin));
		if (rv != CKR_OK) {
			fail("C_Login(CKU_CONTEXT_SPECIFIC)", rv);
			goto out;
		}
	}
	rv = p11->C_Sign(s, (CK_BYTE_PTR)message, sizeof(message) - 1, sig, sig_len);
	if (rv != CKR_OK) {
		fail("C_Sign", rv);
		goto out;
	}
	ret = 0;
out:
	rv = p11->C_Finalize(NULL);
	if (rv != CKR_OK && ret == 0)
		return fail("C_Finalize", rv);
	return ret;
}

/* ---- sign-loop mode: throughput of a logged-in token ---------------------- */

/* The slot whose token label (blank-padded) is label. */
static int slot_by_label(CK_FUNCTION_LIST_PTR p11, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_RV rv = p11->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return fail("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		size_t len = sizeof(ti.label);
		while (len && ti.label[len - 1] == ' ')
			len--;
		if (len == strlen(label) && !memcmp(ti.label, label, len)) {
			*slot = slots[i];
			return 0;
		}
	}
	fprintf(stderr, "p11-sign-bench: no token labelled '%s'\n", label);
	return -1;
}

static int sign_loop(CK_FUNCTION_LIST_PTR p11, const struct bench_opts *o, const char *pin)
{
	static const char message[] = "Llavero benchmark: firma de un tramite";
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM mech = { o->mech, NULL, 0 };
	uint8_t sig[1024];
	CK_ULONG sig_len = 0;
	long signs = 0;
	int ret = -1;

	CK_RV rv = p11->C_Initialize(NULL);
	if (rv != CKR_OK)
		return fail("C_Initialize", rv);
	if ((o->token_label ? slot_by_label(p11, o->token_label, &slot)
			    : first_slot_with_token(p11, &slot)) < 0)
		goto out;
	rv = p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		fail("C_OpenSession", rv);
		goto out;
	}
	rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK) {
		fail("C_Login", rv);
		goto out;
	}
	if (find_object(p11, s, CKO_PRIVATE_KEY, o->id, (size_t)o->id_len, &key) < 0)
		goto out;
	double t0 = now_ms(), elapsed = 0;
	do {
		for (int i = 0; i < 16; i++) {
			sig_len = sizeof(sig);
			rv = p11->C_SignInit(s, &mech, key);
			if (rv == CKR_OK)
				rv = p11->C_Sign(s, (CK_BYTE_PTR)message, sizeof(message) - 1, sig,
						 &sig_len);
			if (rv != CKR_OK) {
				fail("C_SignInit/C_Sign", rv);
				goto out;
			}
			signs++;
		}
		elapsed = (now_ms() - t0) / 1e3;
	} while (elapsed < o->loop_seconds);
	printf("signs=%ld seconds=%.3f signs_per_sec=%.1f\n", signs, elapsed, signs / elapsed);
	if (o->sig_out && write_file(o->sig_out, sig, sig_len) < 0)
		goto out;
	ret = 0;
out:
	p11->C_Finalize(NULL);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mech = CKM_SHA256_RSA_PKCS;
	o->iterations = 10;
	for (int i = 1; i < argc; i += 2) { /* --option value pairs */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			goto usage;
		if (!strcmp(a, "--module"))
			o->module = v;
		else if (!strcmp(a, "--pin-file"))
			o->pin_file = v;
		else if (!strcmp(a, "--id")) {
			o->id_len = llv_hex_decode(v, o->id, sizeof(o->id));
			if (o->id_len < 0)
				goto usage;
		} else if (!strcmp(a, "--mech")) {
			if (!strcmp(v, "sha256-rsa"))
				o->mech = CKM_SHA256_RSA_PKCS;
			else if (!strcmp(v, "ecdsa-sha256"))
				o->mech = CKM_ECDSA_SHA256;
			else
				goto usage;
		} else if (!strcmp(a, "--iterations"))
			o->iterations = atoi(v);
		else if (!strcmp(a, "--signature-out"))
			o->sig_out = v;
		else if (!strcmp(a, "--cert-out"))
			o->cert_out = v;
		else if (!strcmp(a, "--sign-loop"))
			o->loop_seconds = atof(v);
		else if (!strcmp(a, "--token-label"))
			o->token_label = v;
		else
			goto usage;
	}
	if (o->module && o->pin_file && o->iterations > 0 && o->iterations <= 10000)
		return 0;
usage:
	fprintf(stderr, "usage: p11-sign-bench --module SO --pin-file F [--id HEX] "
			"[--mech sha256-rsa|ecdsa-sha256] [--iterations N] "
			"[--signature-out F] [--cert-out F]\n"
			"       p11-sign-bench --module SO --pin-file F --sign-loop SECONDS "
			"[--token-label LABEL] [--id HEX] [--mech ...] [--signature-out F]\n");
	return -1;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	char *pin = llv_secure_alloc(256);
	double *times = NULL;
	int ret = 1;

	if (!pin || parse_args(argc, argv, &o) < 0 || read_pin(o.pin_file, pin, 256) < 0)
		goto out;
	void *lib = dlopen(o.module, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "p11-sign-bench: dlopen %s: %s\n", o.module, dlerror());
		goto out;
	}
	CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
	CK_FUNCTION_LIST_PTR p11 = NULL;
	if (!get_list || get_list(&p11) != CKR_OK) {
		fprintf(stderr, "p11-sign-bench: %s has no usable C_GetFunctionList\n", o.module);
		goto out;
	}
	if (o.loop_seconds > 0) {
		ret = sign_loop(p11, &o, pin) < 0 ? 1 : 0;
		goto out;
	}
	times = calloc((size_t)o.iterations, sizeof(*times));
	if (!times)
		goto out;
	uint8_t sig[1024];
	CK_ULONG sig_len = 0;
	for (int i = 0; i < o.iterations; i++) {
		sig_len = sizeof(sig);
		double t0 = now_ms();
		if (run_once(p11, &o, pin, sig, &sig_len, i == 0) < 0)
			goto out;
		times[i] = now_ms() - t0;
		printf("iter %d: total_ms=%.3f\n", i, times[i]);
	}
	if (o.sig_out && write_file(o.sig_out, sig, sig_len) < 0)
		goto out;
	qsort(times, (size_t)o.iterations, sizeof(*times), cmp_double);
	printf("iterations=%d median_ms=%.3f min_ms=%.3f max_ms=%.3f\n", o.iterations,
	       times[o.iterations / 2], times[0], times[o.iterations - 1]);
	ret = 0;
out:
	free(times);
	llv_secure_free(pin, 256);
	return ret;
}
