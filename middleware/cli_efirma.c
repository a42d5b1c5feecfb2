/* `llavero efirma import --cer C --key K [--password-file P] [--mgmt-key HEX]
 * [--reader NAME] [--slots 9c,9a]`: moves an e.firma from its files onto a
 * PIV card. The PKCS#11 module cannot write keys, so this speaks APDUs through
 * pcsclite, as yubico-piv-tool does: SELECT PIV, mutual authentication with
 * the 3DES management key (default 0102..08 x3), the YubiKey IMPORT
 * ASYMMETRIC KEY (INS FE) of the decrypted key, and PUT DATA of the
 * certificate, for 9C (signing) and 9A (authentication). The decrypted key
 * lives only in wiped memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "buf.h"
#include "cli.h"
#include "hex.h"
#include "log.h"
#include "secmem.h"
#include "tlv.h"

static const uint8_t default_mgmt[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
					  1, 2, 3, 4, 5, 6, 7, 8 };

struct card {
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
};

/* Sends one command (chained in 255-byte pieces); the response data (after
 * 61xx GET RESPONSE) in resp, the status word returned (0 on failure). */
static unsigned apdu(struct card *c, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
		     size_t len, struct llv_buf *resp)
{
	size_t off = 0;
	uint8_t cmd[261], rbuf[258];
	unsigned sw = 0;
	do {
		size_t chunk = len - off > 255 ? 255 : len - off;
		bool last = off + chunk == len;
		size_t n = 0;
		cmd[n++] = last ? 0x00 : 0x10;
		cmd[n++] = ins;
		cmd[n++] = p1;
		cmd[n++] = p2;
		if (chunk) {
			cmd[n++] = (uint8_t)chunk;
			memcpy(cmd + n, data + off, chunk);
			n += chunk;
		}
		if (last)
			cmd[n++] = 0x00;
		DWORD rl = sizeof(rbuf);
		const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
		LONG r = SCardTransmit(c->h, pci, cmd, (DWORD)n, NULL, rbuf, &rl);
		llv_wipe(cmd, sizeof(cmd));
		if (r != SCARD_S_SUCCESS || rl < 2)
			return 0;
		sw = (unsigned)rbuf[rl - 2] << 8 | rbuf[rl - 1];
		if (resp)
			llv_buf_put(resp, rbuf, rl - 2);
		off += chunk;
		if (!last && sw != 0x9000)
			return sw;
	} while (off < len);
	while ((sw >> 8) == 0x61) {
		uint8_t gr[5] = { 0x00, 0xC0, 0x00, 0x00, (uint8_t)sw };
		DWORD rl = sizeof(rbuf);
		const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
		if (SCardTransmit(c->h, pci, gr, 5, NULL, rbuf, &rl) != SCARD_S_SUCCESS || rl < 2)
			return 0;
		sw = (unsigned)rbuf[rl - 2] << 8 | rbuf[rl - 1];
		if (resp)
			llv_buf_put(resp, rbuf, rl - 2);
	}
	return sw;
}

static int des3(const uint8_t key[24], const uint8_t in[8], uint8_t out[8], int enc)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0, ok = x && EVP_CipherInit_ex(x, EVP_des_ede3_ecb(), NULL, key, NULL, enc) == 1 &&
			 EVP_CIPHER_CTX_set_padding(x, 0) == 1 && EVP_CipherUpdate(x, out, &l, in, 8) == 1 &&
			 l == 8;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* Mutual authentication with the 3DES management key (SP 800-73-4 / Yubico). */
