/* `llavero tokens [--json] [--module PATH]...`: the certificates the agent
 * sees on every token (cards in PC/SC readers, e.firma files), with holder,
 * RFC, and what each may be used for: an e.firma signs in and signs, a CSD
 * (sello digital) never signs in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "agent.h"
#include "base64url.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "%s", T("uso: llavero tokens [--json] [--module RUTA]...\n"
			   "  Lista los certificados de tarjetas y e.firma: titular, RFC y usos.\n",
			   "usage: llavero tokens [--json] [--module PATH]...\n"
			   "  Lists the certificates on cards and e.firma files: holder, RFC and uses.\n"));
}

/* Options shared by tokens and sign: --module replaces the configured list. */
int cli_agent_module_opt(struct agent_config *c, const char *path, bool *reset)
{
	if (!*reset) {
		for (size_t i = 0; i < c->n_modules; i++)
			free(c->modules[i]);
		c->n_modules = 0;
		*reset = true;
	}
	if (c->n_modules >= AGENT_MAX_MODULES)
		return -1;
	c->modules[c->n_modules] = strdup(path);
	return c->modules[c->n_modules++] ? 0 : -1;
}

static const char *kind(const struct agent_cert *c)
{
	if (c->csd)
		return "csd";
	if (c->for_auth && c->for_sign)
		return "efirma";
	if (c->for_auth)
		return "autenticacion";
	if (c->for_sign)
		return "firma";
	return "otro";
}

static void not_after(const struct agent_cert *c, char *out, size_t cap)
{
	const uint8_t *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	struct tm tm;
	out[0] = '\0';
	if (x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		strftime(out, cap, "%Y-%m-%d", &tm);
	X509_free(x);
}

int cli_tokens_main(int argc, char **argv)
{
	bool json = false, reset = false;
	struct agent_config cfg;
	if (agent_config_load(&cfg) != 0)
		return CLI_ERR;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
			if (cli_agent_module_opt(&cfg, argv[++i], &reset) != 0) {
				agent_config_free(&cfg);
				return CLI_USAGE;
			}
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			agent_config_free(&cfg);
			return CLI_OK;
		} else {
			usage(stderr);
			agent_config_free(&cfg);
			return CLI_USAGE;
		}
	}
	struct agent_p11 *p = NULL;
	struct agent_cert *l = NULL;
	size_t n = 0;
	int rc = agent_p11_open(&cfg, &p);
	if (rc == AGENT_OK)
		rc = agent_p11_certs(p, &l, &n);
	if (rc != AGENT_OK) {
		fprintf(stderr, "llavero: %s\n", T("no se pudo cargar ningún módulo PKCS#11",
						  "no PKCS#11 module could be loaded"));
		agent_p11_close(p);
		agent_config_free(&cfg);
		return CLI_NO_DEVICE;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct agent_cert *c = &l[i];
		char exp[16];
		not_after(c, exp, sizeof(exp));
		if (json) {
			char *b = llv_base64_encode(c->der, c->der_len);
			json_t *uses = json_array();
			if (c->for_auth)
				json_array_append_new(uses, json_string("authenticate"));
			if (c->for_sign)
				json_array_append_new(uses, json_string("sign"));
			json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:s}",
				"module", agent_p11_module_path(p, c->module),
				"slot", (json_int_t)c->slot, "token", c->token_label, "label", c->label,
				"name", c->name, "rfc", c->rfc, "curp", c->curp, "kind", kind(c),
				"uses", uses, "expired", c->expired, "notAfter", exp,
				"certificate", b ? b : ""));
			free(b);
			continue;
		}
		printf("%s %lu: %s\n", T("Ranura", "Slot"), c->slot, c->token_label);
		printf("  %s: %s\n", T("Certificado", "Certificate"), c->label);
		printf("  %s: %s\n", T("Titular", "Holder"), c->name[0] ? c->name : "-");
		printf("  RFC: %s%s%s\n", c->rfc[0] ? c->rfc : "-", c->curp[0] ? "  CURP: " : "", c->curp);
		const char *k = c->csd ? T("CSD (sello digital): no sirve para iniciar sesión",
					   "CSD (digital seal): not for signing in")
			      : c->for_auth && c->for_sign ? T("e.firma: inicia sesión y firma",
							       "e.firma: signs in and signs")
			      : c->for_auth ? T("autenticación (inicia sesión)", "authentication (signs in)")
			      : c->for_sign ? T("firma de documentos", "document signing")
			      : T("otro uso", "other use");
		printf("  %s: %s\n", T("Uso", "Use"), k);
		printf("  %s: %s%s\n", T("Vence", "Expires"), exp,
		       c->expired ? T(" (VENCIDO)", " (EXPIRED)") : "");
	}
	if (json) {
		json_t *root = json_pack("{s:o}", "certificates", arr);
		char *t = json_dumps(root, JSON_INDENT(2));
		printf("%s\n", t ? t : "{}");
		free(t);
		json_decref(root);
	} else {
		json_decref(arr);
		if (n == 0)
			printf("%s\n", T("No se encontraron certificados (¿tarjeta insertada? ¿pcscd en marcha?)",
					 "No certificates found (card inserted? pcscd running?)"));
	}
	agent_certs_free(l, n);
	agent_p11_close(p);
	agent_config_free(&cfg);
	return n ? CLI_OK : CLI_NO_DEVICE;
}
