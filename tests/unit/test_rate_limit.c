/* Unit tests of rate_limit: the bucket arithmetic on a pinned clock, users
 * apart, the ways of a set, and one table seen by a forked child. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/rate_limit.h"
#include "unit.h"

#define T0 INT64_C(1000000000) /* any monotonic time */
#define MS INT64_C(1000)

/* A table, or the end of the test: nothing else can run without one. */
static struct rate_limit *table(long rate, long burst, int64_t now)
{
    struct rate_limit *rl = rate_limit_create(rate, burst, now);
    if (rl == NULL) {
        printf("FAIL rate_limit_create(%ld, %ld)\n", rate, burst);
        exit(1);
    }
    return rl;
}

static struct rate_verdict take(struct rate_limit *rl, const char *user, int64_t now)
{
    struct rate_verdict v;
    rate_limit_take(rl, user, strlen(user), now, &v);
    return v;
}

/* Takes n requests at now; returns how many were allowed. */
static int take_n(struct rate_limit *rl, const char *user, int64_t now, int n)
{
    int allowed = 0;
    for (int i = 0; i < n; i++)
        allowed += take(rl, user, now).allowed;
    return allowed;
}

static void test_burst_then_rate(void)
{
    struct rate_limit *rl = table(10, 5, T0); /* 100 ms a request */
    for (long i = 0; i < 5; i++) {
        struct rate_verdict v = take(rl, "alice", T0);
        CHECK(v.allowed && v.remaining == 4 - i, "request %ld: allowed %d remaining %ld", i,
              v.allowed, v.remaining);
        CHECK(v.reset == 1, "request %ld: reset %ld", i, v.reset);
    }
    struct rate_verdict v = take(rl, "alice", T0);
    CHECK(!v.allowed && v.remaining == 0, "the sixth at once is refused");
    CHECK(v.retry_after == 1 && v.reset == 1, "retry_after %ld reset %ld", v.retry_after, v.reset);
    CHECK(!take(rl, "alice", T0 + 99 * MS).allowed, "99 ms later: still nothing paid back");
    CHECK(take(rl, "alice", T0 + 100 * MS).allowed, "100 ms later: one more");
    CHECK(!take(rl, "alice", T0 + 100 * MS).allowed, "and only one");
    CHECK(take_n(rl, "alice", T0 + 600 * MS, 10) == 5, "half a second idle refills the burst");
    CHECK(take_n(rl, "alice", T0 + 10000 * MS, 10) == 5,
          "a long idle gives no more than the burst");
    /* a steady 10 a second is served for ever */
    int served = 0;
    for (int i = 1; i <= 100; i++)
        served += take(rl, "alice", T0 + 10000 * MS + i * 100 * MS).allowed;
    CHECK(served == 100, "steady at the rate: %d of 100", served);
    rate_limit_destroy(rl);
}

static void test_refused_costs_nothing(void)
{
    struct rate_limit *rl = table(1, 1, T0);
    CHECK(take(rl, "bob", T0).allowed, "first");
    CHECK(take_n(rl, "bob", T0 + 500 * MS, 100) == 0, "hammering is refused");
    struct rate_verdict v = take(rl, "bob", T0 + 500 * MS);
    CHECK(v.retry_after == 1, "retry_after %ld", v.retry_after);
    CHECK(take(rl, "bob", T0 + 1000 * MS).allowed, "refusals did not push the next one back");
    rate_limit_destroy(rl);
}

static void test_users_apart(void)
{
    struct rate_limit *rl = table(10, 3, T0);
    CHECK(take_n(rl, "carol", T0, 5) == 3, "carol's burst");
    CHECK(take_n(rl, "dave", T0, 5) == 3, "dave has his own");
    CHECK(take_n(rl, "carol2", T0, 1) == 1, "a similar id too");
    rate_limit_destroy(rl);
}

