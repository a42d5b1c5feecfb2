/* `llavero sign FILE [--cms] [--out F] [--pin-file P] [--json]`: signs the
 * SHA-256 of FILE with the signing key (PIV 9C or the e.firma), the PIN asked
 * through pinentry (or read from --pin-file). Raw PKCS#1 v1.5 / ECDSA (DER)
 * signature in FILE.sig, or a detached CMS (CAdES-BES) in FILE.p7s that
 * `openssl cms -verify -binary -inform DER -content FILE` checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agent.h"
#include "base64url.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "%s", T("uso: llavero sign ARCHIVO [--cms] [--out SALIDA] [--pin-file P] [--json] [--module RUTA]\n"
			   "  Firma el SHA-256 de ARCHIVO con la llave de firma (9C o la e.firma).\n"
			   "  --cms: CMS separado (CAdES-BES) en ARCHIVO.p7s; si no, firma cruda en ARCHIVO.sig.\n",
			   "usage: llavero sign FILE [--cms] [--out OUTPUT] [--pin-file P] [--json] [--module PATH]\n"
			   "  Signs the SHA-256 of FILE with the signing key (9C or the e.firma).\n"
			   "  --cms: detached CMS (CAdES-BES) in FILE.p7s; else a raw signature in FILE.sig.\n"));
}

static int hash_file(const char *path, uint8_t out[32])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	uint8_t buf[65536];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	return ok ? 0 : -1;
}

static int exit_for(int err)
{
	switch (err) {
	case AGENT_ERR_NO_TOKEN: return CLI_NO_DEVICE;
	case AGENT_ERR_PIN_INCORRECT:
	case AGENT_ERR_PIN_BLOCKED: return CLI_PIN;
	case AGENT_ERR_CANCELLED:
	case AGENT_ERR_TIMEOUT: return CLI_CANCELLED;
	case AGENT_ERR_BAD_ARG:
	case AGENT_ERR_NOT_SUPPORTED: return CLI_USAGE;
	default: return CLI_ERR;
	}
}

int cli_sign_main(int argc, char **argv)
{
	const char *file = NULL, *outp = NULL;
	bool cms = false, json = false, reset = false;
	struct agent_ctx a;
	agent_ctx_init(&a);
	if (agent_config_load(&a.cfg) != 0)
		return CLI_ERR;
	int rc = CLI_USAGE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cms") == 0)
			cms = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			outp = argv[++i];
		else if (strcmp(argv[i], "--pin-file") == 0 && i + 1 < argc)
			a.pin_file = argv[++i];
		else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
			if (cli_agent_module_opt(&a.cfg, argv[++i], &reset) != 0)
				goto out;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			rc = CLI_OK;
			goto out;
		} else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			usage(stderr);
			goto out;
		}
	}
	if (!file) {
		usage(stderr);
		goto out;
	}
	uint8_t h[32];
	if (hash_file(file, h) != 0) {
		fprintf(stderr, "llavero: %s: %s\n", T("no se puede leer", "cannot read"), file);
		rc = CLI_ERR;
		goto out;
	}
	char defout[4096];
	if (!outp) {
		int w = snprintf(defout, sizeof(defout), "%s%s", file, cms ? ".p7s" : ".sig");
		if (w < 0 || (size_t)w >= sizeof(defout)) {
			rc = CLI_USAGE;
			goto out;
		}
		outp = defout;
	}
	a.subject = file;
	json_t *res = NULL;
	int err = agent_op_sign(&a, NULL, NULL, 0, "SHA-256", h, sizeof(h), cms, &res);
	if (err != AGENT_OK) {
		if (json) {
			json_t *e = agent_error_json(err, a.detail, a.retries_left);
			char *t = json_dumps(e, JSON_COMPACT);
			printf("%s\n", t ? t : "{}");
			free(t);
			json_decref(e);
		} else {
			fprintf(stderr, "llavero: %s\n", a.detail[0] ? a.detail : agent_err_message(err));
		}
		rc = exit_for(err);
		goto out;
	}
	const char *sig_b64 = json_string_value(json_object_get(res, "signature"));
	uint8_t *sig = NULL;
	size_t sl = 0;
	FILE *f = NULL;
	if (!sig_b64 || llv_base64_decode(sig_b64, strlen(sig_b64), &sig, &sl) != 0 ||
	    !(f = fopen(outp, "wb")) || fwrite(sig, 1, sl, f) != sl || fclose(f) != 0) {
		fprintf(stderr, "llavero: %s: %s\n", T("no se pudo escribir", "cannot write"), outp);
		free(sig);
		json_decref(res);
		rc = CLI_ERR;
		goto out;
	}
	free(sig);
	if (json) {
		json_object_set_new(res, "file", json_string(file));
		json_object_set_new(res, "output", json_string(outp));
		json_object_del(res, "signature");
		char *t = json_dumps(res, JSON_COMPACT);
		printf("%s\n", t ? t : "{}");
		free(t);
	} else {
		printf("%s %s: %s\n", cms ? T("Firma CMS (CAdES-BES) de", "CMS (CAdES-BES) signature of")
					  : T("Firma de", "Signature of"), file, outp);
	}
	json_decref(res);
	rc = CLI_OK;
out:
	agent_ctx_clear(&a);
	return rc;
}
