/* Unit tests of sharing: a connection shared by one process reaches the
 * others, one claim wins, and closing it is seen by nginx's end. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/sharing.h"
#include "unit.h"

/* What nginx's end of a connection reads now: 1 data, 0 EOF, -1 nothing. */
static int peer_reads(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* Worker 0 of a pool of 2: shares conn, gives it back, reports its slot. */
static void worker0(struct sharing *sh, int conn, int report)
{
    uint32_t gen;
    sharing_enter(sh, 0);
    int slot = sharing_add(sh, conn, &gen);
    if (slot >= 0)
        sharing_release(sh, slot);
    int msg[2] = {slot, (int)gen};
    _exit(write(report, msg, sizeof msg) == (ssize_t)sizeof msg ? 0 : 1);
}

/* What sharing_export writes, sharing_import reads back: the same slots,
 * copies and descriptors, kept open across an exec. */
static void test_export_import(void)
{
    int listener[2], conn[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, listener) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, conn) < 0)
        return;
    struct sharing *sh = sharing_create(1, listener[0]);
    uint32_t gen;
    int slot = sh ? sharing_add(sh, conn[0], &gen) : -1;
    CHECK(slot >= 0, "shared a connection");
    if (slot < 0)
        return;
    sharing_release(sh, slot);
    char *desc = malloc(sharing_export_size(sh));
    if (desc == NULL)
        return;
    CHECK(sharing_export(sh, desc, sharing_export_size(sh)) == 0, "export");
    CHECK(sharing_export(sh, desc, 8) < 0, "an export that does not fit is refused");
    CHECK(sharing_export(sh, desc, sharing_export_size(sh)) == 0, "export again");
    CHECK((fcntl(sharing_epoll_fd(sh), F_GETFD) & FD_CLOEXEC) == 0,
          "the epoll fd stays across exec");
    struct sharing *again = sharing_import(desc);
    CHECK(again != NULL, "import of %s", desc);
    if (again) {
        CHECK(sharing_listen_fd(again) == listener[0] &&
                  sharing_epoll_fd(again) == sharing_epoll_fd(sh),
              "the same listening socket and epoll set");
        CHECK(sharing_copy(again, slot, gen) == conn[0], "the copy of the shared connection");
        CHECK(sharing_claim(again, slot, gen) && !sharing_claim(sh, slot, gen),
              "one slot table: a claim through the import is seen by the original");
        /* its descriptors are the original's: the second destroy's
         * closes find them closed already */
        sharing_destroy(again);
    }
    CHECK(sharing_import("2,1,x") == NULL && sharing_import("") == NULL &&
              sharing_import("2,5,3,4,5,6;7,8") == NULL,
          "malformed descriptions are refused");
    free(desc);
    sharing_destroy(sh);
    close(listener[1]);
    close(conn[1]);
}

int main(void)
{
    test_export_import();
    int listener[2], conn[2], report[2], status;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, listener) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, conn) < 0 || pipe(report) < 0)
        return 1;
    struct sharing *sh = sharing_create(2, listener[0]); /* this process: the master */
    CHECK(sh != NULL, "sharing_create failed");
    if (sh == NULL)
        return unit_report("test_sharing");
    CHECK(!sharing_alone(sh), "a pool of 2 and its master is not alone");

    pid_t pid = fork();
    if (pid == 0)
        worker0(sh, conn[0], report[1]);
    close(conn[0]); /* from now on only the worker's copies hold it */
    int msg[2] = {-1, 0};
    CHECK(read(report[0], msg, sizeof msg) == (ssize_t)sizeof msg, "no report from the worker");
    waitpid(pid, &status, 0);
    int slot = msg[0];
    uint32_t gen = (uint32_t)msg[1];
    CHECK(slot >= 0 && slot < SHARING_SLOTS, "the worker shared it in slot %d", slot);
    if (slot < 0)
        return unit_report("test_sharing");

    /* The worker is gone, but the master received its copy. */
    int copy = sharing_copy(sh, slot, gen);
    CHECK(copy >= 0, "the master has no copy of slot %d", slot);
    CHECK(sharing_copy(sh, slot, gen + 1) < 0, "a copy of another generation");

    /* A request on it wakes the shared epoll with its slot and generation. */
    CHECK(write(conn[1], "x", 1) == 1, "write failed");
    struct epoll_event ev;
    CHECK(epoll_wait(sharing_epoll_fd(sh), &ev, 1, 1000) == 1, "no event for the request");
    CHECK(ev.data.u64 == ((uint64_t)slot | (uint64_t)gen << 32), "wrong event data %llx",
          (unsigned long long)ev.data.u64);
    CHECK(epoll_wait(sharing_epoll_fd(sh), &ev, 1, 0) == 0, "edge-triggered: one event");

    /* One claim wins; a stale generation never does. */
    CHECK(!sharing_claim(sh, slot, gen + 1), "claimed with a stale generation");
    CHECK(sharing_claim(sh, slot, gen), "the first claim fails");
    CHECK(!sharing_release(sh, slot), "nothing came meanwhile, yet missed");
    CHECK(sharing_claim(sh, slot, gen), "a released slot cannot be claimed");
    /* A claim of a busy slot fails and tells its owner what it missed. */
    CHECK(!sharing_claim(sh, slot, gen), "a busy slot claimed twice");
    CHECK(!sharing_claim(sh, slot, gen), "a busy slot claimed twice");
    CHECK(sharing_release(sh, slot), "the owner is not told of the missed request");
    CHECK(sharing_claim(sh, slot, gen), "a released slot cannot be claimed back");

    /* Its owner dies: the master shuts it, and nginx's end sees EOF. */
    char c;
    CHECK(read(copy, &c, 1) == 1, "the request byte is not on the copy");
    sharing_abandon(sh, 1); /* not the owner: nothing happens */
    CHECK(peer_reads(conn[1]) < 0, "abandoning another process closed it");
    sharing_abandon(sh, 2); /* this process, the owner, as if dead */
    CHECK(peer_reads(conn[1]) == 0, "nginx's end does not see it close");
    CHECK(!sharing_claim(sh, slot, gen), "a closed connection claimed");
    CHECK(sharing_copy(sh, slot, gen) < 0, "the copy of a closed connection stays");

    /* A new connection gets a free slot, and close_all shuts it. */
    int other[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, other) < 0)
        return 1;
    uint32_t gen2;
    int slot2 = sharing_add(sh, other[0], &gen2);
    CHECK(slot2 >= 0, "no slot for a second connection");
    sharing_close_all(sh);
    CHECK(peer_reads(other[1]) == 0, "close_all leaves a connection open");

    sharing_stop_accepting(sh);
    sharing_destroy(sh);
    return unit_report("test_sharing");
}
