/*
 * pool: socket, fork, exec, supervise, reload, drain. See pool.h.
 *
 * The master blocks its signals and reads them from a signalfd, so there is
 * no handler and no race between "a child died" and "stop now". It polls
 * that, the readiness pipe the workers write their index to once they
 * serve, and the inbox of shared connections.
 *
 * A reload is a rolling replacement: one old worker at a time is asked to
 * retire (SIGUSR2: it finishes the request it holds and leaves its kept
 * connections to the others), and its successor, exec'd from the new
 * binary with the new settings, must be ready before the next one goes.
 * The pool never has fewer than workers - 1 serving, and no kept
 * connection is closed.
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
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

#include "handover.h"
#include "log.h"
#include "notify.h"
#include "settings_file.h"
#include "sharing.h"

#define DRAIN_SECONDS 30
#define MIN_LIFETIME_SECONDS 1 /* a worker dying sooner is respawned after a pause */
#define CHECK_SECONDS 10       /* for todo-api --check of a reload */

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

/* What the workers run: the binary (open, so that a file replaced on disk
 * changes nothing until a reload) and its environment. */
struct version {
    int exe_fd;
    environment env;
    unsigned number; /* 1 at start, one more per accepted reload */
};

struct slot {
    pid_t pid;
    time_t started;
    unsigned version; /* the number of the version it runs */
    bool ready;
    bool retiring;
};

struct pool {
    const struct pool_plan *plan;
    struct slot *slots;
    int n;
    struct sharing *sh;
    int signal_fd;
    sigset_t orig_mask;
    int ready_pipe[2];
    char exe_path[PATH_MAX];
    struct version now, before; /* before: until a reload is through */
    unsigned versions;          /* made so far */
    bool reloading, reload_again, announced;
};

/* In the child: becomes worker i, running version v. Never returns. */
static void become_worker(struct pool *p, int i, const struct version *v)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
    if (sigprocmask(SIG_SETMASK, &p->orig_mask, NULL) < 0)
        _exit(1);
    close(p->signal_fd);
    close(p->ready_pipe[0]);
    sharing_enter(p->sh, i);
    char *var = handover_encode(i, p->ready_pipe[1],
                                p->plan->limits ? rate_limit_fd(p->plan->limits) : -1, p->sh);
    char *extra[] = {var, NULL};
    environment env = var ? environment_merge(v->env, extra) : NULL;
    if (env) {
        char *argv[] = {"todo-api", NULL};
        fexecve(v->exe_fd, argv, env);
    }
    log_error("pool: cannot run %s: %s", p->exe_path, strerror(errno));
    _exit(127);
}

/* Starts worker i with the current version. */
static void spawn(struct pool *p, int i)
{
    struct slot *s = &p->slots[i];
    log_flush();
    pid_t pid = fork();
    if (pid < 0) {
        log_error("pool: fork failed: %s", strerror(errno));
        s->pid = 0;
        return;
    }
    if (pid == 0)
        become_worker(p, i, &p->now);
    *s = (struct slot){.pid = pid, .started = time(NULL), .version = p->now.number};
}

static struct slot *find(struct pool *p, pid_t pid)
{
    for (int i = 0; i < p->n; i++)
        if (p->slots[i].pid == pid)
            return &p->slots[i];
    return NULL;
}

static void version_free(struct version *v)
{
    if (v->exe_fd >= 0)
        close(v->exe_fd);
    environment_free(v->env);
    *v = (struct version){.exe_fd = -1};
}

/* A new version's worker died before it was ready: the new binary or
 * settings do not work here. Back to the version before. */
static void abandon_reload(struct pool *p)
{
    log_error("pool: reload abandoned: a worker of the new version died before it was "
              "ready; going back to the previous binary and settings");
    version_free(&p->now);
    p->now = p->before;
    p->before = (struct version){.exe_fd = -1};
    /* still reloading: the workers that did start on the new version are
     * replaced in turn, and no way back is left to abandon to */
}

/* Reaps every dead child, and (unless stopping) starts another in its
 * place. Returns how many workers are alive. */
