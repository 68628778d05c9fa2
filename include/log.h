/* log.h — one line per event on stderr, never personal data.
 *
 * Callers pass route patterns, counts and codes; never a name, a card
 * number being verified, a password or a token. */
#ifndef CIVICARD_LOG_H
#define CIVICARD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* t (unix seconds) as "2026-11-23T12:00:00Z" into out. */
void iso8601(long long t, char out[21]);

#define log_info(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
