/*
 * json_check: is this byte string one strict RFC 8259 JSON text? json-c is
 * lenient where the contract is not: it takes NaN, single-quoted strings,
 * raw control characters in strings, and turns unpaired surrogate escapes
 * into U+FFFD. This checker runs before json-c and refuses all of those,
 * invalid UTF-8, and nesting deeper than JSON_CHECK_DEPTH. It builds
 * nothing; json-c does the parsing once the text is known to be good.
 */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_DEPTH 32

#define JSON_CHECK_HAS_NUL 1

/* Returns -1 unless s[0..n) is exactly one JSON value (white space around
 * it allowed); then 0, or JSON_CHECK_HAS_NUL when a string or a member
 * name holds a \u0000 escape (json-c would cut a member name there). */
int json_check(const char *s, size_t n);

#endif
