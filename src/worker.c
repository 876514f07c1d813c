/*
 * worker: the request loop. See worker.h.
 *
 * SIGTERM and SIGINT stay blocked except while the worker waits for a
 * request (connections_wait), so a stop never interrupts one half-served:
 * it is seen between requests, and then the worker drains.
 */
#include "worker.h"

#include <signal.h>
#include <string.h>

#include <fcgiapp.h>

#include "connections.h"
#include "handlers.h"
#include "log.h"
#include "request.h"

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Sets wait_mask to the mask under which the worker waits for requests. */
static void install_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t stop;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sa.sa_handler = SIG_IGN; /* a vanished client is an error return, not a death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop, wait_mask) < 0)
        log_fatal("worker: sigprocmask failed");
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGINT);
}

/* Serves the next request, if one comes within timeout_ms (-1: no limit);
 * returns 0 when none did. Once stopping, each connection closes after
 * its answer. */
static int serve_next(struct app *app, struct request *r, struct connections *cs, int timeout_ms,
                      const sigset_t *wait_mask)
{
    FCGX_Request *conn = connections_wait(cs, timeout_ms, wait_mask);
    if (conn == NULL)
        return 0;
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
    sigset_t wait_mask;

    install_signals(&wait_mask);
    if (FCGX_Init() != 0)
        log_fatal("worker: FCGX_Init failed");
    app_init(&app, cfg, keys);
    request_init(&r, cfg->retry_after);
    connections_init(&cs, listen_fd, loads, self);
    log_info("worker ready");
    while (!stopping)
        serve_next(&app, &r, &cs, -1, &wait_mask);
    /* Drain: take no new connection, answer the requests already waiting
     * on the kept ones (closing each after its answer), then close the
     * rest. Waiting for more would let a busy nginx stretch the drain; a
     * request it sends as the connection closes gets its 503. */
    connections_stop_accepting(&cs);
    while (connections_open(&cs) > 0 && serve_next(&app, &r, &cs, 0, &wait_mask))
        ;
    connections_close_all(&cs);
    request_destroy(&r);
    app_destroy(&app);
    log_info("worker stopped");
    return 0;
}
