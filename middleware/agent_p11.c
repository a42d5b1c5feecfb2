/* agent_p11.c: tokens through the public Cryptoki API. Modules are loaded
 * with dlopen (llavero-pkcs11.so by default, plus the configured ones), each
 * slot with a token is listed with its certificates, and a signature is one
 * login (the person's PIN, each attempt theirs), one C_Sign and a logout. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

#include "agent.h"
#include "log.h"
#include "secmem.h"
#include "verify_cert.h"
#include "verify_identity.h"

struct agent_module {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	char *path;
	char *real;     /* realpath, to load a file once */
};

struct agent_p11 {
	struct agent_module m[AGENT_MAX_MODULES];
	size_t n;
};

/* Loads and initializes one module; false when it cannot be used. The same
 * file twice (through p11-kit's list, or a symlink) is loaded once. */
static bool load_module(struct agent_p11 *p, const char *path)
{
	char real[PATH_MAX];
	if (p->n >= AGENT_MAX_MODULES) {
		llv_warn("pkcs11: more than %d modules; %s left out", AGENT_MAX_MODULES, path);
		return false;
	}
	if (realpath(path, real)) {
		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->m[i].real, real) == 0)
				return true;
	} else {
		snprintf(real, sizeof(real), "%s", path);
	}
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		llv_warn("pkcs11: cannot load %s: %s", path, dlerror());
		return false;
	}
	CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)(uintptr_t)dlsym(dl, "C_GetFunctionList");
	CK_FUNCTION_LIST_PTR f = NULL;
	if (!gfl || gfl(&f) != CKR_OK || !f) {
		llv_warn("pkcs11: %s has no usable C_GetFunctionList", path);
		dlclose(dl);
		return false;
	}
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_RV rv = f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		llv_warn("pkcs11: C_Initialize of %s: 0x%lx", path, (unsigned long)rv);
		dlclose(dl);
		return false;
	}
	p->m[p->n].dl = dl;
	p->m[p->n].f = f;
	p->m[p->n].path = strdup(path);
	p->m[p->n].real = strdup(real);
	p->n++;
	return true;
}

static void load_p11kit(struct agent_p11 *p)
{
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *prog = "llavero";
	if (l > 0) {
		exe[l] = '\0';
		const char *slash = strrchr(exe, '/');
		prog = slash ? slash + 1 : exe;
	}
	char **mods = NULL;
	size_t n = 0;
	if (agent_p11kit_modules(prog, &mods, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (load_module(p, mods[i]))
			llv_info("pkcs11: p11-kit's module %s", mods[i]);
		free(mods[i]);
	}
	free(mods);
}

int agent_p11_open(const struct agent_config *c, struct agent_p11 **out)
{
	struct agent_p11 *p = calloc(1, sizeof(*p));
	if (!p)
		return AGENT_ERR_INTERNAL;
	for (size_t i = 0; i < c->n_modules; i++)
		load_module(p, c->modules[i]);
	if (c->p11kit == AGENT_P11KIT_ON || (c->p11kit == AGENT_P11KIT_AUTO && p->n == 0))
		load_p11kit(p);
	*out = p;
	if (p->n == 0) {
		llv_error("pkcs11: no module could be loaded");
		return AGENT_ERR_NO_TOKEN;
	}
	return AGENT_OK;
}

const char *agent_p11_module_path(const struct agent_p11 *p, size_t i)
{
	return p && i < p->n ? p->m[i].path : "";
}

void agent_p11_close(struct agent_p11 *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		p->m[i].f->C_Finalize(NULL);
		dlclose(p->m[i].dl);
		free(p->m[i].path);
		free(p->m[i].real);
	}
	free(p);
}

void agent_certs_free(struct agent_cert *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++)
		free(c[i].der);
	free(c);
}

static void copy_padded(char *dst, size_t cap, const CK_UTF8CHAR *src, size_t n)
{
	while (n > 0 && src[n - 1] == ' ')
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Role of a certificate. PIV tokens (llavero-pkcs11.so and OpenSC alike)
 * give the key slots one-byte CKA_IDs: 01 = 9A authentication, 02 = 9C
 * digital signature, 03 = 9D key management, 04 = 9E card authentication,
 * then the retired slots; OpenSC's labels say the same. Other tokens (an
 * e.firma file pair: CKA_ID = SHA-1 of the key) hold one key that both signs
 * in and signs. Then the content: a CSD never signs in; no
 * digitalSignature/nonRepudiation, no use. */
