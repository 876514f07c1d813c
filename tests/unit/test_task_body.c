/* Unit tests of task_body (and json_check, utf8 beneath it). */
#include <string.h>

#include "../../src/json_check.h"
#include "../../src/task_body.h"
#include "unit.h"

/* Expected outcome: NULL for valid, else the field of the first error. */
static void expect(const char *body, size_t len, enum task_body_kind kind, const char *field)
{
    struct task_body b;
    struct field_errors e;
    int rc = task_body_parse(body, len, kind, &b, &e);
    if (field == NULL)
        CHECK(rc == 0, "'%s' should be valid, got error on %s", body,
              e.count ? e.items[0].field : "?");
    else
        CHECK(rc < 0 && e.count >= 1 && strcmp(e.items[0].field, field) == 0,
              "'%s' should fail on %s, got %s", body, field, rc == 0 ? "valid" : e.items[0].field);
    task_body_free(&b);
}

#define CREATE(body, field) expect(body, sizeof(body) - 1, TASK_BODY_CREATE, field)
#define UPDATE(body, field) expect(body, sizeof(body) - 1, TASK_BODY_UPDATE, field)

static void test_create(void)
{
    CREATE("{\"title\":\"Buy milk\"}", NULL);
    CREATE("{\"title\":\"x\",\"description\":null,\"completed\":true,\"extra\":[1]}", NULL);
    CREATE("{}", "title");
    CREATE("{\"title\":null}", "title");
    CREATE("{\"title\":5}", "title");
    CREATE("{\"title\":\"   \"}", "title");
    CREATE("{\"title\":\"\\u3000\\u00a0\"}", "title");
    CREATE("{\"title\":\"a\\u0000b\"}", "title");
    CREATE("{\"title\":\"x\",\"completed\":\"true\"}", "completed");
    CREATE("{\"title\":\"x\",\"completed\":null}", "completed");
    CREATE("{\"title\":\"x\",\"completed\":1}", "completed");
    CREATE("{\"title\":\"x\",\"description\":7}", "description");
    CREATE("[]", "body");
    CREATE("\"title\"", "body");
    CREATE("null", "body");
    CREATE("", "body");
    CREATE("{\"title\":\"x\"} x", "body");
    CREATE("{\"title\":NaN}", "body");
    CREATE("{'title':'x'}", "body");
    CREATE("{\"title\":\"\\ud800\"}", "body");
    CREATE("{\"title\":\"tab\there\"}", "body");
    CREATE("\xEF\xBB\xBF{\"title\":\"x\"}", "body");
    CREATE("{\"title\":\"\xC3\x28\"}", "body");
    CREATE("{\"title\":\"x\",}", "body");
    CREATE("{\"title\":\"x\",\"n\":01}", "body");
    CREATE("{\"title\":\"\\ud83d\\ude00\"}", NULL);
    CREATE("{\"title\":\"x\",\"note\":\"a\\u0000b\"}", "body");
    CREATE("{\"title\":\"x\",\"a\\u0000b\":1}", "body");
    CREATE("{\"title\":\"x\",\"note\":\"a\\\\u0000b\"}", NULL); /* an escaped backslash */
}

static void test_lengths(void)
{
    char body[4200];
    /* 200 code points of 4 bytes each is still 200 characters */
    strcpy(body, "{\"title\":\"");
    for (int i = 0; i < 200; i++)
        strcat(body, "\xF0\x9F\x98\x80");
    strcat(body, "\"}");
    expect(body, strlen(body), TASK_BODY_CREATE, NULL);
    body[strlen(body) - 2] = '\0';
    strcat(body, "x\"}");
    expect(body, strlen(body), TASK_BODY_CREATE, "title");

    /* trimming happens before counting */
    strcpy(body, "{\"title\":\"  ");
    memset(body + strlen(body), 'a', 200);
    strcpy(body + 12 + 200, "  \"}");
    expect(body, strlen(body), TASK_BODY_CREATE, NULL);

    strcpy(body, "{\"title\":\"t\",\"description\":\"");
    size_t at = strlen(body);
    memset(body + at, 'd', 1001);
    strcpy(body + at + 1001, "\"}");
    expect(body, strlen(body), TASK_BODY_CREATE, "description");
    strcpy(body + at + 1000, "\"}");
    expect(body, strlen(body), TASK_BODY_CREATE, NULL);
}

static void test_trim_result(void)
{
    static const char body[] = "{\"title\":\"\\u2003 Buy milk\\t\\n\\u3000\"}";
    struct task_body b;
    struct field_errors e;
    CHECK(task_body_parse(body, sizeof body - 1, TASK_BODY_CREATE, &b, &e) == 0, "parses");
    CHECK(b.title_len == 8 && memcmp(b.title, "Buy milk", 8) == 0, "trimmed to '%.*s'",
          (int)b.title_len, b.title);
    CHECK(!b.has_description && !b.has_completed, "absent fields");
    task_body_free(&b);
}

