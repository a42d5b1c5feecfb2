/* Private interfaces between the bridge's files. */
#ifndef LLAVERO_FIDO_INTERNAL_H
#define LLAVERO_FIDO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <fido.h>
#include <jansson.h>

#include "fido_bridge.h"

/* fido_transport_socket.c: CTAPHID reports over llavero-vkey's SOCK_SEQPACKET
 * socket (libfido2 custom io functions). */
extern const fido_dev_io_t fido_bridge_socket_io;
/* True when something accepts connections on the socket. */
bool fido_bridge_socket_alive(const char *path);

/* fido_devices.c: appends a device "<prefix><path>" to a growing list. */
int fido_bridge_device_add(struct fido_bridge_device **list, size_t *n, size_t *cap,
			   enum fido_bridge_transport t, const char *prefix, const char *path,
			   const char *product);

/* fido_transport_pcsc.c: CTAP over ISO 7816 on a PC/SC reader (libfido2
 * custom io + transport functions). The io "path" is the reader name. */
extern const fido_dev_io_t fido_bridge_pcsc_io;
extern const fido_dev_transport_t fido_bridge_pcsc_transport;
/* Appends "pcsc:<reader>" devices whose card answers SELECT of the FIDO AID. */
int fido_bridge_pcsc_discover(struct fido_bridge_device **list, size_t *n, size_t *cap);

/* fido_options.c: option parsing shared by create and get. */
int fido_bridge_opt_b64url(const json_t *obj, const char *key, bool required,
			   uint8_t **out, size_t *len, char *err, size_t errlen);
/* Adds each {type:"public-key", id} of the array to a callback. */
int fido_bridge_opt_cred_list(const json_t *arr, int (*add)(void *, const uint8_t *, size_t),
			      void *arg, size_t *count, char *err, size_t errlen);
/* "required" / "preferred" / "discouraged" (default preferred) -> 2/1/0. */
int fido_bridge_opt_level(const json_t *obj, const char *key, int *level);
/* "timeout" in ms, default 120 s, clamped to 5 s .. 10 min; a negative or
 * non-integer one is FIDO_BRIDGE_ERR_BAD_ARG. */
int fido_bridge_opt_timeout(const json_t *obj, int *ms);

/* fido_uv.c: whether a ceremony asks the PIN, and asking it (once). */
struct fido_bridge_uv {
	char *pin;          /* secure memory, NULL when no PIN is used */
	fido_opt_t uv;      /* built-in user verification option */
};
int fido_bridge_uv_prepare(struct fido_bridge_ceremony *c, fido_dev_t *dev, int uv_level,
			   bool rk, struct fido_bridge_uv *out);
void fido_bridge_uv_clear(struct fido_bridge_uv *uv);

/* fido_ceremony.c: common start of create/get. */
int fido_bridge_ceremony_open(struct fido_bridge_ceremony *c, fido_dev_t **dev);
void fido_bridge_ceremony_close(struct fido_bridge_ceremony *c, fido_dev_t **dev);
void fido_bridge_set_error(struct fido_bridge_ceremony *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The first checks of create and get, each setting the error text: the
 * options are a JSON object and the caller's origin is allowed (host gets
 * its host); the RP ID is valid for that origin. */
int fido_bridge_ceremony_origin(struct fido_bridge_ceremony *c, char *host, size_t host_max);
int fido_bridge_ceremony_rpid(struct fido_bridge_ceremony *c, const char *rp_id);
/* The answer to a failed libfido2 call op ("makeCredential", ...) on the
 * device: its mapped error, or FIDO_BRIDGE_ERR_CANCELLED after a cancel. */
int fido_bridge_ceremony_failed(struct fido_bridge_ceremony *c, int fr, const char *op);

/* The PublicKeyCredential JSON of both answers: res, its "response" resp
 * and its "clientExtensionResults" ext. */
struct fido_bridge_pkc {
	json_t *res, *resp, *ext;
};
/* Creates the three objects: FIDO_BRIDGE_ERR_INTERNAL when one is missing
 * (fido_bridge_pkc_free anyway). */
int fido_bridge_pkc_new(struct fido_bridge_pkc *p);
/* id, rawId, type, authenticatorAttachment and response.clientDataJSON;
 * FIDO_BRIDGE_ERR_INTERNAL on failure. */
int fido_bridge_pkc_start(struct fido_bridge_pkc *p, const uint8_t *id, size_t id_len,
			  const char *cdj, size_t cdj_len);
/* Puts resp and ext into res and gives *out a reference to res. */
void fido_bridge_pkc_finish(struct fido_bridge_pkc *p, json_t **out);
void fido_bridge_pkc_free(struct fido_bridge_pkc *p);
/* The transports a device is reached through, for the JSON "transports". */
json_t *fido_bridge_transports_json(const char *path, fido_dev_t *dev);

/* fido_attestation.c: attestationObject (canonical CBOR) and SPKI of a new
 * credential; none_format replaces the attestation statement by "none". */
int fido_bridge_attestation_object(const fido_cred_t *cred, bool none_format,
				   uint8_t **out, size_t *len);
int fido_bridge_cred_spki(const fido_cred_t *cred, uint8_t **out, size_t *len);
/* The raw authenticator data of assertion idx (libfido2 keeps it CBOR-wrapped). */
int fido_bridge_assert_authdata(const fido_assert_t *a, size_t idx, uint8_t **out, size_t *len);
/* The extension outputs map of authenticator data, or NULL; caller decrefs. */
int fido_bridge_authdata_ext_flag(const uint8_t *ad, size_t len, const char *ext, bool *value);

#endif
