/*
 * body_fuzzer: arbitrary bytes as a request body. json_check must accept
 * only what json-c then parses; task_body_parse (create and update) must
 * only ever hand on fields that keep the contract's rules (a due date is a
 * real day, a priority one of three), and written back
 * as JSON (buf_json_string, as answers do) they must read back unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../src/buf.h"
#include "../src/json_check.h"
#include "../src/task_body.h"
#include "../src/timestamp.h"
#include "../src/utf8.h"

#include "fuzz.h"

/* json-c as task_body runs it: depth one above the checker's, and a bare
 * number completed by a NUL. */
static int json_c_parses(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new_ex(JSON_CHECK_DEPTH + 1);
    REQUIRE(tok != NULL);
    json_object *doc = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error err = json_tokener_get_error(tok);
    if (doc == NULL && err == json_tokener_continue) {
        doc = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    json_object_put(doc);
    return err == json_tokener_success;
}

/* s[0..n) written as a JSON string is strict JSON that json-c reads back
 * as the same bytes. */
static void round_trip(const char *s, size_t n)
{
    struct buf b;
    buf_init(&b);
    buf_json_string(&b, s, n);
    REQUIRE(json_check(b.data, b.len) == 0);
    json_object *v = json_tokener_parse(buf_cstr(&b));
    REQUIRE(json_object_is_type(v, json_type_string));
    REQUIRE((size_t)json_object_get_string_len(v) == n);
    REQUIRE(memcmp(json_object_get_string(v), s, n) == 0);
    json_object_put(v);
    buf_free(&b);
}

/* A string field as handed on: no NUL, already trimmed when trimmed, at
 * most max code points (at least one when it is the title). */
static void check_text(const char *s, size_t n, size_t min, size_t max, int trimmed)
{
    REQUIRE(s != NULL && memchr(s, '\0', n) == NULL);
    size_t chars = utf8_length(s, n);
    REQUIRE(chars >= min && chars <= max);
    if (trimmed) {
        const char *t = s;
        size_t tn = n;
        utf8_trim(&t, &tn);
        REQUIRE(t == s && tn == n);
    }
    round_trip(s, n);
}

static void body(const char *s, size_t n, enum task_body_kind kind)
{
    struct task_body b;
    struct field_errors e;
    int rc = task_body_parse(s, n, kind, &b, &e);
    REQUIRE(e.count >= 0 && e.count <= FIELD_ERRORS_MAX);
    REQUIRE((rc == 0) == (e.count == 0));
    if (rc == 0) {
        REQUIRE(json_check(s, n) == 0); /* no \u0000 anywhere, names included */
        REQUIRE(kind == TASK_BODY_UPDATE || b.has_title);
        REQUIRE(b.has_title || b.has_description || b.has_completed || b.has_due_date ||
                b.has_priority);
        if (b.has_title)
            check_text(b.title, b.title_len, 1, TITLE_MAX, 1);
        if (b.has_description && b.description != NULL)
            check_text(b.description, b.description_len, 0, DESCRIPTION_MAX, 0);
        REQUIRE(b.completed == 0 || b.completed == 1);
        /* handed to PostgreSQL as a text parameter: must end where the date does */
        if (b.due_date != NULL)
            REQUIRE(b.has_due_date && strlen(b.due_date) == DATE_TEXT_LEN &&
                    date_is_valid(b.due_date, DATE_TEXT_LEN));
        REQUIRE(b.priority >= 0 && b.priority < PRIORITY_COUNT);
        REQUIRE(b.has_priority || b.priority == PRIORITY_DEFAULT);
    }
    task_body_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (size > TASK_BODY_MAX + 1)
        return 0;
    if (json_check(s, size) >= 0) /* 0, or JSON_CHECK_HAS_NUL: valid either way */
        REQUIRE(json_c_parses(s, size));
    body(s, size, TASK_BODY_CREATE);
    body(s, size, TASK_BODY_UPDATE);
    return 0;
}
