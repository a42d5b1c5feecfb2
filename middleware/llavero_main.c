/* `llavero`: Llavero's command-line tool. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "%s",
		T("uso: llavero ORDEN [opciones]\n"
		  "  fido ...      llaves de seguridad FIDO2 (llavero fido --help)\n"
		  "  devices       inventario de llaves y lectores, y qué impide usarlos\n"
		  "  tokens        certificados en tarjetas y e.firma: titular, RFC, usos\n"
		  "  sign ARCHIVO  firma un archivo (--cms: CMS CAdES-BES)\n"
		  "  efirma import pasa una e.firma (.cer + .key) a una tarjeta PIV (9C y 9A)\n"
		  "  login --server URL  inicia sesión sin navegador (e.firma, o --fido con llave)\n"
		  "  --version\n"
		  "Códigos de salida: 0 bien; 1 otro error; 2 uso incorrecto; 3 no hay llave, lector o pcscd;\n"
		  "  4 PIN incorrecto, bloqueado, necesario o rechazado; 5 cancelado, presencia denegada o\n"
		  "  tiempo agotado; 6 origen o RP ID no permitido; 7 credencial ya registrada o ninguna\n"
		  "  para el sitio; 8 la llave dejó de responder; 9 el servidor rechazó el inicio de\n"
		  "  sesión; 10 no se pudo hablar con el servidor.\n"
		  "Mensajes en español; en inglés si LC_ALL/LC_MESSAGES/LANG empieza con «en».\n",
		  "usage: llavero COMMAND [options]\n"
		  "  fido ...      FIDO2 security keys (llavero fido --help)\n"
		  "  devices       inventory of keys and readers, and what stops them from working\n"
		  "  tokens        certificates on cards and e.firma files: holder, RFC, uses\n"
		  "  sign FILE     signs a file (--cms: CMS CAdES-BES)\n"
		  "  efirma import moves an e.firma (.cer + .key) onto a PIV card (9C and 9A)\n"
		  "  login --server URL  signs in without a browser (e.firma, or --fido with a key)\n"
		  "  --version\n"
		  "Exit codes: 0 ok; 1 other error; 2 bad usage; 3 no key, reader or pcscd;\n"
		  "  4 PIN wrong, blocked, required or refused; 5 cancelled, presence denied or\n"
		  "  timed out; 6 origin or RP ID not allowed; 7 credential already registered or none\n"
		  "  for the site; 8 the key stopped answering; 9 the server refused the sign-in;\n"
		  "  10 could not talk to the server.\n"
		  "Messages in Spanish; in English when LC_ALL/LC_MESSAGES/LANG starts with \"en\".\n"));
}

int main(int argc, char **argv)
{
	llv_log_init("llavero");
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("llavero %s\n", LLAVERO_VERSION);
		return CLI_OK;
	}
	if (strcmp(argv[1], "fido") == 0)
		return cli_fido_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "devices") == 0)
		return cli_devices_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "tokens") == 0)
		return cli_tokens_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return cli_sign_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "efirma") == 0)
		return cli_efirma_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "login") == 0)
		return cli_login_main(argc - 1, argv + 1);
	fprintf(stderr, "llavero: %s: %s\n", T("orden desconocida", "unknown command"), argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
