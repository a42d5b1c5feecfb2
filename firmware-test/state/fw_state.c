/* State files of the simulated tokens. Layout (all integers big-endian):
 *
 *   "LLVS"                magic
 *   u16 version           FW_STATE_VERSION
 *   u16 flags             0
 *   u32 total             size of the whole file, trailer included
 *   char kind[16]         NUL-padded ("vcard", "vkey")
 *   u16 n_sections
 *   n_sections x { char name[16] NUL-padded; u32 len; len bytes }
 *   SHA-256 of every byte above
 *
 * Reasons for refusing a file are user-facing, hence in Spanish. */
#include "fw_state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "atomic_file.h"
#include "log.h"

#define FW_STATE_MAGIC "LLVS"
#define FW_STATE_VERSION 1
#define NAME_LEN 16
#define HEADER_LEN (4 + 2 + 2 + 4 + NAME_LEN + 2)
#define TRAILER_LEN SHA256_DIGEST_LENGTH

static void copy_name(char dst[NAME_LEN], const char *src)
{
	memset(dst, 0, NAME_LEN);
	if (src) {
		size_t n = strnlen(src, NAME_LEN - 1);
		memcpy(dst, src, n);
	}
}

void fw_state_init(struct fw_state *st, const char *kind)
{
	memset(st, 0, sizeof(*st));
	copy_name(st->kind, kind);
}

void fw_state_free(struct fw_state *st)
{
	for (size_t i = 0; i < st->n_sections; i++)
		llv_buf_free(&st->sections[i].data);
	st->n_sections = 0;
}

const struct llv_buf *fw_state_find(const struct fw_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_sections; i++)
		if (strncmp(st->sections[i].name, name, NAME_LEN) == 0)
			return &st->sections[i].data;
	return NULL;
}

struct llv_buf *fw_state_section(struct fw_state *st, const char *name)
{
	const struct llv_buf *found = fw_state_find(st, name);
	if (found)
		return (struct llv_buf *)found;
	if (st->n_sections >= FW_STATE_MAX_SECTIONS || name == NULL || name[0] == '\0' ||
	    strlen(name) >= NAME_LEN)
		return NULL;
	struct fw_state_section *s = &st->sections[st->n_sections++];
	copy_name(s->name, name);
	/* Sections hold keys and PINs: wipe them when they move or go. */
	llv_buf_init_secret(&s->data);
	return &s->data;
}

static int serialize(const struct fw_state *st, struct llv_buf *out)
{
	size_t total = HEADER_LEN + TRAILER_LEN;

	for (size_t i = 0; i < st->n_sections; i++) {
		if (!llv_buf_ok(&st->sections[i].data))
			return -1;
		total += NAME_LEN + 4 + st->sections[i].data.len;
	}
	if (total > FW_STATE_MAX_SIZE)
		return -1;

	llv_buf_put(out, FW_STATE_MAGIC, 4);
	llv_buf_put_be16(out, FW_STATE_VERSION);
	llv_buf_put_be16(out, 0);
	llv_buf_put_be32(out, (uint32_t)total);
	llv_buf_put(out, st->kind, NAME_LEN);
	llv_buf_put_be16(out, (uint16_t)st->n_sections);
	for (size_t i = 0; i < st->n_sections; i++) {
		const struct fw_state_section *s = &st->sections[i];
		llv_buf_put(out, s->name, NAME_LEN);
		llv_buf_put_be32(out, (uint32_t)s->data.len);
		llv_buf_put(out, s->data.data, s->data.len);
	}
	if (!llv_buf_ok(out) || out->len + TRAILER_LEN != total)
		return -1;
	uint8_t digest[TRAILER_LEN];
	SHA256(out->data, out->len, digest);
	llv_buf_put(out, digest, sizeof(digest));
	return llv_buf_ok(out) ? 0 : -1;
}

