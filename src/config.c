/*
 * config: environment -> struct config, checked at start. See config.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define MIN_PRODUCTION_SECRET 32

/* getenv, with "" treated as unset, as the peers and most deployments do. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_long(const char *name, long def, long min, long max, long *out, char *err,
                    size_t errlen)
{
    const char *v = env(name);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < min || n > max) {
        snprintf(err, errlen, "%s must be a whole number from %ld to %ld", name, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* JWKS_ALGORITHMS: a comma or space separated list of asymmetric ones. */
static int parse_jwks_algs(const char *list, unsigned *out)
{
    char copy[256];
    size_t n = strlen(list);
    if (n >= sizeof copy)
        return -1;
    memcpy(copy, list, n + 1);
    *out = 0;
    for (char *save = NULL, *name = strtok_r(copy, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save)) {
        enum jws_alg alg = jws_alg_parse(name);
        if (alg == JWS_UNKNOWN || alg == JWS_NONE || jws_alg_is_hmac(alg))
            return -1;
        *out |= 1u << alg;
    }
    return *out ? 0 : -1;
}

/* Whether an http URL's host is a loopback one: localhost, 127.0.0.0/8 or
 * ::1, written as an address (a name other than localhost might resolve
 * elsewhere tomorrow). A URL with two '@' is not, whatever it means. */
static int loopback_host(const char *url)
{
    const char *host = url + strlen("http://");
    size_t len = strcspn(host, "/?#");
    const char *at = memchr(host, '@', len);
    if (at) { /* userinfo */
        len -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    int bracketed = host[0] == '[';
    size_t n = bracketed ? strcspn(host, "]") : strcspn(host, ":/?#");
    char name[INET6_ADDRSTRLEN];
    if (n > len || n - bracketed >= sizeof name)
        return 0;
    memcpy(name, host + bracketed, n - bracketed);
    name[n - bracketed] = '\0';
    if (bracketed) /* an IPv6 address, and only that */
        return strchr(name, ':') != NULL && web_servers_is_loopback(name);
    return web_servers_is_loopback(name) || strcasecmp(name, "localhost") == 0;
}

/* JWKS_URL: http or https; in production https unless the frontend is on
 * this host, since a key fetched in clear can be replaced on the way. */
static int check_jwks_url(const struct config *c, char *err, size_t errlen)
{
    const char *url = c->jwks_url;
    if (url == NULL || strncasecmp(url, "https://", 8) == 0)
        return 0;
    if (strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "JWKS_URL must be an http:// or https:// URL");
        return -1;
    }
    if (c->production && !loopback_host(url)) {
        snprintf(err, errlen,
                 "JWKS_URL must use https:// in production (plain http:// only to a loopback "
                 "host: localhost, 127.0.0.1, [::1])");
        return -1;
    }
    return 0;
}

static int load_secret(struct config *c, char *err, size_t errlen)
{
    const char *secret = env("BETTER_AUTH_SECRET");
    const char *alg = env("JWT_ALGORITHM");
    c->jwt_alg = alg ? jws_alg_parse(alg) : JWS_HS256;
    if (!jws_alg_is_hmac(c->jwt_alg)) {
        snprintf(err, errlen, "JWT_ALGORITHM must be HS256, HS384 or HS512");
        return -1;
    }
    if (secret == NULL)
        return 0;
    c->secret = (const unsigned char *)secret;
    c->secret_len = strlen(secret);
    if (c->production && c->secret_len < MIN_PRODUCTION_SECRET) {
        snprintf(err, errlen, "BETTER_AUTH_SECRET is shorter than %d bytes, refused in production",
                 MIN_PRODUCTION_SECRET);
        return -1;
    }
    return 0;
}

