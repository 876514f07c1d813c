/*
 * router: the one place that maps a request path to a route. It owns the
 * route table, the methods each route allows, percent-decoding of the user
 * id segment and the syntax of a task id. It knows nothing of tokens, bodies
 * or SQL.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>
#include <stdint.h>

enum route_id { ROUTE_NONE, ROUTE_HEALTH, ROUTE_TASKS, ROUTE_TASK, ROUTE_TASK_COMPLETE };

enum method {
    METHOD_OTHER = 0,
    METHOD_GET = 1 << 0,
    METHOD_HEAD = 1 << 1,
    METHOD_POST = 1 << 2,
    METHOD_PUT = 1 << 3,
    METHOD_DELETE = 1 << 4,
    METHOD_PATCH = 1 << 5,
};

/* Longest user id accepted, in bytes after percent-decoding. */
#define USER_ID_MAX 255

struct route {
    enum route_id id;
    char user_id[USER_ID_MAX + 1]; /* decoded; may hold any byte, NUL included */
    size_t user_id_len;
    const char *task_id; /* the raw {id} segment; see router_task_id */
    size_t task_id_len;
};

enum method method_parse(const char *name);
/* Matches path (without the query string). Returns r->id; ROUTE_NONE is 404. */
enum route_id router_match(const char *path, size_t len, struct route *r);
int router_allows(enum route_id id, enum method m);
/* The value of the Allow header for a route. */
const char *router_allow(enum route_id id);
/* The route's path pattern, for logs (never the user id). */
const char *router_pattern(enum route_id id);
/* Parses a task id: ASCII digits only, 1 .. 2^63-1. Returns 0 or -1. */
int router_task_id(const char *s, size_t n, int64_t *out);
/* Appends "/api/<user id, percent-encoded>/tasks": the inverse of matching,
 * for Location and Link headers. */
struct buf;
void router_tasks_path(struct buf *b, const char *user_id, size_t len);
/* Decodes %XX escapes of s[0..n) into out (cap bytes). Returns -1 on a bad
 * escape or when out is too small. A '+' stays a '+'. */
int percent_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen);

#endif
