/* The FIDO2 client bridge: discovery of security keys on every transport
 * Llavero knows (USB HID through libfido2, simulated keys on a Unix socket,
 * FIDO applets on PC/SC readers through our own CTAP-over-ISO-7816
 * transport) and the WebAuthn Level 3 client mapping on top of libfido2:
 * PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON + the caller's
 * origin in, the PublicKeyCredential JSON a browser's toJSON() gives out.
 *
 * Device paths name the transport:
 *   hid:/dev/hidraw3         a USB key, as libfido2's manifest lists it
 *   vkey:/run/llavero.sock   a simulated key (llavero-vkey --socket)
 *   pcsc:<reader name>       the FIDO applet of the card in a PC/SC reader
 * Every function returns FIDO_BRIDGE_OK or one of the error codes below and
 * logs why through llv_log. */
#ifndef LLAVERO_FIDO_BRIDGE_H
#define LLAVERO_FIDO_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <fido.h>
#include <jansson.h>

enum fido_bridge_err {
	FIDO_BRIDGE_OK = 0,
	FIDO_BRIDGE_ERR_BAD_ARG,        /* malformed options or arguments (TypeError) */
	FIDO_BRIDGE_ERR_ORIGIN,         /* origin not allowed (SecurityError) */
	FIDO_BRIDGE_ERR_RPID,           /* RP ID not valid for the origin (SecurityError) */
	FIDO_BRIDGE_ERR_NO_DEVICE,      /* no security key found / path unknown */
	FIDO_BRIDGE_ERR_DEVICE,         /* the key stopped answering (pulled, closed) */
	FIDO_BRIDGE_ERR_PIN_REQUIRED,   /* the key wants a PIN and none was given */
	FIDO_BRIDGE_ERR_PIN_INVALID,    /* wrong PIN (never retried) */
	FIDO_BRIDGE_ERR_PIN_BLOCKED,    /* PIN blocked, or blocked until power cycle */
	FIDO_BRIDGE_ERR_PIN_POLICY,     /* new PIN refused (too short, too long) */
	FIDO_BRIDGE_ERR_CANCELLED,      /* user or caller cancelled, presence denied */
	FIDO_BRIDGE_ERR_TIMEOUT,        /* no touch in time */
	FIDO_BRIDGE_ERR_EXCLUDED,       /* a credential in excludeCredentials is on the key */
	FIDO_BRIDGE_ERR_NO_CREDENTIALS, /* no credential for this RP on the key */
	FIDO_BRIDGE_ERR_UNSUPPORTED,    /* the key lacks what the options require */
	FIDO_BRIDGE_ERR_NOT_ALLOWED,    /* refused by the key (reset window, ...) */
	FIDO_BRIDGE_ERR_INTERNAL,
};

/* Stable short name of an error ("pin-invalid", ...): the protocol code. */
const char *fido_bridge_err_name(int err);

enum fido_bridge_transport {
	FIDO_BRIDGE_TRANSPORT_HID,
	FIDO_BRIDGE_TRANSPORT_VKEY,
	FIDO_BRIDGE_TRANSPORT_PCSC,
};

struct fido_bridge_device {
	enum fido_bridge_transport transport;
	char path[512];         /* with its transport prefix */
	char product[128];      /* manufacturer and product, or the reader name */
};

/* Lists the keys: libfido2's HID manifest, the sockets in LLAVERO_VKEY_SOCKETS
 * (colon-separated) and in the configuration file (see fido_bridge_config_path),
 * and readers whose card answers SELECT of the FIDO AID. A socket nobody
 * listens on is left out. *out is malloc'd (free with free()). */
int fido_bridge_discover(struct fido_bridge_device **out, size_t *n);
/* The configuration file: $LLAVERO_FIDO_CONFIG, else
 * $XDG_CONFIG_HOME/llavero/fido.conf (~/.config/...). Lines "vkey-socket = PATH";
 * '#' starts a comment. */
const char *fido_bridge_config_path(char *buf, size_t len);