static void test_update(void)
{
    UPDATE("{\"completed\":true}", NULL);
    UPDATE("{\"description\":null}", NULL);
    UPDATE("{}", "body");
    UPDATE("{\"unknown\":1}", "body");
    UPDATE("{\"title\":null}", "title");
    UPDATE("{\"title\":\"\"}", "title");

    static const char body[] = "{\"description\":null}";
    struct task_body b;
    struct field_errors e;
    CHECK(task_body_parse(body, sizeof body - 1, TASK_BODY_UPDATE, &b, &e) == 0 &&
              b.has_description && b.description == NULL && !b.has_title,
          "null description clears");
    task_body_free(&b);
}

static void test_due_date(void)
{
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-12-31\"}", NULL);
    CREATE("{\"title\":\"x\",\"due_date\":\"2024-02-29\"}", NULL);
    CREATE("{\"title\":\"x\",\"due_date\":null}", NULL);
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-02-29\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-02-30\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-04-31\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"0000-00-00\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-12-31T00:00:00Z\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\" 2026-12-31\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-12-31 \"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"\"}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":20261231}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":true}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":[\"2026-12-31\"]}", "due_date");
    CREATE("{\"title\":\"x\",\"due_date\":\"2026-12-31\\u0000\"}", "due_date");
    UPDATE("{\"due_date\":null}", NULL);
    UPDATE("{\"due_date\":\"2026-13-01\"}", "due_date");

    static const char body[] = "{\"title\":\"x\",\"due_date\":\"2026-12-31\"}";
    struct task_body b;
    struct field_errors e;
    CHECK(task_body_parse(body, sizeof body - 1, TASK_BODY_CREATE, &b, &e) == 0 && b.has_due_date &&
              b.due_date && strcmp(b.due_date, "2026-12-31") == 0,
          "the date is kept as sent, NUL-terminated");
    task_body_free(&b);
    static const char clear[] = "{\"due_date\":null}";
    CHECK(task_body_parse(clear, sizeof clear - 1, TASK_BODY_UPDATE, &b, &e) == 0 &&
              b.has_due_date && b.due_date == NULL && !b.has_priority,
          "null due_date clears");
    task_body_free(&b);
}

static void test_priority(void)
{
    CREATE("{\"title\":\"x\",\"priority\":\"low\"}", NULL);
    CREATE("{\"title\":\"x\",\"priority\":\"medium\"}", NULL);
    CREATE("{\"title\":\"x\",\"priority\":\"high\"}", NULL);
    CREATE("{\"title\":\"x\",\"priority\":\"High\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"HIGH\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\" high\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"high \"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"urgent\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"hig\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"highest\"}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":null}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":2}", "priority");
    CREATE("{\"title\":\"x\",\"priority\":\"high\\u0000\"}", "priority");
    UPDATE("{\"priority\":\"low\"}", NULL);
    UPDATE("{\"priority\":null}", "priority");

    struct task_body b;
    struct field_errors e;
    static const char none[] = "{\"title\":\"x\"}";
    CHECK(task_body_parse(none, sizeof none - 1, TASK_BODY_CREATE, &b, &e) == 0 &&
              !b.has_priority && b.priority == PRIORITY_MEDIUM && !b.has_due_date &&
              b.due_date == NULL,
          "priority defaults to medium, due_date to null");
    task_body_free(&b);
    static const char high[] = "{\"priority\":\"high\"}";
    CHECK(task_body_parse(high, sizeof high - 1, TASK_BODY_UPDATE, &b, &e) == 0 && b.has_priority &&
              b.priority == PRIORITY_HIGH && !b.has_due_date,
          "priority alone is a PUT");
    task_body_free(&b);
}

/* Every field is checked, in the contract's order. */
static void test_error_order(void)
{
    static const char body[] = "{\"title\":5,\"description\":5,\"completed\":5,"
                               "\"due_date\":5,\"priority\":5}";
    static const char *const fields[] = {"title", "description", "completed", "due_date",
                                         "priority"};
    struct task_body b;
    struct field_errors e;
    int rc = task_body_parse(body, sizeof body - 1, TASK_BODY_CREATE, &b, &e);
    CHECK(rc < 0 && e.count == 5, "five errors, got %d", e.count);
    for (int i = 0; i < 5 && i < e.count; i++)
        CHECK(strcmp(e.items[i].field, fields[i]) == 0, "error %d is on %s, not %s", i,
              e.items[i].field, fields[i]);
    task_body_free(&b);
}

static void test_depth(void)
{
    char deep[20002];
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    CHECK(json_check(deep, 20000) < 0, "10,000-deep nesting is refused");
    CHECK(json_check("[[[1]]]", 7) == 0, "shallow nesting is fine");
    static const char doc[] = "{\"a\":\"\\ud83d\\ude00\",\"b\":[1,-2.5e+3,true,false,null]}";
    CHECK(json_check(doc, sizeof doc - 1) == 0, "a full document");
}

int main(void)
{
    test_create();
    test_lengths();
    test_trim_result();
    test_update();
    test_due_date();
    test_priority();
    test_error_order();
    test_depth();
    return unit_report("test_task_body");
}
