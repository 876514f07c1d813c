/*
 * worker: one process that serves requests one at a time from the listening
 * socket until told to stop: accept, answer, finish, log. It owns the
 * request loop and the worker's signal handling; what an answer is belongs
 * to handlers.
 */
#ifndef WORKER_H
#define WORKER_H

#include "config.h"
#include "key_source.h"
#include "rate_limit.h"
#include "sharing.h"

/* Serves the connections of listen_fd and sh until SIGTERM; returns the
 * process exit status. sh is the pool's (entered as this worker), or a
 * worker's own when it runs without a master (spawn-fcgi, systemd); so is
 * limits (NULL: no rate limit). */
int worker_run(const struct config *cfg, struct key_source *keys, struct rate_limit *limits,
               struct sharing *sh, int listen_fd);

#endif
