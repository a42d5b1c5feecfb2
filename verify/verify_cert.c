/* End-entity certificate profile checks. */
#include "verify_cert.h"
#include "verify_errors.h"

#include "log.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

X509 *verify_cert_parse_der(const uint8_t *der, size_t len)
{
	if (!der || len == 0 || len > (1u << 20))
		return NULL;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	/* Make sure extensions decode (X509_get_key_usage relies on it). */
	if (x && X509_check_purpose(x, -1, 0) != 1) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

int verify_cert_dates(X509 *cert, time_t now)
{
	if (!cert)
		return VERIFY_ERR_ARGUMENT;
	if (now == 0)
		now = time(NULL);
	int c = X509_cmp_time(X509_get0_notBefore(cert), &now);
	if (c == 0)
		return VERIFY_ERR_CERT_PARSE;
	if (c > 0)
		return VERIFY_ERR_CERT_NOT_YET_VALID;
	c = X509_cmp_time(X509_get0_notAfter(cert), &now);
	if (c == 0)
		return VERIFY_ERR_CERT_PARSE;
	if (c < 0)
		return VERIFY_ERR_CERT_EXPIRED;
	return VERIFY_OK;
}

bool verify_cert_is_csd(X509 *cert)
{
	if (!cert)
		return false;
	if (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE)
		return false;
	return X509_NAME_get_index_by_NID(X509_get_subject_name(cert),
					  NID_organizationalUnitName, -1) >= 0;
}

int verify_cert_auth_profile(X509 *cert, bool efirma_only, bool require_client_auth)
{
	if (!cert)
		return VERIFY_ERR_ARGUMENT;
	if (efirma_only && verify_cert_is_csd(cert)) {
		llv_info("verify: CSD certificate refused for authentication");
		return VERIFY_ERR_CERT_CSD;
	}
	uint32_t flags = X509_get_extension_flags(cert);
	if (flags & EXFLAG_INVALID)
		return VERIFY_ERR_CERT_PARSE;
	if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))
		return VERIFY_ERR_CERT_KEY_USAGE;
	if (require_client_auth &&
	    (!(flags & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT)))
		return VERIFY_ERR_CERT_EKU;
	return VERIFY_OK;
}
