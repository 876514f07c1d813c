/*
 * auth: an Authorization header -> the verified subject, or the reason it
 * was refused. It owns every rule of token acceptance: the algorithm pinned
 * by configuration, the signature, exp (required), nbf, iat, leeway, iss,
 * aud and sub. It knows nothing of HTTP framing or SQL; the clock is passed
 * in, so that tests can pin it.
 *
 * The token's header and payload are decoded here, once. The header's alg
 * chooses the path, and only a path the configuration opened: an HMAC
 * algorithm goes to libjwt with the shared secret (Debian's libjwt 1.10
 * checks the signature and nothing else, and with an empty key accepts any
 * token, so the key is always passed and its decoded algorithm compared
 * again); an asymmetric one goes to the JWKS key its kid names, whose own
 * algorithm it must be. A secret is never tried as a public key nor a public
 * key as a secret. A crit header is refused whatever it names: we
 * implement no extension, and RFC 7515 4.1.11 says a token that needs one
 * we do not understand is invalid. Every claim is checked here.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "jwks.h"
#include "router.h"

/* Longest Authorization header value read; longer is refused unread. */
#define AUTH_TOKEN_MAX 8192

struct auth_keys {
    enum jws_alg hmac_alg; /* the one HMAC algorithm accepted */
    const unsigned char *secret;
    size_t secret_len;       /* 0: no shared secret, HMAC tokens refused */
    const struct jwks *jwks; /* NULL: asymmetric tokens refused; empty: their keys unknown */
    unsigned jwks_algs;      /* allowed asymmetric algorithms, 1 << enum jws_alg */
    const char *issuer;      /* NULL: iss not checked */
    const char *audience;    /* NULL: aud not checked */
    long leeway;
};

enum auth_status {
    AUTH_OK,
    AUTH_MISSING,
    AUTH_MALFORMED,
    AUTH_BAD_SIGNATURE,
    AUTH_WRONG_ALGORITHM,
    AUTH_UNKNOWN_KEY, /* a kid not in the key set: worth refreshing the set */
    AUTH_BAD_CLAIMS,
    AUTH_EXPIRED,
    AUTH_NOT_YET_VALID,
    AUTH_NO_SUBJECT,
    AUTH_WRONG_ISSUER,
    AUTH_WRONG_AUDIENCE,
    AUTH_CRITICAL_HEADER, /* a crit header: we understand no extension (RFC 7515 4.1.11) */
};

struct auth_subject {
    char id[USER_ID_MAX + 1];
    size_t len;
    double expires;  /* the exp claim, for token_cache */
    uint64_t key_id; /* the JWKS key that verified it (jwk.id); 0: the shared secret */
};

/* header may be NULL (no Authorization header). */
enum auth_status auth_verify(const struct auth_keys *keys, const char *header, time_t now,
                             struct auth_subject *subject);
/* A short reason for logs and for the problem detail; never token content. */
const char *auth_reason(enum auth_status status);

#endif
