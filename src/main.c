/*
 * main: reads the configuration and chooses how to run:
 *
 *   LISTEN set                 bind it, run the master with WORKERS workers
 *                              (default: one per CPU);
 *   socket from systemd or     serve the inherited socket: one worker in this
 *   spawn-fcgi (fd 3 / fd 0)   process, or a master when WORKERS is set.
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
#include "key_source.h"
#include "log.h"
#include "pool.h"
#include "rate_limit.h"
#include "sharing.h"
#include "worker.h"

static int is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* systemd socket activation passes the socket as fd 3. */
static int inherited_socket(void)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (pid && fds && strtol(pid, NULL, 10) == (long)getpid() && strtol(fds, NULL, 10) >= 1 &&
        is_socket(3))
        return 3;
    return is_socket(STDIN_FILENO) ? STDIN_FILENO : -1;
}

static void usage(void)
{
    fputs("usage: todo-api\n"
          "The task API as a FastCGI server. Configured by the environment:\n"
          "  DATABASE_URL and a key source (BETTER_AUTH_SECRET, JWKS_FILE, JWKS_URL);\n"
          "  LISTEN, WORKERS, ENVIRONMENT, JWT_ALGORITHM, JWKS_ALGORITHMS, JWT_ISSUER,\n"
          "  JWT_AUDIENCE, JWT_LEEWAY, LOG_LEVEL, DB_PREPARE,\n"
          "  SOCKET_MODE, LISTEN_BACKLOG, FCGI_WEB_SERVER_ADDRS, RETRY_AFTER,\n"
          "  DB_STATEMENT_TIMEOUT_MS, USER_RATE_LIMIT, USER_RATE_BURST, USER_TASK_LIMIT.\n"
          "  See README.md.\n"
          "Without LISTEN it serves the socket it inherits (spawn-fcgi, systemd).\n",
          stdout);
}

static int serve(const struct config *cfg, struct key_source *keys, struct rate_limit *limits)
{
    if (cfg->listen == NULL) {
        int fd = inherited_socket();
        if (fd < 0) {
            log_error("no socket: set LISTEN, or start under spawn-fcgi or systemd");
            return 1;
        }
        if (cfg->workers)
            return pool_run(cfg, keys, limits, fd, cfg->workers, NULL);
        struct sharing *sh = sharing_create(0, fd); /* a pool of one */
        if (sh == NULL)
            return 1;
        int status = worker_run(cfg, keys, limits, sh, fd);
        sharing_destroy(sh);
        return status;
    }
    int fd = pool_listen(cfg->listen, cfg->backlog, cfg->socket_mode);
    if (fd < 0)
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = cfg->workers ? cfg->workers : (cpus > 0 ? (int)cpus : 1);
    const char *path = strncmp(cfg->listen, "unix:", 5) == 0 ? cfg->listen + 5
                       : cfg->listen[0] == '/'               ? cfg->listen
                                                             : NULL;
    return pool_run(cfg, keys, limits, fd, workers, path);
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[256];

    if (argc > 1) {
        usage();
        return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (config_load(&cfg, err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return 1;
    }
    log_set_level(cfg.log_level);
    /* Keys are loaded once, before any fork: a JWKS_FILE that cannot be
     * read stops the service here, and workers inherit the keys. */
    static struct key_source keys;
    if (key_source_init(&keys, &cfg, err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return 1;
    }
    /* Mapped before any fork: every worker of a pool counts in one table. */
    struct rate_limit *limits = NULL;
    if (cfg.user_rate > 0 &&
        (limits = rate_limit_create(cfg.user_rate, cfg.user_burst, rate_limit_now_us())) == NULL) {
        log_error("configuration: cannot map the rate limit table");
        return 1;
    }
    int status = serve(&cfg, &keys, limits);
    rate_limit_destroy(limits);
    return status;
}
