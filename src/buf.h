/*
 * buf: a growable byte buffer, the one way this program builds text
 * (response headers, JSON bodies). It owns its memory; it knows nothing of
 * what the bytes mean beyond JSON string escaping.
 *
 * Allocation failure aborts the process (as Redis does): a worker that cannot
 * allocate a few kilobytes cannot answer anyway, and the master replaces it.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

/* The largest allocation buf_reset keeps for reuse. */
#define BUF_KEEP ((size_t)64 * 1024)

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empties b, keeping its memory unless it grew past BUF_KEEP. */
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal: the hot path's numbers, without printf's cost. */
void buf_int(struct buf *b, int64_t v);
/* Appends s as a quoted JSON string; s is UTF-8 of length n. */
void buf_json_string(struct buf *b, const char *s, size_t n);
/* Keeps data NUL-terminated after len, for functions that need a C string. */
const char *buf_cstr(struct buf *b);

#endif
