/*
 * task_body: JSON body validation. See task_body.h.
 */
#include "task_body.h"

#include <string.h>

#include "json_check.h"
#include "timestamp.h"
#include "utf8.h"

static json_object *parse_document(const char *body, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(JSON_CHECK_DEPTH + 1);
    if (tok == NULL)
        return NULL;
    json_object *doc = json_tokener_parse_ex(tok, body, (int)len);
    if (doc == NULL && json_tokener_get_error(tok) == json_tokener_continue)
        doc = json_tokener_parse_ex(tok, "", 1); /* a bare number needs its end */
    json_tokener_free(tok);
    return doc;
}

/* A string field: type, U+0000 and length rules. Returns 1 when present
 * and valid, 0 when absent or null (is_null tells which), -1 on error. */
static int string_field(json_object *doc, const char *name, size_t max_chars, int trim,
                        const char **s, size_t *n, int *is_null, struct field_errors *e)
{
    json_object *v;
    *is_null = 0;
    if (!json_object_object_get_ex(doc, name, &v))
        return 0;
    if (v == NULL) {
        *is_null = 1;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string)) {
        field_error_add(e, name, "must be a string");
        return -1;
    }
    *s = json_object_get_string(v);
    *n = (size_t)json_object_get_string_len(v);
    if (memchr(*s, '\0', *n) != NULL) {
        field_error_add(e, name, "must not contain U+0000");
        return -1;
    }
    if (trim)
        utf8_trim(s, n);
    if (utf8_length(*s, *n) > max_chars) {
        field_error_add(e, name,
                        max_chars == TITLE_MAX ? "must be at most 200 characters"
                                               : "must be at most 1000 characters");
        return -1;
    }
    return 1;
}

static void check_title(struct task_body *b, enum task_body_kind kind, struct field_errors *e)
{
    int is_null;
    int r = string_field(b->doc, "title", TITLE_MAX, 1, &b->title, &b->title_len, &is_null, e);
    if (r == 0 && is_null)
        field_error_add(e, "title", "must be a string");
    else if (r == 0 && kind == TASK_BODY_CREATE)
        field_error_add(e, "title", "is required");
    else if (r == 1 && b->title_len == 0)
        field_error_add(e, "title", "must not be empty");
    b->has_title = r == 1;
}

static void check_description(struct task_body *b, struct field_errors *e)
{
    int is_null;
    int r = string_field(b->doc, "description", DESCRIPTION_MAX, 0, &b->description,
                         &b->description_len, &is_null, e);
    b->has_description = r == 1 || is_null;
    if (is_null) {
        b->description = NULL;
        b->description_len = 0;
    }
}

static void check_completed(struct task_body *b, struct field_errors *e)
{
    json_object *v;
    if (!json_object_object_get_ex(b->doc, "completed", &v))
        return;
    if (!json_object_is_type(v, json_type_boolean)) {
        field_error_add(e, "completed", "must be a boolean");
        return;
    }
    b->has_completed = 1;
    b->completed = json_object_get_boolean(v);
}

/* A real calendar date or null; never a date-time, a number or padding. */
static void check_due_date(struct task_body *b, struct field_errors *e)
{
    json_object *v;
    if (!json_object_object_get_ex(b->doc, "due_date", &v))
        return;
    if (v != NULL &&
        (!json_object_is_type(v, json_type_string) ||
         !date_is_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))) {
        field_error_add(e, "due_date", "must be a date YYYY-MM-DD or null");
        return;
    }
    b->has_due_date = 1;
    b->due_date = v ? json_object_get_string(v) : NULL;
}

static void check_priority(struct task_body *b, struct field_errors *e)
{
    json_object *v;
    if (!json_object_object_get_ex(b->doc, "priority", &v))
        return;
    int p = json_object_is_type(v, json_type_string)
                ? priority_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v))
                : -1;
    if (p < 0) {
        field_error_add(e, "priority", PRIORITY_RULE);
        return;
    }
    b->has_priority = 1;
    b->priority = (enum priority)p;
}

int task_body_parse(const char *body, size_t len, enum task_body_kind kind, struct task_body *b,
                    struct field_errors *e)
{
    memset(b, 0, sizeof *b);
    b->priority = PRIORITY_DEFAULT;
    e->count = 0;
    int checked = len > TASK_BODY_MAX ? -1 : json_check(body, len);
    if (checked < 0) {
        field_error_add(e, "body", "must be valid JSON");
        return -1;
    }
    b->doc = parse_document(body, len);
    if (!json_object_is_type(b->doc, json_type_object)) {
        field_error_add(e, "body", "must be a JSON object");
        return -1;
    }
    check_title(b, kind, e);
    check_description(b, e);
    check_completed(b, e);
    check_due_date(b, e);
    check_priority(b, e);
    /* "No string may contain U+0000": unknown fields and names included. */
    if (e->count == 0 && checked == JSON_CHECK_HAS_NUL)
        field_error_add(e, "body", "must not contain U+0000");
    if (e->count == 0 && kind == TASK_BODY_UPDATE && !b->has_title && !b->has_description &&
        !b->has_completed && !b->has_due_date && !b->has_priority)
        field_error_add(e, "body",
                        "must contain at least one of title, description, completed, due_date, "
                        "priority");
    return e->count ? -1 : 0;
}

void task_body_free(struct task_body *b)
{
    json_object_put(b->doc);
    b->doc = NULL;
}
