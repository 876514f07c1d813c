/*
 * utf8: the few Unicode facts the service needs about already-valid UTF-8:
 * code point counting and trimming of White_Space. It does not validate;
 * json-c does that when it parses a body.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* Number of code points in valid UTF-8 s of n bytes. */
size_t utf8_length(const char *s, size_t n);
/* Narrows [*s, *s + *n) to drop Unicode White_Space at both ends. */
void utf8_trim(const char **s, size_t *n);

#endif
