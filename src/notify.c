/*
 * notify: sd_notify's protocol, without libsystemd. See notify.h.
 *
 * An address starting with '@' is in the abstract namespace. Failures are
 * logged and otherwise ignored: systemd then times the start out, which
 * says more than a pool that refused to run.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct sockaddr_un addr;
static socklen_t addr_len; /* 0: no NOTIFY_SOCKET */

void notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || (path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
        if (len > 0)
            log_warn("notify: NOTIFY_SOCKET is not a socket's path: ignored");
        unsetenv("NOTIFY_SOCKET");
        return;
    }
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    unsetenv("NOTIFY_SOCKET");
}

void notify(const char *state)
{
    if (addr_len == 0)
        return;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0)
        log_warn("notify: cannot tell systemd %.*s: %s", (int)strcspn(state, "\n"), state,
                 strerror(errno));
    if (fd >= 0)
        close(fd);
}

void notify_reloading(void)
{
    struct timespec now;
    char state[64];
    clock_gettime(CLOCK_MONOTONIC, &now);
    snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%lld",
             (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    notify(state);
}
