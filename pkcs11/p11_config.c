/* The configuration file (/etc/llavero/pkcs11.conf, or $LLAVERO_PKCS11_CONF):
 * "key = value" lines, '#' comments, read once on first use and kept until
 * C_Finalize. Keys today: efirma_dir (repeatable; the efirma driver also
 * reads LLAVERO_EFIRMA_DIR), log_level. */
#include "p11_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define P11_CONFIG_DEFAULT "/etc/llavero/pkcs11.conf"
#define P11_CONFIG_MAX 64

static pthread_mutex_t cfg_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool cfg_loaded;
static char *cfg_keys[P11_CONFIG_MAX];
static char *cfg_values[P11_CONFIG_MAX];
static size_t cfg_n;

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void load(void)
{
	const char *path = getenv("LLAVERO_PKCS11_CONF");
	char line[1024];
	unsigned lineno = 0;
	FILE *f;

	cfg_loaded = true;
	if (!path || !*path)
		path = P11_CONFIG_DEFAULT;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *eq;

		lineno++;
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			llv_warn("%s:%u: no '=' (ignored)", path, lineno);
			continue;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (cfg_n == P11_CONFIG_MAX) {
			llv_warn("%s: more than %d settings (rest ignored)", path, P11_CONFIG_MAX);
			break;
		}
		cfg_keys[cfg_n] = strdup(k);
		cfg_values[cfg_n] = strdup(v);
		if (!cfg_keys[cfg_n] || !cfg_values[cfg_n]) {
			free(cfg_keys[cfg_n]);
			free(cfg_values[cfg_n]);
			break;
		}
		cfg_n++;
	}
	fclose(f);
}

size_t p11_config_values(const char *key, const char **out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&cfg_mutex);
	if (!cfg_loaded)
		load();
	for (size_t i = 0; i < cfg_n; i++) {
		if (strcmp(cfg_keys[i], key) != 0)
			continue;
		if (n < max)
			out[n] = cfg_values[i];
		n++;
	}
	pthread_mutex_unlock(&cfg_mutex);
	return n;
}

void p11_config_free(void)
{
	pthread_mutex_lock(&cfg_mutex);
	for (size_t i = 0; i < cfg_n; i++) {
		free(cfg_keys[i]);
		free(cfg_values[i]);
	}
	cfg_n = 0;
	cfg_loaded = false;
	pthread_mutex_unlock(&cfg_mutex);
}
