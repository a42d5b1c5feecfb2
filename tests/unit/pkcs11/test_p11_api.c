/* Unit tests of the Cryptoki core without a card: return codes before
 * C_Initialize, the function lists and 3.0 interfaces, C_Initialize's
 * arguments (application mutexes, incomplete sets), concurrent
 * C_Initialize, a forked child initialising again, and handle checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p11_internal.h"

static int setup_env(void **state)
{
	/* no configuration, no e.firma directory: reader slots only */
	setenv("LLAVERO_PKCS11_CONF", "/dev/null", 1);
	setenv("LLAVERO_EFIRMA_DIR", "/nonexistent-llavero-test", 1);
	return 0;
}

static void test_not_initialized(void **state)
{
	CK_INFO info;
	CK_ULONG n = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;
	CK_SLOT_ID slot;
	CK_BYTE buf[8];

	assert_int_equal(C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_GetSlotInfo(0, &si), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_GetTokenInfo(0, &ti), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_Login(1, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6),
	                 CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_SignInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_GenerateRandom(1, buf, sizeof(buf)), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_EncryptInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	assert_int_equal(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_function_lists(void **state)
{
	CK_FUNCTION_LIST_PTR fl = NULL;
	CK_INTERFACE list[4];
	CK_INTERFACE_PTR iface = NULL;
	CK_ULONG n = 0;
	CK_VERSION v240 = { 2, 40 }, v30 = { 3, 0 }, v31 = { 3, 1 };
	const CK_FUNCTION_LIST_3_0 *f3;
	void *const *fp;

	assert_int_equal(C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetFunctionList(&fl), CKR_OK);
	assert_int_equal(fl->version.major, 2);
	assert_int_equal(fl->version.minor, 40);
	assert_ptr_equal(fl->C_Sign, C_Sign);
	assert_ptr_equal(fl->C_WaitForSlotEvent, C_WaitForSlotEvent);
	/* every slot of the 2.40 list is filled */
	fp = (void *const *)&fl->C_Initialize;
	for (size_t i = 0; i < (sizeof(*fl) - sizeof(CK_VERSION)) / sizeof(void *); i++)
		assert_non_null(fp[i]);

	assert_int_equal(C_GetInterfaceList(NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterfaceList(NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	n = 4;
	assert_int_equal(C_GetInterfaceList(list, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_string_equal((const char *)list[0].pInterfaceName, "PKCS 11");
	assert_ptr_equal(list[1].pFunctionList, fl);

	/* default: the newest */
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
	f3 = iface->pFunctionList;
	assert_int_equal(f3->version.major, 3);
	assert_int_equal(f3->version.minor, 0);
	/* every slot of the 3.0 list is filled */
	fp = (void *const *)&f3->C_Initialize;
	for (size_t i = 0; i < (sizeof(*f3) - sizeof(CK_VERSION)) / sizeof(void *); i++)
		assert_non_null(fp[i]);
	assert_ptr_equal(f3->C_GetInterface, C_GetInterface);
	assert_ptr_equal(f3->C_MessageVerifyFinal, C_MessageVerifyFinal);

	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR) "PKCS 11", &v240, &iface, 0), CKR_OK);
	assert_ptr_equal(iface->pFunctionList, fl);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR) "PKCS 11", &v30, &iface, 0), CKR_OK);
	assert_ptr_equal(iface->pFunctionList, f3);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR) "PKCS 11", &v31, &iface, 0),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface((CK_UTF8CHAR_PTR) "Vendor X", NULL, &iface, 0),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, CKF_INTERFACE_FORK_SAFE),
	                 CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetInterface(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
}

