"""FastCGI keep-alive between nginx and the pool.

By default nginx keeps FastCGI connections (keepalive 16 in the upstream,
fastcgi_keep_conn on). A plain libfcgi worker waits on the one connection it
serves, so once nginx holds more connections than there are workers, the
requests nginx sends on the others wait in the listen backlog: the trap of
the design notes. Here every idle worker waits on all the connections the
pool shares and on the socket at once (src/sharing.c, src/connections.c). These tests shrink the pool to two workers,
make nginx hold many more connections than that, and require every request
to be answered; and they run the pool with a connection per request
(FCGI_KEEPALIVE=0), which must work as well.

They run last (RUN_LAST) because they restart the pool and nginx; they need
scripts/stack and are skipped with --base.
"""
import os

from client import all_at_once, check, expect_json, expect_task, healthy, wait_until

RUN_LAST = True

WORKERS = 2
BURST = 40  # concurrent clients: twenty per worker
TIMEOUT = 5  # seconds for any one answer


def fastcgi_connections(ctx):
    """FastCGI connections the pool holds open, each counted once however
    many of its processes hold a copy: its connected sockets that carry the
    listening socket's path (accepted ones do; the PostgreSQL connections
    and the pool's own socket pairs have none)."""
    master, workers = ctx.pool_pids()
    inodes = set()
    for pid in [master] + workers:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone meanwhile
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:  # closed meanwhile
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    with open("/proc/net/unix") as f:
        next(f)
        rows = [line.split() for line in f]
    # Num RefCount Protocol Flags Type St Inode [Path]; St 03: connected
    return sum(1 for r in rows if len(r) == 8 and r[5] == "03" and r[6] in inodes)


def burst(ctx, u, paths):
    """BURST clients at once, each on a new connection to nginx; returns
    what went wrong."""
    def one(i):
        path = paths[i % len(paths)]
        try:
            r = ctx.new_client(timeout=TIMEOUT).request("GET", path, token=u.token)
        except OSError as e:  # socket.timeout included
            return f"GET {path}: {type(e).__name__}: {e}"
        return None if r.status == 200 else r.describe()
    return [p for p in all_at_once(BURST, one) if p]


def with_stack(ctx, keepalive, body):
    """Runs body() with a pool of WORKERS workers and nginx keeping
    `keepalive` connections (None: the default), then restores the stack."""
    ctx.require_stack()
    settings = {"WORKERS": str(WORKERS), "FCGI_KEEPALIVE": keepalive, "POOL_MODE": None}
    try:
        ctx.stack("nginx-stop")
        ctx.stack("pool-stop")
        ctx.stack("pool-start", settings=settings)
        ctx.stack("nginx-start", settings=settings)
        check(wait_until(lambda: healthy(ctx), 10),
              "health is not 200 within 10 s of the restart")
        body()
    finally:
        ctx.stack("nginx-stop")
        ctx.stack("pool-stop")
        ctx.stack("pool-start")
        ctx.stack("nginx-start")


def test_keepalive_more_kept_connections_than_workers_never_stall(ctx):
    u = ctx.user()
    ids = [u.create(f"kept {i}")["id"] for i in range(3)]
    paths = [u.tasks, u.task(ids[0]), u.tasks + "?limit=2"]

    def body():
        for round_ in range(3):
            problems = burst(ctx, u, paths)
            check(not problems, f"burst {round_ + 1}: {len(problems)} of {BURST} requests failed: {problems[:3]}")
        held = fastcgi_connections(ctx)
        check(held > WORKERS, f"nginx keeps {held} FastCGI connections to {WORKERS} workers: "
                              "keep-alive is not in effect, so the test proves nothing")
        # And each kept connection still carries requests.
        problems = burst(ctx, u, paths)
        check(not problems, f"after the bursts: {problems[:3]}")

    with_stack(ctx, None, body)


def test_keepalive_off_a_connection_per_request_serves_and_keeps_nothing(ctx):
    u = ctx.user()

    def body():
        t = expect_json(u.request("POST", u.tasks, {"title": "one per request"}), 201)
        expect_task(expect_json(u.request("PATCH", u.complete(t["id"])), 200), completed=True)
        expect_task(expect_json(u.request("PUT", u.task(t["id"]), {"title": "renamed"}), 200), title="renamed")
        problems = burst(ctx, u, [u.tasks, u.task(t["id"])])
        check(not problems, f"{len(problems)} of {BURST} requests failed: {problems[:3]}")
        check(u.request("DELETE", u.task(t["id"])).status == 204, "DELETE did not answer 204")
        check(wait_until(lambda: fastcgi_connections(ctx) == 0, 5),
              f"{fastcgi_connections(ctx)} FastCGI connections still open with FCGI_KEEPALIVE=0")

    with_stack(ctx, "0", body)
