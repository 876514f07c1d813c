/* Unit tests of log: request lines are batched until log_flush, any other
 * line flushes them first, and no write exceeds PIPE_BUF. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "../../src/log.h"
#include "unit.h"

static int log_pipe[2];

/* Everything written to stderr since the last call. */
static size_t written(char *out, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(log_pipe[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    return len;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

int main(void)
{
    static char out[65536];
    int saved = dup(STDERR_FILENO);
    if (saved < 0 || pipe(log_pipe) < 0 || fcntl(log_pipe[0], F_SETFL, O_NONBLOCK) < 0 ||
        dup2(log_pipe[1], STDERR_FILENO) < 0) {
        CHECK(0, "cannot capture stderr");
        return unit_report("test_log");
    }
    log_set_level(LOG_INFO);

    log_request("request id=%d", 1);
    log_request("request id=%d", 2);
    CHECK(written(out, sizeof out) == 0, "request lines are held until a flush: %s", out);
    log_flush();
    written(out, sizeof out);
    CHECK(count(out, " info [") == 2 &&
              strstr(out, "request id=1\n") < strstr(out, "request id=2\n"),
          "a flush writes them, in order: %s", out);

    log_request("request id=%d", 3);
    log_warn("security event");
    written(out, sizeof out);
    CHECK(strstr(out, "request id=3\n") != NULL &&
              strstr(out, "request id=3") < strstr(out, "security event"),
          "any other line writes the batch before itself: %s", out);

    /* More than PIPE_BUF of request lines: written in whole lines as the
     * batch fills; what the flush writes is one batch, at most PIPE_BUF. */
    for (int i = 0; i < 200; i++)
        log_request("request id=%d filler filler filler filler", i);
    size_t early = written(out, sizeof out);
    CHECK(early > PIPE_BUF && out[early - 1] == '\n',
          "full batches are written as they fill (%zu bytes)", early);
    log_flush();
    size_t rest = written(out + early, sizeof out - early);
    CHECK(rest > 0 && rest <= PIPE_BUF, "the flush writes the last batch (%zu bytes)", rest);
    CHECK(count(out, "filler\n") == 200, "every line once: %zu", count(out, "filler\n"));

    /* What a peer sends stays on its line (issue 9, finding 7). */
    log_warn("peer said %s", "a\nFORGED line\r\x1b[31m");
    written(out, sizeof out);
    CHECK(count(out, "\n") == 1 && strstr(out, "peer said a\\x0aFORGED line\\x0d\\x1b[31m\n"),
          "control bytes in a message are escaped: %s", out);
    char field[32];
    log_escape_field(field, sizeof field, "GET x=1 \"\\");
    CHECK(strcmp(field, "GET\\x20x\\x3d1\\x20\\x22\\x5c") == 0, "a field cannot pass for two: %s",
          field);
    log_escape_field(field, 8, "\n\n\n");
    CHECK(strcmp(field, "\\x0a") == 0, "a cut field keeps whole escapes: %s", field);

    log_set_level(LOG_WARN);
    log_request("request id=%d", 4);
    log_flush();
    CHECK(written(out, sizeof out) == 0, "below the level nothing is written: %s", out);

    dup2(saved, STDERR_FILENO);
    return unit_report("test_log");
}
