/*
 * handlers: one function per route, and the dispatcher that runs the
 * contract's checks in order (route, method, token, subject, the user's
 * rate, id and query, body size, media type, body) before any of them. Glue of the other
 * modules, nothing else: no parsing, no SQL text, no sockets.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <time.h>

#include "auth.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "key_source.h"
#include "rate_limit.h"
#include "request.h"
#include "token_cache.h"

/* What one worker keeps between requests. */
struct app {
    const struct config *cfg;
    struct auth_keys keys;
    struct key_source *key_source;
    struct rate_limit *limits; /* the pool's, shared; NULL: no rate limit */
    struct token_cache *tokens;
    struct db db;
    struct buf json; /* response body, reused */
    struct buf headers;
};

void app_init(struct app *app, const struct config *cfg, struct key_source *keys,
              struct rate_limit *limits);
void app_destroy(struct app *app);
/* Work due between requests: the timed refetch of the JWKS keys. */
void app_tick(struct app *app, time_t now);
/* Answers r; returns the route pattern, for the request log line. */
const char *handle_request(struct app *app, struct request *r);

#endif
