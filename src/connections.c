/*
 * connections: the next connection to serve. See connections.h.
 *
 * libfcgi is given each connection already accepted (ipcFd set, listen_sock
 * -1), so FCGX_Accept_r only reads the next request from it; when it drops
 * a connection for a protocol error, its own accept fails at once on the
 * missing socket instead of blocking. One FCGX_Request serves them all:
 * libfcgi keeps nothing of a connection between its requests.
 */
#include "connections.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fcgi_record.h"
#include "log.h"

/* nginx writes a whole request at once, as soon as it has connected or
 * has its answer to the last one; a peer whose request is not whole this
 * long after its connection is accepted or wakes a worker is dropped. */
#define REQUEST_MS 1000
/* After that, each read of what is left of a long body, and each write of
 * an answer, waits at most this long, so that a peer that stops reading or
 * writing cannot hold a worker for good. */
#define IO_TIMEOUT_S 2

void connections_init(struct connections *cs, struct sharing *sh, int listen_fd,
                      const struct web_servers *allowed)
{
    cs->sh = sh;
    cs->allowed = allowed;
    cs->listen_fd = listen_fd;
    cs->slot = -1;
    cs->again = false;
    if (FCGX_InitRequest(&cs->req, -1, 0) != 0)
        log_fatal("connections: FCGX_InitRequest failed");
    /* Idle workers race to accept: the losers must see EAGAIN, not block. */
    int flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
        log_fatal("connections: cannot make the listening socket non-blocking: %s",
                  strerror(errno));
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

enum arrival {
    ARRIVED, /* whole enough to hand to libfcgi */
    NOTHING, /* not a byte yet, and the caller would not wait for one */
    DROPPED  /* refused, late, or closed by the peer: the caller closes it */
};

/* Waits, up to REQUEST_MS, until the request starting on fd is whole
 * enough to hand to libfcgi (fcgi_record.h) without it blocking or
 * trusting a length. wait_first: wait for the first byte too (a new
 * connection), rather than say NOTHING (a kept one, woken for data another
 * worker has read already). */
static enum arrival request_arrival(int fd, bool wait_first)
{
    static unsigned char window[FCGI_WINDOW];
    struct timespec start;
    int pause_ms = 1;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        ssize_t n = recv(fd, window, sizeof window, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return DROPPED;
        if (n < 0 && !wait_first)
            return NOTHING;
        wait_first = true; /* a request has begun: the rest must follow */
        enum fcgi_scan v = n > 0 ? fcgi_record_scan(window, (size_t)n) : FCGI_MORE;
        if (v == FCGI_READY)
            return ARRIVED;
        if (v == FCGI_BAD) {
            log_warn("connections: refused a FastCGI request that breaks its format or limits");
            return DROPPED;
        }
        long left = REQUEST_MS - ms_since(&start);
        if (left <= 0) {
            log_warn("connections: dropped a FastCGI request not whole after %d ms", REQUEST_MS);
            return DROPPED;
        }
        /* Nothing yet: poll wakes at the first byte. Part of a request:
         * poll would return at once, so look again after a pause. */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int wait_ms = n > 0 ? (pause_ms < left ? pause_ms : (int)left) : (int)left;
        if (poll(n > 0 ? NULL : &p, n > 0 ? 0 : 1, wait_ms) < 0 && errno != EINTR)
            return DROPPED;
        if (n > 0 && pause_ms < 64)
            pause_ms *= 2;
    }
}

static void set_io_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        log_warn("connections: cannot set the socket's timeouts: %s", strerror(errno));
}

static void hand_to_libfcgi(struct connections *cs, int fd)
{
    cs->req.ipcFd = fd;
    /* FCGX_Accept_r first finishes the previous request, and would close
     * the connection unless it is to be kept: it is. A connection broken
     * mid-request is shut down (detached 0), so that nginx sees it close
     * even while other processes hold copies; libfcgi waits for nginx's
     * close with select(), hence the FD_SETSIZE bound. */
    cs->req.keepConnection = 1;
    cs->req.detached = fd >= FD_SETSIZE;
}

static bool peer_allowed(const struct connections *cs, const struct sockaddr_storage *peer)
{
    const struct sockaddr *sa = (const struct sockaddr *)peer;
    if (web_servers_allow(cs->allowed, sa))
        return true;
    char name[INET6_ADDRSTRLEN] = "?";
    const void *addr = sa->sa_family == AF_INET6
                           ? (const void *)&((const struct sockaddr_in6 *)peer)->sin6_addr
                           : (const void *)&((const struct sockaddr_in *)peer)->sin_addr;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
        inet_ntop(sa->sa_family, addr, name, sizeof name);
    log_warn("connections: refused FastCGI peer %s, not in FCGI_WEB_SERVER_ADDRS", name);
    return false;
}

