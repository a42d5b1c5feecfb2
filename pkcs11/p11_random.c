/* C_GenerateRandom (the token's generator when the driver has one, else
 * OpenSSL's DRBG, which is what the token flag CKF_RNG then stands for) and
 * C_SeedRandom (our generators take no outside seed). */
#include "p11_internal.h"

#include <openssl/rand.h>

CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	return p11_session_check(hSession,
	                         (!pSeed && ulSeedLen) ? CKR_ARGUMENTS_BAD : CKR_RANDOM_SEED_NOT_SUPPORTED);
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
	struct p11_session *s;
	struct p11_token *t;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	t = s->slot->token;
	if (!pRandomData && ulRandomLen)
		rv = CKR_ARGUMENTS_BAD;
	else if (ulRandomLen == 0)
		rv = CKR_OK;
	else if (t->drv->random)
		rv = p11_slot_driver_rv(s->slot, t->drv->random(t->priv, pRandomData, ulRandomLen));
	else if (ulRandomLen > 0x7FFFFFFF || RAND_bytes(pRandomData, (int)ulRandomLen) != 1)
		rv = CKR_FUNCTION_FAILED;
	p11_session_release(s);
	return rv;
}
