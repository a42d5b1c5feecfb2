/* llavero-vcard: the simulated PIV smart card's command line (init,
 * provision, run, insert/remove, stats, status). User-facing text is Spanish
 * first; code and comments are English. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "atomic_file.h"
#include "card.h"
#include "ctap_authenticator.h"
#include "fido_applet.h"
#include "fw_state.h"
#include "log.h"
#include "piv_applet.h"
#include "secmem.h"
#include "tlv.h"
#include "vpcd_link.h"

#define PROG "llavero-vcard"
#define STATE_KIND "vcard"
#define SECTION_PIV "piv"
#define SECTION_FIDO "fido"

/* Exit codes (documented in --help). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_STATE = 3,     /* state file missing, exists already, corrupt, unwritable */
	EXIT_KEY = 4,       /* key or certificate unreadable, wrong password, mismatch */
	EXIT_NOT_RUNNING = 5,
};

static void usage(FILE *f)
{
	fprintf(f,
"Uso / usage: " PROG " ORDEN --state ARCHIVO [opciones]\n"
"\n"
"Tarjeta inteligente PIV simulada que se conecta a pcscd mediante vpcd.\n"
"Simulated PIV smart card that joins pcscd through vsmartcard's vpcd.\n"
"\n"
"Órdenes / commands:\n"
"  init --state F [--pin 123456] [--puk 12345678] [--force]\n"
"      crea una tarjeta nueva (no sobrescribe un estado existente sin --force)\n"
"  provision --state F --efirma CER KEY --password-file P --slot 9a|9c|9d|9e\n"
"  provision --state F --cert C --key K [--password-file P] --slot 9a|9c|9d|9e\n"
"      importa una llave privada y su certificado. KEY: PKCS#8 DER cifrado (.key\n"
"      del SAT) o PEM/DER sin cifrar; --key-pem es sinónimo de --key\n"
"  run --state F [--port 35963] [--host 127.0.0.1] [--fido-up auto|deny]\n"
"      [--fido-delay MS] [-v]\n"
"      se conecta a vpcd y atiende APDU; -v registra cada APDU y SW en stderr\n"
"      (PIN, llaves y datos de la llave de administración se ocultan)\n"
"  insert --state F | remove --state F\n"
"      inserta / retira la tarjeta del lector sin detener el proceso\n"
"  stats --state F     imprime contadores del proceso en ejecución (apdus=N ...)\n"
"  stop --state F      detiene el proceso en ejecución\n"
"  status --state F    muestra ranuras e intentos de PIN/PUK, y el autenticador FIDO\n"
"  fido-attestation-ca --state F\n"
"      imprime en PEM la CA de atestación del applet FIDO (para los verificadores)\n"
"\n"
"El applet FIDO (AID A0000006472F0001, CTAP sobre ISO 7816) aprueba la\n"
"presencia del usuario al acercar la tarjeta; «run --fido-up deny» la rechaza.\n"
"The FIDO applet approves user presence on tap; run --fido-up deny refuses it.\n"
"«run --fido-delay MS» (pruebas) retiene MS ms la respuesta a cada petición\n"
"CTAP2 (NFCCTAP_MSG); mientras, «remove» retira la tarjeta a media orden.\n"
"run --fido-delay MS (tests) holds each CTAP2 answer MS ms; remove meanwhile\n"
"pulls the card mid-command.\n"
"\n"
"Canal de control / control channel: socket Unix en F.ctl\n"
"\n"
"Códigos de salida / exit codes:\n"
"  0 éxito / success\n"
"  1 error general / general error\n"
"  2 uso incorrecto / usage error\n"
"  3 archivo de estado ausente, existente, dañado o no escribible / state file problem\n"
"  4 llave o certificado ilegible, contraseña incorrecta o no coinciden / key or certificate problem\n"
"  5 no hay un llavero-vcard en ejecución con ese estado / no running instance\n");
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- state file ----------------------------------------------------------- */

struct store {
	const char *path;
	struct fw_state st;
	struct piv_applet *piv;
	struct fido_applet *fido;
};

static void store_free(struct store *s)
{
	piv_applet_free(s->piv);
	s->piv = NULL;
	fido_applet_free(s->fido);
	s->fido = NULL;
	fw_state_free(&s->st);
}

static int store_save(void *ctx);

/* Loads the state file and the PIV applet from it. Prints why not. */
static int store_load(struct store *s, const char *path)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	s->path = path;
	fw_state_init(&s->st, STATE_KIND);
	if (fw_state_load(&s->st, path, err, sizeof(err)) != 0) {
		fail("el archivo de estado %s no se puede usar: %s; no se modificó", path, err);
		return -1;
	}
	s->piv = piv_applet_new();
	if (s->piv == NULL) {
		fail("sin memoria");
		fw_state_free(&s->st);
		return -1;
	}
	const struct llv_buf *sec = fw_state_find(&s->st, SECTION_PIV);
	if (sec == NULL) {
		fail("el archivo de estado %s está dañado (no tiene la sección PIV); no se modificó", path);
		store_free(s);
		return -1;
	}
	if (piv_applet_load(s->piv, sec->data, sec->len, err, sizeof(err)) != 0) {
		fail("el archivo de estado %s está dañado (%s); no se modificó", path, err);
		store_free(s);
		return -1;
	}
	s->fido = fido_applet_new();
	if (s->fido == NULL) {
		fail("sin memoria");
		store_free(s);
		return -1;
	}
	sec = fw_state_find(&s->st, SECTION_FIDO);
	if (sec != NULL) {
		if (fido_applet_load(s->fido, sec->data, sec->len, err, sizeof(err)) != 0) {
			fail("el archivo de estado %s está dañado (applet FIDO: %s); no se modificó", path, err);
			store_free(s);
			return -1;
		}
		return 0;
	}
	/* A card written before the FIDO applet existed: an upgrade, not a
	 * reset. The PIV applet stays as it is; the FIDO applet starts fresh. */
	if (fido_applet_init_fresh(s->fido) != 0) {
		fail("no se pudo crear el autenticador FIDO");
		store_free(s);
		return -1;
	}
	fprintf(stderr, PROG ": %s no tenía applet FIDO: se agregó un autenticador FIDO nuevo "
		"(actualización; el applet PIV no cambió) / upgraded: added a fresh FIDO applet, PIV unchanged\n", path);
	if (store_save(s) != 0) {
		fail("no se pudo escribir el archivo de estado %s: %s; el archivo anterior no se modificó",
		     path, strerror(errno));
		store_free(s);
		return -1;
	}
	return 0;
}

