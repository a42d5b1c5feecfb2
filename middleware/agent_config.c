/* agent_config.c: /etc/llavero/agent.conf, then the user's
 * $XDG_CONFIG_HOME/llavero/agent.conf (or only $LLAVERO_AGENT_CONF), then the
 * environment (LLAVERO_AGENT_PKCS11, LLAVERO_PINENTRY). Lines "key = value";
 * '#' starts a comment. Keys: pkcs11-module, pinentry-program,
 * allowed-origin, pin-timeout, log-level, pkcs11-modules (auto: p11-kit's
 * module list only when no configured module loads; p11-kit: also p11-kit's
 * modules, after the configured ones; configured: never p11-kit's), kiosk,
 * kiosk-port, kiosk-origin (agent_kiosk.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

#ifndef LLAVERO_PKCS11_DEFAULT
#define LLAVERO_PKCS11_DEFAULT "llavero-pkcs11.so"
#endif

static void clear_modules(struct agent_config *c)
{
	for (size_t i = 0; i < c->n_modules; i++)
		free(c->modules[i]);
	c->n_modules = 0;
}

static int add_module(struct agent_config *c, const char *path)
{
	if (c->n_modules >= AGENT_MAX_MODULES) {
		llv_warn("config: more than %d PKCS#11 modules; '%s' ignored", AGENT_MAX_MODULES, path);
		return 0;
	}
	for (size_t i = 0; i < c->n_modules; i++)
		if (strcmp(c->modules[i], path) == 0)
			return 0;
	if (!(c->modules[c->n_modules] = strdup(path)))
		return -1;
	c->n_modules++;
	return 0;
}

char *agent_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int agent_config_read_file(struct agent_config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		llv_warn("config: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	bool modules_reset = false;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = agent_trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			llv_warn("config: %s:%d: no '=' (ignored)", path, lineno);
			continue;
		}
		*eq = '\0';
		char *key = agent_trim(s), *val = agent_trim(eq + 1);
		if (strcmp(key, "pkcs11-module") == 0) {
			/* A file naming modules replaces the earlier list. */
			if (!modules_reset) {
				clear_modules(c);
				modules_reset = true;
			}
			if (add_module(c, val) != 0)
				rc = -1;
		} else if (strcmp(key, "pinentry-program") == 0) {
			free(c->pinentry);
			if (!(c->pinentry = strdup(val)))
				rc = -1;
		} else if (strcmp(key, "allowed-origin") == 0) {
			if (c->n_origins < AGENT_MAX_ORIGINS) {
				if (!(c->origins[c->n_origins] = strdup(val)))
					rc = -1;
				else
					c->n_origins++;
			}
		} else if (strcmp(key, "kiosk") == 0) {
			c->kiosk = strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "1") == 0;
		} else if (strcmp(key, "kiosk-port") == 0) {
			int port = atoi(val);
			if (port > 0 && port < 65536)
				c->kiosk_port = port;
			else
				llv_warn("config: %s:%d: kiosk-port out of range (ignored)", path, lineno);
		} else if (strcmp(key, "kiosk-origin") == 0) {
			if (c->n_kiosk_origins < AGENT_MAX_ORIGINS) {
				if (!(c->kiosk_origins[c->n_kiosk_origins] = strdup(val)))
					rc = -1;
				else
					c->n_kiosk_origins++;
			}
		} else if (strcmp(key, "pkcs11-modules") == 0) {
			if (strcmp(val, "p11-kit") == 0)
				c->p11kit = AGENT_P11KIT_ON;
			else if (strcmp(val, "configured") == 0)
				c->p11kit = AGENT_P11KIT_OFF;
			else if (strcmp(val, "auto") == 0)
				c->p11kit = AGENT_P11KIT_AUTO;
			else
				llv_warn("config: %s:%d: pkcs11-modules is auto, p11-kit or configured (ignored)",
					 path, lineno);
		} else if (strcmp(key, "pin-timeout") == 0) {
			int t = atoi(val);
			if (t > 0 && t <= 3600)
				c->pin_timeout = t;
		} else if (strcmp(key, "log-level") == 0) {
			if (strcmp(val, "error") == 0)
				llv_log_set_level(LLV_LOG_ERROR);
			else if (strcmp(val, "warn") == 0)
				llv_log_set_level(LLV_LOG_WARN);
			else if (strcmp(val, "info") == 0)
				llv_log_set_level(LLV_LOG_INFO);
			else if (strcmp(val, "debug") == 0)
				llv_log_set_level(LLV_LOG_DEBUG);
		} else {
			llv_warn("config: %s:%d: unknown key '%s' (ignored)", path, lineno, key);
		}
	}
	fclose(f);
	return rc;
}

int agent_config_load(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->pin_timeout = 120;
	c->kiosk_port = AGENT_KIOSK_PORT;
	if (add_module(c, LLAVERO_PKCS11_DEFAULT) != 0)
		return -1;
	const char *only = getenv("LLAVERO_AGENT_CONF");
	if (only && *only) {
		agent_config_read_file(c, only);
	} else {
		agent_config_read_file(c, "/etc/llavero/agent.conf");
		char path[1024];
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		int n = -1;
		if (xdg && *xdg)
			n = snprintf(path, sizeof(path), "%s/llavero/agent.conf", xdg);
		else if (home && *home)
			n = snprintf(path, sizeof(path), "%s/.config/llavero/agent.conf", home);
		if (n > 0 && (size_t)n < sizeof(path))
			agent_config_read_file(c, path);
	}
	const char *mods = getenv("LLAVERO_AGENT_PKCS11");
	if (mods && *mods) {
		clear_modules(c);
		char *copy = strdup(mods), *save = NULL;
		if (!copy)
			return -1;
		for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
			add_module(c, t);
		free(copy);
	}
	const char *pe = getenv("LLAVERO_PINENTRY");
	if (pe && *pe) {
		free(c->pinentry);
		c->pinentry = strdup(pe);
	}
	if (!c->pinentry)
		c->pinentry = strdup("pinentry");
	return c->pinentry ? 0 : -1;
}

void agent_config_free(struct agent_config *c)
{
	clear_modules(c);
	for (size_t i = 0; i < c->n_origins; i++)
		free(c->origins[i]);
	c->n_origins = 0;
	for (size_t i = 0; i < c->n_kiosk_origins; i++)
		free(c->kiosk_origins[i]);
	c->n_kiosk_origins = 0;
	free(c->pinentry);
	c->pinentry = NULL;
}