static void test_get_info_versions(void **state)
{
	CK_FUNCTION_LIST_PTR fl;
	CK_INTERFACE_PTR iface;
	CK_INFO info;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetFunctionList(&fl), CKR_OK);
	assert_int_equal(fl->C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.major, 2);
	assert_int_equal(info.cryptokiVersion.minor, 40);
	assert_int_equal(C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
	assert_int_equal(((CK_FUNCTION_LIST_3_0 *)iface->pFunctionList)->C_GetInfo(&info), CKR_OK);
	assert_int_equal(info.cryptokiVersion.major, 3);
	assert_int_equal(info.cryptokiVersion.minor, 0);
	assert_memory_equal(info.manufacturerID, "Llavero ", 8);
	assert_int_equal(C_GetInfo(NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static CK_RV dummy_create(void **m) { *m = malloc(1); return *m ? CKR_OK : CKR_HOST_MEMORY; }
static CK_RV dummy_destroy(void *m) { free(m); return CKR_OK; }
static int app_locks;
static CK_RV dummy_lock(void *m) { app_locks++; return CKR_OK; }
static CK_RV dummy_unlock(void *m) { return CKR_OK; }
static CK_RV failing_create(void **m) { *m = NULL; return CKR_GENERAL_ERROR; }

static void test_initialize_args(void **state)
{
	CK_C_INITIALIZE_ARGS a;
	CK_ULONG n;
	int dummy = 0;

	memset(&a, 0, sizeof(a));
	a.pReserved = &dummy;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
	/* some but not all mutex functions: CKR_ARGUMENTS_BAD (2.40/3.0 5.4) */
	memset(&a, 0, sizeof(a));
	a.CreateMutex = dummy_create;
	a.LockMutex = dummy_lock;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
	a.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);

	/* OS locking only */
	memset(&a, 0, sizeof(a));
	a.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_Initialize(&a), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	assert_int_equal(C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_Finalize(NULL), CKR_OK);

	/* the application's mutexes are used */
	a.flags = 0;
	a.CreateMutex = dummy_create;
	a.DestroyMutex = dummy_destroy;
	a.LockMutex = dummy_lock;
	a.UnlockMutex = dummy_unlock;
	app_locks = 0;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_true(app_locks > 0);
	assert_int_equal(C_Finalize(NULL), CKR_OK);

	/* the application's mutexes without CKF_OS_LOCKING_OK, and they do not
	 * work: CKR_CANT_LOCK (5.4 case 3), and the library stays uninitialized */
	a.CreateMutex = failing_create;
	assert_int_equal(C_Initialize(&a), CKR_CANT_LOCK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	/* with the flag (case 4) the OS's are used instead */
	a.flags = CKF_OS_LOCKING_OK;
	assert_int_equal(C_Initialize(&a), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	/* three of four with the flag too: CKR_ARGUMENTS_BAD, not CKR_CANT_LOCK */
	a.UnlockMutex = NULL;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
	a.flags = 0;
	assert_int_equal(C_Initialize(&a), CKR_ARGUMENTS_BAD);
}

static CK_RV init_results[8];

static void *init_thread(void *arg)
{
	init_results[(intptr_t)arg] = C_Initialize(NULL);
	return NULL;
}

static void test_concurrent_initialize(void **state)
{
	pthread_t t[8];
	int ok = 0, already = 0;

	for (intptr_t i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, init_thread, (void *)i), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 8; i++) {
		ok += init_results[i] == CKR_OK;
		already += init_results[i] == CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(already, 7);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_fork_child_initializes_again(void **state)
{
	CK_INFO info;
	pid_t pid;
	int st = 0;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the parent's initialisation does not carry over */
		if (C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED)
			_exit(1);
		if (C_Initialize(NULL) != CKR_OK)
			_exit(2);
		if (C_GetInfo(&info) != CKR_OK)
			_exit(3);
		if (C_Finalize(NULL) != CKR_OK)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the parent is unaffected */
	assert_int_equal(C_GetInfo(&info), CKR_OK);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

static void test_handles_and_arguments(void **state)
{
	CK_ULONG n = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_MECHANISM_INFO mi;
	CK_SESSION_HANDLE h;
	CK_SESSION_INFO sinfo;

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	assert_int_equal(C_GetSlotList(CK_FALSE, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(C_GetSlotInfo(9999, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_GetTokenInfo(9999, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_GetMechanismInfo(9999, CKM_RSA_PKCS, &mi), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_OpenSession(9999, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_SLOT_ID_INVALID);
	assert_int_equal(C_CloseSession(12345), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_GetSessionInfo(12345, &sinfo), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_Login(12345, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6),
	                 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_FindObjectsInit(12345, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_SignInit(12345, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_DigestInit(12345, NULL), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_SignRecoverInit(12345, NULL, 0), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_VerifyRecover(12345, NULL, 0, NULL, NULL), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
}

/* C_Finalize wakes a thread blocked in C_WaitForSlotEvent (when pcscd is
 * there to block on; without pcscd the wait polls and still ends). */
static CK_RV wait_rv;

static void *wait_thread(void *arg)
{
	CK_SLOT_ID slot;

	wait_rv = C_WaitForSlotEvent(0, &slot, NULL);
	return NULL;
}

static void test_finalize_unblocks_wait(void **state)
{
	pthread_t t;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	assert_int_equal(C_Initialize(NULL), CKR_OK);
	wait_rv = CKR_OK;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, NULL), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	pthread_join(t, NULL);
	assert_int_equal(wait_rv, CKR_CRYPTOKI_NOT_INITIALIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_initialized),
		cmocka_unit_test(test_function_lists),
		cmocka_unit_test(test_get_info_versions),
		cmocka_unit_test(test_initialize_args),
		cmocka_unit_test(test_concurrent_initialize),
		cmocka_unit_test(test_fork_child_initializes_again),
		cmocka_unit_test(test_handles_and_arguments),
		cmocka_unit_test(test_finalize_unblocks_wait),
	};

	return cmocka_run_group_tests(tests, setup_env, NULL);
}