static int mgmt_auth(struct card *c, const uint8_t key[24])
{
	struct llv_buf r = LLV_BUF_INIT;
	const uint8_t req[] = { 0x7C, 0x02, 0x80, 0x00 };
	unsigned sw = apdu(c, 0x87, 0x03, 0x9B, req, sizeof(req), &r);
	int rc = -1;
	if (sw != 0x9000 || r.len != 12 || r.data[0] != 0x7C || r.data[2] != 0x80 || r.data[3] != 8) {
		llv_error("efirma import: management key witness: SW %04X", sw);
		llv_buf_free(&r);
		return -1;
	}
	uint8_t msg[22] = { 0x7C, 0x14, 0x80, 0x08 }, chal[8], expect[8];
	if (des3(key, r.data + 4, msg + 4, 0) != 0 || RAND_bytes(chal, 8) != 1)
		goto out;
	msg[12] = 0x81;
	msg[13] = 0x08;
	memcpy(msg + 14, chal, 8);
	llv_buf_clear(&r);
	sw = apdu(c, 0x87, 0x03, 0x9B, msg, sizeof(msg), &r);
	if (sw != 0x9000 || r.len != 12 || des3(key, chal, expect, 1) != 0 ||
	    memcmp(r.data + 4, expect, 8) != 0) {
		llv_error("efirma import: management key refused (SW %04X)", sw);
		goto out;
	}
	rc = 0;
out:
	llv_buf_free(&r);
	return rc;
}

/* IMPORT ASYMMETRIC KEY data for an RSA key: 01 p 02 q 03 dP 04 dQ 05 qInv. */
static int rsa_import_data(EVP_PKEY *pk, struct llv_buf *out, uint8_t *alg)
{
	const char *names[] = { OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
				OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
				OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	int bits = EVP_PKEY_get_bits(pk);
	*alg = bits == 2048 ? 0x07 : bits == 1024 ? 0x06 : bits == 3072 ? 0x05 : bits == 4096 ? 0x16 : 0;
	if (!*alg)
		return -1;
	size_t half = (size_t)bits / 16;
	uint8_t *v = llv_secure_alloc(half);
	int rc = v ? 0 : -1;
	for (int i = 0; rc == 0 && i < 5; i++) {
		BIGNUM *bn = NULL;
		if (EVP_PKEY_get_bn_param(pk, names[i], &bn) != 1 || BN_bn2binpad(bn, v, (int)half) < 0)
			rc = -1;
		else
			llv_tlv_put(out, (uint8_t)(i + 1), v, half);
		BN_clear_free(bn);
	}
	llv_secure_free(v, half);
	return rc == 0 && llv_buf_ok(out) ? 0 : -1;
}

static EVP_PKEY *decrypt_key(const char *path, const char *pass)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	X509_SIG *p8 = d2i_PKCS8_fp(f, NULL);
	fclose(f);
	PKCS8_PRIV_KEY_INFO *inf = p8 ? PKCS8_decrypt(p8, pass, (int)strlen(pass)) : NULL;
	EVP_PKEY *pk = inf ? EVP_PKCS82PKEY(inf) : NULL;
	PKCS8_PRIV_KEY_INFO_free(inf);
	X509_SIG_free(p8);
	return pk;
}

static void usage(FILE *f)
{
	fprintf(f, "%s", T("uso: llavero efirma import --cer ARCHIVO.cer --key ARCHIVO.key [--password-file P]\n"
			   "        [--mgmt-key HEX] [--reader NOMBRE] [--slots 9c,9a]\n"
			   "  Pasa la e.firma de sus archivos a una tarjeta PIV (ranuras 9C y 9A).\n",
			   "usage: llavero efirma import --cer FILE.cer --key FILE.key [--password-file P]\n"
			   "        [--mgmt-key HEX] [--reader NAME] [--slots 9c,9a]\n"
			   "  Moves the e.firma from its files onto a PIV card (slots 9C and 9A).\n"));
}