static int load_tokens(struct config *c, char *err, size_t errlen)
{
    if (load_secret(c, err, errlen) < 0)
        return -1;
    c->jwks_file = env("JWKS_FILE");
    c->jwks_url = env("JWKS_URL");
    if (c->secret == NULL && c->jwks_file == NULL && c->jwks_url == NULL) {
        snprintf(err, errlen,
                 "no key source: set BETTER_AUTH_SECRET, JWKS_FILE or JWKS_URL (or several)");
        return -1;
    }
    if (check_jwks_url(c, err, errlen) < 0)
        return -1;
    const char *algs = env("JWKS_ALGORITHMS");
    if (parse_jwks_algs(algs ? algs : "EdDSA,ES256,RS256", &c->jwks_algs) < 0) {
        snprintf(err, errlen,
                 "JWKS_ALGORITHMS must list some of EdDSA, ES256, ES384, RS256, "
                 "RS384, RS512");
        return -1;
    }
    if (env_long("JWKS_REFRESH_SECONDS", 60, 1, 86400, &c->jwks_refresh, err, errlen) < 0)
        return -1;
    c->issuer = env("JWT_ISSUER");
    c->audience = env("JWT_AUDIENCE");
    return env_long("JWT_LEEWAY", 60, 0, 3600, &c->leeway, err, errlen);
}

static int load_environment(struct config *c, char *err, size_t errlen)
{
    const char *e = env("ENVIRONMENT");
    if (e == NULL || strcmp(e, "development") == 0) {
        c->production = 0;
        return 0;
    }
    if (strcmp(e, "production") == 0) {
        c->production = 1;
        return 0;
    }
    snprintf(err, errlen, "ENVIRONMENT must be development or production");
    return -1;
}

/* Octal digits only, at most 0777: strtoul alone would take a sign and
 * wrap large values into a mode nobody asked for. */
static int load_socket_mode(struct config *c, char *err, size_t errlen)
{
    const char *mode = env("SOCKET_MODE");
    c->socket_mode = 0660;
    if (mode == NULL)
        return 0;
    if (strlen(mode) > 4 || strspn(mode, "01234567") != strlen(mode) ||
        strtoul(mode, NULL, 8) > 0777) {
        snprintf(err, errlen, "SOCKET_MODE must be an octal mode such as 0660");
        return -1;
    }
    c->socket_mode = (unsigned)strtoul(mode, NULL, 8);
    return 0;
}

static int load_server(struct config *c, char *err, size_t errlen)
{
    long n;

    c->database_url = env("DATABASE_URL");
    if (c->database_url == NULL) {
        snprintf(err, errlen, "DATABASE_URL is not set");
        return -1;
    }
    c->listen = env("LISTEN");
    if (env_long("WORKERS", 0, 1, 1024, &n, err, errlen) < 0)
        return -1;
    c->workers = (int)n;
    if (env_long("LISTEN_BACKLOG", 1024, 1, 65535, &n, err, errlen) < 0)
        return -1;
    c->backlog = (int)n;
    if (load_socket_mode(c, err, errlen) < 0 ||
        web_servers_parse(&c->web_servers, env("FCGI_WEB_SERVER_ADDRS"), err, errlen) < 0)
        return -1;
    if (env_long("DB_PREPARE", 1, 0, 1, &n, err, errlen) < 0)
        return -1;
    c->use_prepared = (int)n;
    if (env_long("RETRY_AFTER", 5, 1, 3600, &n, err, errlen) < 0)
        return -1;
    c->retry_after = (int)n;
    return env_long("DB_STATEMENT_TIMEOUT_MS", 5000, 0, 3600000, &c->statement_timeout_ms, err,
                    errlen);
}

/* The defaults are ten times what a person at a frontend makes (a page
 * loads with a handful of requests; clicking gives a few a second), so
 * that only a script meets them. */
static int load_limits(struct config *c, char *err, size_t errlen)
{
    if (env_long("USER_RATE_LIMIT", 50, 0, 1000000, &c->user_rate, err, errlen) < 0 ||
        env_long("USER_RATE_BURST", c->user_rate > 0 ? 2 * c->user_rate : 1, 1, 2000000,
                 &c->user_burst, err, errlen) < 0)
        return -1;
    return env_long("USER_TASK_LIMIT", 10000, 0, 1000000000, &c->user_task_limit, err, errlen);
}

int config_load(struct config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    const char *level = env("LOG_LEVEL");
    c->log_level = level ? log_level_parse(level) : LOG_INFO;
    if (c->log_level < 0) {
        snprintf(err, errlen, "LOG_LEVEL must be error, warn, info or debug");
        return -1;
    }
    if (load_environment(c, err, errlen) < 0 || load_server(c, err, errlen) < 0 ||
        load_limits(c, err, errlen) < 0)
        return -1;
    return load_tokens(c, err, errlen);
}
