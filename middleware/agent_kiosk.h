/* Kiosk mode of llavero-agent (off by default): the native-messaging
 * commands over HTTP on 127.0.0.1 for a kiosk's own page or app. PROTOCOL.md,
 * "Kiosk mode". */
#ifndef LLAVERO_AGENT_KIOSK_H
#define LLAVERO_AGENT_KIOSK_H

#include <pthread.h>
#include <stdbool.h>

#include "agent.h"

#define AGENT_KIOSK_SECRET_HEADER "X-Llavero-Secret"
#define AGENT_KIOSK_SESSION_HEADER "X-Llavero-Session"

struct agent_kiosk {
	struct agent_ctx a;          /* guarded by lock */
	pthread_mutex_t lock;
	unsigned port;
	char secret[65];             /* hex of 32 random bytes */
	char session[33];            /* "" when no session */
	unsigned long sessions_ended;  /* by a card leaving its reader */
	unsigned long wipes;
	bool card_present;
};

/* agent_kiosk.c: runs the HTTP server until SIGTERM/SIGINT. port_override
 * < 0: the configured port. Returns the process exit status. */
int agent_kiosk_run(int port_override);

/* agent_cardwatch.c: a thread that watches every PC/SC reader
 * (SCardGetStatusChange) and calls agent_kiosk_card_removed when a card
 * leaves one, agent_kiosk_card_state with the presence of any card. */
int agent_cardwatch_start(struct agent_kiosk *k);
void agent_cardwatch_stop(void);
void agent_kiosk_card_removed(struct agent_kiosk *k);
void agent_kiosk_card_state(struct agent_kiosk *k, bool present);

#endif