static int reap(struct pool *p, bool stopping)
{
    int status, alive = 0;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct slot *s = find(p, pid);
        if (s == NULL)
            continue;
        bool quietly = WIFEXITED(status) && WEXITSTATUS(status) == 0 && (stopping || s->retiring);
        if (!quietly)
            log_warn("pool: worker %d %s %d", (int)pid,
                     WIFSIGNALED(status) ? "killed by signal" : "exited with",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        s->pid = 0;
        if (stopping)
            continue;
        /* nginx waits for the answers it was writing: close those
         * connections; and give its successor every live one */
        sharing_abandon(p->sh, (int)(s - p->slots));
        if (p->reloading && p->before.exe_fd >= 0 && !s->retiring && !s->ready &&
            s->version == p->now.number)
            abandon_reload(p);
        else if (!quietly && time(NULL) - s->started < MIN_LIFETIME_SECONDS)
            sleep(1); /* a crash loop must not become a fork loop */
        spawn(p, (int)(s - p->slots));
    }
    for (int i = 0; i < p->n; i++)
        alive += p->slots[i].pid != 0;
    return alive;
}

static void signal_all(struct pool *p, int sig)
{
    for (int i = 0; i < p->n; i++)
        if (p->slots[i].pid > 0)
            kill(p->slots[i].pid, sig);
}

static void drain(struct pool *p, const sigset_t *set)
{
    struct timespec tick = {1, 0};
    time_t deadline = time(NULL) + DRAIN_SECONDS;

    signal_all(p, SIGTERM);
    while (reap(p, true) > 0) {
        if (time(NULL) >= deadline) {
            log_warn("pool: workers still busy after %d s, killing them", DRAIN_SECONDS);
            signal_all(p, SIGKILL);
            deadline = time(NULL) + DRAIN_SECONDS;
        }
        sigtimedwait(set, NULL, &tick);
    }
}

/* Marks the workers whose index came through the readiness pipe. */
static void take_ready(struct pool *p)
{
    int32_t index[64];
    ssize_t got;
    while ((got = read(p->ready_pipe[0], index, sizeof index)) > 0)
        for (size_t k = 0; k < (size_t)got / sizeof index[0]; k++)
            if (index[k] >= 0 && index[k] < p->n && p->slots[index[k]].pid > 0)
                p->slots[index[k]].ready = true;
}

static bool all_ready(const struct pool *p)
{
    for (int i = 0; i < p->n; i++)
        if (!p->slots[i].ready || p->slots[i].version != p->now.number)
            return false;
    return true;
}

/* Runs todo-api --check from v: whether the new binary starts with the new
 * settings. Its own log lines say why not. */
