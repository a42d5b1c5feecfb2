/* Origins and RP IDs (WebAuthn Level 3 §5.1.3 step 8, §5.1.4.1 step 7; HTML's
 * "is a registrable domain suffix of or is equal to"): only https origins,
 * plus http://localhost for development; the RP ID is the origin's host or a
 * parent domain of it that is not a public suffix (libpsl). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>
#include <pthread.h>

#include "fido_bridge.h"
#include "log.h"

#define MAX_HOST 253

static bool valid_label_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '_';
}

/* A DNS name: labels of [A-Za-z0-9-_], 1..63 bytes, no empty label. IP
 * literals are refused (an IP address is never a valid RP ID). */
static bool valid_domain(const char *h)
{
	size_t label = 0, len = strlen(h);
	bool all_digits = true;

	if (len == 0 || len > MAX_HOST || h[0] == '.' || h[len - 1] == '.')
		return false;
	for (const char *p = h; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!valid_label_char(*p))
			return false;
		if (!isdigit((unsigned char)*p))
			all_digits = false;
		if (++label > 63)
			return false;
	}
	return !all_digits;
}

int fido_bridge_origin_host(const char *origin, char *host, size_t hostlen)
{
	const char *p, *end;
	bool https;
	size_t n;

	if (origin == NULL || host == NULL || hostlen == 0)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	if (strncmp(origin, "https://", 8) == 0) {
		https = true;
		p = origin + 8;
	} else if (strncmp(origin, "http://", 7) == 0) {
		https = false;
		p = origin + 7;
	} else {
		llv_warn("origen rechazado (solo https): %s", origin);
		return FIDO_BRIDGE_ERR_ORIGIN;
	}
	end = p + strcspn(p, ":/?#@");
	n = (size_t)(end - p);
	if (n == 0 || n >= hostlen || n > MAX_HOST) {
		llv_warn("origen sin host válido: %s", origin);
		return FIDO_BRIDGE_ERR_ORIGIN;
	}
	if (*end == ':') {
		const char *q = end + 1;
		size_t digits = strspn(q, "0123456789");
		long port;

		if (digits == 0 || digits > 5 || q[digits] != '\0') {
			llv_warn("origen con puerto no válido: %s", origin);
			return FIDO_BRIDGE_ERR_ORIGIN;
		}
		port = strtol(q, NULL, 10);
		if (port < 1 || port > 65535)
			return FIDO_BRIDGE_ERR_ORIGIN;
	} else if (*end != '\0') {
		/* A serialised origin has no path, query, fragment or userinfo. */
		llv_warn("origen con ruta o credenciales: %s", origin);
		return FIDO_BRIDGE_ERR_ORIGIN;
	}
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	if (!valid_domain(host)) {
		llv_warn("origen con un host que no es un dominio: %s", origin);
		return FIDO_BRIDGE_ERR_ORIGIN;
	}
	if (!https && strcmp(host, "localhost") != 0) {
		llv_warn("origen http fuera de localhost: %s", origin);
		return FIDO_BRIDGE_ERR_ORIGIN;
	}
	return FIDO_BRIDGE_OK;
}

/* The system's list (Debian's publicsuffix package) is loaded once per
 * process: psl_latest() reads and parses the file, which cost as much as the
 * rest of a getAssertion on a simulated key (bench/fido-bridge-vs-libfido2.sh).
 * A list updated later is seen after a restart. */
static const psl_ctx_t *psl_list;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
	psl_ctx_t *latest = psl_latest(NULL);

	psl_list = latest != NULL ? latest : psl_builtin();
}

static bool is_public_suffix(const char *domain)
{
	pthread_once(&psl_once, psl_load);
	if (psl_list == NULL) {
		/* Without a list we cannot tell: be strict, a single label is a TLD. */
		return strchr(domain, '.') == NULL;
	}
	return psl_is_public_suffix(psl_list, domain) != 0;
}

int fido_bridge_rpid_check(const char *origin, const char *rp_id)
{
	char host[MAX_HOST + 1], rpid[MAX_HOST + 1];
	size_t hl, rl;
	int r;

	if ((r = fido_bridge_origin_host(origin, host, sizeof(host))) != FIDO_BRIDGE_OK)
		return r;
	if (rp_id == NULL || (rl = strlen(rp_id)) == 0 || rl > MAX_HOST) {
		llv_warn("RP ID vacío o demasiado largo");
		return FIDO_BRIDGE_ERR_RPID;
	}
	for (size_t i = 0; i <= rl; i++)
		rpid[i] = (char)tolower((unsigned char)rp_id[i]);
	if (strcmp(rpid, rp_id) != 0 || !valid_domain(rpid)) {
		llv_warn("RP ID no es un dominio en minúsculas: %s", rp_id);
		return FIDO_BRIDGE_ERR_RPID;
	}
	if (strcmp(host, "localhost") == 0)
		return strcmp(rpid, "localhost") == 0 ? FIDO_BRIDGE_OK : FIDO_BRIDGE_ERR_RPID;
	hl = strlen(host);
	if (!(hl == rl && strcmp(host, rpid) == 0) &&
	    !(hl > rl && host[hl - rl - 1] == '.' && strcmp(host + hl - rl, rpid) == 0)) {
		llv_warn("RP ID %s no es %s ni un dominio padre suyo", rpid, host);
		return FIDO_BRIDGE_ERR_RPID;
	}
	if (is_public_suffix(rpid)) {
		llv_warn("RP ID %s es un sufijo público", rpid);
		return FIDO_BRIDGE_ERR_RPID;
	}
	return FIDO_BRIDGE_OK;
}
