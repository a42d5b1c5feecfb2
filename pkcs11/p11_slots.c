/* Slots: one per PC/SC reader, found dynamically, plus one per file token a
 * file driver registers (p11_slot_add_file). A slot's ID is its index in the
 * table and its key (reader name or file key) never changes, so IDs stay
 * stable across re-enumeration; a reader that goes away keeps its entry
 * (unlisted) and gets the same ID if it returns. Tokens are probed lazily
 * when the card is first used and dropped when it goes. C_GetSlotList,
 * C_GetSlotInfo, C_GetTokenInfo, C_WaitForSlotEvent live here. */
#include "p11_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/pcsclite.h>

#include "log.h"
#include "pcsc_card.h"

#define PNP_READER "\\\\?PnP?\\Notification"
#define MAX_WAITERS 16

/* Card drivers probed in order; file drivers asked for slots. */
static const struct p11_driver *const drivers[] = {
	&p11_driver_piv,
#ifdef LLAVERO_P11_EFIRMA
	&p11_driver_efirma,
#endif
};
#define N_DRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static pthread_mutex_t enum_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wait_mutex = PTHREAD_MUTEX_INITIALIZER;
static SCARDCONTEXT wait_ctx[MAX_WAITERS];
static bool wait_used[MAX_WAITERS];

CK_RV p11_slot_lookup(CK_SLOT_ID id, bool args_ok, struct p11_slot **out)
{
	struct p11_slot *s = NULL;

	if (!p11_ready())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	p11_lock(g_p11.lock);
	if (id < g_p11.nslots)
		s = g_p11.slots[id];
	p11_unlock(g_p11.lock);
	if (!s)
		return CKR_SLOT_ID_INVALID;
	if (!args_ok)
		return CKR_ARGUMENTS_BAD;
	*out = s;
	return CKR_OK;
}

/* With g_p11.lock held. */
static struct p11_slot *slot_by_key(const char *key)
{
	for (size_t i = 0; i < g_p11.nslots; i++)
		if (strcmp(g_p11.slots[i]->key, key) == 0)
			return g_p11.slots[i];
	return NULL;
}

/* With g_p11.lock held. */
static struct p11_slot *slot_new(const char *key, const char *description)
{
	struct p11_slot *s;

