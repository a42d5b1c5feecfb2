/* application/x-www-form-urlencoded parsing. */
#include "idp_form.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes text[0..len) into a malloc'd string; NULL on a bad escape or NUL. */
static char *decode(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (len - i < 3)
				goto bad;
			hi = hexval(text[i + 1]);
			lo = hexval(text[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int idp_form_parse(const char *text, size_t len, struct idp_form *f)
{
	size_t i = 0;
	memset(f, 0, sizeof(*f));
	while (i < len) {
		size_t end = i, eq;
		char *name, *value;
		while (end < len && text[end] != '&')
			end++;
		if (end > i) {
			eq = i;
			while (eq < end && text[eq] != '=')
				eq++;
			if (f->n >= IDP_FORM_MAX)
				goto fail;
			name = decode(text + i, eq - i);
			value = decode(text + (eq < end ? eq + 1 : end), eq < end ? end - eq - 1 : 0);
			if (!name || !value || idp_form_get(f, name)) {
				free(name);
				free(value);
				goto fail;
			}
			f->names[f->n] = name;
			f->values[f->n] = value;
			f->n++;
		}
		i = end + 1;
	}
	return 0;
fail:
	idp_form_free(f);
	return -1;
}

const char *idp_form_get(const struct idp_form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->names[i], name))
			return f->values[i];
	return NULL;
}

void idp_form_free(struct idp_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	memset(f, 0, sizeof(*f));
}
