/* Unit tests of auth: every way a token is refused, with a pinned clock. */
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../src/auth.h"
#include "../../src/token_cache.h"
#include "unit.h"

#define NOW 1800000000L
static const char secret[] = "unit-test-secret-unit-test-secret-0123";

/* Signs claims (a JSON object) with alg and key through libjwt. */
static char *sign(jwt_alg_t alg, const char *key, const char *claims)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, claims) == 0 &&
        jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

/* An HS256 token of any header and payload text, even one libjwt would
 * not encode. */
static char *sign_header_raw(const char *header, const char *claims)
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    char *token = malloc(2048);
    int n =
        EVP_EncodeBlock((unsigned char *)token, (const unsigned char *)header, (int)strlen(header));
    token[n++] = '.';
    n += EVP_EncodeBlock((unsigned char *)token + n, (const unsigned char *)claims,
                         (int)strlen(claims));
    token[n] = '\0';
    /* base64 -> base64url, without padding */
    int o = 0;
    for (int i = 0; i < n; i++)
        if (token[i] != '=')
            token[o++] = token[i] == '+' ? '-' : token[i] == '/' ? '_' : token[i];
    HMAC(EVP_sha256(), secret, sizeof secret - 1, (unsigned char *)token, (size_t)o, mac, &maclen);
    token[o++] = '.';
    n = o + EVP_EncodeBlock((unsigned char *)token + o, mac, (int)maclen);
    o = 0;
    for (int i = 0; i < n; i++)
        if (token[i] != '=')
            token[o++] = token[i] == '+' ? '-' : token[i] == '/' ? '_' : token[i];
    token[o] = '\0';
    return token;
}

static char *sign_raw(const char *claims)
{
    return sign_header_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims);
}

static enum auth_status verify_with(const struct auth_keys *keys, const char *token)
{
    char header[AUTH_TOKEN_MAX + 64];
    struct auth_subject s;
    snprintf(header, sizeof header, "Bearer %s", token ? token : "");
    return auth_verify(keys, header, NOW, &s);
}

static const struct auth_keys keys = {.hmac_alg = JWS_HS256,
                                      .secret = (const unsigned char *)secret,
                                      .secret_len = sizeof secret - 1,
                                      .leeway = 60};

static void expect_claims(const char *claims, enum auth_status want)
{
    char *token = sign(JWT_ALG_HS256, secret, claims);
    enum auth_status got = verify_with(&keys, token);
    CHECK(got == want, "%s: got '%s', want '%s'", claims, auth_reason(got), auth_reason(want));
    free(token);
}

static void test_claims(void)
{
    expect_claims("{\"sub\":\"alice\",\"exp\":1800000100}", AUTH_OK);
    expect_claims("{\"sub\":\"alice\",\"exp\":1800000100.5,\"iat\":1800000000}", AUTH_OK);
    expect_claims("{\"sub\":\"alice\"}", AUTH_BAD_CLAIMS);
    expect_claims("{\"sub\":\"alice\",\"exp\":\"1800000100\"}", AUTH_BAD_CLAIMS);
    expect_claims("{\"sub\":\"alice\",\"exp\":true}", AUTH_BAD_CLAIMS);
    expect_claims("{\"sub\":\"alice\",\"exp\":1799999950}", AUTH_OK); /* within leeway */
    expect_claims("{\"sub\":\"alice\",\"exp\":1799999940}", AUTH_EXPIRED);
    expect_claims("{\"sub\":\"alice\",\"exp\":1800000100,\"nbf\":1800000050}", AUTH_OK);
    expect_claims("{\"sub\":\"alice\",\"exp\":1800009999,\"nbf\":1800000061}", AUTH_NOT_YET_VALID);
    expect_claims("{\"sub\":\"alice\",\"exp\":1800009999,\"iat\":1800000061}", AUTH_NOT_YET_VALID);
    expect_claims("{\"sub\":\"alice\",\"exp\":1800009999,\"nbf\":\"soon\"}", AUTH_BAD_CLAIMS);
    expect_claims("{\"exp\":1800000100}", AUTH_NO_SUBJECT);
    expect_claims("{\"sub\":\"\",\"exp\":1800000100}", AUTH_NO_SUBJECT);
    expect_claims("{\"sub\":42,\"exp\":1800000100}", AUTH_NO_SUBJECT);
}

static void test_infinite_exp(void)
{
    char *sane = sign_raw("{\"sub\":\"alice\",\"exp\":1800000100}");
    char *forever = sign_raw("{\"sub\":\"alice\",\"exp\":1e999}");
    CHECK(verify_with(&keys, sane) == AUTH_OK, "the raw signer signs right");
    /* libjwt's parser refuses it on the HMAC path; auth's own check
     * (isfinite) on the JWKS path, which test_jwks cannot sign for. */
    enum auth_status st = verify_with(&keys, forever);
    CHECK(st != AUTH_OK, "exp 1e999 (infinity) never passes (%s)", auth_reason(st));
    free(sane);
    free(forever);
}

