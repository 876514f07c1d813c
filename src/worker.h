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
#include "handover.h"

/* Serves the connections of h's sharing (and its listening socket) until
 * SIGTERM, or until SIGUSR2 retires it; tells the master once it serves
 * (handover_ready). h->sh is the pool's (entered as this worker), or a
 * worker's own when it runs without a master (spawn-fcgi, systemd); so is
 * limits (NULL: no rate limit). Returns the process exit status. */
int worker_run(const struct config *cfg, struct key_source *keys, struct rate_limit *limits,
               struct handover *h);

#endif
