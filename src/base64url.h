/*
 * base64url: RFC 4648 section 5 decoding without padding, as JOSE uses it.
 * Strict: any character outside the alphabet, a padding '=', or a length
 * that no encoding produces is an error.
 */
#ifndef BASE64URL_H
#define BASE64URL_H

#include <stddef.h>

/* Decodes in[0..n) into out (cap bytes). Returns the decoded length, or -1. */
long base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
