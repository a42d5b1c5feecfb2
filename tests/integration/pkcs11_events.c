/* p11-events: drives llavero-pkcs11.so (dlopen) through what real clients
 * trip over, with the card pulled and pcscd restarted under it. The shell
 * test (pkcs11_events.sh) runs it inside pcsc-ns.sh and gives it commands:
 *   LLV_REMOVE, LLV_INSERT   take the card out / put it back (and wait)
 *   LLV_RESTART_PCSCD        kill pcscd and start it again (and wait)
 *   LLV_RESET_CARD           another application resets the card (optional)
 * Usage: p11-events MODULE PIN. Prints "ok - ..." lines; exits 1 on the first
 * failure. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;
static const char *pin;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define EXPECT(call, want)                                                              \
	do {                                                                            \
		CK_RV rv_ = (call);                                                     \
		if (rv_ != (CK_RV)(want))                                               \
			fail("%s:%d: %s returned 0x%lx, want %s (0x%lx)", __FILE__,     \
			     __LINE__, #call, (unsigned long)rv_, #want, (unsigned long)(want)); \
	} while (0)

static void ok(const char *what)
{
	printf("ok - %s\n", what);
	fflush(stdout);
}

static void run(const char *var)
{
	const char *cmd = getenv(var);

	if (!cmd || system(cmd) != 0)
		fail("%s failed", var);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The slot whose token is present (the vcard's reader). */
static CK_SLOT_ID card_slot(void)
{
	CK_SLOT_ID ids[16];
	CK_ULONG n = 16;

	EXPECT(f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	n = 16;
	EXPECT(f->C_GetSlotList(CK_TRUE, ids, &n), CKR_OK);
	if (n < 1)
		fail("no slot with a token");
	return ids[0];
}

static CK_SESSION_HANDLE open_login(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE h;

	EXPECT(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h), CKR_OK);
	EXPECT(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
	return h;
}

static CK_OBJECT_HANDLE find_key(CK_SESSION_HANDLE h, CK_BYTE id)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, &id, 1 } };
	CK_OBJECT_HANDLE k;
	CK_ULONG n = 0;

	EXPECT(f->C_FindObjectsInit(h, t, 2), CKR_OK);
	EXPECT(f->C_FindObjects(h, &k, 1, &n), CKR_OK);
	EXPECT(f->C_FindObjectsFinal(h), CKR_OK);
	if (n != 1)
		fail("no private key with ID %02x", id);
	return k;
}

static CK_RV sign_once(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE sig[512];
	CK_ULONG sl = sizeof(sig);
	CK_RV rv = f->C_SignInit(h, &m, k);

	if (rv != CKR_OK)
		return rv;
	return f->C_Sign(h, (CK_BYTE_PTR) "tramite", 7, sig, &sl);
}

struct waiter {
	CK_FLAGS flags;
	CK_SLOT_ID slot;
	CK_RV rv;
	double took;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	double t0 = now();

	w->rv = f->C_WaitForSlotEvent(w->flags, &w->slot, NULL);
	w->took = now() - t0;
	return NULL;
}

/* Starts a blocking C_WaitForSlotEvent, runs cmd, expects the event for slot. */
static void event_on(const char *cmd, CK_SLOT_ID slot)
{
	struct waiter w = { 0, (CK_SLOT_ID)-1, CKR_GENERAL_ERROR, 0 };
	pthread_t t;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	if (pthread_create(&t, NULL, wait_thread, &w) != 0)
		fail("pthread_create");
	nanosleep(&ts, NULL);
	run(cmd);
	pthread_join(t, NULL);
	if (w.rv != CKR_OK || w.slot != slot)
		fail("C_WaitForSlotEvent after %s: rv 0x%lx slot %lu (want slot %lu)", cmd,
		     (unsigned long)w.rv, (unsigned long)w.slot, (unsigned long)slot);
}

