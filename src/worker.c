/*
 * worker: the request loop. See worker.h.
 *
 * libfcgi serves one connection at a time: while nginx keeps a FastCGI
 * connection open (fastcgi_keep_conn), this worker waits on it and accepts
 * nothing else. nginx/README explains how the pool size and nginx's
 * keepalive are set so that this can never starve new connections.
 */
#include "worker.h"

#include <signal.h>
#include <string.h>

#include <fcgiapp.h>

#include "handlers.h"
#include "log.h"
#include "request.h"

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending(); /* makes a blocked accept return */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: accept must see EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
    sa.sa_handler = SIG_IGN; /* a vanished client is an error return, not a death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        log_fatal("worker: sigaction failed");
}

int worker_run(const struct config *cfg, struct key_source *keys, int listen_fd)
{
    struct app app;
    struct request r;

    install_signals();
    if (FCGX_Init() != 0)
        log_fatal("worker: FCGX_Init failed");
    app_init(&app, cfg, keys);
    request_init(&r, listen_fd, cfg->retry_after);
    log_info("worker ready");
    while (!stopping && request_accept(&r) == 0) {
        const char *route = handle_request(&app, &r);
        request_end(&r, route);
    }
    request_destroy(&r);
    app_destroy(&app);
    log_info("worker stopped");
    return 0;
}
