/*
 * handover: what a worker the pool's master forks and re-executes (so that
 * it runs the binary and settings of the last reload) inherits from it:
 * its index, the readiness pipe, the rate limit table and the shared
 * connections with the listening socket. An exec keeps descriptors but not
 * memory, so they are named in one environment variable. It owns that
 * encoding; the descriptors themselves are pool's, sharing's and
 * rate_limit's.
 */
#ifndef HANDOVER_H
#define HANDOVER_H

#include "sharing.h"

#define HANDOVER_ENV "TODO_API_WORKER"

struct handover {
    int index;     /* the worker's place in the pool */
    int ready_fd;  /* the master's pipe: the index is written to it once ready */
    int limits_fd; /* the rate limit table, -1: none */
    struct sharing *sh;
};

/* In the forked child about to exec, after sharing_enter: the variable,
 * "TODO_API_WORKER=..." (the caller frees it), with the descriptors kept
 * open across the exec; NULL (after logging why) on failure. */
char *handover_encode(int index, int ready_fd, int limits_fd, struct sharing *sh);
/* In a process started by exec: 1 and *h filled when the master started it
 * as a worker, 0 when it did not, -1 (after logging why) when the variable
 * is malformed. */
int handover_receive(struct handover *h);
/* Tells the master this worker is ready, once; closes the pipe. */
void handover_ready(struct handover *h);

#endif
