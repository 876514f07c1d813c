/*
 * handlers: the contract's check order and one function per route. See
 * handlers.h.
 */
#include "handlers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "list_query.h"
#include "log.h"
#include "problem.h"
#include "router.h"
#include "task_body.h"
#include "task_json.h"

/* A priority as the schema stores it: its number (priority.h). */
static const char *const priority_param[PRIORITY_COUNT] = {"0", "1", "2"};

/* One request being handled: what the checks found. */
struct call {
    struct app *app;
    struct request *r;
    struct route route;
    char id[24]; /* the task id in canonical digits (no leading zeros) */
};

void app_init(struct app *app, const struct config *cfg, struct key_source *keys,
              struct rate_limit *limits)
{
    app->cfg = cfg;
    app->limits = limits;
    app->key_source = keys;
    /* Without a JWKS source an asymmetric token is of an algorithm not
     * accepted; with one whose keys are not (yet) there, of a key unknown. */
    app->keys.jwks = cfg->jwks_file || cfg->jwks_url ? &keys->keys : NULL;
    app->keys.jwks_algs = cfg->jwks_algs;
    app->keys.hmac_alg = cfg->jwt_alg;
    app->keys.secret = cfg->secret;
    app->keys.secret_len = cfg->secret_len;
    app->keys.issuer = cfg->issuer;
    app->keys.audience = cfg->audience;
    app->keys.leeway = cfg->leeway;
    app->tokens = malloc(sizeof *app->tokens);
    if (app->tokens == NULL)
        log_fatal("out of memory");
    token_cache_init(app->tokens);
    buf_init(&app->json);
    buf_init(&app->headers);
    db_init(&app->db, cfg->database_url, cfg->use_prepared, cfg->statement_timeout_ms);
}

void app_destroy(struct app *app)
{
    db_close(&app->db);
    token_cache_free(app->tokens);
    free(app->tokens);
    buf_free(&app->json);
    buf_free(&app->headers);
}

void app_tick(struct app *app, time_t now)
{
    if (key_source_tick(app->key_source, now))
        token_cache_forget_keys(app->tokens, &app->key_source->keys);
}

static void send_json(struct call *c, int status, const char *headers)
{
    response_send(c->r, status, headers, "application/json", c->app->json.data, c->app->json.len);
}

/* Answers a statement that did not succeed; returns 1 when it answered. */
static int db_failed(struct call *c, enum db_status st)
{
    if (st == DB_UNAVAILABLE)
        problem_send(c->r, 503, "the database is unavailable", NULL, NULL);
    else if (st == DB_TIMEOUT)
        problem_send(c->r, 503, "the database did not answer in time", NULL, NULL);
    else if (st == DB_FAILED)
        problem_send(c->r, 500, "internal error", NULL, NULL);
    return st != DB_OK;
}

static void task_not_found(struct call *c)
{
    problem_send(c->r, 404, "task not found", NULL, NULL);
}

/* Sends the single task of res with status, or 404 when res is empty. */
static void send_task(struct call *c, PGresult *res, int status, const char *headers)
{
    if (PQntuples(res) == 0) {
        task_not_found(c);
        return;
    }
    struct task_row task;
    db_task(res, 0, &task);
    buf_reset(&c->app->json);
    task_json_append(&c->app->json, &task);
    send_json(c, status, headers);
}

static void handle_health(struct call *c)
{
    PGresult *res;
    if (db_failed(c, db_exec(&c->app->db, STMT_HEALTH, NULL, &res)))
        return;
    PQclear(res);
    buf_reset(&c->app->json);
    buf_puts(&c->app->json, "{\"status\":\"ok\"}");
    send_json(c, 200, NULL);
}