	if (g_p11.nslots == P11_MAX_SLOTS) {
		llv_warn("more than %d slots; '%s' ignored", P11_MAX_SLOTS, key);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = strdup(key);
	if (!s->key || p11_mutex_new(&s->lock) != CKR_OK) {
		free(s->key);
		free(s);
		return NULL;
	}
	snprintf(s->description, sizeof(s->description), "%s", description);
	s->id = g_p11.nslots;
	g_p11.slots[g_p11.nslots++] = s;
	return s;
}

int p11_slot_add_file(const struct p11_driver *drv, const char *key, const char *description,
                      const char *arg)
{
	struct p11_slot *s;
	int ret = 0;

	if (!drv || !key || !arg)
		return -1;
	p11_lock(g_p11.lock);
	s = slot_by_key(key);
	if (!s) {
		s = slot_new(key, description ? description : key);
		if (s) {
			s->is_file = true;
			s->file_drv = drv;
			s->file_arg = strdup(arg);
			s->listed = true;
			s->card_present = true;
			if (!s->file_arg)
				ret = -1;
		} else {
			ret = -1;
		}
	}
	p11_unlock(g_p11.lock);
	return ret;
}

void p11_slot_drop_token(struct p11_slot *slot)
{
	if (slot->token) {
		p11_token_free(slot->token);
		slot->token = NULL;
	}
	if (slot->card) {
		p11_card_free(slot->card, false);
		slot->card = NULL;
	}
	slot->token_gen++;
	slot->unrecognized = false;
}

CK_RV p11_slot_driver_rv(struct p11_slot *slot, CK_RV rv)
{
	if (rv == CKR_DEVICE_REMOVED) {
		p11_slot_drop_token(slot);
		if (!slot->is_file)
			slot->card_present = false;
		return rv;
	}
	/* Another application reset the card during this call (pcsc_card.c
	 * reconnected it and the driver selected its application again): the
	 * card forgot the verified PIN, so every session of the token falls back
	 * to a public state (C_GetSessionInfo says CKS_RO/RW_PUBLIC_SESSION and
	 * the application logs in again). The PIN is never sent again for it.
	 * A C_Login whose VERIFY went out after the reset sets the new state
	 * after this. */
	if (slot->card && slot->token && p11_card_was_reset(slot->card) &&
	    slot->token->user != P11_NO_USER) {
		llv_info("slot %lu: the card was reset by another application; login lost",
		         (unsigned long)slot->id);
		slot->token->user = P11_NO_USER;
	}
	return rv;
}

/* Current state of a reader: dwEventState (presence bits and, in pcsclite,
 * the event counter in the high 16 bits). false when the reader is gone. */
static bool reader_state(const char *reader, DWORD *state)
{
	SCARD_READERSTATE rs;
	SCARDCONTEXT ctx;
	LONG rc = SCARD_S_SUCCESS;

	/* twice: after a pcscd restart the first call finds the old context dead */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (p11_pcsc_context(&ctx) != CKR_OK)
			return false;
		memset(&rs, 0, sizeof(rs));
		rs.szReader = reader;
		rs.dwCurrentState = SCARD_STATE_UNAWARE;
		rc = SCardGetStatusChange(ctx, 0, &rs, 1);
		if (!p11_pcsc_service_lost(rc))
			break;
		p11_pcsc_context_lost(ctx);
	}
	if (rc != SCARD_S_SUCCESS && rc != (LONG)SCARD_E_TIMEOUT)
		return false;
	if (rs.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE | SCARD_STATE_UNAVAILABLE))
		return false;
	*state = rs.dwEventState;
	return true;
}

static bool state_present(DWORD st)
{
	return (st & SCARD_STATE_PRESENT) && !(st & SCARD_STATE_MUTE);
}

/* With the slot lock held: reads presence and drops a token whose card left
 * or was replaced. */
static void update_presence(struct p11_slot *slot)
{
	DWORD st = 0;
	bool present;

	if (slot->is_file)
		return;
	present = slot->listed && reader_state(slot->key, &st) && state_present(st);
	if (!present) {
		if (slot->token || slot->card || slot->unrecognized)
			p11_slot_drop_token(slot);
		slot->card_present = false;
		slot->pcsc_state = st;
		return;
	}
	if (slot->card_present && (st >> 16) != (slot->pcsc_state >> 16) &&
	    (slot->token || slot->unrecognized))
		p11_slot_drop_token(slot);   /* another card since we looked */
	slot->card_present = true;
	slot->pcsc_state = st;
}

static CK_RV load_token(struct p11_slot *slot, const struct p11_driver *drv, void *priv)
{
	struct p11_token *tok = calloc(1, sizeof(*tok));
	CK_RV rv;

	if (!tok) {
		drv->release(priv);
		return CKR_HOST_MEMORY;
	}
	tok->slot = slot;
	tok->drv = drv;
	tok->priv = priv;
	tok->user = P11_NO_USER;
	if (drv->key_sizes)
		drv->key_sizes(priv, &tok->rsa_min, &tok->rsa_max, &tok->ec_min, &tok->ec_max);
	rv = drv->load_objects(priv, tok);
	if (rv != CKR_OK) {
		p11_token_free(tok);
		return rv;
	}
	slot->token = tok;
	return CKR_OK;
}

