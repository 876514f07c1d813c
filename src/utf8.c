/*
 * utf8: code point counting and White_Space trimming. See utf8.h.
 */
#include "utf8.h"

#include <stdint.h>

size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

/* The Unicode White_Space property (PropList.txt), all of it. */
static int is_white_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Decodes the code point starting at s[0]; returns its length in bytes. */
static size_t decode_at(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80 || n < 2) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        *cp = ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((s[0] & 0xF0) == 0xE0 && n >= 3) {
        *cp = ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    *cp = 0x10000; /* four-byte sequences hold no white space */
    return n >= 4 ? 4 : n;
}

/* Start of the code point that ends at s[end - 1]. */
static size_t start_before(const unsigned char *s, size_t end)
{
    size_t i = end - 1;
    while (i > 0 && (s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

void utf8_trim(const char **sp, size_t *np)
{
    const unsigned char *s = (const unsigned char *)*sp;
    size_t begin = 0, end = *np;
    uint32_t cp;

    while (begin < end) {
        size_t len = decode_at(s + begin, end - begin, &cp);
        if (!is_white_space(cp))
            break;
        begin += len;
    }
    while (end > begin) {
        size_t start = start_before(s, end);
        if (start < begin)
            start = begin;
        decode_at(s + start, end - start, &cp);
        if (!is_white_space(cp))
            break;
        end = start;
    }
    *sp = (const char *)s + begin;
    *np = end - begin;
}