static void list_headers(struct call *c, const struct list_query *q, int64_t total, int rows)
{
    struct buf *h = &c->app->headers;
    buf_reset(h);
    buf_printf(h, "X-Total-Count: %" PRId64 "\r\n", total);
    if (rows == 0 || q->offset + rows >= total) /* rows == 0 first: offset may be INT64_MAX */
        return;
    buf_puts(h, "Link: <");
    router_tasks_path(h, c->route.user_id, c->route.user_id_len);
    buf_printf(h, "?status=%s", list_status_name(q->status));
    if (q->priority >= 0)
        buf_printf(h, "&priority=%s", priority_name((enum priority)q->priority));
    buf_printf(h, "&sort=%s%s&limit=%" PRId64 "&offset=%" PRId64 ">; rel=\"next\"\r\n",
               q->descending ? "-" : "", list_sort_name(q->sort), q->limit, q->offset + rows);
}

/* The total when the page is empty: a page past the end still counts. The
 * count statement takes the first three of the list's parameters. */
static enum db_status count_tasks(struct call *c, const char *const *params, int64_t *total)
{
    PGresult *res;
    enum db_status st = db_exec(&c->app->db, STMT_COUNT, params, &res);
    if (st == DB_OK) {
        *total = db_integer(res, 0, 0);
        PQclear(res);
    }
    return st;
}

static void handle_list(struct call *c)
{
    static const char *const status_param[] = {NULL, "false", "true"};
    struct list_query q;
    struct field_errors errors;
    char limit[24], offset[24];
    PGresult *res;
    int64_t total = 0;

    if (list_query_parse(c->r->query, &q, &errors) < 0) {
        problem_send(c->r, 400, "invalid query parameter", &errors, NULL);
        return;
    }
    snprintf(limit, sizeof limit, "%" PRId64, q.limit);
    snprintf(offset, sizeof offset, "%" PRId64, q.offset);
    const char *params[] = {c->route.user_id, status_param[q.status],
                            q.priority < 0 ? NULL : priority_param[q.priority], limit, offset};
    if (db_failed(c, db_exec(&c->app->db, db_list_stmt(&q), params, &res)))
        return;
    int rows = PQntuples(res);
    if (rows > 0)
        total = db_integer(res, 0, COL_TOTAL);
    else if (q.offset > 0 && db_failed(c, count_tasks(c, params, &total))) {
        PQclear(res);
        return;
    }
    buf_reset(&c->app->json);
    buf_puts(&c->app->json, "[");
    for (int i = 0; i < rows; i++) {
        struct task_row task;
        db_task(res, i, &task);
        if (i)
            buf_puts(&c->app->json, ",");
        task_json_append(&c->app->json, &task);
    }
    buf_puts(&c->app->json, "]");
    PQclear(res);
    list_headers(c, &q, total, rows);
    send_json(c, 200, buf_cstr(&c->app->headers));
}

/* The trimmed title as a C string, for a text parameter. */
static const char *title_param(const struct task_body *b, char *out, size_t cap)
{
    if (!b->has_title || b->title_len >= cap)
        return NULL;
    memcpy(out, b->title, b->title_len);
    out[b->title_len] = '\0';
    return out;
}

/* 409: the collection is full; deleting a task resolves it (README). */
static void task_limit_reached(struct call *c)
{
    char detail[96];
    snprintf(detail, sizeof detail, "the user holds %ld tasks, the most allowed: delete some first",
             c->app->cfg->user_task_limit);
    problem_send(c->r, 409, detail, NULL, NULL);
}

static void handle_create(struct call *c, const struct task_body *b)
{
    char title[TITLE_MAX * 4 + 1], limit[24];
    PGresult *res;
    long max_tasks = c->app->cfg->user_task_limit;
    snprintf(limit, sizeof limit, "%ld", max_tasks);
    const char *params[] = {
        c->route.user_id,
        title_param(b, title, sizeof title),
        b->description,
        b->has_completed && b->completed ? "true" : "false",
        b->due_date,
        priority_param[b->priority],
        max_tasks > 0 ? limit : NULL,
    };

    if (db_failed(c, db_exec(&c->app->db, STMT_INSERT, params, &res)))
        return;
    if (PQntuples(res) == 0) {
        PQclear(res);
        task_limit_reached(c);
        return;
    }
    struct buf *h = &c->app->headers;
    buf_reset(h);
    buf_puts(h, "Location: ");
    router_tasks_path(h, c->route.user_id, c->route.user_id_len);
    buf_printf(h, "/%" PRId64 "\r\n", db_integer(res, 0, COL_ID));
    send_task(c, res, 201, buf_cstr(h));
    PQclear(res);
}

