/* Unit tests of jwks and auth with real Better Auth tokens: the vectors in
 * tests/vectors/ (made by tests/vectors/generate.mjs with the npm package
 * better-auth), verified with the clock pinned inside their lifetime, and
 * their tampered variants, which must all be refused. Then key_source's
 * refetching against local sockets: one that refuses, one that never
 * answers, and a child process that answers one request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../src/auth.h"
#include "../../src/base64url.h"
#include "../../src/jwks.h"
#include "../../src/key_source.h"
#include "../../src/log.h"
#include "../../src/token_cache.h"
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

/* A token verified with a key stays cached while the key set holds that
 * key (even refetched: the same key loaded again), and is verified afresh,
 * and refused, once the key has left the set. */
static void test_cache_forgets_removed_keys(void)
{
    char path[512], err[200], header[16384];
    struct jwks set = {.count = 0}, again = {.count = 0}, other = {.count = 0};
    struct auth_subject s;
    static struct token_cache cache;

    snprintf(path, sizeof path, "%s/EdDSA.json", VECTORS_DIR);
    json_object *v = json_object_from_file(path), *es = NULL;
    snprintf(path, sizeof path, "%s/ES256.json", VECTORS_DIR);
    es = json_object_from_file(path);
    CHECK(v && es, "vectors readable");
    if (v == NULL || es == NULL)
        return;
    const char *doc = str(v, "jwks_text"), *es_doc = str(es, "jwks_text");
    CHECK(jwks_load(&set, doc, strlen(doc), err, sizeof err) == 1 &&
              jwks_load(&again, doc, strlen(doc), err, sizeof err) == 1 &&
              jwks_load(&other, es_doc, strlen(es_doc), err, sizeof err) == 1,
          "key sets: %s", err);
    CHECK(set.keys[0].id != 0 && set.keys[0].id == again.keys[0].id &&
              set.keys[0].id != other.keys[0].id,
          "a key's id is the same when loaded again, and differs between keys");
    struct auth_keys k = {.jwks = &set,
                          .jwks_algs = 1u << JWS_EDDSA,
                          .issuer = str(v, "iss"),
                          .audience = str(v, "aud"),
                          .leeway = 60};
    time_t now = num(v, "iat") + 10;
    snprintf(header, sizeof header, "Bearer %s", str(v, "token"));

    token_cache_init(&cache);
    CHECK(token_cache_verify(&cache, &k, header, now, &s) == AUTH_OK && s.key_id == set.keys[0].id,
          "verified, with the key that did it");
    token_cache_forget_keys(&cache, &again);
    CHECK(token_cache_verify(&cache, &k, header, now, &s) == AUTH_OK && cache.hits == 1,
          "still cached after a refetch that kept the key");
    jwks_free(&set);
    set = other; /* the refetch removed the EdDSA key; set owns other's keys now */
    token_cache_forget_keys(&cache, &set);
    enum auth_status st = token_cache_verify(&cache, &k, header, now, &s);
    CHECK(st == AUTH_UNKNOWN_KEY && cache.misses == 2,
          "after the key left the set: verified afresh (%lu misses) and refused (%s)", cache.misses,
          auth_reason(st));
    struct jwks empty = {.count = 0};
    k.jwks = &empty;
    CHECK(token_cache_verify(&cache, &k, header, now, &s) == AUTH_UNKNOWN_KEY,
          "an empty key set: the key is unknown (keys may come), not the algorithm refused");
    k.jwks = NULL;
    CHECK(token_cache_verify(&cache, &k, header, now, &s) == AUTH_WRONG_ALGORITHM,
          "no key set at all: the algorithm is refused");
    token_cache_free(&cache);
    jwks_free(&set);
    jwks_free(&again);
    json_object_put(v);
    json_object_put(es);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A socket on 127.0.0.1 bound to a free port; listening (the kernel
 * completes connections, nobody answers) or not (connections refused). */
static int local_socket(int listening, char *url, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0 || (listening && listen(fd, 8) < 0)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(url, len, "http://127.0.0.1:%d/jwks", ntohs(a.sin_port));
    return fd;
}

/* A child that answers one request on fd with body, then exits. */
static pid_t answer_once(int fd, const char *body)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int c = accept(fd, NULL, NULL);
    char req[4096], head[128];
    if (c < 0 || read(c, req, sizeof req) <= 0)
        _exit(1);
    int n =
        snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(body));
    int ok =
        write(c, head, (size_t)n) == n && write(c, body, strlen(body)) == (ssize_t)strlen(body);
    close(c);
    _exit(ok ? 0 : 1);
}

/* A key server that refuses: the timer retries after 1 s, doubling up to
 * JWKS_REFRESH_SECONDS; an unknown kid does not fetch meanwhile. Then one
 * that answers: keys loaded, backoff reset, next fetch a refresh later,
 * and no fetch for an unknown kid within the cooldown. */
