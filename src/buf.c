/*
 * buf: growable byte buffer and JSON string escaping. See buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    /* A worker's buffers are reused for every request: one grown for a
     * large answer is given back rather than kept for the small ones. */
    if (b->cap > BUF_KEEP)
        buf_free(b);
    b->len = 0;
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (extra < b->cap - b->len)
        return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len <= extra) {
        if (cap > ((size_t)-1) / 2)
            log_fatal("buf: size overflow");
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL)
        log_fatal("buf: out of memory (%zu bytes)", cap);
    b->data = data;
    b->cap = cap;
}

void buf_append(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        log_fatal("buf_printf: bad format");
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
}

void buf_int(struct buf *b, int64_t v)
{
    char digits[20], *p = digits + sizeof digits;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf_append(b, "-", 1);
    buf_append(b, p, (size_t)(digits + sizeof digits - p));
}

void buf_json_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;

    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, sizeof esc);
        }
        }
    }
    buf_append(b, s + start, n - start);
    buf_append(b, "\"", 1);
}

const char *buf_cstr(struct buf *b)
{
    buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}
