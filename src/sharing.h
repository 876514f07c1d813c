/*
 * sharing: the FastCGI connections nginx keeps open, shared by every
 * process of a pool, so that a request waiting on any of them goes to
 * whichever worker is free. It owns the shared epoll instance all workers
 * wait on, the table of slots in shared memory that says which process
 * serves which connection, and each process's copies of the connection
 * sockets. Accepting, reading and answering are connections' and
 * request's; forking is pool's.
 *
 * Why: with connections bound to the worker that accepted them, a worker
 * stalled by the scheduler or by a slow statement holds up every request
 * queued on its connections while its siblings idle, and the mixed load's
 * p99 is twice its median. Shared, those requests go to the free workers.
 *
 * How:
 * - Every process holds a copy of every shared connection (the socket is
 *   sent to each through its inbox, a unix datagram socket, with
 *   SCM_RIGHTS), the master included, so that a worker forked later
 *   inherits them all.
 * - One epoll instance, made before the fork, watches them all,
 *   edge-triggered: a request that arrives wakes one waiting worker.
 * - A slot's state (generation, owner, FREE/IDLE/BUSY) is one atomic word:
 *   a worker claims an IDLE connection with a compare-and-swap, so two
 *   workers never read the same connection. Each closed connection bumps
 *   its slot's generation: events and copies of an older one are ignored
 *   and closed.
 */
#ifndef SHARING_H
#define SHARING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connections shared at once; one more is served, then closed. */
#define SHARING_SLOTS 256
/* epoll data of the listening socket; a connection's is slot | gen << 32. */
#define SHARING_LISTEN UINT64_MAX

struct sharing;

/* For a pool of `workers` and its master (process `workers`), or for one
 * worker on its own (workers 0: it is process 0). Registers listen_fd.
 * NULL (after logging why) on failure. */
struct sharing *sharing_create(int workers, int listen_fd);
/* Called by each process after the fork, with its index. */
void sharing_enter(struct sharing *sh, int self);
/* Closes this process's copies and descriptors; the last process to call
 * it unmaps the shared table. */
void sharing_destroy(struct sharing *sh);

int sharing_epoll_fd(const struct sharing *sh);
/* The listening socket (-1 once stopped accepting). */
int sharing_listen_fd(const struct sharing *sh);
/* Whether a new connection may be waiting in the listen backlog: set when
 * the listening socket's event comes, cleared when accept finds none, so
 * that busy workers try accept only while it may succeed. */
bool sharing_maybe_backlog(const struct sharing *sh);
void sharing_set_backlog(struct sharing *sh, bool maybe);
int sharing_inbox_fd(const struct sharing *sh);
bool sharing_alone(const struct sharing *sh);

/* Shares fd, a connection this process holds and is serving: it gets a
 * slot (BUSY, owned by this process), a copy in every other process, and
 * a place in the epoll set. Returns the slot and sets *gen, or -1 when it
 * cannot be shared (then fd is shut down if copies went out, and the
 * caller closes it). */
int sharing_add(struct sharing *sh, int fd, uint32_t *gen);
/* Takes slot, IDLE in generation gen, for this process. A slot busy with
 * another process is marked missed instead: that process serves what came
 * (see sharing_release). */
bool sharing_claim(struct sharing *sh, int slot, uint32_t gen);
/* This process's copy of slot in generation gen, taken from the inbox if
 * it has not been yet; -1 if there is none. */
int sharing_copy(struct sharing *sh, int slot, uint32_t gen);
/* Gives a claimed slot back: IDLE again. true: a request came meanwhile
 * and its event is spent, so the caller must claim the slot back and
 * serve it. */
bool sharing_release(struct sharing *sh, int slot);
/* The connection in a claimed slot is closed (or, shut, will be): frees
 * the slot, closes this process's copy; the others close theirs when they
 * next tidy. copy_closed: the copy was closed already (by libfcgi). */
void sharing_retire(struct sharing *sh, int slot, bool copy_closed);

/* Receives the copies waiting in the inbox and closes the copies of
 * connections closed since; cheap when nothing changed (force: do it
 * anyway). */
void sharing_tidy(struct sharing *sh, bool force);
/* Master: shuts the connections process `owner` (dead) was serving, so
 * that nginx sees them close instead of waiting for an answer. */
void sharing_abandon(struct sharing *sh, int owner);
/* In a forked process about to exec (after sharing_enter): describes in
 * buf what the new image needs to go on as this process (sharing_import),
 * and keeps those descriptors open across the exec. -1 when buf is too
 * small or a descriptor cannot be kept. */
int sharing_export(struct sharing *sh, char *buf, size_t len);
/* In the re-executed process: the sharing described by sharing_export.
 * NULL (after logging why) when desc is malformed. */
struct sharing *sharing_import(const char *desc);
/* Clears fd's FD_CLOEXEC (nothing for -1); -1 when it cannot. */
int sharing_keep_across_exec(int fd);
/* The room sharing_export needs at most. */
size_t sharing_export_size(const struct sharing *sh);

/* Takes the listening socket out of the epoll set: no more accepting. */
void sharing_stop_accepting(struct sharing *sh);
/* Shuts and closes every shared connection (the pool is stopping). */
void sharing_close_all(struct sharing *sh);

#endif
