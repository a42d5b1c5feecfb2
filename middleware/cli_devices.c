/* `llavero devices`: what is plugged in (libusb) and what stops each piece
 * from working: security keys (HID usage page 0xF1D0) without permission on
 * their hidraw node, CCID readers (class 0x0B) without pcscd, readers
 * without a card. HID report descriptors and hidraw nodes come from sysfs,
 * which needs no permission on the device. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libusb.h>
#include <PCSC/winscard.h>

#include "cli.h"

#define SYS_USB "/sys/bus/usb/devices"

/* True when a HID report descriptor declares usage page 0xF1D0 (FIDO). */
static bool report_descriptor_is_fido(const uint8_t *d, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t prefix = d[i];
		size_t size;

		if (prefix == 0xFE) {          /* long item */
			if (i + 2 >= len)
				return false;
			i += 3 + d[i + 1];
			continue;
		}
		size = (prefix & 0x03) == 3 ? 4 : (prefix & 0x03);
		if (i + 1 + size > len)
			return false;
		/* Usage Page (global, tag 0): 0000 01 nn */
		if ((prefix & 0xFC) == 0x04 && size == 2 && d[i + 1] == 0xD0 && d[i + 2] == 0xF1)
			return true;
		i += 1 + size;
	}
	return false;
}

/* Looks under the interface's sysfs folder for a HID device; fills the hidraw
 * node name and whether its report descriptor is FIDO's. */
static bool hid_interface(const char *ifdir, char *hidraw, size_t len, bool *fido)
{
	DIR *d = opendir(ifdir), *h;
	struct dirent *e, *he;
	bool found = false;

	*fido = false;
	hidraw[0] = '\0';
	if (d == NULL)
		return false;
	while (!found && (e = readdir(d)) != NULL) {
		char path[1024];
		uint8_t desc[4096];
		FILE *f;
		size_t n;

		if (strchr(e->d_name, ':') == NULL || strchr(e->d_name, '.') == NULL)
			continue;   /* HID devices are named BBBB:VVVV:PPPP.NNNN */
		snprintf(path, sizeof(path), "%s/%s/report_descriptor", ifdir, e->d_name);
		if ((f = fopen(path, "rbe")) == NULL)
			continue;
		n = fread(desc, 1, sizeof(desc), f);
		fclose(f);
		found = true;
		*fido = report_descriptor_is_fido(desc, n);
		snprintf(path, sizeof(path), "%s/%s/hidraw", ifdir, e->d_name);
		if ((h = opendir(path)) != NULL) {
			while ((he = readdir(h)) != NULL)
				if (strncmp(he->d_name, "hidraw", 6) == 0) {
					int w = snprintf(hidraw, len, "/dev/%s", he->d_name);
					if (w < 0 || (size_t)w >= len)
						hidraw[0] = '\0';   /* a cut path would name another node */
				}
			closedir(h);
		}
	}
	closedir(d);
	return found;
}

static void usb_strings(libusb_device *dev, const struct libusb_device_descriptor *dd, char *out, size_t len)
{
	libusb_device_handle *h = NULL;
	unsigned char m[128] = "", p[128] = "";

	snprintf(out, len, "%04x:%04x", dd->idVendor, dd->idProduct);
	if (libusb_open(dev, &h) != 0)
		return;
	if (dd->iManufacturer)
		libusb_get_string_descriptor_ascii(h, dd->iManufacturer, m, sizeof(m));
	if (dd->iProduct)
		libusb_get_string_descriptor_ascii(h, dd->iProduct, p, sizeof(p));
	libusb_close(h);
	if (m[0] || p[0])
		snprintf(out, len, "%04x:%04x %s %s", dd->idVendor, dd->idProduct, m, p);
}

struct pcsc_state {
	bool running;
	json_t *readers;
};

static void pcsc_inventory(struct pcsc_state *st)
{
	SCARDCONTEXT ctx;
	DWORD len = 0;
	char *names = NULL;

	st->running = false;
	st->readers = json_array();
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return;
	st->running = true;
	if (SCardListReaders(ctx, NULL, NULL, &len) == SCARD_S_SUCCESS && len > 0 &&
	    (names = malloc(len)) != NULL && SCardListReaders(ctx, NULL, names, &len) == SCARD_S_SUCCESS) {
		for (const char *r = names; *r; r += strlen(r) + 1) {
			SCARD_READERSTATE rs;
			bool card = false;

			memset(&rs, 0, sizeof(rs));
			rs.szReader = r;
			rs.dwCurrentState = SCARD_STATE_UNAWARE;
			if (SCardGetStatusChange(ctx, 0, &rs, 1) == SCARD_S_SUCCESS)
				card = (rs.dwEventState & SCARD_STATE_PRESENT) != 0;
			json_array_append_new(st->readers, json_pack("{s:s,s:b,s:s*}", "name", r, "card", card,
					"problem", card ? NULL : T("lector sin tarjeta", "reader without a card")));
		}
	}
	free(names);
	SCardReleaseContext(ctx);
}

