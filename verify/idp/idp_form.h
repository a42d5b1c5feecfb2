/* application/x-www-form-urlencoded parsing (request bodies and query
 * strings): names and values percent-decoded, '+' as space. A name that
 * appears twice makes the whole form invalid (OAuth parameters must not
 * repeat, RFC 6749 3.1). Bounded: at most IDP_FORM_MAX fields. */
#ifndef LLAVERO_IDP_FORM_H
#define LLAVERO_IDP_FORM_H

#include <stddef.h>

#define IDP_FORM_MAX 32

struct idp_form {
	size_t n;
	char *names[IDP_FORM_MAX];
	char *values[IDP_FORM_MAX];
};

/* 0, or -1 on malformed input (bad %-escape, NUL, repeated name, too many
 * fields, out of memory); *f is empty on error. */
int idp_form_parse(const char *text, size_t len, struct idp_form *f);
const char *idp_form_get(const struct idp_form *f, const char *name);
void idp_form_free(struct idp_form *f);

#endif
