/*
 * key_source: where the JWKS keys come from: JWKS_FILE (read at start) and
 * JWKS_URL (fetched at start, then again when a token names a kid not in
 * the set, at most once per JWKS_REFRESH_SECONDS, a minute by default). It owns fetching (libcurl),
 * merging the two sets and the refresh rate; what a key is belongs to jwks, what a token is to
 * auth.
 */
#ifndef KEY_SOURCE_H
#define KEY_SOURCE_H

#include <time.h>

#include "config.h"
#include "jwks.h"

struct key_source {
    const struct config *cfg;
    struct jwks file_keys, url_keys;
    struct jwks keys; /* both together: what auth uses */
    time_t fetched_at;
};

/* Loads JWKS_FILE (a failure is returned: the service must not start
 * without the keys it was told to use) and fetches JWKS_URL (a failure is
 * logged: the frontend may come up later, and refresh tries again). Call
 * once, before forking; libcurl's global init happens here. */
int key_source_init(struct key_source *ks, const struct config *cfg, char *err, size_t errlen);
void key_source_free(struct key_source *ks);
/* Fetches JWKS_URL again unless the last attempt was less than
 * JWKS_REFRESH_SECONDS ago. Returns 1 when the key set was replaced. */
int key_source_refresh(struct key_source *ks, time_t now);

#endif
