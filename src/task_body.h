/*
 * task_body: a request body -> validated task fields, or field errors. It
 * owns the field rules of the contract (types, trimming, lengths in code
 * points, real calendar dates, priority names, no U+0000, the size cap). It
 * knows nothing of SQL or HTTP.
 */
#ifndef TASK_BODY_H
#define TASK_BODY_H

#include <stddef.h>

#include <json-c/json.h>

#include "field_error.h"
#include "priority.h"

#define TASK_BODY_MAX 65536
#define TITLE_MAX 200
#define DESCRIPTION_MAX 1000

enum task_body_kind { TASK_BODY_CREATE, TASK_BODY_UPDATE };

/* The fields a body gave. Strings point into the parsed document, which
 * the struct owns until task_body_free. */
struct task_body {
    json_object *doc;
    int has_title, has_description, has_completed, has_due_date, has_priority;
    const char *title; /* trimmed; not NUL-terminated at title_len */
    size_t title_len;
    const char *description; /* NULL when the body said null */
    size_t description_len;
    int completed;
    const char *due_date; /* "YYYY-MM-DD", NUL-terminated; NULL when the body said null */
    enum priority priority;
};

/* Parses and validates body[0..len). Returns 0, or -1 with errors filled
 * (field "body" when it is not a JSON object). Call task_body_free either
 * way. */
int task_body_parse(const char *body, size_t len, enum task_body_kind kind, struct task_body *out,
                    struct field_errors *errors);
void task_body_free(struct task_body *b);

#endif
