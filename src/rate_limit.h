/*
 * rate_limit: the per-user request rate (USER_RATE_LIMIT requests a second,
 * USER_RATE_BURST at once), one table for every process of a pool. It owns
 * the table, in shared memory mapped before the fork (or inherited across an
 * exec), and the arithmetic of its buckets; the clock is passed in, so that
 * tests can pin it. It knows
 * nothing of HTTP: handlers turn a refusal into the 429.
 *
 * Each user's bucket is one 64-bit word updated with a compare-and-swap
 * (GCRA, the token bucket as a single "theoretical arrival time"): a tag of
 * the user id's hash and the time at which the bucket is full again. The
 * table has RATE_LIMIT_SETS sets of RATE_LIMIT_WAYS words, picked by the
 * hash. What that costs in exactness, all of it on the lenient side:
 * - two users whose hashes agree in set and tag (one pair in 2^28) share a
 *   bucket;
 * - a third user active in a full set takes the way of the one whose bucket
 *   refills soonest, who then starts again with a full bucket.
 * A process that dies never holds anything: there is no lock.
 */
#ifndef RATE_LIMIT_H
#define RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_LIMIT_SETS 4096
#define RATE_LIMIT_WAYS 2

struct rate_limit;

/* What one request was told. */
struct rate_verdict {
    bool allowed;
    long remaining;   /* requests still allowed at once after this one */
    long reset;       /* seconds until the bucket is full again (allowed), or
                         until the next request is allowed (refused) */
    long retry_after; /* refused: whole seconds to wait, at least 1 */
};

/* A table for rate requests a second with bursts of burst (both >= 1),
 * shared with every process forked after this call; now_us is the clock
 * (rate_limit_now_us, or a test's). NULL when the mapping fails. */
struct rate_limit *rate_limit_create(long rate, long burst, int64_t now_us);
/* The table of another process, from its rate_limit_fd (inherited across
 * an exec), with this process's numbers. NULL as for create. */
struct rate_limit *rate_limit_attach(int fd, long rate, long burst);
int rate_limit_fd(const struct rate_limit *rl);
void rate_limit_destroy(struct rate_limit *rl);
/* Takes one request of user (len bytes) at now_us. */
void rate_limit_take(struct rate_limit *rl, const char *user, size_t len, int64_t now_us,
                     struct rate_verdict *v);
/* The RateLimit-Policy field value's parameters: the burst (q) and the
 * seconds it takes to refill completely (w). */
long rate_limit_quota(const struct rate_limit *rl);
long rate_limit_window(const struct rate_limit *rl);
/* CLOCK_MONOTONIC in microseconds: the same in every process. */
int64_t rate_limit_now_us(void);

#endif
