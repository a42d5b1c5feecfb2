/* agent_p11kit.c: the PKCS#11 modules p11-kit lists (pkcs11.conf(5)), so a
 * card we do not drive ourselves works through the module its middleware
 * registered with p11-kit (OpenSC's opensc-pkcs11.so, for example).
 *
 * Read from the module configs p11-kit reads: the packages' directory
 * (pkg-config p11-kit-1 p11_module_configs, /usr/share/p11-kit/modules),
 * /etc/pkcs11/modules, then the user's $XDG_CONFIG_HOME/pkcs11/modules
 * (~/.config/pkcs11/modules); a later file of the same name replaces an
 * earlier one. LLAVERO_P11KIT_CONFIG_DIRS (':'-separated) replaces that list
 * (tests). In each NAME.module: `module:` (a relative name is in p11-kit's
 * module directory, p11_module_path), `enable-in:` / `disable-in:` (program
 * names, ours: llavero-agent or llavero, plus "llavero" for both), and
 * `trust-policy: yes` modules are skipped (they hold trust anchors, no
 * keys). Reading the files keeps libp11-kit out of the agent (DESIGN.md's
 * dependency list has only p11-kit's pkcs11.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

#ifndef LLAVERO_P11KIT_CONFIGS
#define LLAVERO_P11KIT_CONFIGS "/usr/share/p11-kit/modules"
#endif
#ifndef LLAVERO_P11KIT_MODULE_PATH
#define LLAVERO_P11KIT_MODULE_PATH "/usr/lib/pkcs11"
#endif

#define MAX_CONFS 32

struct conf {
	char name[128];    /* file name without .module */
	char *module;      /* NULL: disabled by a later file */
};

/* Whether a comma/space separated list of program names names us. */
static bool names_us(const char *list, const char *prog)
{
	char copy[512], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save))
		if (strcmp(t, prog) == 0 || strcmp(t, "llavero") == 0)
			return true;
	return false;
}

/* The module one config file names for us, or NULL (disabled, trust policy,
 * none). */
static char *read_conf(const char *path, const char *prog)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char line[1024], module[768] = "";
	bool skip = false, has_enable = false, enabled = false;
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *key = agent_trim(line), *val = agent_trim(colon + 1);
		if (strcmp(key, "module") == 0)
			snprintf(module, sizeof(module), "%s", val);
		else if (strcmp(key, "trust-policy") == 0)
			skip |= strcmp(val, "yes") == 0;
		else if (strcmp(key, "disable-in") == 0)
			skip |= names_us(val, prog);
		else if (strcmp(key, "enable-in") == 0) {
			has_enable = true;
			enabled |= names_us(val, prog);
		}
	}
	fclose(f);
	if (skip || (has_enable && !enabled) || !module[0])
		return NULL;
	char full[1024];
	int w = module[0] == '/' ? snprintf(full, sizeof(full), "%s", module)
				 : snprintf(full, sizeof(full), "%s/%s", LLAVERO_P11KIT_MODULE_PATH, module);
	if (w < 0 || (size_t)w >= sizeof(full))
		return NULL;
	return strdup(full);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void read_dir(const char *dir, const char *prog, struct conf *v, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			llv_debug("p11-kit: cannot read %s", dir);
		return;
	}
	/* readdir's order is arbitrary: sort by name so the result is stable. */
	char names[MAX_CONFS][128];
	size_t k = 0;
	struct dirent *e;
	while ((e = readdir(d)) && k < MAX_CONFS) {
		size_t l = strlen(e->d_name);
		if (l <= 7 || l - 7 >= sizeof(names[0]) || strcmp(e->d_name + l - 7, ".module") != 0 ||
		    e->d_name[0] == '.')
			continue;
		memcpy(names[k], e->d_name, l - 7);
		names[k][l - 7] = '\0';
		k++;
	}
	closedir(d);
	qsort(names, k, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < k; i++) {
		char path[1200];
		int w = snprintf(path, sizeof(path), "%s/%s.module", dir, names[i]);
		if (w < 0 || (size_t)w >= sizeof(path))
			continue;
		char *m = read_conf(path, prog);
		size_t j = 0;
		while (j < *n && strcmp(v[j].name, names[i]) != 0)
			j++;
		if (j == *n) {
			if (*n == MAX_CONFS) {
				free(m);
				continue;
			}
			memcpy(v[j].name, names[i], sizeof(v[j].name));
			v[j].module = NULL;
			(*n)++;
		}
		free(v[j].module);
		v[j].module = m;
	}
}

int agent_p11kit_modules(const char *prog, char ***out, size_t *n_out)
{
	struct conf v[MAX_CONFS];
	size_t n = 0;
	const char *env = getenv("LLAVERO_P11KIT_CONFIG_DIRS");
	*out = NULL;
	*n_out = 0;
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		if (!copy)
			return -1;
		for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
			read_dir(t, prog, v, &n);
		free(copy);
	} else {
		read_dir(LLAVERO_P11KIT_CONFIGS, prog, v, &n);
		read_dir("/etc/pkcs11/modules", prog, v, &n);
		char user[1024];
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		int w = -1;
		if (xdg && *xdg)
			w = snprintf(user, sizeof(user), "%s/pkcs11/modules", xdg);
		else if (home && *home)
			w = snprintf(user, sizeof(user), "%s/.config/pkcs11/modules", home);
		if (w > 0 && (size_t)w < sizeof(user))
			read_dir(user, prog, v, &n);
	}
	char **list = calloc(n ? n : 1, sizeof(*list));
	if (!list) {
		for (size_t i = 0; i < n; i++)
			free(v[i].module);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].module) {
			llv_debug("p11-kit: module %s: %s", v[i].name, v[i].module);
			list[k++] = v[i].module;
		}
	}
	*out = list;
	*n_out = k;
	return 0;
}
