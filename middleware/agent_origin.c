/* agent_origin.c: which callers the agent serves. An origin is the
 * serialised form browsers give (scheme://host[:port], lower case, no path):
 * https for everyone, http only for localhost / 127.0.0.1 (development), and
 * exact extra origins from the configuration file. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

static bool valid_port(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 5 || strspn(p, "0123456789") != n || p[0] == '0')
		return false;
	return atol(p) <= 65535;
}

/* host: DNS labels of [a-z0-9-] (not starting or ending with '-') separated by
 * single dots, or an IPv4 literal (digits and dots). */
static bool valid_host(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];
		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
		if (!ok || (label == 0 && ch == '-') || ++label > 63)
			return false;
	}
	return label > 0 && h[n - 1] != '-';
}

static bool split_ok(const char *rest, bool localhost_only)
{
	const char *colon = strchr(rest, ':');
	size_t hl = colon ? (size_t)(colon - rest) : strlen(rest);
	if (colon && !valid_port(colon + 1))
		return false;
	if (!valid_host(rest, hl))
		return false;
	if (localhost_only)
		return (hl == 9 && memcmp(rest, "localhost", 9) == 0) ||
		       (hl == 9 && memcmp(rest, "127.0.0.1", 9) == 0);
	return true;
}

bool agent_origin_allowed(const char *origin, const struct agent_config *c)
{
	if (!origin || !*origin || strlen(origin) > 512)
		return false;
	if (c) {
		for (size_t i = 0; i < c->n_origins; i++)
			if (strcmp(c->origins[i], origin) == 0)
				return true;
	}
	if (strncmp(origin, "https://", 8) == 0)
		return split_ok(origin + 8, false);
	if (strncmp(origin, "http://", 7) == 0)
		return split_ok(origin + 7, true);
	return false;
}