static void handle_update(struct call *c, const struct task_body *b)
{
    char title[TITLE_MAX * 4 + 1];
    PGresult *res;
    const char *params[] = {
        c->id,
        c->route.user_id,
        title_param(b, title, sizeof title),
        b->has_description ? "true" : "false",
        b->description,
        b->has_completed ? (b->completed ? "true" : "false") : NULL,
        b->has_due_date ? "true" : "false",
        b->due_date,
        b->has_priority ? priority_param[b->priority] : NULL,
    };

    if (db_failed(c, db_exec(&c->app->db, STMT_UPDATE, params, &res)))
        return;
    send_task(c, res, 200, NULL);
    PQclear(res);
}

/* GET, DELETE and PATCH .../complete: one statement on (id, user). */
static void handle_by_id(struct call *c, enum stmt s)
{
    const char *params[] = {c->id, c->route.user_id};
    PGresult *res;

    if (db_failed(c, db_exec(&c->app->db, s, params, &res)))
        return;
    if (s != STMT_DELETE)
        send_task(c, res, 200, NULL);
    else if (db_integer(res, 0, -1) == 0)
        task_not_found(c);
    else
        response_send(c->r, 204, NULL, NULL, NULL, 0);
    PQclear(res);
}

/* 401 and 403: refused, and logged as a security event. */
static int authorize(struct call *c)
{
    struct auth_subject subject;
    struct app *app = c->app;
    time_t now = time(NULL);
    enum auth_status st =
        token_cache_verify(app->tokens, &app->keys, c->r->authorization, now, &subject);

    /* A kid we do not know may be a key the frontend rotated in. */
    if (st == AUTH_UNKNOWN_KEY && key_source_refresh_for_kid(app->key_source, now)) {
        token_cache_forget_keys(app->tokens, &app->key_source->keys);
        st = token_cache_verify(app->tokens, &app->keys, c->r->authorization, now, &subject);
    }
    /* Nor can we tell while JWKS_URL is down: not the client's fault. */
    if (st == AUTH_UNKNOWN_KEY && key_source_unavailable(app->key_source)) {
        log_warn("security id=%s route=%s event=token_unverifiable reason=\"signing keys "
                 "unavailable\"",
                 c->r->id, router_pattern(c->route.id));
        problem_send(c->r, 503, "the signing keys are unavailable; try again later", NULL, NULL);
        return -1;
    }
    if (st != AUTH_OK) {
        log_warn("security id=%s route=%s event=token_rejected reason=\"%s\"", c->r->id,
                 router_pattern(c->route.id), auth_reason(st));
        problem_send(c->r, 401, auth_reason(st), NULL, NULL);
        return -1;
    }
    if (subject.len != c->route.user_id_len ||
        memcmp(subject.id, c->route.user_id, subject.len) != 0) {
        log_warn("security id=%s route=%s event=user_mismatch reason=\"token subject is not the "
                 "path user\"",
                 c->r->id, router_pattern(c->route.id));
        problem_send(c->r, 403, "the token does not grant access to this user's tasks", NULL, NULL);
        return -1;
    }
    return 0;
}

/* 429 when the token's user (checked equal to the path's) is over its
 * rate; RateLimit fields per draft-ietf-httpapi-ratelimit-headers. */
