/* Authenticator data parsing and checks (WebAuthn 6.1). */
#include "verify_webauthn.h"
#include "verify_cbor.h"
#include "verify_errors.h"

#include "buf.h"
#include "log.h"
#include "rpid.h"

#include <openssl/sha.h>
#include <string.h>

#define AUTHDATA_MAX (64u << 10)

int verify_authdata_parse(const uint8_t *ad, size_t len, struct verify_authdata *out)
{
	if (!out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!ad || len < 37 || len > AUTHDATA_MAX)
		return VERIFY_ERR_WA_AUTH_DATA;
	struct llv_reader r;
	llv_reader_init(&r, ad, len);
	out->rp_id_hash = llv_reader_take(&r, 32);
	out->flags = llv_reader_u8(&r);
	out->sign_count = llv_reader_be32(&r);
	if (out->flags & VERIFY_AD_AT) {
		const uint8_t *aaguid = llv_reader_take(&r, 16);
		size_t id_len = llv_reader_be16(&r);
		out->cred_id = llv_reader_take(&r, id_len);
		if (!llv_reader_ok(&r) || id_len == 0 || id_len > 1023)
			return VERIFY_ERR_WA_AUTH_DATA;
		memcpy(out->aaguid, aaguid, 16);
		out->cred_id_len = id_len;
		size_t used = 0;
		cbor_item_t *key = verify_cbor_load(r.p, r.left, false, &used);
		if (!key)
			return VERIFY_ERR_WA_AUTH_DATA;
		bool is_map = cbor_isa_map(key);
		cbor_decref(&key);
		if (!is_map)
			return VERIFY_ERR_WA_AUTH_DATA;
		out->cose_key = llv_reader_take(&r, used);
		out->cose_key_len = used;
		out->has_credential = true;
	}
	if (out->flags & VERIFY_AD_ED) {
		size_t used = 0;
		cbor_item_t *ext = llv_reader_ok(&r) ? verify_cbor_load(r.p, r.left, true, &used) : NULL;
		if (!ext)
			return VERIFY_ERR_WA_AUTH_DATA;
		bool ok = verify_cbor_map_ok(ext);
		cbor_decref(&ext);
		if (!ok)
			return VERIFY_ERR_WA_AUTH_DATA;
		out->extensions = llv_reader_take(&r, used);
		out->extensions_len = used;
	}
	if (!llv_reader_ok(&r) || r.left != 0)
		return VERIFY_ERR_WA_AUTH_DATA;
	return VERIFY_OK;
}

int verify_authdata_check(const struct verify_authdata *ad, const struct verify_webauthn_rp *rp)
{
	if (!ad || !rp || !rp->rp_id)
		return VERIFY_ERR_ARGUMENT;
	/* A public suffix is nobody's to claim (WebAuthn 5.1.3 step 8): a
	 * credential scoped to gob.mx would serve every site under it. */
	if (llv_rpid_is_public_suffix(rp->rp_id)) {
		llv_warn("verify: RP ID %s is a public suffix", rp->rp_id);
		return VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX;
	}
	uint8_t h[32];
	SHA256((const unsigned char *)rp->rp_id, strlen(rp->rp_id), h);
	if (memcmp(h, ad->rp_id_hash, 32) != 0)
		return VERIFY_ERR_WA_RP_ID;
	if (!(ad->flags & VERIFY_AD_UP))
		return VERIFY_ERR_WA_USER_PRESENT;
	if (rp->require_uv && !(ad->flags & VERIFY_AD_UV))
		return VERIFY_ERR_WA_USER_VERIFIED;
	return VERIFY_OK;
}
