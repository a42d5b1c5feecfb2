/* Authenticator data (WebAuthn section 6.1): rpIdHash, flags, signature
 * counter, attested credential data (AAGUID, credential ID, COSE public key)
 * and extension outputs. */
#include "ctap_internal.h"

int ctap_authdata(struct ctap_auth *a, struct llv_buf *out, const uint8_t rp_id_hash[32], uint8_t flags,
		  const struct ctap_cred *attested, const struct llv_buf *ext)
{
	if (attested != NULL)
		flags |= CTAP_FLAG_AT;
	if (ext != NULL && ext->len > 0)
		flags |= CTAP_FLAG_ED;
	llv_buf_put(out, rp_id_hash, 32);
	llv_buf_put_u8(out, flags);
	llv_buf_put_be32(out, ctap_next_counter(a));
	if (attested != NULL) {
		llv_buf_put(out, a->p.aaguid, 16);
		llv_buf_put_be16(out, CTAP_CRED_ID_LEN);
		llv_buf_put(out, attested->id, CTAP_CRED_ID_LEN);
		if (ctap_key_put_cose(out, attested->alg, attested->priv) != 0)
			return -1;
	}
	if (ext != NULL && ext->len > 0)
		llv_buf_put(out, ext->data, ext->len);
	return llv_buf_ok(out) ? 0 : -1;
}