static bool version_works(const struct pool *p, const struct version *v)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("pool: fork failed: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        char *argv[] = {"todo-api", "--check", NULL};
        sigprocmask(SIG_SETMASK, &p->orig_mask, NULL);
        fexecve(v->exe_fd, argv, v->env);
        log_error("pool: cannot run %s: %s", p->exe_path, strerror(errno));
        _exit(127);
    }
    int status = 0;
    for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) == 0; waited_ms += 10) {
        if (waited_ms >= CHECK_SECONDS * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            log_error("pool: %s --check did not finish in %d s", p->exe_path, CHECK_SECONDS);
            return false;
        }
        poll(NULL, 0, 10);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The binary at exe_path now, and the environment with CONFIG_FILE read
 * again; -1 (after logging why) when either cannot be had. */
static int read_version(const struct pool *p, struct version *v)
{
    char err[256];
    environment settings = NULL;
    extern char **environ;

    *v = (struct version){.exe_fd = open(p->exe_path, O_RDONLY | O_CLOEXEC)};
    if (v->exe_fd < 0) {
        log_error("pool: reload refused: cannot open %s: %s", p->exe_path, strerror(errno));
        return -1;
    }
    if (p->plan->config_file &&
        settings_file_read(p->plan->config_file, &settings, err, sizeof err) < 0) {
        log_error("pool: reload refused: %s", err);
        version_free(v);
        return -1;
    }
    v->env = environment_merge(environ, settings);
    environment_free(settings);
    if (v->env == NULL) {
        log_error("pool: reload refused: out of memory");
        version_free(v);
        return -1;
    }
    return 0;
}

/* SIGHUP: the new version is checked, then its workers replace the old
 * ones one by one (step_reload). A version that fails keeps the old. */
static void begin_reload(struct pool *p)
{
    struct version next;
    if (p->reloading) {
        p->reload_again = true; /* once this one is through */
        return;
    }
    notify_reloading();
    log_info("pool: reloading %s%s%s", p->exe_path,
             p->plan->config_file ? " with " : " (no CONFIG_FILE: settings unchanged)",
             p->plan->config_file ? p->plan->config_file : "");
    if (read_version(p, &next) < 0 || !version_works(p, &next)) {
        if (next.exe_fd >= 0)
            log_error("pool: reload refused: the new binary or settings do not start (see "
                      "above); the workers keep the old ones");
        version_free(&next);
        notify("READY=1\nSTATUS=reload refused");
        return;
    }
    next.number = ++p->versions;
    p->before = p->now;
    p->now = next;
    p->reloading = true;
}

/* Asks the next old worker to retire once the one before has a ready
 * successor; ends the reload when every worker runs the new version. */
static void step_reload(struct pool *p)
{
    if (!p->reloading)
        return;
    int old = -1;
    for (int i = 0; i < p->n; i++) {
        struct slot *s = &p->slots[i];
        if (s->retiring || (s->version == p->now.number && !s->ready))
            return; /* one at a time */
        if (s->version != p->now.number && old < 0)
            old = i;
    }
    if (old >= 0) {
        p->slots[old].retiring = true;
        kill(p->slots[old].pid, SIGUSR2);
        return;
    }
    version_free(&p->before);
    p->reloading = false;
    log_info("pool: reloaded: %d workers on version %u", p->n, p->now.number);
    notify("READY=1\nSTATUS=reloaded");
    if (p->reload_again) {
        p->reload_again = false;
        begin_reload(p);
    }
}

/* Waits up to a second for a signal, a ready worker or a copy of a new
 * shared connection (taken by the caller's sharing_tidy); returns the
 * signal, or 0. */
static int wait_master(struct pool *p)
{
    struct pollfd fds[3] = {{.fd = p->signal_fd, .events = POLLIN},
                            {.fd = p->ready_pipe[0], .events = POLLIN},
                            {.fd = sharing_inbox_fd(p->sh), .events = POLLIN}};
    struct signalfd_siginfo si;

    if (poll(fds, 3, 1000) < 0 && errno != EINTR)
        log_fatal("pool: poll failed: %s", strerror(errno));
    if (fds[1].revents)
        take_ready(p);
    if (fds[0].revents && read(p->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
        return (int)si.ssi_signo;
    return 0;
}

/* The binary this process runs, by the path it has now, and the first
 * version: that binary, this environment. */
static void first_version(struct pool *p)
{
    extern char **environ;
    ssize_t n = readlink("/proc/self/exe", p->exe_path, sizeof p->exe_path - 1);
    if (n <= 0)
        log_fatal("pool: cannot find its own binary: %s", strerror(errno));
    p->exe_path[n] = '\0';
    p->now = (struct version){.exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC),
                              .env = environment_merge(environ, NULL),
                              .number = ++p->versions};
    p->before = (struct version){.exe_fd = -1};
    if (p->now.exe_fd < 0 || p->now.env == NULL)
        log_fatal("pool: cannot keep its own binary: %s", strerror(errno));
}

static void supervise(struct pool *p)
{
    for (;;) {
        int sig = wait_master(p);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig == SIGHUP)
            begin_reload(p);
        /* SIGCHLD, or the tick: also retries a fork that failed */
        reap(p, false);
        /* takes new copies, closes those of closed connections: a new
         * worker inherits every live copy and no dead one */
        sharing_tidy(p->sh, false);
        for (int i = 0; i < p->n; i++)
            if (p->slots[i].pid == 0)
                spawn(p, i);
        if (!p->announced && all_ready(p)) {
            p->announced = true;
            log_info("pool: ready: %d workers", p->n);
            notify("READY=1\nSTATUS=serving");
        }
        step_reload(p);
    }
}

int pool_run(const struct pool_plan *plan)
{
    sigset_t set;
    struct pool p = {.plan = plan, .n = plan->workers};

    p.slots = calloc((size_t)p.n, sizeof *p.slots);
    p.sh = sharing_create(p.n, plan->listen_fd);
    if (p.slots == NULL || p.sh == NULL || pipe2(p.ready_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        log_fatal("pool: cannot set up: %s", strerror(errno));
    first_version(&p);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, &p.orig_mask) < 0)
        log_fatal("pool: sigprocmask failed");
    p.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (p.signal_fd < 0)
        log_fatal("pool: signalfd failed: %s", strerror(errno));
    for (int i = 0; i < p.n; i++)
        spawn(&p, i);
    log_info("pool: master started %d workers", p.n);

    supervise(&p);

    log_info("pool: stopping, letting in-flight requests finish");
    notify("STOPPING=1");
    sharing_stop_accepting(p.sh);
    close(plan->listen_fd);
    if (plan->unix_path)
        unlink(plan->unix_path);
    drain(&p, &set);
    sharing_close_all(p.sh); /* nginx sees the kept connections close */
    sharing_destroy(p.sh);
    close(p.signal_fd);
    close(p.ready_pipe[0]);
    close(p.ready_pipe[1]);
    version_free(&p.now);
    version_free(&p.before);
    free(p.slots);
    log_info("pool: stopped");
    return 0;
}