/* Writes the applet's state into the file. On failure the old file stays and
 * the applet goes back to what the file holds (as firmware would after a
 * failed EEPROM commit). */
static int store_save(void *ctx)
{
	struct store *s = ctx;
	struct llv_buf fresh_piv, fresh_fido;
	char err[256];

	llv_buf_init_secret(&fresh_piv);
	llv_buf_init_secret(&fresh_fido);
	struct llv_buf *sec_piv = fw_state_section(&s->st, SECTION_PIV);
	struct llv_buf *sec_fido = fw_state_section(&s->st, SECTION_FIDO);
	if (sec_piv == NULL || piv_applet_save(s->piv, &fresh_piv) != 0 || !llv_buf_ok(&fresh_piv)) {
		llv_error("cannot serialise the PIV applet");
		goto rollback;
	}
	if (sec_fido == NULL || fido_applet_save(s->fido, &fresh_fido) != 0 || !llv_buf_ok(&fresh_fido)) {
		llv_error("cannot serialise the FIDO applet");
		goto rollback;
	}
	struct llv_buf old_piv = *sec_piv, old_fido = *sec_fido;
	*sec_piv = fresh_piv;
	*sec_fido = fresh_fido;
	if (fw_state_save(&s->st, s->path) != 0) {
		*sec_piv = old_piv;
		*sec_fido = old_fido;
		goto rollback;
	}
	llv_buf_free(&old_piv);
	llv_buf_free(&old_fido);
	return 0;
rollback:
	llv_buf_free(&fresh_piv);
	llv_buf_free(&fresh_fido);
	sec_piv = (struct llv_buf *)fw_state_find(&s->st, SECTION_PIV);
	if (sec_piv && piv_applet_load(s->piv, sec_piv->data, sec_piv->len, err, sizeof(err)) != 0)
		llv_error("rollback of the PIV applet failed: %s", err);
	sec_fido = (struct llv_buf *)fw_state_find(&s->st, SECTION_FIDO);
	if (sec_fido && sec_fido->len > 0 &&
	    fido_applet_load(s->fido, sec_fido->data, sec_fido->len, err, sizeof(err)) != 0)
		llv_error("rollback of the FIDO applet failed: %s", err);
	return -1;
}