static void classify(struct agent_cert *c)
{
	const uint8_t *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	if (!x)
		return;
	bool piv = c->id_len == 1 || strncmp(c->label, "Certificate for", 15) == 0;
	bool piv_auth = (c->id_len == 1 && c->id[0] == 0x01) ||
			strstr(c->label, "PIV Authentication") != NULL;
	bool piv_sign = (c->id_len == 1 && c->id[0] == 0x02) ||
			strstr(c->label, "Digital Signature") != NULL;
	bool piv_other = piv && !piv_auth && !piv_sign;
	c->csd = verify_cert_is_csd(x);
	uint32_t ku = X509_get_key_usage(x);
	bool ds = (ku == UINT32_MAX) || (ku & KU_DIGITAL_SIGNATURE) || (ku & KU_NON_REPUDIATION);
	if (piv_auth) {
		c->for_auth = true;
	} else if (piv_sign) {
		c->for_sign = true;
	} else if (!piv_other) {
		/* An e.firma (one key that signs in and signs) or another token. */
		c->for_auth = true;
		c->for_sign = true;
	}
	if (c->csd)
		c->for_auth = false;
	if (!ds) {
		c->for_auth = false;
		c->for_sign = false;
	}
	EVP_PKEY *pk = X509_get0_pubkey(x);
	if (pk && EVP_PKEY_is_a(pk, "RSA"))
		c->kind = AGENT_KEY_RSA;
	else if (pk && EVP_PKEY_is_a(pk, "EC"))
		c->kind = AGENT_KEY_EC;
	else {
		c->for_auth = false;
		c->for_sign = false;
	}
	c->bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	c->expired = verify_cert_dates(x, 0) != 0;
	struct verify_identity id;
	if (verify_identity_from_cert(x, &id) == 0) {
		snprintf(c->name, sizeof(c->name), "%s", id.name);
		snprintf(c->rfc, sizeof(c->rfc), "%s", id.rfc);
		snprintf(c->curp, sizeof(c->curp), "%s", id.curp);
	} else {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, c->name,
					  (int)sizeof(c->name));
	}
	X509_free(x);
}

static int get_attr(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || a.ulValueLen == (CK_ULONG)-1 ||
	    a.ulValueLen > 65536)
		return -1;
	a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
	if (!a.pValue)
		return -1;
	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
		free(a.pValue);
		return -1;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

static int slot_certs(struct agent_p11 *p, size_t mi, CK_SLOT_ID slot, struct agent_cert **list,
		      size_t *n, size_t *cap)
{
	CK_FUNCTION_LIST_PTR f = p->m[mi].f;
	CK_TOKEN_INFO ti;
	if (f->C_GetTokenInfo(slot, &ti) != CKR_OK)
		return 0;
	CK_SESSION_HANDLE s;
	if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return 0;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
				{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) } };
	CK_OBJECT_HANDLE objs[16];
	CK_ULONG count = 0;
	if (f->C_FindObjectsInit(s, tmpl, 2) == CKR_OK) {
		f->C_FindObjects(s, objs, 16, &count);
		f->C_FindObjectsFinal(s);
	}
	for (CK_ULONG i = 0; i < count; i++) {
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 8;
			struct agent_cert *nl = realloc(*list, nc * sizeof(**list));
			if (!nl)
				break;
			*list = nl;
			*cap = nc;
		}
		struct agent_cert *c = &(*list)[*n];
		memset(c, 0, sizeof(*c));
		uint8_t *v = NULL;
		size_t l = 0;
		if (get_attr(f, s, objs[i], CKA_VALUE, &c->der, &c->der_len) != 0)
			continue;
		if (get_attr(f, s, objs[i], CKA_ID, &v, &l) == 0) {
			if (l <= sizeof(c->id)) {
				memcpy(c->id, v, l);
				c->id_len = l;
			}
			free(v);
		}
		if (get_attr(f, s, objs[i], CKA_LABEL, &v, &l) == 0) {
			if (l >= sizeof(c->label))
				l = sizeof(c->label) - 1;
			memcpy(c->label, v, l);
			c->label[l] = '\0';
			free(v);
		}
		c->module = mi;
		c->slot = slot;
		copy_padded(c->token_label, sizeof(c->token_label), ti.label, sizeof(ti.label));
		classify(c);
		(*n)++;
	}
	f->C_CloseSession(s);
	return 0;
}

