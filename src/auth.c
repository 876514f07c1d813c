/*
 * auth: Bearer token verification. See auth.h.
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

static const char *const reasons[] = {
    [AUTH_OK] = "ok",
    [AUTH_MISSING] = "missing bearer token",
    [AUTH_MALFORMED] = "malformed token",
    [AUTH_BAD_SIGNATURE] = "bad signature",
    [AUTH_WRONG_ALGORITHM] = "algorithm not accepted",
    [AUTH_BAD_CLAIMS] = "malformed claims",
    [AUTH_EXPIRED] = "token expired",
    [AUTH_NOT_YET_VALID] = "token not yet valid",
    [AUTH_NO_SUBJECT] = "token has no valid subject",
    [AUTH_WRONG_ISSUER] = "issuer not accepted",
    [AUTH_WRONG_AUDIENCE] = "audience not accepted",
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
    return 1;
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

static enum auth_status check_claims(const struct auth_keys *keys, jwt_t *jwt, time_t now,
                                     struct auth_subject *subject)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    if (text == NULL)
        return AUTH_BAD_CLAIMS;
    json_object *claims = json_tokener_parse(text);
    free(text);
    enum auth_status st = AUTH_BAD_CLAIMS;
    if (json_object_is_type(claims, json_type_object)) {
        st = check_times(keys, claims, now, &subject->expires);
        if (st == AUTH_OK)
            st = check_issuer_audience(keys, claims);
        if (st == AUTH_OK)
            st = check_subject(claims, subject);
    }
    json_object_put(claims);
    return st;
}

enum auth_status auth_verify(const struct auth_keys *keys, const char *header, time_t now,
                             struct auth_subject *subject)
{
    const char *token;
    jwt_t *jwt = NULL;

    enum auth_status st = bearer_token(header, &token);
    if (st != AUTH_OK)
        return st;
    if (keys->secret_len == 0)
        return AUTH_BAD_SIGNATURE; /* libjwt would skip the check */
    if (jwt_decode(&jwt, token, keys->secret, (int)keys->secret_len) != 0 || jwt == NULL)
        return AUTH_BAD_SIGNATURE;
    if (jwt_get_alg(jwt) != keys->alg)
        st = AUTH_WRONG_ALGORITHM;
    else
        st = check_claims(keys, jwt, now, subject);
    jwt_free(jwt);
    return st;
}
