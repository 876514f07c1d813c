/*
 * router: path -> route, allowed methods, task id syntax. See router.h.
 *
 * Routing reads the raw REQUEST_URI rather than nginx's decoded PATH_INFO:
 * only the raw path tells "/api/a%2Fb/tasks" (user "a/b") from
 * "/api/a/b/tasks" (no such route).
 */
#include "router.h"

#include <string.h>

#include "buf.h"

static const struct {
    const char *pattern;
    const char *allow;
    unsigned methods;
} routes[] = {
    [ROUTE_NONE] = {"-", "", 0},
    [ROUTE_HEALTH] = {"/api/health", "GET, HEAD", METHOD_GET | METHOD_HEAD},
    [ROUTE_TASKS] = {"/api/{user_id}/tasks", "GET, HEAD, POST",
                     METHOD_GET | METHOD_HEAD | METHOD_POST},
    [ROUTE_TASK] = {"/api/{user_id}/tasks/{id}", "GET, HEAD, PUT, DELETE",
                    METHOD_GET | METHOD_HEAD | METHOD_PUT | METHOD_DELETE},
    [ROUTE_TASK_COMPLETE] = {"/api/{user_id}/tasks/{id}/complete", "PATCH", METHOD_PATCH},
};

enum method method_parse(const char *name)
{
    static const struct {
        const char *name;
        enum method m;
    } methods[] = {{"GET", METHOD_GET}, {"HEAD", METHOD_HEAD},     {"POST", METHOD_POST},
                   {"PUT", METHOD_PUT}, {"DELETE", METHOD_DELETE}, {"PATCH", METHOD_PATCH}};

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].m;
    return METHOD_OTHER;
}

int router_allows(enum route_id id, enum method m)
{
    return (routes[id].methods & (unsigned)m) != 0;
}

const char *router_allow(enum route_id id)
{
    return routes[id].allow;
}

const char *router_pattern(enum route_id id)
{
    return routes[id].pattern;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int percent_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o == cap)
            return -1;
        out[o++] = c;
    }
    *outlen = o;
    return 0;
}

int router_task_id(const char *s, size_t n, int64_t *out)
{
    const int64_t max = INT64_MAX;
    int64_t v = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int d = s[i] - '0';
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v == 0)
        return -1;
    *out = v;
    return 0;
}

/* Splits path after "/api/" into at most 5 segments; -1 when there are more
 * or when one is empty (a trailing or doubled slash). */
static int split(const char *p, const char *end, const char *seg[], size_t seglen[], int max)
{
    int count = 0;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash ? slash : end;
        if (stop == p || count == max)
            return -1;
        seg[count] = p;
        seglen[count++] = (size_t)(stop - p);
        if (slash == NULL)
            return count;
        p = slash + 1;
    }
}

static int is(const char *seg, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(seg, word, len) == 0;
}

enum route_id router_match(const char *path, size_t len, struct route *r)
{
    static const char prefix[] = "/api/";
    const char *seg[4];
    size_t seglen[4];

    memset(r, 0, sizeof *r);
    r->id = ROUTE_NONE;
    if (len <= sizeof prefix - 1 || memcmp(path, prefix, sizeof prefix - 1) != 0)
        return ROUTE_NONE;
    int n = split(path + sizeof prefix - 1, path + len, seg, seglen, 4);
    if (n == 1 && is(seg[0], seglen[0], "health"))
        return r->id = ROUTE_HEALTH;
    if (n < 2 || !is(seg[1], seglen[1], "tasks") || (n == 4 && !is(seg[3], seglen[3], "complete")))
        return ROUTE_NONE;
    if (percent_decode(seg[0], seglen[0], r->user_id, USER_ID_MAX, &r->user_id_len) < 0)
        return ROUTE_NONE;
    r->user_id[r->user_id_len] = '\0';
    if (n >= 3) {
        r->task_id = seg[2];
        r->task_id_len = seglen[2];
    }
    r->id = n == 2 ? ROUTE_TASKS : n == 3 ? ROUTE_TASK : ROUTE_TASK_COMPLETE;
    return r->id;
}

void router_tasks_path(struct buf *b, const char *user_id, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_puts(b, "/api/");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)user_id[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_append(b, (const char *)&c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 3);
        }
    }
    buf_puts(b, "/tasks");
}
