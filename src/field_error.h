/*
 * field_error: the list of per-field validation messages that a 400 problem
 * carries in "errors". Filled by the validators (task_body, list_query),
 * written by problem; the strings are static.
 */
#ifndef FIELD_ERROR_H
#define FIELD_ERROR_H

#define FIELD_ERRORS_MAX 8

struct field_errors {
    int count;
    struct {
        const char *field;
        const char *message;
    } items[FIELD_ERRORS_MAX];
};

static inline void field_error_add(struct field_errors *e, const char *field, const char *message)
{
    if (e->count < FIELD_ERRORS_MAX) {
        e->items[e->count].field = field;
        e->items[e->count].message = message;
        e->count++;
    }
}

#endif
