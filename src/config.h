/*
 * config: the environment, read once at start into one struct that nothing
 * changes afterwards. It owns the defaults and the start-up checks (a
 * missing key source, a short production secret, a plain-http JWKS_URL to
 * another host in production, a bad number); it knows nothing of how the
 * settings are used.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "jwks.h"
#include "web_servers.h"

struct config {
    const char *database_url; /* libpq connection string or URI */
    const char *listen;       /* "unix:/path", "host:port", ":port", or NULL: inherit fd 0 */
    int workers;              /* 0: not set */
    int backlog;
    unsigned socket_mode;           /* permissions of a unix socket we create */
    struct web_servers web_servers; /* TCP peers allowed */
    int use_prepared;               /* 0: unnamed statements, for PgBouncer < 1.21 */
    int retry_after;                /* seconds, in every 503 */
    long statement_timeout_ms;      /* 0: the server's own */
    long user_rate;                 /* requests a second per user; 0: no limit */
    long user_burst;                /* requests at once per user */
    long user_task_limit;           /* tasks a user may hold; 0: no limit */
    int production;
    int log_level;

    enum jws_alg jwt_alg;        /* the one algorithm accepted for HMAC tokens */
    const unsigned char *secret; /* NULL: no shared secret */
    size_t secret_len;
    const char *jwks_file; /* NULL: none */
    const char *jwks_url;  /* NULL: none */
    unsigned jwks_algs;    /* allowed JWKS algorithms, 1 << enum jws_alg */
    long jwks_refresh;     /* seconds between two fetches of JWKS_URL */
    const char *issuer;    /* NULL: not checked */
    const char *audience;  /* NULL: not checked */
    long leeway;           /* seconds */
};

/* Fills c from the environment. On a bad setting returns -1 with a message
 * in err (never the secret itself). */
int config_load(struct config *c, char *err, size_t errlen);

#endif
