/* Unit tests of config: the environment -> struct config, and its refusals.
 * Each case starts from a valid environment (DATABASE_URL and a secret, every
 * other setting unset), changes a few variables, and calls config_load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/config.h"
#include "../../src/log.h"
#include "unit.h"

#define SECRET "unit-secret-of-forty-bytes-0123456789ab"
#define SECRET_31 "abcdefghijklmnopqrstuvwxyz01234"
#define SECRET_32 "abcdefghijklmnopqrstuvwxyz012345"

/* Everything config_load reads, cleared before each case. */
static const char *const settings[] = {
    "DATABASE_URL",
    "BETTER_AUTH_SECRET",
    "ENVIRONMENT",
    "JWT_ALGORITHM",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_LEEWAY",
    "LISTEN",
    "WORKERS",
    "LISTEN_BACKLOG",
    "SOCKET_MODE",
    "DB_PREPARE",
    "RETRY_AFTER",
    "LOG_LEVEL",
    "JWKS_FILE",
    "JWKS_URL",
    "JWKS_ALGORITHMS",
    "JWKS_REFRESH_SECONDS",
    "FCGI_WEB_SERVER_ADDRS",
    "USER_RATE_LIMIT",
    "USER_RATE_BURST",
    "USER_TASK_LIMIT",
    "DB_STATEMENT_TIMEOUT_MS",
};

struct setting {
    const char *name;
    const char *value; /* NULL: unset */
};

struct config_case {
    const char *what;
    struct setting env[3];
    const char *error; /* NULL: config_load succeeds; else a part of its message */
    void (*verify)(const struct config *c);
};

static void web_servers_two(const struct config *c)
{
    CHECK(c->web_servers.count == 2, "FCGI_WEB_SERVER_ADDRS: %d addresses", c->web_servers.count);
}

static void jwks_file_only(const struct config *c)
{
    CHECK(c->secret == NULL && c->secret_len == 0, "no secret");
    CHECK(c->jwks_file && strcmp(c->jwks_file, "/etc/jwks.json") == 0, "jwks_file");
}

static void eddsa_rs512(const struct config *c)
{
    CHECK(c->jwks_algs == ((1u << JWS_EDDSA) | (1u << JWS_RS512)), "jwks_algs %x", c->jwks_algs);
}

static void defaults(const struct config *c)
{
    CHECK(c->jwks_algs == ((1u << JWS_EDDSA) | (1u << JWS_ES256) | (1u << JWS_RS256)),
          "default JWKS algorithms %x", c->jwks_algs);
    CHECK(strcmp(c->database_url, "host=/tmp dbname=todo") == 0, "database_url %s",
          c->database_url);
    CHECK(c->secret_len == strlen(SECRET) && memcmp(c->secret, SECRET, c->secret_len) == 0,
          "secret of %zu bytes", c->secret_len);
    CHECK(c->listen == NULL, "listen %s", c->listen);
    CHECK(c->workers == 0, "workers %d", c->workers);
    CHECK(c->backlog == 1024, "backlog %d", c->backlog);
    CHECK(c->socket_mode == 0660, "socket_mode %o", c->socket_mode);
    CHECK(c->use_prepared == 1, "use_prepared %d", c->use_prepared);
    CHECK(c->retry_after == 5, "retry_after %d", c->retry_after);
    CHECK(c->production == 0, "production %d", c->production);
    CHECK(c->log_level == LOG_INFO, "log_level %d", c->log_level);
    CHECK(c->jwt_alg == JWS_HS256, "jwt_alg %d", (int)c->jwt_alg);
    CHECK(c->issuer == NULL && c->audience == NULL, "issuer or audience set");
    CHECK(c->leeway == 60, "leeway %ld", c->leeway);
    CHECK(c->user_rate == 50 && c->user_burst == 100, "user rate %ld burst %ld", c->user_rate,
          c->user_burst);
    CHECK(c->user_task_limit == 10000, "user_task_limit %ld", c->user_task_limit);
    CHECK(c->statement_timeout_ms == 5000, "statement_timeout_ms %ld", c->statement_timeout_ms);
}

static void rate_20(const struct config *c)
{
    CHECK(c->user_rate == 20 && c->user_burst == 40, "rate %ld burst %ld", c->user_rate,
          c->user_burst);
}