CK_RV p11_slot_token(struct p11_slot *slot, bool check_presence)
{
	CK_RV rv = CKR_TOKEN_NOT_RECOGNIZED;
	void *priv = NULL;

	if (slot->is_file) {
		if (slot->token)
			return CKR_OK;
		rv = slot->file_drv->open(slot->file_arg, &priv);
		if (rv != CKR_OK)
			return rv == CKR_DEVICE_REMOVED ? CKR_TOKEN_NOT_PRESENT : rv;
		return load_token(slot, slot->file_drv, priv);
	}
	if (check_presence || !slot->token)
		update_presence(slot);
	if (!slot->card_present)
		return CKR_TOKEN_NOT_PRESENT;
	if (slot->token)
		return CKR_OK;
	if (slot->unrecognized)
		return CKR_TOKEN_NOT_RECOGNIZED;
	rv = p11_card_connect(slot->key, &slot->card);
	if (rv != CKR_OK) {
		slot->card = NULL;
		if (rv == CKR_DEVICE_REMOVED) {
			slot->card_present = false;
			return CKR_TOKEN_NOT_PRESENT;
		}
		return rv;
	}
	rv = CKR_TOKEN_NOT_RECOGNIZED;
	for (size_t i = 0; i < N_DRIVERS && rv == CKR_TOKEN_NOT_RECOGNIZED; i++) {
		if (drivers[i]->kind != P11_DRIVER_CARD)
			continue;
		rv = drivers[i]->probe(slot->card, &priv);
		if (rv == CKR_OK)
			rv = load_token(slot, drivers[i], priv);
	}
	if (rv == CKR_OK) {
		(void)p11_card_was_reset(slot->card);   /* nobody was logged in yet */
		return CKR_OK;
	}
	p11_card_free(slot->card, false);
	slot->card = NULL;
	if (rv == CKR_TOKEN_NOT_RECOGNIZED) {
		slot->unrecognized = true;
		llv_info("slot %lu: card not recognized", (unsigned long)slot->id);
		return rv;
	}
	if (rv == CKR_DEVICE_REMOVED) {
		slot->card_present = false;
		return CKR_TOKEN_NOT_PRESENT;
	}
	return rv;
}

/* Lists the PC/SC readers and updates the table. */
static void refresh_readers(void)
{
	SCARDCONTEXT ctx;
	DWORD len = 0;
	char *names = NULL;
	LONG rc;
	bool seen[P11_MAX_SLOTS] = { false };
	size_t nslots;

	pthread_mutex_lock(&enum_mutex);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (p11_pcsc_context(&ctx) != CKR_OK)
			break;
		rc = SCardListReaders(ctx, NULL, NULL, &len);
		if (rc == SCARD_S_SUCCESS) {
			names = malloc(len ? len : 1);
			if (names) {
				rc = SCardListReaders(ctx, NULL, names, &len);
				if (rc != SCARD_S_SUCCESS) {
					free(names);
					names = NULL;
				}
			}
		}
		if (rc == SCARD_S_SUCCESS || rc == (LONG)SCARD_E_NO_READERS_AVAILABLE)
			break;
		if (p11_pcsc_service_lost(rc))
			p11_pcsc_context_lost(ctx);   /* pcscd restarted: once more */
		else
			break;
	}
	p11_lock(g_p11.lock);
	for (const char *n = names; n && *n; n += strlen(n) + 1) {
		struct p11_slot *s = slot_by_key(n);

		if (!s)
			s = slot_new(n, n);
		if (s) {
			s->listed = true;
			seen[s->id] = true;
		}
	}
	nslots = g_p11.nslots;
	p11_unlock(g_p11.lock);
	free(names);
	for (size_t i = 0; i < nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];

		if (s->is_file || seen[i] || !s->listed)
			continue;
		p11_lock(s->lock);
		s->listed = false;
		p11_slot_drop_token(s);
		s->card_present = false;
		p11_unlock(s->lock);
	}
	pthread_mutex_unlock(&enum_mutex);
}

static void discover_files(bool full)
{
	for (size_t i = 0; i < N_DRIVERS; i++)
		if (drivers[i]->kind == P11_DRIVER_FILE && drivers[i]->discover)
			drivers[i]->discover(drivers[i], full);
}

/* The application has seen the current state of every slot. */
static void baseline_events(void)
{
	for (size_t i = 0; i < g_p11.nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];
		DWORD st = 0;

		if (s->is_file)
			continue;
		s->reported_present = s->listed && reader_state(s->key, &st) && state_present(st);
		s->reported_gen = st >> 16;
		/* what C_GetSlotList(CK_TRUE, list) says before any count query */
		s->card_present = s->reported_present;
		s->pcsc_state = st;
	}
}

