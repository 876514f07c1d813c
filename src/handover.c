/*
 * handover: the descriptors a re-executed worker inherits. See handover.h.
 *
 * TODO_API_WORKER=index ready_fd limits_fd sharing, where sharing is what
 * sharing_export wrote.
 */
#include "handover.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

char *handover_encode(int index, int ready_fd, int limits_fd, struct sharing *sh)
{
    size_t room = sizeof HANDOVER_ENV + 36 + sharing_export_size(sh); /* 3 numbers */
    char *var = malloc(room);
    int n =
        var ? snprintf(var, room, "%s=%d %d %d ", HANDOVER_ENV, index, ready_fd, limits_fd) : -1;
    if (n < 0 || (size_t)n >= room || sharing_keep_across_exec(ready_fd) < 0 ||
        sharing_keep_across_exec(limits_fd) < 0 ||
        sharing_export(sh, var + n, room - (size_t)n) < 0) {
        log_error("pool: cannot hand worker %d its descriptors: %s", index, strerror(errno));
        free(var);
        return NULL;
    }
    return var;
}

/* The number at *s and the space after it; INT_MIN when there is none. */
static int next_int(const char **s)
{
    char *end;
    errno = 0;
    long n = strtol(*s, &end, 10);
    if (errno || end == *s || *end != ' ' || n < -1 || n > INT_MAX)
        return INT_MIN;
    *s = end + 1;
    return (int)n;
}

int handover_receive(struct handover *h)
{
    const char *v = getenv(HANDOVER_ENV);
    if (v == NULL)
        return 0;
    h->index = next_int(&v);
    h->ready_fd = h->index < 0 ? -1 : next_int(&v);
    h->limits_fd = h->ready_fd < 0 ? INT_MIN : next_int(&v);
    if (h->limits_fd < -1) {
        log_error("worker: %s is malformed", HANDOVER_ENV);
        return -1;
    }
    if ((h->sh = sharing_import(v)) == NULL)
        return -1;
    sharing_enter(h->sh, h->index);
    return 1;
}

void handover_ready(struct handover *h)
{
    if (h->ready_fd < 0)
        return;
    int32_t index = h->index;
    /* a pipe write this small is whole or nothing */
    if (write(h->ready_fd, &index, sizeof index) != (ssize_t)sizeof index)
        log_warn("worker: cannot tell the master it is ready: %s", strerror(errno));
    close(h->ready_fd);
    h->ready_fd = -1;
}