static void test_subject_value(void)
{
    /* libjwt's JSON parser refuses \u0000 before our check sees it */
    char *nul = sign(JWT_ALG_HS256, secret, "{\"sub\":\"a\\u0000b\",\"exp\":1800000100}");
    CHECK(verify_with(&keys, nul) != AUTH_OK, "a subject with U+0000");
    free(nul);

    char *token = sign(JWT_ALG_HS256, secret, "{\"sub\":\"a/b c\",\"exp\":1800000100}");
    char header[1024];
    struct auth_subject s;
    snprintf(header, sizeof header, "bearer %s", token);
    CHECK(auth_verify(&keys, header, NOW, &s) == AUTH_OK && s.len == 5 &&
              memcmp(s.id, "a/b c", 5) == 0,
          "subject returned as is; scheme is case-insensitive");
    free(token);
}

static void test_signature_and_algorithm(void)
{
    const char *claims = "{\"sub\":\"alice\",\"exp\":1800000100}";
    char *other = sign(JWT_ALG_HS256, "another-secret-another-secret-0123456", claims);
    CHECK(verify_with(&keys, other) == AUTH_BAD_SIGNATURE, "another secret");
    free(other);

    char *hs512 = sign(JWT_ALG_HS512, secret, claims);
    CHECK(verify_with(&keys, hs512) == AUTH_WRONG_ALGORITHM, "HS512 when HS256 is configured");
    free(hs512);

    char *none = sign(JWT_ALG_NONE, NULL, claims);
    enum auth_status st = verify_with(&keys, none);
    CHECK(st != AUTH_OK, "alg none refused (%s)", auth_reason(st));
    free(none);

    char *good = sign(JWT_ALG_HS256, secret, claims);
    char *tampered = strdup(good);
    char *sig = strrchr(tampered, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    CHECK(verify_with(&keys, tampered) == AUTH_BAD_SIGNATURE, "tampered signature");
    /* the payload of another token under this token's signature */
    char *evil = sign(JWT_ALG_HS256, secret, "{\"sub\":\"mallory\",\"exp\":1800000100}");
    char spliced[2048];
    const char *p1 = strchr(good, '.'), *s1 = strrchr(good, '.');
    const char *p2 = strchr(evil, '.'), *s2 = strrchr(evil, '.');
    snprintf(spliced, sizeof spliced, "%.*s%.*s%s", (int)(p1 - good), good, (int)(s2 - p2), p2, s1);
    CHECK(verify_with(&keys, spliced) == AUTH_BAD_SIGNATURE, "spliced payload");
    free(evil);
    free(tampered);

    struct auth_keys empty = keys;
    empty.secret_len = 0;
    CHECK(verify_with(&empty, good) == AUTH_WRONG_ALGORITHM,
          "without a secret, HMAC tokens are refused unverified");
    free(good);
}

static void test_issuer_audience(void)
{
    struct auth_keys k = keys;
    k.issuer = "https://app.example";
    k.audience = "https://app.example";
    struct {
        const char *claims;
        enum auth_status want;
    } cases[] = {
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://app.example\",\"aud\":\"https://"
         "app.example\"}",
         AUTH_OK},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://"
         "app.example\",\"aud\":[\"x\",\"https://app.example\"]}",
         AUTH_OK},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://evil.example\",\"aud\":\"https://"
         "app.example\"}",
         AUTH_WRONG_ISSUER},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"aud\":\"https://app.example\"}", AUTH_WRONG_ISSUER},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://app.example\",\"aud\":\"other\"}",
         AUTH_WRONG_AUDIENCE},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://app.example\",\"aud\":[\"other\"]}",
         AUTH_WRONG_AUDIENCE},
        {"{\"sub\":\"a\",\"exp\":1800000100,\"iss\":\"https://app.example\"}", AUTH_WRONG_AUDIENCE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *token = sign(JWT_ALG_HS256, secret, cases[i].claims);
        enum auth_status got = verify_with(&k, token);
        CHECK(got == cases[i].want, "%s: got %s", cases[i].claims, auth_reason(got));
        free(token);
    }
}

