/* Unit tests of list_query: defaults, each parameter, errors. */
#include <string.h>

#include "../../src/list_query.h"
#include "unit.h"

static void test_valid(void)
{
    static const struct {
        const char *qs;
        enum list_status status;
        int priority;
        enum list_sort sort;
        int desc;
        int64_t limit, offset;
    } cases[] = {
        {"", LIST_ALL, -1, SORT_CREATED, 1, 1000, 0},
        {"status=pending", LIST_PENDING, -1, SORT_CREATED, 1, 1000, 0},
        {"status=completed&sort=title", LIST_COMPLETED, -1, SORT_TITLE, 0, 1000, 0},
        {"sort=-updated&limit=5&offset=10", LIST_ALL, -1, SORT_UPDATED, 1, 5, 10},
        {"sort=%2Dcreated", LIST_ALL, -1, SORT_CREATED, 1, 1000, 0},
        {"sort=created", LIST_ALL, -1, SORT_CREATED, 0, 1000, 0},
        {"limit=1&limit=1000", LIST_ALL, -1, SORT_CREATED, 1, 1000, 0},
        {"unknown=zzz&x", LIST_ALL, -1, SORT_CREATED, 1, 1000, 0},
        {"offset=9223372036854775807", LIST_ALL, -1, SORT_CREATED, 1, 1000, INT64_MAX},
        {"limit=007", LIST_ALL, -1, SORT_CREATED, 1, 7, 0},
        {"sort=due_date", LIST_ALL, -1, SORT_DUE_DATE, 0, 1000, 0},
        {"sort=-due_date", LIST_ALL, -1, SORT_DUE_DATE, 1, 1000, 0},
        {"sort=priority", LIST_ALL, -1, SORT_PRIORITY, 0, 1000, 0},
        {"sort=-priority", LIST_ALL, -1, SORT_PRIORITY, 1, 1000, 0},
        {"priority=low", LIST_ALL, PRIORITY_LOW, SORT_CREATED, 1, 1000, 0},
        {"priority=medium", LIST_ALL, PRIORITY_MEDIUM, SORT_CREATED, 1, 1000, 0},
        {"priority=high&status=pending&sort=due_date&limit=2&offset=4", LIST_PENDING, PRIORITY_HIGH,
         SORT_DUE_DATE, 0, 2, 4},
        {"priority=low&priority=high", LIST_ALL, PRIORITY_HIGH, SORT_CREATED, 1, 1000, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct list_query q;
        struct field_errors e;
        int rc = list_query_parse(cases[i].qs, &q, &e);
        CHECK(rc == 0 && q.status == cases[i].status && q.priority == cases[i].priority &&
                  q.sort == cases[i].sort && q.descending == cases[i].desc &&
                  q.limit == cases[i].limit && q.offset == cases[i].offset,
              "'%s'", cases[i].qs);
    }
}

static void test_invalid(void)
{
    static const struct {
        const char *qs;
        const char *field;
    } cases[] = {
        {"status=done", "status"},
        {"status=", "status"},
        {"status=ALL", "status"},
        {"sort=name", "sort"},
        {"sort=-", "sort"},
        {"sort=--created", "sort"},
        {"limit=0", "limit"},
        {"limit=1001", "limit"},
        {"limit=", "limit"},
        {"limit=-1", "limit"},
        {"limit=+1", "limit"},
        {"limit=1.5", "limit"},
        {"limit", "limit"},
        {"offset=-1", "offset"},
        {"offset=x", "offset"},
        {"offset=9223372036854775808", "offset"},
        {"limit=%zz", "limit"},
        {"status=all%00", "status"},
        {"priority=High", "priority"},
        {"priority=", "priority"},
        {"priority=urgent", "priority"},
        {"priority=%20low", "priority"},
        {"priority", "priority"},
        {"sort=due", "sort"},
        {"sort=-due-date", "sort"},
        {"sort=Priority", "sort"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct list_query q;
        struct field_errors e;
        int rc = list_query_parse(cases[i].qs, &q, &e);
        CHECK(rc < 0 && e.count == 1 && strcmp(e.items[0].field, cases[i].field) == 0, "'%s'",
              cases[i].qs);
    }
    struct list_query q;
    struct field_errors e;
    CHECK(list_query_parse("status=x&sort=y&limit=0", &q, &e) < 0 && e.count == 3,
          "every bad parameter is reported");
}

int main(void)
{
    test_valid();
    test_invalid();
    return unit_report("test_list_query");
}
