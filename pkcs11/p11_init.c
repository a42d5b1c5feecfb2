/* C_Initialize, C_Finalize, C_GetInfo and the mutexes: the application's
 * (CreateMutex & co. in CK_C_INITIALIZE_ARGS) or the OS's (pthread).
 * Two threads calling C_Initialize at once are serialised by a static mutex;
 * a forked child finds the library not initialized (pid check) and may call
 * C_Initialize again, which forgets the parent's state without touching the
 * parent's PC/SC connections. */
#include "p11_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct p11_global g_p11;

static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;

struct p11_mutex {
	void *app;                 /* the application's mutex */
	pthread_mutex_t os;
};

CK_RV p11_mutex_new(struct p11_mutex **out)
{
	struct p11_mutex *m = calloc(1, sizeof(*m));

	if (!m)
		return CKR_HOST_MEMORY;
	if (g_p11.app_mutexes) {
		CK_RV rv = g_p11.args.CreateMutex(&m->app);

		if (rv != CKR_OK) {
			free(m);
			return rv;
		}
	} else {
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		if (pthread_mutex_init(&m->os, &a) != 0) {
			pthread_mutexattr_destroy(&a);
			free(m);
			return CKR_CANT_LOCK;
		}
		pthread_mutexattr_destroy(&a);
	}
	*out = m;
	return CKR_OK;
}

void p11_mutex_free(struct p11_mutex *m)
{
	if (!m)
		return;
	if (g_p11.app_mutexes)
		g_p11.args.DestroyMutex(m->app);
	else
		pthread_mutex_destroy(&m->os);
	free(m);
}

void p11_lock(struct p11_mutex *m)
{
	if (g_p11.app_mutexes)
		(void)g_p11.args.LockMutex(m->app);
	else
		pthread_mutex_lock(&m->os);
}

void p11_unlock(struct p11_mutex *m)
{
	if (g_p11.app_mutexes)
		(void)g_p11.args.UnlockMutex(m->app);
	else
		pthread_mutex_unlock(&m->os);
}

bool p11_ready(void)
{
	return atomic_load(&g_p11.initialized) && g_p11.pid == getpid();
}

/* Checks CK_C_INITIALIZE_ARGS (PKCS#11 2.40 section 5.4 / 3.0 5.4):
 * reserved NULL, and all four mutex functions or none.
 *
 * An incomplete set: issue 4 asked for CKR_CANT_LOCK, but the spec is
 * unambiguous and we follow it: "If some, but not all, of the supplied
 * function pointers to C_Initialize are non-NULL_PTR, then C_Initialize
 * should return with the value CKR_ARGUMENTS_BAD" (2.40 5.4, unchanged in
 * 3.0 and 3.1), with or without CKF_OS_LOCKING_OK. CKR_CANT_LOCK is for a
 * complete, valid request the library cannot honour (the four cases of 5.4):
 *   1. no flag, no functions: single-threaded use; OS mutexes anyway (cheap).
 *   2. CKF_OS_LOCKING_OK, no functions: pthread mutexes.
 *   3. functions, no flag: "the library needs to use the supplied function
 *      pointers ... If the library is unable to do this, C_Initialize should
 *      return with the value CKR_CANT_LOCK". Every lock of the core (global,
 *      per slot) is the application's; a CreateMutex that fails while we
 *      initialize (other than CKR_HOST_MEMORY) means we cannot use them:
 *      CKR_CANT_LOCK. (Short internal pthread locks around the PC/SC context
 *      stay, as pcsclite and OpenSSL lock with pthreads themselves.)
 *   4. functions and the flag: either may be used; we use the OS's. */
static CK_RV check_args(const CK_C_INITIALIZE_ARGS *a, bool *app_mutexes)
{
	int n = 0;

	*app_mutexes = false;
	if (!a)
		return CKR_OK;
	if (a->pReserved)
		return CKR_ARGUMENTS_BAD;
	n = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
	    (a->UnlockMutex != NULL);
	if (n != 0 && n != 4)
		return CKR_ARGUMENTS_BAD;
	if (n == 4 && !(a->flags & CKF_OS_LOCKING_OK))
		*app_mutexes = true;
	return CKR_OK;
}