static int within_rate(struct call *c)
{
    struct rate_limit *rl = c->app->limits;
    struct rate_verdict v;
    char headers[192];

    if (rl == NULL)
        return 0;
    rate_limit_take(rl, c->route.user_id, c->route.user_id_len, rate_limit_now_us(), &v);
    if (v.allowed)
        return 0;
    snprintf(headers, sizeof headers,
             "Retry-After: %ld\r\nRateLimit-Policy: \"default\";q=%ld;w=%ld\r\n"
             "RateLimit: \"default\";r=0;t=%ld\r\n",
             v.retry_after, rate_limit_quota(rl), rate_limit_window(rl), v.reset);
    problem_send(c->r, 429, "too many requests for this user: slow down", NULL, headers);
    return -1;
}

static int parse_task_id(struct call *c)
{
    int64_t id;
    struct field_errors errors = {0};

    if (c->route.task_id == NULL)
        return 0;
    if (router_task_id(c->route.task_id, c->route.task_id_len, &id) < 0) {
        field_error_add(&errors, "id", "must be a positive integer below 2^63");
        problem_send(c->r, 400, "invalid task id", &errors, NULL);
        return -1;
    }
    snprintf(c->id, sizeof c->id, "%" PRId64, id);
    return 0;
}

static int is_json_media_type(const char *ct)
{
    static const char json[] = "application/json";
    if (ct == NULL || strncasecmp(ct, json, sizeof json - 1) != 0)
        return 0;
    ct += sizeof json - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* 413, 415, then 400: the body of a POST or PUT. */
static int read_task_body(struct call *c, enum task_body_kind kind, struct task_body *b)
{
    struct field_errors errors;
    struct request *r = c->r;

    int read = r->content_length > TASK_BODY_MAX ? -1 : request_read_body(r, TASK_BODY_MAX);
    if (read == -1) {
        problem_send(r, 413, "the body is larger than 65536 bytes", NULL, NULL);
        return -1;
    }
    if (read < 0) {
        problem_send(r, 400, "the body ended before its Content-Length", NULL, NULL);
        return -1;
    }
    if (!is_json_media_type(r->content_type)) {
        problem_send(r, 415, "the body must be application/json", NULL, NULL);
        return -1;
    }
    if (task_body_parse(r->body.data ? r->body.data : "", r->body.len, kind, b, &errors) < 0) {
        problem_send(r, 400, "invalid task", &errors, NULL);
        task_body_free(b);
        return -1;
    }
    return 0;
}

static void dispatch_task_route(struct call *c)
{
    struct task_body body;
    enum method m = c->r->method;

    switch (c->route.id) {
    case ROUTE_TASKS:
        if (m != METHOD_POST)
            handle_list(c);
        else if (read_task_body(c, TASK_BODY_CREATE, &body) == 0) {
            handle_create(c, &body);
            task_body_free(&body);
        }
        break;
    case ROUTE_TASK:
        if (m == METHOD_DELETE)
            handle_by_id(c, STMT_DELETE);
        else if (m != METHOD_PUT)
            handle_by_id(c, STMT_GET);
        else if (read_task_body(c, TASK_BODY_UPDATE, &body) == 0) {
            handle_update(c, &body);
            task_body_free(&body);
        }
        break;
    default: handle_by_id(c, STMT_TOGGLE);
    }
}

const char *handle_request(struct app *app, struct request *r)
{
    struct call c = {.app = app, .r = r};
    char allow[64];

    if (router_match(r->path, r->path_len, &c.route) == ROUTE_NONE) {
        problem_send(r, 404, "no such route", NULL, NULL);
    } else if (!router_allows(c.route.id, r->method)) {
        snprintf(allow, sizeof allow, "Allow: %s\r\n", router_allow(c.route.id));
        problem_send(r, 405, "method not allowed on this route", NULL, allow);
    } else if (c.route.id == ROUTE_HEALTH) {
        handle_health(&c);
    } else if (authorize(&c) == 0 && within_rate(&c) == 0 && parse_task_id(&c) == 0) {
        dispatch_task_route(&c);
    }
    return router_pattern(c.route.id);
}
