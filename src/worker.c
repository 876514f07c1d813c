/*
 * worker: the request loop. See worker.h.
 *
 * SIGTERM and SIGINT stay blocked for the worker's whole life and arrive
 * through a signalfd that connections_wait polls beside the connections:
 * a stop never interrupts a request half-served, and is seen even when
 * requests never stop coming (ppoll's signal mask would not do: a ppoll
 * that finds a connection ready returns without delivering the signal).
 */
#include "worker.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "connections.h"
#include "handlers.h"
#include "log.h"
#include "request.h"

static bool stopping;

/* Blocks SIGTERM and SIGINT and returns the signalfd that receives them. */
static int open_stop_fd(void)
{
    struct sigaction sa;
    sigset_t stop;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN; /* a vanished client is an error return, not a death */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0)
        log_fatal("worker: sigprocmask failed");
    int fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        log_fatal("worker: signalfd failed");
    return fd;
}

/* Takes a pending SIGTERM or SIGINT, if there is one. */
static void check_stop(int stop_fd)
{
    struct signalfd_siginfo si;
    if (read(stop_fd, &si, sizeof si) == (ssize_t)sizeof si)
        stopping = true;
}

/* Serves the next request, if one comes within timeout_ms (-1: no limit);
 * returns 0 when none did or a stop came. Once stopping, each connection
 * closes after its answer. */
static int serve_next(struct app *app, struct request *r, struct connections *cs, int timeout_ms,
                      int stop_fd)
{
    FCGX_Request *conn = connections_wait(cs, 0, stop_fd);
    if (conn == NULL && timeout_ms != 0) {
        log_flush(); /* nothing to serve right now: write the request lines */
        conn = connections_wait(cs, timeout_ms, stop_fd);
    }
    if (conn == NULL) {
        check_stop(stop_fd);
        return 0;
    }
    if (request_accept(r, conn) == 0) {
        const char *route = handle_request(app, r);
        request_end(r, route, stopping);
    }
    return 1;
}

int worker_run(const struct config *cfg, struct key_source *keys, int listen_fd,
               struct loads *loads, int self)
{
    static struct connections cs; /* 64 FCGX_Requests: not for the stack */
    struct app app;
    struct request r;
    int stop_fd = open_stop_fd();

    if (FCGX_Init() != 0)
        log_fatal("worker: FCGX_Init failed");
    app_init(&app, cfg, keys);
    request_init(&r, cfg->retry_after);
    connections_init(&cs, listen_fd, loads, self);
    log_info("worker ready");
    while (!stopping)
        serve_next(&app, &r, &cs, -1, stop_fd);
    /* Drain: take no new connection, close the kept ones that are idle,
     * answer the requests already waiting on the others (closing each after
     * its answer). Serving what nginx sends meanwhile would let a busy nginx
     * stretch the drain; a request it sends as a connection closes gets its
     * 503. */
    connections_stop_accepting(&cs);
    connections_close_idle(&cs);
    while (connections_open(&cs) > 0 && serve_next(&app, &r, &cs, 0, stop_fd))
        ;
    connections_close_all(&cs);
    close(stop_fd);
    request_destroy(&r);
    app_destroy(&app);
    log_info("worker stopped");
    return 0;
}
