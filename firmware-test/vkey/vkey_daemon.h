/* The `llavero-vkey run` process: the authenticator core behind CTAPHID on a
 * Unix SOCK_SEQPACKET socket and/or UDP, user presence as configured and
 * changed through the control socket STATE.ctl, state saved atomically
 * before each response that follows a change. Single-threaded poll() loop;
 * while the core waits for user presence the loop runs inside the callback. */
#ifndef LLAVERO_VKEY_DAEMON_H
#define LLAVERO_VKEY_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vkey_up_mode { VKEY_UP_AUTO, VKEY_UP_DENY, VKEY_UP_WAIT };

#define VKEY_UP_DEFAULT_TIMEOUT_MS 30000u
#define VKEY_UDP_DEVICE_PORT 8111
#define VKEY_UDP_HOST_PORT 7112

struct vkey_run_options {
	const char *state_path;
	const char *socket_path;     /* NULL: no socket transport */
	bool udp;
	uint16_t udp_device_port;    /* we listen on 127.0.0.1:this */
	uint16_t udp_host_port;      /* and send to 127.0.0.1:this */
	enum vkey_up_mode up_mode;
	uint32_t up_timeout_ms;
	bool verbose;
};

/* Exit codes of llavero-vkey. */
enum {
	VKEY_EXIT_OK = 0,
	VKEY_EXIT_USAGE = 1,
	VKEY_EXIT_STATE = 2,       /* state missing, corrupt, exists, cannot be saved */
	VKEY_EXIT_IO = 3,          /* socket cannot be created, already in use */
	VKEY_EXIT_CTL = 4,         /* no running vkey answers, or it refused/timed out */
	VKEY_EXIT_INTERNAL = 5,
};

/* Parses "auto", "deny", "wait" or "wait:MS". 0 or -1. */
int vkey_parse_up_mode(const char *s, enum vkey_up_mode *mode, uint32_t *timeout_ms);

/* The control socket path for a state file (STATE.ctl). 0, or -1 when it
 * does not fit in a sockaddr_un. */
int vkey_ctl_path(const char *state_path, char *out, size_t outlen);

struct fw_state;
struct ctap_auth;
/* Loads the state file at path into st (initialised by the caller) and its
 * "ctap" section into a. 0, or -1 after telling stderr why (missing, invalid,
 * no ctap section); the file is never modified. */
int vkey_load_state(const char *path, struct fw_state *st, struct ctap_auth *a);

/* Runs until SIGINT/SIGTERM. Returns an exit code. */
int vkey_run(const struct vkey_run_options *opt);

#endif
