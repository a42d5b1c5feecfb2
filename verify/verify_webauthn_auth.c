/* WebAuthn authentication verification (WebAuthn Level 3, 7.2). */
#include "verify_webauthn_auth.h"
#include "verify_cose.h"
#include "verify_errors.h"

#include "buf.h"
#include "log.h"

#include <openssl/sha.h>
#include <string.h>

int verify_webauthn_authenticate(const uint8_t *cdj, size_t cdj_len,
				 const uint8_t *adp, size_t ad_len,
				 const uint8_t *sig, size_t sig_len,
				 const struct verify_webauthn_auth_opts *o,
				 struct verify_webauthn_assertion *out)
{
	if (!o || !o->rp || !o->challenge || !out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	EVP_PKEY *pk = verify_cose_spki_decode(o->public_key_spki, o->public_key_spki_len);
	long alg = pk ? verify_cose_alg_for_key(pk) : 0;
	if (!pk || alg == 0 || (o->cose_alg != 0 && o->cose_alg != alg)) {
		EVP_PKEY_free(pk);
		return VERIFY_ERR_WA_CREDENTIAL_KEY;
	}
	struct verify_client_data cd;
	struct verify_authdata a;
	struct llv_buf signed_data = LLV_BUF_INIT;
	int rc = verify_client_data_parse(cdj, cdj_len, &cd);
	if (rc != VERIFY_OK)
		goto out_key;
	rc = verify_client_data_check(&cd, "webauthn.get", o->challenge, o->challenge_len, o->rp);
	verify_client_data_clear(&cd);
	if (rc != VERIFY_OK)
		goto out_key;
	rc = verify_authdata_parse(adp, ad_len, &a);
	if (rc == VERIFY_OK && a.has_credential)
		rc = VERIFY_ERR_WA_AUTH_DATA;   /* AT is never set in an assertion */
	if (rc == VERIFY_OK)
		rc = verify_authdata_check(&a, o->rp);
	if (rc != VERIFY_OK)
		goto out_key;
	if (!sig || sig_len == 0 || sig_len > 1024) {
		rc = VERIFY_ERR_WA_SIGNATURE;
		goto out_key;
	}
	uint8_t cdh[32];
	SHA256(cdj, cdj_len, cdh);
	llv_buf_put(&signed_data, adp, ad_len);
	llv_buf_put(&signed_data, cdh, sizeof(cdh));
	if (!llv_buf_ok(&signed_data)) {
		rc = VERIFY_ERR_NOMEM;
		goto out_key;
	}
	rc = verify_cose_verify(pk, alg, signed_data.data, signed_data.len, sig, sig_len,
				VERIFY_ERR_WA_SIGNATURE);
	if (rc != VERIFY_OK)
		goto out_key;
	if ((a.sign_count != 0 || o->stored_sign_count != 0) &&
	    a.sign_count <= o->stored_sign_count) {
		llv_warn("verify: signature counter went from %u to %u",
			 o->stored_sign_count, a.sign_count);
		rc = VERIFY_ERR_WA_COUNTER;
		goto out_key;
	}
	out->sign_count = a.sign_count;
	out->flags = a.flags;
out_key:
	if (rc != VERIFY_OK)
		llv_info("verify: assertion rejected: %s", verify_error_id(rc));
	llv_buf_free(&signed_data);
	EVP_PKEY_free(pk);
	return rc;
}
