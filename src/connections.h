/*
 * connections: which FastCGI connection a worker serves next, and what
 * becomes of it afterwards. It owns accepting (from the listening socket
 * all workers share), claiming a shared connection with a request waiting,
 * sharing a new connection nginx keeps, and closing those nginx closed.
 * Reading and answering a request is request's; what the answer is,
 * handlers'; the shared table and epoll set, sharing's.
 *
 * Why not libfcgi's own accept loop: a libfcgi worker that keeps a
 * connection alive (fastcgi_keep_conn) waits on that one connection and
 * accepts nothing else, so requests on new connections queue in the listen
 * backlog behind workers idling on kept ones. Here every idle worker waits
 * on the pool's one epoll set (sharing.h); libfcgi only reads and writes
 * the records of the connection it is handed.
 *
 * A new connection is served by the worker that accepted it; after that
 * first request, if nginx keeps it, it is shared. A connection per request
 * (fastcgi_keep_conn off) is thus never shared, and costs nothing more.
 */
#ifndef CONNECTIONS_H
#define CONNECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "sharing.h"
#include "web_servers.h"

struct connections {
    struct sharing *sh;
    const struct web_servers *allowed;
    int listen_fd;    /* -1 once this worker stops accepting */
    FCGX_Request req; /* the connection being served, for libfcgi */
    int slot;         /* its slot, or -1: new, not shared yet */
    uint32_t gen;     /* the slot's generation */
    bool again;       /* slot was claimed back when released: serve it next */
};

/* allowed: the TCP peers it serves; others are closed at once. */
void connections_init(struct connections *cs, struct sharing *sh, int listen_fd,
                      const struct web_servers *allowed);

/* Waits until a connection has a request to read and returns it, ready
 * for request_accept; NULL when timeout_ms (-1: none) passed, or a signal
 * came, with nothing to serve. */
FCGX_Request *connections_wait(struct connections *cs, int timeout_ms);

/* After request_end: shares the connection if new and kept by nginx,
 * gives it back to the pool, or, when close is set or it broke, closes it
 * (for every process: nginx sees it close). */
void connections_done(struct connections *cs, bool close);

/* No new connections for this worker; a worker on its own also takes the
 * listening socket out of its epoll set. */
void connections_stop_accepting(struct connections *cs);

/* Whether a request waits that this worker must serve (it came on a
 * connection this worker was serving, and another worker let it be). */
bool connections_owed(const struct connections *cs);

#endif