static int report_save(struct store *s)
{
	if (store_save(s) != 0) {
		fail("no se pudo escribir el archivo de estado %s: %s; el archivo anterior no se modificó",
		     s->path, strerror(errno));
		return EXIT_STATE;
	}
	return EXIT_OK;
}

static char *ctl_path_for(const char *state)
{
	size_t n = strlen(state) + 5;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.ctl", state);
	return p;
}

/* ---- options -------------------------------------------------------------- */

struct opts {
	const char *state;
	const char *pin, *puk;
	bool force;
	const char *cert, *key, *password_file;
	int slot;
	const char *host;
	unsigned port;
	bool verbose;
	enum fido_up_mode fido_up;
	unsigned fido_delay_ms;
};

enum { OPT_STATE = 1000, OPT_PIN, OPT_PUK, OPT_FORCE, OPT_EFIRMA, OPT_CERT, OPT_KEY,
       OPT_PASSWORD_FILE, OPT_SLOT, OPT_PORT, OPT_HOST, OPT_FIDO_UP, OPT_FIDO_DELAY };

static int parse_slot(const char *s)
{
	static const struct { const char *name; int slot; } slots[] = {
		{ "9a", PIV_KEY_AUTH }, { "9c", PIV_KEY_SIGN },
		{ "9d", PIV_KEY_KEYMGMT }, { "9e", PIV_KEY_CARDAUTH },
	};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (strcasecmp(s, slots[i].name) == 0)
			return slots[i].slot;
	return -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "pin", required_argument, NULL, OPT_PIN },
		{ "puk", required_argument, NULL, OPT_PUK },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "efirma", required_argument, NULL, OPT_EFIRMA },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "key-pem", required_argument, NULL, OPT_KEY },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "fido-up", required_argument, NULL, OPT_FIDO_UP },
		{ "fido-delay", required_argument, NULL, OPT_FIDO_DELAY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->slot = -1;
	o->host = "127.0.0.1";
	o->port = VPCD_DEFAULT_PORT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE: o->state = optarg; break;
		case OPT_PIN: o->pin = optarg; break;
		case OPT_PUK: o->puk = optarg; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_EFIRMA:
			o->cert = optarg;
			if (optind >= argc || argv[optind][0] == '-') {
				fail("--efirma necesita dos archivos: CER KEY");
				return -1;
			}
			o->key = argv[optind++];
			break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_PASSWORD_FILE: o->password_file = optarg; break;
		case OPT_SLOT:
			o->slot = parse_slot(optarg);
			if (o->slot < 0) {
				fail("ranura desconocida «%s» (use 9a, 9c, 9d o 9e)", optarg);
				return -1;
			}
			break;
		case OPT_PORT: {
			char *end;
			unsigned long p = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || p == 0 || p > 65535) {
				fail("puerto inválido «%s»", optarg);
				return -1;
			}
			o->port = (unsigned)p;
			break;
		}
		case OPT_HOST: o->host = optarg; break;
		case OPT_FIDO_UP:
			if (strcmp(optarg, "auto") == 0) {
				o->fido_up = FIDO_UP_AUTO;
			} else if (strcmp(optarg, "deny") == 0) {
				o->fido_up = FIDO_UP_DENY;
			} else {
				fail("--fido-up acepta auto o deny, no «%s»", optarg);
				return -1;
			}
			break;
		case OPT_FIDO_DELAY: {
			char *end;
			unsigned long ms = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || ms > 600000) {
				fail("--fido-delay acepta de 0 a 600000 ms, no «%s»", optarg);
				return -1;
			}
			o->fido_delay_ms = (unsigned)ms;
			break;
		}
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default:
			fail("opción desconocida o incompleta: %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc) {
		fail("argumento inesperado: %s", argv[optind]);
		return -1;
	}
	if (o->state == NULL) {
		fail("falta --state ARCHIVO");
		return -1;
	}
	return 0;
}

/* ---- init ----------------------------------------------------------------- */

static bool secret_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 6 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return false;
	return true;
}

