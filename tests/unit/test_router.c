/* Unit tests of router: path matching, methods, task ids, percent-decoding. */
#include <string.h>

#include "../../src/buf.h"
#include "../../src/router.h"
#include "unit.h"

static void test_match(void)
{
    static const struct {
        const char *path;
        enum route_id id;
        const char *user; /* decoded, NULL: not checked */
        const char *task_id;
    } cases[] = {
        {"/api/health", ROUTE_HEALTH, NULL, NULL},
        {"/api/alice/tasks", ROUTE_TASKS, "alice", NULL},
        {"/api/alice/tasks/42", ROUTE_TASK, "alice", "42"},
        {"/api/alice/tasks/42/complete", ROUTE_TASK_COMPLETE, "alice", "42"},
        {"/api/alice/tasks/abc", ROUTE_TASK, "alice", "abc"}, /* a 400, not a 404 */
        {"/api/a%2Fb/tasks", ROUTE_TASKS, "a/b", NULL},
        {"/api/a%20b/tasks/1", ROUTE_TASK, "a b", "1"},
        {"/api/%E2%9C%93/tasks", ROUTE_TASKS, "\xE2\x9C\x93", NULL},
        {"/api/health/tasks", ROUTE_TASKS, "health", NULL},
        {"/api/alice/tasks/abc/def", ROUTE_NONE, NULL, NULL},
        {"/api/alice/tasks/1/complete/x", ROUTE_NONE, NULL, NULL},
        {"/api/alice/tasks/", ROUTE_NONE, NULL, NULL},
        {"/api/alice//tasks", ROUTE_NONE, NULL, NULL},
        {"/api//tasks", ROUTE_NONE, NULL, NULL},
        {"/api/alice/task", ROUTE_NONE, NULL, NULL},
        {"/api/alice", ROUTE_NONE, NULL, NULL},
        {"/api/", ROUTE_NONE, NULL, NULL},
        {"/api", ROUTE_NONE, NULL, NULL},
        {"/api/health/", ROUTE_NONE, NULL, NULL},
        {"/apix/alice/tasks", ROUTE_NONE, NULL, NULL},
        {"/", ROUTE_NONE, NULL, NULL},
        {"", ROUTE_NONE, NULL, NULL},
        {"/api/a%zz/tasks", ROUTE_NONE, NULL, NULL},
        {"/api/a%2/tasks", ROUTE_NONE, NULL, NULL},
        {"/api/alice/tasks/1/COMPLETE", ROUTE_NONE, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct route r;
        enum route_id id = router_match(cases[i].path, strlen(cases[i].path), &r);
        CHECK(id == cases[i].id, "%s: got route %d, want %d", cases[i].path, id, cases[i].id);
        if (cases[i].user)
            CHECK(r.user_id_len == strlen(cases[i].user) &&
                      memcmp(r.user_id, cases[i].user, r.user_id_len) == 0,
                  "%s: user %s", cases[i].path, r.user_id);
        if (cases[i].task_id)
            CHECK(r.task_id_len == strlen(cases[i].task_id) &&
                      memcmp(r.task_id, cases[i].task_id, r.task_id_len) == 0,
                  "%s: task id", cases[i].path);
    }
}

static void test_nul_and_long_user(void)
{
    struct route r;
    const char *p = "/api/a%00b/tasks";
    CHECK(router_match(p, strlen(p), &r) == ROUTE_TASKS && r.user_id_len == 3 &&
              memcmp(r.user_id, "a\0b", 3) == 0,
          "NUL is kept, with its length");

    char path[400] = "/api/";
    memset(path + 5, 'u', USER_ID_MAX);
    strcpy(path + 5 + USER_ID_MAX, "/tasks");
    CHECK(router_match(path, strlen(path), &r) == ROUTE_TASKS, "a %d-byte user id fits",
          USER_ID_MAX);
    memset(path + 5, 'u', USER_ID_MAX + 1);
    strcpy(path + 5 + USER_ID_MAX + 1, "/tasks");
    CHECK(router_match(path, strlen(path), &r) == ROUTE_NONE, "a longer one does not");
}

static void test_methods(void)
{
    CHECK(router_allows(ROUTE_TASKS, METHOD_POST), "POST collection");
    CHECK(router_allows(ROUTE_TASKS, METHOD_HEAD), "HEAD collection");
    CHECK(!router_allows(ROUTE_TASKS, METHOD_PUT), "no PUT on the collection");
    CHECK(!router_allows(ROUTE_TASK, METHOD_POST), "no POST on an item");
    CHECK(!router_allows(ROUTE_TASK, METHOD_PATCH), "no PATCH on an item");
    CHECK(router_allows(ROUTE_TASK_COMPLETE, METHOD_PATCH), "PATCH complete");
    CHECK(!router_allows(ROUTE_TASK_COMPLETE, METHOD_GET), "no GET on complete");
    CHECK(!router_allows(ROUTE_HEALTH, METHOD_OTHER), "unknown method");
    CHECK(strcmp(router_allow(ROUTE_TASK), "GET, HEAD, PUT, DELETE") == 0, "Allow of an item");
    CHECK(method_parse("get") == METHOD_OTHER, "methods are case-sensitive");
    CHECK(method_parse("DELETE") == METHOD_DELETE, "DELETE");
}

static void test_task_id(void)
{
    static const struct {
        const char *s;
        int ok;
        int64_t v;
    } cases[] = {
        {"1", 1, 1},
        {"0042", 1, 42},
        {"9223372036854775807", 1, INT64_MAX},
        {"9223372036854775808", 0, 0},
        {"99999999999999999999999", 0, 0},
        {"0", 0, 0},
        {"000", 0, 0},
        {"", 0, 0},
        {"-1", 0, 0},
        {"+1", 0, 0},
        {"1.0", 0, 0},
        {"1e3", 0, 0},
        {" 1", 0, 0},
        {"abc", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 0;
        int rc = router_task_id(cases[i].s, strlen(cases[i].s), &v);
        CHECK((rc == 0) == cases[i].ok && (!cases[i].ok || v == cases[i].v), "id '%s'", cases[i].s);
    }
}

static void test_tasks_path(void)
{
    struct buf b;
    buf_init(&b);
    router_tasks_path(&b, "a/b c~\xE2\x9C\x93", 9);
    CHECK(strcmp(buf_cstr(&b), "/api/a%2Fb%20c~%E2%9C%93/tasks") == 0, "got %s", b.data);
    buf_free(&b);
}

int main(void)
{
    test_match();
    test_nul_and_long_user();
    test_methods();
    test_task_id();
    test_tasks_path();
    return unit_report("test_router");
}
