/* Objects: storage per token, visibility (private objects only with the user
 * logged in), template matching (C_FindObjects*), C_GetAttributeValue with
 * the spec's per-attribute answers, and the object-changing functions, which
 * our tokens refuse as the spec says for objects that are not modifiable,
 * copyable or destroyable. */
#include "p11_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void p11_object_free(struct p11_object *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nattrs; i++)
		free(o->attrs[i].value);
	free(o->attrs);
	EVP_PKEY_free(o->pub);
	free(o);
}

void p11_token_free(struct p11_token *tok)
{
	if (!tok)
		return;
	if (tok->priv && tok->drv->release)
		tok->drv->release(tok->priv);
	for (size_t i = 0; i < tok->nobjs; i++)
		p11_object_free(tok->objs[i]);
	free(tok->objs);
	free(tok);
}

const struct p11_attr *p11_object_attr(const struct p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	return NULL;
}

bool p11_attr_is_sensitive(const struct p11_object *o, CK_ATTRIBUTE_TYPE type)
{
	if (o->cls != CKO_PRIVATE_KEY)
		return false;
	switch (type) {
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
	case CKA_VALUE:
		return true;
	default:
		return false;
	}
}

bool p11_object_match(const struct p11_object *o, const CK_ATTRIBUTE *templ, CK_ULONG count)
{
	for (CK_ULONG i = 0; i < count; i++) {
		const struct p11_attr *a = p11_object_attr(o, templ[i].type);

		if (!a || a->len != templ[i].ulValueLen)
			return false;
		if (a->len && (!templ[i].pValue || memcmp(a->value, templ[i].pValue, a->len) != 0))
			return false;
	}
	return true;
}

/* PKCS#11 3.0 5.7.5: each attribute independently; the worst answer wins
 * in the order SENSITIVE / TYPE_INVALID / BUFFER_TOO_SMALL (any of them). */
CK_RV p11_object_get_attrs(const struct p11_object *o, CK_ATTRIBUTE *templ, CK_ULONG count)
{
	CK_RV rv = CKR_OK;

	for (CK_ULONG i = 0; i < count; i++) {
		const struct p11_attr *a;

		if (p11_attr_is_sensitive(o, templ[i].type)) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_SENSITIVE;
			continue;
		}
		a = p11_object_attr(o, templ[i].type);
		if (!a) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
			continue;
		}
		if (!templ[i].pValue) {
			templ[i].ulValueLen = a->len;
			continue;
		}
		if (templ[i].ulValueLen < a->len) {
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
			continue;
		}
		memcpy(templ[i].pValue, a->value, a->len);
		templ[i].ulValueLen = a->len;
	}
	return rv;
}

bool p11_object_visible(const struct p11_token *tok, const struct p11_object *o)
{
	return !o->private_obj || tok->user == CKU_USER;
}

struct p11_object *p11_token_object(struct p11_token *tok, CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < tok->nobjs; i++)
		if (tok->objs[i]->handle == h)
			return p11_object_visible(tok, tok->objs[i]) ? tok->objs[i] : NULL;
	return NULL;
}

uintptr_t p11_object_key_ref(const struct p11_object *key)
{
	return key->drv_ref;
}

CK_KEY_TYPE p11_object_key_type(const struct p11_object *key)
{
	return key->key_type;
}

CK_ULONG p11_object_key_bits(const struct p11_object *key)
{
	return key->bits;
}

/* ---- Cryptoki functions ---------------------------------------------------- */

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct p11_session *s;
	struct p11_token *t;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!pTemplate && ulCount) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->find_active) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	t = s->slot->token;
	free(s->found);
	s->found = calloc(t->nobjs ? t->nobjs : 1, sizeof(CK_OBJECT_HANDLE));
	if (!s->found) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	s->nfound = s->pos = 0;
	for (size_t i = 0; i < t->nobjs; i++)
		if (p11_object_visible(t, t->objs[i]) && p11_object_match(t->objs[i], pTemplate, ulCount))
			s->found[s->nfound++] = t->objs[i]->handle;
	s->find_active = true;
out:
	p11_session_release(s);
	return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);
	CK_ULONG n = 0;

	if (rv != CKR_OK)
		return rv;
	if (!phObject || !pulObjectCount) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (!s->find_active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		while (n < ulMaxObjectCount && s->pos < s->nfound)
			phObject[n++] = s->found[s->pos++];
		*pulObjectCount = n;
	}
	p11_session_release(s);
	return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->find_active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		free(s->found);
		s->found = NULL;
		s->nfound = s->pos = 0;
		s->find_active = false;
	}
	p11_session_release(s);
	return rv;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct p11_session *s;
	struct p11_object *o;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	o = p11_token_object(s->slot->token, hObject);
	if (!o)
		rv = CKR_OBJECT_HANDLE_INVALID;
	else if (!pTemplate && ulCount)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = p11_object_get_attrs(o, pTemplate, ulCount);
	p11_session_release(s);
	return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
	struct p11_session *s;
	struct p11_object *o;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	o = p11_token_object(s->slot->token, hObject);
	if (!o) {
		rv = CKR_OBJECT_HANDLE_INVALID;
	} else if (!pulSize) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		CK_ULONG n = 0;

		for (size_t i = 0; i < o->nattrs; i++)
			n += o->attrs[i].len + sizeof(CK_ATTRIBUTE);
		*pulSize = n;
	}
	p11_session_release(s);
	return rv;
}

/* Objects on our tokens are CKA_MODIFIABLE, CKA_COPYABLE and
 * CKA_DESTROYABLE false: the spec's answer is CKR_ACTION_PROHIBITED. */
static CK_RV refuse_on_object(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, bool need_rw)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!p11_token_object(s->slot->token, hObject))
		rv = CKR_OBJECT_HANDLE_INVALID;
	else if (need_rw && !(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else
		rv = CKR_ACTION_PROHIBITED;
	p11_session_release(s);
	return rv;
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	if (!pTemplate && ulCount && p11_ready())
		return CKR_ARGUMENTS_BAD;
	return refuse_on_object(hSession, hObject, true);
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	return refuse_on_object(hSession, hObject, true);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                   CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	if (!phNewObject && p11_ready())
		return CKR_ARGUMENTS_BAD;
	return refuse_on_object(hSession, hObject, false);
}

/* Creating objects: the tokens hold what the card or the files hold. */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
	struct p11_session *s;
	CK_RV rv = p11_session_acquire(hSession, &s);

	if (rv != CKR_OK)
		return rv;
	if (!pTemplate || !phObject)
		rv = CKR_ARGUMENTS_BAD;
	else if (!(s->flags & CKF_RW_SESSION))
		rv = CKR_SESSION_READ_ONLY;
	else
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	p11_session_release(s);
	return rv;
}
