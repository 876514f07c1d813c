/*
 * router_fuzzer: arbitrary bytes as a request path (router_match), as an
 * escaped segment (percent_decode), as a task id (router_task_id) and as a
 * query string (list_query_parse). A decoded user id must survive the trip
 * router_tasks_path -> router_match unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/buf.h"
#include "../src/list_query.h"
#include "../src/router.h"

#include "fuzz.h"

/* The path of a user's tasks, matched again, names the same user. */
static void round_trip(const char *user_id, size_t len)
{
    struct buf b;
    struct route r;
    buf_init(&b);
    router_tasks_path(&b, user_id, len);
    REQUIRE(b.len >= 5 && memcmp(b.data, "/api/", 5) == 0);
    REQUIRE(router_match(b.data, b.len, &r) == ROUTE_TASKS);
    REQUIRE(r.user_id_len == len && memcmp(r.user_id, user_id, len) == 0);
    buf_free(&b);
}

static void match(const char *path, size_t n)
{
    struct route r;
    enum route_id id = router_match(path, n, &r);
    REQUIRE(id == r.id && router_pattern(id) != NULL && router_allow(id) != NULL);
    if (id == ROUTE_NONE || id == ROUTE_HEALTH)
        return;
    REQUIRE(r.user_id_len >= 1 && r.user_id_len <= USER_ID_MAX);
    REQUIRE(r.user_id[r.user_id_len] == '\0');
    REQUIRE((id == ROUTE_TASKS) == (r.task_id == NULL));
    if (r.task_id) {
        REQUIRE(r.task_id >= path && r.task_id + r.task_id_len <= path + n);
        REQUIRE(r.task_id_len >= 1 && memchr(r.task_id, '/', r.task_id_len) == NULL);
    }
    round_trip(r.user_id, r.user_id_len);
}

static void task_id(const char *s, size_t n)
{
    int64_t v = 0;
    char text[32];
    if (router_task_id(s, n, &v) < 0)
        return;
    /* digits only, leading zeros allowed, the value printed back */
    while (n > 1 && *s == '0')
        s++, n--;
    REQUIRE(v >= 1);
    REQUIRE((size_t)snprintf(text, sizeof text, "%lld", (long long)v) == n);
    REQUIRE(memcmp(text, s, n) == 0);
}

static void decode(const char *s, size_t n)
{
    char out[USER_ID_MAX + 1];
    size_t len = 0;
    if (percent_decode(s, n, out, USER_ID_MAX, &len) < 0)
        return;
    REQUIRE(len <= n && len <= USER_ID_MAX);
    if (len > 0)
        round_trip(out, len);
}

static void query(const char *s, size_t n)
{
    struct list_query q;
    struct field_errors e;
    char *qs = malloc(n + 1);
    REQUIRE(qs != NULL);
    memcpy(qs, s, n);
    qs[n] = '\0';
    int rc = list_query_parse(qs, &q, &e);
    REQUIRE(e.count >= 0 && e.count <= FIELD_ERRORS_MAX);
    REQUIRE((rc == 0) == (e.count == 0));
    if (rc == 0) {
        REQUIRE(q.limit >= 1 && q.limit <= LIST_LIMIT_MAX && q.offset >= 0);
        REQUIRE(list_status_name(q.status) != NULL && list_sort_name(q.sort) != NULL);
        REQUIRE(q.priority >= -1 && q.priority < PRIORITY_COUNT);
    }
    free(qs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    match(s, size);
    decode(s, size);
    task_id(s, size);
    query(s, size);
    return 0;
}