int agent_p11_certs(struct agent_p11 *p, struct agent_cert **out, size_t *n)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	for (size_t mi = 0; mi < p->n; mi++) {
		CK_FUNCTION_LIST_PTR f = p->m[mi].f;
		CK_ULONG ns = 0;
		if (f->C_GetSlotList(CK_TRUE, NULL, &ns) != CKR_OK || ns == 0)
			continue;
		CK_SLOT_ID *slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return AGENT_ERR_INTERNAL;
		if (f->C_GetSlotList(CK_TRUE, slots, &ns) == CKR_OK)
			for (CK_ULONG i = 0; i < ns; i++)
				slot_certs(p, mi, slots[i], out, n, &cap);
		free(slots);
	}
	/* Two modules can see the same card (ours and OpenSC's, say): a
	 * certificate another module already listed is left out, so it comes
	 * from the first module (the configured order, ours first). Within one
	 * module the same certificate in two slots (9A and 9C) stays twice:
	 * the roles differ. */
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = (*out)[j].module != (*out)[i].module &&
			      (*out)[j].der_len == (*out)[i].der_len &&
			      memcmp((*out)[j].der, (*out)[i].der, (*out)[i].der_len) == 0;
		if (dup) {
			free((*out)[i].der);
			continue;
		}
		if (k != i)
			(*out)[k] = (*out)[i];
		k++;
	}
	*n = k;
	return AGENT_OK;
}

int agent_p11_token_flags(struct agent_p11 *p, const struct agent_cert *c, unsigned long *flags)
{
	CK_TOKEN_INFO ti;
	if (c->module >= p->n || p->m[c->module].f->C_GetTokenInfo(c->slot, &ti) != CKR_OK)
		return AGENT_ERR_NO_TOKEN;
	*flags = ti.flags;
	return AGENT_OK;
}

static int retries_from_flags(CK_FLAGS fl)
{
	if (fl & CKF_USER_PIN_LOCKED)
		return 0;
	if (fl & CKF_USER_PIN_FINAL_TRY)
		return 1;
	return -1;
}

static int map_rv(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return AGENT_OK;
	case CKR_PIN_LOCKED:
		return AGENT_ERR_PIN_BLOCKED;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return AGENT_ERR_PIN_INCORRECT;
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SLOT_ID_INVALID:
	case CKR_KEY_HANDLE_INVALID:
		return AGENT_ERR_NO_TOKEN;
	case CKR_MECHANISM_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_DATA_LEN_RANGE:
		return AGENT_ERR_NOT_SUPPORTED;
	case CKR_FUNCTION_CANCELED:
		return AGENT_ERR_CANCELLED;
	default:
		return AGENT_ERR_INTERNAL;
	}
}

/* Logs in as user_type, asking the person; at most 3 attempts. */
/* On success pin (secure, 256 bytes) keeps the accepted PIN for the
 * caller's CKU_CONTEXT_SPECIFIC login of this same operation ("" for a PIN
 * pad); the caller wipes it. */
static int login(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_SLOT_ID slot,
		 CK_USER_TYPE user_type, agent_pin_fn *ask, void *ask_arg, int *retries_left,
		 char *pin)
{
	CK_TOKEN_INFO ti;
	if (f->C_GetTokenInfo(slot, &ti) != CKR_OK)
		return AGENT_ERR_NO_TOKEN;
	if (ti.flags & CKF_USER_PIN_LOCKED)
		return AGENT_ERR_PIN_BLOCKED;
	if (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
		llv_info("pkcs11: PIN pad reader: the PIN is typed on the reader");
		CK_RV rv = f->C_Login(s, user_type, NULL, 0);
		pin[0] = '\0';
		return rv == CKR_USER_ALREADY_LOGGED_IN ? AGENT_OK : map_rv(rv);
	}
	char err[160];
	const char *why = NULL;
	int rc = AGENT_ERR_INTERNAL, last_wrong = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		rc = ask(ask_arg, why, pin, 256);
		if (rc != AGENT_OK) {
			if (last_wrong && rc == AGENT_ERR_CANCELLED)
				rc = AGENT_ERR_PIN_INCORRECT;
			break;
		}
		CK_RV rv = f->C_Login(s, user_type, (CK_UTF8CHAR_PTR)pin, strlen(pin));
		if (rv == CKR_USER_ALREADY_LOGGED_IN)
			rv = CKR_OK;
		rc = map_rv(rv);
		if (rc == AGENT_OK)
			return AGENT_OK;
		llv_wipe(pin, 256);
		if (rc != AGENT_ERR_PIN_INCORRECT)
			break;
		last_wrong = 1;
		*retries_left = -1;
		if (f->C_GetTokenInfo(slot, &ti) == CKR_OK) {
			if (ti.flags & CKF_USER_PIN_LOCKED) {
				rc = AGENT_ERR_PIN_BLOCKED;
				break;
			}
			*retries_left = retries_from_flags(ti.flags);
		}
		if (rv == CKR_PIN_LEN_RANGE)
			snprintf(err, sizeof(err), "El PIN no tiene la longitud correcta (de %lu a %lu caracteres)",
				 (unsigned long)ti.ulMinPinLen, (unsigned long)ti.ulMaxPinLen);
		else if (*retries_left == 1)
			snprintf(err, sizeof(err), "PIN incorrecto, queda 1 intento");
		else if (*retries_left > 1)
			snprintf(err, sizeof(err), "PIN incorrecto, quedan %d intentos", *retries_left);
		else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
			snprintf(err, sizeof(err), "PIN incorrecto, quedan pocos intentos");
		else
			snprintf(err, sizeof(err), "PIN incorrecto");
		why = err;
	}
	llv_wipe(pin, 256);
	return rc;
}

