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
#include "loads.h"

/* Serves on listen_fd until SIGTERM; returns the process exit status.
 * loads and self: the pool's shared counts and this worker's index in
 * them, or NULL and 0 for a worker on its own (spawn-fcgi, systemd). */
int worker_run(const struct config *cfg, struct key_source *keys, int listen_fd,
               struct loads *loads, int self);

#endif