static void test_policy(void)
{
    struct rate_limit *rl = table(50, 100, T0);
    CHECK(rate_limit_quota(rl) == 100 && rate_limit_window(rl) == 2, "50/100: q %ld w %ld",
          rate_limit_quota(rl), rate_limit_window(rl));
    rate_limit_destroy(rl);
    rl = table(20, 30, T0);
    CHECK(rate_limit_window(rl) == 2, "20/30 refills in 2 s (rounded up): %ld",
          rate_limit_window(rl));
    rate_limit_destroy(rl);
    rl = table(10, 1, T0);
    CHECK(rate_limit_window(rl) == 1, "at least one second: %ld", rate_limit_window(rl));
    rate_limit_destroy(rl);
    CHECK(rate_limit_create(0, 1, T0) == NULL, "rate 0 is no table");
    CHECK(rate_limit_create(1, 0, T0) == NULL, "burst 0 is no table");
}

/* The set of an id: FNV-1a, as rate_limit.c hashes. */
static unsigned set_of(const char *s)
{
    unsigned long long h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (unsigned)(h % RATE_LIMIT_SETS);
}

/* Three ids of one set, found by trying. */
static void same_set(char ids[3][32])
{
    char first[32];
    int n = 0;
    snprintf(first, sizeof first, "user-0");
    memcpy(ids[n++], first, sizeof first);
    for (int i = 1; n < 3; i++) {
        snprintf(ids[n], sizeof ids[n], "user-%d", i);
        if (set_of(ids[n]) == set_of(first))
            n++;
    }
}

static void test_full_set(void)
{
    char ids[3][32];
    struct rate_limit *rl = table(1, 2, T0);

    same_set(ids);
    CHECK(take_n(rl, ids[0], T0, 3) == 2, "first user's burst");
    CHECK(take_n(rl, ids[1], T0 + 10 * MS, 3) == 2, "second user, same set, own bucket");
    /* both ways are in use: the third takes the first's (it refills
     * soonest), and is never refused for being third */
    CHECK(take_n(rl, ids[2], T0 + 20 * MS, 3) == 2, "third user gets a whole burst");
    CHECK(take_n(rl, ids[1], T0 + 20 * MS, 1) == 0, "the second still has its own bucket");
    CHECK(take_n(rl, ids[0], T0 + 30 * MS, 1) == 1,
          "the first, evicted, starts again with a full bucket (lenient)");
    rate_limit_destroy(rl);
}

static void test_shared_across_fork(void)
{
    struct rate_limit *rl = table(1, 4, rate_limit_now_us());
    int64_t now = rate_limit_now_us();
    pid_t pid = fork();
    if (pid == 0)
        _exit(take_n(rl, "erin", now, 3) == 3 ? 0 : 1);
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0,
          "child took three");
    CHECK(take_n(rl, "erin", now, 4) == 1, "the parent sees the child's three: one left");
    rate_limit_destroy(rl);
}

/* A re-executed worker maps the table by its fd, with its own numbers. */
static void test_attached_with_own_numbers(void)
{
    struct rate_limit *rl = table(1, 4, T0);
    struct rate_limit *other = rate_limit_attach(dup(rate_limit_fd(rl)), 1, 6);
    CHECK(other != NULL, "attach");
    if (other == NULL)
        return;
    CHECK(take_n(rl, "finn", T0, 3) == 3, "three taken through the first");
    CHECK(take_n(other, "finn", T0, 6) == 3,
          "the attached one sees them, and allows its own burst: 3 of 6 left");
    CHECK(rate_limit_quota(other) == 6 && rate_limit_quota(rl) == 4, "each its own numbers");
    rate_limit_destroy(other);
    rate_limit_destroy(rl);
}

int main(void)
{
    test_burst_then_rate();
    test_refused_costs_nothing();
    test_users_apart();
    test_policy();
    test_full_set();
    test_shared_across_fork();
    test_attached_with_own_numbers();
    return unit_report("test_rate_limit");
}