static CK_MECHANISM_TYPE mech_type(enum agent_mech m)
{
	switch (m) {
	case AGENT_MECH_RSA_PKCS: return CKM_RSA_PKCS;
	case AGENT_MECH_SHA256_RSA_PKCS: return CKM_SHA256_RSA_PKCS;
	case AGENT_MECH_SHA384_RSA_PKCS: return CKM_SHA384_RSA_PKCS;
	case AGENT_MECH_SHA512_RSA_PKCS: return CKM_SHA512_RSA_PKCS;
	case AGENT_MECH_ECDSA: return CKM_ECDSA;
	}
	return CKM_RSA_PKCS;
}

int agent_p11_sign(struct agent_p11 *p, const struct agent_cert *c, enum agent_mech mech,
		   const uint8_t *data, size_t len, agent_pin_fn *ask, void *ask_arg,
		   uint8_t *sig, size_t *sig_len, int *retries_left)
{
	*retries_left = -1;
	if (c->module >= p->n)
		return AGENT_ERR_NO_TOKEN;
	CK_FUNCTION_LIST_PTR f = p->m[c->module].f;
	CK_SESSION_HANDLE s;
	CK_RV rv = f->C_OpenSession(c->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		llv_error("pkcs11: C_OpenSession: 0x%lx", (unsigned long)rv);
		return map_rv(rv) == AGENT_ERR_INTERNAL ? AGENT_ERR_NO_TOKEN : map_rv(rv);
	}
	char *pin = llv_secure_alloc(256);
	int rc = pin ? login(f, s, c->slot, CKU_USER, ask, ask_arg, retries_left, pin)
		     : AGENT_ERR_INTERNAL;
	if (rc != AGENT_OK)
		goto out;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
				{ CKA_ID, (void *)c->id, c->id_len } };
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	CK_ULONG count = 0;
	if (f->C_FindObjectsInit(s, tmpl, 2) == CKR_OK) {
		f->C_FindObjects(s, &key, 1, &count);
		f->C_FindObjectsFinal(s);
	}
	if (count != 1) {
		llv_error("pkcs11: no private key with the certificate's CKA_ID");
		rc = AGENT_ERR_NO_TOKEN;
		goto logout;
	}
	CK_BBOOL always = CK_FALSE;
	CK_ATTRIBUTE aa = { CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always) };
	if (f->C_GetAttributeValue(s, key, &aa, 1) != CKR_OK)
		always = CK_FALSE;
	CK_MECHANISM m = { mech_type(mech), NULL, 0 };
	rv = f->C_SignInit(s, &m, key);
	if (rv != CKR_OK) {
		llv_error("pkcs11: C_SignInit: 0x%lx", (unsigned long)rv);
		rc = map_rv(rv);
		goto logout;
	}
	if (always) {
		/* The PIN the person just typed for this one signature (never kept
		 * beyond it); a PIN pad asks on the reader again. */
		size_t pl = strlen(pin);
		rv = f->C_Login(s, CKU_CONTEXT_SPECIFIC, pl ? (CK_UTF8CHAR_PTR)pin : NULL, pl);
		if (rv != CKR_OK) {
			llv_error("pkcs11: C_Login(CKU_CONTEXT_SPECIFIC): 0x%lx", (unsigned long)rv);
			rc = map_rv(rv);
			goto logout;
		}
	}
	llv_wipe(pin, 256);
	CK_ULONG sl = *sig_len;
	rv = f->C_Sign(s, (CK_BYTE_PTR)data, len, sig, &sl);
	if (rv != CKR_OK) {
		llv_error("pkcs11: C_Sign: 0x%lx", (unsigned long)rv);
		rc = map_rv(rv);
		goto logout;
	}
	*sig_len = sl;
	rc = AGENT_OK;
logout:
	f->C_Logout(s);
out:
	if (pin)
		llv_secure_free(pin, 256);
	f->C_CloseSession(s);
	return rc;
}