/* Opens a device by its prefixed path; *dev is closed with fido_bridge_close. */
int fido_bridge_open(const char *path, fido_dev_t **dev);
void fido_bridge_close(fido_dev_t **dev);
/* Which transport a prefixed path names; -1 when unknown. */
int fido_bridge_path_transport(const char *path);

/* ---- WebAuthn ------------------------------------------------------------- */

/* Asks the person for the key's PIN (retries = attempts left, -1 unknown).
 * Writes a NUL-terminated PIN into pin (size len) and returns 0, or returns -1
 * when the person declined. Called at most once per ceremony. */
typedef int fido_bridge_pin_fn(void *arg, const char *device, int retries, char *pin, size_t len);

struct fido_bridge_ceremony {
	/* in */
	const char *device;            /* prefixed path; NULL: the first key found */
	const char *origin;            /* the caller's origin, e.g. https://login.gob.mx */
	const json_t *options;         /* CreationOptionsJSON / RequestOptionsJSON */
	fido_bridge_pin_fn *pin_cb;    /* NULL: ceremonies needing a PIN fail */
	void *pin_arg;
	/* out (also on failure) */
	char error[256];               /* technical detail of the failure */
	/* private */
	pthread_mutex_t lock;
	fido_dev_t *dev;
	bool cancelled;
	char chosen[512];
};

void fido_bridge_ceremony_init(struct fido_bridge_ceremony *c);
void fido_bridge_ceremony_clear(struct fido_bridge_ceremony *c);
/* navigator.credentials.create(): *out is the RegistrationResponseJSON. */
int fido_bridge_webauthn_create(struct fido_bridge_ceremony *c, json_t **out);
/* navigator.credentials.get(): *out is the AuthenticationResponseJSON. */
int fido_bridge_webauthn_get(struct fido_bridge_ceremony *c, json_t **out);
/* Aborts a running ceremony (from another thread): fido_dev_cancel on the key. */
void fido_bridge_cancel(struct fido_bridge_ceremony *c);

/* ---- origin, RP ID, clientDataJSON (exposed for tests and the agent) ------ */

/* Parses a serialised origin (scheme://host[:port]) and checks it is allowed:
 * https, or http://localhost. Writes the lowercase host into host. */
int fido_bridge_origin_host(const char *origin, char *host, size_t hostlen);
/* Checks rp_id against origin with the registrable-domain rules (libpsl). */
int fido_bridge_rpid_check(const char *origin, const char *rp_id);
/* Builds clientDataJSON exactly as browsers serialise it:
 * {"type":"webauthn.create","challenge":"<b64url>","origin":"...","crossOrigin":false}
 * *out is malloc'd and NUL-terminated; hash receives its SHA-256. */
int fido_bridge_client_data(const char *type, const uint8_t *challenge, size_t challenge_len,
			    const char *origin, bool cross_origin, char **out, size_t *out_len,
			    uint8_t hash[32]);
/* The PRF extension's salt: SHA-256("WebAuthn PRF" || 0x00 || input). */
void fido_bridge_prf_salt(const uint8_t *input, size_t len, uint8_t salt[32]);

/* ---- key management ------------------------------------------------------- */

/* getInfo and PIN state as JSON. */
int fido_bridge_info(fido_dev_t *dev, json_t **out);
int fido_bridge_set_pin(fido_dev_t *dev, const char *pin);
int fido_bridge_change_pin(fido_dev_t *dev, const char *old_pin, const char *new_pin);
/* authenticatorReset: only within 10 s of power-up and with a touch. */
int fido_bridge_reset(fido_dev_t *dev);
/* Discoverable credentials (credential management, needs the PIN). */
int fido_bridge_creds_list(fido_dev_t *dev, const char *pin, json_t **out);
int fido_bridge_creds_delete(fido_dev_t *dev, const char *pin, const uint8_t *id, size_t id_len);
/* Maps a libfido2 FIDO_ERR_* to a bridge error. */
int fido_bridge_map_fido_err(int r);

#endif
