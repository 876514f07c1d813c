/*
 * sharing: the connections a pool shares. See sharing.h.
 *
 * A slot's word: generation (high 32 bits), owner (process index, 16 bits),
 * MISSED (bit 2), state (low 2 bits). Only the process that owns a BUSY
 * slot (or the master, once that process is dead) frees or releases it;
 * others claim an IDLE one, or mark a BUSY one MISSED, with a
 * compare-and-swap.
 *
 * MISSED: a request came on a busy connection and its event went to
 * another worker, which cannot serve it. The owner learns so when it
 * releases the slot, and serves it. Without the mark the owner would have
 * to look at the socket itself after every request, and would serve the
 * next request on its connection ahead of older ones queued in the epoll
 * set (nginx reuses the connection it got its last answer on first).
 */
#include "sharing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

enum { FREE = 0, IDLE = 1, BUSY = 2, MISSED = 4 };

struct table {
    atomic_uint_fast64_t slot[SHARING_SLOTS];
    atomic_uint epoch;         /* bumped by every retirement */
    atomic_bool maybe_backlog; /* a connection may wait in the backlog */
    struct {
        atomic_uint sent, taken; /* copies put in its inbox, and taken out */
    } inbox[];                   /* per process: its successor goes on counting */
};

/* The message that carries a copy. */
struct copy_msg {
    uint32_t slot, gen;
};

struct sharing {
    struct table *table; /* shared */
    int table_fd;        /* its memory (a memfd): a re-executed process maps it again */
    int epfd, listen_fd;
    int nproc, self;
    int (*inbox)[2];         /* per process: [0] receives, [1] sends */
    int copy[SHARING_SLOTS]; /* this process's copies, -1: none */
    uint32_t copy_gen[SHARING_SLOTS];
    unsigned tidied_epoch;
};

static size_t table_size(int nproc)
{
    return sizeof(struct table) + (size_t)nproc * sizeof(((struct table *)0)->inbox[0]);
}

static uint64_t word(uint32_t gen, int owner, int state)
{
    return (uint64_t)gen << 32 | (uint64_t)(owner & 0xffff) << 3 | (uint64_t)state;
}
static uint32_t gen_of(uint64_t w)
{
    return (uint32_t)(w >> 32);
}
static int owner_of(uint64_t w)
{
    return (int)((w >> 3) & 0xffff);
}
static int state_of(uint64_t w)
{
    return (int)(w & 3);
}

static uint64_t load(const struct sharing *sh, int slot)
{
    return atomic_load(&sh->table->slot[slot]);
}

static void store(struct sharing *sh, int slot, uint64_t w)
{
    atomic_store(&sh->table->slot[slot], w);
}

/* Each process holds a copy of every shared connection and a socket to
 * every process's inbox: make room for them. */
static void raise_fd_limit(int nproc)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)SHARING_SLOTS + 2 * (rlim_t)nproc + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
        log_warn("sharing: %lu file descriptors may be too few for %d processes",
                 (unsigned long)rl.rlim_cur, nproc);
}

struct sharing *sharing_create(int workers, int listen_fd)
{
    struct sharing *sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        return NULL;
    sh->nproc = workers + 1;
    sh->self = workers;
    raise_fd_limit(sh->nproc);
    sh->listen_fd = listen_fd;
    for (int i = 0; i < SHARING_SLOTS; i++)
        sh->copy[i] = -1;
    sh->inbox = calloc((size_t)sh->nproc, sizeof *sh->inbox);
    sh->table_fd = memfd_create("todo-api-sharing", MFD_CLOEXEC);
    sh->table = sh->table_fd < 0 || ftruncate(sh->table_fd, (off_t)table_size(sh->nproc)) < 0
                    ? MAP_FAILED
                    : mmap(NULL, table_size(sh->nproc), PROT_READ | PROT_WRITE, MAP_SHARED,
                           sh->table_fd, 0);
    sh->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = SHARING_LISTEN};
    if (sh->inbox == NULL || sh->table == MAP_FAILED || sh->epfd < 0 ||
        epoll_ctl(sh->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        log_error("sharing: cannot set up: %s", strerror(errno));
        return NULL; /* the process exits: nothing to free */
    }
    for (int i = 0; i < SHARING_SLOTS; i++)
        atomic_init(&sh->table->slot[i], word(0, 0, FREE));
    atomic_init(&sh->table->epoch, 0);
    atomic_init(&sh->table->maybe_backlog, true);
    for (int i = 0; i < sh->nproc; i++) {
        atomic_init(&sh->table->inbox[i].sent, 0);
        atomic_init(&sh->table->inbox[i].taken, 0);
    }
    for (int i = 0; i < sh->nproc; i++) {
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sh->inbox[i]) < 0) {
            log_error("sharing: socketpair failed: %s", strerror(errno));
            return NULL;
        }
    }
    return sh;
}

