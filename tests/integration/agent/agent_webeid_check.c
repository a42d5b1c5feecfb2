/* agent-webeid-check TOKEN_FILE ORIGIN NONCE CA_FILE...: verifies a Web eID
 * token from llavero-agent with libllavero-verify, as a server would.
 * Prints "ok NAME RFC" and exits 0, or prints the error id and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_errors.h"
#include "verify_trust.h"
#include "verify_webeid.h"

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s TOKEN_FILE ORIGIN NONCE CA_FILE...\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 2;
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct verify_trust *t = verify_trust_new();
	for (int i = 4; i < argc; i++)
		if (verify_trust_add_file(t, argv[i]) != VERIFY_OK) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 2;
		}
	struct verify_webeid_opts o = { .origin = argv[2], .nonce = argv[3], .trust = t };
	struct verify_webeid_result r;
	int rc = verify_webeid_token(buf, n, &o, &r);
	if (rc != VERIFY_OK) {
		printf("%s\n", verify_error_id(rc));
		verify_trust_free(t);
		return 1;
	}
	printf("ok %s %s %s\n", r.algorithm, r.identity.rfc, r.format);
	verify_webeid_result_clear(&r);
	verify_trust_free(t);
	return 0;
}