static void rate_20_burst_5(const struct config *c)
{
    CHECK(c->user_rate == 20 && c->user_burst == 5, "rate %ld burst %ld", c->user_rate,
          c->user_burst);
}

static void limits_off(const struct config *c)
{
    CHECK(c->user_rate == 0, "user_rate %ld", c->user_rate);
    CHECK(c->user_task_limit == 0, "user_task_limit %ld", c->user_task_limit);
    CHECK(c->statement_timeout_ms == 0, "statement_timeout_ms %ld", c->statement_timeout_ms);
}

static void production_32(const struct config *c)
{
    CHECK(c->production == 1, "production %d", c->production);
    CHECK(c->secret_len == 32, "secret_len %zu", c->secret_len);
}

static void hs384(const struct config *c)
{
    CHECK(c->jwt_alg == JWS_HS384, "jwt_alg %d", (int)c->jwt_alg);
}

static void leeway_0(const struct config *c)
{
    CHECK(c->leeway == 0, "leeway %ld", c->leeway);
}

static void workers_4(const struct config *c)
{
    CHECK(c->workers == 4, "workers %d", c->workers);
}

static void log_debug_level(const struct config *c)
{
    CHECK(c->log_level == LOG_DEBUG, "log_level %d", c->log_level);
}

static void socket_0666(const struct config *c)
{
    CHECK(c->socket_mode == 0666, "socket_mode %o", c->socket_mode);
}

static void unprepared(const struct config *c)
{
    CHECK(c->use_prepared == 0, "use_prepared %d", c->use_prepared);
}

static void issuer_audience(const struct config *c)
{
    CHECK(c->issuer && strcmp(c->issuer, "https://auth.example") == 0, "issuer %s", c->issuer);
    CHECK(c->audience && strcmp(c->audience, "todo") == 0, "audience %s", c->audience);
}

static void refresh_5(const struct config *c)
{
    CHECK(c->jwks_refresh == 5, "jwks_refresh %ld", c->jwks_refresh);
}

static void refresh_default(const struct config *c)
{
    CHECK(c->jwks_refresh == 60, "jwks_refresh %ld", c->jwks_refresh);
}

#define PRODUCTION_URL(what, url, error)                                                         \
    {                                                                                            \
        "production, JWKS_URL " what, {{"ENVIRONMENT", "production"}, {"JWKS_URL", url}}, error, \
            NULL                                                                                 \
    }