void sharing_enter(struct sharing *sh, int self)
{
    sh->self = self;
    for (int i = 0; i < sh->nproc; i++)
        if (i != self && sh->inbox[i][0] >= 0) {
            close(sh->inbox[i][0]);
            sh->inbox[i][0] = -1;
        }
}

void sharing_destroy(struct sharing *sh)
{
    if (sh == NULL)
        return;
    for (int i = 0; i < SHARING_SLOTS; i++)
        if (sh->copy[i] >= 0)
            close(sh->copy[i]);
    for (int i = 0; i < sh->nproc; i++)
        for (int end = 0; end < 2; end++)
            if (sh->inbox[i][end] >= 0)
                close(sh->inbox[i][end]);
    close(sh->epfd);
    close(sh->table_fd);
    munmap(sh->table, table_size(sh->nproc)); /* this process's view of it */
    free(sh->inbox);
    free(sh);
}

int sharing_epoll_fd(const struct sharing *sh)
{
    return sh->epfd;
}
int sharing_listen_fd(const struct sharing *sh)
{
    return sh->listen_fd;
}
bool sharing_maybe_backlog(const struct sharing *sh)
{
    return atomic_load_explicit(&sh->table->maybe_backlog, memory_order_relaxed);
}
void sharing_set_backlog(struct sharing *sh, bool maybe)
{
    atomic_store_explicit(&sh->table->maybe_backlog, maybe, memory_order_relaxed);
}
int sharing_inbox_fd(const struct sharing *sh)
{
    return sh->inbox[sh->self][0];
}
bool sharing_alone(const struct sharing *sh)
{
    return sh->nproc == 1;
}

static int send_copy(int sock, const struct copy_msg *m, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u); /* the padding goes to the kernel too */
    struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof *m ? 0 : -1;
}

/* 1 and *fd (or -1 if none came with it): a message; 0: the inbox is empty. */
static int receive_copy(int sock, struct copy_msg *m, int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    *fd = -1;
    ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            log_warn("sharing: recvmsg failed: %s", strerror(errno));
        return 0;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof *fd);
    if (n != (ssize_t)sizeof *m || m->slot >= SHARING_SLOTS) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
    }
    return 1;
}

static void drop_copy(struct sharing *sh, int slot)
{
    if (sh->copy[slot] >= 0)
        close(sh->copy[slot]);
    sh->copy[slot] = -1;
}

/* Keeps the copies of live connections, closes those of closed ones. */
static void take_inbox(struct sharing *sh)
{
    struct copy_msg m;
    int fd;
    while (receive_copy(sharing_inbox_fd(sh), &m, &fd)) {
        atomic_fetch_add(&sh->table->inbox[sh->self].taken, 1);
        if (fd < 0)
            continue;
        uint64_t w = load(sh, (int)m.slot);
        if (gen_of(w) != m.gen || state_of(w) == FREE) {
            close(fd);
            continue;
        }
        drop_copy(sh, (int)m.slot);
        sh->copy[m.slot] = fd;
        sh->copy_gen[m.slot] = m.gen;
    }
}

void sharing_tidy(struct sharing *sh, bool force)
{
    unsigned epoch = atomic_load(&sh->table->epoch);
    if (force || atomic_load(&sh->table->inbox[sh->self].sent) !=
                     atomic_load(&sh->table->inbox[sh->self].taken))
        take_inbox(sh);
    if (!force && epoch == sh->tidied_epoch)
        return;
    sh->tidied_epoch = epoch;
    for (int i = 0; i < SHARING_SLOTS; i++) {
        uint64_t w = load(sh, i);
        if (sh->copy[i] >= 0 && (gen_of(w) != sh->copy_gen[i] || state_of(w) == FREE))
            drop_copy(sh, i);
    }
}

static int find_free_slot(struct sharing *sh)
{
    for (int i = 0; i < SHARING_SLOTS; i++) {
        uint64_t w = load(sh, i);
        if (state_of(w) == FREE && atomic_compare_exchange_strong(&sh->table->slot[i], &w,
                                                                  word(gen_of(w), sh->self, BUSY)))
            return i;
    }
    return -1;
}

