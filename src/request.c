/*
 * request: FastCGI parameters in, status/headers/body out. See request.h.
 */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void request_init(struct request *r, int retry_after)
{
    memset(r, 0, sizeof *r);
    r->retry_after = retry_after;
    buf_init(&r->body);
    buf_init(&r->head);
}

void request_destroy(struct request *r)
{
    buf_free(&r->body);
    buf_free(&r->head);
}

static const char *param(struct request *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgx->envp);
}

static void set_request_id(struct request *r)
{
    const char *id = param(r, "REQUEST_ID");
    if (id && strlen(id) < sizeof r->id && strspn(id, "0123456789abcdefABCDEF-") == strlen(id)) {
        snprintf(r->id, sizeof r->id, "%s", id);
    } else {
        static unsigned long counter;
        snprintf(r->id, sizeof r->id, "%d-%lu", (int)getpid(), ++counter);
    }
}

static void read_params(struct request *r)
{
    const char *v;

    v = param(r, "REQUEST_METHOD");
    r->method = method_parse(v ? v : "");
    log_escape_field(r->method_name, sizeof r->method_name, v ? v : "");
    if ((v = param(r, "REQUEST_URI")) == NULL && (v = param(r, "DOCUMENT_URI")) == NULL)
        v = "";
    r->path = v;
    r->path_len = strcspn(v, "?");
    r->query = (v = param(r, "QUERY_STRING")) ? v : "";
    r->authorization = param(r, "HTTP_AUTHORIZATION");
    r->content_type = param(r, "CONTENT_TYPE");
    v = param(r, "CONTENT_LENGTH");
    char *end;
    r->content_length = v && *v ? strtoll(v, &end, 10) : -1;
    if (v && *v && (*end || r->content_length < 0))
        r->content_length = -1;
    set_request_id(r);
}

int request_accept(struct request *r, FCGX_Request *conn)
{
    r->fcgx = conn;
    if (FCGX_Accept_r(conn) < 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    r->status = 0;
    buf_reset(&r->body);
    read_params(r);
    return 0;
}

int request_read_body(struct request *r, size_t max)
{
    buf_reset(&r->body);
    if (r->content_length > (long long)max)
        return -1;
    for (;;) {
        char chunk[8192];
        int n = FCGX_GetStr(chunk, sizeof chunk, r->fcgx->in);
        if (n < 0 || FCGX_GetError(r->fcgx->in) != 0)
            return -2; /* the peer stopped sending, or broke the stream */
        if (r->body.len + (size_t)n > max)
            return -1;
        buf_append(&r->body, chunk, (size_t)n);
        if (n < (int)sizeof chunk)
            break;
    }
    if (r->content_length >= 0 && r->body.len != (size_t)r->content_length)
        return -2;
    buf_cstr(&r->body);
    return 0;
}

/* The rest of the body must be read before the connection can carry the
 * next request; nginx's client_max_body_size bounds it. */
static void drain_body(struct request *r)
{
    char chunk[8192];
    while (FCGX_GetStr(chunk, sizeof chunk, r->fcgx->in) > 0)
        ;
}

void request_end(struct request *r, const char *route)
{
    struct timespec now;

    drain_body(r);
    /* Should libfcgi close the connection (nginx did not ask to keep it,
     * or it broke): with the input read to its end, its graceful close
     * (shutdown, then wait up to 2 s for nginx to close first) would only
     * keep this worker idle; detached makes it a plain close(). */
    r->fcgx->detached = 1;
    FCGX_Finish_r(r->fcgx);
    clock_gettime(CLOCK_MONOTONIC, &now);
    long us = (long)(now.tv_sec - r->started.tv_sec) * 1000000L +
              (now.tv_nsec - r->started.tv_nsec) / 1000L;
    log_request("request id=%s method=%s route=%s status=%d duration_ms=%ld.%03ld", r->id,
                r->method_name, route, r->status, us / 1000, us % 1000);
}

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

void response_send(struct request *r, int status, const char *headers, const char *content_type,
                   const char *body, size_t len)
{
    struct buf *h = &r->head;

    r->status = status;
    buf_reset(h);
    buf_printf(h, "Status: %d %s\r\n", status, http_reason(status));
    if (content_type)
        buf_printf(h, "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type, len);
    if (headers)
        buf_puts(h, headers);
    buf_append(h, "\r\n", 2);
    int ok = FCGX_PutStr(h->data, (int)h->len, r->fcgx->out) >= 0;
    if (ok && len > 0 && r->method != METHOD_HEAD)
        ok = FCGX_PutStr(body, (int)len, r->fcgx->out) >= 0;
    if (!ok)
        log_warn("request id=%s: client went away while answering", r->id);
}
