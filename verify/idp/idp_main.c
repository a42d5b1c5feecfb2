/* llavero-idp --listen 127.0.0.1:PORT --db FILE [--config FILE] [--port-file FILE]
 *
 * A development identity server shaped like Llave MX. PORT 0 picks a free
 * port (written to --port-file). Without --config it serves
 * http://localhost:PORT with RP ID "localhost" and the demo portal. */
#include "idp.h"

#include "log.h"
#include "verify_errors.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
	fprintf(stderr,
		"uso: llavero-idp --listen 127.0.0.1:PUERTO --db ARCHIVO [--config ARCHIVO] [--port-file ARCHIVO]\n"
		"  --listen     dirección IPv4 y puerto (0: uno libre)\n"
		"  --db         base de datos SQLite (se crea si no existe)\n"
		"  --config     configuración JSON (orígenes, RP ID, AC de confianza, clientes)\n"
		"  --port-file  escribe ahí el puerto en uso\n");
}

int main(int argc, char **argv)
{
	const char *listen_at = NULL, *db = NULL, *config = NULL, *port_file = NULL;
	struct idp_ctx ctx;
	int rc = 1;

	llv_log_init("llavero-idp");
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
			return 0;
		}
		if (!v) {
			usage();
			return 2;
		}
		if (!strcmp(a, "--listen"))
			listen_at = v;
		else if (!strcmp(a, "--db"))
			db = v;
		else if (!strcmp(a, "--config"))
			config = v;
		else if (!strcmp(a, "--port-file"))
			port_file = v;
		else {
			usage();
			return 2;
		}
	}
	if (!listen_at || !db) {
		usage();
		return 2;
	}

	memset(&ctx, 0, sizeof(ctx));
	idp_config_defaults(&ctx.cfg);
	if (config && idp_config_load(&ctx.cfg, config))
		goto out;
	if (ctx.cfg.n_trusted_cas) {
		if (!(ctx.trust = verify_trust_new()))
			goto out;
		for (size_t i = 0; i < ctx.cfg.n_trusted_cas; i++) {
			int vrc = verify_trust_add_file(ctx.trust, ctx.cfg.trusted_cas[i]);
			if (vrc != VERIFY_OK) {
				llv_error("config: AC de confianza %s: %s", ctx.cfg.trusted_cas[i],
					  verify_strerror(vrc));
				goto out;
			}
		}
	}
	if (idp_ocsp_init(&ctx))
		goto out;
	if (!ctx.ocsp_enabled && ctx.trust)
		llv_warn("config: sin ocsp_url no se revisa la revocación de las e.firma");
	if (!(ctx.store = idp_store_sqlite_open(db)))
		goto out;
	idp_nonce_store_init(&ctx);
	rc = idp_http_serve(&ctx, listen_at, port_file) ? 1 : 0;
out:
	idp_ocsp_cleanup(&ctx);
	idp_store_close(ctx.store);
	verify_trust_free(ctx.trust);
	idp_config_free(&ctx.cfg);
	return rc;
}
