/* Unit tests of jwks and auth with real Better Auth tokens: the vectors in
 * tests/vectors/ (made by tests/vectors/generate.mjs with the npm package
 * better-auth), verified with the clock pinned inside their lifetime, and
 * their tampered variants, which must all be refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../src/auth.h"
#include "../../src/base64url.h"
#include "../../src/jwks.h"
#include "unit.h"

static const char *str(json_object *o, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : "";
}

static long num(json_object *o, const char *name)
{
    json_object *v;
    return json_object_object_get_ex(o, name, &v) ? (long)json_object_get_int64(v) : 0;
}

static enum auth_status verify(const struct auth_keys *k, const char *token, time_t now,
                               struct auth_subject *s)
{
    static char header[16384];
    snprintf(header, sizeof header, "Bearer %s", token);
    return auth_verify(k, header, now, s);
}

static void test_vector(const char *alg)
{
    char path[512];
    struct jwks set = {.count = 0};
    struct auth_subject s;
    char err[200];

    snprintf(path, sizeof path, "%s/%s.json", VECTORS_DIR, alg);
    json_object *v = json_object_from_file(path);
    CHECK(v != NULL, "%s: readable", path);
    if (v == NULL)
        return;
    const char *jwks_text = str(v, "jwks_text");
    CHECK(jwks_load(&set, jwks_text, strlen(jwks_text), err, sizeof err) == 1, "%s: JWKS: %s", alg,
          err);
    struct auth_keys k = {.jwks = &set,
                          .jwks_algs = 1u << jws_alg_parse(alg),
                          .issuer = str(v, "iss"),
                          .audience = str(v, "aud"),
                          .leeway = 60};
    time_t now = num(v, "iat") + 10, expired = num(v, "exp") + 61;
    const char *token = str(v, "token"), *sub = str(v, "sub");

    enum auth_status st = verify(&k, token, now, &s);
    CHECK(st == AUTH_OK && s.len == strlen(sub) && memcmp(s.id, sub, s.len) == 0,
          "%s: the real token is accepted for its user (%s)", alg, auth_reason(st));
    json_object *other = NULL;
    json_object_object_get_ex(v, "other_user", &other);
    st = verify(&k, str(other, "token"), now, &s);
    CHECK(st == AUTH_OK && strcmp(s.id, str(other, "sub")) == 0, "%s: the other user's token", alg);
    CHECK(verify(&k, token, expired, &s) == AUTH_EXPIRED, "%s: expired after exp + leeway", alg);

    struct auth_keys wrong_aud = k;
    wrong_aud.audience = "https://elsewhere.example";
    CHECK(verify(&wrong_aud, token, now, &s) == AUTH_WRONG_AUDIENCE, "%s: another audience", alg);
    struct auth_keys wrong_iss = k;
    wrong_iss.issuer = "https://elsewhere.example";
    CHECK(verify(&wrong_iss, token, now, &s) == AUTH_WRONG_ISSUER, "%s: another issuer", alg);
    struct auth_keys not_allowed = k;
    not_allowed.jwks_algs = (1u << JWS_RS512);
    CHECK(verify(&not_allowed, token, now, &s) == AUTH_WRONG_ALGORITHM,
          "%s: not in the configured list", alg);

    /* With a shared secret configured too: the confusion attacks must not
     * find a path through it. */
    k.hmac_alg = JWS_HS256;
    k.secret = (const unsigned char *)"a-shared-secret-a-shared-secret-0123";
    k.secret_len = strlen((const char *)k.secret);
    CHECK(verify(&k, token, now, &s) == AUTH_OK, "%s: still accepted beside a secret", alg);

    snprintf(path, sizeof path, "%s/%s-tampered.json", VECTORS_DIR, alg);
    json_object *tampered = json_object_from_file(path);
    int refused = 0, total = (int)json_object_array_length(tampered);
    for (int i = 0; i < total; i++) {
        json_object *t = json_object_array_get_idx(tampered, i);
        st = verify(&k, str(t, "token"), now, &s);
        CHECK(st != AUTH_OK, "%s: tampered '%s' must be refused (%s)", alg, str(t, "name"),
              str(t, "why"));
        refused += st != AUTH_OK;
    }
    CHECK(total >= 40 && refused == total, "%s: %d of %d tampered tokens refused", alg, refused,
          total);
    json_object_put(tampered);
    jwks_free(&set);
    json_object_put(v);
}

static void test_base64url(void)
{
    unsigned char out[16];
    CHECK(base64url_decode("", 0, out, sizeof out) == 0, "empty");
    CHECK(base64url_decode("YQ", 2, out, sizeof out) == 1 && out[0] == 'a', "one byte");
    CHECK(base64url_decode("YWI", 3, out, sizeof out) == 2, "two bytes");
    CHECK(base64url_decode("YWJj", 4, out, sizeof out) == 3, "three bytes");
    CHECK(base64url_decode("YR", 2, out, sizeof out) < 0, "non-zero trailing bits");
    CHECK(base64url_decode("Y", 1, out, sizeof out) < 0, "impossible length");
    CHECK(base64url_decode("YQ==", 4, out, sizeof out) < 0, "padding");
    CHECK(base64url_decode("+/+/", 4, out, sizeof out) < 0, "plain base64 alphabet");
    CHECK(base64url_decode("-_-_", 4, out, sizeof out) == 3, "url alphabet");
    CHECK(base64url_decode("YWJjZGVmZ2hpamtsbW5vcHE", 23, out, sizeof out) < 0, "overflow");
}

static void test_bad_documents(void)
{
    struct jwks set = {.count = 0};
    char err[200];
    static const char *const docs[] = {
        "",
        "[]",
        "{\"keys\":{}}",
        "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"short\"}]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        CHECK(jwks_load(&set, docs[i], strlen(docs[i]), err, sizeof err) == 0 && set.count == 0,
              "refused: %s", docs[i]);
}

int main(void)
{
    test_base64url();
    test_bad_documents();
    test_vector("EdDSA");
    test_vector("ES256");
    test_vector("RS256");
    return unit_report("test_jwks");
}