static const struct config_case cases[] = {
    {"JWKS_REFRESH_SECONDS default", {{NULL, NULL}}, NULL, refresh_default},
    {"JWKS_REFRESH_SECONDS 5", {{"JWKS_REFRESH_SECONDS", "5"}}, NULL, refresh_5},
    {"JWKS_REFRESH_SECONDS 0", {{"JWKS_REFRESH_SECONDS", "0"}}, "JWKS_REFRESH_SECONDS", NULL},
    PRODUCTION_URL("https", "https://auth.example/api/auth/jwks", NULL),
    PRODUCTION_URL("HTTPS upper case", "HTTPS://auth.example/api/auth/jwks", NULL),
    PRODUCTION_URL("http to a remote host", "http://auth.example/api/auth/jwks", "https"),
    PRODUCTION_URL("http to a remote address", "http://10.0.0.5:3000/api/auth/jwks", "https"),
    PRODUCTION_URL("http to 127.0.0.1", "http://127.0.0.1:3000/api/auth/jwks", NULL),
    PRODUCTION_URL("http to 127.1.2.3", "http://127.1.2.3/api/auth/jwks", NULL),
    PRODUCTION_URL("http to localhost", "http://localhost:3000/api/auth/jwks", NULL),
    PRODUCTION_URL("http to [::1]", "http://[::1]:3000/api/auth/jwks", NULL),
    PRODUCTION_URL("http to localhost.evil", "http://localhost.evil.example/jwks", "https"),
    PRODUCTION_URL("http to 127.0.0.1.evil", "http://127.0.0.1.evil.example/jwks", "https"),
    PRODUCTION_URL("http, loopback userinfo", "http://127.0.0.1@evil.example/jwks", "https"),
    PRODUCTION_URL("http, no path", "http://evil.example", "https"),
    PRODUCTION_URL("http to 127.0.0.256", "http://127.0.0.256/jwks", "https"),
    PRODUCTION_URL("http to ::1 in full", "http://[0:0:0:0:0:0:0:1]/jwks", NULL),
    PRODUCTION_URL("http to ::2", "http://[::2]/jwks", "https"),
    PRODUCTION_URL("http, two userinfos", "http://a@127.0.0.1@evil.example/jwks", "https"),
    PRODUCTION_URL("http, loopback after userinfo", "http://user@127.0.0.1:3000/jwks", NULL),
    {"development, JWKS_URL http to a remote host",
     {{"ENVIRONMENT", "development"}, {"JWKS_URL", "http://auth.example/api/auth/jwks"}},
     NULL,
     NULL},
    {"JWKS_URL ftp", {{"JWKS_URL", "ftp://auth.example/jwks"}}, "JWKS_URL", NULL},

    {"valid minimum: the defaults", {{NULL, NULL}}, NULL, defaults},
    {"empty settings count as unset",
     {{"LOG_LEVEL", ""}, {"WORKERS", ""}, {"JWT_LEEWAY", ""}},
     NULL,
     defaults},
    {"no DATABASE_URL", {{"DATABASE_URL", NULL}}, "DATABASE_URL", NULL},
    {"empty DATABASE_URL", {{"DATABASE_URL", ""}}, "DATABASE_URL", NULL},
    {"no BETTER_AUTH_SECRET", {{"BETTER_AUTH_SECRET", NULL}}, "BETTER_AUTH_SECRET", NULL},
    {"JWKS_FILE alone",
     {{"BETTER_AUTH_SECRET", NULL}, {"JWKS_FILE", "/etc/jwks.json"}},
     NULL,
     jwks_file_only},
    {"JWKS_URL alone", {{"BETTER_AUTH_SECRET", NULL}, {"JWKS_URL", "http://x/jwks"}}, NULL, NULL},
    {"JWKS_ALGORITHMS HS256", {{"JWKS_ALGORITHMS", "HS256"}}, "JWKS_ALGORITHMS", NULL},
    {"JWKS_ALGORITHMS none", {{"JWKS_ALGORITHMS", "none"}}, "JWKS_ALGORITHMS", NULL},
    {"JWKS_ALGORITHMS list", {{"JWKS_ALGORITHMS", "EdDSA, RS512"}}, NULL, eddsa_rs512},
    {"production, 31-byte secret",
     {{"ENVIRONMENT", "production"}, {"BETTER_AUTH_SECRET", SECRET_31}},
     "BETTER_AUTH_SECRET",
     NULL},
    {"production, 32-byte secret",
     {{"ENVIRONMENT", "production"}, {"BETTER_AUTH_SECRET", SECRET_32}},
     NULL,
     production_32},
    {"development, 31-byte secret",
     {{"ENVIRONMENT", "development"}, {"BETTER_AUTH_SECRET", SECRET_31}},
     NULL,
     NULL},
    {"ENVIRONMENT staging", {{"ENVIRONMENT", "staging"}}, "ENVIRONMENT", NULL},
    {"JWT_ALGORITHM HS384", {{"JWT_ALGORITHM", "HS384"}}, NULL, hs384},
    {"JWT_ALGORITHM RS256", {{"JWT_ALGORITHM", "RS256"}}, "JWT_ALGORITHM", NULL},
    {"JWT_ALGORITHM none", {{"JWT_ALGORITHM", "none"}}, "JWT_ALGORITHM", NULL},
    {"JWT_ISSUER and JWT_AUDIENCE",
     {{"JWT_ISSUER", "https://auth.example"}, {"JWT_AUDIENCE", "todo"}},
     NULL,
     issuer_audience},
    {"JWT_LEEWAY 0", {{"JWT_LEEWAY", "0"}}, NULL, leeway_0},
    {"JWT_LEEWAY abc", {{"JWT_LEEWAY", "abc"}}, "JWT_LEEWAY", NULL},
    {"JWT_LEEWAY -1", {{"JWT_LEEWAY", "-1"}}, "JWT_LEEWAY", NULL},
    {"JWT_LEEWAY 60s", {{"JWT_LEEWAY", "60s"}}, "JWT_LEEWAY", NULL},
    {"WORKERS 0", {{"WORKERS", "0"}}, "WORKERS", NULL},
    {"WORKERS 4", {{"WORKERS", "4"}}, NULL, workers_4},
    {"LOG_LEVEL verbose", {{"LOG_LEVEL", "verbose"}}, "LOG_LEVEL", NULL},
    {"LOG_LEVEL debug", {{"LOG_LEVEL", "debug"}}, NULL, log_debug_level},
    {"SOCKET_MODE 0666", {{"SOCKET_MODE", "0666"}}, NULL, socket_0666},
    {"SOCKET_MODE 999", {{"SOCKET_MODE", "999"}}, "SOCKET_MODE", NULL},
    {"FCGI_WEB_SERVER_ADDRS host name",
     {{"FCGI_WEB_SERVER_ADDRS", "10.0.0.1,nginx"}},
     "FCGI_WEB_SERVER_ADDRS: nginx is not an IP address",
     NULL},
    {"FCGI_WEB_SERVER_ADDRS two",
     {{"FCGI_WEB_SERVER_ADDRS", "10.0.0.1, ::1"}},
     NULL,
     web_servers_two},
    {"SOCKET_MODE 1777", {{"SOCKET_MODE", "1777"}}, "SOCKET_MODE", NULL},
    {"SOCKET_MODE wrapping", {{"SOCKET_MODE", "40000000666"}}, "SOCKET_MODE", NULL},
    {"SOCKET_MODE signed", {{"SOCKET_MODE", "-0"}}, "SOCKET_MODE", NULL},
    {"DB_PREPARE 0", {{"DB_PREPARE", "0"}}, NULL, unprepared},
    {"DB_PREPARE 2", {{"DB_PREPARE", "2"}}, "DB_PREPARE", NULL},
    {"RETRY_AFTER 0", {{"RETRY_AFTER", "0"}}, "RETRY_AFTER", NULL},
    {"LISTEN_BACKLOG 70000", {{"LISTEN_BACKLOG", "70000"}}, "LISTEN_BACKLOG", NULL},
    {"USER_RATE_LIMIT 20: burst twice that", {{"USER_RATE_LIMIT", "20"}}, NULL, rate_20},
    {"USER_RATE_LIMIT 20, USER_RATE_BURST 5",
     {{"USER_RATE_LIMIT", "20"}, {"USER_RATE_BURST", "5"}},
     NULL,
     rate_20_burst_5},
    {"every limit 0: off",
     {{"USER_RATE_LIMIT", "0"}, {"USER_TASK_LIMIT", "0"}, {"DB_STATEMENT_TIMEOUT_MS", "0"}},
     NULL,
     limits_off},
    {"USER_RATE_LIMIT -1", {{"USER_RATE_LIMIT", "-1"}}, "USER_RATE_LIMIT", NULL},
    {"USER_RATE_LIMIT 20/40", {{"USER_RATE_LIMIT", "20/40"}}, "USER_RATE_LIMIT", NULL},
    {"USER_RATE_BURST 0", {{"USER_RATE_BURST", "0"}}, "USER_RATE_BURST", NULL},
    {"USER_TASK_LIMIT -5", {{"USER_TASK_LIMIT", "-5"}}, "USER_TASK_LIMIT", NULL},
    {"DB_STATEMENT_TIMEOUT_MS 5s",
     {{"DB_STATEMENT_TIMEOUT_MS", "5s"}},
     "DB_STATEMENT_TIMEOUT_MS",
     NULL},
};

