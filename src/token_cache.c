/*
 * token_cache: a set-associative cache of accepted tokens. See
 * token_cache.h.
 */
#include "token_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void token_cache_init(struct token_cache *c)
{
    memset(c, 0, sizeof *c);
}

static void evict(struct token_cache_entry *e)
{
    free(e->token);
    e->token = NULL;
}

void token_cache_free(struct token_cache *c)
{
    for (int i = 0; i < TOKEN_CACHE_SETS; i++)
        for (int w = 0; w < TOKEN_CACHE_WAYS; w++)
            evict(&c->slots[i][w]);
}

/* FNV-1a: the slot index only; equality is decided by comparing bytes. */
static uint64_t hash_of(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h;
}

static void remember(struct token_cache_entry *e, uint64_t h, const char *header, size_t n,
                     const struct auth_subject *subject)
{
    char *copy = malloc(n);
    if (copy == NULL)
        return; /* not remembering is always correct */
    evict(e);
    memcpy(copy, header, n);
    e->hash = h;
    e->token = copy;
    e->token_len = n;
    e->subject = *subject;
}

/* Whether e makes room better than victim: an empty way first, else the
 * least recently used. */
static bool better_victim(const struct token_cache_entry *e, const struct token_cache_entry *victim)
{
    if (victim->token == NULL)
        return false;
    return e->token == NULL || e->used < victim->used;
}

enum auth_status token_cache_verify(struct token_cache *c, const struct auth_keys *keys,
                                    const char *header, time_t now, struct auth_subject *subject)
{
    if (header == NULL || strlen(header) > AUTH_TOKEN_MAX + 64)
        return auth_verify(keys, header, now, subject);
    size_t n = strlen(header);
    uint64_t h = hash_of(header, n);
    struct token_cache_entry *set = c->slots[h % TOKEN_CACHE_SETS], *victim = &set[0];

    c->clock++;
    for (int w = 0; w < TOKEN_CACHE_WAYS; w++) {
        struct token_cache_entry *e = &set[w];
        if (e->token && e->hash == h && e->token_len == n && memcmp(e->token, header, n) == 0) {
            if ((double)now >= e->subject.expires + (double)keys->leeway) {
                evict(e);
                return AUTH_EXPIRED;
            }
            c->hits++;
            e->used = c->clock;
            *subject = e->subject;
            return AUTH_OK;
        }
        if (better_victim(e, victim))
            victim = e;
    }
    c->misses++;
    enum auth_status st = auth_verify(keys, header, now, subject);
    if (st == AUTH_OK) {
        remember(victim, h, header, n, subject);
        victim->used = c->clock;
    }
    return st;
}

void token_cache_forget_keys(struct token_cache *c, const struct jwks *keys)
{
    for (int i = 0; i < TOKEN_CACHE_SETS; i++)
        for (int w = 0; w < TOKEN_CACHE_WAYS; w++) {
            struct token_cache_entry *e = &c->slots[i][w];
            if (e->token && e->subject.key_id && !jwks_has(keys, e->subject.key_id))
                evict(e);
        }
}