int cli_devices_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	ssize_t n = 0;
	json_t *keys = json_array(), *ccid = json_array(), *out;
	struct pcsc_state pcsc;
	bool json = false, usb_ok;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'h') {
			printf("%s", T("uso: llavero devices [--json]\n"
				       "  Llaves de seguridad USB (página HID 0xF1D0) y lectores CCID (clase 0x0B)\n"
				       "  conectados, los lectores que ve pcscd, y qué impide usar cada uno.\n",
				       "usage: llavero devices [--json]\n"
				       "  Attached USB security keys (HID usage page 0xF1D0) and CCID readers (class\n"
				       "  0x0B), the readers pcscd sees, and what stops each from working.\n"));
			return CLI_OK;
		} else {
			return CLI_USAGE;
		}
	}
	pcsc_inventory(&pcsc);
	usb_ok = libusb_init(&ctx) == 0 && (n = libusb_get_device_list(ctx, &list)) >= 0;
	for (ssize_t i = 0; usb_ok && i < n; i++) {
		libusb_device *dev = list[i];
		struct libusb_device_descriptor dd;
		struct libusb_config_descriptor *cfg = NULL;
		uint8_t ports[8];
		int np = libusb_get_port_numbers(dev, ports, sizeof(ports));
		char base[64], name[256];
		size_t off;

		if (libusb_get_device_descriptor(dev, &dd) != 0 || np <= 0 ||
		    libusb_get_active_config_descriptor(dev, &cfg) != 0)
			continue;
		off = (size_t)snprintf(base, sizeof(base), "%u-%u", libusb_get_bus_number(dev), ports[0]);
		for (int p = 1; p < np && off < sizeof(base); p++)
			off += (size_t)snprintf(base + off, sizeof(base) - off, ".%u", ports[p]);
		for (uint8_t k = 0; k < cfg->bNumInterfaces; k++) {
			const struct libusb_interface_descriptor *ifd;
			char ifdir[256], hidraw[64];
			bool fido;

			if (cfg->interface[k].num_altsetting < 1)
				continue;
			ifd = &cfg->interface[k].altsetting[0];
			snprintf(ifdir, sizeof(ifdir), SYS_USB "/%s:%u.%u", base, cfg->bConfigurationValue,
				 ifd->bInterfaceNumber);
			if (ifd->bInterfaceClass == LIBUSB_CLASS_HID &&
			    hid_interface(ifdir, hidraw, sizeof(hidraw), &fido) && fido) {
				const char *problem = NULL;

				usb_strings(dev, &dd, name, sizeof(name));
				if (hidraw[0] == '\0')
					problem = T("sin nodo hidraw (¿falta el módulo hidraw?)", "no hidraw node (hidraw module missing?)");
				else if (access(hidraw, R_OK | W_OK) != 0)
					problem = T("sin permiso sobre el nodo hidraw: instale las reglas udev de Llavero o entre al grupo llavero-kiosk",
						    "no permission on the hidraw node: install Llavero's udev rules or join the llavero-kiosk group");
				json_array_append_new(keys, json_pack("{s:s,s:s,s:s*}", "device", name,
							"hidraw", hidraw, "problem", problem));
			} else if (ifd->bInterfaceClass == LIBUSB_CLASS_SMART_CARD) {
				usb_strings(dev, &dd, name, sizeof(name));
				json_array_append_new(ccid, json_pack("{s:s,s:s*}", "device", name, "problem",
							pcsc.running ? NULL : T("pcscd no está en marcha", "pcscd is not running")));
			}
		}
		libusb_free_config_descriptor(cfg);
	}
	if (list != NULL)
		libusb_free_device_list(list, 1);
	if (ctx != NULL)
		libusb_exit(ctx);
	out = json_pack("{s:o,s:o,s:{s:b,s:o}}", "securityKeys", keys, "ccidReaders", ccid,
			"pcsc", "running", pcsc.running, "readers", pcsc.readers);
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		size_t i;
		json_t *e;

		if (!usb_ok)
			printf("%s\n", T("No se pudo leer el bus USB.", "Could not read the USB bus."));
		printf("%s\n", T("Llaves de seguridad USB:", "USB security keys:"));
		json_array_foreach(keys, i, e)
			printf("  %s %s%s%s\n", json_string_value(json_object_get(e, "device")),
			       json_string_value(json_object_get(e, "hidraw")),
			       json_object_get(e, "problem") ? " — " : "",
			       json_object_get(e, "problem") ? json_string_value(json_object_get(e, "problem")) : "");
		if (json_array_size(keys) == 0)
			printf("  %s\n", T("(ninguna)", "(none)"));
		printf("%s\n", T("Lectores CCID USB:", "USB CCID readers:"));
		json_array_foreach(ccid, i, e)
			printf("  %s%s%s\n", json_string_value(json_object_get(e, "device")),
			       json_object_get(e, "problem") ? " — " : "",
			       json_object_get(e, "problem") ? json_string_value(json_object_get(e, "problem")) : "");
		if (json_array_size(ccid) == 0)
			printf("  %s\n", T("(ninguno)", "(none)"));
		printf("%s %s\n", "pcscd:", pcsc.running ? T("en marcha", "running")
							 : T("no responde", "not answering"));
		json_array_foreach(pcsc.readers, i, e)
			printf("  %s — %s\n", json_string_value(json_object_get(e, "name")),
			       json_is_true(json_object_get(e, "card")) ? T("con tarjeta", "card present")
								       : T("sin tarjeta", "no card"));
	}
	json_decref(out);
	return CLI_OK;
}
