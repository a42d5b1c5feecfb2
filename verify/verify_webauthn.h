/* WebAuthn relying-party verification: what both ceremonies share.
 * clientDataJSON (type, challenge, origin, crossOrigin) and authenticator
 * data (rpIdHash, flags, counter, attested credential). */
#ifndef LLAVERO_VERIFY_WEBAUTHN_H
#define LLAVERO_VERIFY_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERIFY_AD_UP 0x01
#define VERIFY_AD_UV 0x04
#define VERIFY_AD_BE 0x08
#define VERIFY_AD_BS 0x10
#define VERIFY_AD_AT 0x40
#define VERIFY_AD_ED 0x80

/* The relying party's policy. */
struct verify_webauthn_rp {
	const char *rp_id;                 /* e.g. "localhost", "llave.gob.mx" */
	const char *const *origins;        /* allowed origins, exact match */
	size_t n_origins;
	bool require_uv;                   /* userVerification "required" */
	bool allow_cross_origin;           /* accept crossOrigin: true */
};

/* ---- clientDataJSON ---- */
struct verify_client_data {
	char type[32];
	uint8_t *challenge;      /* decoded base64url */
	size_t challenge_len;
	char *origin;
	bool cross_origin;
};

/* Parses clientDataJSON (at most 64 KiB). VERIFY_OK or
 * VERIFY_ERR_WA_CLIENT_DATA. Clear *out with verify_client_data_clear. */
int verify_client_data_parse(const uint8_t *json, size_t len, struct verify_client_data *out);
void verify_client_data_clear(struct verify_client_data *cd);
/* Checks type (VERIFY_ERR_WA_TYPE), challenge (VERIFY_ERR_WA_CHALLENGE),
 * origin (VERIFY_ERR_WA_ORIGIN) and crossOrigin (VERIFY_ERR_WA_CROSS_ORIGIN). */
int verify_client_data_check(const struct verify_client_data *cd, const char *type,
			     const uint8_t *challenge, size_t challenge_len,
			     const struct verify_webauthn_rp *rp);

/* ---- authenticator data ---- */
struct verify_authdata {
	const uint8_t *rp_id_hash;   /* 32 bytes, inside the parsed buffer */
	uint8_t flags;
	uint32_t sign_count;
	bool has_credential;         /* AT */
	uint8_t aaguid[16];
	const uint8_t *cred_id;
	size_t cred_id_len;
	const uint8_t *cose_key;
	size_t cose_key_len;
	const uint8_t *extensions;   /* CBOR map when ED, else NULL */
	size_t extensions_len;
};

/* Parses authenticator data; pointers refer into ad. VERIFY_OK or
 * VERIFY_ERR_WA_AUTH_DATA (also for trailing bytes). */
int verify_authdata_parse(const uint8_t *ad, size_t len, struct verify_authdata *out);
/* Checks the RP ID is no public suffix (libpsl; VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX),
 * rpIdHash (VERIFY_ERR_WA_RP_ID), UP (VERIFY_ERR_WA_USER_PRESENT) and,
 * when rp->require_uv, UV (VERIFY_ERR_WA_USER_VERIFIED). */
int verify_authdata_check(const struct verify_authdata *ad, const struct verify_webauthn_rp *rp);

#endif
