/*
 * pool: the listening socket and the processes that serve it. It owns
 * binding (a unix socket or a TCP port), forking the workers, replacing any
 * that die, and the drain on SIGTERM: stop accepting, let in-flight
 * requests finish, then exit. It knows nothing of HTTP or SQL.
 */
#ifndef POOL_H
#define POOL_H

#include "config.h"
#include "key_source.h"
#include "rate_limit.h"

/* Binds spec: "unix:/path", "/path", "host:port" or ":port". Returns the
 * listening fd, or -1 after logging why. */
int pool_listen(const char *spec, int backlog, unsigned socket_mode);
/* Runs the master: forks workers on listen_fd and supervises them until
 * SIGTERM or SIGINT. unix_path, when not NULL, is removed at exit. limits
 * (NULL: none) is shared by every worker. */
int pool_run(const struct config *cfg, struct key_source *keys, struct rate_limit *limits,
             int listen_fd, int workers, const char *unix_path);

#endif
