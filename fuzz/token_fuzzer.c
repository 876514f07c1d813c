/*
 * token_fuzzer: arbitrary bytes as an Authorization header value (half of
 * the inputs, by their first byte, behind "Bearer "), verified with both a
 * shared secret (HS256) and the public keys of the Better Auth vectors in
 * tests/vectors/; also as a JWKS document (jwks_load) and as base64url.
 *
 * Nothing unsigned may pass: a token auth_verify accepts must be one of the
 * vectors' real tokens, or carry an HS256 signature by the shared secret
 * that OpenSSL's HMAC confirms. An input under 100 bytes is never accepted.
 * token_cache must answer exactly as auth_verify does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "../src/auth.h"
#include "../src/base64url.h"
#include "../src/jwks.h"
#include "../src/token_cache.h"

#ifndef VECTORS_DIR
#error "build with -DVECTORS_DIR='\"/path/to/tests/vectors\"'"
#endif

#include "fuzz.h"

/* The secret of the HS256 seeds in fuzz/corpus/token_fuzzer. */
static const char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret-0123";
static const char *const vector_names[] = {"EdDSA", "ES256", "RS256"};

static struct jwks set;
static struct auth_keys keys;
static struct token_cache cache;
static time_t now;
static char *real_tokens[9]; /* token, get_session_token, other_user.token of each */
static int real_count;

static const char *member(json_object *o, const char *name)
{
    json_object *v;
    REQUIRE(json_object_object_get_ex(o, name, &v));
    return json_object_get_string(v);
}

/* One JWKS of every vector's keys; the vectors' tokens; a clock inside
 * their lifetime. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    json_object *all = json_object_new_array();
    (void)argc, (void)argv;
    for (size_t i = 0; i < sizeof vector_names / sizeof vector_names[0]; i++) {
        char path[1024], err[200];
        snprintf(path, sizeof path, "%s/%s.json", VECTORS_DIR, vector_names[i]);
        json_object *v = json_object_from_file(path), *other, *doc, *k;
        REQUIRE(v != NULL);
        const char *text = member(v, "jwks_text");
        REQUIRE((doc = json_tokener_parse(text)) != NULL);
        REQUIRE(json_object_object_get_ex(doc, "keys", &k));
        for (size_t j = 0; j < json_object_array_length(k); j++)
            json_object_array_add(all, json_object_get(json_object_array_get_idx(k, j)));
        REQUIRE(json_object_object_get_ex(v, "other_user", &other));
        real_tokens[real_count++] = strdup(member(v, "token"));
        real_tokens[real_count++] = strdup(member(v, "get_session_token"));
        real_tokens[real_count++] = strdup(member(other, "token"));
        if (i == 0) {
            now = (time_t)json_object_get_int64(json_object_object_get(v, "iat")) + 10;
            keys.issuer = strdup(member(v, "iss"));
            keys.audience = strdup(member(v, "aud"));
            /* EdDSA's own document must load as it is */
            struct jwks one = {.count = 0};
            REQUIRE(jwks_load(&one, text, strlen(text), err, sizeof err) == 1);
            jwks_free(&one);
        }
        json_object_put(doc);
        json_object_put(v);
    }
    json_object *wrapper = json_object_new_object();
    json_object_object_add(wrapper, "keys", all);
    const char *text = json_object_to_json_string(wrapper);
    char err[200];
    REQUIRE(jwks_load(&set, text, strlen(text), err, sizeof err) == 3);
    json_object_put(wrapper);

    keys.hmac_alg = JWS_HS256;
    keys.secret = (const unsigned char *)secret;
    keys.secret_len = sizeof secret - 1;
    keys.jwks = &set;
    keys.jwks_algs = 1u << JWS_EDDSA | 1u << JWS_ES256 | 1u << JWS_ES384 | 1u << JWS_RS256 |
                     1u << JWS_RS384 | 1u << JWS_RS512;
    keys.leeway = 60;
    token_cache_init(&cache);
    return 0;
}

/* Is token (the header value after "Bearer " and spaces) signed? */
static int signed_token(const char *token)
{
    for (int i = 0; i < real_count; i++)
        if (strcmp(token, real_tokens[i]) == 0)
            return 1;
    const char *sig = strrchr(token, '.');
    unsigned char mac[EVP_MAX_MD_SIZE], given[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    REQUIRE(sig != NULL);
    sig++;
    long n = base64url_decode(sig, strlen(sig), given, sizeof given);
    HMAC(EVP_sha256(), secret, (int)(sizeof secret - 1), (const unsigned char *)token,
         (size_t)(sig - 1 - token), mac, &maclen);
    return n == (long)maclen && CRYPTO_memcmp(mac, given, maclen) == 0;
}

static void verify(const char *header, size_t input_size)
{
    struct auth_subject s, cached;
    enum auth_status st = auth_verify(&keys, header, now, &s);
    REQUIRE(auth_reason(st) != NULL);
    REQUIRE(token_cache_verify(&cache, &keys, header, now, &cached) == st);
    if (st != AUTH_OK)
        return;
    REQUIRE(input_size >= 100);
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    REQUIRE(signed_token(token));
    REQUIRE(s.len >= 1 && s.len <= USER_ID_MAX && s.id[s.len] == '\0');
    REQUIRE(memchr(s.id, '\0', s.len) == NULL);
    REQUIRE(cached.len == s.len && memcmp(cached.id, s.id, s.len) == 0);
}

/* Strict base64url: what decodes must encode back to the same text. */
static void base64url(const char *in, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char out[AUTH_TOKEN_MAX];
    long len = base64url_decode(in, n, out, sizeof out);
    if (len < 0)
        return;
    REQUIRE((size_t)len <= sizeof out && (size_t)len == n * 3 / 4);
    size_t o = 0;
    for (long i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)out[i] << 16;
        long rest = len - i;
        if (rest > 1)
            v |= (unsigned long)out[i + 1] << 8;
        if (rest > 2)
            v |= out[i + 2];
        int chars = rest >= 3 ? 4 : (int)rest + 1;
        for (int c = 0; c < chars; c++, o++)
            REQUIRE(o < n && in[o] == alphabet[(v >> (18 - 6 * c)) & 63]);
    }
    REQUIRE(o == n);
}

static void jwks_document(const char *text, size_t n)
{
    struct jwks fuzzed = {.count = 0};
    char err[200];
    int count = jwks_load(&fuzzed, text, n, err, sizeof err);
    REQUIRE(count == fuzzed.count && count >= 0 && count <= JWKS_MAX_KEYS);
    for (int i = 0; i < fuzzed.count; i++)
        REQUIRE(fuzzed.keys[i].pkey != NULL && strlen(fuzzed.keys[i].kid) <= JWK_KID_MAX);
    jwks_free(&fuzzed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char bearer[] = "Bearer ";
    char *text = malloc(size + sizeof bearer);
    REQUIRE(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    if (size > 0 && (data[0] & 1)) { /* "Bearer " + the rest */
        memcpy(text, bearer, sizeof bearer - 1);
        memcpy(text + sizeof bearer - 1, data + 1, size - 1);
        text[sizeof bearer - 1 + size - 1] = '\0';
    }
    verify(text, size);

    memcpy(text, data, size);
    text[size] = '\0';
    jwks_document(text, size);
    base64url(text, size);
    free(text);
    return 0;
}
