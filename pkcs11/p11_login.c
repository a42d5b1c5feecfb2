/* Login state (per token, shared by the application's sessions) and PINs:
 * C_Login / C_LoginUser / C_Logout, C_InitPIN (unblock with the SO = PUK
 * logged in), C_SetPIN, C_InitToken. PIN bytes are copied into wiped
 * memory for the driver call and never kept or logged by the core; a PIN is
 * never retried on the caller's behalf. */
#include "p11_internal.h"

#include <string.h>

#include "log.h"
#include "secmem.h"

/* Copies a caller's PIN into secure memory (NULL for a protected path). */
static CK_RV pin_copy(const CK_UTF8CHAR *pin, CK_ULONG len, uint8_t **out)
{
	*out = NULL;
	if (!pin)
		return len ? CKR_ARGUMENTS_BAD : CKR_OK;
	if (len > 256)
		return CKR_PIN_LEN_RANGE;
	*out = llv_secure_alloc(len ? len : 1);
	if (!*out)
		return CKR_HOST_MEMORY;
	memcpy(*out, pin, len);
	return CKR_OK;
}

static void pin_free(uint8_t *p, CK_ULONG len)
{
	llv_secure_free(p, len ? len : 1);
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
	struct p11_session *s;
	struct p11_token *t;
	uint8_t *pin = NULL;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	t = s->slot->token;
	if (userType != CKU_USER && userType != CKU_SO && userType != CKU_CONTEXT_SPECIFIC) {
		rv = CKR_USER_TYPE_INVALID;
		goto out;
	}
	if (!pPin && ulPinLen) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (userType == CKU_CONTEXT_SPECIFIC) {
		if (!s->sign) {
			rv = CKR_OPERATION_NOT_INITIALIZED;
			goto out;
		}
		if (t->user != CKU_USER) {
			rv = CKR_USER_NOT_LOGGED_IN;
			goto out;
		}
	} else if (t->user == userType) {
		rv = CKR_USER_ALREADY_LOGGED_IN;
		goto out;
	} else if (t->user != P11_NO_USER) {
		rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		goto out;
	} else if (userType == CKU_SO && p11_sessions_count(s->slot, false) !=
	                                     p11_sessions_count(s->slot, true)) {
		rv = CKR_SESSION_READ_ONLY_EXISTS;
		goto out;
	}
	rv = pin_copy(pPin, ulPinLen, &pin);
	if (rv != CKR_OK)
		goto out;
	rv = t->drv->login(t->priv, userType,
	                   userType == CKU_CONTEXT_SPECIFIC ? s->sign->key : NULL, pin, ulPinLen);
	pin_free(pin, ulPinLen);
	rv = p11_slot_driver_rv(s->slot, rv);
	if (rv == CKR_OK) {
		if (userType == CKU_CONTEXT_SPECIFIC)
			s->sign->context_login = true;
		else
			t->user = userType;
	}
out:
	p11_session_release(s);
	return rv;
}

CK_RV C_LoginUser(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
                  CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen)
{
	/* our tokens have no user names; one given is not an error (3.0 5.6.8
	 * leaves it to the token), it is ignored */
	if (!pUsername && ulUsernameLen && p11_ready())
		return CKR_ARGUMENTS_BAD;
	return C_Login(hSession, userType, pPin, ulPinLen);
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
	struct p11_session *s;
	struct p11_token *t;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	t = s->slot->token;
	if (t->user == P11_NO_USER) {
		rv = CKR_USER_NOT_LOGGED_IN;
	} else {
		t->user = P11_NO_USER;
		rv = p11_slot_driver_rv(s->slot, t->drv->logout(t->priv));
	}
	p11_session_release(s);
	return rv;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	struct p11_session *s;
	struct p11_token *t;
	uint8_t *pin = NULL;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	t = s->slot->token;
	if (t->user != CKU_SO)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (!(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else if (!t->drv->init_pin)
		rv = CKR_TOKEN_WRITE_PROTECTED;
	else
		rv = pin_copy(pPin, ulPinLen, &pin);
	if (rv == CKR_OK) {
		rv = p11_slot_driver_rv(s->slot, t->drv->init_pin(t->priv, pin, ulPinLen));
		pin_free(pin, ulPinLen);
	}
	p11_session_release(s);
	return rv;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	struct p11_session *s;
	struct p11_token *t;
	uint8_t *oldp = NULL, *newp = NULL;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	t = s->slot->token;
	if (!(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else if (!t->drv->set_pin)
		rv = CKR_TOKEN_WRITE_PROTECTED;
	if (rv == CKR_OK)
		rv = pin_copy(pOldPin, ulOldLen, &oldp);
	if (rv == CKR_OK)
		rv = pin_copy(pNewPin, ulNewLen, &newp);
	if (rv == CKR_OK)
		rv = p11_slot_driver_rv(s->slot,
		                        t->drv->set_pin(t->priv, t->user == CKU_SO ? CKU_SO : CKU_USER,
		                                        oldp, ulOldLen, newp, ulNewLen));
	pin_free(oldp, ulOldLen);
	pin_free(newp, ulNewLen);
	p11_session_release(s);
	return rv;
}

/* Re-initialising a PIV card or an e.firma pair (erasing the keys) is not
 * something these tokens can do through Cryptoki. */
CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
	struct p11_slot *slot;
	CK_RV rv = p11_slot_lookup(slotID, pLabel && (pPin || !ulPinLen), &slot);

	if (rv != CKR_OK)
		return rv;
	p11_lock(slot->lock);
	rv = p11_slot_token(slot, true);
	if (rv == CKR_OK)
		rv = p11_sessions_count(slot, false) ? CKR_SESSION_EXISTS : CKR_FUNCTION_NOT_SUPPORTED;
	p11_unlock(slot->lock);
	return rv;
}
