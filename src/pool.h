/*
 * pool: the listening socket and the processes that serve it. It owns
 * binding (a unix socket or a TCP port), forking the workers and
 * re-executing the binary in each (so that a reload can change both the
 * binary and the settings), replacing any that die, the reload on SIGHUP,
 * readiness told to systemd, and the drain on SIGTERM: stop accepting, let
 * in-flight requests finish, then exit. It knows nothing of HTTP or SQL.
 */
#ifndef POOL_H
#define POOL_H

#include "rate_limit.h"

struct pool_plan {
    int listen_fd;
    int workers;
    const char *unix_path;     /* removed at exit; NULL: none */
    const char *config_file;   /* read again on SIGHUP; NULL: none */
    struct rate_limit *limits; /* shared by every worker; NULL: none */
};

/* Binds spec: "unix:/path", "/path", "host:port" or ":port". Returns the
 * listening fd, or -1 after logging why. */
int pool_listen(const char *spec, int backlog, unsigned socket_mode);
/* Runs the master: starts the plan's workers on its socket and supervises
 * them until SIGTERM or SIGINT; SIGHUP reloads them. */
int pool_run(const struct pool_plan *plan);

#endif
