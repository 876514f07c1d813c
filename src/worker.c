/*
 * worker: the request loop. See worker.h.
 *
 * SIGTERM and SIGINT (stop) and SIGUSR2 (retire, for a reload) only set a
 * flag (SA_RESTART: a read or write they interrupt goes on), checked
 * between requests, so neither cuts a request half-served. The one wait they cut short is
 * epoll_wait's; one that comes just before the wait starts is seen at the wait's one-second tick.
 */
#include "worker.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "connections.h"
#include "handover.h"
#include "handlers.h"
#include "log.h"
#include "request.h"

#define TICK_MS 1000

static volatile sig_atomic_t stopping, retiring;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void on_retire(int sig)
{
    (void)sig;
    retiring = 1;
}

static void set_signals(void)
{
    struct sigaction sa;
    sigset_t stop;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN; /* a vanished client is an error return, not a death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0 || sigaction(SIGHUP, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sa.sa_handler = on_retire;
    if (sigaction(SIGUSR2, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGUSR2);
    if (sigprocmask(SIG_UNBLOCK, &stop, NULL) < 0)
        log_fatal("worker: sigprocmask failed");
}

/* Serves the next request, if one comes within timeout_ms; returns 0 when
 * none did. Once stopping, each connection closes after its answer. */
static int serve_next(struct app *app, struct request *r, struct connections *cs, int timeout_ms)
{
    FCGX_Request *conn = connections_wait(cs, 0);
    if (conn == NULL && timeout_ms != 0 && !stopping) {
        log_flush(); /* nothing to serve right now: write the request lines */
        conn = connections_wait(cs, timeout_ms);
    }
    if (conn == NULL)
        return 0;
    if (request_accept(r, conn) == 0) {
        const char *route = handle_request(app, r);
        request_end(r, route);
    }
    connections_done(cs, stopping);
    return 1;
}

int worker_run(const struct config *cfg, struct key_source *keys, struct rate_limit *limits,
               struct handover *h)
{
    static struct connections cs;
    struct app app;
    struct request r;

    set_signals();
    if (FCGX_Init() != 0)
        log_fatal("worker: FCGX_Init failed");
    app_init(&app, cfg, keys, limits);
    request_init(&r, cfg->retry_after);
    connections_init(&cs, h->sh, sharing_listen_fd(h->sh), &cfg->web_servers);
    log_info("worker ready");
    handover_ready(h);
    while (!stopping && !retiring) {
        serve_next(&app, &r, &cs, TICK_MS);
        app_tick(&app, time(NULL));
    }
    if (stopping) {
        /* Drain: take no new connection, answer the requests already
         * waiting (closing each connection after its answer), then go.
         * Serving what nginx sends meanwhile would let a busy nginx stretch
         * the drain; a request it sends as a connection closes gets its
         * 503. */
        connections_stop_accepting(&cs);
        while (serve_next(&app, &r, &cs, 0))
            ;
    } else {
        /* Retire (a reload): the kept connections stay open for the other
         * workers and this one's successor; serve only the request this
         * worker was woken for and could not take yet. */
        while (connections_owed(&cs))
            serve_next(&app, &r, &cs, 0);
    }
    log_flush();
    if (sharing_alone(h->sh) && stopping)
        sharing_close_all(h->sh); /* in a pool, the master closes them */
    request_destroy(&r);
    app_destroy(&app);
    log_info(stopping ? "worker stopped" : "worker retired");
    return 0;
}