static int cmd_init(const struct opts *o)
{
	struct store s;
	struct stat sb;

	if (o->pin && !secret_ok(o->pin)) {
		fail("el PIN debe tener de 6 a 8 caracteres");
		return EXIT_USAGE;
	}
	if (o->puk && !secret_ok(o->puk)) {
		fail("el PUK debe tener de 6 a 8 caracteres");
		return EXIT_USAGE;
	}
	if (!o->force && stat(o->state, &sb) == 0) {
		fail("el archivo de estado %s ya existe; no se modificó (use --force para reemplazarlo)", o->state);
		return EXIT_STATE;
	}
	memset(&s, 0, sizeof(s));
	s.path = o->state;
	fw_state_init(&s.st, STATE_KIND);
	s.piv = piv_applet_new();
	if (s.piv == NULL || piv_applet_personalize(s.piv, o->pin, o->puk) != 0) {
		fail("no se pudo personalizar la tarjeta");
		store_free(&s);
		return EXIT_ERROR;
	}
	s.fido = fido_applet_new();
	if (s.fido == NULL || fido_applet_init_fresh(s.fido) != 0) {
		fail("no se pudo crear el autenticador FIDO");
		store_free(&s);
		return EXIT_ERROR;
	}
	int rc = report_save(&s);
	store_free(&s);
	if (rc == EXIT_OK)
		printf("Tarjeta creada en %s\n", o->state);
	return rc;
}

/* ---- provision ------------------------------------------------------------ */

static void print_openssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	if (e)
		fprintf(stderr, PROG ": (OpenSSL: %s)\n", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "?");
	ERR_clear_error();
}

