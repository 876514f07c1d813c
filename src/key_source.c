/*
 * key_source: JWKS_FILE and JWKS_URL. See key_source.h.
 */
#include "key_source.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "buf.h"
#include "log.h"

#define JWKS_MAX_BYTES ((size_t)1 << 20)
/* The longest a fetch may take: at start, before any request; on the
 * timer, between two requests of one worker (the others serve meanwhile);
 * for an unknown kid, within the request that named it. */
#define START_TIMEOUT_MS 2000L
#define TICK_TIMEOUT_MS 500L
#define KID_TIMEOUT_MS 300L

static int read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len <= JWKS_MAX_BYTES)
        buf_append(out, chunk, n);
    int failed = ferror(f) || out->len > JWKS_MAX_BYTES;
    fclose(f);
    return failed ? -1 : 0;
}

static size_t on_data(char *data, size_t size, size_t count, void *userdata)
{
    struct buf *out = userdata;
    if (out->len + size * count > JWKS_MAX_BYTES)
        return 0; /* makes curl fail the transfer */
    buf_append(out, data, size * count);
    return size * count;
}

static int fetch(const char *url, long timeout_ms, struct buf *out, char *err, size_t errlen)
{
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (curl && curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, out) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK)
        rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status != 200) {
        snprintf(err, errlen, "%s", rc != CURLE_OK ? curl_easy_strerror(rc) : "status not 200");
        return -1;
    }
    return 0;
}

/* keys = file_keys + url_keys, sharing the OpenSSL keys by reference. */
static void merge(struct key_source *ks)
{
    const struct jwks *parts[] = {&ks->file_keys, &ks->url_keys};
    jwks_free(&ks->keys);
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < parts[p]->count && ks->keys.count < JWKS_MAX_KEYS; i++) {
            struct jwk *k = &ks->keys.keys[ks->keys.count];
            *k = parts[p]->keys[i];
            if (EVP_PKEY_up_ref(k->pkey) == 1)
                ks->keys.count++;
        }
}

static int load_url(struct key_source *ks, long timeout_ms, char *err, size_t errlen)
{
    struct buf body;
    buf_init(&body);
    int n = fetch(ks->cfg->jwks_url, timeout_ms, &body, err, errlen) == 0
                ? jwks_load(&ks->url_keys, buf_cstr(&body), body.len, err, errlen)
                : 0;
    buf_free(&body);
    if (n > 0)
        merge(ks);
    return n > 0 ? 0 : -1;
}

/* One fetch, and when the timer fetches next: JWKS_REFRESH_SECONDS after a
 * good one, the backoff after a failed one. Returns 0 when it was good. */
static int fetch_now(struct key_source *ks, time_t now, long timeout_ms, char *why, size_t len)
{
    long refresh = ks->cfg->jwks_refresh;
    ks->attempted_at = now;
    if (load_url(ks, timeout_ms, why, len) == 0) {
        ks->failing = 0;
        ks->backoff = 1;
        ks->due_at = now + refresh;
        return 0;
    }
    ks->failing = 1;
    ks->due_at = now + ks->backoff;
    ks->backoff = ks->backoff * 2 < refresh ? ks->backoff * 2 : refresh;
    return -1;
}

int key_source_init(struct key_source *ks, const struct config *cfg, char *err, size_t errlen)
{
    memset(ks, 0, sizeof *ks);
    ks->cfg = cfg;
    ks->backoff = 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        return -1;
    }
    if (cfg->jwks_file) {
        struct buf text;
        char why[200] = "cannot read the file";
        buf_init(&text);
        int ok = read_file(cfg->jwks_file, &text) == 0 &&
                 jwks_load(&ks->file_keys, buf_cstr(&text), text.len, why, sizeof why) > 0;
        buf_free(&text);
        if (!ok) {
            snprintf(err, errlen, "JWKS_FILE %s: %s", cfg->jwks_file, why);
            return -1;
        }
        merge(ks);
    }
    if (cfg->jwks_url) {
        char why[200];
        if (fetch_now(ks, time(NULL), START_TIMEOUT_MS, why, sizeof why) < 0)
            log_warn("keys: JWKS_URL %s: %s; will try again in %ld s, backing off to %ld s",
                     cfg->jwks_url, why, (long)(ks->due_at - ks->attempted_at), cfg->jwks_refresh);
    }
    log_info("keys: %d JWKS key(s)%s", ks->keys.count, cfg->secret ? " and a shared secret" : "");
    return 0;
}

void key_source_free(struct key_source *ks)
{
    jwks_free(&ks->keys);
    jwks_free(&ks->file_keys);
    jwks_free(&ks->url_keys);
}

/* A fetch that logs what came of it: a failure, and a change of state or
 * of the number of keys, at warn and info; a routine refresh at debug. */
static int fetch_and_log(struct key_source *ks, time_t now, long timeout_ms, const char *why_now)
{
    char why[200];
    int was_failing = ks->failing, had = ks->keys.count;
    if (fetch_now(ks, now, timeout_ms, why, sizeof why) < 0) {
        log_warn("keys: fetching JWKS_URL (%s) failed: %s; next try in %ld s", why_now, why,
                 (long)(ks->due_at - now));
        return 0;
    }
    log_msg(was_failing || had != ks->keys.count ? LOG_INFO : LOG_DEBUG,
            "keys: fetched JWKS_URL (%s), %d JWKS key(s)", why_now, ks->keys.count);
    return 1;
}

int key_source_tick(struct key_source *ks, time_t now)
{
    /* A clock set back would otherwise put the next fetch off by as much. */
    if (ks->cfg->jwks_url == NULL || (now < ks->due_at && now >= ks->attempted_at))
        return 0;
    return fetch_and_log(ks, now, TICK_TIMEOUT_MS, "timer");
}

int key_source_refresh_for_kid(struct key_source *ks, time_t now)
{
    long cooldown = ks->cfg->jwks_refresh < KEY_SOURCE_KID_COOLDOWN ? ks->cfg->jwks_refresh
                                                                    : KEY_SOURCE_KID_COOLDOWN;
    if (ks->cfg->jwks_url == NULL || ks->failing || now - ks->attempted_at < cooldown)
        return 0;
    return fetch_and_log(ks, now, KID_TIMEOUT_MS, "unknown kid");
}

int key_source_unavailable(const struct key_source *ks)
{
    return ks->cfg->jwks_url != NULL && ks->failing;
}
