/*
 * auth: Bearer token verification. See auth.h.
 */
#include "auth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <jwt.h>

#include "base64url.h"
#include "json_check.h"

static const char *const reasons[] = {
    [AUTH_OK] = "ok",
    [AUTH_MISSING] = "missing bearer token",
    [AUTH_MALFORMED] = "malformed token",
    [AUTH_BAD_SIGNATURE] = "bad signature",
    [AUTH_WRONG_ALGORITHM] = "algorithm not accepted",
    [AUTH_UNKNOWN_KEY] = "unknown signing key",
    [AUTH_BAD_CLAIMS] = "malformed claims",
    [AUTH_EXPIRED] = "token expired",
    [AUTH_NOT_YET_VALID] = "token not yet valid",
    [AUTH_NO_SUBJECT] = "token has no valid subject",
    [AUTH_WRONG_ISSUER] = "issuer not accepted",
    [AUTH_WRONG_AUDIENCE] = "audience not accepted",
    [AUTH_CRITICAL_HEADER] = "critical header parameter not understood",
};

const char *auth_reason(enum auth_status status)
{
    return reasons[status];
}

/* The token of "Bearer <token>", checked to be three base64url parts. */
static enum auth_status bearer_token(const char *header, const char **token)
{
    static const char scheme[] = "Bearer ";
    size_t dots = 0;

    if (header == NULL || *header == '\0')
        return AUTH_MISSING;
    if (strncasecmp(header, scheme, sizeof scheme - 1) != 0)
        return AUTH_MISSING;
    const char *t = header + sizeof scheme - 1;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    if (n == 0 || n > AUTH_TOKEN_MAX)
        return AUTH_MALFORMED;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return AUTH_MALFORMED;
    }
    if (dots != 2)
        return AUTH_MALFORMED;
    *token = t;
    return AUTH_OK;
}

/* A NumericDate claim: absent (0), a JSON number (1), or wrong (-1). */
static int numeric_claim(json_object *claims, const char *name, double *value)
{
    json_object *v;
    if (!json_object_object_get_ex(claims, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return -1;
    *value = json_object_get_double(v);
    return isfinite(*value) ? 1 : -1; /* json-c reads 1e999 as infinity */
}

static enum auth_status check_times(const struct auth_keys *keys, json_object *claims, time_t now,
                                    double *expires)
{
    double exp, nbf, iat;
    double t = (double)now, leeway = (double)keys->leeway;
    int has_exp = numeric_claim(claims, "exp", &exp);
    int has_nbf = numeric_claim(claims, "nbf", &nbf);
    int has_iat = numeric_claim(claims, "iat", &iat);

    if (has_exp <= 0 || has_nbf < 0 || has_iat < 0)
        return AUTH_BAD_CLAIMS;
    if (t >= exp + leeway)
        return AUTH_EXPIRED;
    *expires = exp;
    if ((has_nbf && nbf > t + leeway) || (has_iat && iat > t + leeway))
        return AUTH_NOT_YET_VALID;
    return AUTH_OK;
}

static int string_is(json_object *v, const char *expected)
{
    return json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), expected) == 0 &&
           (size_t)json_object_get_string_len(v) == strlen(expected);
}

static enum auth_status check_issuer_audience(const struct auth_keys *keys, json_object *claims)
{
    json_object *v;
    if (keys->issuer &&
        (!json_object_object_get_ex(claims, "iss", &v) || !string_is(v, keys->issuer)))
        return AUTH_WRONG_ISSUER;
    if (keys->audience == NULL)
        return AUTH_OK;
    if (!json_object_object_get_ex(claims, "aud", &v))
        return AUTH_WRONG_AUDIENCE;
    if (string_is(v, keys->audience))
        return AUTH_OK;
    if (json_object_is_type(v, json_type_array))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (string_is(json_object_array_get_idx(v, i), keys->audience))
                return AUTH_OK;
    return AUTH_WRONG_AUDIENCE;
}

static enum auth_status check_subject(json_object *claims, struct auth_subject *subject)
{
    json_object *v;
    if (!json_object_object_get_ex(claims, "sub", &v) || !json_object_is_type(v, json_type_string))
        return AUTH_NO_SUBJECT;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n > USER_ID_MAX || memchr(s, '\0', n) != NULL)
        return AUTH_NO_SUBJECT;
    memcpy(subject->id, s, n);
    subject->id[n] = '\0';
    subject->len = n;
    return AUTH_OK;
}