CK_RV p11_slots_init(void)
{
	refresh_readers();
	discover_files(true);
	baseline_events();
	return CKR_OK;
}

void p11_slots_finalize(bool forked)
{
	/* wake the threads in C_WaitForSlotEvent and wait until they leave */
	if (!forked) {
		for (int spins = 0; atomic_load(&g_p11.waiters) > 0 && spins < 500; spins++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			pthread_mutex_lock(&wait_mutex);
			for (int i = 0; i < MAX_WAITERS; i++)
				if (wait_used[i])
					SCardCancel(wait_ctx[i]);
			pthread_mutex_unlock(&wait_mutex);
			nanosleep(&ts, NULL);
		}
	} else {
		memset(wait_used, 0, sizeof(wait_used));
	}
	for (size_t i = 0; i < g_p11.nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];

		if (s->token) {
			p11_token_free(s->token);
			s->token = NULL;
		}
		p11_card_free(s->card, forked);
		if (!forked)
			p11_mutex_free(s->lock);
		free(s->key);
		free(s->file_arg);
		free(s);
		g_p11.slots[i] = NULL;
	}
	g_p11.nslots = 0;
	/* (after a fork a driver's lock may be held by a thread that is gone) */
	for (size_t i = 0; i < N_DRIVERS && !forked; i++)
		if (drivers[i]->kind == P11_DRIVER_FILE && drivers[i]->forget)
			drivers[i]->forget(drivers[i]);
	p11_pcsc_shutdown(forked);
}

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
	CK_SLOT_ID ids[P11_MAX_SLOTS];
	size_t n = 0, nslots;

	if (!p11_ready())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	if (!pSlotList) {
		refresh_readers();
		discover_files(false);
	}
	p11_lock(g_p11.lock);
	nslots = g_p11.nslots;
	p11_unlock(g_p11.lock);
	for (size_t i = 0; i < nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];
		bool include;

		p11_lock(s->lock);
		/* Also with a buffer: p11-kit (and others) call C_GetSlotList(TRUE,
		 * list, &n) without a sizing call first. */
		if (tokenPresent)
			update_presence(s);
		include = s->listed && (!tokenPresent || s->card_present);
		p11_unlock(s->lock);
		if (include)
			ids[n++] = s->id;
	}
	llv_debug("C_GetSlotList(tokenPresent=%d, %s): %zu slots", tokenPresent ? 1 : 0,
	          pSlotList ? "list" : "count", n);
	if (!pSlotList) {
		*pulCount = n;
		return CKR_OK;
	}
	if (*pulCount < n) {
		*pulCount = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(pSlotList, ids, n * sizeof(ids[0]));
	*pulCount = n;
	return CKR_OK;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	struct p11_slot *s;
	CK_RV rv = p11_slot_lookup(slotID, pInfo != NULL, &s);

	if (rv != CKR_OK)
		return rv;
	memset(pInfo, 0, sizeof(*pInfo));
	p11_lock(s->lock);
	update_presence(s);
	p11_pad(pInfo->slotDescription, sizeof(pInfo->slotDescription), s->description);
	p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID),
	        s->is_file ? P11_MANUFACTURER : "PC/SC");
	if (s->is_file) {
		pInfo->flags = CKF_TOKEN_PRESENT;
	} else {
		pInfo->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
		if (s->card_present)
			pInfo->flags |= CKF_TOKEN_PRESENT;
	}
	p11_unlock(s->lock);
	return CKR_OK;
}

