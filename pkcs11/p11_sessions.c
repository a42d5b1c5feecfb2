/* Sessions: open/close, session info, and the lookup every session function
 * starts with. A session lives on one token instance: when that token goes
 * (card pulled, reader gone) the session's next call gets CKR_DEVICE_REMOVED
 * and the session is closed, so later calls get CKR_SESSION_HANDLE_INVALID.
 * Login state belongs to the token (shared by the application's sessions);
 * closing the last session logs out. */
#include "p11_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void p11_sign_op_free(struct p11_sign_op *op)
{
	if (!op)
		return;
	EVP_MD_CTX_free(op->mdctx);
	llv_buf_free(&op->data);
	free(op);
}

void p11_sign_op_end(struct p11_sign_op **op)
{
	p11_sign_op_free(*op);
	*op = NULL;
}

static void session_free(struct p11_session *s)
{
	free(s->found);
	p11_sign_op_free(s->sign);
	p11_sign_op_free(s->verify);
	free(s);
}

/* With g_p11.lock held: unlinks s. */
static void session_unlink(struct p11_session *s)
{
	for (struct p11_session **pp = &g_p11.sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

static struct p11_session *session_lookup(CK_SESSION_HANDLE h)
{
	for (struct p11_session *s = g_p11.sessions; s; s = s->next)
		if (s->handle == h)
			return s;
	return NULL;
}

size_t p11_sessions_count(const struct p11_slot *slot, bool rw_only)
{
	size_t n = 0;

	p11_lock(g_p11.lock);
	for (struct p11_session *s = g_p11.sessions; s; s = s->next)
		if (s->slot == slot && s->token_gen == slot->token_gen &&
		    (!rw_only || (s->flags & CKF_RW_SESSION)))
			n++;
	p11_unlock(g_p11.lock);
	return n;
}

/* With the slot lock held: the token logs out when its last session closes. */
static void logout_if_last(struct p11_slot *slot)
{
	struct p11_token *t = slot->token;

	if (!t || t->user == P11_NO_USER || p11_sessions_count(slot, false) > 0)
		return;
	(void)p11_slot_driver_rv(slot, t->drv->logout(t->priv));
	if (slot->token)
		slot->token->user = P11_NO_USER;
}

CK_RV p11_session_acquire(CK_SESSION_HANDLE h, struct p11_session **out)
{
	struct p11_session *s;
	struct p11_slot *slot;

	if (!p11_ready())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	p11_lock(g_p11.lock);
	s = session_lookup(h);
	slot = s ? s->slot : NULL;
	p11_unlock(g_p11.lock);
	if (!s)
		return CKR_SESSION_HANDLE_INVALID;
	p11_lock(slot->lock);
	p11_lock(g_p11.lock);
	s = session_lookup(h);       /* closed meanwhile? */
	if (s && (s->token_gen != slot->token_gen || !slot->token)) {
		/* its token went away: report once, then the handle is invalid */
		session_unlink(s);
		p11_unlock(g_p11.lock);
		session_free(s);
		p11_unlock(slot->lock);
		return CKR_DEVICE_REMOVED;
	}
	p11_unlock(g_p11.lock);
	if (!s) {
		p11_unlock(slot->lock);
		return CKR_SESSION_HANDLE_INVALID;
	}
	*out = s;
	return CKR_OK;
}

void p11_session_release(struct p11_session *s)
{
	struct p11_slot *slot = s->slot;

	if (s->token_gen != slot->token_gen) {
		/* the token went away during this call, which reported
		 * CKR_DEVICE_REMOVED: the session is over */
		p11_lock(g_p11.lock);
		session_unlink(s);
		p11_unlock(g_p11.lock);
		session_free(s);
	}
	p11_unlock(slot->lock);
}

CK_RV p11_session_check(CK_SESSION_HANDLE h, CK_RV answer)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(h, &s);

	if (rv != CKR_OK)
		return rv;
	p11_session_release(s);
	return answer;
}

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
                    CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession)
{
	struct p11_slot *slot;
	struct p11_session *s;
	CK_RV rv = p11_slot_lookup(slotID, true, &slot);

	if (rv != CKR_OK)
		return rv;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (!phSession)
		return CKR_ARGUMENTS_BAD;
	p11_lock(slot->lock);
	rv = p11_slot_token(slot, true);
	if (rv != CKR_OK)
		goto out;
	if (!(flags & CKF_RW_SESSION) && slot->token->user == CKU_SO) {
		rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	s->slot = slot;
	s->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
	p11_lock(g_p11.lock);
	s->token_gen = slot->token_gen;
	s->handle = g_p11.next_session++;
	s->next = g_p11.sessions;
	g_p11.sessions = s;
	p11_unlock(g_p11.lock);
	*phSession = s->handle;
out:
	p11_unlock(slot->lock);
	return rv;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
	struct p11_session *s;
	struct p11_slot *slot;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	slot = s->slot;
	p11_lock(g_p11.lock);
	session_unlink(s);
	p11_unlock(g_p11.lock);
	session_free(s);
	logout_if_last(slot);
	p11_unlock(slot->lock);
	return CKR_OK;
}

void p11_sessions_close_slot(struct p11_slot *slot, bool lock_global)
{
	struct p11_session **pp;

	if (lock_global)
		p11_lock(g_p11.lock);
	pp = &g_p11.sessions;
	while (*pp) {
		struct p11_session *s = *pp;

		if (s->slot == slot) {
			*pp = s->next;
			session_free(s);
		} else {
			pp = &s->next;
		}
	}
	if (lock_global)
		p11_unlock(g_p11.lock);
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
	struct p11_slot *slot;
	CK_RV rv = p11_slot_lookup(slotID, true, &slot);

	if (rv != CKR_OK)
		return rv;
	p11_lock(slot->lock);
	p11_sessions_close_slot(slot, true);
	logout_if_last(slot);
	p11_unlock(slot->lock);
	return CKR_OK;
}

void p11_sessions_free_all(void)
{
	while (g_p11.sessions) {
		struct p11_session *s = g_p11.sessions;

		g_p11.sessions = s->next;
		session_free(s);
	}
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);
	CK_USER_TYPE u;

	if (rv != CKR_OK)
		return rv;
	if (!pInfo) {
		p11_session_release(s);
		return CKR_ARGUMENTS_BAD;
	}
	u = s->slot->token->user;
	pInfo->slotID = s->slot->id;
	pInfo->flags = s->flags;
	pInfo->ulDeviceError = 0;
	if (u == CKU_SO)
		pInfo->state = CKS_RW_SO_FUNCTIONS;
	else if (u == CKU_USER)
		pInfo->state = (s->flags & CKF_RW_SESSION) ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	else
		pInfo->state = (s->flags & CKF_RW_SESSION) ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	p11_session_release(s);
	return CKR_OK;
}

/* Saving a signing operation would export a half-hashed state; no token of
 * ours can do that. */
CK_RV C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG_PTR pulOperationStateLen)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!pulOperationStateLen)
		rv = CKR_ARGUMENTS_BAD;
	else if (!s->sign && !s->verify && !s->find_active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else
		rv = CKR_STATE_UNSAVEABLE;
	p11_session_release(s);
	return rv;
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
                          CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
                          CK_OBJECT_HANDLE hAuthenticationKey)
{
	/* we never hand out a state, so none can be valid */
	return p11_session_check(hSession, pOperationState ? CKR_SAVED_STATE_INVALID : CKR_ARGUMENTS_BAD);
}

CK_RV C_SessionCancel(CK_SESSION_HANDLE hSession, CK_FLAGS flags)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (flags & CKF_SIGN)
		p11_sign_op_end(&s->sign);
	if (flags & CKF_VERIFY)
		p11_sign_op_end(&s->verify);
	p11_session_release(s);
	return CKR_OK;
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	return p11_session_check(hSession, CKR_FUNCTION_NOT_PARALLEL);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	return p11_session_check(hSession, CKR_FUNCTION_NOT_PARALLEL);
}