int main(int argc, char **argv)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS args = { NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL };
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_SESSION_INFO sinfo;
	CK_SLOT_ID slot, id;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE k;
	void *lib;

	if (argc != 3)
		fail("usage: p11-events MODULE PIN");
	pin = argv[2];
	alarm(120);
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		fail("dlopen: %s", dlerror());
	get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList");
	if (!get || get(&f) != CKR_OK)
		fail("C_GetFunctionList");

	/* 1. slot IDs work without a prior C_GetSlotList */
	EXPECT(f->C_Initialize(&args), CKR_OK);
	if (f->C_GetTokenInfo(0, &ti) != CKR_OK && f->C_GetTokenInfo(1, &ti) != CKR_OK)
		fail("C_GetTokenInfo without C_GetSlotList found no token in slot 0 or 1");
	slot = card_slot();
	ok("C_GetTokenInfo works before any C_GetSlotList");

	/* 2. nothing happened yet */
	EXPECT(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &id, NULL), CKR_NO_EVENT);
	ok("C_WaitForSlotEvent(CKF_DONT_BLOCK): CKR_NO_EVENT with no change");

	/* 3. sign, pull the card (the application watches events) */
	h = open_login(slot);
	k = find_key(h, 0x01);
	EXPECT(sign_once(h, k), CKR_OK);
	event_on("LLV_REMOVE", slot);
	ok("blocking C_WaitForSlotEvent wakes on removal with the card's slot");
	EXPECT(f->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT);
	EXPECT(f->C_GetSlotInfo(slot, &si), CKR_OK);
	if (si.flags & CKF_TOKEN_PRESENT)
		fail("CKF_TOKEN_PRESENT with the card out");
	EXPECT(sign_once(h, k), CKR_DEVICE_REMOVED);
	EXPECT(f->C_GetSessionInfo(h, &sinfo), CKR_SESSION_HANDLE_INVALID);
	ok("card out: CKR_TOKEN_NOT_PRESENT; the old session gets CKR_DEVICE_REMOVED, then CKR_SESSION_HANDLE_INVALID");

	/* 4. put it back: event, same slot ID, signs again */
	event_on("LLV_INSERT", slot);
	EXPECT(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &id, NULL), CKR_NO_EVENT);
	if (card_slot() != slot)
		fail("the slot ID changed across re-enumeration");
	h = open_login(slot);
	k = find_key(h, 0x01);
	EXPECT(sign_once(h, k), CKR_OK);
	ok("card back: insertion event, same slot ID, a new session signs");

	/* 5. pulled while the application looks away: the next card command says so */
	run("LLV_REMOVE");
	EXPECT(sign_once(h, k), CKR_DEVICE_REMOVED);
	EXPECT(sign_once(h, k), CKR_SESSION_HANDLE_INVALID);
	EXPECT(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &id, NULL), CKR_OK);
	if (id != slot)
		fail("CKF_DONT_BLOCK reported slot %lu", (unsigned long)id);
	run("LLV_INSERT");
	h = open_login(card_slot());
	k = find_key(h, 0x01);
	EXPECT(sign_once(h, k), CKR_OK);
	ok("pulled between calls: C_Sign gets CKR_DEVICE_REMOVED, then CKR_SESSION_HANDLE_INVALID; re-inserted card signs");

	/* 5b. another application resets the card (opensc-tool --reset): the
	 * module reconnects and selects PIV again, the card forgot the PIN, so
	 * the session falls back to a public state and the application logs in
	 * again; the module never sends the PIN by itself */
	if (getenv("LLV_RESET_CARD")) {
		CK_RV rv;

		EXPECT(f->C_GetSessionInfo(h, &sinfo), CKR_OK);
		if (sinfo.state != CKS_RO_USER_FUNCTIONS)
			fail("session state %lu before the reset", (unsigned long)sinfo.state);
		run("LLV_RESET_CARD");
		rv = sign_once(h, k);
		if (rv != CKR_USER_NOT_LOGGED_IN)
			fail("C_Sign after a reset by another application: 0x%lx, want "
			     "CKR_USER_NOT_LOGGED_IN", (unsigned long)rv);
		EXPECT(f->C_GetSessionInfo(h, &sinfo), CKR_OK);
		if (sinfo.state != CKS_RO_PUBLIC_SESSION)
			fail("session state %lu after the reset, want CKS_RO_PUBLIC_SESSION",
			     (unsigned long)sinfo.state);
		EXPECT(f->C_GetTokenInfo(slot, &ti), CKR_OK);
		EXPECT(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
		EXPECT(sign_once(h, k), CKR_OK);
		ok("card reset by another application: C_Sign says CKR_USER_NOT_LOGGED_IN, the "
		   "session is public again; after C_Login the same session signs");
	}

	/* 6. pcscd restarts under us */
	run("LLV_RESTART_PCSCD");
	{
		CK_RV rv = sign_once(h, k);

		if (rv != CKR_DEVICE_REMOVED && rv != CKR_SESSION_HANDLE_INVALID)
			fail("signing on a session from before the pcscd restart: 0x%lx", (unsigned long)rv);
	}
	if (card_slot() != slot)
		fail("the slot ID changed after the pcscd restart");
	h = open_login(slot);
	k = find_key(h, 0x01);
	EXPECT(sign_once(h, k), CKR_OK);
	ok("pcscd restarted: old session ends with an error, the module reconnects and signs");

	/* 7. C_Finalize wakes a thread in C_WaitForSlotEvent */
	{
		struct waiter w = { 0, 0, CKR_OK, 0 };
		pthread_t t;
		struct timespec ts = { 0, 300 * 1000 * 1000 };
		double t0;

		/* the restart left events behind: take them first */
		for (int i = 0; i < 8 && f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &id, NULL) == CKR_OK; i++)
			;
		EXPECT(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &id, NULL), CKR_NO_EVENT);
		pthread_create(&t, NULL, wait_thread, &w);
		nanosleep(&ts, NULL);
		t0 = now();
		EXPECT(f->C_Finalize(NULL), CKR_OK);
		pthread_join(t, NULL);
		if (w.rv != CKR_CRYPTOKI_NOT_INITIALIZED)
			fail("the waiter got 0x%lx after C_Finalize", (unsigned long)w.rv);
		if (now() - t0 > 2.0)
			fail("C_Finalize took %.1f s to wake the waiter", now() - t0);
		ok("C_Finalize wakes a thread blocked in C_WaitForSlotEvent (CKR_CRYPTOKI_NOT_INITIALIZED)");
	}

	/* 8. a forked child initialises again and signs; the parent still works */
	{
		pid_t pid;
		int st = 0;

		EXPECT(f->C_Initialize(NULL), CKR_OK);
		h = open_login(card_slot());
		k = find_key(h, 0x01);
		EXPECT(sign_once(h, k), CKR_OK);
		pid = fork();
		if (pid == 0) {
			CK_SESSION_HANDLE ch;

			if (f->C_GetSessionInfo(h, &sinfo) != CKR_CRYPTOKI_NOT_INITIALIZED)
				_exit(2);
			if (f->C_Initialize(NULL) != CKR_OK)
				_exit(3);
			ch = open_login(card_slot());
			if (sign_once(ch, find_key(ch, 0x01)) != CKR_OK)
				_exit(4);
			f->C_Finalize(NULL);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail("forked child: status %d", st);
		/* the child's login/logout may have reset the card's PIN state */
		{
			CK_RV rv = sign_once(h, k);

			if (rv == CKR_USER_NOT_LOGGED_IN) {
				EXPECT(f->C_Logout(h), CKR_OK);
				EXPECT(f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), CKR_OK);
				rv = sign_once(h, k);
			}
			EXPECT(rv, CKR_OK);
		}
		EXPECT(f->C_Finalize(NULL), CKR_OK);
		ok("fork: the child's C_Initialize works and it signs; the parent signs after");
	}
	dlclose(lib);
	return 0;
}
