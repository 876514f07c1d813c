/*
 * jwks: the public keys of a JSON Web Key Set (RFC 7517), chosen by kid, and
 * the signature checks made with them (RFC 7518: EdDSA over Ed25519, ES256,
 * ES384, RS256, RS384, RS512) through OpenSSL, for the algorithms Debian's
 * libjwt 1.10 cannot do. It owns the key types, the algorithm each key
 * allows, and the JOSE signature formats; it knows nothing of claims, HTTP
 * or where a document came from (key_source does).
 */
#ifndef JWKS_H
#define JWKS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

enum jws_alg {
    JWS_UNKNOWN,
    JWS_NONE,
    JWS_HS256,
    JWS_HS384,
    JWS_HS512,
    JWS_EDDSA,
    JWS_ES256,
    JWS_ES384,
    JWS_RS256,
    JWS_RS384,
    JWS_RS512,
};

#define JWK_KID_MAX 255
#define JWKS_MAX_KEYS 32

struct jwk {
    char kid[JWK_KID_MAX + 1];
    int has_kid;
    enum jws_alg alg; /* the key's own algorithm: its "alg", or what its type allows */
    EVP_PKEY *pkey;
    uint64_t id; /* of kid, alg and public key together, never 0: the same key after a refetch */
};

struct jwks {
    struct jwk keys[JWKS_MAX_KEYS];
    int count;
};

enum jws_alg jws_alg_parse(const char *name);
const char *jws_alg_name(enum jws_alg alg);
int jws_alg_is_hmac(enum jws_alg alg);

/* Replaces set's keys with those of a JWKS document. Keys of other types,
 * or with "use" other than "sig", are skipped. Returns the number of keys
 * loaded (0 is an error, with the reason in err). */
int jwks_load(struct jwks *set, const char *json, size_t len, char *err, size_t errlen);
void jwks_free(struct jwks *set);
/* The key named kid, or with kid NULL the only key of a one-key set. */
const struct jwk *jwks_find(const struct jwks *set, const char *kid);
/* Whether a key of that id is in the set. */
int jwks_has(const struct jwks *set, uint64_t id);
/* Checks a JWS signature (JOSE format: raw r||s for ECDSA) over input. */
int jws_verify(const struct jwk *key, const unsigned char *input, size_t n,
               const unsigned char *sig, size_t siglen);

#endif
