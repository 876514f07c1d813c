/*
 * rate_limit: per-user buckets shared by a pool. See rate_limit.h.
 *
 * GCRA: a request costs one interval (1/rate s). A bucket's word holds tat,
 * the time at which all it spent is paid back. A request at now is allowed
 * when, counting its own cost, no more than burst intervals are owed:
 * max(tat, now) + interval - now <= burst * interval; tat then moves on by
 * one interval. A refused request changes nothing.
 */
#include "rate_limit.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TAG_SHIFT 48
#define TIME_MASK ((UINT64_C(1) << TAG_SHIFT) - 1) /* 2^48 us: 8.9 years of uptime */
#define US 1000000

/* In shared memory (a memfd, so that a re-executed worker maps it too). */
struct rate_table {
    int64_t epoch_us; /* times in the words count from here */
    atomic_uint_fast64_t way[RATE_LIMIT_SETS][RATE_LIMIT_WAYS];
};

/* This process's: a reload may change the numbers of the workers it starts. */
struct rate_limit {
    int64_t interval_us; /* one request's cost */
    int64_t burst_us;    /* burst * interval */
    long burst, rate;
    int fd;
    struct rate_table *t;
};

int64_t rate_limit_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * US + ts.tv_nsec / 1000;
}

static struct rate_limit *with_table(int fd, long rate, long burst)
{
    struct rate_limit *rl = NULL;
    if (rate < 1 || rate > US || burst < 1 || (rl = calloc(1, sizeof *rl)) == NULL)
        return NULL;
    rl->t = mmap(NULL, sizeof *rl->t, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rl->t == MAP_FAILED) {
        free(rl);
        return NULL;
    }
    rl->fd = fd;
    rl->interval_us = US / rate;
    rl->burst_us = (int64_t)burst * rl->interval_us;
    rl->burst = burst;
    rl->rate = rate;
    return rl;
}

struct rate_limit *rate_limit_create(long rate, long burst, int64_t now_us)
{
    int fd = memfd_create("todo-api-rate-limit", MFD_CLOEXEC);
    struct rate_limit *rl = NULL;
    if (fd < 0 || ftruncate(fd, (off_t)sizeof(struct rate_table)) < 0 ||
        (rl = with_table(fd, rate, burst)) == NULL) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    /* the memory comes zeroed: every way is a full bucket of tag 0 */
    rl->t->epoch_us = now_us;
    return rl;
}

struct rate_limit *rate_limit_attach(int fd, long rate, long burst)
{
    return with_table(fd, rate, burst);
}

int rate_limit_fd(const struct rate_limit *rl)
{
    return rl->fd;
}

void rate_limit_destroy(struct rate_limit *rl)
{
    if (rl == NULL)
        return;
    munmap(rl->t, sizeof *rl->t);
    close(rl->fd);
    free(rl);
}

long rate_limit_quota(const struct rate_limit *rl)
{
    return rl->burst;
}

long rate_limit_window(const struct rate_limit *rl)
{
    return (rl->burst + rl->rate - 1) / rl->rate;
}

/* FNV-1a: the ids are a frontend's, not an attacker's choice alone (each
 * needs a valid token), and the table's worst case is leniency. */
static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

static int64_t tat_of(uint64_t w)
{
    return (int64_t)(w & TIME_MASK);
}

static long ceil_seconds(int64_t us)
{
    return (long)((us + US - 1) / US);
}

/* The way holding tag, or else the one whose bucket refills soonest. */
static int pick_way(const uint64_t *w, uint64_t tag, bool *found)
{
    int victim = 0;
    for (int i = 0; i < RATE_LIMIT_WAYS; i++) {
        if (w[i] >> TAG_SHIFT == tag) {
            *found = true;
            return i;
        }
        if (tat_of(w[i]) < tat_of(w[victim]))
            victim = i;
    }
    *found = false;
    return victim;
}

void rate_limit_take(struct rate_limit *rl, const char *user, size_t len, int64_t now_us,
                     struct rate_verdict *v)
{
    uint64_t h = hash(user, len), tag = h >> TAG_SHIFT;
    atomic_uint_fast64_t *set = rl->t->way[h % RATE_LIMIT_SETS];
    int64_t now = (now_us - rl->t->epoch_us) & (int64_t)TIME_MASK;

    for (;;) {
        uint64_t w[RATE_LIMIT_WAYS];
        bool found;
        for (int i = 0; i < RATE_LIMIT_WAYS; i++)
            w[i] = atomic_load(&set[i]);
        int i = pick_way(w, tag, &found);
        int64_t tat = found ? tat_of(w[i]) : 0;
        int64_t base = tat > now ? tat : now;
        int64_t owed = base + rl->interval_us - now;
        if (owed > rl->burst_us) {
            v->allowed = false;
            v->remaining = 0;
            v->retry_after = ceil_seconds(owed - rl->burst_us);
            v->reset = v->retry_after;
            return;
        }
        uint64_t next = tag << TAG_SHIFT | ((uint64_t)(base + rl->interval_us) & TIME_MASK);
        if (atomic_compare_exchange_weak(&set[i], &w[i], next)) {
            v->allowed = true;
            v->remaining = (long)((rl->burst_us - owed) / rl->interval_us);
            v->reset = ceil_seconds(owed);
            v->retry_after = 0;
            return;
        }
        /* another process changed the set meanwhile: look again */
    }
}
