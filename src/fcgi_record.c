/*
 * fcgi_record: one request's records, checked. See fcgi_record.h.
 *
 * The scan starts again from the first byte each time more has arrived:
 * a request from nginx is whole at the first look, and what a slower
 * peer sends is bounded by FCGI_WINDOW.
 *
 * What is accepted is what nginx sends: FCGI_BEGIN_REQUEST for the
 * responder role, FCGI_PARAMS records up to an empty one, FCGI_STDIN
 * records up to an empty one, all with the request's id. Anything else
 * (management records, other roles, interleaved requests) libfcgi would
 * parse too, so it is refused.
 */
#include "fcgi_record.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { VERSION_1 = 1, BEGIN_REQUEST = 1, PARAMS = 4, STDIN = 5, RESPONDER = 1, HEADER = 8 };

struct record {
    int type;
    unsigned id;
    size_t content, padding;
};

struct scan {
    const unsigned char *p;
    size_t n;
    unsigned char params[FCGI_PARAMS_MAX]; /* the parameter stream so far */
    size_t params_len;
};

static bool read_header(const unsigned char *h, struct record *r)
{
    r->type = h[1];
    r->id = (unsigned)h[2] << 8 | h[3];
    r->content = (size_t)h[4] << 8 | h[5];
    r->padding = h[6];
    return h[0] == VERSION_1 && r->id != 0;
}

/* A pair's length: one byte, or four with the high bit set. 0: not all
 * of it is here yet. */
static int read_length(const unsigned char *s, size_t len, size_t *k, size_t *out)
{
    if (*k >= len)
        return 0;
    if (s[*k] < 0x80) {
        *out = s[(*k)++];
        return 1;
    }
    if (len - *k < 4)
        return 0;
    *out =
        (size_t)(s[*k] & 0x7f) << 24 | (size_t)s[*k + 1] << 16 | (size_t)s[*k + 2] << 8 | s[*k + 3];
    *k += 4;
    return 1;
}

/* Every pair must fit in what the stream holds (done: the stream is
 * whole) and in FCGI_PARAMS_MAX, the moment its lengths are known. */
static enum fcgi_scan check_pairs(const unsigned char *s, size_t len, bool done)
{
    size_t k = 0, name, value;

    while (k < len) {
        if (!read_length(s, len, &k, &name) || !read_length(s, len, &k, &value))
            return done ? FCGI_BAD : FCGI_MORE;
        if (name > FCGI_PARAMS_MAX || value > FCGI_PARAMS_MAX - name ||
            name + value > FCGI_PARAMS_MAX - k)
            return FCGI_BAD;
        if (name + value > len - k)
            return done ? FCGI_BAD : FCGI_MORE;
        k += name + value;
    }
    return FCGI_READY;
}

/* Not whole yet: worth waiting for if what is missing fits the window. */
static enum fcgi_scan wait_for(size_t end)
{
    return end <= FCGI_WINDOW ? FCGI_MORE : FCGI_BAD;
}

static enum fcgi_scan scan_begin(const struct scan *s, size_t *off, unsigned *id)
{
    struct record r;

    if (s->n < HEADER)
        return FCGI_MORE;
    if (!read_header(s->p, &r) || r.type != BEGIN_REQUEST || r.content != 8)
        return FCGI_BAD;
    size_t end = HEADER + r.content + r.padding;
    if (s->n < end)
        return FCGI_MORE;
    if (((unsigned)s->p[HEADER] << 8 | s->p[HEADER + 1]) != RESPONDER)
        return FCGI_BAD;
    *off = end;
    *id = r.id;
    return FCGI_READY;
}

/* The parameter records, up to the empty one. */
static enum fcgi_scan scan_params(struct scan *s, size_t *off, unsigned id)
{
    struct record r;

    for (;;) {
        if (s->n - *off < HEADER)
            return wait_for(*off + HEADER);
        if (!read_header(s->p + *off, &r) || r.type != PARAMS || r.id != id)
            return FCGI_BAD;
        size_t start = *off + HEADER, end = start + r.content + r.padding;
        size_t here = s->n - start < r.content ? s->n - start : r.content;
        if (r.content > FCGI_PARAMS_MAX - s->params_len)
            return FCGI_BAD;
        memcpy(s->params + s->params_len, s->p + start, here);
        s->params_len += here;
        enum fcgi_scan pairs = check_pairs(s->params, s->params_len, r.content == 0);
        if (pairs == FCGI_BAD)
            return FCGI_BAD;
        if (s->n < end)
            return wait_for(end);
        *off = end;
        if (r.content == 0)
            return FCGI_READY;
    }
}

/* The body's records, up to the empty one or FCGI_STDIN_SEEN bytes. */
static enum fcgi_scan scan_stdin(const struct scan *s, size_t off, unsigned id)
{
    struct record r;
    size_t seen = 0;

    for (;;) {
        if (s->n - off < HEADER)
            return wait_for(off + HEADER);
        if (!read_header(s->p + off, &r) || r.type != STDIN || r.id != id)
            return FCGI_BAD;
        if (r.content == 0)
            return FCGI_READY;
        size_t start = off + HEADER, end = start + r.content + r.padding;
        seen += s->n - start < r.content ? s->n - start : r.content;
        if (seen > FCGI_STDIN_SEEN)
            return FCGI_READY;
        if (s->n < end)
            return wait_for(end);
        off = end;
    }
}

enum fcgi_scan fcgi_record_scan(const unsigned char *p, size_t n)
{
    static struct scan s; /* 64 KiB: not on the stack */
    size_t off = 0;
    unsigned id = 0;
    enum fcgi_scan v;

    s.p = p;
    s.n = n;
    s.params_len = 0;
    if ((v = scan_begin(&s, &off, &id)) != FCGI_READY ||
        (v = scan_params(&s, &off, id)) != FCGI_READY)
        return v;
    return scan_stdin(&s, off, id);
}
