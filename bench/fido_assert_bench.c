/* fido-assert-bench: time per getAssertion through the FIDO2 bridge (the
 * fido_bridge_webauthn_get call `llavero fido login` makes) against bare
 * libfido2 on the same llavero-vkey socket, interleaved in one run.
 *
 * Usage: fido-assert-bench --socket PATH [--iterations N] [--vkey-log FILE]
 *
 * Registers one non-discoverable credential through the bridge (untimed),
 * then per iteration, in turn:
 *   bridge      fido_bridge_webauthn_get: RequestOptionsJSON with the
 *               credential in allowCredentials, userVerification
 *               "discouraged"; opens the key, builds clientDataJSON, maps
 *               the answer to AuthenticationResponseJSON, closes the key
 *   bare-open   libfido2 alone: fido_dev_new + our minimal socket io +
 *               fido_dev_open, fido_dev_get_assert with the same allow list
 *               and a clientDataHash, fido_dev_close (the same device
 *               lifecycle as the bridge)
 *   bare-reuse  fido_dev_get_assert on a device opened once, before the loop
 * and prints "<kind> median_us=.. mean_us=.. min_us=.. p90_us=.." plus
 * "overhead_vs_bare_open=X% overhead_vs_bare_reuse=Y%" (medians, and the
 * same from the minimums); client_cpu_median_us is the CPU time of this
 * process per ceremony (the key's work is in llavero-vkey), which machine
 * load disturbs less than wall time.
 *
 * --vkey-log FILE (llavero-vkey run -v writes it): instead of timing, runs one
 * ceremony of each kind and counts in FILE the CTAPHID round trips (request
 * messages, "<- cid=.. cmd=" lines) and HID reports ("<-"/"->" frames) each
 * one cost: "rtt <kind> requests=N reports=M". */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fido.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64url.h"
#include "fido_bridge.h"
#include "log.h"

#define ORIGIN "https://login.llavero.example"
#define RPID "llavero.example"

enum kind { K_BRIDGE, K_BARE_OPEN, K_BARE_REUSE, K_COUNT };
static const char *const kind_names[K_COUNT] = { "bridge", "bare-open", "bare-reuse" };

/* ---- bare libfido2: the smallest io functions for the vkey's socket ------- */

static void *io_open(const char *path)
{
	struct sockaddr_un sa;
	int *fd = malloc(sizeof(*fd));

	if (fd == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		free(fd);
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	*fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*fd < 0 || connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (*fd >= 0)
			close(*fd);
		free(fd);
		return NULL;
	}
	return fd;
}

static void io_close(void *h)
{
	int *fd = h;

	close(*fd);
	free(fd);
}

static int io_read(void *h, unsigned char *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = *(int *)h, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms < 0 ? -1 : ms) <= 0)
		return -1;
	n = recv(pfd.fd, buf, len, 0);
	return n <= 0 ? -1 : (int)n;
}

static int io_write(void *h, const unsigned char *buf, size_t len)
{
	if (len < 2 || send(*(int *)h, buf + 1, len - 1, MSG_NOSIGNAL) != (ssize_t)(len - 1))
		return -1;
	return (int)len;
}

static const fido_dev_io_t bare_io = { io_open, io_close, io_read, io_write };

static fido_dev_t *bare_open(const char *path)
{
	fido_dev_t *d = fido_dev_new();

	if (d == NULL || fido_dev_set_io_functions(d, &bare_io) != FIDO_OK ||
	    fido_dev_open(d, path) != FIDO_OK) {
		fido_dev_free(&d);
		return NULL;
	}
	return d;
}

static int bare_assert(fido_dev_t *d, const uint8_t *id, size_t id_len)
{
	uint8_t cdh[32];
	fido_assert_t *a = fido_assert_new();
	int r;

	RAND_bytes(cdh, sizeof(cdh));
	if (a == NULL || fido_assert_set_rp(a, RPID) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_allow_cred(a, id, id_len) != FIDO_OK) {
		fido_assert_free(&a);
		return -1;
	}
	r = fido_dev_get_assert(d, a, NULL);
	if (r == FIDO_OK && (fido_assert_count(a) != 1 || fido_assert_sig_len(a, 0) == 0))
		r = -1;
	fido_assert_free(&a);
	return r == FIDO_OK ? 0 : -1;
}

