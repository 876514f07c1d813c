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
#define FETCH_TIMEOUT_SECONDS 5L

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

static int fetch(const char *url, struct buf *out, char *err, size_t errlen)
{
    CURL *curl = curl_easy_init();
    long status = 0;
    CURLcode rc = CURLE_FAILED_INIT;
    if (curl && curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, out) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, FETCH_TIMEOUT_SECONDS) == CURLE_OK &&
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

static int load_url(struct key_source *ks, char *err, size_t errlen)
{
    struct buf body;
    buf_init(&body);
    int n = fetch(ks->cfg->jwks_url, &body, err, errlen) == 0
                ? jwks_load(&ks->url_keys, buf_cstr(&body), body.len, err, errlen)
                : 0;
    buf_free(&body);
    if (n > 0)
        merge(ks);
    return n > 0 ? 0 : -1;
}

int key_source_init(struct key_source *ks, const struct config *cfg, char *err, size_t errlen)
{
    memset(ks, 0, sizeof *ks);
    ks->cfg = cfg;
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
        /* Only a successful fetch starts the clock: if the frontend is not
         * up yet, the first token that needs a key may fetch at once. */
        if (load_url(ks, why, sizeof why) == 0)
            ks->fetched_at = time(NULL);
        else
            log_warn("keys: JWKS_URL %s: %s; will try again when a token needs it", cfg->jwks_url,
                     why);
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

int key_source_refresh(struct key_source *ks, time_t now)
{
    char why[200];
    if (ks->cfg->jwks_url == NULL || now - ks->fetched_at < ks->cfg->jwks_refresh)
        return 0;
    ks->fetched_at = now;
    if (load_url(ks, why, sizeof why) < 0) {
        log_warn("keys: refreshing from JWKS_URL failed: %s", why);
        return 0;
    }
    log_info("keys: refreshed, %d JWKS key(s)", ks->keys.count);
    return 1;
}
