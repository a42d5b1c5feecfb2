/* Error identifiers and messages of libllavero-verify. */
#include "verify_errors.h"

#include <stddef.h>
#include <string.h>

struct verify_err_entry {
	int code;
	const char *id;
	const char *es;
	const char *en;
};

static const struct verify_err_entry entries[] = {
#define VERIFY_X_ENTRY(e, v, id, es, en) { v, id, es, en },
	VERIFY_ERROR_LIST(VERIFY_X_ENTRY)
#undef VERIFY_X_ENTRY
};

static const struct verify_err_entry *find(int code)
{
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (entries[i].code == code)
			return &entries[i];
	return NULL;
}

const char *verify_error_id(int code)
{
	const struct verify_err_entry *e = find(code);
	return e ? e->id : "unknown-error";
}

const char *verify_strerror(int code)
{
	const struct verify_err_entry *e = find(code);
	return e ? e->es : "Error desconocido";
}

const char *verify_strerror_en(int code)
{
	const struct verify_err_entry *e = find(code);
	return e ? e->en : "Unknown error";
}

const char *verify_strerror_lang(int code, const char *lang)
{
	if (lang && strncmp(lang, "en", 2) == 0)
		return verify_strerror_en(code);
	return verify_strerror(code);
}