CK_FLAGS p11_pin_flags(int user_left, int user_max, int so_left, int so_max)
{
	CK_FLAGS f = 0;

	if (user_left == 0)
		f |= CKF_USER_PIN_LOCKED;
	else if (user_left == 1)
		f |= CKF_USER_PIN_FINAL_TRY;
	else if (user_left > 1 && user_max > 0 && user_left < user_max)
		f |= CKF_USER_PIN_COUNT_LOW;
	if (so_left == 0)
		f |= CKF_SO_PIN_LOCKED;
	else if (so_left == 1)
		f |= CKF_SO_PIN_FINAL_TRY;
	else if (so_left > 1 && so_max > 0 && so_left < so_max)
		f |= CKF_SO_PIN_COUNT_LOW;
	return f;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	struct p11_slot *s;
	CK_RV rv = p11_slot_lookup(slotID, pInfo != NULL, &s);

	if (rv != CKR_OK)
		return rv;
	p11_lock(s->lock);
	rv = p11_slot_token(s, true);
	if (rv == CKR_OK) {
		struct p11_token *t = s->token;

		memset(pInfo, 0, sizeof(*pInfo));
		p11_pad(pInfo->label, sizeof(pInfo->label), "");
		p11_pad(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), P11_MANUFACTURER);
		p11_pad(pInfo->model, sizeof(pInfo->model), t->drv->name);
		p11_pad(pInfo->serialNumber, sizeof(pInfo->serialNumber), "");
		pInfo->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED |
		               CKF_LOGIN_REQUIRED | CKF_RNG;
		pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
		pInfo->ulSessionCount = p11_sessions_count(s, false);
		pInfo->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
		pInfo->ulRwSessionCount = p11_sessions_count(s, true);
		pInfo->ulMaxPinLen = 8;
		pInfo->ulMinPinLen = 4;
		pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
		pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
		memset(pInfo->utcTime, ' ', sizeof(pInfo->utcTime));
		rv = p11_slot_driver_rv(s, t->drv->token_info(t->priv, pInfo));
		if (rv == CKR_DEVICE_REMOVED)
			rv = CKR_TOKEN_NOT_PRESENT;
	}
	p11_unlock(s->lock);
	return rv;
}

/* ---- C_WaitForSlotEvent ---------------------------------------------------- */

/* A slot whose state differs from what the application was last told, or
 * CK_UNAVAILABLE_INFORMATION. Reports it (updates the reported state). */
static CK_SLOT_ID pending_event(bool consume)
{
	size_t nslots;

	p11_lock(g_p11.lock);
	nslots = g_p11.nslots;
	p11_unlock(g_p11.lock);
	for (size_t i = 0; i < nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];
		DWORD st = 0;
		bool present;

		if (s->is_file)
			continue;
		present = s->listed && reader_state(s->key, &st) && state_present(st);
		p11_lock(s->lock);
		if (present != s->reported_present ||
		    (present && (unsigned long)(st >> 16) != s->reported_gen)) {
			if (consume) {
				s->reported_present = present;
				s->reported_gen = st >> 16;
			}
			p11_unlock(s->lock);
			return s->id;
		}
		p11_unlock(s->lock);
	}
	return (CK_SLOT_ID)CK_UNAVAILABLE_INFORMATION;
}

