/*
 * list_query: the query string of GET /api/{user_id}/tasks -> filter, order
 * and page, or field errors. It owns the parameter names, their defaults and
 * their limits; it knows nothing of SQL (db maps the result to a statement).
 */
#ifndef LIST_QUERY_H
#define LIST_QUERY_H

#include <stdint.h>

#include "field_error.h"
#include "priority.h"

#define LIST_LIMIT_MAX 1000

enum list_status { LIST_ALL, LIST_PENDING, LIST_COMPLETED };
enum list_sort { SORT_CREATED, SORT_TITLE, SORT_UPDATED, SORT_DUE_DATE, SORT_PRIORITY, SORT_COUNT };

struct list_query {
    enum list_status status;
    int priority; /* an enum priority, or -1 for any */
    enum list_sort sort;
    int descending;
    int64_t limit;
    int64_t offset;
};

/* Parses qs (may be NULL or empty). Returns 0, or -1 with errors filled.
 * Unknown parameters are ignored; a repeated one takes its last value. */
int list_query_parse(const char *qs, struct list_query *q, struct field_errors *errors);
/* The canonical text of status and sort, as written in Link headers
 * (priority_name gives the priority's). */
const char *list_status_name(enum list_status s);
const char *list_sort_name(enum list_sort s);

#endif
