/*
 * key_source: where the JWKS keys come from: JWKS_FILE (read at start) and
 * JWKS_URL (fetched at start, then on a timer and on an unknown kid). It
 * owns fetching (libcurl), merging the two sets and when to fetch; what a
 * key is belongs to jwks, what a token is to auth.
 *
 * Every worker holds its own copy and fetches for itself, between requests
 * (key_source_tick) or, for a kid it does not know, within the request but
 * bounded to a fraction of a second. After a good fetch the next is due
 * JWKS_REFRESH_SECONDS later; after a failed one 1 s later, doubling up to
 * JWKS_REFRESH_SECONDS, so that a frontend that comes up late is seen within
 * about the time it was down. The last good keys stay in use meanwhile.
 */
#ifndef KEY_SOURCE_H
#define KEY_SOURCE_H

#include <time.h>

#include "config.h"
#include "jwks.h"

struct key_source {
    const struct config *cfg;
    struct jwks file_keys, url_keys;
    struct jwks keys;    /* both together: what auth uses */
    time_t attempted_at; /* the last fetch of JWKS_URL, good or not */
    time_t due_at;       /* when the timer fetches next */
    long backoff;        /* seconds to wait after the next failure */
    int failing;         /* the last fetch failed: the URL's keys may be missing or stale */
};

/* Loads JWKS_FILE (a failure is returned: the service must not start
 * without the keys it was told to use) and fetches JWKS_URL (a failure is
 * logged: the frontend may come up later, and the timer tries again). Call
 * once, before forking; libcurl's global init happens here. */
int key_source_init(struct key_source *ks, const struct config *cfg, char *err, size_t errlen);
void key_source_free(struct key_source *ks);
/* Fetches JWKS_URL when the timer says so; call between requests. Returns
 * 1 when the key set was replaced. */
int key_source_tick(struct key_source *ks, time_t now);
/* Fetches JWKS_URL for a kid not in the set, unless the last fetch failed
 * (the timer retries) or was less than KEY_SOURCE_KID_COOLDOWN seconds (or
 * JWKS_REFRESH_SECONDS, if shorter) ago: a stream of made-up kids costs the
 * frontend one fetch per worker per cooldown. Returns 1 when the key set
 * was replaced. */
int key_source_refresh_for_kid(struct key_source *ks, time_t now);
/* Whether tokens that name a key we do not have should be told to come
 * back: JWKS_URL is set and its last fetch failed. */
int key_source_unavailable(const struct key_source *ks);

#define KEY_SOURCE_KID_COOLDOWN 10

#endif
