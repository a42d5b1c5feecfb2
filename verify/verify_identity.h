/* Who a SAT e.firma certificate names: holder name (2.5.4.41, else CN), RFC
 * (2.5.4.45 x500UniqueIdentifier), CURP (2.5.4.5 serialNumber), persona
 * física or moral. A persona moral's certificate carries
 * "RFC_EMPRESA / RFC_REPRESENTANTE" and " / CURP_REPRESENTANTE". */
#ifndef LLAVERO_VERIFY_IDENTITY_H
#define LLAVERO_VERIFY_IDENTITY_H

#include <openssl/x509.h>

enum verify_persona {
	VERIFY_PERSONA_FISICA = 1,
	VERIFY_PERSONA_MORAL = 2,
};

struct verify_identity {
	enum verify_persona persona;
	char name[256];      /* UTF-8 */
	char rfc[16];        /* the holder's (company's for a persona moral) */
	char curp[24];       /* persona física only; empty for a moral */
	char rep_rfc[16];    /* persona moral: legal representative; else empty */
	char rep_curp[24];   /* persona moral: legal representative; else empty */
	char serial[48];     /* certificate number (the serial's ASCII text) or hex */
	char email[256];     /* emailAddress, may be empty */
};

/* Fills *out. VERIFY_OK, VERIFY_ERR_IDENTITY_NAME, _RFC or _CURP. */
int verify_identity_from_cert(X509 *cert, struct verify_identity *out);
/* Format checks: RFC of a persona física (13) or moral (12), CURP (18). */
int verify_identity_rfc_valid(const char *rfc);
int verify_identity_curp_valid(const char *curp);

#endif
