/*
 * main: reads the configuration and chooses how to run:
 *
 *   LISTEN set                 bind it, run the master with WORKERS workers
 *                              (default: one per CPU);
 *   socket from systemd or     serve the inherited socket: one worker in this
 *   spawn-fcgi (fd 3 / fd 0)   process, or a master when WORKERS is set;
 *   TODO_API_WORKER set        a worker the master re-executed (handover.h);
 *   --check                    check the configuration, serve nothing.
 *
 * The settings are the environment's, overridden by CONFIG_FILE's
 * (settings_file.h) when set; a master reads that file again on SIGHUP and
 * gives its workers what it read, so they never read it themselves.
 *
 * The per-user rate limit's table is mapped here, before any fork, so a
 * master's workers share it; processes spawn-fcgi forks each have their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "handover.h"
#include "key_source.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "rate_limit.h"
#include "settings_file.h"
#include "sharing.h"
#include "worker.h"

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* systemd socket activation passes the socket as fd 3, spawn-fcgi as fd 0. */
static int inherited_socket(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (pid && fds && strtol(pid, NULL, 10) == (long)getpid() && strtol(fds, NULL, 10) >= 1 &&
        is_socket(3))
        return 3;
    if (is_socket(STDIN_FILENO))
        return STDIN_FILENO;
    log_error("no socket: set LISTEN, or start under spawn-fcgi or systemd");
    return -1;
}

static void usage(void)
{
    fputs("usage: todo-api [--check]\n"
          "The task API as a FastCGI server. Configured by the environment:\n"
          "  DATABASE_URL and a key source (BETTER_AUTH_SECRET, JWKS_FILE, JWKS_URL);\n"
          "  CONFIG_FILE, LISTEN, WORKERS, ENVIRONMENT, JWT_ALGORITHM, JWKS_ALGORITHMS,\n"
          "  JWKS_REFRESH_SECONDS, JWT_ISSUER, JWT_AUDIENCE, JWT_LEEWAY, LOG_LEVEL,\n"
          "  DB_PREPARE, SOCKET_MODE, LISTEN_BACKLOG, FCGI_WEB_SERVER_ADDRS, RETRY_AFTER,\n"
          "  DB_STATEMENT_TIMEOUT_MS, USER_RATE_LIMIT, USER_RATE_BURST, USER_TASK_LIMIT.\n"
          "  See README.md.\n"
          "Without LISTEN it serves the socket it inherits (spawn-fcgi, systemd).\n"
          "A master reloads its workers on SIGHUP. --check: check the settings, and exit.\n",
          stdout);
}

/* CONFIG_FILE's settings over the environment's. The path goes to *path
 * (NULL: none) and leaves the environment, for the master alone to read. */
static int apply_config_file(const char **path, char *err, size_t errlen)
{
    static char name[4096];
    environment settings = NULL;
    const char *v = getenv("CONFIG_FILE");
    *path = NULL;
    if (v == NULL || *v == '\0')
        return 0;
    if (strlen(v) >= sizeof name) {
        snprintf(err, errlen, "CONFIG_FILE is too long a path");
        return -1;
    }
    memcpy(name, v, strlen(v) + 1);
    *path = name;
    unsetenv("CONFIG_FILE");
    if (settings_file_read(name, &settings, err, errlen) < 0)
        return -1;
    int rc = environment_apply(settings);
    environment_free(settings);
    if (rc < 0)
        snprintf(err, errlen, "CONFIG_FILE %s: cannot set its settings", name);
    return rc;
}

/* A worker the master re-executed: the pool's table and connections. */
static int serve_handed_over(const struct config *cfg, struct key_source *keys, struct handover *h)
{
    struct rate_limit *limits = NULL;
    if (cfg->user_rate > 0) {
        limits = h->limits_fd >= 0
                     ? rate_limit_attach(h->limits_fd, cfg->user_rate, cfg->user_burst)
                     : rate_limit_create(cfg->user_rate, cfg->user_burst, rate_limit_now_us());
        if (limits == NULL)
            log_fatal("worker: cannot map the rate limit table");
        if (h->limits_fd < 0)
            log_warn("worker: USER_RATE_LIMIT set by a reload: each worker counts on its "
                     "own until the pool restarts");
    } else if (h->limits_fd >= 0) {
        close(h->limits_fd);
    }
    int status = worker_run(cfg, keys, limits, h);
    rate_limit_destroy(limits);
    sharing_destroy(h->sh);
    return status;
}

/* A master and its workers, on LISTEN or the socket systemd gave. */
static int serve_pool(const struct config *cfg, const char *config_file, struct rate_limit *limits)
{
    struct pool_plan plan = {.config_file = config_file, .limits = limits};
    if (cfg->listen == NULL) {
        plan.listen_fd = inherited_socket();
        plan.workers = cfg->workers;
        return plan.listen_fd < 0 ? 1 : pool_run(&plan);
    }
    if ((plan.listen_fd = pool_listen(cfg->listen, cfg->backlog, cfg->socket_mode)) < 0)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    plan.workers = cfg->workers ? cfg->workers : (cpus > 0 ? (int)cpus : 1);
    plan.unix_path = strncmp(cfg->listen, "unix:", 5) == 0 ? cfg->listen + 5
                     : cfg->listen[0] == '/'               ? cfg->listen
                                                           : NULL;
    return pool_run(&plan);
}

/* One worker in this process, on the socket spawn-fcgi or systemd gave. */
static int serve_alone(const struct config *cfg, struct key_source *keys, struct rate_limit *limits)
{
    struct handover alone = {.index = 0, .ready_fd = -1, .limits_fd = -1};
    int fd = inherited_socket();
    if (fd < 0 || (alone.sh = sharing_create(0, fd)) == NULL)
        return 1;
    int status = worker_run(cfg, keys, limits, &alone);
    sharing_destroy(alone.sh);
    return status;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct handover h;
    char err[256];
    const char *config_file = NULL;
    int check = argc == 2 && strcmp(argv[1], "--check") == 0;

    if (argc > 1 && !check) {
        usage();
        return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    notify_init();
    int handed_over = handover_receive(&h);
    if (handed_over < 0)
        return 1;
    if ((!handed_over && apply_config_file(&config_file, err, sizeof err) < 0) ||
        config_load(&cfg, err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return 1;
    }
    log_set_level(cfg.log_level);
    /* A JWKS_FILE that cannot be read stops the service here (and a reload
     * with it, at --check). A JWKS_URL is fetched by the processes that
     * serve: a master only starts workers, which re-execute. */
    int serves = handed_over || (!check && cfg.listen == NULL && cfg.workers == 0);
    static struct config key_cfg;
    static struct key_source keys;
    key_cfg = cfg;
    if (!serves)
        key_cfg.jwks_url = NULL;
    if (key_source_init(&keys, &key_cfg, err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return 1;
    }
    if (handed_over)
        return serve_handed_over(&cfg, &keys, &h);
    if (check) {
        log_info("configuration: ok");
        return 0;
    }
    /* Mapped before any fork: every worker of a pool counts in one table. */
    struct rate_limit *limits = NULL;
    if (cfg.user_rate > 0 &&
        (limits = rate_limit_create(cfg.user_rate, cfg.user_burst, rate_limit_now_us())) == NULL) {
        log_error("configuration: cannot map the rate limit table");
        return 1;
    }
    int status = cfg.listen == NULL && cfg.workers == 0 ? serve_alone(&cfg, &keys, limits)
                                                        : serve_pool(&cfg, config_file, limits);
    rate_limit_destroy(limits);
    return status;
}
