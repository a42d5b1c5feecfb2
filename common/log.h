/* Logging for every Llavero program: one line per event on stderr,
 * "prog: level: message". The level comes from LLAVERO_LOG (error, warn, info,
 * debug; default warn) or llv_log_set_level. Never pass secrets here. */
#ifndef LLAVERO_COMMON_LOG_H
#define LLAVERO_COMMON_LOG_H

#include <stddef.h>
#include <stdint.h>

enum llv_log_level { LLV_LOG_ERROR = 0, LLV_LOG_WARN, LLV_LOG_INFO, LLV_LOG_DEBUG };

/* Sets the program name shown in each line and reads LLAVERO_LOG. */
void llv_log_init(const char *prog);
void llv_log_set_level(enum llv_log_level level);
enum llv_log_level llv_log_get_level(void);
void llv_log(enum llv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Logs "label: <hex>" at debug level (truncated after 512 bytes). */
void llv_log_hex(enum llv_log_level level, const char *label, const uint8_t *data, size_t len);

#define llv_error(...) llv_log(LLV_LOG_ERROR, __VA_ARGS__)
#define llv_warn(...)  llv_log(LLV_LOG_WARN, __VA_ARGS__)
#define llv_info(...)  llv_log(LLV_LOG_INFO, __VA_ARGS__)
#define llv_debug(...) llv_log(LLV_LOG_DEBUG, __VA_ARGS__)

#endif