static char *read_password(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;

	if (llv_read_file(path, 4096, &data, &len) != 0) {
		fail("no se pudo leer el archivo de contraseña %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t n = 0;
	while (n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0')
		n++;
	char *pw = llv_secure_alloc(n + 1);
	if (pw)
		memcpy(pw, data, n);
	llv_wipe(data, len);
	free(data);
	return pw;
}

static X509 *read_cert(const char *path, uint8_t **der, int *der_len)
{
	uint8_t *data = NULL;
	size_t len = 0;
	X509 *x = NULL;

	if (llv_read_file(path, 1024 * 1024, &data, &len) != 0) {
		fail("no se pudo leer el certificado %s: %s", path, strerror(errno));
		return NULL;
	}
	const uint8_t *p = data;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != data + len) {
		X509_free(x);
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	}
	free(data);
	if (x == NULL) {
		fail("%s no es un certificado X.509 (DER o PEM)", path);
		print_openssl_reason();
		return NULL;
	}
	*der = NULL;
	*der_len = i2d_X509(x, der);
	if (*der_len <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Reads a private key: encrypted DER PKCS#8 (.key of SAT), PEM (encrypted or
 * not), or unencrypted DER. Sets *bad_password when decryption failed. */
static EVP_PKEY *read_key(const char *path, const char *password, bool *bad_password)
{
	uint8_t *data = NULL;
	size_t len = 0;
	EVP_PKEY *k = NULL;

	*bad_password = false;
	if (llv_read_file(path, 1024 * 1024, &data, &len) != 0) {
		fail("no se pudo leer la llave privada %s: %s", path, strerror(errno));
		return NULL;
	}
	bool pem = len > 10 && memcmp(data, "-----BEGIN", 10) == 0;
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		goto out;
	if (pem) {
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(password ? password : ""));
		if (k == NULL && strstr((const char *)data, "ENCRYPTED"))
			*bad_password = true;
	} else {
		const uint8_t *p = data;
		X509_SIG *enc = d2i_X509_SIG(NULL, &p, (long)len);
		if (enc != NULL) {
			X509_SIG_free(enc);
			if (password == NULL) {
				fail("la llave %s está cifrada: indique --password-file", path);
				goto out;
			}
			k = d2i_PKCS8PrivateKey_bio(bio, NULL, NULL, (void *)password);
			if (k == NULL)
				*bad_password = true;
		} else {
			p = data;
			k = d2i_AutoPrivateKey(NULL, &p, (long)len);
		}
	}
out:
	BIO_free(bio);
	llv_wipe(data, len);
	free(data);
	return k;
}

static int cmd_provision(const struct opts *o)
{
	struct store s;
	char err[256];
	char *password = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *der = NULL;
	int der_len = 0;
	int rc = EXIT_KEY;
	bool bad_password = false;

	if (o->slot < 0 || o->key == NULL || o->cert == NULL) {
		fail("provision necesita --slot y --efirma CER KEY (o --cert C --key K)");
		return EXIT_USAGE;
	}
	/* Refuse a bad state file before touching any secret. */
	if (store_load(&s, o->state) != 0)
		return EXIT_STATE;
	if (o->password_file && (password = read_password(o->password_file)) == NULL)
		goto out;
	if ((cert = read_cert(o->cert, &der, &der_len)) == NULL)
		goto out;
	key = read_key(o->key, password, &bad_password);
	if (key == NULL) {
		if (bad_password)
			fail("no se pudo descifrar la llave privada %s: la contraseña es incorrecta o el archivo está dañado", o->key);
		else
			fail("%s no es una llave privada legible (PKCS#8 DER cifrado, PEM o DER)", o->key);
		print_openssl_reason();
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
		fail("la llave privada %s no corresponde al certificado %s", o->key, o->cert);
		ERR_clear_error();
		goto out;
	}
	if (piv_applet_install_key(s.piv, (uint8_t)o->slot, key, err, sizeof(err)) != 0) {
		fail("la tarjeta no aceptó la llave: %s", err);
		goto out;
	}
	if (piv_applet_install_cert(s.piv, (uint8_t)o->slot, der, (size_t)der_len, err, sizeof(err)) != 0) {
		fail("la tarjeta no aceptó el certificado: %s", err);
		goto out;
	}
	rc = report_save(&s);
	if (rc == EXIT_OK) {
		char name[256];
		X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
		printf("Ranura %02x: llave y certificado instalados (%s)\n", o->slot, name);
	}
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	OPENSSL_free(der);
	if (password)
		llv_secure_strfree(password);
	store_free(&s);
	return rc;
}

/* ---- run and the control channel ----------------------------------------- */

/* Test hook (--fido-delay MS): the answer to each CTAP2 request (the last
 * NFCCTAP_MSG piece, 80 10) is held MS ms, as if the person were slow to
 * tap, so tests can pull the card or reset it while a ceremony waits. */
static unsigned fido_delay(void *ctx, const uint8_t *apdu, size_t len)
{
	const unsigned *ms = ctx;

	return len >= 2 && apdu[0] == 0x80 && apdu[1] == 0x10 ? *ms : 0;
}

static int cmd_run(const struct opts *o)
{
	struct store s;
	struct vcard_card card;

	if (store_load(&s, o->state) != 0)
		return EXIT_STATE;
	char *ctl = ctl_path_for(o->state);
	if (ctl == NULL) {
		store_free(&s);
		return EXIT_ERROR;
	}
	vcard_card_init(&card);
	vcard_card_add_applet(&card, &piv_applet_ops, s.piv);
	vcard_card_add_applet(&card, &fido_applet_ops, s.fido);
	fido_applet_set_up_mode(s.fido, o->fido_up);

	struct vpcd_link_config cfg = {
		.host = o->host,
		.port = (uint16_t)o->port,
		.ctl_path = ctl,
		.verbose = o->verbose,
		.persist = store_save,
		.persist_ctx = &s,
		.hold_ms = o->fido_delay_ms > 0 ? fido_delay : NULL,
		.hold_ctx = (void *)&o->fido_delay_ms,
	};
	if (o->verbose && llv_log_get_level() < LLV_LOG_INFO)
		llv_log_set_level(LLV_LOG_INFO);
	int rc = vpcd_link_run(&cfg, &card);
	if (rc != 0)
		fail("no se pudo iniciar (canal de control %s)", ctl);
	vcard_card_free(&card);
	store_free(&s);
	free(ctl);
	return rc == 0 ? EXIT_OK : EXIT_ERROR;
}

static int cmd_control(const struct opts *o, const char *command)
{
	char reply[256];
	char *ctl = ctl_path_for(o->state);
	if (ctl == NULL)
		return EXIT_ERROR;
	int rc = vpcd_link_control(ctl, command, reply, sizeof(reply));
	if (rc != 0) {
		fail("no hay un llavero-vcard en ejecución con el estado %s (%s: %s)", o->state, ctl, strerror(errno));
		free(ctl);
		return EXIT_NOT_RUNNING;
	}
	free(ctl);
	if (strncmp(reply, "error", 5) == 0) {
		fail("el proceso respondió: %s", reply);
		return EXIT_ERROR;
	}
	if (strcmp(command, "stats") == 0) {
		/* One key=value per line, apdus first. */
		for (char *tok = strtok(reply, " "); tok; tok = strtok(NULL, " "))
			printf("%s\n", tok);
	}
	return EXIT_OK;
}

/* ---- status (through the card itself, as a client would see it) --------- */

static uint16_t card_cmd(struct vcard_card *c, const uint8_t *apdu, size_t len, struct llv_buf *data)
{
	struct llv_buf r = LLV_BUF_INIT;
	uint16_t sw;
	static const uint8_t get_response[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };

	llv_buf_clear(data);
	vcard_card_transmit(c, apdu, len, &r);
	for (;;) {
		if (!llv_buf_ok(&r) || r.len < 2) {
			sw = SW_UNKNOWN;
			break;
		}
		sw = (uint16_t)((r.data[r.len - 2] << 8) | r.data[r.len - 1]);
		llv_buf_put(data, r.data, r.len - 2);
		if ((sw & 0xFF00) != SW_BYTES_REMAINING)
			break;
		vcard_card_transmit(c, get_response, sizeof(get_response), &r);
	}
	llv_buf_free(&r);
	return sw;
}

static void print_retries(struct vcard_card *c, uint8_t ref, const char *label)
{
	struct llv_buf d = LLV_BUF_INIT;
	struct llv_tlv t;
	uint8_t meta[] = { 0x00, 0xF7, 0x00, ref, 0x00 };
	uint16_t sw = card_cmd(c, meta, sizeof(meta), &d);
	if (sw == SW_OK && llv_tlv_find(d.data, d.len, 0x06, &t) == 0 && t.len == 2) {
		printf("%s: %u de %u intentos restantes%s\n", label, t.value[1], t.value[0],
		       t.value[1] == 0 ? " (BLOQUEADO)" : "");
	} else if (ref == PIV_REF_PIN) {
		uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80 };
		sw = card_cmd(c, verify, sizeof(verify), &d);
		if ((sw & 0xFFF0) == SW_VERIFY_FAILED)
			printf("%s: %u intentos restantes\n", label, sw & 0x0F);
		else if (sw == SW_AUTH_METHOD_BLOCKED)
			printf("%s: BLOQUEADO\n", label);
		else
			printf("%s: desconocido (SW %04X)\n", label, sw);
	} else {
		printf("%s: desconocido (SW %04X)\n", label, sw);
	}
	llv_buf_free(&d);
}

static const char *alg_name(uint8_t alg)
{
	switch (alg) {
	case 0x06: return "RSA-1024";
	case 0x07: return "RSA-2048";
	case 0x05: return "RSA-3072";
	case 0x16: return "RSA-4096";
	case 0x11: return "ECC P-256";
	case 0x14: return "ECC P-384";
	case 0x03: return "3DES";
	case 0x08: return "AES-128";
	case 0x0A: return "AES-192";
	case 0x0C: return "AES-256";
	default: return "algoritmo desconocido";
	}
}

static void print_slot(struct vcard_card *c, uint8_t slot, uint8_t obj, const char *label)
{
	struct llv_buf d = LLV_BUF_INIT;
	struct llv_tlv t, inner;
	uint8_t meta[] = { 0x00, 0xF7, 0x00, slot, 0x00 };
	uint8_t getdata[] = { 0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, obj, 0x00 };

	printf("Ranura %02X (%s): ", slot, label);
	uint16_t sw = card_cmd(c, meta, sizeof(meta), &d);
	if (sw == SW_OK && llv_tlv_find(d.data, d.len, 0x01, &t) == 0 && t.len == 1)
		printf("llave %s", alg_name(t.value[0]));
	else if (sw == SW_REFERENCE_NOT_FOUND || sw == SW_FILE_NOT_FOUND)
		printf("sin llave");
	else
		printf("llave: desconocido (SW %04X)", sw);

	sw = card_cmd(c, getdata, sizeof(getdata), &d);
	if (sw == SW_OK && llv_tlv_find(d.data, d.len, 0x53, &t) == 0 &&
	    llv_tlv_find(t.value, t.len, 0x70, &inner) == 0) {
		const uint8_t *p = inner.value;
		X509 *x = d2i_X509(NULL, &p, (long)inner.len);
		if (x) {
			char name[256];
			X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
			printf(", certificado %s\n", name);
			X509_free(x);
		} else {
			printf(", certificado ilegible (%zu bytes)\n", inner.len);
		}
	} else {
		printf(", sin certificado\n");
	}
	llv_buf_free(&d);
}

static int cmd_status(const struct opts *o)
{
	struct store s;
	struct vcard_card card;
	struct llv_buf d = LLV_BUF_INIT;
	static const uint8_t select_piv[] = { 0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00 };

	if (store_load(&s, o->state) != 0)
		return EXIT_STATE;
	vcard_card_init(&card);
	vcard_card_add_applet(&card, &piv_applet_ops, s.piv);
	vcard_card_power_on(&card);
	printf("Archivo de estado: %s\n", o->state);
	uint16_t sw = card_cmd(&card, select_piv, sizeof(select_piv), &d);
	if (sw != SW_OK) {
		fail("el applet PIV no respondió a SELECT (SW %04X)", sw);
		llv_buf_free(&d);
		vcard_card_free(&card);
		store_free(&s);
		return EXIT_ERROR;
	}
	print_retries(&card, PIV_REF_PIN, "PIN");
	print_retries(&card, PIV_REF_PUK, "PUK");
	print_slot(&card, PIV_KEY_AUTH, 0x05, "autenticación");
	print_slot(&card, PIV_KEY_SIGN, 0x0A, "firma digital");
	print_slot(&card, PIV_KEY_KEYMGMT, 0x0B, "gestión de llaves");
	print_slot(&card, PIV_KEY_CARDAUTH, 0x01, "autenticación de tarjeta");

	struct ctap_auth *auth = fido_applet_auth(s.fido);
	const uint8_t *aaguid = ctap_auth_aaguid(auth);
	printf("FIDO: AAGUID ");
	for (size_t i = 0; aaguid && i < 16; i++)
		printf("%02x%s", aaguid[i], (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
	if (ctap_auth_has_pin(auth))
		printf(", PIN fijado (%u intentos restantes)", ctap_auth_pin_retries(auth));
	else
		printf(", sin PIN");
	printf(", %zu credenciales residentes\n", ctap_auth_resident_count(auth));

	char reply[256];
	char *ctl = ctl_path_for(o->state);
	if (ctl && vpcd_link_control(ctl, "stats", reply, sizeof(reply)) == 0)
		printf("En ejecución: %s\n", reply);
	else
		printf("En ejecución: no\n");
	free(ctl);
	llv_buf_free(&d);
	vcard_card_free(&card);
	store_free(&s);
	return EXIT_OK;
}

/* ---- fido-attestation-ca ------------------------------------------------- */

static int cmd_fido_attestation_ca(const struct opts *o)
{
	struct store s;
	size_t len = 0;

	if (store_load(&s, o->state) != 0)
		return EXIT_STATE;
	const uint8_t *der = ctap_auth_attestation_ca(fido_applet_auth(s.fido), &len);
	const uint8_t *p = der;
	X509 *x = der ? d2i_X509(NULL, &p, (long)len) : NULL;
	int rc = EXIT_OK;
	if (x == NULL || PEM_write_X509(stdout, x) != 1) {
		fail("el applet FIDO no tiene una CA de atestación legible");
		rc = EXIT_ERROR;
	}
	X509_free(x);
	store_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;

	llv_log_init(PROG);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (parse_opts(argc - 1, argv + 1, &o) != 0) {
		fprintf(stderr, "Use «" PROG " --help» para ver las opciones.\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(&o);
	if (strcmp(cmd, "provision") == 0)
		return cmd_provision(&o);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&o);
	if (strcmp(cmd, "insert") == 0 || strcmp(cmd, "remove") == 0 ||
	    strcmp(cmd, "stats") == 0 || strcmp(cmd, "stop") == 0)
		return cmd_control(&o, cmd);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(&o);
	if (strcmp(cmd, "fido-attestation-ca") == 0)
		return cmd_fido_attestation_ca(&o);
	fail("orden desconocida «%s»", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
