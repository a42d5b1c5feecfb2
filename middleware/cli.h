/* The `llavero` command line: shared pieces of its subcommands. */
#ifndef LLAVERO_CLI_H
#define LLAVERO_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes (documented in `llavero --help`). */
enum cli_exit {
	CLI_OK = 0,
	CLI_ERR = 1,          /* any other failure */
	CLI_USAGE = 2,        /* bad command line or options */
	CLI_NO_DEVICE = 3,    /* no key, no reader, no pcscd */
	CLI_PIN = 4,          /* PIN wrong, blocked, required or refused */
	CLI_CANCELLED = 5,    /* cancelled, presence denied, timed out */
	CLI_ORIGIN = 6,       /* origin or RP ID not allowed */
	CLI_CREDENTIAL = 7,   /* credential excluded, or none for the RP */
	CLI_DEVICE_LOST = 8,  /* the key stopped answering mid-operation */
	CLI_REFUSED = 9,      /* login: the server refused the sign-in */
	CLI_SERVER = 10,      /* login: could not talk to the server, or an unexpected answer */
};

/* cli_i18n.c: Spanish unless LC_ALL / LC_MESSAGES / LANG start with "en". */
bool cli_english(void);
const char *cli_tr(const char *es, const char *en);
#define T(es, en) cli_tr(es, en)

/* cli_pin.c: a PIN from a file (first line) or from the terminal without
 * echo. Returns 0 and a NUL-terminated PIN, or -1. */
int cli_pin_from_file(const char *path, char *pin, size_t len);
int cli_pin_from_tty(const char *prompt, char *pin, size_t len);

int cli_fido_main(int argc, char **argv);
int cli_devices_main(int argc, char **argv);
int cli_tokens_main(int argc, char **argv);
/* cli_tokens.c: --module PATH (the first one replaces the configured list). */
struct agent_config;
int cli_agent_module_opt(struct agent_config *c, const char *path, bool *reset);
int cli_sign_main(int argc, char **argv);
int cli_efirma_main(int argc, char **argv);
int cli_login_main(int argc, char **argv);

#endif