/* Decodes one base64url segment holding a JSON object. */
static json_object *json_segment(const char *s, size_t n)
{
    unsigned char text[AUTH_TOKEN_MAX];
    long len = base64url_decode(s, n, text, sizeof text - 1);
    if (len < 0 || json_check((const char *)text, (size_t)len) != 0)
        return NULL; /* invalid, or a NUL that json-c would cut a name at */
    text[len] = '\0';
    json_object *o = json_tokener_parse((const char *)text);
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static enum auth_status check_claims(const struct auth_keys *keys, json_object *claims, time_t now,
                                     struct auth_subject *subject)
{
    enum auth_status st = check_times(keys, claims, now, &subject->expires);
    if (st == AUTH_OK)
        st = check_issuer_audience(keys, claims);
    if (st == AUTH_OK)
        st = check_subject(claims, subject);
    return st;
}

static const jwt_alg_t libjwt_algs[] = {
    [JWS_HS256] = JWT_ALG_HS256, [JWS_HS384] = JWT_ALG_HS384, [JWS_HS512] = JWT_ALG_HS512};

static enum auth_status verify_hmac(const struct auth_keys *keys, enum jws_alg alg,
                                    const char *token)
{
    jwt_t *jwt = NULL;
    if (keys->secret_len == 0 || alg != keys->hmac_alg)
        return AUTH_WRONG_ALGORITHM;
    if (jwt_decode(&jwt, token, keys->secret, (int)keys->secret_len) != 0 || jwt == NULL)
        return AUTH_BAD_SIGNATURE;
    enum auth_status st = jwt_get_alg(jwt) == libjwt_algs[alg] ? AUTH_OK : AUTH_WRONG_ALGORITHM;
    jwt_free(jwt);
    return st;
}

static enum auth_status verify_jwks(const struct auth_keys *keys, enum jws_alg alg, const char *kid,
                                    const char *token, const char *sig, uint64_t *key_id)
{
    unsigned char raw[1024];
    if (keys->jwks == NULL || !(keys->jwks_algs & (1u << alg)))
        return AUTH_WRONG_ALGORITHM;
    const struct jwk *key = jwks_find(keys->jwks, kid);
    if (key == NULL)
        return AUTH_UNKNOWN_KEY;
    if (key->alg != alg)
        return AUTH_WRONG_ALGORITHM;
    long n = base64url_decode(sig, strlen(sig), raw, sizeof raw);
    if (n <= 0)
        return AUTH_BAD_SIGNATURE;
    if (!jws_verify(key, (const unsigned char *)token, (size_t)(sig - 1 - token), raw, (size_t)n))
        return AUTH_BAD_SIGNATURE;
    *key_id = key->id;
    return AUTH_OK;
}

/* The header's alg and kid, then the signature by the path they choose. */
static enum auth_status verify_signature(const struct auth_keys *keys, const char *token,
                                         const char *payload, const char *sig, uint64_t *key_id)
{
    json_object *header = json_segment(token, (size_t)(payload - 1 - token)), *v;
    if (header == NULL)
        return AUTH_MALFORMED;
    if (json_object_object_get_ex(header, "crit", NULL)) {
        json_object_put(header);
        return AUTH_CRITICAL_HEADER;
    }
    enum jws_alg alg = JWS_UNKNOWN;
    const char *kid = NULL;
    if (json_object_object_get_ex(header, "alg", &v) && json_object_is_type(v, json_type_string))
        alg = jws_alg_parse(json_object_get_string(v));
    if (json_object_object_get_ex(header, "kid", &v))
        kid = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    enum auth_status st = AUTH_WRONG_ALGORITHM;
    if (jws_alg_is_hmac(alg))
        st = verify_hmac(keys, alg, token);
    else if (alg != JWS_UNKNOWN && alg != JWS_NONE)
        st = verify_jwks(keys, alg, kid, token, sig, key_id);
    json_object_put(header);
    return st;
}

enum auth_status auth_verify(const struct auth_keys *keys, const char *header, time_t now,
                             struct auth_subject *subject)
{
    const char *token;
    enum auth_status st = bearer_token(header, &token);
    if (st != AUTH_OK)
        return st;
    const char *payload = strchr(token, '.') + 1;
    const char *sig = strchr(payload, '.') + 1;
    subject->key_id = 0;
    st = verify_signature(keys, token, payload, sig, &subject->key_id);
    if (st != AUTH_OK)
        return st;
    json_object *claims = json_segment(payload, (size_t)(sig - 1 - payload));
    st = claims ? check_claims(keys, claims, now, subject) : AUTH_BAD_CLAIMS;
    json_object_put(claims);
    return st;
}
