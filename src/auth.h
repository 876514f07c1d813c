/*
 * auth: an Authorization header -> the verified subject, or the reason it
 * was refused. It owns every rule of token acceptance: the algorithm pinned
 * by configuration, the signature, exp (required), nbf, iat, leeway, iss,
 * aud and sub. It knows nothing of HTTP framing or SQL; the clock is passed
 * in, so that tests can pin it.
 *
 * Debian's libjwt 1.10 checks the signature and nothing else (and with an
 * empty key it accepts any token, alg "none" included), so the key is always
 * passed, the decoded algorithm is compared with the configured one, and
 * every claim is checked here.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <time.h>

#include <jwt.h>

#include "router.h"

/* Longest Authorization header value read; longer is refused unread. */
#define AUTH_TOKEN_MAX 8192

struct auth_keys {
    jwt_alg_t alg;
    const unsigned char *secret;
    size_t secret_len;
    const char *issuer;   /* NULL: iss not checked */
    const char *audience; /* NULL: aud not checked */
    long leeway;
};

enum auth_status {
    AUTH_OK,
    AUTH_MISSING,
    AUTH_MALFORMED,
    AUTH_BAD_SIGNATURE,
    AUTH_WRONG_ALGORITHM,
    AUTH_BAD_CLAIMS,
    AUTH_EXPIRED,
    AUTH_NOT_YET_VALID,
    AUTH_NO_SUBJECT,
    AUTH_WRONG_ISSUER,
    AUTH_WRONG_AUDIENCE,
};

struct auth_subject {
    char id[USER_ID_MAX + 1];
    size_t len;
    double expires; /* the exp claim, for token_cache */
};

/* header may be NULL (no Authorization header). */
enum auth_status auth_verify(const struct auth_keys *keys, const char *header, time_t now,
                             struct auth_subject *subject);
/* A short reason for logs and for the problem detail; never token content. */
const char *auth_reason(enum auth_status status);

#endif
