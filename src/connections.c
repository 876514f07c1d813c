/*
 * connections: a worker's open FastCGI connections. See connections.h.
 *
 * libfcgi is given each connection already accepted (ipcFd set, listen_sock
 * -1), so FCGX_Accept_r only reads the next request from it; when it drops
 * a connection for a protocol error, its own accept fails at once on the
 * missing socket instead of blocking.
 */
#include "connections.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

void connections_init(struct connections *cs, int listen_fd, struct loads *loads, int self)
{
    cs->listen_fd = listen_fd;
    cs->loads = loads;
    cs->self = self;
    cs->next = 0;
    for (size_t i = 0; i < CONNECTIONS_MAX; i++)
        if (FCGX_InitRequest(&cs->conn[i], -1, 0) != 0)
            log_fatal("connections: FCGX_InitRequest failed");
    /* Every idle worker polls the shared socket and they race to accept:
     * the losers must see EAGAIN, not block. */
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
        log_fatal("connections: cannot make the listening socket non-blocking: %s",
                  strerror(errno));
}

static void close_connection(FCGX_Request *c)
{
    c->detached = 1; /* a plain close(): nothing is left to read or write */
    FCGX_Free(c, 1);
}

/* Takes one new connection, unless another worker was quicker. */
static void accept_one(struct connections *cs, FCGX_Request *slot)
{
    int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            log_warn("connections: accept failed: %s", strerror(errno));
            poll(NULL, 0, 100); /* EMFILE and the like: back off, do not spin */
        }
        return;
    }
    slot->ipcFd = fd;
    /* FCGX_Accept_r first finishes the previous request, and closes the
     * connection unless it was to be kept: this one is. */
    slot->keepConnection = 1;
}

/* 1: a request is waiting on c; 0: nginx closed it (now closed here too);
 * -1: nothing yet. */
static int has_request(FCGX_Request *c)
{
    char byte;
    ssize_t n = recv(c->ipcFd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
        return 1;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return -1;
    close_connection(c);
    return 0;
}

/* The next connection with a request, in round-robin order, or NULL. */
static FCGX_Request *next_ready(struct connections *cs, const struct pollfd *fds,
                                const size_t *slot_of, nfds_t n)
{
    for (nfds_t j = 0; j < n; j++) {
        if (fds[j].revents && has_request(&cs->conn[slot_of[j]]) > 0) {
            cs->next = (slot_of[j] + 1) % CONNECTIONS_MAX;
            return &cs->conn[slot_of[j]];
        }
    }
    return NULL;
}

FCGX_Request *connections_wait(struct connections *cs, int timeout_ms, int stop_fd)
{
    struct pollfd fds[CONNECTIONS_MAX + 2];
    size_t slot_of[CONNECTIONS_MAX];

    for (;;) {
        nfds_t n = 0;
        FCGX_Request *slot = NULL; /* where a new connection would go */
        for (size_t k = 0; k < CONNECTIONS_MAX; k++) {
            size_t i = (cs->next + k) % CONNECTIONS_MAX;
            if (cs->conn[i].ipcFd >= 0) {
                fds[n] = (struct pollfd){.fd = cs->conn[i].ipcFd, .events = POLLIN};
                slot_of[n++] = i;
            } else if (slot == NULL) {
                slot = &cs->conn[i];
            }
        }
        if (cs->loads)
            loads_set(cs->loads, cs->self, (int)n);
        nfds_t conns = n;
        fds[n++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        if (cs->listen_fd < 0)
            slot = NULL;
        if (slot)
            fds[n++] = (struct pollfd){.fd = cs->listen_fd, .events = POLLIN};

        int ready = poll(fds, n, timeout_ms);
        if (ready < 0 && errno != EINTR)
            log_fatal("connections: poll failed: %s", strerror(errno));
        if (ready <= 0 || fds[conns].revents)
            return NULL;
        FCGX_Request *conn = next_ready(cs, fds, slot_of, conns);
        /* Left in the backlog while this worker is busy, a new request
         * would wait behind the kept connections, which never run dry under
         * load; so a busy worker takes it too when no other holds fewer. */
        if (slot && fds[n - 1].revents &&
            (conn == NULL || cs->loads == NULL || loads_is_least(cs->loads, cs->self)))
            accept_one(cs, slot);
        if (conn)
            return conn;
    }
}

void connections_stop_accepting(struct connections *cs)
{
    if (cs->listen_fd >= 0)
        close(cs->listen_fd);
    cs->listen_fd = -1;
}

void connections_close_idle(struct connections *cs)
{
    for (size_t i = 0; i < CONNECTIONS_MAX; i++)
        if (cs->conn[i].ipcFd >= 0 && has_request(&cs->conn[i]) < 0)
            close_connection(&cs->conn[i]);
}

size_t connections_open(const struct connections *cs)
{
    size_t n = 0;
    for (size_t i = 0; i < CONNECTIONS_MAX; i++)
        n += cs->conn[i].ipcFd >= 0;
    return n;
}

void connections_close_all(struct connections *cs)
{
    for (size_t i = 0; i < CONNECTIONS_MAX; i++)
        if (cs->conn[i].ipcFd >= 0)
            close_connection(&cs->conn[i]);
}