static void set(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static void run(const struct config_case *t)
{
    struct config c;
    char err[256];
    const char *secret;

    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        unsetenv(settings[i]);
    set("DATABASE_URL", "host=/tmp dbname=todo");
    set("BETTER_AUTH_SECRET", SECRET);
    for (size_t i = 0; i < sizeof t->env / sizeof t->env[0] && t->env[i].name; i++)
        set(t->env[i].name, t->env[i].value);
    secret = getenv("BETTER_AUTH_SECRET");

    memset(err, 0, sizeof err);
    int rc = config_load(&c, err, sizeof err);
    if (t->error == NULL) {
        CHECK(rc == 0, "%s: refused: %s", t->what, err);
        if (rc == 0 && t->verify)
            t->verify(&c);
        return;
    }
    CHECK(rc == -1, "%s: accepted, expected a message naming %s", t->what, t->error);
    CHECK(strstr(err, t->error) != NULL, "%s: message \"%s\" does not name %s", t->what, err,
          t->error);
    if (secret && *secret) {
        char head[9];
        snprintf(head, sizeof head, "%s", secret);
        CHECK(strstr(err, secret) == NULL && strstr(err, head) == NULL,
              "%s: message contains the secret", t->what);
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(&cases[i]);
    return unit_report("test_config");
}