int cli_efirma_main(int argc, char **argv)
{
	const char *cer = NULL, *keyf = NULL, *passf = NULL, *mgmt_hex = NULL, *reader = NULL;
	const char *slots = "9c,9a";
	if (argc < 2 || strcmp(argv[1], "import") != 0) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--cer") == 0 && v) cer = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && v) keyf = argv[++i];
		else if (strcmp(argv[i], "--password-file") == 0 && v) passf = argv[++i];
		else if (strcmp(argv[i], "--mgmt-key") == 0 && v) mgmt_hex = argv[++i];
		else if (strcmp(argv[i], "--reader") == 0 && v) reader = argv[++i];
		else if (strcmp(argv[i], "--slots") == 0 && v) slots = argv[++i];
		else { usage(stderr); return CLI_USAGE; }
	}
	if (!cer || !keyf) {
		usage(stderr);
		return CLI_USAGE;
	}
	uint8_t mgmt[24];
	memcpy(mgmt, default_mgmt, sizeof(mgmt));
	if (mgmt_hex && llv_hex_decode(mgmt_hex, mgmt, sizeof(mgmt)) != 24) {
		fprintf(stderr, "llavero: %s\n", T("--mgmt-key: 48 dígitos hexadecimales (3DES)",
						  "--mgmt-key: 48 hex digits (3DES)"));
		return CLI_USAGE;
	}
	FILE *cf = fopen(cer, "rb");
	X509 *x = cf ? d2i_X509_fp(cf, NULL) : NULL;
	if (cf)
		fclose(cf);
	if (!x) {
		fprintf(stderr, "llavero: %s: %s\n", T("certificado ilegible", "unreadable certificate"), cer);
		return CLI_ERR;
	}
	char *pass = llv_secure_alloc(256);
	int rc = CLI_ERR;
	EVP_PKEY *pk = NULL;
	struct llv_buf data = LLV_BUF_INIT, certobj = LLV_BUF_INIT;
	llv_buf_init_secret(&data);
	struct card c = { 0 };
	bool connected = false;
	if (!pass)
		goto out;
	if ((passf ? cli_pin_from_file(passf, pass, 256)
		   : cli_pin_from_tty(T("Contraseña de la clave privada (.key): ", "Private key (.key) password: "),
				      pass, 256)) != 0) {
		rc = CLI_USAGE;
		goto out;
	}
	pk = decrypt_key(keyf, pass);
	llv_wipe(pass, 256);
	if (!pk || X509_check_private_key(x, pk) != 1) {
		fprintf(stderr, "llavero: %s\n", T("contraseña incorrecta, o la .key no corresponde al .cer",
						  "wrong password, or the .key does not match the .cer"));
		rc = CLI_PIN;
		goto out;
	}
	uint8_t alg = 0;
	if (!EVP_PKEY_is_a(pk, "RSA") || rsa_import_data(pk, &data, &alg) != 0) {
		fprintf(stderr, "llavero: %s\n", T("solo llaves RSA de 1024 a 4096 bits", "only RSA keys of 1024 to 4096 bits"));
		goto out;
	}
	unsigned char *der = NULL;
	int dl = i2d_X509(x, &der);
	struct llv_buf inner = LLV_BUF_INIT;
	llv_tlv_put(&inner, 0x70, der, (size_t)dl);
	llv_buf_put(&inner, (const uint8_t *)"\x71\x01\x00\xFE\x00", 5);
	OPENSSL_free(der);

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c.ctx) != SCARD_S_SUCCESS) {
		fprintf(stderr, "llavero: %s\n", T("pcscd no responde", "pcscd is not answering"));
		rc = CLI_NO_DEVICE;
		llv_buf_free(&inner);
		goto out;
	}
	char readers[4096];
	DWORD rlen = sizeof(readers);
	if (!reader) {
		if (SCardListReaders(c.ctx, NULL, readers, &rlen) != SCARD_S_SUCCESS) {
			fprintf(stderr, "llavero: %s\n", T("no hay lectores", "no readers"));
			rc = CLI_NO_DEVICE;
			llv_buf_free(&inner);
			goto out;
		}
		reader = readers;
	}
	if (SCardConnect(c.ctx, reader, SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			 &c.h, &c.proto) != SCARD_S_SUCCESS) {
		fprintf(stderr, "llavero: %s: %s\n", T("no hay tarjeta en el lector", "no card in the reader"), reader);
		rc = CLI_NO_DEVICE;
		llv_buf_free(&inner);
		goto out;
	}
	connected = true;
	const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00 };
	if (apdu(&c, 0xA4, 0x04, 0x00, aid, sizeof(aid), NULL) != 0x9000) {
		fprintf(stderr, "llavero: %s\n", T("la tarjeta no es PIV", "the card is not PIV"));
		llv_buf_free(&inner);
		goto out;
	}
	if (mgmt_auth(&c, mgmt) != 0) {
		fprintf(stderr, "llavero: %s\n", T("la tarjeta rechazó la llave de administración (--mgmt-key)",
						  "the card refused the management key (--mgmt-key)"));
		rc = CLI_PIN;
		llv_buf_free(&inner);
		goto out;
	}
	rc = CLI_OK;
	char list[32];
	snprintf(list, sizeof(list), "%s", slots);
	for (char *save = NULL, *s = strtok_r(list, ",", &save); s && rc == CLI_OK; s = strtok_r(NULL, ",", &save)) {
		uint8_t slot;
		const uint8_t *tag;
		if (strcmp(s, "9c") == 0 || strcmp(s, "9C") == 0) {
			slot = 0x9C;
			tag = (const uint8_t *)"\x5F\xC1\x0A";
		} else if (strcmp(s, "9a") == 0 || strcmp(s, "9A") == 0) {
			slot = 0x9A;
			tag = (const uint8_t *)"\x5F\xC1\x05";
		} else {
			rc = CLI_USAGE;
			break;
		}
		unsigned sw = apdu(&c, 0xFE, alg, slot, data.data, data.len, NULL);
		if (sw != 0x9000) {
			fprintf(stderr, "llavero: IMPORT %02X: SW %04X\n", slot, sw);
			rc = CLI_ERR;
			break;
		}
		llv_buf_clear(&certobj);
		llv_tlv_put(&certobj, 0x5C, tag, 3);
		llv_tlv_put(&certobj, 0x53, inner.data, inner.len);
		sw = apdu(&c, 0xDB, 0x3F, 0xFF, certobj.data, certobj.len, NULL);
		if (sw != 0x9000) {
			fprintf(stderr, "llavero: PUT DATA %02X: SW %04X\n", slot, sw);
			rc = CLI_ERR;
			break;
		}
		printf("%s %02X.\n", T("Llave y certificado importados en la ranura",
					"Key and certificate imported into slot"), slot);
	}
	llv_buf_free(&inner);
	if (rc == CLI_OK)
		printf("%s", T("\nTu e.firma ya está en la tarjeta. Para retirar los archivos:\n"
			       "  1. Comprueba que funciona: llavero tokens y llavero sign ARCHIVO.\n"
			       "  2. Guarda una copia de respaldo del .cer y la .key en un medio fuera de línea\n"
			       "     (una memoria USB cifrada en un lugar seguro): si pierdes la tarjeta, solo\n"
			       "     con ellos (o renovando en el SAT) recuperas tu e.firma.\n"
			       "  3. Borra las demás copias de la computadora: shred -u ARCHIVO.key\n"
			       "     (y vacía la papelera o las copias en la nube).\n",
			       "\nYour e.firma is on the card now. To retire the files:\n"
			       "  1. Check it works: llavero tokens and llavero sign FILE.\n"
			       "  2. Keep one backup of the .cer and .key offline (an encrypted USB drive in a\n"
			       "     safe place): if you lose the card, only they (or renewing at SAT) bring\n"
			       "     your e.firma back.\n"
			       "  3. Delete the other copies from the computer: shred -u FILE.key\n"
			       "     (and empty the trash or cloud copies).\n"));
out:
	if (connected)
		SCardDisconnect(c.h, SCARD_RESET_CARD);
	if (c.ctx)
		SCardReleaseContext(c.ctx);
	llv_wipe(mgmt, sizeof(mgmt));
	llv_buf_free(&data);
	llv_buf_free(&certobj);
	EVP_PKEY_free(pk);
	X509_free(x);
	if (pass)
		llv_secure_free(pass, 256);
	return rc;
}