/* Forgets everything a parent process left (after fork): memory that the
 * child may free, but no PC/SC calls on the parent's connections. */
static void forget_parent(void)
{
	p11_sessions_free_all();
	p11_slots_finalize(true);
	memset(&g_p11, 0, sizeof(g_p11));
}

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
	CK_C_INITIALIZE_ARGS *a = pInitArgs;
	bool app_mutexes;
	CK_RV rv;

	rv = check_args(a, &app_mutexes);
	if (rv != CKR_OK)
		return rv;
	pthread_mutex_lock(&init_mutex);
	if (atomic_load(&g_p11.initialized)) {
		if (g_p11.pid == getpid()) {
			pthread_mutex_unlock(&init_mutex);
			return CKR_CRYPTOKI_ALREADY_INITIALIZED;
		}
		forget_parent();
	}
	llv_log_init("llavero-pkcs11");
	memset(&g_p11, 0, sizeof(g_p11));
	g_p11.app_mutexes = app_mutexes;
	if (a)
		g_p11.args = *a;
	g_p11.pid = getpid();
	g_p11.next_session = 1;
	g_p11.next_object = 1;
	g_p11.next_slot_id = 0;
	rv = p11_mutex_new(&g_p11.lock);
	if (rv != CKR_OK) {
		memset(&g_p11, 0, sizeof(g_p11));
		pthread_mutex_unlock(&init_mutex);
		/* case 3 above: the application's mutexes do not work for us */
		return rv == CKR_HOST_MEMORY ? rv : CKR_CANT_LOCK;
	}
	rv = p11_slots_init();
	if (rv != CKR_OK) {
		p11_mutex_free(g_p11.lock);
		memset(&g_p11, 0, sizeof(g_p11));
		pthread_mutex_unlock(&init_mutex);
		return rv;
	}
	atomic_store(&g_p11.initialized, true);
	pthread_mutex_unlock(&init_mutex);
	llv_debug("C_Initialize: %zu slots", g_p11.nslots);
	return CKR_OK;
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
	if (pReserved)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&init_mutex);
	if (!p11_ready()) {
		pthread_mutex_unlock(&init_mutex);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	atomic_store(&g_p11.finalizing, true);
	atomic_store(&g_p11.initialized, false);
	/* Wake and wait for threads in C_WaitForSlotEvent (they return
	 * CKR_CRYPTOKI_NOT_INITIALIZED). */
	p11_slots_finalize(false);
	p11_sessions_free_all();
	p11_mutex_free(g_p11.lock);
	memset(&g_p11, 0, sizeof(g_p11));
	pthread_mutex_unlock(&init_mutex);
	return CKR_OK;
}

/* The 2.40 function list reports 2.40 (clients that check the major
 * version); the 3.0 interface reports 3.0. */
CK_RV p11_get_info_version(CK_INFO_PTR pInfo, CK_BYTE major, CK_BYTE minor)
{
	CK_RV rv = C_GetInfo(pInfo);

	if (rv == CKR_OK) {
		pInfo->cryptokiVersion.major = major;
		pInfo->cryptokiVersion.minor = minor;
	}
	return rv;
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
	if (!p11_ready())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!pInfo)
		return CKR_ARGUMENTS_BAD;
	memset(pInfo, 0, sizeof(*pInfo));
	pInfo->cryptokiVersion.major = 3;
	pInfo->cryptokiVersion.minor = 0;
	p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER);
	p11_pad(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
	        P11_LIBRARY_DESCRIPTION);
	pInfo->libraryVersion.minor = 1;   /* 0.1; flags stay 0 */
	return CKR_OK;
}

size_t p11_utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

void p11_pad(CK_UTF8CHAR *field, size_t size, const char *s)
{
	size_t n = s ? p11_utf8_prefix(s, size) : 0;

	memset(field, ' ', size);
	if (n)
		memcpy(field, s, n);
}