static int waiter_add(SCARDCONTEXT ctx)
{
	int slot = -1;

	pthread_mutex_lock(&wait_mutex);
	for (int i = 0; i < MAX_WAITERS; i++) {
		if (!wait_used[i]) {
			wait_used[i] = true;
			wait_ctx[i] = ctx;
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&wait_mutex);
	return slot;
}

static void waiter_remove(int i)
{
	pthread_mutex_lock(&wait_mutex);
	wait_used[i] = false;
	pthread_mutex_unlock(&wait_mutex);
}

/* Blocks until some reader changes (or the wait is cancelled). */
static CK_RV wait_change(SCARDCONTEXT ctx)
{
	SCARD_READERSTATE rs[P11_MAX_SLOTS + 1];
	size_t n = 0, nslots;
	LONG rc;

	memset(rs, 0, sizeof(rs));
	p11_lock(g_p11.lock);
	nslots = g_p11.nslots;
	p11_unlock(g_p11.lock);
	for (size_t i = 0; i < nslots; i++) {
		struct p11_slot *s = g_p11.slots[i];

		if (s->is_file || !s->listed)
			continue;
		rs[n].szReader = s->key;
		rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	/* learn the current states first, then wait for a change from them */
	if (n) {
		rc = SCardGetStatusChange(ctx, 0, rs, (DWORD)n);
		if (rc != SCARD_S_SUCCESS && rc != (LONG)SCARD_E_TIMEOUT)
			return rc == (LONG)SCARD_E_CANCELLED ? CKR_CRYPTOKI_NOT_INITIALIZED
			                                     : CKR_DEVICE_ERROR;
		for (size_t i = 0; i < n; i++)
			rs[i].dwCurrentState = rs[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	/* a change between the caller's check and our snapshot: report it now */
	if (pending_event(false) != (CK_SLOT_ID)CK_UNAVAILABLE_INFORMATION)
		return CKR_OK;
	rs[n].szReader = PNP_READER;
	rs[n].dwCurrentState = 0;
	n++;
	rc = SCardGetStatusChange(ctx, INFINITE, rs, (DWORD)n);
	if (rc == (LONG)SCARD_E_CANCELLED || atomic_load(&g_p11.finalizing))
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (rc != SCARD_S_SUCCESS && rc != (LONG)SCARD_E_TIMEOUT)
		return CKR_DEVICE_ERROR;
	if (rs[n - 1].dwEventState & SCARD_STATE_CHANGED)
		refresh_readers();
	return CKR_OK;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	SCARDCONTEXT ctx;
	CK_SLOT_ID id;
	CK_RV rv = CKR_OK;
	int wi;

	if (!p11_ready())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!pSlot || pReserved)
		return CKR_ARGUMENTS_BAD;
	if (flags & CKF_DONT_BLOCK) {
		refresh_readers();
		id = pending_event(true);
		if (id == (CK_SLOT_ID)CK_UNAVAILABLE_INFORMATION)
			return CKR_NO_EVENT;
		*pSlot = id;
		return CKR_OK;
	}
	atomic_fetch_add(&g_p11.waiters, 1);
	if (atomic_load(&g_p11.finalizing)) {
		atomic_fetch_sub(&g_p11.waiters, 1);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	for (;;) {
		LONG rc = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		struct timespec ts = { 1, 0 };

		if (rc == SCARD_S_SUCCESS)
			break;
		/* no pcscd (yet): poll, so a restarted pcscd is found */
		nanosleep(&ts, NULL);
		if (atomic_load(&g_p11.finalizing)) {
			atomic_fetch_sub(&g_p11.waiters, 1);
			return CKR_CRYPTOKI_NOT_INITIALIZED;
		}
	}
	wi = waiter_add(ctx);
	if (wi < 0) {
		SCardReleaseContext(ctx);
		atomic_fetch_sub(&g_p11.waiters, 1);
		return CKR_HOST_MEMORY;
	}
	for (;;) {
		if (atomic_load(&g_p11.finalizing)) {
			rv = CKR_CRYPTOKI_NOT_INITIALIZED;
			break;
		}
		id = pending_event(true);
		if (id != (CK_SLOT_ID)CK_UNAVAILABLE_INFORMATION) {
			*pSlot = id;
			rv = CKR_OK;
			break;
		}
		rv = wait_change(ctx);
		if (rv == CKR_CRYPTOKI_NOT_INITIALIZED)
			break;
		if (rv == CKR_OK)
			continue;
		if (rv == CKR_DEVICE_ERROR) {
			/* pcscd went away: a fresh context once it is back */
			struct timespec ts = { 0, 500 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			if (SCardIsValidContext(ctx) != SCARD_S_SUCCESS) {
				SCARDCONTEXT nctx;

				if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &nctx) ==
				    SCARD_S_SUCCESS) {
					pthread_mutex_lock(&wait_mutex);
					SCardReleaseContext(ctx);
					ctx = nctx;
					wait_ctx[wi] = ctx;
					pthread_mutex_unlock(&wait_mutex);
				}
			}
		}
	}
	waiter_remove(wi);
	SCardReleaseContext(ctx);
	atomic_fetch_sub(&g_p11.waiters, 1);
	return rv;
}
