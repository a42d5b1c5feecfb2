/* Origins and RP IDs, moved here from fido/fido_rpid.c so the FIDO2 bridge
 * and verify/ share one implementation (see rpid.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>
#include <pthread.h>

#include "log.h"
#include "rpid.h"

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

enum llv_rpid_result llv_origin_host(const char *origin, char *host, size_t hostlen)
{
	const char *p, *end;
	bool https;
	size_t n;

	if (origin == NULL || host == NULL || hostlen == 0)
		return LLV_RPID_BAD_ARG;
	if (strncmp(origin, "https://", 8) == 0) {
		https = true;
		p = origin + 8;
	} else if (strncmp(origin, "http://", 7) == 0) {
		https = false;
		p = origin + 7;
	} else {
		llv_warn("origen rechazado (solo https): %s", origin);
		return LLV_RPID_ORIGIN;
	}
	end = p + strcspn(p, ":/?#@");
	n = (size_t)(end - p);
	if (n == 0 || n >= hostlen || n > MAX_HOST) {
		llv_warn("origen sin host válido: %s", origin);
		return LLV_RPID_ORIGIN;
	}
	if (*end == ':') {
		const char *q = end + 1;
		size_t digits = strspn(q, "0123456789");
		long port;

		if (digits == 0 || digits > 5 || q[digits] != '\0') {
			llv_warn("origen con puerto no válido: %s", origin);
			return LLV_RPID_ORIGIN;
		}
		port = strtol(q, NULL, 10);
		if (port < 1 || port > 65535)
			return LLV_RPID_ORIGIN;
	} else if (*end != '\0') {
		/* A serialised origin has no path, query, fragment or userinfo. */
		llv_warn("origen con ruta o credenciales: %s", origin);
		return LLV_RPID_ORIGIN;
	}
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
	if (!valid_domain(host)) {
		llv_warn("origen con un host que no es un dominio: %s", origin);
		return LLV_RPID_ORIGIN;
	}
	if (!https && strcmp(host, "localhost") != 0) {
		llv_warn("origen http fuera de localhost: %s", origin);
		return LLV_RPID_ORIGIN;
	}
	return LLV_RPID_OK;
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

bool llv_rpid_is_public_suffix(const char *domain)
{
	if (domain == NULL)
		return true;
	if (strcmp(domain, "localhost") == 0)
		return false;
	pthread_once(&psl_once, psl_load);
	if (psl_list == NULL) {
		/* Without a list we cannot tell: be strict, a single label is a TLD. */
		return strchr(domain, '.') == NULL;
	}
	return psl_is_public_suffix(psl_list, domain) != 0;
}

enum llv_rpid_result llv_rpid_check(const char *origin, const char *rp_id)
{
	char host[MAX_HOST + 1], rpid[MAX_HOST + 1];
	size_t hl, rl;
	enum llv_rpid_result r;

	if ((r = llv_origin_host(origin, host, sizeof(host))) != LLV_RPID_OK)
		return r;
	if (rp_id == NULL || (rl = strlen(rp_id)) == 0 || rl > MAX_HOST) {
		llv_warn("RP ID vacío o demasiado largo");
		return LLV_RPID_INVALID;
	}
	for (size_t i = 0; i <= rl; i++)
		rpid[i] = (char)tolower((unsigned char)rp_id[i]);
	if (strcmp(rpid, rp_id) != 0 || !valid_domain(rpid)) {
		llv_warn("RP ID no es un dominio en minúsculas: %s", rp_id);
		return LLV_RPID_INVALID;
	}
	if (strcmp(host, "localhost") == 0)
		return strcmp(rpid, "localhost") == 0 ? LLV_RPID_OK : LLV_RPID_INVALID;
	hl = strlen(host);
	if (!(hl == rl && strcmp(host, rpid) == 0) &&
	    !(hl > rl && host[hl - rl - 1] == '.' && strcmp(host + hl - rl, rpid) == 0)) {
		llv_warn("RP ID %s no es %s ni un dominio padre suyo", rpid, host);
		return LLV_RPID_INVALID;
	}
	if (llv_rpid_is_public_suffix(rpid)) {
		llv_warn("RP ID %s es un sufijo público", rpid);
		return LLV_RPID_PUBLIC_SUFFIX;
	}
	return LLV_RPID_OK;
}