/* ---- the bridge -------------------------------------------------------------- */

static int bridge_register(const char *device, char **id_b64)
{
	struct fido_bridge_ceremony c;
	uint8_t ch[32];
	char *chs;
	json_t *opts, *out = NULL;
	int r;

	RAND_bytes(ch, sizeof(ch));
	chs = llv_base64url_encode(ch, sizeof(ch));
	opts = json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s},s:s,s:{s:s,s:s}}",
			 "rp", "id", RPID, "name", "Llavero",
			 "user", "id", "YmVuY2g", "name", "bench", "displayName", "bench",
			 "challenge", chs,
			 "authenticatorSelection", "residentKey", "discouraged",
			 "userVerification", "discouraged");
	fido_bridge_ceremony_init(&c);
	c.device = device;
	c.origin = ORIGIN;
	c.options = opts;
	r = fido_bridge_webauthn_create(&c, &out);
	if (r == FIDO_BRIDGE_OK)
		*id_b64 = strdup(json_string_value(json_object_get(out, "id")));
	else
		fprintf(stderr, "register: %s: %s\n", fido_bridge_err_name(r), c.error);
	fido_bridge_ceremony_clear(&c);
	json_decref(out);
	json_decref(opts);
	free(chs);
	return r == FIDO_BRIDGE_OK && *id_b64 != NULL ? 0 : -1;
}

static int bridge_assert(const char *device, const char *id_b64)
{
	struct fido_bridge_ceremony c;
	uint8_t ch[32];
	char *chs;
	json_t *opts, *out = NULL;
	int r;

	RAND_bytes(ch, sizeof(ch));
	chs = llv_base64url_encode(ch, sizeof(ch));
	opts = json_pack("{s:s,s:s,s:[{s:s,s:s}],s:s}", "challenge", chs, "rpId", RPID,
			 "allowCredentials", "type", "public-key", "id", id_b64,
			 "userVerification", "discouraged");
	fido_bridge_ceremony_init(&c);
	c.device = device;
	c.origin = ORIGIN;
	c.options = opts;
	r = fido_bridge_webauthn_get(&c, &out);
	if (r != FIDO_BRIDGE_OK)
		fprintf(stderr, "bridge: %s: %s\n", fido_bridge_err_name(r), c.error);
	else if (json_object_get(json_object_get(out, "response"), "signature") == NULL)
		r = -1;
	fido_bridge_ceremony_clear(&c);
	json_decref(out);
	json_decref(opts);
	free(chs);
	return r == FIDO_BRIDGE_OK ? 0 : -1;
}

/* ---- measurement ------------------------------------------------------------ */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct ctx {
	const char *socket;
	char device[600];
	char *id_b64;
	uint8_t *id;
	size_t id_len;
	fido_dev_t *reused;
};

static int run_one(struct ctx *x, enum kind k)
{
	fido_dev_t *d;
	int r;

	switch (k) {
	case K_BRIDGE:
		return bridge_assert(x->device, x->id_b64);
	case K_BARE_OPEN:
		if ((d = bare_open(x->socket)) == NULL)
			return -1;
		r = bare_assert(d, x->id, x->id_len);
		fido_dev_close(d);
		fido_dev_free(&d);
		return r;
	default:
		return bare_assert(x->reused, x->id, x->id_len);
	}
}

/* Counts lines of the vkey's -v log: requests ("<- cid=.. cmd=") and all
 * HID reports ("<- cid=" and "-> cid=" lines). */
