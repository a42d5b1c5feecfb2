/* Logging (see log.h).
 *
 * Modules loaded into other programs (the PKCS#11 module in Firefox, say)
 * never call llv_log_init, so the level is read from LLAVERO_LOG on first use
 * as well. Each line is written with one call, so lines from different
 * threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"

#define LOG_LINE_MAX 2048
#define LOG_HEX_MAX 512

/* -1 until the level has been read from the environment or set. */
static atomic_int log_level = -1;
static char log_prog[64] = "llavero";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static enum llv_log_level level_from_env(void)
{
	const char *v = getenv("LLAVERO_LOG");

	if (v == NULL || *v == '\0')
		return LLV_LOG_WARN;
	for (int i = LLV_LOG_ERROR; i <= LLV_LOG_DEBUG; i++)
		if (strcasecmp(v, level_names[i]) == 0)
			return (enum llv_log_level)i;
	if (strcasecmp(v, "warning") == 0)
		return LLV_LOG_WARN;
	fprintf(stderr, "%s: warn: LLAVERO_LOG=%.32s is not one of error, warn, "
		"info, debug; using warn\n", log_prog, v);
	return LLV_LOG_WARN;
}

void llv_log_init(const char *prog)
{
	if (prog != NULL) {
		const char *slash = strrchr(prog, '/');

		snprintf(log_prog, sizeof(log_prog), "%s", slash ? slash + 1 : prog);
	}
	atomic_store(&log_level, (int)level_from_env());
}

void llv_log_set_level(enum llv_log_level level)
{
	if (level > LLV_LOG_DEBUG)
		level = LLV_LOG_DEBUG;
	atomic_store(&log_level, (int)level);
}

enum llv_log_level llv_log_get_level(void)
{
	int level = atomic_load(&log_level);

	if (level < 0) {
		int expected = -1;

		level = (int)level_from_env();
		/* Another thread may have set it meanwhile: keep theirs. */
		if (!atomic_compare_exchange_strong(&log_level, &expected, level))
			level = expected;
	}
	return (enum llv_log_level)level;
}

/* Messages quote outside input (file names, card answers); a newline or an
 * escape sequence in it must not forge a log line or drive the terminal. */
static void neutralise_controls(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void llv_log(enum llv_log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int head, n;
	size_t used;
	va_list ap;

	if (level > llv_log_get_level())
		return;
	head = snprintf(line, sizeof(line), "%s: %s: ", log_prog,
			level_names[level <= LLV_LOG_DEBUG ? level : LLV_LOG_DEBUG]);
	if (head < 0 || (size_t)head >= sizeof(line))
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	neutralise_controls(line + head);
	if ((size_t)head + (size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 5, "...", 4);    /* say it was cut */
	used = strlen(line);
	line[used] = '\n';
	fwrite(line, 1, used + 1, stderr);
}

void llv_log_hex(enum llv_log_level level, const char *label,
		 const uint8_t *data, size_t len)
{
	char hex[2 * LOG_HEX_MAX + 1];
	size_t shown = len < LOG_HEX_MAX ? len : LOG_HEX_MAX;

	if (level > llv_log_get_level())
		return;
	llv_hex_encode(data, shown, hex);
	llv_log(level, "%s: %s%s (%zu bytes)", label, hex,
		shown < len ? "..." : "", len);
}
