/*
 * log: one line per event on stderr, where nginx, supervisor or journald
 * collect it. It owns the level and the line format; callers decide what is
 * worth saying, and must never pass a token, a secret or a request body.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *s);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The line a worker logs for each request, at info level. A busy worker
 * batches them and writes them when it runs out of work (log_flush), up to
 * PIPE_BUF bytes at once: one write instead of one per request. Every other
 * line flushes the batch first. */
void log_request(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_flush(void);

/* in, made fit to be one key=value field of a line: control bytes,
 * backslash, space, quote and '=' as \xNN; cut to cap, NUL included. */
void log_escape_field(char *out, size_t cap, const char *in);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