/* Takes one new connection, unless another worker was quicker. */
static bool accept_new(struct connections *cs)
{
    struct sockaddr_storage peer = {.ss_family = AF_UNSPEC};
    socklen_t peer_len = sizeof peer;
    int fd = accept4(cs->listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            sharing_set_backlog(cs->sh, false);
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            log_warn("connections: accept failed: %s", strerror(errno));
            poll(NULL, 0, 100); /* EMFILE and the like: back off, do not spin */
        }
        return false;
    }
    if (!peer_allowed(cs, &peer) || request_arrival(fd, true) != ARRIVED) {
        close(fd);
        return false;
    }
    set_io_timeouts(fd);
    cs->slot = -1;
    hand_to_libfcgi(cs, fd);
    return true;
}

/* Serves slot, claimed by this worker, if a request is waiting on it. */
static bool serve_claimed(struct connections *cs, int slot, uint32_t gen)
{
    int fd = sharing_copy(cs->sh, slot, gen);
    if (fd < 0) {
        log_error("connections: no copy of shared connection %d; closing it", slot);
        sharing_retire(cs->sh, slot, false);
        return false;
    }
    for (;;) {
        enum arrival a = request_arrival(fd, false);
        if (a == ARRIVED) {
            cs->slot = slot;
            cs->gen = gen;
            hand_to_libfcgi(cs, fd);
            return true;
        }
        if (a == DROPPED) {
            shutdown(fd, SHUT_RDWR); /* for every copy: nginx sees it close */
            sharing_retire(cs->sh, slot, false);
            return false;
        }
        /* Woken for data another worker read already: give it back. */
        if (!sharing_release(cs->sh, slot) || !sharing_claim(cs->sh, slot, gen))
            return false;
    }
}

FCGX_Request *connections_wait(struct connections *cs, int timeout_ms)
{
    if (cs->again) {
        cs->again = false;
        if (serve_claimed(cs, cs->slot, cs->gen))
            return &cs->req;
    }
    for (;;) {
        struct epoll_event ev;
        /* A new connection first: in the epoll set the listening socket
         * would queue behind every request waiting there, once per
         * connection in the backlog. */
        if (cs->listen_fd >= 0 && sharing_maybe_backlog(cs->sh) && accept_new(cs))
            return &cs->req;
        sharing_tidy(cs->sh, false);
        int n = epoll_wait(sharing_epoll_fd(cs->sh), &ev, 1, timeout_ms);
        if (n < 0 && errno != EINTR)
            log_fatal("connections: epoll_wait failed: %s", strerror(errno));
        if (n <= 0) {
            if (n == 0 && timeout_ms > 0)
                sharing_tidy(cs->sh, true); /* idle: a good time to close old copies */
            return NULL;
        }
        if (ev.data.u64 == SHARING_LISTEN) {
            if (cs->listen_fd < 0)
                return NULL; /* stopping: the others accept */
            sharing_set_backlog(cs->sh, true);
            if (accept_new(cs))
                return &cs->req;
            continue;
        }
        int slot = (int)(ev.data.u64 & 0xffffffffu);
        uint32_t gen = (uint32_t)(ev.data.u64 >> 32);
        if (slot < SHARING_SLOTS && sharing_claim(cs->sh, slot, gen) &&
            serve_claimed(cs, slot, gen))
            return &cs->req;
    }
}

void connections_done(struct connections *cs, bool close_it)
{
    int fd = cs->req.ipcFd;
    cs->req.ipcFd = -1; /* the copy is sharing's, or closed below */
    if (fd < 0) {       /* libfcgi closed it: nginx does not keep it, or it broke */
        if (cs->slot >= 0)
            sharing_retire(cs->sh, cs->slot, true);
        return;
    }
    if (close_it) {
        shutdown(fd, SHUT_RDWR); /* for the copies too */
        if (cs->slot >= 0)
            sharing_retire(cs->sh, cs->slot, false);
        else
            close(fd);
        return;
    }
    if (cs->slot < 0 && (cs->slot = sharing_add(cs->sh, fd, &cs->gen)) < 0) {
        close(fd); /* no room to share it: nginx opens another */
        return;
    }
    /* The event of a request that came meanwhile is spent: serve it. */
    cs->again = sharing_release(cs->sh, cs->slot) && sharing_claim(cs->sh, cs->slot, cs->gen);
}

void connections_stop_accepting(struct connections *cs)
{
    if (sharing_alone(cs->sh))
        sharing_stop_accepting(cs->sh);
    cs->listen_fd = -1; /* the pool's copy stays open, for the others */
}

bool connections_owed(const struct connections *cs)
{
    return cs->again;
}
