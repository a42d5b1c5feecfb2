/* Mechanisms: the list and info follow what the token's keys and driver can
 * really do (key sizes from the driver, RSA and/or EC). Signing is done by
 * the token (CKF_HW on cards); verification is done in software with the
 * public key, so it is offered too. */
#include "p11_internal.h"

#include <string.h>

struct mech {
	CK_MECHANISM_TYPE type;
	bool rsa;
};

static const struct mech mechs[] = {
	{ CKM_RSA_PKCS, true },
	{ CKM_SHA1_RSA_PKCS, true },
	{ CKM_SHA224_RSA_PKCS, true },
	{ CKM_SHA256_RSA_PKCS, true },
	{ CKM_SHA384_RSA_PKCS, true },
	{ CKM_SHA512_RSA_PKCS, true },
	{ CKM_RSA_PKCS_PSS, true },
	{ CKM_SHA1_RSA_PKCS_PSS, true },
	{ CKM_SHA224_RSA_PKCS_PSS, true },
	{ CKM_SHA256_RSA_PKCS_PSS, true },
	{ CKM_SHA384_RSA_PKCS_PSS, true },
	{ CKM_SHA512_RSA_PKCS_PSS, true },
	{ CKM_ECDSA, false },
	{ CKM_ECDSA_SHA1, false },
	{ CKM_ECDSA_SHA224, false },
	{ CKM_ECDSA_SHA256, false },
	{ CKM_ECDSA_SHA384, false },
	{ CKM_ECDSA_SHA512, false },
};

#define N_MECHS (sizeof(mechs) / sizeof(mechs[0]))

size_t p11_mech_list(const struct p11_token *tok, CK_MECHANISM_TYPE *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < N_MECHS; i++) {
		if (mechs[i].rsa ? tok->rsa_max == 0 : tok->ec_max == 0)
			continue;
		if (out && n < max)
			out[n] = mechs[i].type;
		n++;
	}
	return n;
}

CK_RV p11_mech_info(const struct p11_token *tok, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	for (size_t i = 0; i < N_MECHS; i++) {
		if (mechs[i].type != type)
			continue;
		if (mechs[i].rsa ? tok->rsa_max == 0 : tok->ec_max == 0)
			break;
		memset(info, 0, sizeof(*info));
		info->flags = CKF_SIGN | CKF_VERIFY;
		if (tok->drv->kind == P11_DRIVER_CARD)
			info->flags |= CKF_HW;
		if (mechs[i].rsa) {
			info->ulMinKeySize = tok->rsa_min;
			info->ulMaxKeySize = tok->rsa_max;
		} else {
			info->ulMinKeySize = tok->ec_min;
			info->ulMaxKeySize = tok->ec_max;
			info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
		}
		return CKR_OK;
	}
	return CKR_MECHANISM_INVALID;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
	struct p11_slot *s;
	size_t n;
	CK_RV rv = p11_slot_lookup(slotID, pulCount != NULL, &s);

	if (rv != CKR_OK)
		return rv;
	p11_lock(s->lock);
	rv = p11_slot_token(s, false);
	if (rv == CKR_OK) {
		n = p11_mech_list(s->token, NULL, 0);
		if (pMechanismList && *pulCount < n)
			rv = CKR_BUFFER_TOO_SMALL;
		else if (pMechanismList)
			p11_mech_list(s->token, pMechanismList, n);
		*pulCount = n;
	}
	p11_unlock(s->lock);
	return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
	struct p11_slot *s;
	CK_RV rv = p11_slot_lookup(slotID, pInfo != NULL, &s);

	if (rv != CKR_OK)
		return rv;
	p11_lock(s->lock);
	rv = p11_slot_token(s, false);
	if (rv == CKR_OK)
		rv = p11_mech_info(s->token, type, pInfo);
	p11_unlock(s->lock);
	return rv;
}
