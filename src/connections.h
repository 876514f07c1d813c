/*
 * connections: the FastCGI connections one worker holds open, and which of
 * them to serve next. It owns accepting (without blocking, from the
 * listening socket all workers share), noticing connections nginx closed,
 * and closing them all when the worker stops. Reading and answering a
 * request is request's; what the answer is, handlers'.
 *
 * Why not libfcgi's own accept loop: a libfcgi worker that keeps a
 * connection alive (fastcgi_keep_conn) waits on that one connection and
 * accepts nothing else, so requests on new connections queue in the listen
 * backlog behind workers idling on kept ones. Here a worker waits on all of
 * its connections and the listening socket at once; libfcgi only reads and
 * writes the records of the connection it is handed.
 */
#ifndef CONNECTIONS_H
#define CONNECTIONS_H

#include <stddef.h>

#include <fcgiapp.h>

#include "loads.h"

/* nginx closes idle connections beyond its keepalive cache; a worker with
 * this many open stops accepting and leaves new ones to the others. */
#define CONNECTIONS_MAX 64

struct connections {
    int listen_fd;                      /* -1 once the worker stops accepting */
    struct loads *loads;                /* the pool's, or NULL for a worker on its own */
    int self;                           /* this worker's index in loads */
    size_t next;                        /* where the round-robin scan starts */
    FCGX_Request conn[CONNECTIONS_MAX]; /* ipcFd < 0: a free slot */
};

/* loads may be NULL: then a busy worker takes every new connection too. */
void connections_init(struct connections *cs, int listen_fd, struct loads *loads, int self);

/* Waits until a connection has a request to read and returns it, ready
 * for request_accept. Meanwhile it takes new connections: always when it
 * has nothing to serve, and while busy only if no worker holds fewer, so
 * that no new request waits in the backlog behind kept connections and the
 * load stays even. Returns NULL as soon as stop_fd is readable (the
 * worker's signalfd), or when timeout_ms (-1: none) passed with nothing to
 * serve. */
FCGX_Request *connections_wait(struct connections *cs, int timeout_ms, int stop_fd);

/* Closes this worker's copy of the listening socket: no new connections. */
void connections_stop_accepting(struct connections *cs);

/* Closes every connection with no request waiting on it now. */
void connections_close_idle(struct connections *cs);

/* How many connections are open. */
size_t connections_open(const struct connections *cs);

/* Closes every open connection. */
void connections_close_all(struct connections *cs);

#endif
