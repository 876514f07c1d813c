/*
 * request: one FastCGI request as the handlers see it. It owns reading the
 * FastCGI parameters and the body, and writing status, headers and body
 * back; it knows nothing of routes, tokens or SQL.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <time.h>

#include <fcgiapp.h>

#include "buf.h"
#include "router.h"

struct request {
    FCGX_Request *fcgx; /* the connection it came on; connections owns it */
    /* From the FastCGI parameters; valid until request_end. */
    char method_name[16]; /* copied: it is logged after the params are freed */
    enum method method;
    const char *path; /* REQUEST_URI up to '?' */
    size_t path_len;
    const char *query; /* QUERY_STRING, never NULL */
    const char *authorization;
    const char *content_type;
    long long content_length; /* -1 when not given */
    char id[48];              /* request id for logs: nginx's $request_id or our own */
    int retry_after;          /* seconds, for 503 answers */

    struct buf body; /* the request body, once read */
    struct buf head; /* response status line and headers */
    int status;      /* answered status, 0 until then */
    struct timespec started;
};

void request_init(struct request *r, int retry_after);
void request_destroy(struct request *r);
/* Reads the next request from conn, which has one waiting. Returns -1 when
 * it was no request after all (libfcgi has then closed conn). */
int request_accept(struct request *r, FCGX_Request *conn);
/* Reads the whole body into r->body. Returns 0; -1 when it is larger than
 * max bytes (nothing is read then); -2 when it ended short of its
 * Content-Length, or the peer stopped sending (the connection is broken). */
int request_read_body(struct request *r, size_t max);
/* Finishes the request (draining any unread body), closes its connection
 * if nginx did not ask to keep it, and logs one line. */
void request_end(struct request *r, const char *route);

/* Sends the answer. headers holds extra "Name: value\r\n" lines or is NULL;
 * content_type is NULL when there is no body. HEAD answers omit the body. */
void response_send(struct request *r, int status, const char *headers, const char *content_type,
                   const char *body, size_t len);
const char *http_reason(int status);

#endif