int sharing_add(struct sharing *sh, int fd, uint32_t *gen)
{
    int slot = find_free_slot(sh);
    if (slot < 0)
        return -1;
    *gen = gen_of(load(sh, slot));
    struct copy_msg m = {(uint32_t)slot, *gen};
    int sent = 0;
    /* Copies first: a worker woken for this connection finds its copy
     * already in its inbox. */
    for (int i = 0; i < sh->nproc; i++) {
        if (i == sh->self)
            continue;
        if (send_copy(sh->inbox[i][1], &m, fd) < 0) {
            log_warn("sharing: cannot send a connection to process %d: %s", i, strerror(errno));
            goto unshared;
        }
        atomic_fetch_add(&sh->table->inbox[i].sent, 1);
        sent++;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.u64 = (uint64_t)slot | (uint64_t)*gen << 32};
    if (epoll_ctl(sh->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_warn("sharing: epoll_ctl failed: %s", strerror(errno));
        goto unshared;
    }
    sh->copy[slot] = fd;
    sh->copy_gen[slot] = *gen;
    return slot;

unshared:
    if (sent > 0)
        shutdown(fd, SHUT_RDWR); /* the copies sent must not keep it open */
    store(sh, slot, word(*gen + 1, 0, FREE));
    atomic_fetch_add(&sh->table->epoch, 1);
    return -1;
}

bool sharing_claim(struct sharing *sh, int slot, uint32_t gen)
{
    uint64_t w = load(sh, slot);
    for (;;) {
        if (gen_of(w) != gen || state_of(w) == FREE || (w & MISSED))
            return false;
        uint64_t next = state_of(w) == IDLE ? word(gen, sh->self, BUSY) : w | MISSED;
        if (atomic_compare_exchange_weak(&sh->table->slot[slot], &w, next))
            return state_of(w) == IDLE;
    }
}

int sharing_copy(struct sharing *sh, int slot, uint32_t gen)
{
    if (sh->copy[slot] < 0 || sh->copy_gen[slot] != gen)
        take_inbox(sh);
    return sh->copy[slot] >= 0 && sh->copy_gen[slot] == gen ? sh->copy[slot] : -1;
}

bool sharing_release(struct sharing *sh, int slot)
{
    uint64_t w = atomic_exchange(&sh->table->slot[slot], word(gen_of(load(sh, slot)), 0, IDLE));
    return (w & MISSED) != 0;
}

void sharing_retire(struct sharing *sh, int slot, bool copy_closed)
{
    store(sh, slot, word(gen_of(load(sh, slot)) + 1, 0, FREE));
    atomic_fetch_add(&sh->table->epoch, 1);
    if (copy_closed)
        sh->copy[slot] = -1;
    else
        drop_copy(sh, slot);
}

/* Closes slot's connection for every process: nginx sees it close. */
static void shut(struct sharing *sh, int slot)
{
    if (sh->copy[slot] >= 0)
        shutdown(sh->copy[slot], SHUT_RDWR);
    sharing_retire(sh, slot, false);
}

void sharing_abandon(struct sharing *sh, int owner)
{
    sharing_tidy(sh, true);
    for (int i = 0; i < SHARING_SLOTS; i++) {
        uint64_t w = load(sh, i);
        if (state_of(w) == BUSY && owner_of(w) == owner)
            shut(sh, i);
    }
}

void sharing_stop_accepting(struct sharing *sh)
{
    if (sh->listen_fd >= 0 && epoll_ctl(sh->epfd, EPOLL_CTL_DEL, sh->listen_fd, NULL) < 0)
        log_warn("sharing: epoll_ctl failed: %s", strerror(errno));
    sh->listen_fd = -1;
}

void sharing_close_all(struct sharing *sh)
{
    sharing_tidy(sh, true);
    for (int i = 0; i < SHARING_SLOTS; i++)
        if (sh->copy[i] >= 0)
            shut(sh, i);
}

int sharing_keep_across_exec(int fd)
{
    int flags = fd < 0 ? 0 : fcntl(fd, F_GETFD);
    return flags < 0 || (fd >= 0 && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) ? -1 : 0;
}

/* Keeps fd open across exec and appends it to buf; -1 when it cannot. */
static int export_fd(char *buf, size_t len, size_t *used, const char *sep, int fd)
{
    if (sharing_keep_across_exec(fd) < 0)
        return -1;
    int n = snprintf(buf + *used, len - *used, "%s%d", sep, fd);
    if (n < 0 || (size_t)n >= len - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

size_t sharing_export_size(const struct sharing *sh)
{
    /* six numbers, one per inbox, and slot:gen:fd per copy */
    return (size_t)6 * 12 + (size_t)sh->nproc * 12 + (size_t)SHARING_SLOTS * 36 + 1;
}

int sharing_export(struct sharing *sh, char *buf, size_t len)
{
    size_t used = 0;
    int n = snprintf(buf, len, "%d,%d", sh->nproc, sh->self);
    if (n < 0 || (size_t)n >= len)
        return -1;
    used = (size_t)n;
    int rc = export_fd(buf, len, &used, ",", sh->table_fd) |
             export_fd(buf, len, &used, ",", sh->epfd) |
             export_fd(buf, len, &used, ",", sh->listen_fd) |
             export_fd(buf, len, &used, ",", sh->inbox[sh->self][0]);
    for (int i = 0; i < sh->nproc; i++)
        rc |= export_fd(buf, len, &used, i ? "," : ";", sh->inbox[i][1]);
    for (int i = 0, first = 1; i < SHARING_SLOTS; i++) {
        if (sh->copy[i] < 0)
            continue;
        n = snprintf(buf + used, len - used, "%s%d:%u", first ? ";" : ",", i, sh->copy_gen[i]);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
        rc |= export_fd(buf, len, &used, ":", sh->copy[i]);
        first = 0;
    }
    return rc;
}

/* The number at *s, then past sep; -1 when there is none or it is out of
 * [min, max]. */
static long next_number(const char **s, const char *seps, long min, long max)
{
    char *end;
    errno = 0;
    long n = strtol(*s, &end, 10);
    if (errno || end == *s || n < min || n > max || (*end && !strchr(seps, *end)))
        return -1;
    *s = *end ? end + 1 : end;
    return n;
}

static struct sharing *import_fail(struct sharing *sh, const char *why)
{
    log_error("sharing: cannot take over the pool's connections: %s", why);
    if (sh) {
        free(sh->inbox);
        free(sh);
    }
    return NULL;
}

struct sharing *sharing_import(const char *desc)
{
    const char *s = desc;
    struct sharing *sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        return NULL;
    for (int i = 0; i < SHARING_SLOTS; i++)
        sh->copy[i] = -1;
    sh->nproc = (int)next_number(&s, ",", 1, 0xffff);
    sh->self = (int)next_number(&s, ",", 0, sh->nproc - 1);
    sh->table_fd = (int)next_number(&s, ",", 0, INT32_MAX);
    sh->epfd = (int)next_number(&s, ",", 0, INT32_MAX);
    sh->listen_fd = (int)next_number(&s, ",", -1, INT32_MAX);
    if (sh->nproc < 1 || sh->self < 0 || sh->table_fd < 0 || sh->epfd < 0 || sh->listen_fd < -1 ||
        (sh->inbox = calloc((size_t)sh->nproc, sizeof *sh->inbox)) == NULL)
        return import_fail(sh, "a malformed description");
    for (int i = 0; i < sh->nproc; i++)
        sh->inbox[i][0] = -1;
    if ((sh->inbox[sh->self][0] = (int)next_number(&s, ";", 0, INT32_MAX)) < 0)
        return import_fail(sh, "a malformed inbox");
    for (int i = 0; i < sh->nproc; i++)
        if ((sh->inbox[i][1] = (int)next_number(&s, i + 1 < sh->nproc ? "," : ";", 0, INT32_MAX)) <
            0)
            return import_fail(sh, "a malformed list of inboxes");
    while (*s) {
        long slot = next_number(&s, ":", 0, SHARING_SLOTS - 1);
        long gen = slot < 0 ? -1 : next_number(&s, ":", 0, UINT32_MAX);
        long fd = gen < 0 ? -1 : next_number(&s, ",", 0, INT32_MAX);
        if (fd < 0)
            return import_fail(sh, "a malformed list of connections");
        sh->copy[slot] = (int)fd;
        sh->copy_gen[slot] = (uint32_t)gen;
    }
    sh->table =
        mmap(NULL, table_size(sh->nproc), PROT_READ | PROT_WRITE, MAP_SHARED, sh->table_fd, 0);
    if (sh->table == MAP_FAILED)
        return import_fail(sh, strerror(errno));
    sh->tidied_epoch = atomic_load(&sh->table->epoch) - 1; /* tidy at the first chance */
    return sh;
}
