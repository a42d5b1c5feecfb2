/* Identity extraction from SAT e.firma certificates. */
#include "verify_identity.h"
#include "verify_errors.h"

#include "hex.h"
#include "log.h"

#include <openssl/objects.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Copies the first value of attribute nid (UTF-8) into out; -1 when absent,
 * empty, too long or not convertible. */
static int get_attr(X509_NAME *name, int nid, char *out, size_t outlen)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	if (idx < 0)
		return -1;
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n <= 0 || (size_t)n >= outlen || memchr(utf8, 0, (size_t)n)) {
		OPENSSL_free(utf8);
		return -1;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Splits "A / B" into a and b (trimmed); b is empty when there is no '/'. */
static int split_slash(const char *in, char *a, size_t alen, char *b, size_t blen)
{
	const char *slash = strchr(in, '/');
	size_t la = slash ? (size_t)(slash - in) : strlen(in);
	const char *rest = slash ? slash + 1 : "";
	if (la >= alen || strlen(rest) >= blen || (slash && strchr(rest, '/')))
		return -1;
	memcpy(a, in, la);
	a[la] = '\0';
	strcpy(b, rest);
	trim(a);
	trim(b);
	return 0;
}

/* RFC characters: A-Z, digits, '&' and 'Ñ' (UTF-8 C3 91). Returns the
 * number of characters, or -1. */
static int rfc_chars(const char *s, int *letters_prefix)
{
	int count = 0, prefix = 0;
	bool in_prefix = true;
	for (const unsigned char *p = (const unsigned char *)s; *p; count++) {
		bool letter;
		if (p[0] == 0xC3 && p[1] == 0x91) {
			letter = true;
			p += 2;
		} else if (isupper(*p) || *p == '&') {
			letter = true;
			p++;
		} else if (isdigit(*p)) {
			letter = false;
			p++;
		} else {
			return -1;
		}
		if (in_prefix && letter)
			prefix++;
		else
			in_prefix = false;
	}
	*letters_prefix = prefix;
	return count;
}

int verify_identity_rfc_valid(const char *rfc)
{
	int prefix;
	int n = rfc ? rfc_chars(rfc, &prefix) : -1;
	if (n != 12 && n != 13)
		return 0;
	if (prefix != n - 9)   /* 3 or 4 letters, then YYMMDD, then 3 */
		return 0;
	const char *p = rfc + strlen(rfc) - 9;
	for (int i = 0; i < 6; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

int verify_identity_curp_valid(const char *curp)
{
	static const char shape[] = "LLLLDDDDDDLLLLLLXD";   /* L letter, D digit, X either */
	if (!curp || strlen(curp) != 18)
		return 0;
	for (int i = 0; i < 18; i++) {
		unsigned char c = (unsigned char)curp[i];
		if (shape[i] == 'L' && !isupper(c))
			return 0;
		if (shape[i] == 'D' && !isdigit(c))
			return 0;
		if (shape[i] == 'X' && !isupper(c) && !isdigit(c))
			return 0;
	}
	return 1;
}

static void serial_text(X509 *cert, char *out, size_t outlen)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	int n = ASN1_STRING_length(sn);
	bool printable = n > 0 && (size_t)n < outlen;
	for (int i = 0; printable && i < n; i++)
		printable = isdigit(d[i]);
	if (printable) {
		memcpy(out, d, (size_t)n);
		out[n] = '\0';
	} else if (n > 0 && (size_t)n * 2 < outlen) {
		llv_hex_encode(d, (size_t)n, out);
	} else {
		out[0] = '\0';
	}
}

int verify_identity_from_cert(X509 *cert, struct verify_identity *out)
{
	if (!cert || !out)
		return VERIFY_ERR_ARGUMENT;
	memset(out, 0, sizeof(*out));
	X509_NAME *subj = X509_get_subject_name(cert);
	char uid[64], sn[64];

	if (get_attr(subj, NID_name, out->name, sizeof(out->name)) != 0 &&
	    get_attr(subj, NID_commonName, out->name, sizeof(out->name)) != 0)
		return VERIFY_ERR_IDENTITY_NAME;
	trim(out->name);
	if (out->name[0] == '\0')
		return VERIFY_ERR_IDENTITY_NAME;

	if (get_attr(subj, NID_x500UniqueIdentifier, uid, sizeof(uid)) != 0 ||
	    split_slash(uid, out->rfc, sizeof(out->rfc), out->rep_rfc, sizeof(out->rep_rfc)) != 0 ||
	    !verify_identity_rfc_valid(out->rfc) ||
	    (out->rep_rfc[0] && !verify_identity_rfc_valid(out->rep_rfc)))
		return VERIFY_ERR_IDENTITY_RFC;

	int prefix;
	out->persona = rfc_chars(out->rfc, &prefix) == 12 ? VERIFY_PERSONA_MORAL
							   : VERIFY_PERSONA_FISICA;
	char curp_a[24], curp_b[24];
	if (get_attr(subj, NID_serialNumber, sn, sizeof(sn)) != 0 ||
	    split_slash(sn, curp_a, sizeof(curp_a), curp_b, sizeof(curp_b)) != 0)
		return VERIFY_ERR_IDENTITY_CURP;
	if (out->persona == VERIFY_PERSONA_FISICA) {
		if (out->rep_rfc[0] || curp_b[0] || !verify_identity_curp_valid(curp_a))
			return out->rep_rfc[0] ? VERIFY_ERR_IDENTITY_RFC : VERIFY_ERR_IDENTITY_CURP;
		strcpy(out->curp, curp_a);
	} else {
		/* " / CURP_REP"; the representative's CURP is the one after '/'. */
		if (curp_a[0] || (curp_b[0] && !verify_identity_curp_valid(curp_b)))
			return VERIFY_ERR_IDENTITY_CURP;
		strcpy(out->rep_curp, curp_b);
	}
	if (get_attr(subj, NID_pkcs9_emailAddress, out->email, sizeof(out->email)) != 0)
		out->email[0] = '\0';
	serial_text(cert, out->serial, sizeof(out->serial));
	return VERIFY_OK;
}
