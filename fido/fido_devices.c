/* Device discovery and opening across the bridge's transports. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fido_internal.h"
#include "log.h"

#define MAX_HID 64

int fido_bridge_device_add(struct fido_bridge_device **list, size_t *n, size_t *cap,
			   enum fido_bridge_transport t, const char *prefix, const char *path,
			   const char *product)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct fido_bridge_device *nl = realloc(*list, nc * sizeof(*nl));

		if (nl == NULL)
			return FIDO_BRIDGE_ERR_INTERNAL;
		*list = nl;
		*cap = nc;
	}
	memset(&(*list)[*n], 0, sizeof(**list));
	(*list)[*n].transport = t;
	snprintf((*list)[*n].path, sizeof((*list)[*n].path), "%s%s", prefix, path);
	snprintf((*list)[*n].product, sizeof((*list)[*n].product), "%s", product);
	(*n)++;
	return FIDO_BRIDGE_OK;
}

const char *fido_bridge_config_path(char *buf, size_t len)
{
	const char *env = getenv("LLAVERO_FIDO_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env != '\0')
		snprintf(buf, len, "%s", env);
	else if (xdg != NULL && *xdg == '/')
		snprintf(buf, len, "%s/llavero/fido.conf", xdg);
	else if (home != NULL && *home != '\0')
		snprintf(buf, len, "%s/.config/llavero/fido.conf", home);
	else
		return NULL;
	return buf;
}

static bool already(const struct fido_bridge_device *list, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].path, "vkey:", 5) == 0 && strcmp(list[i].path + 5, path) == 0)
			return true;
	return false;
}

static int add_socket(struct fido_bridge_device **list, size_t *n, size_t *cap, const char *path)
{
	if (*path == '\0' || already(*list, *n, path))
		return FIDO_BRIDGE_OK;
	if (!fido_bridge_socket_alive(path)) {
		llv_info("la llave simulada %s no responde; se omite", path);
		return FIDO_BRIDGE_OK;
	}
	return fido_bridge_device_add(list, n, cap, FIDO_BRIDGE_TRANSPORT_VKEY, "vkey:", path,
				      "llavero-vkey");
}

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

static int config_sockets(struct fido_bridge_device **list, size_t *n, size_t *cap)
{
	char path[1024], line[1024];
	FILE *f;
	int r = FIDO_BRIDGE_OK, lineno = 0;

	if (fido_bridge_config_path(path, sizeof(path)) == NULL || (f = fopen(path, "re")) == NULL)
		return FIDO_BRIDGE_OK;
	while (r == FIDO_BRIDGE_OK && fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq;

		lineno++;
		if ((s = strchr(line, '#')) != NULL)
			*s = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			llv_warn("%s:%d: se esperaba «clave = valor»", path, lineno);
			continue;
		}
		*eq = '\0';
		if (strcmp(trim(s), "vkey-socket") == 0)
			r = add_socket(list, n, cap, trim(eq + 1));
		else
			llv_warn("%s:%d: clave desconocida «%s»", path, lineno, trim(s));
	}
	fclose(f);
	return r;
}

static int env_sockets(struct fido_bridge_device **list, size_t *n, size_t *cap)
{
	const char *env = getenv("LLAVERO_VKEY_SOCKETS");
	char *copy, *save = NULL;
	int r = FIDO_BRIDGE_OK;

	if (env == NULL || *env == '\0')
		return FIDO_BRIDGE_OK;
	if ((copy = strdup(env)) == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	for (char *tok = strtok_r(copy, ":", &save); tok != NULL && r == FIDO_BRIDGE_OK;
	     tok = strtok_r(NULL, ":", &save))
		r = add_socket(list, n, cap, tok);
	free(copy);
	return r;
}

static int hid_devices(struct fido_bridge_device **list, size_t *n, size_t *cap)
{
	fido_dev_info_t *devlist = fido_dev_info_new(MAX_HID);
	size_t found = 0;
	int r = FIDO_BRIDGE_OK;

	if (devlist == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	if (fido_dev_info_manifest(devlist, MAX_HID, &found) != FIDO_OK)
		found = 0;
	for (size_t i = 0; i < found && r == FIDO_BRIDGE_OK; i++) {
		const fido_dev_info_t *di = fido_dev_info_ptr(devlist, i);
		char product[128];

		snprintf(product, sizeof(product), "%s %s",
			 fido_dev_info_manufacturer_string(di) ? fido_dev_info_manufacturer_string(di) : "",
			 fido_dev_info_product_string(di) ? fido_dev_info_product_string(di) : "");
		r = fido_bridge_device_add(list, n, cap, FIDO_BRIDGE_TRANSPORT_HID, "hid:",
					   fido_dev_info_path(di), trim(product));
	}
	fido_dev_info_free(&devlist, MAX_HID);
	return r;
}

int fido_bridge_discover(struct fido_bridge_device **out, size_t *count)
{
	struct fido_bridge_device *list = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (out == NULL || count == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	fido_init(0);
	r = hid_devices(&list, &n, &cap);
	if (r == FIDO_BRIDGE_OK)
		r = env_sockets(&list, &n, &cap);
	if (r == FIDO_BRIDGE_OK)
		r = config_sockets(&list, &n, &cap);
	if (r == FIDO_BRIDGE_OK)
		r = fido_bridge_pcsc_discover(&list, &n, &cap);
	if (r != FIDO_BRIDGE_OK) {
		free(list);
		return r;
	}
	*out = list;
	*count = n;
	return FIDO_BRIDGE_OK;
}

int fido_bridge_path_transport(const char *path)
{
	if (path == NULL)
		return -1;
	if (strncmp(path, "hid:", 4) == 0)
		return FIDO_BRIDGE_TRANSPORT_HID;
	if (strncmp(path, "vkey:", 5) == 0)
		return FIDO_BRIDGE_TRANSPORT_VKEY;
	if (strncmp(path, "pcsc:", 5) == 0)
		return FIDO_BRIDGE_TRANSPORT_PCSC;
	return -1;
}

int fido_bridge_open(const char *path, fido_dev_t **out)
{
	fido_dev_t *dev;
	const char *p;
	int t = fido_bridge_path_transport(path), r = FIDO_OK;

	if (out == NULL)
		return FIDO_BRIDGE_ERR_BAD_ARG;
	*out = NULL;
	if (t < 0) {
		llv_warn("ruta de dispositivo desconocida: %s (hid:, vkey: o pcsc:)", path ? path : "(nula)");
		return FIDO_BRIDGE_ERR_NO_DEVICE;
	}
	fido_init(0);
	if ((dev = fido_dev_new()) == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	p = strchr(path, ':') + 1;
	if (t == FIDO_BRIDGE_TRANSPORT_VKEY)
		r = fido_dev_set_io_functions(dev, &fido_bridge_socket_io);
	else if (t == FIDO_BRIDGE_TRANSPORT_PCSC) {
		r = fido_dev_set_io_functions(dev, &fido_bridge_pcsc_io);
		if (r == FIDO_OK)
			r = fido_dev_set_transport_functions(dev, &fido_bridge_pcsc_transport);
	}
	if (r == FIDO_OK)
		r = fido_dev_open(dev, p);
	if (r != FIDO_OK) {
		llv_warn("no se pudo abrir %s: %s", path, fido_strerr(r));
		fido_dev_free(&dev);
		return r == FIDO_ERR_INTERNAL || r == FIDO_ERR_RX || r == FIDO_ERR_TX
		       ? FIDO_BRIDGE_ERR_NO_DEVICE : fido_bridge_map_fido_err(r);
	}
	*out = dev;
	return FIDO_BRIDGE_OK;
}

void fido_bridge_close(fido_dev_t **dev)
{
	if (dev == NULL || *dev == NULL)
		return;
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

json_t *fido_bridge_transports_json(const char *path, fido_dev_t *dev)
{
	json_t *arr = json_array();
	int t = fido_bridge_path_transport(path);

	if (arr == NULL)
		return NULL;
	/* How we reached it is what the RP should hint next time. */
	if (t == FIDO_BRIDGE_TRANSPORT_PCSC)
		json_array_append_new(arr, json_string("nfc"));
	else
		json_array_append_new(arr, json_string("usb"));
	return arr;
}
