/*
 * pool: socket, fork, supervise, drain. See pool.h.
 *
 * The master blocks its signals and takes them one at a time with
 * sigtimedwait, so there is no handler and no race between "a child died"
 * and "stop now".
 */
#include "pool.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sharing.h"
#include "worker.h"

#define DRAIN_SECONDS 30
#define MIN_LIFETIME_SECONDS 1 /* a worker dying sooner is respawned after a pause */

struct slot {
    pid_t pid;
    time_t started;
};

static int listen_unix(const char *path, int backlog, unsigned mode)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path) {
        log_error("pool: socket path too long: %s", path);
        return -1;
    }
    memcpy(sa.sun_path, path, len + 1);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by a previous run */
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, mode) < 0 ||
        listen(fd, backlog) < 0) {
        log_error("pool: cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const char *spec, int backlog)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *ai;
    int fd = -1, one = 1;

    if (colon == NULL || (size_t)(colon - spec) >= sizeof host) {
        log_error("pool: LISTEN must be unix:/path, host:port or :port, not %s", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host[0] ? host : "127.0.0.1", colon + 1, &hints, &ai);
    if (rc != 0) {
        log_error("pool: cannot resolve %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        log_error("pool: cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int pool_listen(const char *spec, int backlog, unsigned socket_mode)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, backlog, socket_mode);
    if (spec[0] == '/')
        return listen_unix(spec, backlog, socket_mode);
    return listen_tcp(spec, backlog);
}

/* What every worker is started with. */
struct worker_args {
    const struct config *cfg;
    struct key_source *keys;
    struct rate_limit *limits;
    int listen_fd;
    struct sharing *sh;
    int signal_fd; /* the master's */
    const sigset_t *orig_mask;
};

/* Starts worker i in slots[i]. */
static void spawn(struct slot *slots, int i, const struct worker_args *w)
{
    struct slot *s = &slots[i];
    pid_t pid = fork();
    if (pid < 0) {
        log_error("pool: fork failed: %s", strerror(errno));
        s->pid = 0;
        return;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
        if (sigprocmask(SIG_SETMASK, w->orig_mask, NULL) < 0)
            _exit(1);
        close(w->signal_fd);
        sharing_enter(w->sh, i);
        /* exit, not _exit: LeakSanitizer checks at exit */
        exit(worker_run(w->cfg, w->keys, w->limits, w->sh, w->listen_fd));
    }
    s->pid = pid;
    s->started = time(NULL);
}

static struct slot *find(struct slot *slots, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid == pid)
            return &slots[i];
    return NULL;
}

/* Reaps every dead child, and starts another in its place with respawn's
 * arguments (NULL while stopping). Returns how many workers are alive. */
static int reap(struct slot *slots, int n, const struct worker_args *respawn)
{
    int status, alive = 0;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct slot *s = find(slots, n, pid);
        if (s == NULL)
            continue;
        if (respawn || !WIFEXITED(status))
            log_warn("pool: worker %d %s %d", (int)pid,
                     WIFSIGNALED(status) ? "killed by signal" : "exited with",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        s->pid = 0;
        if (respawn) {
            /* nginx waits for the answers it was writing: close those
             * connections; and give its successor every live one */
            sharing_abandon(respawn->sh, (int)(s - slots));
            if (time(NULL) - s->started < MIN_LIFETIME_SECONDS)
                sleep(1); /* a crash loop must not become a fork loop */
            spawn(slots, (int)(s - slots), respawn);
        }
    }
    for (int i = 0; i < n; i++)
        alive += slots[i].pid != 0;
    return alive;
}

static void signal_all(struct slot *slots, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0)
            kill(slots[i].pid, sig);
}

static void drain(struct slot *slots, int n, const sigset_t *set)
{
    struct timespec tick = {1, 0};
    time_t deadline = time(NULL) + DRAIN_SECONDS;

    signal_all(slots, n, SIGTERM);
    while (reap(slots, n, NULL) > 0) {
        if (time(NULL) >= deadline) {
            log_warn("pool: workers still busy after %d s, killing them", DRAIN_SECONDS);
            signal_all(slots, n, SIGKILL);
            deadline = time(NULL) + DRAIN_SECONDS;
        }
        sigtimedwait(set, NULL, &tick);
    }
}

/* Waits up to a second for a signal or a copy of a new shared connection
 * (taken by the caller's sharing_tidy); returns the signal, or 0. */
static int wait_master(int signal_fd, struct sharing *sh)
{
    struct pollfd p[2] = {{.fd = signal_fd, .events = POLLIN},
                          {.fd = sharing_inbox_fd(sh), .events = POLLIN}};
    struct signalfd_siginfo si;

    if (poll(p, 2, 1000) < 0 && errno != EINTR)
        log_fatal("pool: poll failed: %s", strerror(errno));
    if (p[0].revents && read(signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
        return (int)si.ssi_signo;
    return 0;
}

int pool_run(const struct config *cfg, struct key_source *keys, struct rate_limit *limits,
             int listen_fd, int workers, const char *unix_path)
{
    sigset_t set, orig;
    struct slot *slots = calloc((size_t)workers, sizeof *slots);
    struct sharing *sh = sharing_create(workers, listen_fd);

    if (slots == NULL || sh == NULL)
        log_fatal("pool: out of memory");
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, &orig) < 0)
        log_fatal("pool: sigprocmask failed");
    int signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0)
        log_fatal("pool: signalfd failed: %s", strerror(errno));
    const struct worker_args args = {cfg, keys, limits, listen_fd, sh, signal_fd, &orig};
    for (int i = 0; i < workers; i++)
        spawn(slots, i, &args);
    log_info("pool: master ready with %d workers", workers);

    for (;;) {
        int sig = wait_master(signal_fd, sh);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        /* SIGCHLD, or the tick: also retries a fork that failed */
        reap(slots, workers, &args);
        /* takes new copies, closes those of closed connections: a new
         * worker inherits every live copy and no dead one */
        sharing_tidy(sh, false);
        for (int i = 0; i < workers; i++)
            if (slots[i].pid == 0)
                spawn(slots, i, &args);
    }
    log_info("pool: stopping, letting in-flight requests finish");
    sharing_stop_accepting(sh);
    close(listen_fd);
    if (unix_path)
        unlink(unix_path);
    drain(slots, workers, &set);
    sharing_close_all(sh); /* nginx sees the kept connections close */
    sharing_destroy(sh);
    close(signal_fd);
    free(slots);
    log_info("pool: stopped");
    return 0;
}