int fw_state_save(const struct fw_state *st, const char *path)
{
	struct llv_buf out;
	int rc;

	llv_buf_init_secret(&out);
	if (serialize(st, &out) != 0) {
		llv_error("state %s: cannot serialise (too large or out of memory)", path);
		llv_buf_free(&out);
		errno = ENOMEM;
		return -1;
	}
	rc = llv_atomic_write(path, out.data, out.len, 0600);
	if (rc != 0) {
		int e = errno;
		llv_error("state %s: write failed: %s", path, strerror(e));
		errno = e;
	}
	llv_buf_free(&out);
	return rc;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool name_ok(const uint8_t name[NAME_LEN])
{
	/* NUL-terminated inside the field, printable, and NUL-padded. */
	size_t n = strnlen((const char *)name, NAME_LEN);
	if (n == 0 || n == NAME_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x21 || name[i] > 0x7E)
			return false;
	for (size_t i = n; i < NAME_LEN; i++)
		if (name[i] != 0)
			return false;
	return true;
}

static int parse(struct fw_state *st, const uint8_t *d, size_t len, char *err, size_t errlen)
{
	struct llv_reader r;

	if (len < 4 || memcmp(d, FW_STATE_MAGIC, 4) != 0) {
		set_err(err, errlen, "no es un archivo de estado de Llavero (firma inicial desconocida)");
		return -1;
	}
	if (len < HEADER_LEN + TRAILER_LEN) {
		set_err(err, errlen, "archivo truncado (%zu bytes)", len);
		return -1;
	}
	llv_reader_init(&r, d + 4, len - 4);
	uint16_t version = llv_reader_be16(&r);
	uint16_t flags = llv_reader_be16(&r);
	uint32_t total = llv_reader_be32(&r);
	if (version != FW_STATE_VERSION) {
		set_err(err, errlen, "versión de formato desconocida (%u; se admite la %u)",
			(unsigned)version, (unsigned)FW_STATE_VERSION);
		return -1;
	}
	if (len < total) {
		set_err(err, errlen, "archivo truncado (%zu de %lu bytes)", len, (unsigned long)total);
		return -1;
	}
	if (len > total) {
		set_err(err, errlen, "archivo dañado (%zu bytes sobrantes al final)", len - (size_t)total);
		return -1;
	}
	uint8_t digest[TRAILER_LEN];
	SHA256(d, len - TRAILER_LEN, digest);
	if (CRYPTO_memcmp(digest, d + len - TRAILER_LEN, TRAILER_LEN) != 0) {
		set_err(err, errlen, "archivo dañado (suma de verificación incorrecta)");
		return -1;
	}
	if (flags != 0) {
		set_err(err, errlen, "archivo con opciones desconocidas (0x%04x)", (unsigned)flags);
		return -1;
	}
	const uint8_t *kind = llv_reader_take(&r, NAME_LEN);
	if (kind == NULL || !name_ok(kind)) {
		set_err(err, errlen, "archivo dañado (tipo ilegible)");
		return -1;
	}
	if (strncmp((const char *)kind, st->kind, NAME_LEN) != 0) {
		set_err(err, errlen, "el archivo es el estado de otro tipo de dispositivo (\"%s\", se esperaba \"%s\")",
			(const char *)kind, st->kind);
		return -1;
	}
	uint16_t n = llv_reader_be16(&r);
	if (n > FW_STATE_MAX_SECTIONS) {
		set_err(err, errlen, "archivo dañado (%u secciones)", (unsigned)n);
		return -1;
	}
	/* The body without its trailer. */
	r.left -= TRAILER_LEN;
	struct fw_state tmp;
	fw_state_init(&tmp, st->kind);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *name = llv_reader_take(&r, NAME_LEN);
		uint32_t slen = llv_reader_be32(&r);
		const uint8_t *data = llv_reader_ok(&r) ? llv_reader_take(&r, slen) : NULL;
		if (name == NULL || data == NULL || !name_ok(name)) {
			set_err(err, errlen, "archivo dañado (sección %u ilegible)", i);
			fw_state_free(&tmp);
			return -1;
		}
		if (fw_state_find(&tmp, (const char *)name) != NULL) {
			set_err(err, errlen, "archivo dañado (sección \"%s\" repetida)", (const char *)name);
			fw_state_free(&tmp);
			return -1;
		}
		struct llv_buf *b = fw_state_section(&tmp, (const char *)name);
		if (b)
			llv_buf_put(b, data, slen);
		if (b == NULL || !llv_buf_ok(b)) {
			set_err(err, errlen, "sin memoria para leer el estado");
			fw_state_free(&tmp);
			return -1;
		}
	}
	if (!llv_reader_ok(&r) || r.left != 0) {
		set_err(err, errlen, "archivo dañado (datos sobrantes tras las secciones)");
		fw_state_free(&tmp);
		return -1;
	}
	fw_state_free(st);
	*st = tmp;
	return 0;
}

int fw_state_load(struct fw_state *st, const char *path, char *err, size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;

	if (llv_read_file(path, FW_STATE_MAX_SIZE, &data, &len) != 0) {
		int e = errno;
		if (e == ENOENT)
			set_err(err, errlen, "no existe (use «llavero-vcard init» para crearlo)");
		else if (e == EFBIG)
			set_err(err, errlen, "archivo demasiado grande (más de %u bytes)", FW_STATE_MAX_SIZE);
		else
			set_err(err, errlen, "no se pudo leer: %s", strerror(e));
		errno = e;
		return -1;
	}
	int rc = parse(st, data, len, err, errlen);
	OPENSSL_cleanse(data, len);
	free(data);
	if (rc != 0)
		errno = EINVAL;
	return rc;
}
