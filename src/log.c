/*
 * log: leveled one-line messages on stderr. See log.h.
 *
 * Each line is formatted in full, then written with one write(2), so that
 * lines of different workers sharing a pipe or file never interleave. A
 * message's control bytes are escaped, so one message is one line.
 */
#include "log.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void log_set_level(enum log_level level)
{
    current_level = level;
}

int log_enabled(enum log_level level)
{
    return level <= current_level;
}

/* Request lines waiting for log_flush. PIPE_BUF bounds one write: on the
 * pipe that supervisor or a shell gives all workers, such a write is never
 * interleaved with another process's. */
static char batch[PIPE_BUF];
static size_t batch_len;

static void write_all(const char *s, size_t len)
{
    ssize_t w = write(STDERR_FILENO, s, len);
    (void)w; /* nowhere left to report a failed log write */
}

void log_flush(void)
{
    if (batch_len > 0)
        write_all(batch, batch_len);
    batch_len = 0;
}

/* Writes one line now, or adds it to the batch. Any line written now
 * flushes the batch first, so lines keep their order. */
static void emit(const char *line, size_t len, bool batched)
{
    if (!batched || batch_len + len > sizeof batch)
        log_flush();
    if (!batched) {
        write_all(line, len);
        return;
    }
    memcpy(batch + batch_len, line, len);
    batch_len += len;
}

/* Appends msg to line[len..cap), each control byte (and, for a field,
 * backslash, space, quote and '=') as \xNN: whatever a peer managed to
 * put in a message stays on its one line and cannot pass for another line
 * or field. Returns the new length, whole escapes only. */
static size_t append_escaped(char *line, size_t len, size_t cap, const char *msg, bool field)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        bool plain = *p >= 0x20 && *p != 0x7f &&
                     !(field && (*p == '\\' || *p == ' ' || *p == '"' || *p == '='));
        if (len + (plain ? 1 : 4) > cap)
            break;
        if (plain) {
            line[len++] = (char)*p;
            continue;
        }
        line[len++] = '\\';
        line[len++] = 'x';
        line[len++] = hex[*p >> 4];
        line[len++] = hex[*p & 15];
    }
    return len;
}

void log_escape_field(char *out, size_t cap, const char *in)
{
    if (cap > 0)
        out[append_escaped(out, 0, cap - 1, in, true)] = '\0';
}

static void log_line(enum log_level level, bool batched, const char *fmt, va_list ap)
{
    char line[2048], msg[2048];
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%d] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), level_names[level], (int)getpid());
    if (n < 0 || vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        return;
    /* truncated or not: one whole line */
    size_t len = append_escaped(line, (size_t)n, sizeof line - 1, msg, false);
    line[len++] = '\n';
    emit(line, len, batched);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, false, fmt, ap);
    va_end(ap);
}

void log_request(const char *fmt, ...)
{
    if (!log_enabled(LOG_INFO))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_INFO, true, fmt, ap);
    va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_ERROR, false, fmt, ap);
    va_end(ap);
    abort();
}
