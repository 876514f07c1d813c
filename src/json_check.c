/*
 * json_check: strict JSON syntax check by recursive descent. See
 * json_check.h. Recursion is bounded by JSON_CHECK_DEPTH.
 */
#include "json_check.h"

#include <stdint.h>
#include <string.h>

struct scan {
    const unsigned char *p;
    const unsigned char *end;
    int has_nul;
};

static int value(struct scan *s, int depth);

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int eat(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == (unsigned char)c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* One UTF-8 sequence of two to four bytes: no overlongs, no surrogates,
 * nothing above U+10FFFF. */
static int utf8_sequence(struct scan *s)
{
    unsigned char c = *s->p;
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0xC2 || c > 0xF4 || s->end - s->p < len)
        return -1;
    uint32_t cp = c & (0x3F >> (len - 1));
    for (int i = 1; i < len; i++) {
        if ((s->p[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s->p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    s->p += len;
    return 0;
}

static int hex4(struct scan *s, unsigned *out)
{
    unsigned v = 0;
    if (s->end - s->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s->p[i];
        unsigned d = c >= '0' && c <= '9'   ? c - '0'
                     : c >= 'a' && c <= 'f' ? c - 'a' + 10
                     : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                            : 16;
        if (d == 16)
            return -1;
        v = v << 4 | d;
    }
    s->p += 4;
    *out = v;
    return 0;
}

/* After "\u": a code unit, and its low surrogate when it is a high one. */
static int unicode_escape(struct scan *s)
{
    unsigned u, low;
    if (hex4(s, &u) < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return -1;
    s->has_nul |= u == 0;
    if (u < 0xD800 || u > 0xDBFF)
        return 0;
    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
        return -1;
    s->p += 2;
    return hex4(s, &low) == 0 && low >= 0xDC00 && low <= 0xDFFF ? 0 : -1;
}

static int string(struct scan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c >= 0x80) {
            if (utf8_sequence(s) < 0)
                return -1;
            continue;
        }
        s->p++;
        if (c != '\\')
            continue;
        if (s->p == s->end)
            return -1;
        c = *s->p++;
        if (c == 'u') {
            if (unicode_escape(s) < 0)
                return -1;
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return -1;
        }
    }
    return -1;
}

static int digits(struct scan *s)
{
    const unsigned char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > start ? 0 : -1;
}

static int number(struct scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (digits(s) < 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) < 0)
            return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (digits(s) < 0)
            return -1;
    }
    return 0;
}

static int literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

/* Members of an object (is_object) or elements of an array, after the
 * opening bracket. */
static int container(struct scan *s, int depth, int is_object)
{
    char close = is_object ? '}' : ']';
    s->p++;
    if (depth >= JSON_CHECK_DEPTH)
        return -1;
    if (eat(s, close))
        return 0;
    do {
        if (is_object) {
            skip_ws(s);
            if (s->p == s->end || *s->p != '"' || string(s) < 0 || !eat(s, ':'))
                return -1;
        }
        if (value(s, depth + 1) < 0)
            return -1;
    } while (eat(s, ','));
    return eat(s, close) ? 0 : -1;
}

static int value(struct scan *s, int depth)
{
    skip_ws(s);
    if (s->p == s->end)
        return -1;
    switch (*s->p) {
    case '{': return container(s, depth, 1);
    case '[': return container(s, depth, 0);
    case '"': return string(s);
    case 't': return literal(s, "true");
    case 'f': return literal(s, "false");
    case 'n': return literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return number(s);
        return -1;
    }
}

int json_check(const char *text, size_t n)
{
    struct scan s = {(const unsigned char *)text, (const unsigned char *)text + n, 0};
    if (value(&s, 0) < 0)
        return -1;
    skip_ws(&s);
    if (s.p != s.end)
        return -1;
    return s.has_nul ? JSON_CHECK_HAS_NUL : 0;
}
