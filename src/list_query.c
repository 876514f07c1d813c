/*
 * list_query: parses status, priority, sort, limit and offset. See
 * list_query.h.
 */
#include "list_query.h"

#include <string.h>

#include "router.h"

static const char *const status_names[] = {"all", "pending", "completed"};
static const char *const sort_names[SORT_COUNT] = {"created", "title", "updated", "due_date",
                                                   "priority"};

const char *list_status_name(enum list_status s)
{
    return status_names[s];
}

const char *list_sort_name(enum list_sort s)
{
    return sort_names[s];
}

static int lookup(const char *v, const char *const names[], int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

/* ASCII digits only, within [min, max]. */
static int parse_count(const char *v, int64_t min, int64_t max, int64_t *out)
{
    int64_t n = 0;
    if (*v == '\0')
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return -1;
        int d = *v - '0';
        if (n > (INT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    if (n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static void apply(struct list_query *q, const char *key, const char *v, struct field_errors *e)
{
    int i;
    if (strcmp(key, "status") == 0) {
        if ((i = lookup(v, status_names, 3)) < 0)
            field_error_add(e, "status", "must be one of all, pending, completed");
        else
            q->status = (enum list_status)i;
    } else if (strcmp(key, "sort") == 0) {
        int desc = v[0] == '-';
        if ((i = lookup(v + desc, sort_names, SORT_COUNT)) < 0) {
            field_error_add(e, "sort",
                            "must be created, title, updated, due_date or priority, optionally "
                            "with a leading -");
        } else {
            q->sort = (enum list_sort)i;
            q->descending = desc;
        }
    } else if (strcmp(key, "priority") == 0) {
        if ((i = priority_parse(v, strlen(v))) < 0)
            field_error_add(e, "priority", PRIORITY_RULE);
        else
            q->priority = i;
    } else if (strcmp(key, "limit") == 0) {
        if (parse_count(v, 1, LIST_LIMIT_MAX, &q->limit) < 0)
            field_error_add(e, "limit", "must be an integer from 1 to 1000");
    } else if (strcmp(key, "offset") == 0) {
        if (parse_count(v, 0, INT64_MAX, &q->offset) < 0)
            field_error_add(e, "offset", "must be an integer from 0 to 9223372036854775807");
    }
}

/* Decodes one key or value; '+' means a space, as in HTML forms. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t len;
    if (percent_decode(s, n, out, cap - 1, &len) < 0)
        return -1;
    out[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (out[i] == '+')
            out[i] = ' ';
    /* a NUL inside would silently shorten the value */
    return strlen(out) == len ? 0 : -1;
}

int list_query_parse(const char *qs, struct list_query *q, struct field_errors *e)
{
    q->status = LIST_ALL;
    q->priority = -1;
    q->sort = SORT_CREATED;
    q->descending = 1;
    q->limit = LIST_LIMIT_MAX;
    q->offset = 0;
    e->count = 0;

    while (qs && *qs) {
        size_t n = strcspn(qs, "&");
        const char *eq = memchr(qs, '=', n);
        size_t klen = eq ? (size_t)(eq - qs) : n;
        char key[16];
        if (decode(qs, klen, key, sizeof key) == 0) {
            char value[64];
            const char *v = eq ? eq + 1 : qs + n;
            if (decode(v, (size_t)(qs + n - v), value, sizeof value) < 0)
                strcpy(value, "?"); /* unreadable: invalid for every parameter */
            apply(q, key, value, e);
        }
        qs += n + (qs[n] == '&');
    }
    return e->count ? -1 : 0;
}
