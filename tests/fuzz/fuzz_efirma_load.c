/* libFuzzer target: the e.firma .cer and .key loaders on arbitrary bytes.
 *
 * The first byte picks what the rest is: even -> a certificate, odd -> an
 * encrypted key (then decrypted with SAT's test password, and, when a
 * certificate parsed from the same input's second half, matched against it).
 * A raw seed file (no selector byte) also works: both loaders run on the
 * whole input when it starts with 0x30 (a DER SEQUENCE). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "efirma_files.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	llv_log_set_level(LLV_LOG_ERROR);
	return 0;
}

/* PBKDF2 cost is bounded so one input cannot stall the fuzzer. */
#define FUZZ_MAX_ITER 4096

static void try_key(const uint8_t *data, size_t size, const struct efirma_cert *cert)
{
	struct efirma_key_file k;
	if (efirma_key_parse(data, size, FUZZ_MAX_ITER, &k) != EFIRMA_OK)
		return;
	EVP_PKEY *pkey = NULL;
	if (efirma_key_decrypt(&k, "12345678a", 9, &pkey) == EFIRMA_OK) {
		if (cert)
			(void)efirma_key_matches_cert(pkey, cert);
		EVP_PKEY_free(pkey);
	}
	efirma_key_file_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct efirma_cert c;

	if (size == 0)
		return 0;
	if (data[0] == 0x30) {
		/* A whole seed file: run both loaders on it. */
		if (efirma_cert_parse(data, size, &c) == EFIRMA_OK)
			efirma_cert_free(&c);
		try_key(data, size, NULL);
		return 0;
	}
	data++;
	size--;
	if (!(data[-1] & 1)) {
		if (efirma_cert_parse(data, size, &c) == EFIRMA_OK)
			efirma_cert_free(&c);
		return 0;
	}
	/* Odd: key in the first half, certificate in the second. */
	size_t half = size / 2;
	bool have_cert = efirma_cert_parse(data + half, size - half, &c) == EFIRMA_OK;
	try_key(data, have_cert ? half : size, have_cert ? &c : NULL);
	if (have_cert)
		efirma_cert_free(&c);
	return 0;
}