static void test_malformed(void)
{
    struct auth_subject s;
    CHECK(auth_verify(&keys, NULL, NOW, &s) == AUTH_MISSING, "no header");
    CHECK(auth_verify(&keys, "", NOW, &s) == AUTH_MISSING, "empty header");
    CHECK(auth_verify(&keys, "Basic YTpi", NOW, &s) == AUTH_MISSING, "another scheme");
    CHECK(auth_verify(&keys, "Bearer ", NOW, &s) == AUTH_MALFORMED, "no token");
    CHECK(auth_verify(&keys, "Bearer abc", NOW, &s) == AUTH_MALFORMED, "one part");
    CHECK(auth_verify(&keys, "Bearer a.b.c.d", NOW, &s) == AUTH_MALFORMED, "four parts");
    CHECK(auth_verify(&keys, "Bearer a b.c", NOW, &s) == AUTH_MALFORMED, "space inside");
    CHECK(auth_verify(&keys, "Bearer a.b.c", NOW, &s) == AUTH_MALFORMED, "garbage parts");
    CHECK(auth_verify(&keys, "Bearer ..", NOW, &s) == AUTH_MALFORMED, "empty parts");
    char *huge = malloc(AUTH_TOKEN_MAX + 32);
    strcpy(huge, "Bearer ");
    memset(huge + 7, 'a', AUTH_TOKEN_MAX + 1);
    huge[7 + AUTH_TOKEN_MAX + 1] = '\0';
    CHECK(auth_verify(&keys, huge, NOW, &s) == AUTH_MALFORMED, "oversized token");
    free(huge);
}

/* RFC 7515 4.1.11: a crit header names extensions the token needs
 * understood; we understand none, so any crit, well-formed or not, is
 * refused, even when the signature is good. */
static void test_critical_header(void)
{
    static const char claims[] = "{\"sub\":\"alice\",\"exp\":1800000100}";
    static const char *const refused[] = {
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
        "{\"alg\":\"HS256\",\"crit\":[\"urn:example:unknown\"]}",
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"crit\":\"exp\"}",
        "{\"alg\":\"HS256\",\"crit\":null}",
        "{\"alg\":\"HS256\",\"crit\":[1]}",
    };
    char *plain = sign_header_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims);
    CHECK(verify_with(&keys, plain) == AUTH_OK, "the same token without crit is accepted");
    free(plain);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *token = sign_header_raw(refused[i], claims);
        enum auth_status got = verify_with(&keys, token);
        CHECK(got == AUTH_CRITICAL_HEADER, "%s: got '%s'", refused[i], auth_reason(got));
        free(token);
    }
}

static void test_cache(void)
{
    struct token_cache *cache = malloc(sizeof *cache);
    struct auth_subject s;
    char header[1024], other[1024];
    char *token = sign(JWT_ALG_HS256, secret, "{\"sub\":\"carol\",\"exp\":1800000100}");
    char *bad = sign(JWT_ALG_HS256, "wrong-secret-wrong-secret-wrong-0123",
                     "{\"sub\":\"carol\",\"exp\":1800000100}");
    token_cache_init(cache);
    snprintf(header, sizeof header, "Bearer %s", token);
    snprintf(other, sizeof other, "Bearer %s", bad);

    CHECK(token_cache_verify(cache, &keys, header, NOW, &s) == AUTH_OK && cache->misses == 1,
          "first use verifies");
    memset(&s, 0, sizeof s);
    CHECK(token_cache_verify(cache, &keys, header, NOW + 30, &s) == AUTH_OK && cache->hits == 1 &&
              s.len == 5 && memcmp(s.id, "carol", 5) == 0,
          "second use is a hit with the same subject");
    CHECK(token_cache_verify(cache, &keys, other, NOW, &s) == AUTH_BAD_SIGNATURE,
          "a token with the same claims and another signature is verified, and refused");
    CHECK(token_cache_verify(cache, &keys, other, NOW, &s) == AUTH_BAD_SIGNATURE,
          "refusals are not remembered");
    CHECK(token_cache_verify(cache, &keys, header, NOW + 100 + 60, &s) == AUTH_EXPIRED,
          "a cached token expires with its exp");
    CHECK(token_cache_verify(cache, &keys, header, NOW, &s) == AUTH_OK && cache->misses == 4,
          "and is verified afresh afterwards");
    token_cache_free(cache);

    /* Many sessions at once stay cached: a second round verifies none. */
    enum { SESSIONS = 200 };
    static char headers[SESSIONS][1024];
    token_cache_init(cache);
    for (int i = 0; i < SESSIONS; i++) {
        char claims[128];
        snprintf(claims, sizeof claims, "{\"sub\":\"user-%d\",\"exp\":1800000100}", i);
        char *t = sign(JWT_ALG_HS256, secret, claims);
        snprintf(headers[i], sizeof headers[i], "Bearer %s", t);
        free(t);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < SESSIONS; i++)
            token_cache_verify(cache, &keys, headers[i], NOW, &s);
    CHECK(cache->misses == SESSIONS && cache->hits == SESSIONS,
          "%d sessions twice: %lu misses, %lu hits", SESSIONS, cache->misses, cache->hits);
    token_cache_free(cache);
    free(cache);
    free(token);
    free(bad);
}

int main(void)
{
    test_cache();
    test_claims();
    test_infinite_exp();
    test_subject_value();
    test_signature_and_algorithm();
    test_issuer_audience();
    test_malformed();
    test_critical_header();
    return unit_report("test_auth");
}