static void test_key_source_backoff(void)
{
    char url[64], err[200];
    struct config cfg = {.jwks_refresh = 20};
    struct key_source ks;
    int fd = local_socket(0, url, sizeof url);
    CHECK(fd >= 0 && key_source_init(&ks, &cfg, err, sizeof err) == 0, "set up: %s", err);
    if (fd < 0)
        return;
    cfg.jwks_url = url; /* after init: its fetch is not the one tested */
    time_t now = 1000000;
    CHECK(key_source_tick(&ks, now) == 0 && ks.failing && ks.attempted_at == now,
          "a refused fetch fails");
    CHECK(key_source_unavailable(&ks), "and the keys are unavailable");
    long waits[8];
    for (int i = 0; i < 8; i++) {
        time_t due = ks.due_at;
        waits[i] = (long)(due - now);
        CHECK(key_source_tick(&ks, due - 1) == 0 && ks.attempted_at == now, "no fetch before due");
        CHECK(key_source_refresh_for_kid(&ks, due - 1) == 0 && ks.attempted_at == now,
              "no fetch for a kid while failing");
        key_source_tick(&ks, due);
        now = due;
    }
    CHECK(waits[0] == 1 && waits[1] == 2 && waits[2] == 4 && waits[3] == 8 && waits[4] == 16 &&
              waits[5] == 20 && waits[7] == 20,
          "backoff %ld %ld %ld %ld %ld %ld %ld %ld", waits[0], waits[1], waits[2], waits[3],
          waits[4], waits[5], waits[6], waits[7]);
    CHECK(key_source_tick(&ks, now - 3600) == 0 && ks.attempted_at == now - 3600,
          "a clock set back an hour does not put the next fetch off by an hour");

    close(fd);
    fd = local_socket(1, url, sizeof url);
    char path[512];
    snprintf(path, sizeof path, "%s/EdDSA.json", VECTORS_DIR);
    json_object *v = json_object_from_file(path);
    pid_t child = fd >= 0 && v ? answer_once(fd, str(v, "jwks_text")) : -1;
    int status = -1;
    CHECK(child > 0 && key_source_tick(&ks, ks.due_at) == 1, "the server answers: keys replaced");
    if (child > 0)
        waitpid(child, &status, 0);
    now = ks.attempted_at;
    CHECK(status == 0 && ks.keys.count == 1 && !ks.failing && !key_source_unavailable(&ks) &&
              ks.due_at == now + 20 && ks.backoff == 1,
          "one key, healthy, next fetch in 20 s (%ld), backoff reset", (long)(ks.due_at - now));
    CHECK(key_source_refresh_for_kid(&ks, now + KEY_SOURCE_KID_COOLDOWN - 1) == 0 &&
              ks.attempted_at == now,
          "no fetch for an unknown kid within the cooldown");
    json_object_put(v);
    if (fd >= 0)
        close(fd);
    key_source_free(&ks);
}

/* A key server that never answers holds a fetch for an unknown kid 300 ms
 * and one of the timer 500 ms, no more; the keys already loaded stay. */
static void test_key_source_bounded(void)
{
    char url[64], err[200];
    struct config cfg = {.jwks_refresh = 60};
    struct key_source ks;
    int fd = local_socket(1, url, sizeof url);
    CHECK(fd >= 0 && key_source_init(&ks, &cfg, err, sizeof err) == 0, "set up: %s", err);
    if (fd < 0)
        return;
    cfg.jwks_url = url;
    time_t now = 2000000;
    ks.attempted_at = now - KEY_SOURCE_KID_COOLDOWN; /* as after a good fetch */
    ks.due_at = now + 60;
    double t = seconds();
    CHECK(key_source_refresh_for_kid(&ks, now) == 0 && ks.attempted_at == now && ks.failing,
          "a fetch for the kid was tried, and failed");
    double kid = seconds() - t;
    CHECK(kid >= 0.2 && kid < 0.5, "the kid's fetch took %.3f s", kid);
    t = seconds();
    CHECK(key_source_tick(&ks, ks.due_at) == 0, "the timer's fetch fails");
    double tick = seconds() - t;
    CHECK(tick >= 0.4 && tick < 0.8, "the timer's fetch took %.3f s", tick);
    close(fd);
    key_source_free(&ks);
}

int main(void)
{
    test_base64url();
    test_bad_documents();
    test_cache_forgets_removed_keys();
    log_set_level(LOG_ERROR); /* the failed fetches warn, as they should */
    test_key_source_backoff();
    test_key_source_bounded();
    test_vector("EdDSA");
    test_vector("ES256");
    test_vector("RS256");
    return unit_report("test_jwks");
}