static void count_log(const char *path, long *requests, long *reports)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	*requests = *reports = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		bool in = strstr(line, ": <- cid=") != NULL, out = strstr(line, ": -> cid=") != NULL;

		if (in || out)
			(*reports)++;
		if (in && strstr(line, " cmd=") != NULL)
			(*requests)++;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct ctx x;
	const char *vkey_log = NULL;
	int iterations = 200;
	double *t[K_COUNT], *cpu[K_COUNT];
	double med[K_COUNT], mins[K_COUNT];

	memset(&x, 0, sizeof(x));
	llv_log_init("fido-assert-bench");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			x.socket = argv[++i];
		else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
			iterations = atoi(argv[++i]);
		else if (strcmp(argv[i], "--vkey-log") == 0 && i + 1 < argc)
			vkey_log = argv[++i];
		else {
			fprintf(stderr, "usage: %s --socket PATH [--iterations N] [--vkey-log FILE]\n", argv[0]);
			return 2;
		}
	}
	if (x.socket == NULL || iterations < 1) {
		fprintf(stderr, "usage: %s --socket PATH [--iterations N] [--vkey-log FILE]\n", argv[0]);
		return 2;
	}
	fido_init(0);
	snprintf(x.device, sizeof(x.device), "vkey:%s", x.socket);
	if (bridge_register(x.device, &x.id_b64) != 0 ||
	    llv_base64url_decode(x.id_b64, strlen(x.id_b64), &x.id, &x.id_len) != 0)
		return 1;

	if (vkey_log != NULL) {
		for (int k = K_BRIDGE; k <= K_BARE_OPEN; k++) {
			long q0, r0, q1, r1;

			usleep(200000);
			count_log(vkey_log, &q0, &r0);
			if (run_one(&x, (enum kind)k) != 0)
				return 1;
			usleep(200000);
			count_log(vkey_log, &q1, &r1);
			printf("rtt %s requests=%ld reports=%ld\n", kind_names[k], q1 - q0, r1 - r0);
		}
		if ((x.reused = bare_open(x.socket)) == NULL)
			return 1;
		{
			long q0, r0, q1, r1;

			usleep(200000);
			count_log(vkey_log, &q0, &r0);
			if (run_one(&x, K_BARE_REUSE) != 0)
				return 1;
			usleep(200000);
			count_log(vkey_log, &q1, &r1);
			printf("rtt %s requests=%ld reports=%ld\n", kind_names[K_BARE_REUSE], q1 - q0, r1 - r0);
		}
		fido_dev_close(x.reused);
		fido_dev_free(&x.reused);
		return 0;
	}

	if ((x.reused = bare_open(x.socket)) == NULL)
		return 1;
	for (int k = 0; k < K_COUNT; k++)
		if ((t[k] = calloc((size_t)iterations, sizeof(double))) == NULL ||
		    (cpu[k] = calloc((size_t)iterations, sizeof(double))) == NULL)
			return 1;
	/* Warm-up, then interleaved; the order rotates each iteration. */
	for (int k = 0; k < K_COUNT; k++)
		if (run_one(&x, (enum kind)k) != 0)
			return 1;
	for (int i = 0; i < iterations; i++) {
		for (int j = 0; j < K_COUNT; j++) {
			enum kind k = (enum kind)((i + j) % K_COUNT);
			double t0 = now_us(), c0 = cpu_us();

			if (run_one(&x, k) != 0) {
				fprintf(stderr, "%s failed at iteration %d\n", kind_names[k], i);
				return 1;
			}
			t[k][i] = now_us() - t0;
			cpu[k][i] = cpu_us() - c0;
		}
	}
	for (int k = 0; k < K_COUNT; k++) {
		double sum = 0;

		for (int i = 0; i < iterations; i++)
			sum += t[k][i];
		qsort(t[k], (size_t)iterations, sizeof(double), cmp_double);
		qsort(cpu[k], (size_t)iterations, sizeof(double), cmp_double);
		med[k] = t[k][iterations / 2];
		mins[k] = t[k][0];
		printf("%s iterations=%d median_us=%.0f mean_us=%.0f min_us=%.0f p90_us=%.0f "
		       "client_cpu_median_us=%.0f\n",
		       kind_names[k], iterations, med[k], sum / iterations, t[k][0],
		       t[k][iterations * 9 / 10], cpu[k][iterations / 2]);
		free(t[k]);
		free(cpu[k]);
	}
	printf("overhead_vs_bare_open=%.1f%% overhead_vs_bare_reuse=%.1f%% (medians); "
	       "min_overhead_vs_bare_open=%.1f%% min_overhead_vs_bare_reuse=%.1f%% (minimums)\n",
	       (med[K_BRIDGE] / med[K_BARE_OPEN] - 1) * 100, (med[K_BRIDGE] / med[K_BARE_REUSE] - 1) * 100,
	       (mins[K_BRIDGE] / mins[K_BARE_OPEN] - 1) * 100, (mins[K_BRIDGE] / mins[K_BARE_REUSE] - 1) * 100);
	fido_dev_close(x.reused);
	fido_dev_free(&x.reused);
	free(x.id);
	free(x.id_b64);
	return 0;
}
