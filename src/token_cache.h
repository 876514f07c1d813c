/*
 * token_cache: remembers, per worker, the tokens auth has already accepted,
 * so that a session's every request does not pay for base64, two JSON
 * parses and an HMAC again. It owns the cache and its one rule: an entry is
 * used only for a byte-identical token, and only until the token's exp
 * (plus leeway) passes, and only while the key that verified it is in the
 * key set. Only accepted tokens are cached; the claim rules are fixed for
 * the life of the process, and nbf/iat can only become more true with
 * time, so exp is the one claim left to re-check; a refetched key set is
 * told to the cache (token_cache_forget_keys), which drops the tokens of
 * the keys that left it.
 */
#ifndef TOKEN_CACHE_H
#define TOKEN_CACHE_H

#include <stdint.h>
#include <time.h>

#include "auth.h"

/* Sets of ways: a token may sit in any way of the set its hash picks, and
 * the least recently used one makes room. Direct-mapped, 200 sessions in
 * 256 slots missed about a third of the time (each a full verification). */
#define TOKEN_CACHE_SETS 256
#define TOKEN_CACHE_WAYS 4

struct token_cache_entry {
    uint64_t hash;
    char *token; /* owned; NULL when the slot is empty */
    size_t token_len;
    unsigned long used; /* the cache's clock at its last use */
    struct auth_subject subject;
};

struct token_cache {
    struct token_cache_entry slots[TOKEN_CACHE_SETS][TOKEN_CACHE_WAYS];
    unsigned long clock, hits, misses;
};

void token_cache_init(struct token_cache *c);
void token_cache_free(struct token_cache *c);
/* auth_verify, answered from the cache when it can be. */
enum auth_status token_cache_verify(struct token_cache *c, const struct auth_keys *keys,
                                    const char *header, time_t now, struct auth_subject *subject);

/* Drops the tokens verified by a JWKS key that is not in keys; call after
 * the key set changed. */
void token_cache_forget_keys(struct token_cache *c, const struct jwks *keys);

#endif
