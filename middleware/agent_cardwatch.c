/* agent_cardwatch.c: kiosk mode's card watcher. One thread asks pcscd for
 * every reader's state (SCardGetStatusChange, with the PnP pseudo-reader so
 * readers coming and going wake it too); a card that leaves a reader, or a
 * reader that goes away with a card in it, ends the kiosk session
 * (agent_kiosk_card_removed). Without pcscd it retries every second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <winscard.h>

#include "agent_kiosk.h"
#include "log.h"

#define MAX_READERS 16
#define PNP "\\\\?PnP?\\Notification"

static pthread_t thread;
static atomic_bool stop;
static atomic_bool running;
static SCARDCONTEXT ctx;
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static bool have_ctx;

struct seen {
	char name[128];
	bool present;
};

static void pause_1s(void)
{
	struct timespec ts = { 1, 0 };
	nanosleep(&ts, NULL);
}

static void set_ctx(SCARDCONTEXT c, bool have)
{
	pthread_mutex_lock(&ctx_lock);
	ctx = c;
	have_ctx = have;
	pthread_mutex_unlock(&ctx_lock);
}

static void *watch(void *arg)
{
	struct agent_kiosk *k = arg;
	struct seen seen[MAX_READERS];
	size_t nseen = 0;
	while (!atomic_load(&stop)) {
		SCARDCONTEXT c;
		if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c) != SCARD_S_SUCCESS) {
			pause_1s();
			continue;
		}
		set_ctx(c, true);
		while (!atomic_load(&stop)) {
			char names[4096];
			DWORD len = sizeof(names);
			SCARD_READERSTATE st[MAX_READERS + 1];
			size_t n = 0;
			LONG rv = SCardListReaders(c, NULL, names, &len);
			if (rv == SCARD_S_SUCCESS) {
				for (const char *r = names; *r && n < MAX_READERS; r += strlen(r) + 1) {
					memset(&st[n], 0, sizeof(st[n]));
					st[n].szReader = r;
					st[n].dwCurrentState = SCARD_STATE_UNAWARE;
					n++;
				}
			} else if (rv != SCARD_E_NO_READERS_AVAILABLE) {
				break;
			}
			/* The current states first, then wait for a change. */
			if (n && SCardGetStatusChange(c, 0, st, (DWORD)n) != SCARD_S_SUCCESS)
				break;
			struct seen now[MAX_READERS];
			bool any = false, removed = false;
			for (size_t i = 0; i < n; i++) {
				snprintf(now[i].name, sizeof(now[i].name), "%s", st[i].szReader);
				now[i].present = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0;
				any |= now[i].present;
				st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
			}
			/* A reader that had a card and now has none, or is gone. */
			for (size_t j = 0; j < nseen; j++) {
				if (!seen[j].present)
					continue;
				bool still = false;
				for (size_t i = 0; i < n; i++)
					if (strcmp(now[i].name, seen[j].name) == 0 && now[i].present)
						still = true;
				removed |= !still;
			}
			memcpy(seen, now, n * sizeof(now[0]));
			nseen = n;
			agent_kiosk_card_state(k, any);
			if (removed)
				agent_kiosk_card_removed(k);
			memset(&st[n], 0, sizeof(st[n]));
			st[n].szReader = PNP;
			st[n].dwCurrentState = SCARD_STATE_UNAWARE;
			/* PnP's first answer is immediate: take its state, then wait. */
			SCardGetStatusChange(c, 0, &st[n], 1);
			st[n].dwCurrentState = st[n].dwEventState & ~SCARD_STATE_CHANGED;
			rv = SCardGetStatusChange(c, 1000, st, (DWORD)n + 1);
			if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT && rv != SCARD_E_CANCELLED &&
			    rv != SCARD_E_UNKNOWN_READER)
				break;
		}
		set_ctx(0, false);
		SCardReleaseContext(c);
		/* pcscd went away: what it held is gone too. */
		bool had = false;
		for (size_t j = 0; j < nseen; j++)
			had |= seen[j].present;
		nseen = 0;
		if (had) {
			agent_kiosk_card_state(k, false);
			agent_kiosk_card_removed(k);
		}
		if (!atomic_load(&stop))
			pause_1s();
	}
	return NULL;
}

int agent_cardwatch_start(struct agent_kiosk *k)
{
	atomic_store(&stop, false);
	if (pthread_create(&thread, NULL, watch, k) != 0)
		return -1;
	atomic_store(&running, true);
	return 0;
}

void agent_cardwatch_stop(void)
{
	if (!atomic_load(&running))
		return;
	atomic_store(&stop, true);
	pthread_mutex_lock(&ctx_lock);
	if (have_ctx)
		SCardCancel(ctx);
	pthread_mutex_unlock(&ctx_lock);
	pthread_join(thread, NULL);
	atomic_store(&running, false);
}
